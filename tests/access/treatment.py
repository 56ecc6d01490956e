"""Treatment's resources in the access matrix (issue 18, items 3-4): the records of THE WORLD they act
on (tests/access/test_matrix.py builds it and calls `add_records`) and how each action is performed.
The rows are in tests/access/matrix.py, in the block `# --- issue 18 (treatment) ---`.

At each site A, B, Z: a subject on treatment with one dose (the `exposures` targets; POSTing an end
of treatment for them is the `treatment-subjects` action), and a subject whose treatment ended (the
`end-of-treatment` targets)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from edc.consent.models import ConsentVersion
from edc.consent.services import consent_sign
from edc.core.services import ChangeReason, record_save, record_update
from edc.subjects.models import Subject
from edc.subjects.services import subject_screen
from edc.visits.exposures import EndOfTreatment, Exposure
from edc.visits.models import Visit
from edc.visits.treatment import end_of_treatment_record, exposure_record
from studies.models import Intervention

CONSENTED = dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC)
DOSE_DAY = dt.date(2025, 3, 15)


def _treated_subject(world: Any, key: str, site: Any, label: str) -> tuple[Subject, Visit, Exposure]:
    version, _ = ConsentVersion.objects.get_or_create(
        study=site.study, version="1.0", language="zh", defaults={"effective_from": dt.date(2023, 1, 1)}
    )
    subject = subject_screen(
        user=None, study=site.study, site=site, sex="M", birth_date="1965", screening_date=CONSENTED.date()
    )
    consent_sign(user=None, subject=subject, version=version, signed_at=CONSENTED, obtained_by=label)
    subject = record_update(
        subject,
        user=None,
        changes={
            "status": "enrolled",
            "subject_identifier": f"{label}-{key}",
            "enrollment_date": dt.date(2025, 3, 10),
            "planned_first_dose": DOSE_DAY,
        },
        reason=ChangeReason("other", "matrix: enrolled"),
    )
    # The world's studies define no visits: the cycle visit is stored as the schedule would.
    visit = record_save(
        Visit(
            study=site.study,
            site=site,
            subject=subject,
            code="CYCLE1",
            name="Cycle 1 Day 1",
            kind="treatment",
            target_date=DOSE_DAY,
            window_start=DOSE_DAY,
            window_end=DOSE_DAY + dt.timedelta(days=3),
        ),
        user=None,
    )
    dose = exposure_record(
        user=None,
        subject=subject,
        visit=visit,
        intervention=world.interventions[site.study.protocol_id],
        start_date=DOSE_DAY,
        dose_given=Decimal(200),
        route="IV",
    )
    subject.refresh_from_db()
    return subject, visit, dose


def add_records(world: Any) -> None:
    world.interventions = {
        study.protocol_id: Intervention.objects.create(
            study=study,
            code="MTX",
            agent="matrixumab",
            dose_amount=Decimal(200),
            dose_unit="mg",
            route="IV",
            dosing_days=[1],
            cycle_length_days=21,
        )
        for study in world.studies.values()
    }
    on_treatment: dict[str, Subject] = {}
    visits: dict[str, Visit] = {}
    doses: dict[str, Exposure] = {}
    ended: dict[str, EndOfTreatment] = {}
    for key, site in world.sites.items():
        on_treatment[key], visits[key], doses[key] = _treated_subject(world, key, site, "TREATED")
        subject, _visit, _dose = _treated_subject(world, key, site, "ENDED")
        ended[key] = end_of_treatment_record(
            user=None, subject=subject, last_dose_date=DOSE_DAY, reason="TOX"
        )
    world.treatment_visits = visits
    world.records["exposures"] = doses
    world.records["treatment-subjects"] = on_treatment
    world.records["end-of-treatment"] = ended


def unchanged(model: type[Any]) -> Callable[[Any], bool]:
    def check(record: Any) -> bool:
        stored = model.objects.get(pk=record.pk)
        return stored.version == record.version and stored.voided_at is None

    return check


def subject_unchanged(record: Subject) -> bool:
    stored = Subject.objects.get(pk=record.pk)
    return (stored.version, stored.status) == (record.version, record.status)


def api_create_exposure(status: Callable[[Any], Any]) -> Callable[..., Any]:
    def run(client: Any, world: Any, key: str) -> Any:
        subject = world.records["treatment-subjects"][key]
        body = {
            "subject": str(subject.pk),
            "visit": str(world.treatment_visits[key].pk),
            "intervention": world.interventions[subject.study.protocol_id].pk,
            "start_date": "2025-03-16",
            "dose_given": "200",
            "route": "IV",
        }
        response = client.post("/api/exposures/", body, format="json")
        answer = status(response)
        if answer.code == "400":  # a subject, visit or intervention the user does not see
            assert set(response.json()["errors"]) & {"subject", "visit", "intervention"}, response.json()
            answer.code = "hidden"
        return answer

    return run


def api_change(resource: str, model: type[Any], body: dict[str, Any], status: Callable[[Any], Any]) -> Any:
    def run(client: Any, world: Any, pk: Any) -> Any:
        record = model.objects.filter(pk=pk).first()
        headers = {"HTTP_IF_MATCH": f'"{record.version if record else 1}"'}
        return status(
            client.patch(
                f"/api/{resource}/{pk}/", {**body, "change_reason": "matrix"}, format="json", **headers
            )
        )

    return run


def api_end_treatment(status: Callable[[Any], Any]) -> Callable[..., Any]:
    def run(client: Any, world: Any, pk: Any) -> Any:
        body = {"last_dose_date": DOSE_DAY.isoformat(), "reason": "INV"}
        return status(client.post(f"/api/subjects/{pk}/end-of-treatment/", body, format="json"))

    return run


def new_pk() -> Any:
    return uuid.uuid4()
