"""endpoints_evaluate: the worked examples exactly, strict input with located errors, exit 1 on a bad case."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from edc.inputs.commands import InvalidInput

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "docs" / "domain" / "examples" / "endpoints_examples.json"


def examples() -> list[dict]:
    return json.loads(EXAMPLES.read_text(encoding="utf-8"))["cases"]


def run(path: Path) -> dict:
    out = StringIO()
    call_command("endpoints_evaluate", str(path), stdout=out)
    return json.loads(out.getvalue())


def run_failing(path: Path) -> tuple[dict | None, list[dict]]:
    out = StringIO()
    with pytest.raises(InvalidInput) as excinfo:
        call_command("endpoints_evaluate", str(path), stdout=out)
    printed = json.loads(out.getvalue()) if out.getvalue().strip() else None
    return printed, [e.as_dict() for e in excinfo.value.errors]


def write(tmp_path: Path, data, name: str = "cases.json") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def a_case(**changes) -> dict:
    case = copy.deepcopy(examples()[0])
    case.update(changes)
    return case


def errors_of(printed: dict, case_id: str) -> list[tuple[str | None, str]]:
    return [(e["field"], e["message"]) for e in printed[case_id]["errors"]]


# --- the worked examples ------------------------------------------------------------------------------


def test_the_example_file_reproduces_every_expected_object_exactly():
    assert run(EXAMPLES) == {case["id"]: case["expected"] for case in examples()}


@pytest.mark.parametrize("case", examples(), ids=lambda c: c["id"])
def test_each_worked_example_alone_gives_its_expected_object(case, tmp_path):
    assert run(write(tmp_path, {"cases": [case]})) == {case["id"]: case["expected"]}


def test_subjects_outside_the_analysis_set_change_nothing(tmp_path):
    case = examples()[1]
    kept = [s for s in case["subjects"] if s["in_analysis_set"]]
    assert len(kept) == len(case["subjects"]) - 2
    assert run(write(tmp_path, {"cases": [{**case, "subjects": kept}]}))[case["id"]] == case["expected"]


def test_on_the_command_line_a_bad_case_exits_1_after_printing_every_result(tmp_path):
    good, bad = examples()[0], a_case(id="BAD", confidence_level=2)
    path = write(tmp_path, {"cases": [good, bad]})
    result = subprocess.run(
        [sys.executable, "manage.py", "endpoints_evaluate", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "DJANGO_DEBUG": "1", "EDC_TESTING": "1"},
    )
    assert result.returncode == 1
    printed = json.loads(result.stdout)
    assert printed["EPX1"] == good["expected"]
    assert [e["field"] for e in printed["BAD"]["errors"]] == ["confidence_level"]
    assert json.loads(result.stderr)["errors"] == printed["BAD"]["errors"]


# --- strict input ---------------------------------------------------------------------------------


def test_an_unknown_key_is_refused_by_name_at_every_level(tmp_path):
    case = a_case(id="BAD", confidence=0.9)
    case["subjects"][0]["progresion_date"] = "2024-01-01"
    _, errors = run_failing(write(tmp_path, {"cases": [case], "extra": 1}))
    fields = [e["field"] for e in errors]
    assert fields[0] == "extra"
    assert "confidence" in fields
    assert "subjects[0].progresion_date" in fields
    message = next(e["message"] for e in errors if e["field"] == "confidence")
    assert message.startswith("unknown field (known: confidence_level, id, landmarks_days, subjects")


def test_one_bad_case_is_reported_in_place_and_the_others_still_run(tmp_path):
    good, bad = examples()[0], a_case(id="BAD")
    bad["subjects"][2]["death_date"] = "2023-13-40"
    printed, errors = run_failing(write(tmp_path, {"cases": [good, bad]}))
    assert printed[good["id"]] == good["expected"]
    assert errors_of(printed, "BAD") == [
        ("subjects[2].death_date", "must be a date YYYY-MM-DD, got '2023-13-40'")
    ]
    assert errors[0] == {
        "file": str(tmp_path / "cases.json"),
        "object": "BAD",
        "field": "subjects[2].death_date",
        "message": "must be a date YYYY-MM-DD, got '2023-13-40'",
    }


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"best_response": "iCR"}, "best_response", "'iCR' is not one of CR, PR, SD, NON_CR_NON_PD, PD, NE"),
        ({"in_analysis_set": "yes"}, "in_analysis_set", "expected true or false, got 'yes'"),
        (
            {"progression_date": "2023-01-01"},
            "progression_date",
            "2023-01-01 is before anchor_date 2023-09-04",
        ),
        ({"first_response_date": None}, "first_response_date", "required for a best response of PR"),
        (
            {"death_date": "2025-01-01"},
            "last_adequate_assessment_date",
            "2025-12-19 is after death_date 2025-01-01",
        ),
        (
            {"new_anticancer_therapy_date": "2025-06-01"},
            "last_adequate_assessment_date",
            "2025-12-19 is after new_anticancer_therapy_date 2025-06-01: PFS is censored at the last "
            "adequate assessment on or before the therapy start; give that assessment's date",
        ),
        (
            {"subgroups": {"PDL1": 1}},
            "subgroups.PDL1",
            "expected the subgroup's value as non-empty text, got 1",
        ),
        ({"last_known_alive_date": None}, "last_known_alive_date", "required when there is no death_date"),
        (
            {"progression_date": "2023-10-01"},
            "first_response_date",
            "2023-10-13 is after progression_date 2023-10-01",
        ),
    ],
)
def test_a_subject_the_rules_cannot_use_is_refused_naming_the_field(tmp_path, change, field, message):
    case = a_case(id="BAD")
    case["subjects"][0].update(change)
    printed, _ = run_failing(write(tmp_path, {"cases": [case]}))
    assert errors_of(printed, "BAD") == [(f"subjects[0].{field}", message)]


def test_a_first_response_on_a_non_responder_is_a_contradiction(tmp_path):
    case = a_case(id="BAD")
    case["subjects"][1]["first_response_date"] = "2023-11-01"  # X-002 is SD
    printed, _ = run_failing(write(tmp_path, {"cases": [case]}))
    assert errors_of(printed, "BAD") == [
        ("subjects[1].first_response_date", "must be null: the best response is SD, not CR or PR")
    ]


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"confidence_level": 95}, "confidence_level", "must be between 0 and 1 (0.95 for 95 %), got 95"),
        # Text that is no number at all was a 500 on the API tool (found by schemathesis).
        (
            {"confidence_level": "ninety"},
            "confidence_level",
            "expected a number between 0 and 1, got 'ninety'",
        ),
        ({"landmarks_days": [730, 730]}, "landmarks_days[1]", "day 730 is listed twice"),
        (
            {"landmarks_days": [-1]},
            "landmarks_days[0]",
            "expected a whole number of days (0 or more), got -1",
        ),
        ({"subjects": "all"}, "subjects", "expected a list, got 'all'"),
    ],
)
def test_case_level_fields_are_checked(tmp_path, change, field, message):
    printed, _ = run_failing(write(tmp_path, {"cases": [a_case(id="BAD", **change)]}))
    assert errors_of(printed, "BAD") == [(field, message)]


def test_a_repeated_subject_id_is_refused(tmp_path):
    case = a_case(id="BAD")
    case["subjects"][3]["id"] = case["subjects"][0]["id"]
    printed, _ = run_failing(write(tmp_path, {"cases": [case]}))
    assert errors_of(printed, "BAD") == [("subjects[3].id", "duplicate subject id 'X-001'")]


def test_optional_keys_may_be_left_out(tmp_path):
    case = a_case(id="MIN")
    del case["confidence_level"], case["landmarks_days"]
    for s in case["subjects"]:
        for key in [k for k, v in s.items() if v is None] + ["subgroups"]:
            del s[key]
    out = run(write(tmp_path, {"cases": [case]}))["MIN"]
    expected = examples()[0]["expected"]
    assert out["orr"] == expected["orr"]  # the default confidence level is 0.95
    assert out["pfs"]["landmarks"] == {}
    assert out["orr_by_subgroup"] == {}


def test_a_file_without_cases_or_not_json_fails_naming_the_file(tmp_path):
    with pytest.raises(InvalidInput) as excinfo:
        call_command("endpoints_evaluate", str(write(tmp_path, "{not json")), stdout=StringIO())
    (error,) = excinfo.value.errors
    assert (error.object, error.field) == (None, None)
    assert error.message.startswith("not valid JSON")
    with pytest.raises(InvalidInput) as excinfo:
        call_command("endpoints_evaluate", str(write(tmp_path, {"response_cases": []})), stdout=StringIO())
    assert excinfo.value.errors[0].message == "has none of the case lists cases"
