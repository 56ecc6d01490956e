"""schedule_preview against the real trial fixtures (seed 000 is CAM-BEV-CAP-HNSCC)."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction

ROOT = Path(__file__).resolve().parents[2]
STUDY = "CAM-BEV-CAP-HNSCC"
FIRST_DOSE = dt.date(2025, 1, 6)
KINDS = {"screening", "treatment", "imaging", "end_of_treatment", "safety_follow_up", "survival_follow_up"}

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module", autouse=True)
def studies_loaded(django_db_setup, django_db_blocker):
    """Load the fixtures once for the module (2 s a load), in a transaction rolled back at the end."""
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("load_studies", stdout=io.StringIO())
        yield
        transaction.set_rollback(True)


def day(n: int) -> str:
    return (FIRST_DOSE + dt.timedelta(days=n)).isoformat()


def preview(*args: str, study: str = STUDY) -> list[dict]:
    out = io.StringIO()
    call_command("schedule_preview", study, "--first-dose", FIRST_DOSE.isoformat(), *args, stdout=out)
    return json.loads(out.getvalue())["visits"]


def by_code(visits: list[dict]) -> dict[str, dict]:
    return {v["code"]: v for v in visits}


def codes_of(visits: list[dict], kind: str) -> list[str]:
    return [v["code"] for v in visits if v["kind"] == kind]


SCANS = [
    ("IMG6W1", "Imaging 1", "2025-02-17", "2025-02-14", "2025-02-20"),
    ("IMG6W2", "Imaging 2", "2025-03-31", "2025-03-28", "2025-04-03"),
    ("IMG6W3", "Imaging 3", "2025-05-12", "2025-05-09", "2025-05-15"),
    ("IMG6W4", "Imaging 4", "2025-06-23", "2025-06-20", "2025-06-26"),
    ("IMG6W5", "Imaging 5", "2025-08-04", "2025-08-01", "2025-08-07"),
    ("IMG6W6", "Imaging 6", "2025-09-15", "2025-09-12", "2025-09-18"),
    ("IMG6W7", "Imaging 7", "2025-10-27", "2025-10-24", "2025-10-30"),
    ("IMG6W8", "Imaging 8", "2025-12-08", "2025-12-05", "2025-12-11"),
    ("IMG12W1", "Imaging 9", "2026-03-02", "2026-02-23", "2026-03-09"),
    ("IMG12W2", "Imaging 10", "2026-05-25", "2026-05-18", "2026-06-01"),
    ("IMG12W3", "Imaging 11", "2026-08-17", "2026-08-10", "2026-08-24"),
    ("IMG12W4", "Imaging 12", "2026-11-09", "2026-11-02", "2026-11-16"),
]


def test_preview_json_has_exactly_the_contract_keys():
    visits = preview()
    assert visits
    assert all(list(v) == ["code", "name", "kind", "target", "window_start", "window_end"] for v in visits)
    assert {v["kind"] for v in visits} <= KINDS


@pytest.mark.parametrize(("code", "name", "target", "start", "end"), SCANS)
def test_preview_seed_000_scan_target_and_window(code, name, target, start, end):
    scan = by_code(preview())[code]
    assert (scan["name"], scan["kind"], scan["target"], scan["window_start"], scan["window_end"]) == (
        name,
        "imaging",
        target,
        start,
        end,
    )


def test_preview_seed_000_plans_twelve_scans_in_two_years():
    assert codes_of(preview(), "imaging") == [row[0] for row in SCANS]


@pytest.mark.parametrize("n", [1, 2, 3, 10, 17, 18, 34, 35])
def test_preview_seed_000_cycle_day_one_every_21_days(n):
    cycle = by_code(preview())[f"CYCLE{n}"]
    assert cycle["name"] == f"Cycle {n} Day 1"
    assert (cycle["target"], cycle["window_start"], cycle["window_end"]) == (
        day(21 * (n - 1)),
        day(21 * (n - 1)),
        day(21 * (n - 1) + 3),
    )


def test_preview_seed_000_has_35_cycles_and_none_after_two_years():
    assert len(codes_of(preview(), "treatment")) == 35


def test_preview_visits_are_sorted_by_target():
    targets = [v["target"] for v in preview()]
    assert targets == sorted(targets)


def test_preview_without_last_dose_plans_no_end_of_treatment_or_follow_up():
    kinds = {v["kind"] for v in preview()}
    assert kinds == {"treatment", "imaging"}


@pytest.mark.parametrize(("last_dose", "sfu"), [(0, 30), (21, 51), (200, 230), (600, 630)])
def test_preview_safety_follow_up_30_days_after_last_dose(last_dose, sfu):
    visits = by_code(preview("--last-dose", day(last_dose), "--eot-reason", "toxicity"))
    assert (visits["SFU"]["target"], visits["SFU"]["window_end"]) == (day(sfu), day(sfu + 7))
    assert visits["EOT"]["target"] == day(last_dose)  # end of treatment = last dose


def test_preview_last_dose_stops_cycles():
    visits = preview("--last-dose", day(200))
    assert codes_of(visits, "treatment")[-1] == "CYCLE10"  # day 189


@pytest.mark.parametrize("reason", [None, "toxicity", "withdrawal", "completed", "other"])
def test_preview_imaging_continues_after_non_progression_end(reason):
    args = ["--last-dose", day(100)] + (["--eot-reason", reason] if reason else [])
    assert codes_of(preview(*args), "imaging") == [row[0] for row in SCANS]


@pytest.mark.parametrize(
    ("last_dose", "scans"), [(41, []), (100, ["IMG6W1", "IMG6W2"]), (420, [r[0] for r in SCANS[:9]])]
)
def test_preview_no_imaging_after_end_for_progression(last_dose, scans):
    visits = preview("--last-dose", day(last_dose), "--eot-reason", "progression")
    assert codes_of(visits, "imaging") == scans
    assert "SFU" in by_code(visits)


def test_preview_survival_follow_up_every_90_days():
    visits = preview("--last-dose", day(200), "--eot-reason", "toxicity")
    assert [v["target"] for v in visits if v["kind"] == "survival_follow_up"] == [
        day(n) for n in (290, 380, 470, 560, 650)
    ]


def test_preview_screening_needs_enrollment():
    assert "SCR" not in by_code(preview())
    scr = by_code(preview("--enrollment", day(-2)))["SCR"]
    assert (scr["window_start"], scr["target"], scr["window_end"]) == (day(-30), day(-2), day(-2))


@pytest.mark.parametrize(("until", "last_scan"), [(100, "IMG6W2"), (420, "IMG12W1"), (1000, "IMG12W7")])
def test_preview_until_sets_the_horizon(until, last_scan):
    visits = preview("--until", day(until))
    assert all(v["target"] <= day(until) for v in visits)
    assert codes_of(visits, "imaging")[-1] == last_scan


def test_preview_delayed_cycle_re_anchors_the_next_ones():
    visits = by_code(preview("--actual", f"CYCLE3={day(49)}"))
    assert (visits["CYCLE3"]["target"], visits["CYCLE4"]["target"], visits["CYCLE5"]["target"]) == (
        day(42),
        day(70),
        day(91),
    )
    assert visits["IMG6W2"]["target"] == day(84)


def test_preview_late_scan_does_not_move_the_next():
    assert by_code(preview("--actual", f"IMG6W1={day(47)}"))["IMG6W2"]["target"] == day(84)


def test_preview_nothing_after_death():
    visits = preview("--death", day(45))
    assert [v["code"] for v in visits] == ["CYCLE1", "CYCLE2", "CYCLE3", "IMG6W1"]


def test_preview_study_by_primary_key():
    from studies.models import Study

    pk = Study.objects.get(protocol_id=STUDY).pk
    assert preview(study=str(pk)) == preview()


def test_preview_table_lists_every_visit_aligned():
    out = io.StringIO()
    call_command(
        "schedule_preview", STUDY, "--first-dose", FIRST_DOSE.isoformat(), "--format", "table", stdout=out
    )
    lines = out.getvalue().splitlines()
    assert lines[0].split() == ["code", "name", "kind", "target", "day", "window"]
    row = next(line for line in lines if line.startswith("IMG12W1 "))
    assert "Imaging 9" in row and "2026-03-02" in row and "2026-02-23 .. 2026-03-09" in row
    assert lines[-1] == "47 visits"
    column = lines[0].index("target")
    assert all(dt.date.fromisoformat(line[column : column + 10]) for line in lines[2:-1])


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["NO-SUCH-STUDY", "--first-dose", "2025-01-06"], "STUDY"),
        ([STUDY, "--first-dose", "2025-13-01"], "--first-dose"),
        ([STUDY, "--first-dose", "06/01/2025"], "--first-dose"),
        ([STUDY, "--first-dose", "2025-01-06", "--last-dose", "tomorrow"], "--last-dose"),
        ([STUDY, "--first-dose", "2025-01-06", "--last-dose", "2024-12-31"], "--last-dose"),
        ([STUDY, "--first-dose", "2025-01-06", "--enrollment", "2025-02-30"], "--enrollment"),
        ([STUDY, "--first-dose", "2025-01-06", "--consent", "x"], "--consent"),
        ([STUDY, "--first-dose", "2025-01-06", "--until", "2025-1-6"], "--until"),
        ([STUDY, "--first-dose", "2025-01-06", "--death", "2024-01-01"], "--death"),
        (
            [STUDY, "--first-dose", "2025-01-06", "--last-dose", "2025-03-01", "--eot-reason", "bored"],
            "--eot-reason",
        ),
        ([STUDY, "--first-dose", "2025-01-06", "--eot-reason", "toxicity"], "--eot-reason"),
        ([STUDY, "--first-dose", "2025-01-06", "--actual", "CYCLE2"], "--actual"),
        ([STUDY, "--first-dose", "2025-01-06", "--actual", "CYCLE2=soon"], "--actual CYCLE2"),
        ([STUDY], "--first-dose"),
    ],
)
def test_preview_bad_argument_exits_with_a_message_naming_it(args, named):
    with pytest.raises(CommandError) as excinfo:
        call_command("schedule_preview", *args, stdout=io.StringIO())
    assert named in str(excinfo.value)


def test_seed_000_fixture_visits_match_the_contract_table():
    from edc.visits.selectors import study_lookup, study_schedule_params, study_visit_specs
    from tests.domain.test_schedule import SEED_000

    study = study_lookup(STUDY)
    fields = ["code", "name", "kind", "series", "anchor", "repeat_from", "offset_days", "window_before_days"]
    fields += ["window_after_days", "repeat_interval_days", "repeat_until_day", "repeat_count"]
    fields += ["on_end_of_treatment"]
    got = [tuple(getattr(s, f) for f in fields) for s in study_visit_specs(study)]
    assert got == [tuple(getattr(s, f) for f in fields) for s in SEED_000]
    params = study_schedule_params(study)
    assert (params.max_treatment_days, params.horizon_days) == (730, 730)


def test_every_loaded_study_has_valid_visit_definitions():
    from edc.visits.schedule import validate_definitions
    from edc.visits.selectors import study_visit_specs
    from studies.models import Study

    problems = {s.protocol_id: validate_definitions(study_visit_specs(s)) for s in Study.objects.all()}
    assert problems and not any(problems.values()), problems


# --- one visit per day: seed 002's weekly cetuximab and 28-day cycles, and every study ----------

S002 = "CET-DALP-HNSCC"
ALL_STUDIES = ["CAM-BEV-CAP-HNSCC", "CADO-LDRT-HNSCC", S002, "CAM-APA-NPC", "CAM-CRT-HNSCC"]


def treatment_days(visits: list[dict]) -> list[str]:
    return [v["target"] for v in visits if v["kind"] == "treatment"]


def cycle_starts(visits: list[dict], actual: dict[str, str]) -> dict[str, str]:
    return {v["code"]: actual.get(v["code"], v["target"]) for v in visits if v["code"].startswith("CYCLE")}


def test_seed_002_plans_one_visit_on_each_day_a_cycle_starts():
    # "administered once weekly" with "a 28-day treatment cycle": the fixture's note says the infusion
    # of a cycle's first week is recorded at the cycle visit, so no weekly visit on a cycle's day.
    visits = preview(study=S002)
    for code, start in cycle_starts(visits, {}).items():
        assert [v["code"] for v in visits if v["target"] == start and v["kind"] == "treatment"] == [code]
    assert len(treatment_days(visits)) == len(set(treatment_days(visits)))


def test_seed_002_cetuximab_visits_are_days_8_15_22_of_each_cycle():
    visits = by_code(preview(study=S002))
    first = visits["CETW1D8"]
    assert first["name"] == "Cycle 1 Day 8 cetuximab"
    assert first["target"] == day(7)  # day 8, the first dose being day 1
    assert [visits[f"CETW2D{d}"]["target"] for d in (8, 15, 22)] == [day(35), day(42), day(49)]
    assert "CETW1D1" not in visits


def test_seed_002_after_a_delayed_cycle_the_weekly_infusions_follow_it_and_share_no_day():
    actual = {"CYCLE2": day(33)}  # cycle 2 given 5 days late
    visits = preview("--actual", f"CYCLE2={actual['CYCLE2']}", study=S002)
    found = by_code(visits)
    assert [found[f"CETW2D{d}"]["target"] for d in (8, 15, 22)] == [day(40), day(47), day(54)]
    assert found["CYCLE3"]["target"] == day(61)
    starts = cycle_starts(visits, actual)
    others = [v for v in visits if v["kind"] == "treatment" and not v["code"].startswith("CYCLE")]
    assert not {v["target"] for v in others} & set(starts.values())
    assert len(treatment_days(visits)) == len(set(treatment_days(visits)))


def test_seed_002_table_shows_one_row_per_cycle_start_day():
    out = io.StringIO()
    call_command(
        "schedule_preview",
        S002,
        "--first-dose",
        FIRST_DOSE.isoformat(),
        "--until",
        day(60),
        "--actual",
        f"CYCLE2={day(30)}",
        "--format",
        "table",
        stdout=out,
    )
    rows = [line.split() for line in out.getvalue().splitlines()[2:-1]]
    treatment = [row for row in rows if row[-6] == "treatment"]  # ... kind target day start .. end
    assert len({row[-5] for row in treatment}) == len(treatment)
    assert [row[0] for row in treatment][:6] == [
        "CYCLE1",
        "CETW1D8",
        "CETW1D15",
        "CETW1D22",
        "CYCLE2",
        "CETW2D8",
    ]


@pytest.mark.parametrize("study", ALL_STUDIES)
@pytest.mark.parametrize("delay", [0, 3])
def test_no_study_plans_two_treatment_visits_on_one_day(study, delay):
    plain = preview(study=study)
    actual = {
        "CYCLE2": (dt.date.fromisoformat(by_code(plain)["CYCLE2"]["target"]) + dt.timedelta(days=delay))
    }
    visits = preview("--actual", f"CYCLE2={actual['CYCLE2'].isoformat()}", study=study) if delay else plain
    days = treatment_days(visits)
    assert len(days) == len(set(days)), sorted(d for d in days if days.count(d) > 1)
    if delay:
        assert actual["CYCLE2"].isoformat() not in [
            v["target"] for v in visits if v["kind"] == "treatment" and v["code"] != "CYCLE2"
        ]
