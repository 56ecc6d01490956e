"""Restricted medication on trial: each rule of its own seed flags a concomitant medication on entry,
at and around its boundary (inclusive "within": day N in, day N + 1 out), and names its rule and seed.

First dose: 2025-03-15 (the planned one until exposures exist: edc.visits.selectors.first_dose_date).
"""

from __future__ import annotations

import datetime as dt

import pytest

from edc.core.services import ChangeReason
from edc.forms import services
from edc.forms.models import RestrictedMedicationFlag
from edc.forms.restricted import restricted_medication_flags_refresh
from tests.forms.conftest import FIRST_DOSE, enrolled

pytestmark = pytest.mark.django_db
SEED_000, SEED_002, SEED_004 = "CAM-BEV-CAP-HNSCC", "CET-DALP-HNSCC", "CAM-CRT-HNSCC"


def _cm(subject, *, category, last_day, start=None, route="", agent="medication", ongoing=False):
    return services.concomitant_medication_create(
        user=None,
        subject=subject,
        agent=agent,
        category=category,
        start=start or last_day,
        stop=last_day,
        ongoing=ongoing,
        route=route,
    )


def _flags(subject):
    return list(
        RestrictedMedicationFlag.objects.active()
        .filter(subject=subject)
        .values_list("rule", "seed", "windows", "certain")
    )


@pytest.mark.parametrize(
    ("protocol_id", "category", "days", "rule", "seed"),
    [
        (SEED_004, "IMMUNOSUPP", 14, "004-E14", "fixtures/records/004_NCT06170697_excerpt.txt"),
        (SEED_004, "LIVE_VACCINE", 28, "004-E10", "fixtures/records/004_NCT06170697_excerpt.txt"),
        (SEED_002, "GROWTH_FACTOR", 7, "002-E4", "fixtures/records/002_24b7f1f18ab1b4b9.txt"),
        (SEED_002, "INVESTIGATIONAL", 28, "002-E3", "fixtures/records/002_24b7f1f18ab1b4b9.txt"),
        (SEED_004, "INVESTIGATIONAL", 28, "004-E3", "fixtures/records/004_NCT06170697_excerpt.txt"),
    ],
)
def test_each_rule_flags_day_n_before_the_first_dose_and_not_day_n_plus_one(
    studies, protocol_id, category, days, rule, seed
):
    inside, outside = enrolled(protocol_id), enrolled(protocol_id)
    row = _cm(inside, category=category, last_day=FIRST_DOSE - dt.timedelta(days=days))
    _cm(outside, category=category, last_day=FIRST_DOSE - dt.timedelta(days=days + 1))
    assert _flags(inside) == [(rule, seed, "before_first_dose", True)]
    assert _flags(outside) == []
    flag = RestrictedMedicationFlag.objects.get(medication=row)
    assert flag.first_dose == FIRST_DOSE
    assert f"seed {seed.rsplit('/', 1)[1][:3]}" in flag.message
    assert flag.history.count() == 1


def test_a_medication_taken_on_the_first_dose_day_is_within(studies):
    subject = enrolled(SEED_002)
    _cm(subject, category="GROWTH_FACTOR", last_day=FIRST_DOSE)
    assert [r for r, *_ in _flags(subject)] == ["002-E4"]


def test_a_live_vaccine_at_any_time_on_trial_is_flagged_by_seed_004(studies):
    subject = enrolled(SEED_004)
    _cm(subject, category="LIVE_VACCINE", last_day=FIRST_DOSE + dt.timedelta(days=200))
    assert _flags(subject) == [("004-E10", "fixtures/records/004_NCT06170697_excerpt.txt", "on_trial", True)]


def test_an_immunosuppressant_on_trial_is_no_seed_004_exclusion_14_flag(studies):
    # "within 14 days before the first dose": after it the rule says nothing (the AE work may).
    subject = enrolled(SEED_004)
    _cm(subject, category="IMMUNOSUPP", last_day=FIRST_DOSE + dt.timedelta(days=20))
    assert _flags(subject) == []


@pytest.mark.parametrize("route", ["INH", "NAS", "PO"])
def test_nasal_inhaled_and_physiological_corticosteroids_are_exempt_from_seed_004_exclusion_14(
    studies, route
):
    subject = enrolled(SEED_004)
    _cm(subject, category="STEROID_PHYS", route=route, last_day=FIRST_DOSE - dt.timedelta(days=3))
    assert _flags(subject) == []


def test_a_systemic_steroid_above_physiological_doses_is_flagged_whatever_its_route(studies):
    subject = enrolled(SEED_004)
    _cm(subject, category="IMMUNOSUPP", route="IV", last_day=FIRST_DOSE - dt.timedelta(days=3))
    assert [r for r, *_ in _flags(subject)] == ["004-E14"]


def test_an_immunosuppressant_of_unrecorded_kind_raises_a_possible_flag(studies):
    subject = enrolled(SEED_004)
    _cm(subject, category="IMMUNOSUPP_UNKNOWN", last_day=FIRST_DOSE - dt.timedelta(days=3))
    assert _flags(subject) == [
        ("004-E14", "fixtures/records/004_NCT06170697_excerpt.txt", "before_first_dose", False)
    ]
    assert "kind not recorded" in RestrictedMedicationFlag.objects.get(subject=subject).message


def test_a_partial_stop_date_that_may_fall_in_the_window_raises_a_possible_flag(studies):
    # Stopped some day in March 2025: 1 March is 14 days before the first dose (outside 002's one
    # week), 31 March after it (inside): possible, not certain.
    subject = enrolled(SEED_002)
    services.concomitant_medication_create(
        user=None, subject=subject, agent="G-CSF", category="GROWTH_FACTOR", start="2025-02", stop="2025-03"
    )
    assert _flags(subject) == [
        ("002-E4", "fixtures/records/002_24b7f1f18ab1b4b9.txt", "before_first_dose", False)
    ]


def test_a_partial_stop_date_whose_every_day_is_in_the_window_is_certain(studies):
    # Stopped in March 2025: every day of it is within 14 days before (or after) the first dose.
    subject = enrolled(SEED_004)
    services.concomitant_medication_create(
        user=None, subject=subject, agent="prednisone", category="IMMUNOSUPP", start="2025-02", stop="2025-03"
    )
    assert _flags(subject) == [
        ("004-E14", "fixtures/records/004_NCT06170697_excerpt.txt", "before_first_dose", True)
    ]


def test_a_partial_stop_date_wholly_before_the_window_raises_none(studies):
    subject = enrolled(SEED_002)
    services.concomitant_medication_create(
        user=None, subject=subject, agent="G-CSF", category="GROWTH_FACTOR", start="2025-01", stop="2025-02"
    )
    assert _flags(subject) == []


def test_a_rule_of_another_seed_never_flags(studies):
    subject = enrolled(SEED_000)
    _cm(subject, category="GROWTH_FACTOR", last_day=FIRST_DOSE)
    _cm(subject, category="LIVE_VACCINE", last_day=FIRST_DOSE)
    _cm(subject, category="IMMUNOSUPP", last_day=FIRST_DOSE)
    assert _flags(subject) == []


def test_a_corrected_medication_drops_its_flag_voided_with_the_reason(studies):
    subject = enrolled(SEED_002)
    row = _cm(subject, category="GROWTH_FACTOR", last_day=FIRST_DOSE - dt.timedelta(days=7))
    flag = RestrictedMedicationFlag.objects.get(medication=row)
    services.form_record_update(
        user=None,
        record=row,
        reason=ChangeReason("transcription_error", "the stop date was mistyped"),
        start=FIRST_DOSE - dt.timedelta(days=20),
        stop=FIRST_DOSE - dt.timedelta(days=8),
    )
    flag.refresh_from_db()
    assert flag.voided_at is not None
    assert "no longer falls" in flag.void_reason
    assert _flags(subject) == []
    # Corrected back: a new flag (the voided one stays in history).
    services.form_record_update(
        user=None,
        record=row,
        reason=ChangeReason("transcription_error", "back"),
        stop=FIRST_DOSE - dt.timedelta(days=7),
    )
    assert len(_flags(subject)) == 1
    assert RestrictedMedicationFlag.objects.filter(medication=row).count() == 2


def test_a_voided_medication_voids_its_flag(studies):
    subject = enrolled(SEED_002)
    row = _cm(subject, category="GROWTH_FACTOR", last_day=FIRST_DOSE)
    services.form_record_void(user=None, record=row, reason=ChangeReason("other", "entered twice"))
    assert _flags(subject) == []


def test_a_subject_not_yet_enrolled_has_no_first_dose_and_no_flag(studies):
    from studies.models import Study
    from tests.factories import screen_subject

    subject = screen_subject(Study.objects.get(protocol_id=SEED_002).sites.first())
    _cm(subject, category="GROWTH_FACTOR", last_day=dt.date(2025, 3, 1))
    assert _flags(subject) == []


def test_refreshing_twice_writes_nothing_the_second_time(studies, django_assert_max_num_queries):
    subject = enrolled(SEED_004)
    _cm(subject, category="IMMUNOSUPP", last_day=FIRST_DOSE - dt.timedelta(days=3))
    before = RestrictedMedicationFlag.history.count()
    restricted_medication_flags_refresh(user=None, subject=subject)
    assert RestrictedMedicationFlag.history.count() == before


def test_the_flags_follow_the_first_dose_when_it_is_given_later_than_planned(studies):
    from decimal import Decimal

    from edc.visits.models import Visit
    from edc.visits.treatment import exposure_record
    from studies.models import Intervention

    subject = enrolled(SEED_004)
    _cm(subject, category="IMMUNOSUPP", last_day=FIRST_DOSE - dt.timedelta(days=14))
    assert [r for r, *_ in _flags(subject)] == ["004-E14"]  # day 14 before the planned first dose
    given = FIRST_DOSE + dt.timedelta(days=2)  # now 16 days after the last immunosuppressant
    exposure_record(
        user=None,
        subject=subject,
        visit=Visit.objects.get(subject=subject, code="CYCLE1"),
        intervention=Intervention.objects.get(study=subject.study, code="CAM"),
        start_date=given,
        dose_given=Decimal(200),
        route="IV",
    )
    assert _flags(subject) == []
    voided = RestrictedMedicationFlag.objects.get(subject=subject)
    assert voided.voided_at is not None  # kept, voided with the reason, never deleted
