"""Visits anchored on each occurrence of another visit (docs/definitions.md, schedule rule 6).

Seed 002's weekly cetuximab on days 8, 15 and 22 of each 28-day cycle is the model: the weekly
visits follow their cycle (also a delayed one) and never fall on a cycle's day.
"""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edc.visits.schedule import (
    ScheduleParams,
    SubjectDates,
    UnboundedScheduleError,
    VisitDefinitionSpec,
    plan,
    validate_definitions,
)

FIRST_DOSE = dt.date(2025, 1, 6)
PARAMS = ScheduleParams(horizon_days=140)


def day(n: int) -> dt.date:
    return FIRST_DOSE + dt.timedelta(days=n)


CYCLE = VisitDefinitionSpec(
    "CYCLE",
    "Cycle {n} Day 1",
    "treatment",
    window_after_days=3,
    repeat_interval_days=28,
    repeat_from="previous_actual",
    on_end_of_treatment="stop",
    order=1,
)
WEEKLY = VisitDefinitionSpec(
    "CETW",
    "Cycle {cycle} Day {day} cetuximab",
    "treatment",
    anchor_visit="CYCLE",
    offset_days=7,
    window_before_days=1,
    window_after_days=1,
    repeat_interval_days=7,
    repeat_count=3,
    on_end_of_treatment="stop",
    order=2,
)


def planned(*defs: VisitDefinitionSpec, params: ScheduleParams = PARAMS, **dates) -> list:
    return plan(list(defs), SubjectDates(first_dose=FIRST_DOSE, **dates), params)


def test_weekly_visits_fall_on_days_8_15_22_of_each_cycle_and_never_on_a_cycle_day():
    visits = planned(CYCLE, WEEKLY)
    assert [(v.code, (v.target - FIRST_DOSE).days) for v in visits[:9]] == [
        ("CYCLE1", 0),
        ("CETW1D8", 7),
        ("CETW1D15", 14),
        ("CETW1D22", 21),
        ("CYCLE2", 28),
        ("CETW2D8", 35),
        ("CETW2D15", 42),
        ("CETW2D22", 49),
        ("CYCLE3", 56),
    ]
    days = [v.target for v in visits]
    assert len(days) == len(set(days))


def test_names_give_the_cycle_and_its_day():
    visits = {v.code: v for v in planned(CYCLE, WEEKLY)}
    assert visits["CETW1D8"].name == "Cycle 1 Day 8 cetuximab"
    assert visits["CETW3D22"].name == "Cycle 3 Day 22 cetuximab"
    assert visits["CETW3D22"].anchor_visit == "CYCLE3"
    assert [v.number for v in planned(CYCLE, WEEKLY) if v.definition == "CETW"][:4] == [1, 2, 3, 4]


def test_weekly_visits_follow_a_delayed_cycle():
    # Cycle 2 starts 5 days late: its weekly visits move with it, and cycle 3 counts from it.
    visits = {v.code: v.target for v in planned(CYCLE, WEEKLY, actual={"CYCLE2": day(33)})}
    assert visits["CETW1D22"] == day(21)
    assert visits["CYCLE2"] == day(28)  # the plan keeps the target; the visit happened on day 33
    assert [visits[f"CETW2D{d}"] for d in (8, 15, 22)] == [day(40), day(47), day(54)]
    assert visits["CYCLE3"] == day(61)
    assert day(33) not in visits.values()  # the delayed cycle's own day holds no other visit


def test_an_occurrence_on_or_after_the_next_cycles_start_is_not_planned():
    # Cycle 2 came early (day 21): cycle 1's day 22 belongs to cycle 2 now.
    codes = [v.code for v in planned(CYCLE, WEEKLY, actual={"CYCLE2": day(21)})]
    assert "CETW1D22" not in codes
    assert codes.index("CETW1D15") < codes.index("CYCLE2")


def test_windows_stay_strictly_between_the_cycle_and_the_next():
    wide = VisitDefinitionSpec(
        "CETW",
        "Cycle {cycle} Day {day}",
        "treatment",
        anchor_visit="CYCLE",
        offset_days=21,
        window_before_days=2,
        window_after_days=6,
        on_end_of_treatment="stop",
    )
    visits = {v.code: v for v in planned(CYCLE, wide, actual={"CYCLE2": day(24)})}
    assert visits["CETW1D22"].window_end == day(23)  # the day before cycle 2's actual start
    assert visits["CETW1D22"].window_start == day(19)


def test_previous_actual_within_a_cycle_counts_from_the_last_weekly_visit():
    counted = VisitDefinitionSpec(**{**WEEKLY.__dict__, "repeat_from": "previous_actual"})
    visits = {v.code: v.target for v in planned(CYCLE, counted, actual={"CETW1D8": day(9)})}
    assert (visits["CETW1D15"], visits["CETW1D22"]) == (day(16), day(23))
    anchored = {v.code: v.target for v in planned(CYCLE, WEEKLY, actual={"CETW1D8": day(9)})}
    assert (anchored["CETW1D15"], anchored["CETW1D22"]) == (day(14), day(21))


def test_no_weekly_visit_after_the_last_dose_or_after_the_until_day():
    visits = planned(CYCLE, WEEKLY, last_dose=day(40), end_of_treatment=day(40), eot_reason="toxicity")
    assert max(v.target for v in visits if v.definition == "CETW") == day(35)
    limited = VisitDefinitionSpec(**{**WEEKLY.__dict__, "repeat_until_day": 42})
    assert max(v.target for v in planned(CYCLE, limited) if v.definition == "CETW") == day(42)


def test_nothing_is_planned_without_the_anchor_date():
    assert plan([CYCLE, WEEKLY], SubjectDates(), PARAMS) == []


def test_an_open_ended_weekly_series_after_the_last_cycle_needs_a_horizon():
    cycles = VisitDefinitionSpec(**{**CYCLE.__dict__, "repeat_count": 2})
    endless = VisitDefinitionSpec(
        **{**WEEKLY.__dict__, "repeat_count": None, "on_end_of_treatment": "continue"}
    )
    endless = VisitDefinitionSpec(**{**endless.__dict__, "kind": "safety_follow_up"})
    with pytest.raises(UnboundedScheduleError, match="CETW"):
        plan([cycles, endless], SubjectDates(first_dose=FIRST_DOSE), ScheduleParams())


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"anchor_visit": "NOPE"}, "anchor_visit 'NOPE' names no visit definition"),
        ({"anchor_visit": "CETW"}, "anchor_visit names the visit itself"),
        ({"anchor": "enrollment"}, "is not the anchor 'first_dose' of its anchor_visit 'CYCLE'"),
        ({"series": "WEEKLY"}, "forms its own series"),
        ({"offset_days": 1, "window_before_days": 1}, "its window opens on or before the day of 'CYCLE'"),
        ({"offset_days": 0}, "its window opens on or before the day of 'CYCLE'"),
        ({"repeat_count": 4}, "reaches day 29 after each 'CYCLE', not before the next one 28 days later"),
    ],
)
def test_an_anchored_definition_that_cannot_work_is_reported(change, problem):
    weekly = VisitDefinitionSpec(**{**WEEKLY.__dict__, **change})
    problems = validate_definitions([CYCLE, weekly])
    assert any(problem in p for p in problems), problems


def test_anchoring_is_one_level_deep():
    daily = VisitDefinitionSpec("DAILY", "Daily", "treatment", anchor_visit="CETW", offset_days=1)
    assert any("is itself anchored on a visit" in p for p in validate_definitions([CYCLE, WEEKLY, daily]))


def test_seed_002_shaped_definitions_are_valid():
    assert validate_definitions([CYCLE, WEEKLY]) == []


@settings(max_examples=150, deadline=None)
@given(
    delays=st.lists(st.integers(0, 10), min_size=1, max_size=5),
    offset=st.integers(1, 20),
    count=st.integers(1, 4),
    interval=st.integers(1, 7),
    before=st.integers(0, 3),
    after=st.integers(0, 3),
)
def test_property_anchored_visits_stay_inside_their_cycle_whatever_the_delays(
    delays, offset, count, interval, before, after
):
    weekly = VisitDefinitionSpec(
        "W",
        "C{cycle} D{day}",
        "treatment",
        anchor_visit="CYCLE",
        offset_days=offset,
        window_before_days=min(before, offset - 1),
        window_after_days=after,
        repeat_interval_days=interval,
        repeat_count=count,
        on_end_of_treatment="stop",
    )
    # Each cycle's actual start is its planned target plus a delay.
    actual: dict[str, dt.date] = {}
    for n, delay in enumerate(delays, start=1):
        targets = {v.code: v.target for v in planned(CYCLE, params=PARAMS, actual=actual)}
        if f"CYCLE{n}" in targets:
            actual[f"CYCLE{n}"] = targets[f"CYCLE{n}"] + dt.timedelta(days=delay)
    visits = planned(CYCLE, weekly, actual=actual)
    cycles = [v for v in visits if v.definition == "CYCLE"]
    starts = [actual.get(c.code, c.target) for c in cycles]
    children = [v for v in visits if v.definition == "W"]
    for child in children:
        parent = next(i for i, c in enumerate(cycles) if c.code == child.anchor_visit)
        start = starts[parent]
        following = starts[parent + 1] if parent + 1 < len(starts) else None
        assert start < child.window_start <= child.target <= child.window_end
        if following is not None:
            assert child.window_end < following
        assert child.target not in starts
    for a, b in itertools.pairwise(children):
        assert a.target < b.target
        assert a.window_end < b.window_start
