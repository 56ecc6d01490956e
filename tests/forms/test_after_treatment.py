"""After treatment: the death form (once, ending the schedule, the subject off study), survival
follow-up contacts, subsequent anticancer therapy, and the selectors the endpoints read
(`death_of`, `survival_facts` with imputed partial dates, `pdl1_status`), with pinned queries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from edc.core.services import ChangeReason
from edc.forms import selectors, services
from edc.forms.models import Death
from edc.subjects.models import Subject, SubjectStatus
from edc.visits.models import Visit, VisitStatus
from tests.forms.conftest import FIRST_DOSE, enrolled

pytestmark = pytest.mark.django_db
SEED_000, SEED_003 = "CAM-BEV-CAP-HNSCC", "CAM-APA-NPC"


def _done(subject, code, day):
    from edc.core.services import record_update

    visit = Visit.objects.get(subject=subject, code=code)
    return record_update(
        visit,
        user=None,
        changes={"status": VisitStatus.DONE, "visit_date": day},
        reason=ChangeReason("other", "test: visit done"),
    )


# --- the death form ------------------------------------------------------------------------------


def test_recording_a_death_cancels_the_visits_from_that_day_and_takes_the_subject_off_study(studies):
    subject = enrolled(SEED_000)
    _done(subject, "CYCLE1", FIRST_DOSE)
    death = services.death_record(user=None, subject=subject, death_date="2025-05-20", cause="PD")
    assert str(death.death_date) == "2025-05-20"
    assert Subject.objects.get(pk=subject.pk).status == SubjectStatus.OFF_STUDY
    visits = Visit.objects.filter(subject=subject)
    after = visits.filter(target_date__gte=dt.date(2025, 5, 20))
    assert after.exists()
    assert set(after.values_list("status", flat=True)) == {VisitStatus.CANCELLED}
    assert all("Death on 2025-05-20" in v.cancelled_reason for v in after)
    # Before the death the planned visits stay as they were (the site records them done or missed).
    assert visits.filter(target_date__lt=dt.date(2025, 5, 20), status=VisitStatus.PLANNED).exists()
    assert visits.get(code="CYCLE1").status == VisitStatus.DONE
    # Filed under the last visit done before the death.
    assert death.visit.code == "CYCLE1"
    assert death.history.count() == 1


def test_voiding_a_death_entered_in_error_restores_the_schedule_and_the_status(studies):
    subject = enrolled(SEED_000)
    _done(subject, "CYCLE1", FIRST_DOSE)
    before = {v.code: (v.status, v.target_date) for v in Visit.objects.filter(subject=subject)}
    status_before = Subject.objects.get(pk=subject.pk).status
    death = services.death_record(user=None, subject=subject, death_date="2025-05-20", cause="PD")
    assert Subject.objects.get(pk=subject.pk).status == SubjectStatus.OFF_STUDY
    services.form_record_void(
        user=None, record=death, reason=ChangeReason("transcription_error", "wrong patient's form")
    )
    assert Subject.objects.get(pk=subject.pk).status == status_before
    after = {v.code: (v.status, v.target_date) for v in Visit.objects.filter(subject=subject)}
    assert after == before  # every visit the death cancelled is planned again, on its old date
    assert selectors.death_of(subject) is None
    restored = Visit.objects.filter(subject=subject, target_date__gte=dt.date(2025, 5, 20)).first()
    latest = restored.history.order_by("-history_date", "-history_id").first()
    assert "wrong patient's form" in latest.history_change_reason


def test_voiding_a_death_leaves_a_subject_off_study_for_another_reason_off_study(studies):
    from edc.subjects.services import subject_off_study

    subject = enrolled(SEED_000)
    subject = subject_off_study(user=None, subject=subject, date=dt.date(2025, 4, 1), reason="lost")
    death = services.death_record(user=None, subject=subject, death_date="2025-05-20", cause="PD")
    services.form_record_void(user=None, record=death, reason=ChangeReason("other", "entered twice"))
    assert Subject.objects.get(pk=subject.pk).status == SubjectStatus.OFF_STUDY


def test_a_death_is_recorded_once(studies):
    subject = enrolled(SEED_000)
    services.death_record(user=None, subject=subject, death_date="2025-05", cause="UNK")
    with pytest.raises(ValidationError) as refused:
        services.death_record(user=None, subject=subject, death_date="2025-06-01", cause="PD")
    assert "already recorded (2025-05)" in str(refused.value.message_dict["subject"])
    assert Death.objects.filter(subject=subject).count() == 1


def test_a_partial_death_date_cancels_from_the_first_possible_day(studies):
    subject = enrolled(SEED_000)
    services.death_record(user=None, subject=subject, death_date="2025-06", cause="AE")
    visits = Visit.objects.filter(subject=subject)
    assert not visits.filter(target_date__gte=dt.date(2025, 6, 1), status=VisitStatus.PLANNED).exists()
    assert visits.filter(target_date__lt=dt.date(2025, 6, 1), status=VisitStatus.PLANNED).exists()


@pytest.mark.parametrize(
    ("values", "field", "words"),
    [
        # Before consent, and before the visits done: the subject was seen alive then.
        ({"death_date": "2025-02-20", "cause": "PD"}, "death_date", "known alive on 2025-04-02 (visit)"),
        ({"death_date": "2099-01-01", "cause": "PD"}, "death_date", "cannot lie in the future"),
        ({"death_date": "2025-04-05", "cause": ""}, "cause", "primary cause"),
        ({"death_date": "2025-04-05", "cause": "OTHER"}, "cause_detail", "Specify"),
        ({"death_date": "2025-04-05", "cause": "HEART"}, "cause", "not a valid choice"),
        ({"death_date": "2025-13", "cause": "PD"}, "death_date", ""),
        ({"death_date": "2025-03-31", "cause": "PD"}, "death_date", "known alive on 2025-04-02"),
    ],
)
def test_a_death_form_that_cannot_be_true_is_refused_naming_the_field(studies, values, field, words):
    subject = enrolled(SEED_000)
    _done(subject, "CYCLE1", dt.date(2025, 4, 2))
    with pytest.raises(ValidationError) as refused:
        services.death_record(user=None, subject=subject, **values)
    assert words in " ".join(refused.value.message_dict[field]), refused.value.message_dict
    assert not Death.objects.filter(subject=subject).exists()
    assert Subject.objects.get(pk=subject.pk).status == SubjectStatus.ENROLLED


def test_a_death_in_the_month_last_seen_alive_is_accepted(studies):
    subject = enrolled(SEED_000)
    _done(subject, "CYCLE1", dt.date(2025, 4, 2))
    death = services.death_record(user=None, subject=subject, death_date="2025-04", cause="PD")
    assert str(death.death_date) == "2025-04"


def test_a_corrected_earlier_death_date_cancels_from_the_new_date(studies):
    subject = enrolled(SEED_000)
    death = services.death_record(user=None, subject=subject, death_date="2025-09-01", cause="PD")
    planned_before = Visit.objects.filter(
        subject=subject, status=VisitStatus.PLANNED, target_date__gte=dt.date(2025, 6, 1)
    )
    assert planned_before.exists()
    services.death_update(
        user=None,
        record=death,
        reason=ChangeReason("source_updated", "the hospital record"),
        death_date="2025-06-01",
    )
    assert not planned_before.exists()


# --- follow-up contacts and subsequent therapy ------------------------------------------------------


def test_a_follow_up_contact_that_finds_the_subject_dead_needs_the_death_form_first(studies):
    subject = enrolled(SEED_000)
    with pytest.raises(ValidationError) as refused:
        services.survival_follow_up_create(
            user=None, subject=subject, contact_date=dt.date(2025, 9, 1), method="PHONE", vital_status="DEAD"
        )
    assert "death form first" in str(refused.value.message_dict["vital_status"])


@pytest.mark.parametrize(
    ("values", "field", "words"),
    [
        ({"vital_status": "ALIVE", "new_therapy": False}, "last_known_alive", "last date"),
        (
            {"vital_status": "ALIVE", "new_therapy": False, "last_known_alive": dt.date(2025, 9, 2)},
            "last_known_alive",
            "after the contact",
        ),
        ({"vital_status": "ALIVE", "last_known_alive": dt.date(2025, 9, 1)}, "new_therapy", "new anticancer"),
        ({"vital_status": "", "new_therapy": False}, "vital_status", "survival status"),
        ({"vital_status": "LOST", "method": ""}, "method", "contacted"),
    ],
)
def test_a_follow_up_contact_is_checked(studies, values, field, words):
    subject = enrolled(SEED_000)
    values = {"method": "PHONE", **values}
    with pytest.raises(ValidationError) as refused:
        services.survival_follow_up_create(
            user=None, subject=subject, contact_date=dt.date(2025, 9, 1), **values
        )
    assert words in " ".join(refused.value.message_dict[field]), refused.value.message_dict


def test_a_follow_up_contact_may_be_not_done_with_a_reason_and_holds_no_data(studies):
    subject = enrolled(SEED_000)
    row = services.survival_follow_up_create(
        user=None, subject=subject, contact_date=dt.date(2025, 9, 1), not_done_reason="not_done"
    )
    assert row.is_not_done
    with pytest.raises(ValidationError) as refused:
        services.survival_follow_up_create(
            user=None,
            subject=subject,
            contact_date=dt.date(2025, 9, 1),
            not_done_reason="unknown",
            method="PHONE",
        )
    assert "holds no data" in str(refused.value.message_dict["method"])


def test_a_subsequent_therapy_needs_its_start_and_regimen(studies):
    subject = enrolled(SEED_000)
    with pytest.raises(ValidationError) as refused:
        services.subsequent_therapy_create(user=None, subject=subject, regimen="")
    assert set(refused.value.message_dict) == {"start_date", "regimen"}
    with pytest.raises(ValidationError) as before:
        services.subsequent_therapy_create(user=None, subject=subject, start_date="2025-01", regimen="TP")
    assert "consent" in str(before.value.message_dict["start_date"])


# --- the selectors the endpoints read -------------------------------------------------------------------


def test_death_of_is_the_subject_s_death_or_none(studies, django_assert_num_queries):
    subject, other = enrolled(SEED_000), enrolled(SEED_000)
    death = services.death_record(user=None, subject=subject, death_date="2025-05-20", cause="PD")
    with django_assert_num_queries(1):
        assert selectors.death_of(subject) == death
    assert selectors.death_of(other) is None


def test_survival_facts_impute_a_partial_death_date_no_earlier_than_last_known_alive(studies):
    subject = enrolled(SEED_000)
    services.survival_follow_up_create(
        user=None,
        subject=subject,
        contact_date=dt.date(2025, 8, 14),
        method="PHONE",
        vital_status="ALIVE",
        last_known_alive=dt.date(2025, 8, 14),
        new_therapy=True,
    )
    services.subsequent_therapy_create(user=None, subject=subject, start_date="2025-07", regimen="TPF")
    services.death_record(user=None, subject=subject, death_date="2025-08", cause="PD")
    facts = selectors.survival_facts([subject.pk])[subject.pk]
    assert facts.death_date == dt.date(2025, 8, 14)  # not 1 August: known alive on the 14th
    assert facts.death_date_recorded == "2025-08"
    assert facts.new_anticancer_therapy_date == dt.date(2025, 7, 1)
    assert facts.last_known_alive_date == dt.date(2025, 8, 14)
    assert facts.imputed == ("death_date", "new_anticancer_therapy_date")
    assert "raised to the last date known alive (2025-08-14)" in facts.notes[0]
    assert facts.conflicts == ()


def test_survival_facts_of_complete_dates_are_not_imputed(studies):
    subject = enrolled(SEED_000)
    _done(subject, "CYCLE1", FIRST_DOSE)
    services.death_record(user=None, subject=subject, death_date="2025-05-02", cause="AE")
    facts = selectors.survival_facts([subject.pk])[subject.pk]
    assert (facts.death_date, facts.imputed, facts.death_cause) == (dt.date(2025, 5, 2), (), "AE")
    assert facts.last_known_alive_date == FIRST_DOSE


def test_a_new_therapy_start_is_imputed_no_earlier_than_the_last_assessment(studies):
    subject = enrolled(SEED_000)
    _done(subject, "CYCLE1", FIRST_DOSE)
    _done(subject, "CYCLE2", dt.date(2025, 4, 9))
    services.subsequent_therapy_create(user=None, subject=subject, start_date="2025-04", regimen="TPF")
    facts = selectors.survival_facts([subject.pk])[subject.pk]
    assert facts.new_anticancer_therapy_date == dt.date(2025, 4, 9)
    assert facts.imputed == ("new_anticancer_therapy_date",)


def test_survival_facts_answer_every_subject_without_data_and_mark_lost_to_follow_up(studies):
    subject, lost = enrolled(SEED_000), enrolled(SEED_000)
    services.survival_follow_up_create(
        user=None,
        subject=lost,
        contact_date=dt.date(2025, 9, 1),
        method="RECORD",
        vital_status="LOST",
        last_known_alive=dt.date(2025, 6, 30),
    )
    facts = selectors.survival_facts([subject.pk, lost.pk])
    # Without follow-up data: the screening visit (done on 2025-03-01) is the last day known alive.
    assert facts[subject.pk] == selectors.SurvivalFacts(None, None, dt.date(2025, 3, 1))
    assert facts[lost.pk].lost_to_follow_up
    assert facts[lost.pk].last_known_alive_date == dt.date(2025, 6, 30)


def test_survival_facts_take_six_queries_whatever_the_number_of_subjects(studies, django_assert_num_queries):
    subjects = [enrolled(SEED_000) for _ in range(3)]
    for subject in subjects:
        services.subsequent_therapy_create(user=None, subject=subject, start_date="2025-07", regimen="TPF")
        services.death_record(user=None, subject=subject, death_date="2025-08", cause="PD")
    with django_assert_num_queries(6):
        one = selectors.survival_facts([subjects[0].pk])
    with django_assert_num_queries(6):
        three = selectors.survival_facts([s.pk for s in subjects])
    assert len(one) == 1 and len(three) == 3


def test_pdl1_status_follows_seed_003_s_cut_off(studies, django_assert_num_queries):
    positive, negative, none = enrolled(SEED_003), enrolled(SEED_003), enrolled(SEED_003)
    for subject, value in ((positive, "1"), (negative, "0.5")):
        row = services.biomarker_create(
            user=None,
            subject=subject,
            date=dt.date(2025, 3, 5),
            test="PDL1",
            assay="22C3",
            pdl1_score="CPS",
            pdl1_value=Decimal(value),
        )
        assert row.pdl1_cutoff == Decimal("1")
    with django_assert_num_queries(1):
        status = selectors.pdl1_status([positive.pk, negative.pk, none.pk])
    assert status == {positive.pk: "positive", negative.pk: "negative"}


def test_a_pdl1_score_of_another_kind_than_the_cut_off_s_gets_no_status(studies):
    subject = enrolled(SEED_003)
    row = services.biomarker_create(
        user=None,
        subject=subject,
        date=dt.date(2025, 3, 5),
        test="PDL1",
        assay="SP263",
        pdl1_score="TPS",
        pdl1_value=Decimal("50"),
    )
    assert (row.pdl1_status, row.pdl1_cutoff) == ("", None)
    assert selectors.pdl1_status([subject.pk]) == {}


def test_a_study_without_a_pdl1_cut_off_stores_the_score_without_a_status(studies):
    subject = enrolled(SEED_000)
    row = services.biomarker_create(
        user=None,
        subject=subject,
        date=dt.date(2025, 3, 5),
        test="PDL1",
        assay="22C3",
        pdl1_score="CPS",
        pdl1_value=Decimal("20"),
    )
    assert row.pdl1_value == Decimal("20") and row.pdl1_status == ""
