"""recist_evaluate and irecist_evaluate: the worked examples, per-case errors, unreadable files."""

import copy
import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "domain" / "examples"
RECIST_EXAMPLES = EXAMPLES / "recist_examples.json"
IRECIST_EXAMPLES = EXAMPLES / "irecist_examples.json"


def run_command(name, path):
    """Run the command; return (parsed stdout, the errors it exited with as "file: object: field" or None)."""
    out = StringIO()
    error = None
    try:
        call_command(name, str(path), stdout=out)
    except CommandError as exc:
        error = "\n".join(
            ": ".join(str(e[k]) for k in ("file", "object", "field", "message") if e[k] is not None)
            for e in json.loads(str(exc))["errors"]
        )
    text = out.getvalue()
    return (json.loads(text) if text.strip() else None), error


def fields(result):
    """The fields a case's printed errors name."""
    return [e["field"] for e in result["errors"]]


def write(tmp_path, data, name="cases.json"):
    path = tmp_path / name
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return path


def examples(path, section):
    # A missing file fails the collection: the worked examples are vendored in docs/domain/examples/.
    return json.loads(path.read_text())[section]


# --- Worked examples -------------------------------------------------------------------------


@pytest.mark.parametrize("case", examples(RECIST_EXAMPLES, "response_cases"), ids=lambda c: c["id"])
def test_recist_response_example_passes_through_the_command(case, tmp_path):
    out, error = run_command("recist_evaluate", write(tmp_path, {"response_cases": [case]}))
    assert error is None
    assert out == {case["id"]: case["expected"]}


def test_recist_example_file_evaluates_every_case_in_one_object():
    out, error = run_command("recist_evaluate", RECIST_EXAMPLES)
    data = json.loads(RECIST_EXAMPLES.read_text())
    assert error is None
    for case in data["response_cases"]:
        assert out[case["id"]] == case["expected"]
    for case in data["measurability_cases"]:
        assert out[case["id"]] == {"category": case["expected_category"]}
    for case in data["target_selection_cases"]:
        assert out[case["id"]]["valid"] is case["expected_valid"]
        assert set(out[case["id"]]) == {"valid", "errors"}


@pytest.mark.parametrize("case", examples(IRECIST_EXAMPLES, "cases"), ids=lambda c: c["id"])
def test_irecist_example_passes_through_the_command(case, tmp_path):
    out, error = run_command("irecist_evaluate", write(tmp_path, {"cases": [case]}))
    assert error is None
    assert out == {case["id"]: case["expected"]}


# --- Our own cases in the file format ----------------------------------------------------------


def response_case(case_id, targets, follow_ups, non_targets=(), **protocol):
    return {
        "id": case_id,
        "protocol": {
            "reference_date": "2024-01-08",
            "confirmation_min_interval_days": protocol.get("confirm", 28),
            "min_sd_duration_days": protocol.get("min_sd", 42),
        },
        "baseline": {
            "date": "2024-01-02",
            "target_lesions": [
                {
                    "id": i,
                    "organ": "lymph_node" if i.startswith("N") else "lung",
                    "nodal": i.startswith("N"),
                    "site": "",
                    "diameter_mm": mm,
                }
                for i, mm in targets.items()
            ],
            "non_target_lesions": [{"id": n, "organ": "bone", "nodal": False} for n in non_targets],
        },
        "follow_ups": [
            {
                "date": d,
                "assessment_done": True,
                "target_measurements_mm": measures,
                "non_target_status": statuses,
                "new_lesions": new,
            }
            for d, measures, statuses, new in follow_ups
        ],
    }


OWN_RESPONSE_CASES = [
    (
        response_case(
            "SPLIT",
            {"T1": 40},
            [
                ("2024-03-04", {"T1": {"fragments_mm": [15, 10]}}, {}, False),
                ("2024-04-29", {"T1": {"fragments_mm": [12, 9]}}, {}, False),
            ],
        ),
        {"sums": [25, 21], "overall": ["PR", "PR"], "bor": ("PR", "PR")},
    ),
    (
        response_case(
            "TOOSMALL",
            {"T1": 30, "N1": 20},
            [
                ("2024-03-04", {"T1": "TOO_SMALL_TO_MEASURE", "N1": "TOO_SMALL_TO_MEASURE"}, {}, False),
                ("2024-04-29", {"T1": 0, "N1": "TOO_SMALL_TO_MEASURE"}, {}, False),
                ("2024-06-24", {"T1": 0, "N1": 9}, {}, False),
            ],
        ),
        {"sums": [10, 5, 9], "overall": ["PR", "CR", "CR"], "bor": ("CR", "CR")},
    ),
    (
        response_case(
            "MISSING",
            {"T1": 30, "T2": 20},
            [
                ("2024-03-04", {"T1": 25, "T2": None}, {}, False),
                ("2024-04-29", {"T1": 70, "T2": None}, {}, False),
            ],
        ),
        {"sums": [None, None], "overall": ["NE", "PD"], "bor": ("PD", "PD")},
    ),
    (
        response_case(
            "EQUIVOCAL",
            {"T1": 40},
            [("2024-03-04", {"T1": 38}, {}, "equivocal"), ("2024-04-29", {"T1": 38}, {}, True)],
        ),
        {"sums": [38], "overall": ["PD"], "bor": ("PD", "PD")},
    ),
    (
        response_case(
            "SDSHORT",
            {"T1": 40},
            [("2024-02-05", {"T1": 38}, {}, False), ("2024-03-04", {"T1": 50}, {}, False)],
        ),
        {"sums": [38, 50], "overall": ["SD", "PD"], "bor": ("PD", "PD")},
    ),
    (
        response_case(
            "CONF27",
            {"T1": 40},
            [("2024-03-04", {"T1": 20}, {}, False), ("2024-03-31", {"T1": 20}, {}, False)],
        ),
        {"sums": [20, 20], "overall": ["PR", "PR"], "bor": ("SD", "PR")},
    ),
    (
        response_case(
            "CONF28",
            {"T1": 40},
            [("2024-03-04", {"T1": 20}, {}, False), ("2024-04-01", {"T1": 20}, {}, False)],
        ),
        {"sums": [20, 20], "overall": ["PR", "PR"], "bor": ("PR", "PR")},
    ),
]


@pytest.mark.parametrize(("case", "want"), OWN_RESPONSE_CASES, ids=lambda v: v.get("id", ""))
def test_recist_command_on_our_own_cases(case, want, tmp_path):
    out, error = run_command("recist_evaluate", write(tmp_path, {"response_cases": [case]}))
    assert error is None
    result = out[case["id"]]
    assert [tp["sum_of_diameters_mm"] for tp in result["timepoints"]] == want["sums"]
    assert [tp["overall_response"] for tp in result["timepoints"]] == want["overall"]
    assert (
        result["best_overall_response_confirmation_required"],
        result["best_overall_response_no_confirmation"],
    ) == want["bor"]


@pytest.mark.parametrize(
    ("lesion", "category"),
    [
        (
            {
                "kind": "nodal",
                "organ": "lymph_node",
                "modality": "CT",
                "slice_thickness_mm": 5,
                "short_axis_mm": 15,
            },
            "measurable",
        ),
        (
            {
                "kind": "nodal",
                "organ": "lymph_node",
                "modality": "CT",
                "slice_thickness_mm": 5,
                "short_axis_mm": 12,
            },
            "non_measurable",
        ),
        (
            {
                "kind": "nodal",
                "organ": "lymph_node",
                "modality": "CT",
                "slice_thickness_mm": 5,
                "short_axis_mm": 8,
            },
            "non_pathological",
        ),
        (
            {"kind": "non_nodal", "organ": "lung", "modality": "chest_xray", "longest_diameter_mm": 20},
            "measurable",
        ),
        (
            {
                "kind": "non_nodal",
                "organ": "liver",
                "modality": "CT",
                "slice_thickness_mm": 5,
                "longest_diameter_mm": 30,
                "nature": "simple_cyst",
            },
            "not_a_lesion",
        ),
        ({"kind": "non_nodal", "organ": "pleura", "nature": "pleural_effusion"}, "non_measurable"),
    ],
)
def test_measurability_command_prints_the_category(lesion, category, tmp_path):
    out, error = run_command(
        "recist_evaluate", write(tmp_path, {"measurability_cases": [{"id": "M", "lesion": lesion}]})
    )
    assert error is None
    assert out == {"M": {"category": category}}


def test_target_selection_command_lists_every_violation(tmp_path):
    targets = [{"id": f"T{i}", "organ": "lung", "nodal": False, "diameter_mm": 20} for i in range(6)]
    targets.append({"id": "N1", "organ": "lymph_node", "nodal": True, "diameter_mm": 12})
    out, error = run_command(
        "recist_evaluate",
        write(tmp_path, {"target_selection_cases": [{"id": "S", "proposed_targets": targets}]}),
    )
    assert error is None
    assert out["S"]["valid"] is False
    assert len(out["S"]["errors"]) == 3  # total, per organ, N1 not measurable


# --- Malformed input ---------------------------------------------------------------------------


def good_case(case_id="GOOD"):
    return response_case(case_id, {"T1": 30}, [("2024-03-04", {"T1": 20}, {}, False)])


def broken(mutate):
    case = copy.deepcopy(
        response_case(
            "BAD",
            {"T1": 30, "T2": 20},
            [("2024-03-04", {"T1": 20, "T2": 10}, {"NT1": "present"}, False)],
            non_targets=("NT1",),
        )
    )
    mutate(case)
    return case


def _set(path, value):
    def mutate(case):
        node = case
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return mutate


def _delete(path):
    def mutate(case):
        node = case
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]

    return mutate


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (_set(["follow_ups", 0, "date"], "2024-13-01"), "follow_ups[0].date"),
        (_set(["follow_ups", 0, "date"], "2023-12-01"), "follow_ups[0].date"),  # before baseline
        (
            _set(["follow_ups", 0, "non_target_status", "NT1"], "growing"),
            "follow_ups[0].non_target_status.NT1",
        ),
        (
            _delete(["follow_ups", 0, "target_measurements_mm", "T2"]),
            "follow_ups[0].target_measurements_mm.T2",
        ),
        (
            _set(["follow_ups", 0, "target_measurements_mm", "T9"], 5),
            "follow_ups[0].target_measurements_mm.T9",
        ),
        (
            _set(["follow_ups", 0, "target_measurements_mm", "T2"], {"merged_into": "T7"}),
            "follow_ups[0].target_measurements_mm.T2.merged_into",
        ),
        (
            _set(["follow_ups", 0, "target_measurements_mm", "T2"], -3),
            "follow_ups[0].target_measurements_mm.T2",
        ),
        (
            _set(["follow_ups", 0, "target_measurements_mm", "T2"], "12 mm"),
            "follow_ups[0].target_measurements_mm.T2",
        ),
        (_set(["follow_ups", 0, "new_lesions"], None), "follow_ups[0].new_lesions"),
        (_set(["follow_ups", 0, "new_lesions"], "maybe"), "follow_ups[0].new_lesions"),
        (_delete(["protocol", "reference_date"]), "protocol.reference_date"),
        (_set(["protocol", "min_sd_duration_days"], "six weeks"), "protocol.min_sd_duration_days"),
        (_set(["baseline", "target_lesions", 1, "id"], "T1"), "baseline.target_lesions[1].id"),
        (_delete(["baseline", "target_lesions", 0, "diameter_mm"]), "baseline.target_lesions[0].diameter_mm"),
        (_set(["baseline", "target_lesions", 0, "nodal"], "no"), "baseline.target_lesions[0].nodal"),
    ],
)
def test_malformed_case_is_reported_and_the_others_are_still_evaluated(mutate, field, tmp_path):
    path = write(tmp_path, {"response_cases": [good_case("A"), broken(mutate), good_case("C")]})
    out, error = run_command("recist_evaluate", path)
    assert out["A"]["best_overall_response_no_confirmation"] == "PR"
    assert out["C"]["best_overall_response_no_confirmation"] == "PR"
    assert fields(out["BAD"]) == [field]
    assert out["BAD"]["errors"][0]["object"] == "BAD"
    assert error == f"{path}: BAD: {field}: {out['BAD']['errors'][0]['message']}"


@pytest.mark.parametrize(
    ("lesion", "field"),
    [
        ({"kind": "nodal", "modality": "PET"}, "lesion.modality"),
        ({"kind": "tumour", "modality": "CT"}, "lesion.kind"),
        ({"kind": "nodal", "modality": "CT", "slice_thickness_mm": 5}, "lesion.short_axis_mm"),
        ({"kind": "non_nodal", "modality": "CT", "longest_diameter_mm": 12}, "lesion.slice_thickness_mm"),
        (
            {"kind": "non_nodal", "modality": "CT", "nature": "granuloma", "longest_diameter_mm": 12},
            "lesion.nature",
        ),
    ],
)
def test_unknown_or_missing_measurability_fields_are_reported_per_case(lesion, field, tmp_path):
    path = write(
        tmp_path,
        {
            "measurability_cases": [
                {"id": "M1", "lesion": lesion},
                {"id": "M2", "lesion": {"kind": "nodal", "short_axis_mm": 16}},
            ]
        },
    )
    out, error = run_command("recist_evaluate", path)
    assert fields(out["M1"]) == [field]
    assert out["M2"] == {"category": "measurable"}
    assert error.startswith(f"{path}: M1: {field}: ")


def test_duplicate_case_ids_are_reported(tmp_path):
    out, error = run_command(
        "recist_evaluate", write(tmp_path, {"response_cases": [good_case("A"), good_case("A")]})
    )
    assert "best_overall_response_no_confirmation" in out["A"]
    assert "duplicate" in out["response_cases[1]"]["errors"][0]["message"]
    assert error is not None


def test_case_without_id_is_named_by_its_position(tmp_path):
    case = good_case()
    del case["id"]
    out, error = run_command("recist_evaluate", write(tmp_path, {"response_cases": [case]}))
    assert fields(out["response_cases[0]"]) == ["id"]
    assert "response_cases[0]: id" in error


@pytest.mark.parametrize("command", ["recist_evaluate", "irecist_evaluate"])
@pytest.mark.parametrize(
    ("content", "message"),
    [("{not json", "not valid JSON"), ("[1, 2]", "JSON object"), ('{"other": []}', "none of the case lists")],
)
def test_unreadable_file_exits_non_zero_naming_the_file(command, content, message, tmp_path):
    path = write(tmp_path, content)
    out, error = run_command(command, path)
    assert out is None
    assert str(path) in error and message in error


@pytest.mark.parametrize("command", ["recist_evaluate", "irecist_evaluate"])
def test_missing_file_exits_non_zero_naming_the_file(command, tmp_path):
    path = tmp_path / "absent.json"
    out, error = run_command(command, path)
    assert out is None
    assert str(path) in error


# --- iRECIST file format -----------------------------------------------------------------------


def irecist_case(case_id, follow_ups):
    return {
        "id": case_id,
        "protocol": {
            "reference_date": "2023-02-06",
            "min_sd_duration_days": 42,
            "iupd_confirmation_window_days": [28, 56],
            "response_confirmation_required": False,
        },
        "baseline": {
            "date": "2023-01-30",
            "target_lesions": [{"id": "T1", "organ": "lung", "nodal": False, "diameter_mm": 50}],
            "non_target_lesions": [{"id": "NT1", "organ": "bone", "nodal": False}],
        },
        "follow_ups": [
            {
                "date": d,
                "assessment_done": True,
                "target_measurements_mm": {"T1": sod},
                "non_target_status": {"NT1": "present"},
                "non_target_increased_since_last": inc,
                "new_lesions": new,
            }
            for d, sod, inc, new in follow_ups
        ],
    }


NLT = {"id": "L1", "organ": "liver", "nodal": False, "category": "NLT", "diameter_mm": 12}


@pytest.mark.parametrize(
    ("follow_ups", "expected", "ibor"),
    [
        ([("2023-04-03", 61, [], []), ("2023-05-15", 67, [], [])], ["iUPD", "iCPD"], "iCPD"),
        ([("2023-04-03", 61, [], []), ("2023-05-15", 63, [], [])], ["iUPD", "iUPD"], "iUPD"),
        ([("2023-04-03", 61, [], []), ("2023-05-15", 61, ["NT1"], [])], ["iUPD", "iCPD"], "iCPD"),
        (
            [("2023-04-03", 45, [], [NLT]), ("2023-05-15", 45, [], [{**NLT, "diameter_mm": 17}])],
            ["iUPD", "iCPD"],
            "iCPD",
        ),
        ([("2023-04-03", 45, [], [NLT]), ("2023-05-15", 30, [], [NLT])], ["iUPD", "iPR"], "iPR"),
    ],
)
def test_irecist_command_on_our_own_cases(follow_ups, expected, ibor, tmp_path):
    out, error = run_command("irecist_evaluate", write(tmp_path, {"cases": [irecist_case("I", follow_ups)]}))
    assert error is None
    assert [tp["overall_response"] for tp in out["I"]["timepoints"]] == expected
    assert out["I"]["best_overall_response_irecist"] == ibor


@pytest.mark.parametrize(
    ("new_lesion", "field"),
    [
        ({"id": "L1", "organ": "liver", "category": "NLX"}, "follow_ups[0].new_lesions[0].category"),
        ({"id": "L1", "organ": "liver", "category": "NLT"}, "follow_ups[0].new_lesions[0].diameter_mm"),
        (
            {"id": "L1", "organ": "liver", "category": "NLNT", "status": "bigger"},
            "follow_ups[0].new_lesions[0].status",
        ),
        (
            {"id": "T1", "organ": "liver", "category": "NLNT", "status": "present"},
            "follow_ups[0].new_lesions[0].id",
        ),
    ],
)
def test_irecist_malformed_new_lesion_is_reported_per_case(new_lesion, field, tmp_path):
    bad = irecist_case("BAD", [("2023-04-03", 61, [], [new_lesion])])
    good = irecist_case("GOOD", [("2023-04-03", 61, [], [])])
    path = write(tmp_path, {"cases": [bad, good]})
    out, error = run_command("irecist_evaluate", path)
    assert fields(out["BAD"]) == [field]
    assert out["GOOD"]["timepoints"][0]["overall_response"] == "iUPD"
    assert error.startswith(f"{path}: BAD: {field}: ")


def test_irecist_unknown_non_target_in_increase_list_is_reported(tmp_path):
    path = write(tmp_path, {"cases": [irecist_case("BAD", [("2023-04-03", 61, ["NT9"], [])])]})
    out, error = run_command("irecist_evaluate", path)
    assert fields(out["BAD"]) == ["follow_ups[0].non_target_increased_since_last[0]"]
    assert error is not None
