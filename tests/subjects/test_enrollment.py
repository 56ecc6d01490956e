"""Enrollment: a current consent and a signed eligible outcome that is not stale, the identifier from
the study's pattern, the target enrollment; every refusal writes nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from edc.consent.models import SignedConsent
from edc.core.services import ChangeReason
from edc.eligibility.models import EligibilityDecision
from edc.eligibility.services import eligibility_decide
from edc.forms.services import ecog_create
from edc.subjects import services
from edc.subjects.models import EnrollmentRules, IdentifierSequence, Subject, SubjectStatus
from edc.visits.models import Visit
from studies.models import EligibilityCriterion
from tests.factories import ConsentVersionFactory, screen_subject
from tests.subjects.conftest import ENROLLED_ON, FIRST_DOSE, eligible_subject

pytestmark = pytest.mark.django_db


def enroll(subject, **values):
    values.setdefault("enrollment_date", ENROLLED_ON)
    values.setdefault("planned_first_dose", FIRST_DOSE)
    return services.subject_enroll(user=values.pop("user", None), subject=subject, **values)


def assert_refused_writing_nothing(subject, field, words, **values):
    counters = list(IdentifierSequence.objects.filter(kind="subject").values_list("last_value", flat=True))
    before = (Subject.objects.get(pk=subject.pk).version, Subject.history.count(), Visit.objects.count())
    with pytest.raises(ValidationError) as refused:
        enroll(Subject.objects.get(pk=subject.pk), **values)
    assert words in " ".join(refused.value.message_dict.get(field, [])), refused.value.message_dict
    stored = Subject.objects.get(pk=subject.pk)
    assert (stored.version, Subject.history.count(), Visit.objects.count()) == before
    assert (stored.status, stored.subject_identifier) == (SubjectStatus.SCREENING, "")
    # No identifier was drawn (a refused enrollment leaves the sequence where it was).
    assert (
        list(IdentifierSequence.objects.filter(kind="subject").values_list("last_value", flat=True))
        == counters
    )


def test_enrollment_assigns_the_identifier_arm_and_dates(trial):
    subject = eligible_subject(trial.site_a)
    enrolled = enroll(subject)
    assert enrolled.status == SubjectStatus.ENROLLED
    assert enrolled.subject_identifier == "01-0001"  # the default pattern: site, sequence per site
    assert (enrolled.enrollment_date, enrolled.planned_first_dose) == (ENROLLED_ON, FIRST_DOSE)
    assert enrolled.arm.code == "A"
    newest = enrolled.history.order_by("-history_date").first()
    assert newest.history_change_reason == "Enrolled on 2025-03-10 as 01-0001"


def test_subject_identifiers_follow_the_study_pattern_and_count_per_site(trial):
    EnrollmentRules.objects.create(study=trial.study, subject_identifier_pattern="J-{site}-{seq:03d}")
    a1, b1, a2 = (eligible_subject(site) for site in (trial.site_a, trial.site_b, trial.site_a))
    assert [enroll(s).subject_identifier for s in (a1, b1, a2)] == ["J-01-001", "J-02-001", "J-01-002"]


def test_enrollment_without_consent_is_refused(trial):
    subject = screen_subject(trial.site_a, consented_at=None, screening_date=dt.date(2025, 3, 1))
    eligibility_decide(user=None, subject=subject, as_of=FIRST_DOSE)
    assert_refused_writing_nothing(subject, "consent", "no signed informed consent")


def test_enrollment_on_a_superseded_consent_version_is_refused(trial):
    subject = eligible_subject(trial.site_a)
    ConsentVersionFactory(study=trial.study, version="2.0", effective_from=dt.date(2025, 3, 5))
    assert_refused_writing_nothing(subject, "consent", "not a version in effect on 2025-03-10")


def test_enrollment_after_re_consent_to_the_new_version_is_allowed(trial):
    from edc.consent.services import consent_sign

    subject = eligible_subject(trial.site_a)
    new = ConsentVersionFactory(study=trial.study, version="2.0", effective_from=dt.date(2025, 3, 5))
    consent_sign(
        user=None,
        subject=subject,
        version=new,
        signed_at=dt.datetime(2025, 3, 6, 9, 0, tzinfo=dt.UTC),
        obtained_by="Dr Wang",
    )
    assert enroll(subject).status == SubjectStatus.ENROLLED


def test_enrollment_without_a_signed_outcome_is_refused(trial):
    subject = screen_subject(trial.site_a)
    assert_refused_writing_nothing(subject, "eligibility", "No screening outcome is signed")


def test_enrollment_on_an_ineligible_outcome_is_refused(trial):
    EligibilityCriterion.objects.create(
        study=trial.study,
        kind="exclusion",
        number="1",
        text="x",
        rule={"field": "sex", "op": "==", "value": "F"},
    )
    subject = screen_subject(trial.site_a, sex="F")
    eligibility_decide(user=None, subject=subject, as_of=FIRST_DOSE)
    assert EligibilityDecision.objects.get().outcome == "ineligible"
    assert_refused_writing_nothing(subject, "eligibility", "ineligible")


def test_enrollment_on_a_stale_outcome_is_refused(trial):
    subject = eligible_subject(trial.site_a)
    ecog_create(user=None, subject=subject, date=dt.date(2025, 3, 8), ecog=1)  # data after the signature
    assert_refused_writing_nothing(subject, "eligibility", "stale: ecog changed")


def test_enrollment_on_an_outcome_decided_for_another_first_dose_is_refused(trial):
    subject = eligible_subject(trial.site_a, as_of=dt.date(2025, 3, 20))
    assert_refused_writing_nothing(subject, "planned_first_dose", "decided as of 2025-03-20")


def test_a_voided_decision_is_no_signed_outcome(trial):
    from edc.core.services import record_void

    subject = eligible_subject(trial.site_a)
    record_void(EligibilityDecision.objects.get(), user=None, reason=ChangeReason("other", "signed in error"))
    assert_refused_writing_nothing(subject, "eligibility", "No screening outcome is signed")


def test_enrollment_at_the_target_is_refused_unless_the_study_allows_over_enrollment(trial):
    trial.study.target_enrollment = 1
    trial.study.save()
    enroll(eligible_subject(trial.site_a))
    second = eligible_subject(trial.site_b)
    assert_refused_writing_nothing(second, "status", "target enrollment of 1")
    EnrollmentRules.objects.create(study=trial.study, over_enrollment_allowed=True)
    assert enroll(Subject.objects.get(pk=second.pk)).subject_identifier == "02-0001"


def test_a_screen_failure_or_an_enrolled_subject_is_not_enrolled(trial):
    subject = eligible_subject(trial.site_a)
    enroll(subject)
    with pytest.raises(ValidationError) as refused:
        enroll(Subject.objects.get(pk=subject.pk))
    assert "Only a subject in screening" in str(refused.value)


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"enrollment_date": dt.date(2025, 2, 1)}, "enrollment_date"),  # before screening (2025-03-01)
        ({"planned_first_dose": dt.date(2025, 3, 9)}, "planned_first_dose"),  # before enrollment
        (
            {"enrollment_date": dt.date(2099, 1, 1), "planned_first_dose": dt.date(2099, 1, 2)},
            "enrollment_date",
        ),
    ],
)
def test_implausible_enrollment_dates_are_refused(trial, values, field):
    subject = eligible_subject(trial.site_a)
    with pytest.raises(ValidationError) as refused:
        enroll(subject, **values)
    assert field in refused.value.message_dict
    assert Subject.objects.get(pk=subject.pk).status == SubjectStatus.SCREENING


def test_the_api_enrolls_and_answers_the_subject_identifier(trial, client_for):
    subject = eligible_subject(trial.site_a)
    response = client_for(trial.coordinator).post(
        f"/api/subjects/{subject.pk}/enroll/",
        {"enrollment_date": "2025-03-10", "planned_first_dose": "2025-03-15"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert (response.json()["subject_identifier"], response.json()["status"]) == ("01-0001", "enrolled")
    assert response["ETag"] == f'"{Subject.objects.get(pk=subject.pk).version}"'


def test_the_api_refuses_an_enrollment_with_field_errors_and_writes_nothing(trial, client_for):
    subject = screen_subject(trial.site_a)
    client = client_for(trial.coordinator)
    bad = client.post(f"/api/subjects/{subject.pk}/enroll/", {"enrollment_date": "10/03/2025"}, format="json")
    assert bad.status_code == 400
    assert set(bad.json()["errors"]) == {"enrollment_date", "planned_first_dose"}
    refused = client.post(
        f"/api/subjects/{subject.pk}/enroll/",
        {"enrollment_date": "2025-03-10", "planned_first_dose": "2025-03-15"},
        format="json",
    )
    assert refused.status_code == 400
    assert refused.json()["errors"]["eligibility"] == ["No screening outcome is signed."]
    assert Subject.objects.get(pk=subject.pk).version == 1


def test_a_stale_if_match_on_enroll_answers_409(trial, client_for):
    subject = eligible_subject(trial.site_a)
    response = client_for(trial.coordinator).post(
        f"/api/subjects/{subject.pk}/enroll/",
        {"enrollment_date": "2025-03-10", "planned_first_dose": "2025-03-15"},
        format="json",
        HTTP_IF_MATCH='"7"',
    )
    assert response.status_code == 409
    assert Subject.objects.get(pk=subject.pk).status == SubjectStatus.SCREENING


def test_a_monitor_cannot_enroll(trial, client_for):
    subject = eligible_subject(trial.site_a)
    response = client_for(trial.monitor).post(
        f"/api/subjects/{subject.pk}/enroll/",
        {"enrollment_date": "2025-03-10", "planned_first_dose": "2025-03-15"},
        format="json",
    )
    assert response.status_code == 403
    assert Subject.objects.get(pk=subject.pk).status == SubjectStatus.SCREENING


def test_withdrawal_from_treatment_goes_to_follow_up_and_cancels_the_treatment_visits_only(trial):
    from edc.consent.models import Withdrawal
    from edc.visits.models import VisitStatus

    subject = enroll(eligible_subject(trial.site_a))
    treatment = Visit(
        study=subject.study,
        site=subject.site,
        subject=subject,
        code="C2",
        name="Cycle 2",
        kind="treatment",
        target_date=dt.date(2025, 4, 5),
    )
    imaging = Visit(
        study=subject.study,
        site=subject.site,
        subject=subject,
        code="IMG1",
        name="Imaging 1",
        kind="imaging",
        target_date=dt.date(2025, 5, 1),
    )
    from edc.core.services import record_bulk_create

    record_bulk_create([treatment, imaging], user=None)
    services.subject_withdraw(
        user=None, subject=subject, date=dt.date(2025, 3, 20), scope="treatment", reason="tired of infusions"
    )
    stored = Subject.objects.get(pk=subject.pk)
    assert stored.status == SubjectStatus.FOLLOW_UP
    assert Visit.objects.get(code="C2").status == VisitStatus.CANCELLED
    assert Visit.objects.get(code="IMG1").status == VisitStatus.PLANNED  # follow-up goes on
    assert Withdrawal.objects.get().scope == "treatment"
    assert SignedConsent.objects.filter(subject=subject).count() == 1  # nothing deleted


def test_withdrawal_of_all_follow_up_takes_the_subject_off_study_and_stops_every_planned_visit(
    trial, client_for
):
    from edc.visits.models import VisitStatus

    subject = enroll(eligible_subject(trial.site_a))
    from edc.core.services import record_bulk_create

    record_bulk_create(
        [
            Visit(
                study=subject.study,
                site=subject.site,
                subject=subject,
                code="IMG1",
                name="Imaging 1",
                kind="imaging",
                target_date=dt.date(2025, 5, 1),
            )
        ],
        user=None,
    )
    response = client_for(trial.coordinator).post(
        f"/api/subjects/{subject.pk}/withdraw/",
        {"date": "2025-03-20", "scope": "data_use", "reason": "withdrew consent"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "off_study"
    assert Visit.objects.get(code="IMG1").status == VisitStatus.CANCELLED
    assert Visit.objects.filter(code="SCR", status=VisitStatus.DONE).exists()


def test_a_withdrawal_scope_outside_the_list_is_refused_by_name(trial, client_for):
    subject = screen_subject(trial.site_a)
    response = client_for(trial.coordinator).post(
        f"/api/subjects/{subject.pk}/withdraw/", {"date": "2025-03-20", "scope": "everything"}, format="json"
    )
    assert response.status_code == 400
    assert "scope" in response.json()["errors"]
    assert Subject.objects.get(pk=subject.pk).status == SubjectStatus.SCREENING
