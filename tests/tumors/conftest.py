"""The seed studies loaded once per module, and enrolled subjects with their imaging visits."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction

from edc.eligibility.services import eligibility_decide
from edc.subjects.services import subject_enroll
from edc.visits.models import Visit
from studies.models import Study
from tests.factories import screen_subject

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


def enrolled(protocol_id: str = "CAM-BEV-CAP-HNSCC", site=None):
    """A subject screened, consented, eligible and enrolled (first dose 2025-03-15)."""
    study = Study.objects.get(protocol_id=protocol_id)
    subject = screen_subject(site or study.sites.order_by("code").first())
    eligibility_decide(user=None, subject=subject, as_of=FIRST_DOSE, confirm_unstructured=True)
    return subject_enroll(user=None, subject=subject, enrollment_date=ENROLLED, planned_first_dose=FIRST_DOSE)


def imaging_visits(subject) -> list[Visit]:
    return list(Visit.objects.filter(subject=subject, kind="imaging").order_by("target_date", "order"))


def screening_visit(subject) -> Visit:
    return Visit.objects.get(subject=subject, kind="screening")
