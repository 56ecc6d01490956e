"""Partial-date imputation (edc/core/imputation.py): missing day -> the first of the month, missing month
-> 1 January, never before the floor (last known alive or assessed), and "imputed" on every output.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edc.core.imputation import IMPUTED, impute, interval
from edc.core.partial_dates import PartialDate

D = dt.date


@pytest.mark.parametrize(
    ("recorded", "date", "dtf"),
    [
        ("2025-03", D(2025, 3, 1), "D"),
        ("2024-02", D(2024, 2, 1), "D"),
        ("2025", D(2025, 1, 1), "M"),
    ],
)
def test_a_missing_day_is_the_first_of_the_month_and_a_missing_month_1_january(recorded, date, dtf):
    result = impute(recorded)
    assert (result.date, result.imputed, result.flag, result.dtf, result.recorded) == (
        date,
        True,
        IMPUTED,
        dtf,
        recorded,
    )


def test_a_complete_date_is_used_as_recorded_and_not_marked_imputed():
    result = impute("2025-03-17", floor=D(2025, 3, 1))
    assert (result.date, result.imputed, result.flag, result.dtf, result.conflict) == (
        D(2025, 3, 17),
        False,
        "",
        "",
        False,
    )
    assert result.description == "2025-03-17 as recorded"
    assert impute(D(2025, 3, 17)) == impute(PartialDate(2025, 3, 17))


def test_the_imputed_date_is_never_before_the_last_date_known_alive():
    death = impute("2025-03", floor=D(2025, 3, 10), floor_label="the last date known alive")
    assert (death.date, death.floored, death.conflict) == (D(2025, 3, 10), True, False)
    assert death.description == (
        "2025-03 imputed as 2025-03-10 (day missing: the first of the month, "
        "raised to the last date known alive (2025-03-10))"
    )


@pytest.mark.parametrize(
    ("recorded", "floor", "date", "floored"),
    [
        ("2025-03", D(2025, 3, 1), D(2025, 3, 1), False),  # the floor is the first: nothing to raise
        ("2025-03", D(2025, 3, 31), D(2025, 3, 31), True),  # the last day of the month
        ("2025-03", D(2025, 2, 20), D(2025, 3, 1), False),  # a floor before the month changes nothing
        ("2025", D(2025, 7, 4), D(2025, 7, 4), True),  # within the recorded year
        ("2024-02", D(2024, 2, 29), D(2024, 2, 29), True),
    ],
)
def test_the_floor_raises_the_date_only_within_what_was_recorded(recorded, floor, date, floored):
    result = impute(recorded, floor=floor)
    assert (result.date, result.floored, result.conflict, result.imputed) == (date, floored, False, True)


def test_a_recorded_period_wholly_before_the_floor_is_a_conflict_and_keeps_its_first_day():
    result = impute("2025-02", floor=D(2025, 3, 10), floor_label="the last date known alive")
    assert (result.date, result.conflict, result.imputed) == (D(2025, 2, 1), True, True)
    assert result.description.endswith(
        "the recorded 2025-02 is wholly before the last date known alive (2025-03-10)"
    )
    complete = impute("2025-03-05", floor=D(2025, 3, 10))
    assert (complete.date, complete.conflict, complete.imputed) == (D(2025, 3, 5), True, False)


@pytest.mark.parametrize("bad", ["2025-13", "2025-02-30", "25-03", "March 2025", ""])
def test_a_date_that_is_not_a_partial_date_is_refused(bad):
    with pytest.raises(ValueError):
        impute(bad)


def test_an_interval_is_imputed_when_either_date_was():
    first_dose = impute("2025-01-06")
    death = impute("2025-06", floor=D(2025, 6, 12), floor_label="the last date known alive")
    overall = interval(first_dose, death)
    assert (overall.days, overall.imputed, overall.flag) == (157, True, IMPUTED)
    assert overall.description == (
        "157 days from 2025-01-06 to 2025-06-12, imputed: 2025-06 imputed as 2025-06-12 "
        "(day missing: the first of the month, raised to the last date known alive (2025-06-12))"
    )
    exact = interval(first_dose, impute("2025-06-20"))
    assert (exact.days, exact.imputed, exact.flag, exact.description) == (
        165,
        False,
        "",
        "165 days from 2025-01-06 to 2025-06-20",
    )


partials = st.builds(
    lambda year, month, day: PartialDate(year, month, day if month else None),
    st.integers(2000, 2030),
    st.none() | st.integers(1, 12),
    st.none() | st.integers(1, 28),
)


@settings(max_examples=300, deadline=None)
@given(value=partials, floor=st.none() | st.dates(D(1999, 1, 1), D(2031, 12, 31)))
def test_the_imputed_date_lies_within_what_was_recorded_and_not_before_the_floor_unless_in_conflict(
    value, floor
):
    result = impute(value, floor=floor)
    assert value.earliest() <= result.date <= value.latest()
    assert result.imputed is (not value.is_complete)
    if floor is not None and not result.conflict:
        assert result.date >= floor
    assert result.conflict is (
        floor is not None and value.latest() < floor
        if result.imputed
        else floor is not None and result.date < floor
    )
    if result.imputed and not result.floored:
        assert result.date == value.earliest()
