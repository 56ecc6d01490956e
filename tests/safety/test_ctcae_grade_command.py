"""ctcae_grade: grades a case file, reports bad cases in place, refuses a malformed file."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

EXAMPLES = Path(settings.BASE_DIR) / "docs" / "domain" / "examples" / "ctcae_examples.json"

# The command grades with the terms in the database: the vendored v5.0 list, loaded once.
pytestmark = pytest.mark.usefixtures("ctcae_terms")


def run(path: Path) -> dict:
    out = StringIO()
    call_command("ctcae_grade", str(path), stdout=out)
    return json.loads(out.getvalue())


def run_failing(path: Path) -> tuple[dict | None, list[dict]]:
    """Run a file with bad cases: (what was printed, the errors the command exited with)."""
    out = StringIO()
    with pytest.raises(CommandError) as excinfo:
        call_command("ctcae_grade", str(path), stdout=out)
    printed = json.loads(out.getvalue()) if out.getvalue().strip() else None
    return printed, json.loads(str(excinfo.value))["errors"]


def write(tmp_path: Path, data, name: str = "cases.json") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def test_worked_examples_get_their_expected_grades():
    cases = json.loads(EXAMPLES.read_text())["grading_cases"]
    output = run(EXAMPLES)
    assert set(output) == {c["id"] for c in cases}
    for case in cases:
        assert output[case["id"]]["grade"] == case["expected_grade"], case["id"]


def test_output_cites_the_matched_grade_text():
    output = run(EXAMPLES)
    assert output["EXC1"]["criterion"] == "<3000 - 2000/mm3; <3.0 - 2.0 x 10e9 /L"
    assert output["EXC4"]["grade"] is None
    assert output["EXC4"]["reason"]


def test_a_plain_list_is_accepted(tmp_path):
    path = write(tmp_path, [{"id": "A", "term": "Anemia", "value": "7.5", "unit": "g/dL", "lln": 12}])
    assert run(path)["A"]["grade"] == 3


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ({"term": "Neutrophil count decreased", "value": 1200, "unit": "/mm3", "lln": 2000}, 2),
        ({"term": "Neutrophil count decreased", "value": "1.2", "unit": "10^9/L", "lln": "2.0"}, 2),
        ({"term": "Anemia", "value": 95, "unit": "g/L", "lln": 120}, 2),
        ({"term": "Anemia", "value": "5.5", "unit": "mmol/L", "lln": "7.4"}, 2),
        (
            {
                "term": "Creatinine increased",
                "value": 200,
                "unit": "umol/L",
                "uln": 100,
                "baseline_value": 60,
            },
            3,
        ),
        (
            {
                "term": "Alanine aminotransferase increased",
                "value": 200,
                "unit": "U/L",
                "uln": 40,
                "baseline_value": 80,
            },
            1,
        ),
        (
            {
                "meddra_code": "10020772",
                "systolic": 162,
                "diastolic": 88,
                "population": "adult",
                "previously_normal": True,
            },
            3,
        ),
        ({"term": "Fever", "value": "39.5", "unit": "C"}, 2),
        ({"term": "Febrile neutropenia", "anc": 500, "anc_unit": "/mm3", "temperature_c": "38.5"}, 3),
        ({"term": "Hyperglycemia", "intervention": "insulin"}, 3),
        ({"term": "Nausea"}, None),
    ],
)
def test_cases_in_various_units_are_graded(tmp_path, case, expected):
    path = write(tmp_path, {"grading_cases": [{"id": "X", **case}]})
    assert run(path)["X"]["grade"] == expected


def test_unknown_unit_and_term_are_reported_per_case_and_others_still_graded(tmp_path):
    path = write(
        tmp_path,
        [
            {"id": "BADUNIT", "term": "Neutrophil count decreased", "value": 1, "unit": "G/L", "lln": 2},
            {"id": "BADTERM", "term": "Neutropenia-ish", "value": 1, "unit": "10^9/L"},
            {"id": "BADVALUE", "term": "Anemia", "value": "low", "unit": "g/dL"},
            {"id": "GOOD", "term": "Hyperkalemia", "value": "5.8", "unit": "mmol/L", "uln": "5.1"},
        ],
    )
    output, errors = run_failing(path)
    assert output["BADUNIT"]["grade"] is None
    assert output["BADUNIT"]["errors"][0]["field"] == "unit"
    assert "G/L" in output["BADUNIT"]["errors"][0]["message"]
    assert "G/L" in output["BADUNIT"]["reason"]
    assert output["BADTERM"]["errors"][0]["field"] == "term"
    assert "Neutropenia-ish" in output["BADTERM"]["errors"][0]["message"]
    assert output["BADVALUE"]["errors"][0]["field"] == "value"
    assert output["GOOD"]["grade"] == 2
    # The command exits non-zero with the same errors, naming the file and each case.
    assert [(e["object"], e["field"]) for e in errors] == [
        ("BADUNIT", "unit"),
        ("BADTERM", "term"),
        ("BADVALUE", "value"),
    ]
    assert {e["file"] for e in errors} == {str(path)}


@pytest.mark.parametrize(
    ("content", "located", "message"),
    [
        ("{not json", (None, None), "not valid JSON"),
        ({"cases": []}, (None, None), "grading_cases"),
        ({"grading_cases": {"id": "A"}}, (None, "grading_cases"), "must be a list"),
        ([{"term": "Anemia", "value": 9, "unit": "g/dL"}], ("grading_cases[0]", "id"), "required"),
        ([{"id": "", "term": "Anemia"}], ("grading_cases[0]", "id"), "required"),
        (["just text"], ("grading_cases[0]", "id"), "required"),
        (
            [{"id": "A", "term": "Anemia"}, {"id": "A", "term": "Fever"}],
            ("grading_cases[1]", "id"),
            "duplicate",
        ),
        ([{"id": "A", "term": "Anemia", "valeu": 9}], ("A", "valeu"), "unknown field"),
        ({"grading_cases": [], "extra": 1}, (None, "extra"), "unknown field"),
    ],
)
def test_malformed_file_exits_non_zero_naming_the_file_and_field(tmp_path, content, located, message):
    path = write(tmp_path, content, name="broken.json")
    _, errors = run_failing(path)
    assert [(e["file"], e["object"], e["field"]) for e in errors] == [(str(path), *located)]
    assert message in errors[0]["message"]


def test_missing_file_exits_non_zero(tmp_path):
    printed, errors = run_failing(tmp_path / "absent.json")
    assert printed is None
    assert errors == [
        {
            "file": str(tmp_path / "absent.json"),
            "object": None,
            "field": None,
            "message": "cannot read: No such file or directory",
        }
    ]
