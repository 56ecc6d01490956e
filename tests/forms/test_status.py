"""Form status per visit (edc/forms/status.py, contract C5) against the real trial definitions: what a
seed 000 visit expects, missing / in progress / complete / not done, fixed query counts."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from edc.core.services import ChangeReason, record_update
from edc.eligibility.services import eligibility_decide
from edc.forms import services as form_services
from edc.forms.status import (
    COMPLETE,
    IN_PROGRESS,
    MISSING,
    NOT_DONE,
    missing_forms_by_site,
    visit_form_status,
    visit_stores,
)
from edc.subjects.services import subject_enroll
from edc.visits.models import Visit
from studies.form_stores import form_stores
from studies.models import Study
from tests.factories import screen_subject

S000 = "CAM-BEV-CAP-HNSCC"
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


def enrolled(protocol_id: str = S000, site_index: int = 0):
    study = Study.objects.get(protocol_id=protocol_id)
    site = study.sites.order_by("code")[site_index]
    subject = screen_subject(site)
    eligibility_decide(user=None, subject=subject, as_of=FIRST_DOSE, confirm_unstructured=True)
    return subject_enroll(user=None, subject=subject, enrollment_date=ENROLLED, planned_first_dose=FIRST_DOSE)


def visit(subject, code: str) -> Visit:
    return Visit.objects.get(subject=subject, code=code)


def by_code(statuses):
    return {s.code: s for s in statuses}


def cycle_1(subject) -> Visit:
    return Visit.objects.filter(subject=subject, kind="treatment").order_by("target_date").first()


@pytest.mark.django_db
def test_a_seed_000_cycle_visit_expects_vital_signs_ecog_labs_exposure_adverse_events_and_conmeds(studies):
    subject = enrolled()
    statuses = visit_form_status([cycle_1(subject)])[cycle_1(subject).id]
    assert sorted(s.code for s in statuses) == ["AE", "CM", "ECOG", "EX", "LB", "VS"]
    assert {s.state for s in statuses} == {MISSING}
    assert all(s.expected for s in statuses)
    stored = {store.form_code for store in form_stores()}
    # Forms whose models land later (AE, EX ...) are expected now, and say they have no store yet.
    assert {s.code for s in statuses if not s.stored} == {"AE", "CM", "ECOG", "EX", "LB", "VS"} - stored


@pytest.mark.django_db
def test_an_imaging_visit_expects_the_tumour_forms(studies):
    subject = enrolled()
    imaging = Visit.objects.filter(subject=subject, kind="imaging").order_by("target_date").first()
    statuses = visit_form_status([imaging])[imaging.id]
    assert [s.code for s in statuses if s.expected] == sorted(
        ["TU", "TR", "RS"], key=[s.code for s in statuses].index
    )
    assert {s.code for s in statuses} == {"TU", "TR", "RS"}
    assert {s.state for s in statuses} == {MISSING}


@pytest.mark.django_db
def test_a_form_marked_not_done_with_a_reason_leaves_missing_and_shows_its_reason(studies):
    subject = enrolled()
    cycle = cycle_1(subject)
    form_services.ecog_create(
        user=None,
        subject=subject,
        visit=cycle,
        date=FIRST_DOSE,
        not_done_reason="refused",
        not_done_detail="too tired",
    )
    ecog = by_code(visit_form_status([cycle])[cycle.id])["ECOG"]
    assert (ecog.state, ecog.not_done_reason, ecog.not_done_detail) == (NOT_DONE, "refused", "too tired")
    missing = {s.code for s in visit_form_status([cycle])[cycle.id] if s.state == MISSING}
    assert "ECOG" not in missing and "VS" in missing


@pytest.mark.django_db
def test_a_row_with_every_required_item_is_complete_and_one_without_is_in_progress(studies):
    subject = enrolled()
    cycle = cycle_1(subject)
    # VS 2.0 requires the date and the weight: a row with the blood pressure only is in progress.
    form_services.vital_signs_create(
        user=None, subject=subject, visit=cycle, date=FIRST_DOSE, systolic_bp=120, diastolic_bp=80
    )
    vs = by_code(visit_form_status([cycle])[cycle.id])["VS"]
    assert (vs.state, vs.incomplete_items, vs.rows) == (IN_PROGRESS, ("WEIGHT",), 1)

    form_services.ecog_create(user=None, subject=subject, visit=cycle, date=FIRST_DOSE, ecog=1)
    assert by_code(visit_form_status([cycle])[cycle.id])["ECOG"].state == COMPLETE


@pytest.mark.django_db
def test_the_lab_form_is_judged_row_by_row_and_a_test_not_done_beside_others_keeps_it_complete(studies):
    subject = enrolled()
    cycle = cycle_1(subject)
    form_services.lab_result_create(
        user=None, subject=subject, visit=cycle, date=FIRST_DOSE, test="HGB", value="12.1", unit="g/dL"
    )
    form_services.lab_result_create(
        user=None, subject=subject, visit=cycle, date=FIRST_DOSE, test="INR", not_done_reason="not_done"
    )
    lb = by_code(visit_form_status([cycle])[cycle.id])["LB"]
    assert (lb.state, lb.rows) == (COMPLETE, 2)
    # Every test not done: the form is not done.
    other = enrolled()
    other_cycle = cycle_1(other)
    form_services.lab_result_create(
        user=None, subject=other, visit=other_cycle, date=FIRST_DOSE, test="HGB", not_done_reason="unknown"
    )
    assert by_code(visit_form_status([other_cycle])[other_cycle.id])["LB"].state == NOT_DONE


@pytest.mark.django_db
def test_a_voided_row_counts_for_nothing(studies):
    subject = enrolled()
    cycle = cycle_1(subject)
    row = form_services.ecog_create(user=None, subject=subject, visit=cycle, date=FIRST_DOSE, ecog=0)
    form_services.form_record_void(
        user=None, record=row, reason=ChangeReason("transcription_error", "wrong visit"), version=row.version
    )
    assert by_code(visit_form_status([cycle])[cycle.id])["ECOG"].state == MISSING


@pytest.mark.django_db
def test_a_missed_visit_s_forms_are_not_done_for_the_visit_s_reason_and_never_missing(studies):
    subject = enrolled()
    cycle = cycle_1(subject)
    missed = record_update(
        cycle,
        user=None,
        changes={"status": "missed", "missed_reason": "patient in hospital"},
        reason=ChangeReason("other", "test: missed"),
    )
    statuses = visit_form_status([missed])[missed.id]
    assert {s.state for s in statuses} == {NOT_DONE}
    assert {s.not_done_reason for s in statuses} == {"not_done"}
    assert "patient in hospital" in statuses[0].not_done_detail


@pytest.mark.django_db
def test_the_screening_visit_reads_the_forms_stored_per_subject(studies):
    subject = enrolled()
    screening = visit(subject, "SCR")
    statuses = by_code(visit_form_status([screening])[screening.id])
    # The subject record (DM), the signed consent (IC) and the signed eligibility (IE) exist.
    assert statuses["DM"].state == COMPLETE
    assert statuses["IC"].state == COMPLETE
    assert statuses["IE"].state == COMPLETE
    assert statuses["BD"].state == MISSING


@pytest.mark.django_db
def test_a_form_entered_at_a_visit_that_does_not_expect_it_is_listed_as_unexpected(studies):
    subject = enrolled()
    imaging = Visit.objects.filter(subject=subject, kind="imaging").order_by("target_date").first()
    form_services.ecog_create(user=None, subject=subject, visit=imaging, date=FIRST_DOSE, ecog=1)
    statuses = by_code(visit_form_status([imaging])[imaging.id])
    assert statuses["ECOG"].expected is False and statuses["ECOG"].state == COMPLETE


def _queries(visits) -> int:
    with CaptureQueriesContext(connection) as ctx:
        visit_form_status(visits)
    return len(ctx.captured_queries)


@pytest.mark.django_db
def test_the_status_costs_two_queries_plus_one_per_form_model_whatever_the_number_of_visits(studies):
    one = enrolled()
    many = [enrolled() for _ in range(3)]
    few = list(Visit.objects.filter(subject=one))
    lots = list(Visit.objects.filter(subject__in=[one, *many]))
    assert len(lots) > 3 * len(few)
    per_subject = [s for s in form_stores() if s not in visit_stores()]
    # The definitions, the registry, each store with a visit, and each per-subject store expected.
    expected_codes = {code for v in lots if v.definition_id for code in v.definition.form_codes}
    bound = 2 + len(visit_stores()) + len([s for s in per_subject if s.form_code in expected_codes])
    assert _queries(lots) == _queries(few) == bound


@pytest.mark.django_db
def test_missing_forms_per_site_count_the_visits_that_took_place(studies):
    subject = enrolled()
    study = subject.study
    screening = visit(subject, "SCR")
    expected = len(visit_form_status([screening])[screening.id])
    missing = sum(1 for s in visit_form_status([screening])[screening.id] if s.state == MISSING)
    report = missing_forms_by_site(Visit.objects.filter(study=study, subject=subject))
    assert len(report) == 1
    row = report[0]
    # Only the screening visit has taken place: the planned cycles are not counted.
    assert (row.visits, row.expected, row.missing) == (1, expected, missing)
    assert row.by_form.get("BD") == 1


# --- the API --------------------------------------------------------------------------------------


@pytest.fixture
def coordinator(studies, client_for):
    from edc.core.models import Role
    from tests.factories import MembershipFactory, UserFactory

    study = Study.objects.get(protocol_id=S000)
    user = UserFactory(username="status_coordinator")
    MembershipFactory(
        user=user, study=study, site=study.sites.order_by("code")[0], role=Role.SITE_COORDINATOR
    )
    return client_for(user)


def _cost(client, path: str) -> tuple[int, dict]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries), response.json()


@pytest.mark.django_db
def test_the_visit_page_of_the_api_lists_the_expected_forms_and_their_counts(studies, coordinator):
    subject = enrolled()
    cycle = cycle_1(subject)
    form_services.ecog_create(user=None, subject=subject, visit=cycle, date=FIRST_DOSE, ecog=1)
    _, body = _cost(coordinator, f"/api/visits/{cycle.pk}/forms/")
    assert sorted(f["code"] for f in body["forms"]) == ["AE", "CM", "ECOG", "EX", "LB", "VS"]
    assert body["counts"] == {"missing": 5, "in_progress": 0, "complete": 1, "not_done": 0}
    assert (body["visit"], body["status"]) == (str(cycle.pk), "planned")


@pytest.mark.django_db
def test_the_subject_page_of_the_api_costs_the_same_for_one_visit_or_all_of_them(studies, coordinator):
    subject = enrolled()
    few_cost, few = _cost(coordinator, f"/api/subjects/{subject.pk}/forms/")
    assert len(few["visits"]) == Visit.objects.filter(subject=subject).count() > 10
    # A second subject's schedule changes nothing for the first; a re-plan with more visits neither.
    more = enrolled()
    for visit in Visit.objects.filter(subject=more)[:5]:
        form_services.ecog_create(user=None, subject=more, visit=visit, date=FIRST_DOSE, ecog=0)
    more_cost, body = _cost(coordinator, f"/api/subjects/{more.pk}/forms/")
    assert more_cost == few_cost
    assert body["counts"]["complete"] + body["counts"]["missing"] + body["counts"]["not_done"] > 0
    screening_visit = body["visits"][0]
    assert screening_visit["code"] == "SCR"


@pytest.mark.django_db
def test_the_missing_forms_report_counts_per_site_you_see_at_a_fixed_cost(studies, coordinator):
    study = Study.objects.get(protocol_id=S000)
    enrolled()
    one_cost, body = _cost(coordinator, f"/api/studies/{study.pk}/missing-forms/")
    site_a = study.sites.order_by("code")[0]
    assert [row["site"] for row in body["sites"]] == [site_a.pk]  # only the coordinator's site
    before = body["sites"][0]
    enrolled()
    enrolled()
    many_cost, body = _cost(coordinator, f"/api/studies/{study.pk}/missing-forms/")
    assert many_cost == one_cost
    after = body["sites"][0]
    # Each new subject's screening visit took place: its missing forms count.
    assert after["visits"] == before["visits"] + 2
    assert after["missing"] > before["missing"] and after["by_form"]["BD"] == before["by_form"]["BD"] + 2


@pytest.mark.django_db
def test_status_pages_of_another_site_or_study_are_not_found(studies, coordinator):
    study = Study.objects.get(protocol_id=S000)
    if study.sites.count() > 1:
        other = enrolled(site_index=1)
        assert coordinator.get(f"/api/subjects/{other.pk}/forms/").status_code == 404
        assert coordinator.get(f"/api/visits/{cycle_1(other).pk}/forms/").status_code == 404
    elsewhere = Study.objects.exclude(pk=study.pk).first()
    assert coordinator.get(f"/api/studies/{elsewhere.pk}/missing-forms/").status_code == 404
    assert coordinator.get("/api/studies/x/missing-forms/").status_code == 404
    assert coordinator.get("/api/subjects/x/forms/").status_code == 404


# --- the admin pages ------------------------------------------------------------------------------


@pytest.fixture
def admin_client_a(studies, client):
    from edc.core.models import Role
    from tests.factories import MembershipFactory, UserFactory

    study = Study.objects.get(protocol_id=S000)
    user = UserFactory(username="status_admin_coordinator", is_staff=True)
    MembershipFactory(
        user=user, study=study, site=study.sites.order_by("code")[0], role=Role.SITE_COORDINATOR
    )
    client.force_login(user)
    return client


def _page(client, url: str) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries), response.content.decode()


@pytest.mark.django_db
def test_the_visit_page_shows_its_forms_status(studies, admin_client_a):
    subject = enrolled()
    cycle = cycle_1(subject)
    form_services.ecog_create(
        user=None,
        subject=subject,
        visit=cycle,
        date=FIRST_DOSE,
        not_done_reason="refused",
        not_done_detail="x",
    )
    _, page = _page(admin_client_a, f"/admin/visits/visit/{cycle.pk}/change/")
    assert "Form status" in page
    assert "<b>ECOG</b> not done (refused: x)" in page
    assert "<b>VS</b> missing" in page and "<b>AE</b> missing" in page


@pytest.mark.django_db
def test_the_subject_page_shows_the_visits_held_or_due_with_their_forms_at_a_fixed_cost(
    studies, admin_client_a
):
    first = enrolled()
    few, page = _page(admin_client_a, f"/admin/subjects/subject/{first.pk}/change/")
    assert "Form status" in page and "<b>BD</b> missing" in page and "SCR" in page
    assert "planned visits whose window has not opened are not listed" in page
    few, _ = _page(admin_client_a, f"/admin/subjects/subject/{first.pk}/change/")  # warm caches
    second = enrolled()
    for visit in Visit.objects.filter(subject=second)[:4]:
        form_services.ecog_create(user=None, subject=second, visit=visit, date=FIRST_DOSE, ecog=0)
    many, _ = _page(admin_client_a, f"/admin/subjects/subject/{second.pk}/change/")
    assert many == few
