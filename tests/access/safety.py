"""Safety's resources in the access matrix (issue 20): the records of THE WORLD they act on
(tests/access/test_matrix.py calls `add_records`) and how each action is performed. The rows are in
tests/access/matrix.py, in the block of issue 20."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

from edc.core.services import record_save
from edc.safety import services
from edc.safety.models import AdverseEvent, CtcaeTerm, LabAeProposal

ONSET = dt.date(2025, 3, 5)


def add_records(world: Any) -> None:
    """An AE (pre-treatment: the world's subjects are consented, not dosed) and a lab AE proposal at
    A, B and Z, of a matrix term with grades 1-3."""
    term = CtcaeTerm.objects.create(
        meddra_code="10000001", soc="Matrix disorders", term="Matrix nausea",
        grade_1="mild", grade_2="moderate", grade_3="severe", grade_4=" -", grade_5=" -",
    )  # fmt: skip
    world.safety_term = term
    events, proposals = {}, {}
    for key, subject in world.journey_subjects.items():
        events[key] = services.adverse_event_create(
            user=None, subject=subject, ctcae_term=term, onset=ONSET, grade=1, outcome="RECOVERING",
            verbatim=f"SECRET-AE-{key}",
        )  # fmt: skip
        lab = world.records["lab-results"][key]
        proposals[key] = record_save(
            LabAeProposal(
                study=subject.study,
                site=subject.site,
                subject=subject,
                lab=lab,
                ctcae_term=term,
                term=term.term,
                grade=2,
                reason=f"SECRET-PROPOSAL-{key}",
            ),
            user=None,
        )
    world.records["adverse-events"] = events
    world.records["ae-proposals"] = proposals


def api_create_ae(status: Callable[[Any], Any]) -> Callable[..., Any]:
    def run(client: Any, world: Any, key: str) -> Any:
        subject = world.journey_subjects[key]
        body = {
            "subject": str(subject.pk), "term": "Matrix nausea", "onset": "2025-03-06", "grade": 2,
            "outcome": "RECOVERING",
        }  # fmt: skip
        response = client.post("/api/adverse-events/", body, format="json")
        answer = status(response)
        if answer.code == "400":  # a subject the user does not see cannot even be named
            assert "subject" in response.json()["errors"], response.json()
            answer.code = "hidden"
        return answer

    return run


def api_dismiss(status: Callable[[Any], Any]) -> Callable[..., Any]:
    def run(client: Any, world: Any, pk: Any) -> Any:
        return status(client.post(f"/api/ae-proposals/{pk}/dismiss/", {"reason": "matrix"}, format="json"))

    return run


def proposal_unchanged(record: LabAeProposal) -> bool:
    stored = LabAeProposal.objects.get(pk=record.pk)
    return (stored.version, stored.status) == (record.version, "open")


def ae_unchanged(record: AdverseEvent) -> bool:
    stored = AdverseEvent.objects.get(pk=record.pk)
    return stored.version == record.version and stored.voided_at is None


def new_pk() -> Any:
    return uuid.uuid4()
