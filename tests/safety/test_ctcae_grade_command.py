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
    output = run(path)
    assert output["BADUNIT"]["grade"] is None
    assert "G/L" in output["BADUNIT"]["error"]
    assert "Neutropenia-ish" in output["BADTERM"]["error"]
    assert "value" in output["BADVALUE"]["error"]
    assert output["GOOD"]["grade"] == 2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ({"cases": []}, "grading_cases"),
        ({"grading_cases": {"id": "A"}}, "grading_cases"),
        ([{"term": "Anemia", "value": 9, "unit": "g/dL"}], "'id'"),
        ([{"id": "", "term": "Anemia"}], "'id'"),
        (["just text"], "case #1"),
        ([{"id": "A", "term": "Anemia"}, {"id": "A", "term": "Fever"}], "repeats"),
    ],
)
def test_malformed_file_exits_non_zero_naming_the_file_and_field(tmp_path, content, message):
    path = write(tmp_path, content, name="broken.json")
    with pytest.raises(CommandError) as excinfo:
        run(path)
    assert "broken.json" in str(excinfo.value)
    assert message in str(excinfo.value)


def test_missing_file_exits_non_zero(tmp_path):
    with pytest.raises(CommandError, match=r"absent\.json"):
        run(tmp_path / "absent.json")
