"""The visit schedule engine on plain objects: seed 000's table, synthetic definitions, properties."""

from __future__ import annotations

import ast
import datetime as dt
import itertools
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from edc.visits import schedule
from edc.visits.schedule import (
    PlannedVisit,
    ScheduleParams,
    SubjectDates,
    UnboundedScheduleError,
    VisitDefinitionSpec,
    plan,
    validate_definitions,
)

D = dt.date
FIRST_DOSE = D(2025, 1, 6)


def day(n: int, start: dt.date = FIRST_DOSE) -> dt.date:
    return start + dt.timedelta(days=n)


# Seed 000's visit table, exactly as docs/definitions.md lists it.
SEED_000 = (
    VisitDefinitionSpec("SCR", "Screening", "screening", anchor="enrollment", window_before_days=28, order=1),
    VisitDefinitionSpec(
        "CYCLE",
        "Cycle {n} Day 1",
        "treatment",
        anchor="first_dose",
        window_after_days=3,
        repeat_interval_days=21,
        repeat_until_day=729,
        repeat_from="previous_actual",
        on_end_of_treatment="stop",
        order=2,
    ),
    VisitDefinitionSpec(
        "IMG6W",
        "Imaging {n}",
        "imaging",
        series="IMAGING",
        anchor="first_dose",
        offset_days=42,
        window_before_days=3,
        window_after_days=3,
        repeat_interval_days=42,
        repeat_until_day=336,
        on_end_of_treatment="continue_unless_progression",
        order=3,
    ),
    VisitDefinitionSpec(
        "IMG12W",
        "Imaging {n}",
        "imaging",
        series="IMAGING",
        anchor="first_dose",
        offset_days=420,
        window_before_days=7,
        window_after_days=7,
        repeat_interval_days=84,
        on_end_of_treatment="continue_unless_progression",
        order=4,
    ),
    VisitDefinitionSpec(
        "EOT", "End of treatment", "end_of_treatment", anchor="end_of_treatment", window_after_days=7, order=5
    ),
    VisitDefinitionSpec(
        "SFU",
        "Safety follow-up",
        "safety_follow_up",
        anchor="last_dose",
        offset_days=30,
        window_after_days=7,
        order=6,
    ),
    VisitDefinitionSpec(
        "SURV",
        "Survival follow-up {n}",
        "survival_follow_up",
        anchor="last_dose",
        offset_days=90,
        window_before_days=7,
        window_after_days=7,
        repeat_interval_days=90,
        order=7,
    ),
)
SEED_000_PARAMS = ScheduleParams(max_treatment_days=730, horizon_days=730)


def seed000(**dates) -> list[PlannedVisit]:
    dates.setdefault("first_dose", FIRST_DOSE)
    return plan(SEED_000, SubjectDates(**dates), SEED_000_PARAMS)


def ended(last_dose: dt.date, reason: str, **extra) -> list[PlannedVisit]:
    return seed000(last_dose=last_dose, end_of_treatment=last_dose, eot_reason=reason, **extra)


def by_code(visits: list[PlannedVisit]) -> dict[str, PlannedVisit]:
    return {v.code: v for v in visits}


def of_kind(visits: list[PlannedVisit], kind: str) -> list[PlannedVisit]:
    return [v for v in visits if v.kind == kind]


# --- seed 000: imaging -------------------------------------------------------------------------------

SEED_000_SCANS = [
    ("IMG6W1", "Imaging 1", D(2025, 2, 17), D(2025, 2, 14), D(2025, 2, 20)),
    ("IMG6W2", "Imaging 2", D(2025, 3, 31), D(2025, 3, 28), D(2025, 4, 3)),
    ("IMG6W3", "Imaging 3", D(2025, 5, 12), D(2025, 5, 9), D(2025, 5, 15)),
    ("IMG6W4", "Imaging 4", D(2025, 6, 23), D(2025, 6, 20), D(2025, 6, 26)),
    ("IMG6W5", "Imaging 5", D(2025, 8, 4), D(2025, 8, 1), D(2025, 8, 7)),
    ("IMG6W6", "Imaging 6", D(2025, 9, 15), D(2025, 9, 12), D(2025, 9, 18)),
    ("IMG6W7", "Imaging 7", D(2025, 10, 27), D(2025, 10, 24), D(2025, 10, 30)),
    ("IMG6W8", "Imaging 8", D(2025, 12, 8), D(2025, 12, 5), D(2025, 12, 11)),
    ("IMG12W1", "Imaging 9", D(2026, 3, 2), D(2026, 2, 23), D(2026, 3, 9)),
    ("IMG12W2", "Imaging 10", D(2026, 5, 25), D(2026, 5, 18), D(2026, 6, 1)),
    ("IMG12W3", "Imaging 11", D(2026, 8, 17), D(2026, 8, 10), D(2026, 8, 24)),
    ("IMG12W4", "Imaging 12", D(2026, 11, 9), D(2026, 11, 2), D(2026, 11, 16)),
]


def test_seed_000_definitions_are_valid():
    assert validate_definitions(SEED_000) == []


@pytest.mark.parametrize(("code", "name", "target", "start", "end"), SEED_000_SCANS)
def test_seed_000_scan_has_its_target_and_window(code, name, target, start, end):
    scan = by_code(seed000())[code]
    assert (scan.name, scan.kind, scan.target, scan.window_start, scan.window_end) == (
        name,
        "imaging",
        target,
        start,
        end,
    )


def test_seed_000_plans_exactly_twelve_scans_within_two_years():
    scans = of_kind(seed000(), "imaging")
    assert [s.code for s in scans] == [row[0] for row in SEED_000_SCANS]


@pytest.mark.parametrize(
    ("offset", "width"), [(42 * k, 3) for k in range(1, 9)] + [(420, 7), (504, 7), (588, 7)]
)
def test_seed_000_scan_window_is_plus_minus_the_protocol_days(offset, width):
    scan = next(s for s in of_kind(seed000(), "imaging") if s.target == day(offset))
    assert (scan.target - scan.window_start).days == width
    assert (scan.window_end - scan.target).days == width


def test_seed_000_imaging_switches_to_twelve_weekly_after_week_48():
    targets = [(s.target - FIRST_DOSE).days for s in of_kind(seed000(), "imaging")]
    gaps = [b - a for a, b in itertools.pairwise(targets)]
    assert gaps == [42] * 7 + [84] + [84] * 3


def test_seed_000_no_scan_between_week_48_and_week_60():
    assert not [s for s in of_kind(seed000(), "imaging") if day(336) < s.target < day(420)]


def test_seed_000_imaging_numbering_runs_across_the_series():
    scans = of_kind(seed000(), "imaging")
    assert [s.number for s in scans] == list(range(1, 13))
    assert {s.series for s in scans} == {"IMAGING"}


def test_seed_000_scan_after_horizon_is_not_planned():
    assert "IMG12W5" not in by_code(seed000())  # day 756 > day 730


# --- seed 000: cycles --------------------------------------------------------------------------------


@pytest.mark.parametrize("n", range(1, 36))
def test_seed_000_cycle_day_one_falls_every_21_days(n):
    cycle = by_code(seed000())[f"CYCLE{n}"]
    assert cycle.name == f"Cycle {n} Day 1"
    assert cycle.target == day(21 * (n - 1))
    assert (cycle.window_start, cycle.window_end) == (cycle.target, day(21 * (n - 1) + 3))


def test_seed_000_has_35_cycles_in_two_years_the_last_on_day_714():
    cycles = of_kind(seed000(), "treatment")
    assert len(cycles) == 35
    assert cycles[-1].code == "CYCLE35"
    assert cycles[-1].target == D(2026, 12, 21)


@pytest.mark.parametrize(
    ("n", "target"),
    [
        (1, D(2025, 1, 6)),
        (2, D(2025, 1, 27)),
        (3, D(2025, 2, 17)),
        (18, D(2025, 12, 29)),
        (35, D(2026, 12, 21)),
    ],
)
def test_seed_000_cycle_dates_on_the_calendar(n, target):
    assert by_code(seed000())[f"CYCLE{n}"].target == target


def test_seed_000_cycle_and_scan_may_fall_on_the_same_day():
    visits = seed000()
    on_day_42 = {v.code for v in visits if v.target == day(42)}
    assert on_day_42 == {"CYCLE3", "IMG6W1"}


def test_seed_000_follow_ups_are_not_planned_before_treatment_ends():
    kinds = {v.kind for v in seed000()}
    assert kinds == {"treatment", "imaging"}


# --- seed 000: screening -----------------------------------------------------------------------------


@pytest.mark.parametrize("enrollment", [D(2025, 1, 6), D(2025, 1, 2), D(2024, 12, 30)])
def test_seed_000_screening_window_is_the_28_days_before_enrollment(enrollment):
    scr = by_code(seed000(enrollment=enrollment))["SCR"]
    assert (scr.target, scr.window_start, scr.window_end) == (
        enrollment,
        enrollment - dt.timedelta(days=28),
        enrollment,
    )


def test_seed_000_screening_is_not_planned_without_enrollment_date():
    assert "SCR" not in by_code(seed000())


# --- seed 000: end of treatment ----------------------------------------------------------------------

LAST_DOSES = [day(0), day(21), day(200), day(400), day(714)]


@pytest.mark.parametrize("last_dose", LAST_DOSES[:-1])
def test_seed_000_safety_follow_up_is_30_days_after_the_last_dose(last_dose):
    sfu = by_code(ended(last_dose, "toxicity"))["SFU"]
    assert sfu.target == last_dose + dt.timedelta(days=30)
    assert (sfu.window_start, sfu.window_end) == (sfu.target, sfu.target + dt.timedelta(days=7))


@pytest.mark.parametrize("last_dose", LAST_DOSES)
def test_seed_000_end_of_treatment_visit_is_on_the_end_date(last_dose):
    eot = by_code(ended(last_dose, "progression"))["EOT"]
    assert (eot.target, eot.window_start, eot.window_end) == (
        last_dose,
        last_dose,
        last_dose + dt.timedelta(days=7),
    )


@pytest.mark.parametrize("last_dose", LAST_DOSES)
def test_seed_000_no_cycle_after_the_last_dose(last_dose):
    cycles = of_kind(ended(last_dose, "toxicity"), "treatment")
    assert all(c.target <= last_dose for c in cycles)
    assert len(cycles) == (last_dose - FIRST_DOSE).days // 21 + 1


def test_seed_000_last_dose_mid_cycle_keeps_the_cycles_already_started():
    codes = {v.code for v in of_kind(ended(day(50), "toxicity"), "treatment")}
    assert codes == {"CYCLE1", "CYCLE2", "CYCLE3"}


@pytest.mark.parametrize("reason", ["toxicity", "withdrawal", "investigator_decision", "completed", "other"])
def test_seed_000_imaging_continues_after_a_non_progression_end_of_treatment(reason):
    scans = of_kind(ended(day(100), reason), "imaging")
    assert [s.code for s in scans] == [row[0] for row in SEED_000_SCANS]


@pytest.mark.parametrize(
    ("last_dose", "expected"),
    [
        (day(41), []),
        (day(42), ["IMG6W1"]),
        (day(100), ["IMG6W1", "IMG6W2"]),
        (day(336), [f"IMG6W{k}" for k in range(1, 9)]),
        (day(500), [f"IMG6W{k}" for k in range(1, 9)] + ["IMG12W1"]),
    ],
)
def test_seed_000_no_imaging_after_an_end_of_treatment_for_progression(last_dose, expected):
    scans = of_kind(ended(last_dose, "progression"), "imaging")
    assert [s.code for s in scans] == expected


def test_seed_000_progression_cut_uses_the_end_of_treatment_date_when_later_than_last_dose():
    visits = seed000(last_dose=day(80), end_of_treatment=day(90), eot_reason="progression")
    assert [s.code for s in of_kind(visits, "imaging")] == ["IMG6W1", "IMG6W2"]  # day 84 <= day 90
    assert [c.target for c in of_kind(visits, "treatment")][-1] == day(63)


@pytest.mark.parametrize(
    ("last_dose", "expected_days"),
    [
        (day(200), [290, 380, 470, 560, 650]),
        (day(0), [90, 180, 270, 360, 450, 540, 630, 720]),
        (day(600), [690]),
        (day(700), []),
    ],
)
def test_seed_000_survival_follow_up_every_90_days_after_last_dose_until_the_horizon(
    last_dose, expected_days
):
    surv = of_kind(ended(last_dose, "toxicity"), "survival_follow_up")
    assert [(s.target - FIRST_DOSE).days for s in surv] == expected_days
    assert [s.name for s in surv] == [f"Survival follow-up {k}" for k in range(1, len(expected_days) + 1)]


def test_seed_000_survival_follow_up_window_is_plus_minus_seven_days():
    surv = by_code(ended(day(200), "toxicity"))["SURV1"]
    assert (surv.window_start, surv.window_end) == (day(283), day(297))


def test_seed_000_safety_follow_up_beyond_the_horizon_is_still_planned():
    # The horizon bounds series; the safety visit 30 days after the last dose is owed regardless.
    visits = by_code(ended(day(714), "completed"))
    assert visits["SFU"].target == day(744)
    assert visits["EOT"].target == day(714)
    assert not [v for v in visits.values() if v.kind == "imaging" and v.target > day(730)]


# --- actual dates ------------------------------------------------------------------------------------


def test_seed_000_delayed_cycle_re_anchors_the_following_cycles():
    visits = by_code(seed000(actual={"CYCLE1": day(0), "CYCLE2": day(21), "CYCLE3": day(49)}))
    assert visits["CYCLE3"].target == day(42)  # its own plan does not move
    assert visits["CYCLE4"].target == day(70)
    assert visits["CYCLE5"].target == day(91)
    assert visits["CYCLE4"].window_end == day(73)


def test_seed_000_two_delays_accumulate():
    visits = by_code(seed000(actual={"CYCLE2": day(24), "CYCLE4": day(70)}))
    assert [visits[f"CYCLE{k}"].target for k in range(1, 6)] == [day(0), day(21), day(45), day(66), day(91)]


def test_seed_000_delayed_cycles_stop_at_two_years():
    visits = seed000(actual={"CYCLE2": day(35)})
    cycles = of_kind(visits, "treatment")
    assert all((c.target - FIRST_DOSE).days <= 729 for c in cycles)
    assert cycles[-1].target == day(35 + 21 * 33)  # day 728
    assert len(cycles) == 35


def test_seed_000_delayed_cycle_does_not_move_the_scans():
    scans = of_kind(seed000(actual={"CYCLE2": day(35)}), "imaging")
    assert [s.target for s in scans] == [row[2] for row in SEED_000_SCANS]


@pytest.mark.parametrize("late_by", [1, 3, 10, 30])
def test_seed_000_late_scan_does_not_shift_later_scans(late_by):
    scans = by_code(seed000(actual={"IMG6W2": day(84 + late_by)}))
    assert scans["IMG6W3"].target == day(126)
    assert scans["IMG6W4"].target == day(168)


def test_early_cycle_brings_the_next_one_forward():
    visits = by_code(seed000(actual={"CYCLE2": day(19)}))
    assert visits["CYCLE3"].target == day(40)


# --- death and horizon -------------------------------------------------------------------------------


@pytest.mark.parametrize("death_day", [10, 42, 100, 300, 500])
def test_seed_000_nothing_is_planned_after_death(death_day):
    visits = ended(day(min(death_day, 90)), "death", death=day(death_day))
    assert visits
    assert all(v.target <= day(death_day) for v in visits)


def test_seed_000_death_before_treatment_end_leaves_only_earlier_visits():
    visits = seed000(death=day(45))
    assert [v.code for v in visits] == ["CYCLE1", "CYCLE2", "CYCLE3", "IMG6W1"]


@pytest.mark.parametrize(
    ("horizon", "last_scan"),
    [
        (day(41), None),
        (day(42), "IMG6W1"),
        (day(300), "IMG6W7"),
        (day(419), "IMG6W8"),
        (day(1000), "IMG12W7"),
    ],
)
def test_explicit_horizon_replaces_the_study_horizon(horizon, last_scan):
    params = ScheduleParams(max_treatment_days=730, horizon_days=730, horizon=horizon)
    visits = plan(SEED_000, SubjectDates(first_dose=FIRST_DOSE), params)
    assert all(v.target <= horizon for v in visits)
    scans = of_kind(visits, "imaging")
    assert (scans[-1].code if scans else None) == last_scan


@pytest.mark.parametrize(("horizon_days", "cycles"), [(0, 1), (20, 1), (21, 2), (400, 20), (730, 35)])
def test_horizon_in_days_counts_from_the_first_dose(horizon_days, cycles):
    visits = plan(SEED_000, SubjectDates(first_dose=FIRST_DOSE), ScheduleParams(730, horizon_days))
    assert len(of_kind(visits, "treatment")) == cycles


def test_unending_series_without_a_horizon_is_refused():
    with pytest.raises(UnboundedScheduleError, match="IMG12W"):
        plan(SEED_000, SubjectDates(first_dose=FIRST_DOSE), ScheduleParams(max_treatment_days=730))


def test_nothing_anchored_on_first_dose_is_planned_without_it():
    assert plan(SEED_000, SubjectDates(enrollment=FIRST_DOSE), SEED_000_PARAMS)[0].code == "SCR"
    assert len(plan(SEED_000, SubjectDates(enrollment=FIRST_DOSE), SEED_000_PARAMS)) == 1


def test_plan_is_sorted_by_target_then_definition_order():
    visits = ended(day(200), "toxicity", enrollment=day(-3))
    keys = [(v.target, v.order) for v in visits]
    assert keys == sorted(keys)
    assert visits[0].code == "SCR"


# --- synthetic definitions ---------------------------------------------------------------------------


def spec(code="V", **kw) -> VisitDefinitionSpec:
    kw.setdefault("name", code)
    kw.setdefault("kind", "treatment")
    return VisitDefinitionSpec(code=code, **kw)


DEFAULT_PARAMS = ScheduleParams(horizon_days=1000)


def run(*specs, params=DEFAULT_PARAMS, **dates) -> list[PlannedVisit]:
    dates.setdefault("first_dose", FIRST_DOSE)
    return plan(list(specs), SubjectDates(**dates), params)


@pytest.mark.parametrize(
    ("interval", "count", "until", "expected"),
    [
        (7, 3, None, [0, 7, 14]),
        (7, 1, None, [0]),
        (7, None, 14, [0, 7, 14]),
        (7, None, 13, [0, 7]),
        (7, None, 0, [0]),
        (10, 5, 25, [0, 10, 20]),
        (10, 2, 100, [0, 10]),
        (28, None, None, [0, 28, 56, 84, 112, 140, 168, 196, 224, 252, 280, 308, 336, 364]),
    ],
)
def test_repeating_definition_expands_until_its_end(interval, count, until, expected):
    visits = run(
        spec(repeat_interval_days=interval, repeat_count=count, repeat_until_day=until),
        params=ScheduleParams(horizon_days=365),
    )
    assert [(v.target - FIRST_DOSE).days for v in visits] == expected


@pytest.mark.parametrize(
    ("anchor", "offset", "expected"),
    [
        ("first_dose", 0, FIRST_DOSE),
        ("first_dose", -7, day(-7)),
        ("consent", 3, D(2024, 12, 4)),
        ("enrollment", -1, D(2024, 12, 31)),
        ("last_dose", 28, day(128)),
        ("end_of_treatment", 7, day(112)),
    ],
)
def test_first_occurrence_is_anchor_plus_offset(anchor, offset, expected):
    visits = run(
        spec(anchor=anchor, offset_days=offset, kind="safety_follow_up"),
        consent=D(2024, 12, 1),
        enrollment=D(2025, 1, 1),
        last_dose=day(100),
        end_of_treatment=day(105),
    )
    assert visits[0].target == expected


@pytest.mark.parametrize("anchor", ["consent", "enrollment", "first_dose", "last_dose", "end_of_treatment"])
def test_visit_with_unknown_anchor_is_not_planned(anchor):
    visits = plan(
        [spec(anchor=anchor, kind="safety_follow_up")], SubjectDates(), ScheduleParams(horizon_days=10)
    )
    assert visits == []


@pytest.mark.parametrize(
    ("before", "after", "start", "end"), [(0, 0, 0, 0), (2, 0, -2, 0), (0, 5, 0, 5), (7, 14, -7, 14)]
)
def test_window_is_inclusive_calendar_days_around_target(before, after, start, end):
    v = run(spec(window_before_days=before, window_after_days=after))[0]
    assert (v.window_start, v.window_end) == (day(start), day(end))
    assert v.contains(day(start)) and v.contains(day(end))
    assert not v.contains(day(start - 1)) and not v.contains(day(end + 1))


@pytest.mark.parametrize(
    ("interval", "before", "after", "windows"),
    [
        # gap 10, overlap: earlier keeps up to the midpoint day 5, later starts day 6
        (10, 6, 6, [(-6, 5), (6, 15), (16, 26)]),
        # gap 7 (odd): earlier keeps day 3, later starts day 4
        (7, 5, 5, [(-5, 3), (4, 10), (11, 19)]),
        # only the side that crosses the midpoint is clipped
        (10, 9, 1, [(-9, 1), (6, 11), (16, 21)]),
        (10, 1, 9, [(-1, 5), (9, 15), (19, 29)]),
        # touching windows are left alone
        (10, 5, 4, [(-5, 4), (5, 14), (15, 24)]),
        # windows that share a day are clipped
        (10, 5, 5, [(-5, 5), (6, 15), (16, 25)]),
    ],
)
def test_overlapping_windows_of_one_series_are_clipped_at_the_midpoint(interval, before, after, windows):
    visits = run(
        spec(
            repeat_interval_days=interval, repeat_count=3, window_before_days=before, window_after_days=after
        )
    )
    got = [((v.window_start - FIRST_DOSE).days, (v.window_end - FIRST_DOSE).days) for v in visits]
    assert got == windows


def test_windows_of_different_series_may_overlap():
    a = spec("A", repeat_interval_days=7, repeat_count=3, window_before_days=3, window_after_days=3)
    b = spec(
        "B", kind="imaging", repeat_interval_days=7, repeat_count=3, window_before_days=3, window_after_days=3
    )
    visits = run(a, b)
    assert [(v.window_start, v.window_end) for v in visits if v.definition == "A"] == [
        (v.window_start, v.window_end) for v in visits if v.definition == "B"
    ]
    assert visits[0].window_end == day(3)


def test_series_switch_drops_earlier_occurrences_from_the_later_definitions_start():
    a = spec("A", series="S", repeat_interval_days=10, repeat_until_day=100)
    b = spec("B", series="S", offset_days=35, repeat_interval_days=20, repeat_count=3)
    visits = run(a, b)
    assert [(v.code, (v.target - FIRST_DOSE).days, v.number) for v in visits] == [
        ("A1", 0, 1),
        ("A2", 10, 2),
        ("A3", 20, 3),
        ("A4", 30, 4),
        ("B1", 35, 5),
        ("B2", 55, 6),
        ("B3", 75, 7),
    ]


@pytest.mark.parametrize(
    ("name", "repeats", "expected"),
    [
        ("Cycle {n}", True, ["Cycle 1", "Cycle 2"]),
        ("Week {n} visit", True, ["Week 1 visit", "Week 2 visit"]),
        ("Weekly visit", True, ["Weekly visit 1", "Weekly visit 2"]),
        ("Baseline", False, ["Baseline"]),
    ],
)
def test_occurrence_names(name, repeats, expected):
    interval = {"repeat_interval_days": 7, "repeat_count": 2} if repeats else {}
    assert [v.name for v in run(spec("W", name=name, **interval))] == expected


def test_occurrence_codes_number_within_the_definition_and_a_one_off_keeps_its_code():
    visits = run(spec("W", repeat_interval_days=7, repeat_count=3), spec("ONE", kind="screening"))
    assert sorted(v.code for v in visits) == ["ONE", "W1", "W2", "W3"]


@pytest.mark.parametrize(("max_days", "count"), [(1, 1), (7, 1), (8, 2), (28, 4), (29, 5)])
def test_treatment_visits_stop_at_max_treatment_days(max_days, count):
    visits = run(
        spec(repeat_interval_days=7, on_end_of_treatment="stop"),
        params=ScheduleParams(max_treatment_days=max_days, horizon_days=100),
    )
    assert len(visits) == count


def test_max_treatment_days_does_not_stop_imaging():
    img = spec("I", kind="imaging", repeat_interval_days=7, on_end_of_treatment="continue_unless_progression")
    visits = run(img, params=ScheduleParams(max_treatment_days=10, horizon_days=70))
    assert len(visits) == 11


@pytest.mark.parametrize(
    ("on_eot", "reason", "expected"),
    [
        ("stop", "toxicity", [0, 10, 20]),
        ("stop", "progression", [0, 10, 20]),
        ("continue_unless_progression", "toxicity", [0, 10, 20, 30, 40, 50]),
        ("continue_unless_progression", "progression", [0, 10, 20]),
        ("continue", "progression", [0, 10, 20, 30, 40, 50]),
        ("continue", "toxicity", [0, 10, 20, 30, 40, 50]),
    ],
)
def test_end_of_treatment_rule_per_definition(on_eot, reason, expected):
    visits = run(
        spec(kind="imaging", repeat_interval_days=10, repeat_count=6, on_end_of_treatment=on_eot),
        last_dose=day(25),
        end_of_treatment=day(25),
        eot_reason=reason,
    )
    assert [(v.target - FIRST_DOSE).days for v in visits] == expected


def test_progression_reason_without_an_end_date_changes_nothing():
    visits = run(
        spec(
            kind="imaging",
            repeat_interval_days=10,
            repeat_count=6,
            on_end_of_treatment="continue_unless_progression",
        ),
        eot_reason="progression",
    )
    assert len(visits) == 6


def test_unscheduled_definitions_are_never_planned():
    assert run(spec("UNS", kind="unscheduled")) == []


# --- validation --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "after", "interval", "reported"),
    [
        (3, 3, 7, False),
        (3, 4, 7, True),
        (0, 20, 21, False),
        (0, 21, 21, True),
        (10, 10, 21, False),
        (10, 11, 21, True),
    ],
)
def test_window_wider_than_its_interval_is_reported(before, after, interval, reported):
    problems = validate_definitions(
        [spec(repeat_interval_days=interval, window_before_days=before, window_after_days=after)]
    )
    assert any("wider than its interval" in p for p in problems) is reported


@pytest.mark.parametrize(
    ("definition", "fragment"),
    [
        (spec(kind="lab"), "unknown kind"),
        (spec(anchor="birth"), "unknown anchor"),
        (spec(repeat_from="last"), "unknown repeat_from"),
        (spec(on_end_of_treatment="pause"), "unknown on_end_of_treatment"),
        (spec(window_before_days=-1), "negative"),
        (spec(repeat_count=3), "without repeat_interval_days"),
        (spec(repeat_interval_days=0), "must be positive"),
        (spec(repeat_interval_days=7, repeat_count=0), "repeat_count must be positive"),
        (spec(offset_days=10, repeat_interval_days=7, repeat_until_day=5), "before offset"),
    ],
)
def test_invalid_definition_is_reported(definition, fragment):
    problems = validate_definitions([definition])
    assert any(fragment in p for p in problems), problems


def test_duplicate_code_is_reported():
    assert any("used twice" in p for p in validate_definitions([spec("A"), spec("A")]))


@pytest.mark.parametrize(
    ("second_offset", "fragment"),
    [(336, "not before"), (300, "not before"), (338, "overlaps the window"), (350, None)],
)
def test_series_definitions_must_follow_each_other(second_offset, fragment):
    a = spec(
        "A", series="S", offset_days=42, repeat_interval_days=42, repeat_until_day=336, window_after_days=3
    )
    b = spec("B", series="S", offset_days=second_offset, repeat_interval_days=84, window_before_days=7)
    problems = validate_definitions([a, b])
    if fragment is None:
        assert problems == []
    else:
        assert any(fragment in p for p in problems), problems


def test_series_of_mixed_kinds_is_reported():
    a = spec("A", series="S", repeat_interval_days=7, repeat_count=2)
    b = spec("B", series="S", kind="imaging", offset_days=30)
    assert any("different kinds" in p for p in validate_definitions([a, b]))


# --- purity ------------------------------------------------------------------------------------------


def test_schedule_module_imports_nothing_from_django():
    tree = ast.parse(Path(schedule.__file__).read_text())
    modules = [
        alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
    ] + [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    assert not [m for m in modules if m.split(".")[0] == "django"]


# --- properties --------------------------------------------------------------------------------------


@st.composite
def definitions(draw):
    """One to three series of one or two definitions with random intervals, windows and ends."""
    specs = []
    kinds = ["treatment", "imaging", "survival_follow_up"]
    for s in range(draw(st.integers(1, 3))):
        offset = draw(st.integers(-10, 60))
        for part in range(draw(st.integers(1, 2))):
            interval = draw(st.integers(1, 120))
            before = draw(st.integers(0, 30))
            after = draw(st.integers(0, 30))
            count = draw(st.none() | st.integers(1, 12))
            until = draw(st.none() | st.integers(offset, offset + 600))
            if part == 0 and count is None and until is None:
                until = offset + draw(st.integers(0, 400))
            specs.append(
                VisitDefinitionSpec(
                    code=f"S{s}P{part}",
                    name="Visit {n}",
                    kind=kinds[s],
                    series=f"S{s}",
                    anchor=draw(st.sampled_from(["first_dose", "enrollment"]))
                    if part == 0
                    else specs[-1].anchor,
                    repeat_from=draw(st.sampled_from(["anchor", "previous_actual"])),
                    offset_days=offset,
                    window_before_days=before,
                    window_after_days=after,
                    repeat_interval_days=interval,
                    repeat_until_day=until,
                    repeat_count=count,
                    on_end_of_treatment=draw(st.sampled_from(schedule.ON_END_OF_TREATMENT)),
                    order=len(specs),
                )
            )
            offset = (schedule._last_offset(specs[-1]) or offset) + draw(st.integers(1, 100))
    return specs


@st.composite
def subject_dates(draw, defs):
    first = D(2025, 1, 1) + dt.timedelta(days=draw(st.integers(0, 365)))
    enrollment = first - dt.timedelta(days=draw(st.integers(0, 14)))
    last = draw(st.none() | st.integers(0, 500).map(lambda n: first + dt.timedelta(days=n)))
    death = draw(st.none() | st.integers(0, 800).map(lambda n: first + dt.timedelta(days=n)))
    actual = {}
    for d in defs:
        for k in range(1, 6):
            if draw(st.booleans()):
                # an early visit is never a whole interval early (else "previous" loses its meaning)
                earliest = -min(d.window_before_days, (d.repeat_interval_days or 1) - 1)
                actual[f"{d.code}{k}"] = draw(st.integers(earliest, 40))
    return first, enrollment, last, death, draw(st.sampled_from(schedule.EOT_REASONS)), actual


def _materialise(defs, params, first, enrollment, last, death, reason, actual_offsets):
    """Actual dates as offsets from each occurrence's target, recorded in visit order.

    Each actual date is placed around the target its predecessors' actual dates produce, as a site
    would record them; a visit dated before its predecessor is a data error outside these properties.
    """
    actual: dict[str, dt.date] = {}
    for code in sorted(actual_offsets, key=lambda c: (c[:4], int(c[4:]))):
        known = SubjectDates(enrollment=enrollment, first_dose=first, actual=dict(actual))
        targets = {v.code: v.target for v in plan(defs, known, params)}
        if code in targets:
            actual[code] = targets[code] + dt.timedelta(days=actual_offsets[code])
    return SubjectDates(
        enrollment=enrollment,
        first_dose=first,
        last_dose=last,
        end_of_treatment=last,
        eot_reason=reason if last else None,
        death=death,
        actual=actual,
    )


def _series(visits):
    out: dict[str, list[PlannedVisit]] = {}
    for v in visits:
        out.setdefault(v.series, []).append(v)
    for members in out.values():
        members.sort(key=lambda v: v.target)
    return out


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]
)
@given(data=st.data())
def test_property_series_targets_increase_and_windows_contain_targets_without_overlap(data):
    defs = data.draw(definitions())
    first, enrollment, last, death, reason, offsets = data.draw(subject_dates(defs))
    params = ScheduleParams(max_treatment_days=data.draw(st.none() | st.integers(1, 800)), horizon_days=700)
    dates = _materialise(defs, params, first, enrollment, last, death, reason, offsets)
    visits = plan(defs, dates, params)

    horizon = first + dt.timedelta(days=700)
    repeating = {d.code for d in defs if d.repeats}
    for v in visits:
        assert v.window_start <= v.target <= v.window_end
        if v.definition in repeating:
            assert v.target <= horizon
        if death:
            assert v.target <= death
    for members in _series(visits).values():
        for a, b in itertools.pairwise(members):
            assert a.target < b.target
            assert a.window_end < b.window_start
            assert a.number < b.number


@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_property_stop_visits_never_follow_the_last_dose(data):
    defs = data.draw(definitions())
    first, enrollment, last, _death, reason, _ = data.draw(subject_dates(defs))
    assume(last is not None)
    dates = SubjectDates(
        enrollment=enrollment, first_dose=first, last_dose=last, end_of_treatment=last, eot_reason=reason
    )
    visits = plan(defs, dates, ScheduleParams(horizon_days=700))
    stop_codes = {d.code for d in defs if d.on_end_of_treatment == "stop" or d.kind == "treatment"}
    assert all(v.target <= last for v in visits if v.definition in stop_codes)
    cup = {d.code for d in defs if d.on_end_of_treatment == "continue_unless_progression"}
    if reason == "progression":
        assert all(v.target <= last for v in visits if v.definition in cup)


@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_property_anchor_schedules_ignore_actual_dates(data):
    defs = [d for d in data.draw(definitions()) if d.repeat_from == "anchor"]
    first, enrollment, *_rest, offsets = data.draw(subject_dates(defs))
    params = ScheduleParams(horizon_days=700)
    base = plan(defs, SubjectDates(enrollment=enrollment, first_dose=first), params)
    dates = _materialise(defs, params, first, enrollment, None, None, None, offsets)
    assert [v.target for v in plan(defs, dates, params)] == [v.target for v in base]
