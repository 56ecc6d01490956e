"""RECIST 1.1 engine: every row of Tables 1-3, the boundaries, and the lesion conventions."""

import ast
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edc.tumors import recist
from edc.tumors.recist import CR, NE, NON_CR_NON_PD, PD, PR, SD, Measurement

REF = date(2024, 1, 8)
D = Decimal


def target(lesion_id, mm, organ=None, nodal=None):
    nodal = lesion_id.startswith("N") if nodal is None else nodal
    return recist.TargetLesion(lesion_id, organ or ("lymph_node" if nodal else "lung"), nodal, D(mm))


def m(value):
    """Shorthand for a measurement: int, 'TS' (too small), tuple (fragments), 'M:T1', None."""
    if value is None:
        return Measurement.not_assessed()
    if value == "TS":
        return Measurement.too_small()
    if isinstance(value, tuple):
        return Measurement.fragments(*value)
    if isinstance(value, str) and value.startswith("M:"):
        return Measurement.merged(value[2:])
    return Measurement.measured(value)


def run(targets, visits, non_targets=(), confirm_days=28, min_sd=42):
    """targets: {id: mm}; visits: [(day, {id: value}, {nt_id: status}, new_lesions)] or (day, None)."""
    lesions = tuple(target(i, mm) for i, mm in targets.items())
    nts = tuple(recist.NonTargetLesion(n, "bone", False) for n in non_targets)
    follow_ups = []
    for visit in visits:
        day = visit[0]
        if visit[1] is None:
            follow_ups.append(
                recist.FollowUp(REF + timedelta(days=day), assessment_done=False, new_lesions=None)
            )
            continue
        _, measures, statuses, new = visit
        follow_ups.append(
            recist.FollowUp(
                REF + timedelta(days=day),
                target_measurements={k: m(v) for k, v in measures.items()},
                non_target_status=statuses,
                new_lesions=new,
            )
        )
    case = recist.ResponseCase(
        protocol=recist.ResponseProtocol(REF, confirm_days, min_sd),
        baseline_date=REF - timedelta(days=7),
        target_lesions=lesions,
        non_target_lesions=nts,
        follow_ups=tuple(follow_ups),
    )
    return recist.evaluate_response(case)


def responses(result):
    return [tp.overall_response for tp in result.timepoints]


# --- Measurability (A1) ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"kind": "non_nodal", "slice_thickness_mm": D(5), "longest_diameter_mm": D(10)}, "measurable"),
        ({"kind": "non_nodal", "slice_thickness_mm": D(5), "longest_diameter_mm": D(9)}, "non_measurable"),
        ({"kind": "non_nodal", "slice_thickness_mm": D(1), "longest_diameter_mm": D(10)}, "measurable"),
        ({"kind": "non_nodal", "slice_thickness_mm": D(8), "longest_diameter_mm": D(16)}, "measurable"),
        ({"kind": "non_nodal", "slice_thickness_mm": D(8), "longest_diameter_mm": D(15)}, "non_measurable"),
        ({"kind": "non_nodal", "slice_thickness_mm": D(6), "longest_diameter_mm": D(11)}, "non_measurable"),
        (
            {
                "kind": "non_nodal",
                "modality": "MRI",
                "slice_thickness_mm": D(3),
                "longest_diameter_mm": D(10),
            },
            "measurable",
        ),
        ({"kind": "non_nodal", "modality": "clinical_caliper", "longest_diameter_mm": D(10)}, "measurable"),
        (
            {"kind": "non_nodal", "modality": "clinical_caliper", "longest_diameter_mm": D(9)},
            "non_measurable",
        ),
        (
            {
                "kind": "non_nodal",
                "modality": "clinical_caliper",
                "longest_diameter_mm": D(30),
                "caliper_measurable": False,
            },
            "non_measurable",
        ),
        ({"kind": "non_nodal", "modality": "chest_xray", "longest_diameter_mm": D(20)}, "measurable"),
        ({"kind": "non_nodal", "modality": "chest_xray", "longest_diameter_mm": D(19)}, "non_measurable"),
        (
            {
                "kind": "non_nodal",
                "modality": "chest_xray",
                "longest_diameter_mm": D(40),
                "well_defined_in_aerated_lung": False,
            },
            "non_measurable",
        ),
        ({"kind": "non_nodal", "modality": "ultrasound", "longest_diameter_mm": D(40)}, "non_measurable"),
        ({"kind": "nodal", "slice_thickness_mm": D(5), "short_axis_mm": D(15)}, "measurable"),
        ({"kind": "nodal", "slice_thickness_mm": D(5), "short_axis_mm": D(14)}, "non_measurable"),
        ({"kind": "nodal", "slice_thickness_mm": D(5), "short_axis_mm": D(10)}, "non_measurable"),
        ({"kind": "nodal", "slice_thickness_mm": D(5), "short_axis_mm": D(9)}, "non_pathological"),
        (
            {
                "kind": "non_nodal",
                "nature": "simple_cyst",
                "slice_thickness_mm": D(5),
                "longest_diameter_mm": D(30),
            },
            "not_a_lesion",
        ),
        (
            {
                "kind": "non_nodal",
                "nature": "cystic_metastasis",
                "slice_thickness_mm": D(5),
                "longest_diameter_mm": D(12),
            },
            "measurable",
        ),
        (
            {
                "kind": "non_nodal",
                "nature": "lytic_bone_with_soft_tissue",
                "slice_thickness_mm": D(5),
                "longest_diameter_mm": D(12),
            },
            "measurable",
        ),
        (
            {"kind": "non_nodal", "nature": "lytic_bone_without_soft_tissue", "longest_diameter_mm": D(40)},
            "non_measurable",
        ),
        ({"kind": "non_nodal", "nature": "blastic_bone", "longest_diameter_mm": D(40)}, "non_measurable"),
        ({"kind": "non_nodal", "nature": "ascites"}, "non_measurable"),
        ({"kind": "non_nodal", "nature": "pleural_effusion"}, "non_measurable"),
        ({"kind": "non_nodal", "nature": "pericardial_effusion"}, "non_measurable"),
        ({"kind": "non_nodal", "nature": "leptomeningeal"}, "non_measurable"),
        ({"kind": "non_nodal", "nature": "inflammatory_breast"}, "non_measurable"),
        ({"kind": "non_nodal", "nature": "lymphangitic"}, "non_measurable"),
        ({"kind": "non_nodal", "nature": "exam_only_mass"}, "non_measurable"),
        (
            {
                "kind": "non_nodal",
                "slice_thickness_mm": D(5),
                "longest_diameter_mm": D(25),
                "previously_irradiated": True,
            },
            "non_measurable",
        ),
        (
            {
                "kind": "non_nodal",
                "slice_thickness_mm": D(5),
                "longest_diameter_mm": D(25),
                "previously_irradiated": True,
                "progressed_since_local_treatment": True,
            },
            "measurable",
        ),
        ({"kind": "nodal", "short_axis_mm": D(20), "previously_irradiated": True}, "non_measurable"),
    ],
)
def test_lesion_measurability_follows_table_a1(kwargs, expected):
    assert recist.classify_lesion(recist.LesionDescription(**kwargs)) == expected


# --- Target selection (A2) ------------------------------------------------------------------


def proposed(lesion_id, organ, mm, nodal=False, **kw):
    return recist.ProposedTarget(lesion_id, organ, nodal, D(mm), **kw)


@pytest.mark.parametrize(
    ("targets", "valid", "error_part"),
    [
        ([proposed("T1", "lung", 25), proposed("T2", "liver", 30)], True, None),
        ([], True, None),
        (
            [proposed("T1", "lung", 25), proposed("T2", "lung", 20), proposed("T3", "lung", 15)],
            False,
            "organ lung",
        ),
        (
            [
                proposed(f"T{i}", organ, 20)
                for i, organ in enumerate(["lung", "lung", "liver", "liver", "bone"])
            ],
            True,
            None,
        ),
        (
            [
                proposed(f"T{i}", organ, 20)
                for i, organ in enumerate(["lung", "lung", "liver", "liver", "bone", "brain"])
            ],
            False,
            "at most 5",
        ),
        (
            [
                proposed("N1", "lymph_node", 20, True),
                proposed("N2", "lymph_node", 16, True),
                proposed("N3", "lymph_node", 18, True),
            ],
            False,
            "organ lymph_node",
        ),
        # Nodes in different chains still count as one organ.
        (
            [
                proposed("N1", "neck", 20, True),
                proposed("N2", "mediastinum", 16, True),
                proposed("N3", "axilla", 18, True),
            ],
            False,
            "organ lymph_node",
        ),
        (
            [proposed("T1", "left_lung", 20), proposed("T2", "right_lung", 20), proposed("T3", "lung", 20)],
            False,
            "organ lung",
        ),
        ([proposed("T1", "lung", 9)], False, "T1 is non_measurable"),
        ([proposed("N1", "lymph_node", 14, True)], False, "N1 is non_measurable"),
        ([proposed("N1", "lymph_node", 15, True)], True, None),
        ([proposed("T1", "liver", 15, slice_thickness_mm=D(8))], False, "T1 is non_measurable"),
        ([proposed("T1", "lung", 20), proposed("T1", "liver", 20)], False, "used 2 times"),
    ],
)
def test_target_selection_rules(targets, valid, error_part):
    result = recist.validate_target_selection(targets)
    assert result.valid is valid
    if error_part:
        assert any(error_part in e for e in result.errors), result.errors
    else:
        assert result.errors == ()


# --- Target response (A3, A4) --------------------------------------------------------------


@pytest.mark.parametrize(
    ("baseline", "nadir", "values", "expected"),
    [
        ({"T1": 100}, 100, {"T1": 70}, PR),  # exactly -30 %
        ({"T1": 100}, 100, {"T1": 71}, SD),  # -29 %
        ({"T1": 50, "T2": 25}, 75, {"T1": 30, "T2": 22}, PR),  # 52 <= 0.7 x 75 = 52.5
        ({"T1": 50, "T2": 25}, 75, {"T1": 30, "T2": 23}, SD),  # 53 > 52.5
        ({"T1": 30}, 25, {"T1": 30}, PD),  # exactly +20 % and +5 mm over the nadir
        ({"T1": 30}, 20, {"T1": 24}, SD),  # +20 % but only +4 mm
        ({"T1": 60}, 60, {"T1": 64}, SD),  # +4 mm, under 20 %
        ({"T1": 60}, 50, {"T1": 59}, SD),  # +9 mm but +18 %
        ({"T1": 60}, 50, {"T1": 60}, PD),  # +10 mm and +20 %
        ({"T1": 100}, 100, {"T1": 119}, SD),
        ({"T1": 100}, 100, {"T1": 120}, PD),
        ({"T1": 100}, 20, {"T1": 60}, PD),  # 40 % below baseline yet PD against the nadir
        ({"T1": 30, "N1": 20}, 50, {"T1": 0, "N1": 9}, CR),  # node under 10 mm: CR with a sum above 0
        ({"T1": 30, "N1": 20}, 50, {"T1": 0, "N1": 10}, PR),  # node at exactly 10 mm: not CR
        ({"N1": 20, "N2": 15}, 35, {"N1": 9, "N2": 9}, CR),
        ({"N1": 20, "N2": 15}, 35, {"N1": 9, "N2": 10}, PR),
        ({"T1": 30}, 30, {"T1": 0}, CR),
        ({"T1": 30}, 30, {"T1": "TS"}, PR),  # too small counts 5 mm, so not CR
        ({"N1": 20}, 20, {"N1": "TS"}, CR),  # a too-small node is 5 mm, under 10
        ({"T1": 10}, 10, {"T1": "TS"}, PR),  # 5 mm against a 10 mm baseline is -50 %
        ({"T1": 30}, 30, {"T1": 3}, PR),  # measured under 5 mm keeps its value
        ({"T1": 30}, 30, {"T1": (12, 10)}, SD),  # fragments 22 mm: -26.7 %
        ({"T1": 30}, 30, {"T1": (10, 10)}, PR),  # fragments 20 mm: -33.3 %
        ({"T1": 25, "T2": 20}, 45, {"T1": 38, "T2": "M:T1"}, SD),  # merged counts 0
        ({"T1": 25, "T2": 20}, 45, {"T1": 31, "T2": "M:T1"}, PR),
        ({"T1": 30, "T2": 20}, 50, {"T1": 20, "T2": None}, NE),  # a target missing
        ({"T1": 30, "T2": 20}, 50, {"T1": 60, "T2": None}, PD),  # the measured ones already show PD
        ({"T1": 30, "T2": 20}, 50, {"T1": 54, "T2": None}, NE),  # +4 mm measured: not yet PD
        ({"T1": 30, "T2": 20}, 50, {"T1": None, "T2": None}, NE),
    ],
)
def test_target_response_thresholds(baseline, nadir, values, expected):
    targets = [target(i, mm) for i, mm in baseline.items()]
    result = recist.evaluate_targets(
        targets,
        {k: m(v) for k, v in values.items()},
        baseline_sum=sum(D(v) for v in baseline.values()),
        nadir=D(nadir),
    )
    assert result.response == expected


def test_sum_is_null_and_measured_sum_is_kept_when_a_target_is_missing():
    result = recist.evaluate_targets(
        [target("T1", 30), target("T2", 20)],
        {"T1": m(25), "T2": m(None)},
        baseline_sum=D(50),
        nadir=D(50),
    )
    assert (result.response, result.sum_mm, result.measured_sum_mm) == (NE, None, D(25))


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, CR), (9, PD), (1, PD), ("TS", PD)],
)
def test_any_reappearance_after_target_cr_is_pd(value, expected):
    targets = [target("T1", 30)]
    result = recist.evaluate_targets(targets, {"T1": m(value)}, baseline_sum=D(30), nadir=D(0), after_cr=True)
    assert result.response == expected


@pytest.mark.parametrize(("node_mm", "expected"), [(9, CR), (10, PD), (14, PD)])
def test_a_node_reappears_after_cr_only_at_10_mm(node_mm, expected):
    targets = [target("N1", 20), target("T1", 30)]
    result = recist.evaluate_targets(
        targets, {"N1": m(node_mm), "T1": m(0)}, baseline_sum=D(50), nadir=D(8), after_cr=True
    )
    assert result.response == expected


# --- Non-target response (A5) ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([], None),
        (["absent"], CR),
        (["absent", "absent"], CR),
        (["present"], NON_CR_NON_PD),
        (["absent", "present"], NON_CR_NON_PD),
        (["unequivocal_progression"], PD),
        (["present", "unequivocal_progression", "not_evaluated"], PD),
        (["present", "not_evaluated"], NE),
        (["absent", "not_evaluated"], NE),
    ],
)
def test_non_target_response(statuses, expected):
    assert recist.non_target_response(statuses) == expected


# --- Time-point response: Table 1 and Table 2 -----------------------------------------------


@pytest.mark.parametrize(
    ("target", "non_target", "new", "expected"),
    [
        # Table 1, rule 1: a new lesion is PD whatever else
        (CR, CR, True, PD),
        (PR, NON_CR_NON_PD, True, PD),
        (SD, None, True, PD),
        (NE, NE, True, PD),
        # rule 2: target or non-target PD
        (PD, CR, False, PD),
        (PD, None, False, PD),
        (CR, PD, False, PD),
        (PR, PD, False, PD),
        (SD, PD, False, PD),
        (NE, PD, False, PD),
        # rule 3: target NE
        (NE, CR, False, NE),
        (NE, NON_CR_NON_PD, False, NE),
        (NE, None, False, NE),
        # rule 4: CR + CR (or no non-targets)
        (CR, CR, False, CR),
        (CR, None, False, CR),
        # rule 5: CR + non-CR/non-PD or not evaluated
        (CR, NON_CR_NON_PD, False, PR),
        (CR, NE, False, PR),
        # rule 6
        (PR, CR, False, PR),
        (PR, NON_CR_NON_PD, False, PR),
        (PR, NE, False, PR),
        (PR, None, False, PR),
        # rule 7
        (SD, CR, False, SD),
        (SD, NON_CR_NON_PD, False, SD),
        (SD, NE, False, SD),
        (SD, None, False, SD),
        # Table 2: non-target disease only
        (None, CR, True, PD),
        (None, NON_CR_NON_PD, True, PD),
        (None, PD, False, PD),
        (None, NE, False, NE),
        (None, CR, False, CR),
        (None, NON_CR_NON_PD, False, NON_CR_NON_PD),
    ],
)
def test_overall_time_point_response_tables_1_and_2(target, non_target, new, expected):
    assert recist.overall_response(target, non_target, new) == expected


# --- Best overall response (A8, Table 3) ----------------------------------------------------


def series(*points):
    return [(REF + timedelta(days=day), r) for day, r in points]


@pytest.mark.parametrize(
    ("points", "confirmed", "unconfirmed"),
    [
        # Table 3 rows
        (((56, CR), (112, CR)), CR, CR),
        (((56, PR), (112, PR)), PR, PR),
        (((56, PR), (112, CR)), PR, CR),
        (((56, PR), (112, SD)), SD, PR),
        (((56, CR), (112, SD)), SD, CR),
        (((56, CR), (112, PD)), SD, CR),
        (((28, CR), (35, PD)), PD, CR),  # SD minimum (42 days) not met
        (((56, PR), (112, PD)), SD, PR),
        (((28, PR), (35, PD)), PD, PR),
        (((56, CR), (112, NE)), SD, CR),
        (((56, PR), (112, NE)), SD, PR),
        (((28, PR), (35, NE)), NE, PR),
        (((56, NE), (112, NE)), NE, NE),
        # Confirmation interval boundary: 28 days confirms, 27 does not
        (((56, PR), (84, PR)), PR, PR),
        (((56, PR), (83, PR)), SD, PR),
        (((56, CR), (84, CR)), CR, CR),
        (((56, CR), (83, CR)), SD, CR),
        # a too-early repeat does not block a later confirmation
        (((56, PR), (70, PR), (112, PR)), PR, PR),
        # NE in between does not break it, SD does
        (((56, PR), (70, NE), (112, PR)), PR, PR),
        # SD between the PRs breaks the confirmation, and the second PR has no successor
        (((56, PR), (84, SD), (112, PR)), SD, PR),
        # CR then PR: the CR was residual disease, scored PR
        (((56, CR), (112, PR)), PR, CR),
        # Minimum SD duration: met at day 42, not at 41
        (((42, SD),), SD, SD),
        (((41, SD),), NE, NE),
        (((41, SD), (84, PD)), PD, PD),
        (((41, SD), (84, NE)), NE, NE),
        (((41, SD), (84, SD)), SD, SD),
        (((56, SD), (112, PD)), SD, SD),
        (((56, PD),), PD, PD),
        (((56, NE), (112, PD)), PD, PD),
        ((), NE, NE),
        # Time points after the first PD are ignored
        (((56, PD), (112, PR), (168, PR)), PD, PD),
    ],
)
def test_best_overall_response_table_3(points, confirmed, unconfirmed):
    tps = series(*points)
    assert (
        recist.best_overall_response(
            tps, reference_date=REF, min_sd_duration_days=42, confirmation_min_interval_days=28
        )
        == confirmed
    )
    assert recist.best_overall_response(tps, reference_date=REF, min_sd_duration_days=42) == unconfirmed


@pytest.mark.parametrize(
    ("points", "confirmed", "unconfirmed"),
    [
        (((56, NON_CR_NON_PD),), NON_CR_NON_PD, NON_CR_NON_PD),
        (((28, NON_CR_NON_PD),), NE, NE),
        (((28, NON_CR_NON_PD), (56, PD)), PD, PD),
        (((56, CR), (112, CR)), CR, CR),
        (((56, CR), (70, NON_CR_NON_PD)), NON_CR_NON_PD, CR),
    ],
)
def test_best_overall_response_without_targets_uses_non_cr_non_pd(points, confirmed, unconfirmed):
    tps = series(*points)
    kwargs = {"reference_date": REF, "min_sd_duration_days": 42, "has_targets": False}
    assert recist.best_overall_response(tps, confirmation_min_interval_days=28, **kwargs) == confirmed
    assert recist.best_overall_response(tps, **kwargs) == unconfirmed


@pytest.mark.parametrize(("min_sd", "expected"), [(42, SD), (56, SD), (57, NE), (84, NE)])
def test_minimum_sd_duration_is_a_protocol_parameter(min_sd, expected):
    result = run({"T1": 40}, [(56, {"T1": 38}, {}, False)], min_sd=min_sd)
    assert result.best_overall_response_no_confirmation == expected


@pytest.mark.parametrize(("confirm_days", "expected"), [(28, PR), (56, PR), (57, SD)])
def test_confirmation_interval_is_a_protocol_parameter(confirm_days, expected):
    result = run(
        {"T1": 40}, [(56, {"T1": 20}, {}, False), (112, {"T1": 20}, {}, False)], confirm_days=confirm_days
    )
    assert result.best_overall_response_confirmation_required == expected


# --- Whole cases ----------------------------------------------------------------------------


def test_percent_change_rounds_half_up_to_one_decimal():
    assert recist.pct_change(D(1827), D(2000)) == D("-8.7")  # -8.65
    assert recist.pct_change(D(2173), D(2000)) == D("8.7")  # 8.65
    assert recist.pct_change(D(47), D(75)) == D("-37.3")
    assert recist.pct_change(D(40), D(60)) == D("-33.3")
    assert recist.pct_change(D(75), D(75)) == D("0.0")


def test_timepoints_stop_after_the_first_pd():
    result = run(
        {"T1": 30},
        [(42, {"T1": 25}, {}, False), (84, {"T1": 31}, {}, False), (126, {"T1": 20}, {}, False)],
    )
    assert responses(result) == [SD, PD]


def test_nadir_includes_baseline_and_skips_incomplete_sums():
    result = run(
        {"T1": 30, "T2": 20},
        [
            (42, {"T1": 20, "T2": 10}, {}, False),
            (84, {"T1": 5, "T2": None}, {}, False),
            (126, {"T1": 24, "T2": 12}, {}, False),
        ],
    )
    nadirs = [tp.nadir_mm_before_this_assessment for tp in result.timepoints]
    assert nadirs == [D(50), D(30), D(30)]
    assert [tp.sum_of_diameters_mm for tp in result.timepoints] == [D(30), None, D(36)]
    assert [tp.sum_of_measured_targets_mm for tp in result.timepoints] == [D(30), D(5), D(36)]
    assert responses(result) == [PR, NE, PD]  # 36 against the nadir 30: +6 mm and exactly +20 %


def test_split_lesion_is_scored_as_the_sum_of_its_fragments():
    result = run({"T1": 40}, [(56, {"T1": (15, 10)}, {}, False), (112, {"T1": (20, 13)}, {}, False)])
    assert [tp.sum_of_diameters_mm for tp in result.timepoints] == [D(25), D(33)]
    assert responses(result) == [PR, PD]


def test_missing_assessment_is_ne_and_keeps_the_nadir():
    result = run({"T1": 30}, [(56, None), (112, {"T1": 20}, {}, False)], non_targets=("NT1",))
    first = result.timepoints[0]
    assert (first.overall_response, first.target_response, first.non_target_response) == (NE, NE, NE)
    assert first.new_lesions is None
    assert result.timepoints[1].nadir_mm_before_this_assessment == D(30)


def test_non_target_only_patient_is_non_cr_non_pd_and_has_no_sum_fields():
    result = run({}, [(56, {}, {"NT1": "present"}, False)], non_targets=("NT1",))
    assert result.baseline_sum_mm is None
    assert result.timepoints[0].to_dict() == {
        "date": (REF + timedelta(days=56)).isoformat(),
        "target_response": None,
        "non_target_response": NON_CR_NON_PD,
        "new_lesions": False,
        "overall_response": NON_CR_NON_PD,
    }
    assert result.best_overall_response_no_confirmation == NON_CR_NON_PD


@pytest.mark.parametrize(
    ("statuses", "new", "expected"),
    [
        ({"NT1": "absent", "NT2": "absent"}, False, CR),
        ({"NT1": "absent", "NT2": "present"}, False, NON_CR_NON_PD),
        ({"NT1": "unequivocal_progression", "NT2": "present"}, False, PD),
        ({"NT1": "not_evaluated", "NT2": "present"}, False, NE),
        ({"NT1": "absent", "NT2": "absent"}, True, PD),
    ],
)
def test_non_target_only_time_points_follow_table_2(statuses, new, expected):
    result = run({}, [(56, {}, statuses, new)], non_targets=("NT1", "NT2"))
    assert responses(result) == [expected]


def test_equivocal_new_lesion_confirmed_later_dates_pd_from_first_appearance():
    result = run(
        {"T1": 40},
        [
            (42, {"T1": 30}, {}, False),
            (84, {"T1": 26}, {}, "equivocal"),
            (126, {"T1": 26}, {}, "equivocal"),
            (168, {"T1": 26}, {}, True),
        ],
    )
    assert responses(result) == [SD, PD]
    assert result.timepoints[-1].date == REF + timedelta(days=84)
    assert result.timepoints[-1].new_lesions is True


def test_equivocal_new_lesion_that_resolves_is_not_progression():
    result = run(
        {"T1": 40},
        [(42, {"T1": 30}, {}, False), (84, {"T1": 26}, {}, "equivocal"), (126, {"T1": 26}, {}, False)],
    )
    assert responses(result) == [SD, PR, PR]
    assert result.timepoints[1].new_lesions == "equivocal"


def test_equivocal_run_broken_by_a_clear_scan_dates_pd_from_the_confirming_scan():
    result = run(
        {"T1": 40},
        [(42, {"T1": 30}, {}, "equivocal"), (84, {"T1": 30}, {}, False), (126, {"T1": 30}, {}, True)],
    )
    assert responses(result) == [SD, SD, PD]


def test_equivocal_lesion_unconfirmed_at_the_end_stays_equivocal():
    result = run({"T1": 40}, [(56, {"T1": 30}, {}, "equivocal")])
    assert responses(result) == [SD]
    assert result.timepoints[0].to_dict()["new_lesions"] == "equivocal"


def test_complete_response_then_new_lesion_is_pd_and_confirmed_cr_stays_bor():
    result = run(
        {"T1": 30, "N1": 20},
        [
            (56, {"T1": 0, "N1": 8}, {}, False),
            (112, {"T1": 0, "N1": 7}, {}, False),
            (168, {"T1": 0, "N1": 7}, {}, True),
        ],
    )
    assert responses(result) == [CR, CR, PD]
    assert result.best_overall_response_confirmation_required == CR


def test_cr_of_targets_with_persisting_non_target_is_pr():
    result = run({"T1": 30}, [(56, {"T1": 0}, {"NT1": "present"}, False)], non_targets=("NT1",))
    assert responses(result) == [PR]


def test_pd_by_non_target_progression_with_shrinking_targets():
    result = run(
        {"T1": 30},
        [
            (56, {"T1": 20}, {"NT1": "present"}, False),
            (112, {"T1": 15}, {"NT1": "unequivocal_progression"}, False),
        ],
        non_targets=("NT1",),
    )
    assert responses(result) == [PR, PD]
    # Table 3: PR then PD is SD when the SD minimum is met
    assert result.best_overall_response_confirmation_required == SD
    assert result.best_overall_response_no_confirmation == PR


def test_result_dict_has_exactly_the_expected_fields():
    result = run({"T1": 30}, [(56, {"T1": 20}, {}, False)]).to_dict()
    assert set(result) == {
        "baseline_sum_mm",
        "timepoints",
        "best_overall_response_confirmation_required",
        "best_overall_response_no_confirmation",
    }
    assert set(result["timepoints"][0]) == {
        "date",
        "target_response",
        "non_target_response",
        "new_lesions",
        "overall_response",
        "sum_of_diameters_mm",
        "sum_of_measured_targets_mm",
        "pct_change_from_baseline",
        "nadir_mm_before_this_assessment",
    }
    assert result["timepoints"][0]["pct_change_from_baseline"] == -33.3


# --- Properties -----------------------------------------------------------------------------

lengths = st.integers(min_value=10, max_value=120)


@given(
    baseline=st.lists(lengths, min_size=1, max_size=5),
    visits=st.integers(min_value=1, max_value=8),
)
def test_a_sum_that_never_changes_is_never_pr_or_pd(baseline, visits):
    targets = {f"T{i}": mm for i, mm in enumerate(baseline)}
    result = run(targets, [(42 * (k + 1), dict(targets), {}, False) for k in range(visits)])
    assert all(tp.target_response == SD for tp in result.timepoints)
    assert result.best_overall_response_no_confirmation in (SD,)


@given(
    baseline=st.lists(lengths, min_size=1, max_size=5),
    shrink=st.lists(
        st.lists(st.integers(min_value=0, max_value=6), min_size=5, max_size=5), min_size=1, max_size=8
    ),
)
def test_monotone_shrinkage_never_gives_pd_by_targets(baseline, shrink):
    targets = {f"T{i}": mm for i, mm in enumerate(baseline)}
    current = dict(targets)
    visits = []
    for k, steps in enumerate(shrink):
        current = {t: max(0, v - steps[i]) for i, (t, v) in enumerate(current.items())}
        visits.append((42 * (k + 1), dict(current), {}, False))
    result = run(targets, visits)
    assert all(tp.target_response != PD for tp in result.timepoints)
    assert len(result.timepoints) == len(visits)


@given(base=st.integers(min_value=10, max_value=500), current=st.integers(min_value=0, max_value=700))
def test_thresholds_match_exact_integer_arithmetic(base, current):
    result = recist.evaluate_targets(
        [target("T1", base)], {"T1": m(current)}, baseline_sum=D(base), nadir=D(base)
    )
    if current == 0:
        assert result.response == CR
    elif current - base >= 5 and 10 * current >= 12 * base:
        assert result.response == PD
    elif 10 * current <= 7 * base:
        assert result.response == PR
    else:
        assert result.response == SD


# --- Purity ---------------------------------------------------------------------------------


@pytest.mark.parametrize("module", ["recist.py", "irecist.py", "casefiles.py"])
def test_engine_module_imports_nothing_from_django(module):
    source = Path(recist.__file__).with_name(module).read_text()
    imported = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            imported.append(node.module or "")
    assert not [name for name in imported if name.split(".")[0] == "django"]
