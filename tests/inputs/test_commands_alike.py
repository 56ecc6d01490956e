"""Every command that reads an input file behaves alike: unknown keys refused by name, one error shape,
one wording for bad JSON, exit 1 when any case of a batch is invalid (after printing the others)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.conf import settings
from django.core.management import CommandError, call_command

from tests.studies.conftest import forms_data, study_data

ROOT = Path(settings.BASE_DIR)

RESPONSE_CASE = {
    "id": "R1",
    "protocol": {
        "reference_date": "2024-01-08",
        "confirmation_min_interval_days": 28,
        "min_sd_duration_days": 42,
    },
    "baseline": {
        "date": "2024-01-02",
        "target_lesions": [{"id": "T1", "organ": "lung", "nodal": False, "diameter_mm": 30}],
    },
    "follow_ups": [
        {
            "date": "2024-03-04",
            "target_measurements_mm": {"T1": 20},
            "non_target_status": {},
            "new_lesions": False,
        }
    ],
}
IRECIST_CASE = {
    "id": "I1",
    "protocol": {"reference_date": "2023-02-06", "min_sd_duration_days": 42},
    "baseline": {
        "date": "2023-01-30",
        "target_lesions": [{"id": "T1", "organ": "lung", "nodal": False, "diameter_mm": 50}],
    },
    "follow_ups": [
        {
            "date": "2023-04-03",
            "target_measurements_mm": {"T1": 30},
            "non_target_status": {},
            "new_lesions": [],
        }
    ],
}
MEASURABILITY_CASE = {
    "id": "M1",
    "lesion": {"kind": "non_nodal", "modality": "CT", "slice_thickness_mm": 5, "longest_diameter_mm": 12},
}
GRADING_CASE = {"id": "G1", "term": "Anemia", "value": 9, "unit": "g/dL", "lln": 12}
ELIGIBILITY_CASE = {"id": "E1", "study": "SYN-001", "as_of": "2025-03-15"}


def _with(case: dict[str, Any], path: tuple[str | int, ...], key: str, value: Any) -> dict[str, Any]:
    """A deep copy of the case with one more key at ``path``."""
    case = json.loads(json.dumps(case))
    node: Any = case
    for part in path:
        node = node[part]
    node[key] = value
    return case


@pytest.fixture(autouse=True)
def _stored_ctcae_terms(request: pytest.FixtureRequest) -> None:
    # ctcae_grade grades with the terms in the database (one CTCAE store): load them for its cases.
    if "ctcae_grade" in request.node.name:
        request.getfixturevalue("ctcae_terms")


def run(command: str, path: Path) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """(the printed object, the errors the command exited with: [] when it succeeded)."""
    out = StringIO()
    try:
        call_command(command, str(path), stdout=out)
        errors: list[dict[str, Any]] = []
    except CommandError as exc:
        errors = json.loads(str(exc))["errors"]
    text = out.getvalue()
    return (json.loads(text) if text.strip() else None), errors


def write_json(tmp_path: Path, data: Any, name: str = "cases.json") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


# A misspelt key at every level of every format: the case is refused naming it; the good one is evaluated.
UNKNOWN_KEYS = [
    ("recist_evaluate", "response_cases", RESPONSE_CASE, (), "protocl", "protocl"),
    ("recist_evaluate", "response_cases", RESPONSE_CASE, ("baseline", "target_lesions", 0), "nodul", None),
    ("recist_evaluate", "response_cases", RESPONSE_CASE, ("follow_ups", 0), "new_lesion", None),
    ("recist_evaluate", "measurability_cases", MEASURABILITY_CASE, ("lesion",), "natur", "lesion.natur"),
    ("irecist_evaluate", "cases", IRECIST_CASE, ("protocol",), "iupd_window", "protocol.iupd_window"),
    ("ctcae_grade", "grading_cases", GRADING_CASE, (), "valeu", "valeu"),
    ("eligibility_evaluate", "cases", ELIGIBILITY_CASE, (), "ecgo", "ecgo"),
]


@pytest.mark.parametrize(
    ("command", "section", "case", "where", "key", "field"),
    UNKNOWN_KEYS,
    ids=[f"{c[0]} {'.'.join(map(str, c[3])) or 'case'}.{c[4]}" for c in UNKNOWN_KEYS],
)
def test_every_format_refuses_an_unknown_key_naming_it(
    db, tmp_path, command, section, case, where, key, field
):
    bad = _with({**case, "id": "BAD"}, where, key, 1)
    path = write_json(tmp_path, {section: [bad, case]})
    printed, errors = run(command, path)
    expected_field = field or _path((*where, key))
    bad_errors = [e for e in errors if e["object"] == "BAD"]
    assert [(e["file"], e["field"]) for e in bad_errors] == [(str(path), expected_field)]
    assert bad_errors[0]["message"].startswith("unknown field")
    assert printed["BAD"]["errors"] == bad_errors
    if command != "eligibility_evaluate":  # its good case names a study this test does not load
        assert errors == bad_errors
        assert "errors" not in printed[case["id"]]


def _path(parts: tuple[str | int, ...]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def test_the_unknown_key_message_lists_the_known_ones(tmp_path):
    bad = _with(MEASURABILITY_CASE, ("lesion",), "natur", "simple_cyst")
    _, errors = run("recist_evaluate", write_json(tmp_path, {"measurability_cases": [bad]}))
    assert "nature" in errors[0]["message"] and "modality" in errors[0]["message"]


def test_a_misspelt_lesion_nature_no_longer_reads_as_solid(tmp_path):
    # A 30 mm simple cyst is not a lesion; misspelt, the key used to be dropped and the cyst measured.
    lesion = {"kind": "non_nodal", "modality": "CT", "slice_thickness_mm": 5, "longest_diameter_mm": 30}
    path = write_json(
        tmp_path,
        {
            "measurability_cases": [
                {"id": "SPELT", "lesion": {**lesion, "nature": "simple_cyst"}},
                {"id": "MISSPELT", "lesion": {**lesion, "natrue": "simple_cyst"}},
            ]
        },
    )
    printed, errors = run("recist_evaluate", path)
    assert printed["SPELT"] == {"category": "not_a_lesion"}
    assert "category" not in printed["MISSPELT"]
    assert [e["field"] for e in errors] == ["lesion.natrue"]


@pytest.mark.parametrize(
    ("command", "section", "case"),
    [
        ("recist_evaluate", "response_cases", RESPONSE_CASE),
        ("irecist_evaluate", "cases", IRECIST_CASE),
        ("ctcae_grade", "grading_cases", GRADING_CASE),
        ("eligibility_evaluate", "cases", ELIGIBILITY_CASE),
    ],
)
def test_an_unknown_top_level_key_is_refused_and_the_cases_still_run(db, tmp_path, command, section, case):
    path = write_json(tmp_path, {section: [], "comentary": "x"})
    printed, errors = run(command, path)
    assert printed == {}
    assert [(e["object"], e["field"]) for e in errors] == [(None, "comentary")]


@pytest.mark.parametrize(
    "command", ["recist_evaluate", "irecist_evaluate", "ctcae_grade", "eligibility_evaluate"]
)
def test_bad_json_is_worded_alike_by_every_command(db, tmp_path, command):
    path = write_json(tmp_path, '{"cases": [1,]}')
    printed, errors = run(command, path)
    assert printed is None
    assert errors == [
        {
            "file": str(path),
            "object": None,
            "field": None,
            "message": "not valid JSON: Expecting value (line 1, column 14)",
        }
    ]


def test_annotation_keys_of_worked_examples_are_not_unknown_keys(tmp_path):
    case = {
        **RESPONSE_CASE,
        "title": "PR",
        "tags": ["PR"],
        "expected": {"anything": 1},
        "baseline": {**RESPONSE_CASE["baseline"], "imaging": "CT, 5 mm"},
    }
    path = write_json(tmp_path, {"schema_version": "1.0", "criteria": "RECIST 1.1", "response_cases": [case]})
    printed, errors = run("recist_evaluate", path)
    assert errors == []
    assert printed["R1"]["best_overall_response_no_confirmation"] == "PR"


def test_a_study_day_that_contradicts_the_date_is_refused(tmp_path):
    case = _with(RESPONSE_CASE, ("follow_ups", 0), "study_day_from_reference", 50)  # 2024-03-04 is day 56
    _, errors = run("recist_evaluate", write_json(tmp_path, {"response_cases": [case]}))
    assert [e["field"] for e in errors] == ["follow_ups[0].study_day_from_reference"]
    assert "day 56" in errors[0]["message"]


# --- from the command line ------------------------------------------------------------------------


def _manage(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "edc.settings_test", **(env or {})}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=environment,
    )


def test_a_batch_with_a_bad_case_exits_1_after_printing_every_result(tmp_path):
    bad = _with({**RESPONSE_CASE, "id": "BAD"}, (), "protocl", {})
    path = write_json(tmp_path, {"response_cases": [RESPONSE_CASE, bad]})
    result = _manage("recist_evaluate", str(path))
    assert result.returncode == 1
    printed = json.loads(result.stdout)
    assert printed["R1"]["best_overall_response_no_confirmation"] == "PR"
    # stderr is the JSON document alone, no "CommandError:" prefix and no traceback.
    assert json.loads(result.stderr) == {"errors": printed["BAD"]["errors"]}


def test_a_missing_setting_is_one_line_not_a_traceback():
    env = {
        "DJANGO_SETTINGS_MODULE": "edc.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "",
        "EDC_TESTING": "0",
    }
    result = _manage("check", env=env)
    assert result.returncode != 0
    (line,) = result.stderr.strip().splitlines()
    assert line == (
        "manage.py: DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off "
        "(DJANGO_DEBUG=1 for local development)."
    )


# --- load_studies ---------------------------------------------------------------------------------


def _yaml(tmp_path: Path, name: str, data: Any) -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("target", "mutate", "located"),
    [
        ("study", lambda d: d["study"].update(protocl="x"), ("study", "protocl")),
        (
            "study",
            lambda d: d["visits"][1].update(windw_after_days=3),
            ("visits[1] CYCLE", "windw_after_days"),
        ),
        (
            "study",
            lambda d: d["study"]["ae_collection"].update(strt="consent"),
            ("study.ae_collection", "strt"),
        ),
        (
            "forms",
            lambda d: d["forms"][0]["items"][0].update(unti="kg"),
            ("forms[0] VS.items[0] WEIGHT", "unti"),
        ),
        ("forms", lambda d: d["codelists"][0].update(nmae="x"), ("codelists[0] NY", "nmae")),
    ],
)
def test_load_studies_refuses_an_unknown_key_naming_file_object_and_field(tmp_path, target, mutate, located):
    forms, study = forms_data(), study_data()
    mutate(forms if target == "forms" else study)
    paths = [_yaml(tmp_path, "forms.yaml", forms), _yaml(tmp_path, "study.yaml", study)]
    with pytest.raises(CommandError) as info:
        call_command("load_studies", *map(str, paths), stdout=StringIO())
    bad = paths[0] if target == "forms" else paths[1]
    assert [(e.file, e.object, e.field) for e in info.value.errors] == [(str(bad), *located)]
    assert info.value.errors[0].message.startswith("unknown field (known: ")


@pytest.mark.django_db
def test_load_studies_prints_one_line_per_file_and_details_with_verbosity_2(tmp_path):
    paths = [_yaml(tmp_path, "forms.yaml", forms_data()), _yaml(tmp_path, "study.yaml", study_data())]
    out = StringIO()
    call_command("load_studies", *map(str, paths), stdout=out)
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"{paths[0]}: form registry: loaded (")
    assert lines[1].startswith(f"{paths[1]}: study SYN-001 version 1: loaded (")
    out = StringIO()
    call_command("load_studies", *map(str, paths), stdout=out)
    assert out.getvalue().splitlines() == [
        f"{paths[0]}: form registry: no changes",
        f"{paths[1]}: study SYN-001 version 1: no changes",
    ]
    changed = study_data()
    changed["visits"][2]["window_after_days"] = 5
    _yaml(tmp_path, "study.yaml", changed)
    out = StringIO()
    call_command("load_studies", *map(str, paths), stdout=out, verbosity=2)
    assert out.getvalue().splitlines()[1:] == [
        f"{paths[1]}: study SYN-001 version 2: loaded (0 created, 1 updated)",
        "  changed visit IMG6W: window_after_days",
    ]


@pytest.mark.django_db
def test_assumptions_are_printed_as_readable_utf8(tmp_path):
    data = study_data()
    data["study"]["assumptions"] = {"protocol_id": "注册号未给出：按方案编号"}
    out = StringIO()
    call_command("load_studies", str(_yaml(tmp_path, "study.yaml", data)), "--assumptions", stdout=out)
    assert "注册号未给出：按方案编号" in out.getvalue()
    assert "\\u" not in out.getvalue()


# --- schedule_preview --eot-reason ------------------------------------------------------------------


def _eot_codes() -> list[str]:
    registry = yaml.safe_load((ROOT / "fixtures" / "forms.yaml").read_text(encoding="utf-8"))
    (codelist,) = [c for c in registry["codelists"] if c["code"] == "EOTREAS"]
    return [item["code"] for item in codelist["items"]]


@pytest.fixture
def synthetic_study(db, tmp_path):
    paths = [_yaml(tmp_path, "forms.yaml", forms_data()), _yaml(tmp_path, "study.yaml", study_data())]
    call_command("load_studies", *map(str, paths), stdout=StringIO())


def _imaging_after_eot(reason: str) -> list[str]:
    out = StringIO()
    call_command(
        "schedule_preview",
        "SYN-001",
        "--first-dose",
        "2025-01-06",
        "--last-dose",
        "2025-03-03",
        "--eot-reason",
        reason,
        stdout=out,
    )
    return [
        v["target"]
        for v in json.loads(out.getvalue())["visits"]
        if v["code"].startswith("IMG6W") and v["target"] > "2025-03-03"
    ]


@pytest.mark.parametrize("code", _eot_codes())
def test_schedule_preview_accepts_every_code_of_the_eot_form(synthetic_study, code):
    after = _imaging_after_eot(code)
    # Imaging stops after an end of treatment for progression (PD) and goes on for every other reason.
    assert (after == []) is (code == "PD")


def test_schedule_preview_still_refuses_an_unknown_eot_reason(synthetic_study):
    with pytest.raises(CommandError, match="EOT form code"):
        _imaging_after_eot("BORED")
