"""Screening: numbers from the study's pattern, the screening visit, screen failure, re-screening."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from edc.core.services import ChangeReason
from edc.eligibility.services import eligibility_decide
from edc.subjects import services
from edc.subjects.models import EnrollmentRules, IdentifierSequence, Subject, SubjectStatus
from edc.visits.models import Visit, VisitStatus
from studies.models import EligibilityCriterion
from tests.factories import screen_subject

pytestmark = pytest.mark.django_db


def test_screening_draws_the_next_number_of_the_study_from_the_default_pattern(trial):
    first = screen_subject(trial.site_a)
    second = screen_subject(trial.site_b)
    # One sequence for the study, whatever the site (the default pattern names the site first).
    assert (first.screening_number, second.screening_number) == ("01-S0001", "02-S0002")


def test_screening_numbers_follow_the_pattern_the_study_declares(trial):
    EnrollmentRules.objects.create(study=trial.study, screening_number_pattern="{protocol}-{seq:03d}")
    assert screen_subject(trial.site_a).screening_number == "JOURNEY-001"


def test_a_voided_subject_keeps_its_number_and_the_next_screening_draws_a_new_one(trial):
    first = screen_subject(trial.site_a)
    services.subject_void(user=None, subject=first, reason=ChangeReason("other", "entered twice"))
    assert screen_subject(trial.site_a).screening_number == "01-S0002"


def test_a_refused_screening_draws_no_number(trial):
    with pytest.raises(ValidationError):
        services.subject_screen(user=None, study=trial.study, site=trial.site_a, sex="M", birth_date="1885")
    assert not IdentifierSequence.objects.filter(study=trial.study, kind="screening").exists()
    assert screen_subject(trial.site_a).screening_number == "01-S0001"


def test_screening_creates_the_screening_visit_done_on_the_screening_date(trial):
    subject = screen_subject(trial.site_a, screening_date=dt.date(2025, 2, 3), consented_at=None)
    visit = Visit.objects.get(subject=subject)
    assert (visit.code, visit.kind, visit.status, visit.visit_date) == (
        "SCR",
        "screening",
        VisitStatus.DONE,
        dt.date(2025, 2, 3),
    )
    assert (visit.site, visit.study) == (subject.site, subject.study)


def test_a_screening_date_after_the_site_s_today_is_refused_and_writes_nothing(trial):
    with pytest.raises(ValidationError) as refused:
        services.subject_screen(
            user=None,
            study=trial.study,
            site=trial.site_a,
            sex="M",
            birth_date="1970",
            screening_date=trial.site_a.today() + dt.timedelta(days=1),
        )
    assert "screening_date" in refused.value.message_dict
    assert not Subject.objects.exists()
    assert not Visit.objects.exists()


def test_a_birth_year_making_the_patient_140_answers_400_and_writes_nothing(trial, client_for):
    body = {"study": trial.study.pk, "site": trial.site_a.pk, "sex": "F", "birth_date": "1886"}
    response = client_for(trial.coordinator).post("/api/subjects/", body, format="json")
    assert response.status_code == 400
    assert "birth_date" in response.json()["errors"]
    assert not Subject.objects.exists()


def test_screening_via_the_api_answers_the_number_drawn_and_refuses_one_given(trial, client_for):
    client = client_for(trial.coordinator)
    body = {"study": trial.study.pk, "site": trial.site_a.pk, "sex": "F", "birth_date": "1961-05"}
    given = client.post("/api/subjects/", {**body, "screening_number": "MINE-1"}, format="json")
    assert given.status_code == 400
    assert given.json()["errors"]["screening_number"] == ["This field is read-only."]
    response = client.post("/api/subjects/", body, format="json")
    assert response.status_code == 201
    assert response.json()["screening_number"] == "01-S0001"
    assert response.json()["status"] == "screening"


def _criterion(study, kind, number, rule):
    return EligibilityCriterion.objects.create(
        study=study, kind=kind, number=number, text=f"{kind} {number}", rule=rule
    )


def test_a_screen_failure_keeps_the_failing_criteria_of_the_signed_outcome(trial):
    _criterion(trial.study, "inclusion", "1", {"field": "ecog", "op": "in", "value": [0, 1]})
    _criterion(trial.study, "exclusion", "1", {"field": "age", "op": ">", "value": 80, "unit": "years"})
    subject = screen_subject(trial.site_a, birth_date="1930")
    decision = eligibility_decide(
        user=None, subject=subject, as_of=dt.date(2025, 3, 15), confirmations={"I1": "not_met"}
    )
    assert decision.outcome == "ineligible"
    failed = services.subject_screen_fail(user=None, subject=subject, reason="age", date=dt.date(2025, 3, 5))
    assert failed.status == SubjectStatus.SCREEN_FAILED
    assert (failed.screen_failed_on, failed.screen_fail_reason) == (dt.date(2025, 3, 5), "age")
    assert failed.screen_fail_criteria == ["E1"]  # I1 needs review: ECOG not recorded, not a failure


def test_a_screen_failure_needs_a_reason(trial):
    subject = screen_subject(trial.site_a)
    with pytest.raises(ValidationError) as refused:
        services.subject_screen_fail(user=None, subject=subject, reason=" ")
    assert "reason" in refused.value.message_dict
    assert Subject.objects.get(pk=subject.pk).status == SubjectStatus.SCREENING


def test_a_screen_failure_is_re_screened_under_a_new_number_linked_to_the_first(trial):
    EnrollmentRules.objects.create(study=trial.study, rescreening_allowed=True, max_rescreenings=1)
    first = screen_subject(trial.site_a, initials="AB")
    services.subject_screen_fail(user=None, subject=first, reason="labs too old")
    second = services.subject_rescreen(user=None, subject=first, screening_date=dt.date(2025, 3, 20))
    assert second.pk != first.pk
    assert (second.screening_number, second.rescreen_of, second.status) == ("01-S0002", first, "screening")
    assert (second.sex, second.birth_date, second.initials) == (first.sex, first.birth_date, first.initials)
    assert Subject.objects.get(pk=first.pk).status == SubjectStatus.SCREEN_FAILED  # stays in the log
    assert Visit.objects.filter(subject=second, kind="screening").count() == 1


def test_re_screening_is_refused_where_the_study_does_not_allow_it_or_too_often(trial):
    first = screen_subject(trial.site_a)
    services.subject_screen_fail(user=None, subject=first, reason="x")
    with pytest.raises(ValidationError, match="does not allow"):
        services.subject_rescreen(user=None, subject=first)
    EnrollmentRules.objects.create(study=trial.study, rescreening_allowed=True, max_rescreenings=1)
    second = services.subject_rescreen(user=None, subject=first)
    services.subject_screen_fail(user=None, subject=second, reason="x")
    with pytest.raises(ValidationError, match="1 re-screening"):
        services.subject_rescreen(user=None, subject=second)
    with pytest.raises(ValidationError, match="already repeated"):
        services.subject_rescreen(user=None, subject=first)
    assert Subject.objects.count() == 2


def test_only_a_screen_failure_is_re_screened(trial):
    EnrollmentRules.objects.create(study=trial.study, rescreening_allowed=True)
    subject = screen_subject(trial.site_a)
    with pytest.raises(ValidationError, match="Only a screen failure"):
        services.subject_rescreen(user=None, subject=subject)


def test_a_screen_failure_cannot_be_screen_failed_again(trial):
    subject = screen_subject(trial.site_a)
    services.subject_screen_fail(user=None, subject=subject, reason="x")
    with pytest.raises(ValidationError) as refused:
        services.subject_screen_fail(user=None, subject=Subject.objects.get(pk=subject.pk), reason="y")
    assert "status" in refused.value.message_dict


def test_the_api_screen_fails_and_re_screens_through_the_services(trial, client_for):
    EnrollmentRules.objects.create(study=trial.study, rescreening_allowed=True)
    subject = screen_subject(trial.site_a)
    client = client_for(trial.coordinator)
    failed = client.post(
        f"/api/subjects/{subject.pk}/screen-fail/",
        {"reason": "withdrew before the labs", "failed_criteria": []},
        format="json",
    )
    assert failed.status_code == 200, failed.json()
    assert (failed.json()["status"], failed.json()["screen_fail_criteria"]) == ("screen_failed", [])
    unknown = client.post(f"/api/subjects/{subject.pk}/rescreen/", {"when": "now"}, format="json")
    assert unknown.status_code == 400
    assert "when" in unknown.json()["errors"]
    again = client.post(f"/api/subjects/{subject.pk}/rescreen/", {}, format="json")
    assert again.status_code == 201
    assert again.json()["rescreen_of"] == str(subject.pk)


def test_a_monitor_cannot_screen_fail(trial, client_for):
    subject = screen_subject(trial.site_a)
    response = client_for(trial.monitor).post(
        f"/api/subjects/{subject.pk}/screen-fail/", {"reason": "x"}, format="json"
    )
    assert response.status_code == 403
    assert Subject.objects.get(pk=subject.pk).status == SubjectStatus.SCREENING


def test_the_screening_log_lists_everyone_screened_with_the_failing_criteria(trial, client):
    EnrollmentRules.objects.create(study=trial.study, rescreening_allowed=True)
    failed = screen_subject(trial.site_a)
    services.subject_screen_fail(user=None, subject=failed, reason="x", failed_criteria=["I3", "E4"])
    again = services.subject_rescreen(user=None, subject=failed)
    screen_subject(trial.site_b)  # not at the coordinator's site
    client.force_login(trial.coordinator)
    page = client.get("/admin/subjects/subject/screening-log/")
    assert page.status_code == 200
    listed = [s.screening_number for s in page.context["cl"].result_list]
    assert listed == [failed.screening_number, again.screening_number]
    assert b"I3, E4" in page.content


def test_a_subject_moved_to_another_site_takes_its_visits_consents_and_forms_along(trial):
    from edc.consent.models import SignedConsent
    from edc.forms.models import EcogAssessment
    from edc.forms.services import ecog_create

    subject = screen_subject(trial.site_a)
    ecog_create(user=None, subject=subject, date=dt.date(2025, 3, 5), ecog=1)
    moved = services.subject_update(
        user=None, subject=subject, site=trial.site_b, reason=ChangeReason("other", "transferred to site 02")
    )
    assert moved.site == trial.site_b
    for model in (Visit, SignedConsent, EcogAssessment):
        row = model.objects.get(subject=subject)
        assert row.site == trial.site_b, model
        assert row.history.order_by("-history_date").first().history_change_reason == "transferred to site 02"
