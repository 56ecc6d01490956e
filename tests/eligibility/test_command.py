"""`manage.py eligibility_evaluate FILE.json` on the real fixtures of seeds 002 and 004."""

import json
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import transaction

FIXTURES = Path(settings.BASE_DIR) / "fixtures"
SEED_002 = FIXTURES / "studies" / "002_cet_dalp_hnscc.yaml"
SEED_004 = FIXTURES / "studies" / "004_cam_crt_hnscc.yaml"
FORMS = FIXTURES / "forms.yaml"

pytestmark = pytest.mark.django_db

AS_OF = "2025-03-15"


@pytest.fixture(scope="module")
def studies(django_db_setup, django_db_blocker):
    # Loaded once per module inside a transaction that is rolled back at the end: loading the
    # fixtures costs seconds, and every test here only reads them.
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            call_command("load_studies", str(FORMS), str(SEED_002), str(SEED_004), stdout=StringIO())
            yield
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def run(tmp_path, cases, *, fails=False):
    path = tmp_path / "cases.json"
    path.write_text(json.dumps({"cases": cases}), encoding="utf-8")
    out = StringIO()
    if fails:
        with pytest.raises(CommandError) as caught:
            call_command("eligibility_evaluate", str(path), stdout=out)
        return json.loads(out.getvalue()), caught.value.errors
    call_command("eligibility_evaluate", str(path), stdout=out)
    return json.loads(out.getvalue())


def status_of(result, kind, number):
    return next(c for c in result["criteria"] if c["kind"] == kind and c["number"] == number)


def case_004(case_id="c", **changes):
    case = {
        "id": case_id,
        "study": "NCT06170697",
        "as_of": AS_OF,
        "subject": {"birth_year": 1970, "sex": "M"},
        "ecog": 1,
        "dates": {"surgery": "2024-10-01", "recurrence": "2025-02-01"},
        "confirm_unstructured": True,
    }
    case.update(changes)
    return case


GOOD_002_LABS = [
    {"test": "HGB", "value": 120, "unit": "g/L", "date": "2025-03-10"},
    {"test": "WBC", "value": 5.0, "unit": "10^9/L", "date": "2025-03-10"},
    {"test": "PLAT", "value": 200, "unit": "10^9/L", "date": "2025-03-10"},
    {"test": "BILI", "value": 10, "unit": "umol/L", "uln": 20, "date": "2025-03-10"},
    {"test": "AST", "value": 30, "unit": "U/L", "uln": 40, "date": "2025-03-10"},
    {"test": "ALT", "value": 30, "unit": "U/L", "uln": 40, "date": "2025-03-10"},
    {"test": "CREAT", "value": 0.9, "unit": "mg/dL", "uln": 1.2, "date": "2025-03-10"},
    {"test": "BUN", "value": 150, "unit": "mg/L", "date": "2025-03-10"},
    {"test": "UPROT", "value": "negative", "date": "2025-03-10"},
]


def case_002(case_id="c", labs=None, replace=None, **changes):
    labs = [dict(item) for item in (labs if labs is not None else GOOD_002_LABS)]
    for item in labs:
        item.update((replace or {}).get(item["test"], {}))
    case = {
        "id": case_id,
        "study": "CET-DALP-HNSCC",
        "as_of": AS_OF,
        "subject": {"birth_year": 1965, "sex": "M"},
        "ecog": 0,
        "vitals": {"weight_kg": 80, "height_cm": 175},
        "labs": labs,
        "dates": {"prior_pd1_first_dose": "2024-06-01", "prior_pd1_last_dose": "2025-02-01"},
        "confirm_unstructured": True,
    }
    case.update(changes)
    return case


SEED_004_TABLE = [
    ({}, "eligible"),
    ({"ecog": 2}, "ineligible"),
    ({"ecog": None}, "needs_review"),
    ({"subject": {"birth_year": 1954, "sex": "M"}}, "needs_review"),  # 70-71 straddles 70
    ({"subject": {"birth_year": 1953, "sex": "M"}}, "ineligible"),
    ({"dates": {"surgery": "2024-06-01", "recurrence": "2024-12-01"}}, "ineligible"),  # 183 days
    ({"dates": {"surgery": "2024-06-01", "recurrence": "2024-11-30"}}, "eligible"),  # 182 days
    ({"dates": {"recurrence": "2024-11-30"}}, "ineligible"),  # no surgery on record
    (
        {
            "dates": {
                "surgery": "2024-10-01",
                "recurrence": "2025-02-01",
                "prior_pd1_first_dose": "2024-01-01",
            }
        },
        "ineligible",
    ),
    (
        {
            "dates": {
                "surgery": "2024-10-01",
                "recurrence": "2025-02-01",
                "last_live_vaccine": "2025-03-01",
            }
        },
        "ineligible",
    ),
    ({"subject": {"birth_year": 1970, "sex": "F"}}, "needs_review"),  # no pregnancy test
    (
        {
            "subject": {"birth_year": 1970, "sex": "F"},
            "pregnancy_test": {"date": "2025-03-10", "result": "negative"},
        },
        "eligible",
    ),
    (
        {
            "subject": {"birth_year": 1970, "sex": "F"},
            "pregnancy_test": {"date": "2025-03-07", "result": "negative"},
        },
        "needs_review",
    ),  # 8 days before
    (
        {
            "subject": {"birth_year": 1970, "sex": "F"},
            "pregnancy_test": {"date": "2025-03-10", "result": "positive"},
        },
        "ineligible",
    ),
    ({"confirm_unstructured": False}, "needs_review"),
    ({"confirmations": {"E1": "met"}}, "ineligible"),
    ({"confirmations": {"I12": "not_met"}}, "ineligible"),
    ({"confirmations": {"I12": "met", "E13": "not_met"}}, "eligible"),
]


def test_seed_004_outcomes_at_and_around_each_boundary(studies, tmp_path):
    # One command run for the whole table: loading the fixtures costs more than evaluating.
    cases = [case_004(f"row{i}", **changes) for i, (changes, _) in enumerate(SEED_004_TABLE)]
    out = run(tmp_path, cases)
    got = {f"row{i}: {changes}": out[f"row{i}"]["outcome"] for i, (changes, _) in enumerate(SEED_004_TABLE)}
    assert got == {f"row{i}: {changes}": outcome for i, (changes, outcome) in enumerate(SEED_004_TABLE)}


def test_seed_004_lists_its_14_inclusions_and_14_exclusions_in_order(studies, tmp_path):
    result = run(tmp_path, [case_004()])["c"]
    numbers = [(c["kind"], c["number"]) for c in result["criteria"]]
    assert numbers == [("inclusion", str(n)) for n in range(1, 15)] + [
        ("exclusion", str(n)) for n in range(1, 15)
    ]
    assert set(result["criteria"][0]) == {"number", "kind", "status", "reason"}


def test_seed_004_recurrence_reason_names_the_dates(studies, tmp_path):
    result = run(tmp_path, [case_004(dates={"surgery": "2024-06-01", "recurrence": "2024-12-01"})])["c"]
    criterion = status_of(result, "inclusion", "6")
    assert criterion["status"] == "not_met"
    assert "183 days" in criterion["reason"]


SEED_002_TABLE = [
    ({}, "eligible"),
    ({"replace": {"ALT": {"value": 61}}}, "ineligible"),  # 1.525 x ULN
    ({"replace": {"ALT": {"value": 60}}}, "eligible"),  # exactly 1.5 x ULN
    ({"replace": {"HGB": {"value": 9.9, "unit": "g/dL"}}}, "ineligible"),
    ({"replace": {"HGB": {"value": 10, "unit": "g/dL"}}}, "eligible"),
    ({"replace": {"HGB": {"date": "2025-02-28"}}}, "needs_review"),  # 15 days before
    ({"replace": {"HGB": {"date": "2025-03-01"}}}, "eligible"),  # 14 days before
    ({"replace": {"WBC": {"value": 3500, "unit": "/mm3"}}}, "needs_review"),  # neutrophils unknown
    ({"replace": {"PLAT": {"value": 99000, "unit": "/uL"}}}, "ineligible"),
    ({"replace": {"BUN": {"value": 20.1, "unit": "mg/dL"}}}, "ineligible"),
    ({"replace": {"BUN": {"value": 20, "unit": "mg/dL"}}}, "eligible"),
    ({"replace": {"UPROT": {"value": "2+"}}}, "ineligible"),
    # creatinine 1.6 x ULN; Cockcroft-Gault at 59-60 years, 80 kg: 55.6-56.3 mL/min
    ({"replace": {"CREAT": {"value": 1.6, "uln": 1.0}}}, "ineligible"),
    # ... and at 100 kg: 69.4-70.3 mL/min
    ({"replace": {"CREAT": {"value": 1.6, "uln": 1.0}}, "vitals": {"weight_kg": 100}}, "eligible"),
    (
        {
            "replace": {"CREAT": {"value": 141, "unit": "umol/L", "uln": 100}},
            "vitals": {"weight_kg": 100},
        },
        "eligible",
    ),
    (
        {"dates": {"prior_pd1_first_dose": "2024-06-01", "prior_pd1_last_dose": "2025-02-20"}},
        "ineligible",
    ),
    ({"dates": {}}, "ineligible"),  # no prior PD-1 therapy
    ({"subject": {"birth_year": 2007, "sex": "M"}}, "needs_review"),
]


def test_seed_002_outcomes_at_and_around_each_boundary(studies, tmp_path):
    cases = [case_002(f"row{i}", **changes) for i, (changes, _) in enumerate(SEED_002_TABLE)]
    out = run(tmp_path, cases)
    got = {f"row{i}: {changes}": out[f"row{i}"]["outcome"] for i, (changes, _) in enumerate(SEED_002_TABLE)}
    assert got == {f"row{i}: {changes}": outcome for i, (changes, outcome) in enumerate(SEED_002_TABLE)}


def test_seed_002_alt_reason_shows_the_multiple_of_uln(studies, tmp_path):
    result = run(tmp_path, [case_002(replace={"ALT": {"value": 65}})])["c"]
    liver = next(c for c in result["criteria"] if c["status"] == "not_met")
    assert "ALT 65 U/L on 2025-03-10 = 1.63 × ULN 40; limit ≤ 1.5 × ULN" in liver["reason"]


def test_unknown_lab_unit_is_reported_in_the_case_and_needs_review(studies, tmp_path):
    result = run(tmp_path, [case_002(replace={"HGB": {"unit": "g/dl/x"}})])["c"]
    assert result["outcome"] == "needs_review"
    assert any("g/dl/x" in w for w in result["warnings"])
    assert any("g/dl/x" in c["reason"] for c in result["criteria"] if c["status"] == "needs_review")


def test_registry_id_protocol_id_and_primary_key_all_find_the_study(studies, tmp_path):
    from studies.models import Study

    pk = Study.objects.get(registry_id="NCT06170697").pk
    out = run(tmp_path, [case_004("a"), case_004("b", study=str(pk)), case_002("c")])
    assert out["a"]["outcome"] == out["b"]["outcome"] == "eligible"
    assert out["c"]["outcome"] == "eligible"


def test_bad_cases_are_reported_and_the_others_still_evaluated(studies, tmp_path):
    cases = [
        case_004("good"),
        case_004("nostudy", study="NCT00000000"),
        case_004("badecog", ecog="one"),
        case_004("ambiguous", confirmations={"3": "met"}),
        case_004("unknownkey", confirmations={"I99": "met"}),
        case_004("good2", ecog=2),
    ]
    out, errors = run(tmp_path, cases, fails=True)
    assert out["good"]["outcome"] == "eligible"
    assert out["good2"]["outcome"] == "ineligible"
    path = str(tmp_path / "cases.json")
    assert out["badecog"] == {
        "errors": [
            {
                "file": path,
                "object": "badecog",
                "field": "ecog",
                "message": "must be a whole number 0-5, not 'one'",
            }
        ]
    }
    assert [e["field"] for e in out["nostudy"]["errors"]] == ["study"]
    assert "No study with protocol id" in out["nostudy"]["errors"][0]["message"]
    assert "ambiguous" in out["ambiguous"]["errors"][0]["message"]
    assert [e["field"] for e in out["unknownkey"]["errors"]] == ["confirmations.I99"]
    # The errors the command exits with are the printed ones, in file order.
    assert [(e.object, e.field) for e in errors] == [
        ("nostudy", "study"),
        ("badecog", "ecog"),
        ("ambiguous", "confirmations.3"),
        ("unknownkey", "confirmations.I99"),
    ]
    assert {e.file for e in errors} == {path}


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("{not json", "not valid JSON"),
        ('{"patients": []}', "cases"),
    ],
)
def test_unreadable_file_exits_non_zero_naming_the_file(tmp_path, content, fragment):
    path = tmp_path / "broken.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CommandError, match=fragment) as caught:
        call_command("eligibility_evaluate", str(path), stdout=StringIO())
    assert "broken.json" in str(caught.value)


def test_missing_file_exits_non_zero(tmp_path):
    with pytest.raises(CommandError, match=r"missing\.json"):
        call_command("eligibility_evaluate", str(tmp_path / "missing.json"), stdout=StringIO())
