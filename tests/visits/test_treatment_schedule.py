"""The schedule follows the treatment: after the first dose, a delayed cycle and the end of treatment
(with and without progression) the subject's stored plan equals what `schedule_preview` prints for
the same dates; the subject's status moves (on treatment, follow-up); the selectors read the doses.

Visits holding data (the dose's own visit) are never moved by a re-plan (edc/visits/services.py);
they are compared on their own, every other visit against the preview."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from edc.visits.exposures import EndOfTreatment, Exposure
from edc.visits.models import Visit, VisitStatus
from edc.visits.selectors import first_dose_date, last_dose_date, subject_dates
from edc.visits.treatment import end_of_treatment_record, exposure_record, treatment_phase_switch
from tests.visits.treatment_support import (
    FIRST_DOSE,
    SEED_000,
    SEED_002,
    enrolled,
    intervention,
    planned_rows,
    preview,
    studies,  # noqa: F401  (the module fixture)
    visit,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("studies")]


DOSED = dt.date(2025, 3, 18)  # three days after the planned first dose (cycle 1's window is 0/+3)


def give(subject, code, day, *, protocol=SEED_000, visit_code="CYCLE1", given="200"):
    return exposure_record(
        user=None,
        subject=subject,
        visit=visit(subject, visit_code),
        intervention=intervention(protocol, code),
        start_date=day,
        dose_given=Decimal(given),
        route="IV",
    )


def with_data_removed(rows, codes):
    return [r for r in rows if r["code"] not in codes]


def test_the_first_dose_puts_the_subject_on_treatment_and_is_the_first_dose_date():
    subject = enrolled(SEED_000)
    assert first_dose_date(subject) == FIRST_DOSE  # planned, before any dose
    give(subject, "CAM", DOSED)
    subject.refresh_from_db()
    assert subject.status == "on_treatment"
    assert first_dose_date(subject) == DOSED
    assert last_dose_date(subject) is None
    dates = subject_dates(subject)
    assert (dates.first_dose, dates.actual["CYCLE1"]) == (DOSED, DOSED)
    history = subject.history.filter(status="on_treatment").first()
    assert "First dose" in history.history_change_reason


def test_after_the_first_dose_the_stored_plan_equals_the_preview_for_the_actual_first_dose():
    subject = enrolled(SEED_000)
    give(subject, "CAM", DOSED)
    expected = preview(SEED_000, "--first-dose", DOSED.isoformat())
    assert with_data_removed(planned_rows(subject), {"CYCLE1"}) == with_data_removed(expected, {"CYCLE1"})
    # the dose's own visit holds data: it stays where it was planned
    assert visit(subject, "CYCLE1").target_date == FIRST_DOSE
    assert visit(subject, "CYCLE2").target_date == DOSED + dt.timedelta(days=21)


def test_a_delayed_cycle_re_anchors_the_cycles_after_it_as_the_preview_does():
    subject = enrolled(SEED_000)
    give(subject, "CAM", DOSED)
    delayed = dt.date(2025, 4, 12)  # cycle 2 planned on 8 April
    give(subject, "CAM", delayed, visit_code="CYCLE2")
    expected = preview(
        SEED_000, "--first-dose", DOSED.isoformat(), "--actual", f"CYCLE2={delayed.isoformat()}"
    )
    kept = {"CYCLE1", "CYCLE2"}
    assert with_data_removed(planned_rows(subject), kept) == with_data_removed(expected, kept)
    assert visit(subject, "CYCLE3").target_date == delayed + dt.timedelta(days=21)
    # imaging counts from the first dose, not from the cycles
    assert visit(subject, "IMG6W1").target_date == DOSED + dt.timedelta(days=42)


@pytest.mark.parametrize(("reason", "imaging_goes_on"), [("TOX", True), ("PD", False)])
def test_end_of_treatment_plans_what_the_preview_prints_imaging_going_on_unless_progression(
    reason, imaging_goes_on
):
    subject = enrolled(SEED_000)
    give(subject, "CAM", DOSED)
    cycle2 = DOSED + dt.timedelta(days=21)
    give(subject, "CAM", cycle2, visit_code="CYCLE2")
    last = cycle2
    eot = end_of_treatment_record(user=None, subject=subject, last_dose_date=last, reason=reason)
    subject.refresh_from_db()
    assert subject.status == "follow_up"
    assert last_dose_date(subject) == last
    assert (eot.visit.code, eot.visit.kind, eot.eot_date) == ("EOT", "end_of_treatment", last)
    expected = preview(
        SEED_000,
        "--first-dose",
        DOSED.isoformat(),
        "--actual",
        f"CYCLE2={cycle2.isoformat()}",
        "--last-dose",
        last.isoformat(),
        "--eot-reason",
        reason,
    )
    kept = {"CYCLE1", "CYCLE2", "EOT"}
    assert with_data_removed(planned_rows(subject), kept) == with_data_removed(expected, kept)
    sfu = visit(subject, "SFU")
    assert sfu.target_date == last + dt.timedelta(days=30)  # seed 000: last dose + 30 days
    assert Visit.objects.filter(subject=subject, kind="survival_follow_up").exists()
    cancelled = Visit.objects.filter(subject=subject, status=VisitStatus.CANCELLED)
    assert cancelled.filter(kind="treatment").count() > 30
    open_treatment = Visit.objects.filter(subject=subject, kind="treatment", status=VisitStatus.PLANNED)
    assert set(open_treatment.values_list("code", flat=True)) == {"CYCLE1", "CYCLE2"}  # the dosed ones
    later_imaging = Visit.objects.filter(subject=subject, kind="imaging", target_date__gt=last)
    assert later_imaging.exclude(status=VisitStatus.CANCELLED).exists() is imaging_goes_on
    # nothing planned disappears: the cancelled visits carry the reason
    reasons = set(cancelled.values_list("cancelled_reason", flat=True))
    assert all("End of treatment" in r for r in reasons)


def test_seed_002_weekly_cetuximab_visits_follow_the_actual_first_dose():
    subject = enrolled(SEED_002, weight="64", height="169")
    give(subject, "CET_LOAD", DOSED, protocol=SEED_002, given="600")
    expected = preview(SEED_002, "--first-dose", DOSED.isoformat())
    assert with_data_removed(planned_rows(subject), {"CYCLE1"}) == with_data_removed(expected, {"CYCLE1"})
    assert visit(subject, "CETW1D8").target_date == DOSED + dt.timedelta(days=7)


def test_end_of_treatment_refuses_a_reason_outside_the_codelist_and_a_second_one():
    subject = enrolled(SEED_000)
    with pytest.raises(ValidationError) as caught:
        end_of_treatment_record(user=None, subject=subject, last_dose_date=DOSED, reason="progression")
    assert "reason" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        end_of_treatment_record(user=None, subject=subject, last_dose_date=DOSED, reason="PD")
    # enrolled, but no dose yet
    assert "last_dose_date" in caught.value.message_dict
    give(subject, "CAM", DOSED)
    with pytest.raises(ValidationError) as caught:
        end_of_treatment_record(
            user=None, subject=subject, last_dose_date=DOSED - dt.timedelta(days=1), reason="PD"
        )
    assert "before the first dose" in caught.value.message_dict["last_dose_date"][0]
    end_of_treatment_record(user=None, subject=subject, last_dose_date=DOSED, reason="PD")
    subject.refresh_from_db()
    with pytest.raises(ValidationError) as caught:
        end_of_treatment_record(user=None, subject=subject, last_dose_date=DOSED, reason="PD")
    assert "subject" in caught.value.message_dict
    assert EndOfTreatment.objects.filter(subject=subject).count() == 1


def test_a_last_dose_date_before_a_recorded_dose_and_a_dose_after_the_end_are_refused():
    subject = enrolled(SEED_000)
    give(subject, "CAM", DOSED)
    cycle2 = DOSED + dt.timedelta(days=21)
    give(subject, "CAM", cycle2, visit_code="CYCLE2")
    with pytest.raises(ValidationError) as caught:
        end_of_treatment_record(user=None, subject=subject, last_dose_date=DOSED, reason="TOX")
    assert "after that date" in caught.value.message_dict["last_dose_date"][0]
    end_of_treatment_record(user=None, subject=subject, last_dose_date=cycle2, reason="TOX")
    subject.refresh_from_db()
    with pytest.raises(ValidationError) as caught:
        give(subject, "CAM", cycle2 + dt.timedelta(days=21), visit_code="CYCLE1")
    assert "subject" in caught.value.message_dict
    assert Exposure.objects.filter(subject=subject).count() == 2


def test_other_as_the_reason_needs_its_specification():
    subject = enrolled(SEED_000)
    give(subject, "CAM", DOSED)
    with pytest.raises(ValidationError) as caught:
        end_of_treatment_record(user=None, subject=subject, last_dose_date=DOSED, reason="OTHER")
    assert "reason_detail" in caught.value.message_dict
    eot = end_of_treatment_record(
        user=None, subject=subject, last_dose_date=DOSED, reason="OTHER", reason_detail="Pregnancy"
    )
    assert eot.reason_detail == "Pregnancy"


def test_the_maintenance_phase_starts_with_its_trigger_and_only_its_agent_is_given_after():
    subject = enrolled(SEED_000)
    give(subject, "CAM", DOSED)
    subject.refresh_from_db()
    with pytest.raises(ValidationError) as caught:
        treatment_phase_switch(user=None, subject=subject, phase_code="MAINT", date=DOSED, trigger=" ")
    assert "trigger" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        treatment_phase_switch(user=None, subject=subject, phase_code="COMBO", date=DOSED, trigger="CR")
    assert "phase_code" in caught.value.message_dict
    switch_day = dt.date(2025, 5, 20)
    switch = treatment_phase_switch(
        user=None,
        subject=subject,
        phase_code="MAINT",
        date=switch_day,
        trigger="Complete response confirmed (RECIST 1.1) on 2025-05-19",
    )
    assert (switch.phase.code, switch.history.count()) == ("MAINT", 1)
    after = switch_day + dt.timedelta(days=1)
    with pytest.raises(ValidationError) as caught:
        give(subject, "CAM", after, visit_code="CYCLE4")
    assert "phase" in caught.value.message_dict["intervention"][0].lower()
    with pytest.raises(ValidationError):
        give(subject, "BEV", after, visit_code="CYCLE4", given="525")
    maint = give(subject, "CAM_MAINT", after, visit_code="CYCLE4")
    assert (maint.phase.code, maint.planned_dose) == ("MAINT", Decimal("200.00"))
    with pytest.raises(ValidationError):
        treatment_phase_switch(user=None, subject=subject, phase_code="MAINT", date=switch_day, trigger="CR")
