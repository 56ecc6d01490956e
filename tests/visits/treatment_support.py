"""Shared set-up of the treatment tests: the five seed studies loaded once per module, enrolled
subjects with their vital signs, and `schedule_preview` for the same dates."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction

from edc.core.services import ChangeReason, record_update
from edc.eligibility.services import eligibility_decide
from edc.forms.services import vital_signs_create
from edc.subjects.services import subject_enroll
from edc.visits.models import Visit
from edc.visits.services import schedule_rebuild
from studies.models import Intervention, Study
from tests.factories import screen_subject

SEED_000 = "CAM-BEV-CAP-HNSCC"
SEED_002 = "CET-DALP-HNSCC"
CONSENT, ENROLLED, FIRST_DOSE = dt.date(2025, 3, 1), dt.date(2025, 3, 10), dt.date(2025, 3, 15)


@pytest.fixture(scope="module")
def studies(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            call_command("load_studies", stdout=StringIO())
            yield
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def enrolled(protocol_id: str, *, weight: str | None = "70", height: str | None = "170", site_index: int = 0):
    """An enrolled subject of a seed study (first dose planned on FIRST_DOSE) with screening vitals."""
    study = Study.objects.get(protocol_id=protocol_id)
    site = study.sites.order_by("code")[site_index]
    subject = screen_subject(site)
    if protocol_id in ("CAM-BEV-CAP-HNSCC", "CADO-LDRT-HNSCC", "CAM-APA-NPC"):
        eligibility_decide(user=None, subject=subject, as_of=FIRST_DOSE, confirm_unstructured=True)
        subject = subject_enroll(
            user=None, subject=subject, enrollment_date=ENROLLED, planned_first_dose=FIRST_DOSE
        )
    else:
        subject = record_update(
            subject,
            user=None,
            changes={
                "status": "enrolled",
                "enrollment_date": ENROLLED,
                "planned_first_dose": FIRST_DOSE,
                "arm": study.arms.first(),
            },
            reason=ChangeReason("other", "test: enrolled"),
        )
        schedule_rebuild(user=None, subject=subject, reason="test")
    if weight is not None:
        vital_signs_create(
            user=None,
            subject=subject,
            date=CONSENT,
            weight_kg=Decimal(weight),
            height_cm=Decimal(height) if height else None,
        )
    subject.refresh_from_db()
    return subject


def intervention(protocol_id: str, code: str) -> Intervention:
    return Intervention.objects.get(study__protocol_id=protocol_id, code=code)


def visit(subject, code: str) -> Visit:
    return Visit.objects.active().get(subject=subject, code=code)


def preview(protocol_id: str, *args: str) -> list[dict]:
    """`schedule_preview` for the subjects' dates (plus args: --first-dose, --actual, --last-dose ...)."""
    out = StringIO()
    options = list(args)
    if "--first-dose" not in options:
        options += ["--first-dose", FIRST_DOSE.isoformat()]
    call_command(
        "schedule_preview",
        protocol_id,
        "--enrollment",
        ENROLLED.isoformat(),
        "--consent",
        CONSENT.isoformat(),
        *options,
        stdout=out,
    )
    return [v for v in json.loads(out.getvalue())["visits"] if v["kind"] != "screening"]


def planned_rows(subject) -> list[dict]:
    """The subject's visits still in the plan (not cancelled), as schedule_preview prints them."""
    return [
        {
            "code": v.code,
            "name": v.name,
            "kind": v.kind,
            "target": v.target_date.isoformat(),
            "window_start": v.window_start.isoformat(),
            "window_end": v.window_end.isoformat(),
        }
        for v in Visit.objects.active()
        .filter(subject=subject)
        .exclude(kind="screening")
        .exclude(status="cancelled")
        .order_by("target_date", "order", "code")
    ]
