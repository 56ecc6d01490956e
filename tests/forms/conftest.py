"""The journey's small trial (tests/subjects/conftest.py), and the five seed studies loaded once per
module with enrolled subjects for the after-treatment, radiotherapy, biomarker and restricted
medication tests."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction

from edc.core.services import ChangeReason, record_update
from edc.visits.services import schedule_rebuild
from studies.models import Study
from tests.factories import screen_subject
from tests.subjects.conftest import trial  # noqa: F401

ENROLLED, FIRST_DOSE = dt.date(2025, 3, 10), dt.date(2025, 3, 15)


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


def enrolled(protocol_id: str, *, first_dose: dt.date = FIRST_DOSE, site_index: int = 0):
    """A subject of a seed study, consented on 2025-03-01, enrolled with its schedule planned
    (the enrollment dates set directly: the seeds' criteria need data these tests do not enter)."""
    study = Study.objects.get(protocol_id=protocol_id)
    subject = screen_subject(study.sites.order_by("code")[site_index])
    subject = record_update(
        subject,
        user=None,
        changes={"status": "enrolled", "enrollment_date": ENROLLED, "planned_first_dose": first_dose},
        reason=ChangeReason("other", "test: enrolled"),
    )
    schedule_rebuild(user=None, subject=subject, reason="test")
    return subject
