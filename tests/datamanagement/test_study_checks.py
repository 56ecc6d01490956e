"""Edit checks against the real trial definitions (seed 000): a missing expected form at a done visit,
a stale screening decision, a restricted medication in its window."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction

from edc.core.services import ChangeReason, record_save, record_update, record_void
from edc.datamanagement.models import Query, QueryStatus
from edc.datamanagement.services import edit_checks_run, edit_checks_run_for
from edc.eligibility.services import eligibility_decide
from edc.forms import services as form_services
from edc.forms.models import RestrictedMedicationFlag
from edc.subjects.services import subject_enroll
from edc.visits.models import Visit
from studies.models import Study
from tests.factories import screen_subject

S000 = "CAM-BEV-CAP-HNSCC"
ENROLLED, FIRST_DOSE = dt.date(2025, 3, 10), dt.date(2025, 3, 15)
WHY = ChangeReason("late_entry", "visit recorded")


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


def _screened():
    study = Study.objects.get(protocol_id=S000)
    return screen_subject(study.sites.order_by("code")[0])


def _enrolled():
    subject = _screened()
    eligibility_decide(user=None, subject=subject, as_of=FIRST_DOSE, confirm_unstructured=True)
    return subject_enroll(user=None, subject=subject, enrollment_date=ENROLLED, planned_first_dose=FIRST_DOSE)


def _open(rule, subject):
    return list(Query.objects.filter(rule=rule, subject=subject).exclude(status=QueryStatus.CLOSED))


@pytest.mark.django_db
def test_a_done_visit_without_its_vital_signs_raises_one_query_per_missing_form(studies):
    subject = _enrolled()
    visit = Visit.objects.filter(subject=subject, kind="treatment").order_by("target_date").first()
    visit = record_update(
        visit, user=None, changes={"status": "done", "visit_date": visit.target_date}, reason=WHY
    )
    edit_checks_run_for(visit)
    fields = {q.field for q in _open("missing_expected_form", subject)}
    assert "form:VS" in fields
    # (the screening visit, done too, may miss forms of its own: only this visit's are asserted)
    [query] = [
        q for q in _open("missing_expected_form", subject) if q.field == "form:VS" and q.record_id == visit.pk
    ]
    assert (query.record_id, query.record_type) == (visit.pk, "visits.visit") and "missing" in query.text
    # A second run raises no duplicate.
    assert (
        edit_checks_run(study=subject.study, subjects=type(subject).objects.filter(pk=subject.pk)).raised == 0
    )


@pytest.mark.django_db
def test_a_planned_visit_raises_no_missing_form_query(studies):
    subject = _enrolled()
    edit_checks_run(study=subject.study, subjects=type(subject).objects.filter(pk=subject.pk))
    assert _open("missing_expected_form", subject) == [] or all(
        Visit.objects.get(pk=q.record_id).status == "done" for q in _open("missing_expected_form", subject)
    )


@pytest.mark.django_db
def test_a_screening_decision_made_stale_by_new_data_raises_a_query_and_reverting_closes_it(studies):
    subject = _screened()
    eligibility_decide(user=None, subject=subject, as_of=FIRST_DOSE, confirm_unstructured=True)
    assert _open("stale_eligibility_decision", subject) == []
    vitals = form_services.vital_signs_create(
        user=None, subject=subject, date=dt.date(2025, 3, 2), weight_kg=55
    )
    [query] = _open("stale_eligibility_decision", subject)
    assert query.record_type == "eligibility.eligibilitydecision" and "stale" in query.text
    form_services.form_record_void(user=None, record=vitals, reason=ChangeReason("other", "wrong patient"))
    assert _open("stale_eligibility_decision", subject) == []


@pytest.mark.django_db
def test_a_restricted_medication_flag_raises_a_query_on_the_medication_and_its_voiding_closes_it(studies):
    subject = _enrolled()
    medication = form_services.concomitant_medication_create(
        user=None, subject=subject, agent="dexamethasone", category="OTHER", start="2025-03-01", ongoing=True
    )
    for flag in RestrictedMedicationFlag.objects.active().filter(subject=subject):
        record_void(flag, user=None, reason=ChangeReason("other", "test starts clean"))
    edit_checks_run(study=subject.study, subjects=type(subject).objects.filter(pk=subject.pk))
    flag = record_save(
        RestrictedMedicationFlag(
            study=subject.study,
            site=subject.site,
            subject=subject,
            medication=medication,
            rule="000-TEST",
            seed="seed 000",
            criterion="E 1",
            category="systemic_immunosuppressant",
            windows="on_trial",
            certain=True,
            first_dose=FIRST_DOSE,
            message="Dexamethasone inside the restricted window",
        ),
        user=None,
    )
    edit_checks_run(study=subject.study, subjects=type(subject).objects.filter(pk=subject.pk))
    [query] = [
        q for q in _open("restricted_medication_in_window", subject) if q.field == "restricted:000-TEST"
    ]
    assert (query.record_id, query.text) == (medication.pk, "Dexamethasone inside the restricted window")
    record_void(flag, user=None, reason=ChangeReason("other", "medication stopped before the window"))
    edit_checks_run(study=subject.study, subjects=type(subject).objects.filter(pk=subject.pk))
    query.refresh_from_db()
    assert query.status == QueryStatus.CLOSED
