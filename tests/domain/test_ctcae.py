"""CTCAE v5.0 grading (edc/safety/ctcae.py): every grade boundary, just inside and just outside."""

from __future__ import annotations

import ast
import re
from decimal import Decimal
from pathlib import Path

import pytest

from edc.safety import ctcae
from edc.safety.ctcae import (
    NOT_ENCODED,
    CtcaeError,
    CtcaeFileError,
    Dictionary,
    grade,
    grade_case,
    parse_ctcae_csv,
)
from edc.safety.reference import VENDORED_CSV


def _csv_text() -> str:
    # The vendored copy (edc/safety/data/ctcae/); the engine itself is handed the parsed terms.
    return VENDORED_CSV["5.0"].read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def dictionary() -> Dictionary:
    return Dictionary(parse_ctcae_csv(_csv_text(), source="CTCAE_v5.0_clean_copy.csv"), version="5.0")


def graded(dictionary: Dictionary, **case) -> int | None:
    return grade_case(case, dictionary).grade


# --------------------------------------------------------------------------- count terms

ANC = "Neutrophil count decreased"
PLT = "Platelet count decreased"
WBC = "White blood cell decreased"
LYM = "Lymphocyte count decreased"


@pytest.mark.parametrize(
    ("term", "value", "unit", "lln", "expected"),
    [
        # neutrophils: <LLN-1500; <1500-1000; <1000-500; <500 (/mm3)
        (ANC, 1800, "/mm3", 2000, 1),
        (ANC, 2000, "/mm3", 2000, None),
        (ANC, 1500, "/mm3", 2000, 1),
        (ANC, 1499, "/mm3", 2000, 2),
        (ANC, 1000, "/mm3", 2000, 2),
        (ANC, 999, "/mm3", 2000, 3),
        (ANC, 500, "/mm3", 2000, 3),
        (ANC, 499, "/mm3", 2000, 4),
        (ANC, 0, "/mm3", 2000, 4),
        (ANC, "1.5", "10^9/L", "2.0", 1),
        (ANC, "1.49", "10^9/L", "2.0", 2),
        (ANC, "0.5", "x10^9/L", "2.0", 3),
        (ANC, "0.49", "10e9/L", "2.0", 4),
        (ANC, 1499, "/uL", 2000, 2),
        (ANC, "1.0", "10^3/uL", "2.0", 2),
        # platelets: <LLN-75,000; <75,000-50,000; <50,000-25,000; <25,000
        (PLT, 100000, "/mm3", 150000, 1),
        (PLT, 150000, "/mm3", 150000, None),
        (PLT, 75000, "/mm3", 150000, 1),
        (PLT, 74999, "/mm3", 150000, 2),
        (PLT, 50000, "/mm3", 150000, 2),
        (PLT, 49999, "/mm3", 150000, 3),
        (PLT, 25000, "/mm3", 150000, 3),
        (PLT, 24999, "/mm3", 150000, 4),
        (PLT, "75.0", "10^9/L", 150, 1),
        (PLT, "74.9", "10^9/L", 150, 2),
        (PLT, "24.9", "10^9/L", 150, 4),
        # white cells: <LLN-3000; <3000-2000; <2000-1000; <1000
        (WBC, 3500, "/mm3", 4000, 1),
        (WBC, 4000, "/mm3", 4000, None),
        (WBC, 3000, "/mm3", 4000, 1),
        (WBC, 2999, "/mm3", 4000, 2),
        (WBC, 2000, "/mm3", 4000, 2),
        (WBC, 1999, "/mm3", 4000, 3),
        (WBC, 1000, "/mm3", 4000, 3),
        (WBC, 999, "/mm3", 4000, 4),
        (WBC, "2.5", "10^9/L", "4.0", 2),
        # lymphocytes: <LLN-800; <800-500; <500-200; <200
        (LYM, 900, "/mm3", 1000, 1),
        (LYM, 1000, "/mm3", 1000, None),
        (LYM, 800, "/mm3", 1000, 1),
        (LYM, 799, "/mm3", 1000, 2),
        (LYM, 500, "/mm3", 1000, 2),
        (LYM, 499, "/mm3", 1000, 3),
        (LYM, 200, "/mm3", 1000, 3),
        (LYM, 199, "/mm3", 1000, 4),
        (LYM, "0.8", "10^9/L", "1.0", 1),
        (LYM, "0.79", "10^9/L", "1.0", 2),
    ],
)
def test_count_decreased_grades_at_each_boundary(dictionary, term, value, unit, lln, expected):
    assert graded(dictionary, term=term, value=value, unit=unit, lln=lln) == expected


def test_lln_in_another_unit_from_the_threshold_is_converted_with_the_value(dictionary):
    # LLN is in the value's unit (/mm3); thresholds are in 10^9/L.
    assert graded(dictionary, term=ANC, value=1700, unit="/mm3", lln=1800) == 1


def test_grade_one_range_without_lln_cannot_be_decided(dictionary):
    result = grade_case({"term": ANC, "value": 1600, "unit": "/mm3"}, dictionary)
    assert result.grade is None
    assert "LLN needed" in result.reason


def test_grade_two_and_higher_need_no_lln(dictionary):
    assert graded(dictionary, term=ANC, value=1200, unit="/mm3") == 2


def test_neutrophil_count_never_produces_grade_five(dictionary):
    result = grade_case(
        {"term": ANC, "value": 0, "unit": "/mm3", "lln": 2000, "life_threatening": True}, dictionary
    )
    assert result.grade == 4
    assert dictionary.by_term[ANC].allowed_grades() == (1, 2, 3, 4)


def test_criterion_cites_the_matched_ctcae_text(dictionary):
    result = grade_case({"term": ANC, "value": 1200, "unit": "/mm3", "lln": 2000}, dictionary)
    assert result.criterion == "<1500 - 1000/mm3; <1.5 - 1.0 x 10e9 /L"


# --------------------------------------------------------------------------- anemia


@pytest.mark.parametrize(
    ("value", "unit", "lln", "extra", "expected"),
    [
        ("11.0", "g/dL", "12.0", {}, 1),
        ("12.0", "g/dL", "12.0", {}, None),
        ("10.0", "g/dL", "12.0", {}, 1),
        ("9.9", "g/dL", "12.0", {}, 2),
        ("8.0", "g/dL", "12.0", {}, 2),
        ("7.9", "g/dL", "12.0", {}, 3),
        (100, "g/L", 120, {}, 1),
        (99, "g/L", 120, {}, 2),
        (80, "g/L", 120, {}, 2),
        (79, "g/L", 120, {}, 3),
        ("6.2", "mmol/L", "7.4", {}, 1),
        ("6.1", "mmol/L", "7.4", {}, 2),
        ("4.9", "mmol/L", "7.4", {}, 2),
        ("4.8", "mmol/L", "7.4", {}, 3),
        ("9.5", "g/dL", "12.0", {"transfusion_given": True}, 3),
        ("7.5", "g/dL", "12.0", {"life_threatening": True}, 4),
    ],
)
def test_anemia_grades_in_each_unit_ctcae_gives(dictionary, value, unit, lln, extra, expected):
    assert graded(dictionary, term="Anemia", value=value, unit=unit, lln=lln, **extra) == expected


def test_anemia_in_grams_per_litre_is_compared_with_the_gram_threshold_not_a_rounded_molar_one(dictionary):
    result = grade_case({"term": "Anemia", "value": 100, "unit": "g/L", "lln": 120}, dictionary)
    assert result.grade == 1
    assert result.criterion.startswith("Hemoglobin (Hgb) <LLN - 10.0 g/dL")


# --------------------------------------------------------------------------- liver tests

ALT = "Alanine aminotransferase increased"
AST = "Aspartate aminotransferase increased"
ALP = "Alkaline phosphatase increased"
GGT = "GGT increased"
BILI = "Blood bilirubin increased"


@pytest.mark.parametrize(
    ("term", "value", "uln", "baseline", "expected"),
    [
        # normal baseline: >ULN-3.0; >3.0-5.0; >5.0-20.0; >20.0 x ULN
        (ALT, 40, 40, 20, None),
        (ALT, 41, 40, 20, 1),
        (ALT, 120, 40, 20, 1),
        (ALT, 121, 40, 20, 2),
        (ALT, 200, 40, 20, 2),
        (ALT, 201, 40, 20, 3),
        (ALT, 800, 40, 20, 3),
        (ALT, 801, 40, 20, 4),
        (AST, 121, 40, None, 2),
        (AST, 801, 40, 35, 4),
        # abnormal baseline: 1.5-3.0; >3.0-5.0; >5.0-20.0; >20.0 x baseline
        (ALT, 89, 40, 60, None),
        (ALT, 90, 40, 60, 1),
        (ALT, 180, 40, 60, 1),
        (ALT, 181, 40, 60, 2),
        (ALT, 300, 40, 60, 2),
        (ALT, 301, 40, 60, 3),
        (ALT, 1200, 40, 60, 3),
        (ALT, 1201, 40, 60, 4),
        (AST, 100, 40, 80, None),
        (AST, 120, 40, 80, 1),
        # ALP, normal baseline: >ULN-2.5; >2.5-5.0; >5.0-20.0; >20.0 x ULN
        (ALP, 100, 100, 80, None),
        (ALP, 250, 100, 80, 1),
        (ALP, 251, 100, 80, 2),
        (ALP, 500, 100, 80, 2),
        (ALP, 501, 100, 80, 3),
        (ALP, 2000, 100, 80, 3),
        (ALP, 2001, 100, 80, 4),
        # ALP, abnormal baseline: 2.0-2.5; >2.5-5.0; >5.0-20.0; >20.0 x baseline
        (ALP, 399, 100, 200, None),
        (ALP, 400, 100, 200, 1),
        (ALP, 500, 100, 200, 1),
        (ALP, 501, 100, 200, 2),
        (ALP, 1001, 100, 200, 3),
        (ALP, 4001, 100, 200, 4),
        # GGT
        (GGT, 150, 50, 40, 2),
        (GGT, 125, 50, 40, 1),
        (GGT, 126, 50, 40, 2),
        (GGT, 250, 50, 40, 2),
        (GGT, 251, 50, 40, 3),
        (GGT, 1001, 50, 40, 4),
        (GGT, 150, 50, 100, None),
        (GGT, 200, 50, 100, 1),
        (GGT, 251, 50, 100, 2),
    ],
)
def test_liver_enzymes_grade_by_uln_or_by_abnormal_baseline(dictionary, term, value, uln, baseline, expected):
    case = {"term": term, "value": value, "unit": "U/L", "uln": uln}
    if baseline is not None:
        case["baseline_value"] = baseline
    assert graded(dictionary, **case) == expected


@pytest.mark.parametrize(
    ("value", "unit", "uln", "baseline", "expected"),
    [
        # normal baseline: >ULN-1.5; >1.5-3.0; >3.0-10.0; >10.0 x ULN
        ("1.2", "mg/dL", "1.2", "0.8", None),
        ("1.3", "mg/dL", "1.2", "0.8", 1),
        ("1.8", "mg/dL", "1.2", "0.8", 1),
        ("1.81", "mg/dL", "1.2", "0.8", 2),
        ("3.6", "mg/dL", "1.2", "0.8", 2),
        ("3.61", "mg/dL", "1.2", "0.8", 3),
        ("12.0", "mg/dL", "1.2", "0.8", 3),
        ("12.1", "mg/dL", "1.2", "0.8", 4),
        (31, "umol/L", "20.5", 10, 2),
        (30, "µmol/L", "20", 10, 1),
        # abnormal baseline: >1.0-1.5; >1.5-3.0; >3.0-10.0; >10.0 x baseline
        ("2.0", "mg/dL", "1.2", "2.0", None),
        ("2.01", "mg/dL", "1.2", "2.0", 1),
        ("3.0", "mg/dL", "1.2", "2.0", 1),
        ("3.01", "mg/dL", "1.2", "2.0", 2),
        ("6.0", "mg/dL", "1.2", "2.0", 2),
        ("6.01", "mg/dL", "1.2", "2.0", 3),
        ("20.0", "mg/dL", "1.2", "2.0", 3),
        ("20.01", "mg/dL", "1.2", "2.0", 4),
    ],
)
def test_blood_bilirubin_grades_by_uln_or_by_abnormal_baseline(
    dictionary, value, unit, uln, baseline, expected
):
    case = {"term": BILI, "value": value, "unit": unit, "uln": uln, "baseline_value": baseline}
    assert graded(dictionary, **case) == expected


def test_abnormal_baseline_result_cites_the_baseline_rule(dictionary):
    result = grade_case(
        {"term": ALT, "value": 190, "unit": "U/L", "uln": 40, "baseline_value": 60}, dictionary
    )
    assert result.grade == 2
    assert "x baseline" in result.reason
    assert "abnormal" in result.reason


def test_baseline_below_lln_counts_as_abnormal(dictionary):
    # baseline 20 is below LLN 30: multiples of baseline (2.0 x baseline) instead of ULN (0.4 x ULN)
    case = {"term": ALP, "value": 40, "unit": "U/L", "lln": 30, "uln": 100, "baseline_value": 20}
    assert graded(dictionary, **case) == 1


def test_liver_test_without_uln_is_not_graded(dictionary):
    result = grade_case({"term": ALT, "value": 300, "unit": "U/L"}, dictionary)
    assert result.grade is None
    assert "ULN" in result.reason


def test_liver_enzyme_in_a_mass_unit_is_refused(dictionary):
    with pytest.raises(CtcaeError, match="'mg/dL'"):
        grade_case({"term": ALT, "value": 3, "unit": "mg/dL", "uln": 40}, dictionary)


# --------------------------------------------------------------------------- creatinine


@pytest.mark.parametrize(
    ("value", "unit", "uln", "baseline", "expected"),
    [
        # ULN: >ULN-1.5; >1.5-3.0; >3.0-6.0; >6.0 x ULN
        ("1.0", "mg/dL", "1.0", None, None),
        ("1.01", "mg/dL", "1.0", None, 1),
        ("1.5", "mg/dL", "1.0", None, 1),
        ("1.51", "mg/dL", "1.0", None, 2),
        ("3.0", "mg/dL", "1.0", None, 2),
        ("3.01", "mg/dL", "1.0", None, 3),
        ("6.0", "mg/dL", "1.0", None, 3),
        ("6.01", "mg/dL", "1.0", None, 4),
        (133, "umol/L", 88, None, 2),
        (132, "µmol/L", 88, None, 1),
        # baseline: >1.5-3.0 x baseline grade 2; >3.0 x baseline grade 3
        ("0.75", "mg/dL", "1.0", "0.5", None),
        ("0.76", "mg/dL", "1.0", "0.5", 2),
        ("1.5", "mg/dL", "1.0", "0.5", 2),
        ("1.51", "mg/dL", "1.0", "0.5", 3),
        ("1.2", "mg/dL", None, "0.6", 2),
        ("1.9", "mg/dL", None, "0.6", 3),
        ("0.9", "mg/dL", None, "0.6", None),
        # the higher of the two readings wins
        ("6.5", "mg/dL", "1.0", "3.0", 4),
        ("1.4", "mg/dL", "1.0", "0.4", 3),
    ],
)
def test_creatinine_grades_by_multiples_of_uln_or_of_baseline(
    dictionary, value, unit, uln, baseline, expected
):
    case = {"term": "Creatinine increased", "value": value, "unit": unit}
    if uln is not None:
        case["uln"] = uln
    if baseline is not None:
        case["baseline_value"] = baseline
    assert graded(dictionary, **case) == expected


def test_creatinine_without_uln_or_baseline_is_not_graded(dictionary):
    result = grade_case({"term": "Creatinine increased", "value": 2, "unit": "mg/dL"}, dictionary)
    assert result.grade is None


def test_creatinine_never_produces_grade_five(dictionary):
    assert 5 not in dictionary.by_term["Creatinine increased"].allowed_grades()


# --------------------------------------------------------------------------- electrolytes, glucose


@pytest.mark.parametrize(
    ("term", "value", "unit", "limits", "extra", "expected"),
    [
        # hyponatremia: <LLN-130; 125-129 asymptomatic; 125-129 symptomatic or 120-124; <120
        ("Hyponatremia", 135, "mmol/L", {"lln": 135}, {}, None),
        ("Hyponatremia", 134, "mmol/L", {"lln": 135}, {}, 1),
        ("Hyponatremia", 130, "mmol/L", {"lln": 135}, {}, 1),
        ("Hyponatremia", 129, "mmol/L", {"lln": 135}, {}, 2),
        ("Hyponatremia", 125, "mmol/L", {"lln": 135}, {}, 2),
        ("Hyponatremia", 129, "mmol/L", {"lln": 135}, {"symptomatic": True}, 3),
        ("Hyponatremia", 124, "mmol/L", {"lln": 135}, {}, 3),
        ("Hyponatremia", 120, "mmol/L", {"lln": 135}, {}, 3),
        ("Hyponatremia", 119, "mmol/L", {"lln": 135}, {}, 4),
        ("Hyponatremia", 128, "mEq/L", {"lln": 135}, {}, 2),
        ("Hyponatremia", 132, "mmol/L", {"lln": 135}, {"life_threatening": True}, 4),
        # hypernatremia: >ULN-150; >150-155; >155-160; >160
        ("Hypernatremia", 145, "mmol/L", {"uln": 145}, {}, None),
        ("Hypernatremia", 146, "mmol/L", {"uln": 145}, {}, 1),
        ("Hypernatremia", 150, "mmol/L", {"uln": 145}, {}, 1),
        ("Hypernatremia", 151, "mmol/L", {"uln": 145}, {}, 2),
        ("Hypernatremia", 155, "mmol/L", {"uln": 145}, {}, 2),
        ("Hypernatremia", 156, "mmol/L", {"uln": 145}, {}, 3),
        ("Hypernatremia", 160, "mmol/L", {"uln": 145}, {}, 3),
        ("Hypernatremia", 161, "mmol/L", {"uln": 145}, {}, 4),
        ("Hypernatremia", 148, "mmol/L", {"uln": 145}, {"hospitalized": True}, 3),
        # hypokalemia: <LLN-3.0 (symptomatic: 2); <3.0-2.5; <2.5
        ("Hypokalemia", "3.5", "mmol/L", {"lln": "3.5"}, {}, None),
        ("Hypokalemia", "3.4", "mmol/L", {"lln": "3.5"}, {}, 1),
        ("Hypokalemia", "3.0", "mmol/L", {"lln": "3.5"}, {}, 1),
        ("Hypokalemia", "3.2", "mmol/L", {"lln": "3.5"}, {"symptomatic": True}, 2),
        ("Hypokalemia", "3.2", "mmol/L", {"lln": "3.5"}, {"intervention": True}, 2),
        ("Hypokalemia", "2.9", "mmol/L", {"lln": "3.5"}, {}, 3),
        ("Hypokalemia", "2.5", "mmol/L", {"lln": "3.5"}, {}, 3),
        ("Hypokalemia", "2.4", "mmol/L", {"lln": "3.5"}, {}, 4),
        ("Hypokalemia", "2.9", "mEq/L", {"lln": "3.5"}, {}, 3),
        # hyperkalemia: >ULN-5.5; >5.5-6.0; >6.0-7.0; >7.0
        ("Hyperkalemia", "5.1", "mmol/L", {"uln": "5.1"}, {}, None),
        ("Hyperkalemia", "5.2", "mmol/L", {"uln": "5.1"}, {}, 1),
        ("Hyperkalemia", "5.5", "mmol/L", {"uln": "5.1"}, {}, 1),
        ("Hyperkalemia", "5.6", "mmol/L", {"uln": "5.1"}, {}, 2),
        ("Hyperkalemia", "6.0", "mmol/L", {"uln": "5.1"}, {}, 2),
        ("Hyperkalemia", "6.1", "mmol/L", {"uln": "5.1"}, {}, 3),
        ("Hyperkalemia", "7.0", "mmol/L", {"uln": "5.1"}, {}, 3),
        ("Hyperkalemia", "7.1", "mmol/L", {"uln": "5.1"}, {}, 4),
        # hypomagnesemia: <LLN-1.2 mg/dL (0.5 mmol/L); <1.2-0.9 (0.5-0.4); <0.9-0.7 (0.4-0.3); <0.7 (0.3)
        ("Hypomagnesemia", "1.7", "mg/dL", {"lln": "1.7"}, {}, None),
        ("Hypomagnesemia", "1.6", "mg/dL", {"lln": "1.7"}, {}, 1),
        ("Hypomagnesemia", "1.2", "mg/dL", {"lln": "1.7"}, {}, 1),
        ("Hypomagnesemia", "1.1", "mg/dL", {"lln": "1.7"}, {}, 2),
        ("Hypomagnesemia", "0.9", "mg/dL", {"lln": "1.7"}, {}, 2),
        ("Hypomagnesemia", "0.8", "mg/dL", {"lln": "1.7"}, {}, 3),
        ("Hypomagnesemia", "0.7", "mg/dL", {"lln": "1.7"}, {}, 3),
        ("Hypomagnesemia", "0.6", "mg/dL", {"lln": "1.7"}, {}, 4),
        ("Hypomagnesemia", "0.5", "mmol/L", {"lln": "0.7"}, {}, 1),
        ("Hypomagnesemia", "0.49", "mmol/L", {"lln": "0.7"}, {}, 2),
        ("Hypomagnesemia", "0.4", "mmol/L", {"lln": "0.7"}, {}, 2),
        ("Hypomagnesemia", "0.39", "mmol/L", {"lln": "0.7"}, {}, 3),
        ("Hypomagnesemia", "0.29", "mmol/L", {"lln": "0.7"}, {}, 4),
        ("Hypomagnesemia", "0.9", "mEq/L", {"lln": "1.4"}, {}, 2),
        # hypocalcemia (corrected): <LLN-8.0 mg/dL; <8.0-7.0; <7.0-6.0; <6.0
        ("Hypocalcemia", "8.5", "mg/dL", {"lln": "8.5"}, {}, None),
        ("Hypocalcemia", "8.0", "mg/dL", {"lln": "8.5"}, {}, 1),
        ("Hypocalcemia", "7.9", "mg/dL", {"lln": "8.5"}, {}, 2),
        ("Hypocalcemia", "7.0", "mg/dL", {"lln": "8.5"}, {}, 2),
        ("Hypocalcemia", "6.9", "mg/dL", {"lln": "8.5"}, {}, 3),
        ("Hypocalcemia", "6.0", "mg/dL", {"lln": "8.5"}, {}, 3),
        ("Hypocalcemia", "5.9", "mg/dL", {"lln": "8.5"}, {}, 4),
        ("Hypocalcemia", "2.0", "mmol/L", {"lln": "2.1"}, {}, 1),
        ("Hypocalcemia", "1.99", "mmol/L", {"lln": "2.1"}, {}, 2),
        ("Hypocalcemia", "1.75", "mmol/L", {"lln": "2.1"}, {}, 2),
        ("Hypocalcemia", "1.74", "mmol/L", {"lln": "2.1"}, {}, 3),
        ("Hypocalcemia", "1.49", "mmol/L", {"lln": "2.1"}, {}, 4),
        ("Hypocalcemia", "8.2", "mg/dL", {"lln": "8.5"}, {"symptomatic": True}, 2),
        ("Hypocalcemia", "1.0", "mmol/L", {"lln": "1.1"}, {"ionized": True}, 1),
        ("Hypocalcemia", "0.95", "mmol/L", {"lln": "1.1"}, {"ionized": True}, 2),
        ("Hypocalcemia", "0.85", "mmol/L", {"lln": "1.1"}, {"ionized": True}, 3),
        ("Hypocalcemia", "0.79", "mmol/L", {"lln": "1.1"}, {"ionized": True}, 4),
        # hypercalcemia (corrected): >ULN-11.5 mg/dL; >11.5-12.5; >12.5-13.5; >13.5
        ("Hypercalcemia", "10.5", "mg/dL", {"uln": "10.5"}, {}, None),
        ("Hypercalcemia", "11.5", "mg/dL", {"uln": "10.5"}, {}, 1),
        ("Hypercalcemia", "11.6", "mg/dL", {"uln": "10.5"}, {}, 2),
        ("Hypercalcemia", "12.5", "mg/dL", {"uln": "10.5"}, {}, 2),
        ("Hypercalcemia", "12.6", "mg/dL", {"uln": "10.5"}, {}, 3),
        ("Hypercalcemia", "13.5", "mg/dL", {"uln": "10.5"}, {}, 3),
        ("Hypercalcemia", "13.6", "mg/dL", {"uln": "10.5"}, {}, 4),
        ("Hypercalcemia", "2.9", "mmol/L", {"uln": "2.6"}, {}, 1),
        ("Hypercalcemia", "3.0", "mmol/L", {"uln": "2.6"}, {}, 2),
        ("Hypercalcemia", "3.2", "mmol/L", {"uln": "2.6"}, {}, 3),
        ("Hypercalcemia", "3.5", "mmol/L", {"uln": "2.6"}, {}, 4),
        ("Hypercalcemia", "1.55", "mmol/L", {"uln": "1.3"}, {"ionized": True}, 2),
        ("Hypercalcemia", "1.81", "mmol/L", {"uln": "1.3"}, {"ionized": True}, 4),
        # hypoglycemia: <LLN-55 mg/dL (3.0 mmol/L); <55-40 (3.0-2.2); <40-30 (2.2-1.7); <30 (1.7)
        ("Hypoglycemia", 70, "mg/dL", {"lln": 70}, {}, None),
        ("Hypoglycemia", 60, "mg/dL", {"lln": 70}, {}, 1),
        ("Hypoglycemia", 55, "mg/dL", {"lln": 70}, {}, 1),
        ("Hypoglycemia", 54, "mg/dL", {"lln": 70}, {}, 2),
        ("Hypoglycemia", 40, "mg/dL", {"lln": 70}, {}, 2),
        ("Hypoglycemia", 39, "mg/dL", {"lln": 70}, {}, 3),
        ("Hypoglycemia", 30, "mg/dL", {"lln": 70}, {}, 3),
        ("Hypoglycemia", 29, "mg/dL", {"lln": 70}, {}, 4),
        ("Hypoglycemia", "3.0", "mmol/L", {"lln": "3.9"}, {}, 1),
        ("Hypoglycemia", "2.9", "mmol/L", {"lln": "3.9"}, {}, 2),
        ("Hypoglycemia", "2.2", "mmol/L", {"lln": "3.9"}, {}, 2),
        ("Hypoglycemia", "2.1", "mmol/L", {"lln": "3.9"}, {}, 3),
        ("Hypoglycemia", "1.6", "mmol/L", {"lln": "3.9"}, {}, 4),
        # hypoalbuminemia: <LLN-3 g/dL; <3-2; <2
        ("Hypoalbuminemia", "3.5", "g/dL", {"lln": "3.5"}, {}, None),
        ("Hypoalbuminemia", "3.0", "g/dL", {"lln": "3.5"}, {}, 1),
        ("Hypoalbuminemia", "2.9", "g/dL", {"lln": "3.5"}, {}, 2),
        ("Hypoalbuminemia", 19, "g/L", {"lln": 35}, {}, 3),
    ],
)
def test_electrolyte_and_glucose_grades_at_each_boundary(
    dictionary, term, value, unit, limits, extra, expected
):
    assert graded(dictionary, term=term, value=value, unit=unit, **limits, **extra) == expected


def test_glucose_in_mmol_per_litre_is_converted_when_its_unit_is_not_a_threshold_unit(dictionary):
    # 1.0 g/L = 100 mg/dL, well above 55: not graded when LLN is 0.7 g/L
    assert graded(dictionary, term="Hypoglycemia", value="0.5", unit="g/L", lln="0.7") == 2


@pytest.mark.parametrize(
    ("term", "value", "expected"),
    [
        ("Lipase increased", 60, None),
        ("Lipase increased", 61, 1),
        ("Lipase increased", 90, 1),
        ("Lipase increased", 91, 2),
        ("Lipase increased", 120, 2),
        ("Lipase increased", 121, 2),
        ("Lipase increased", 300, 2),
        ("Lipase increased", 301, 3),
        ("Serum amylase increased", 61, 1),
        ("Serum amylase increased", 91, 2),
        ("Serum amylase increased", 300, 2),
        ("Serum amylase increased", 301, 3),
    ],
)
def test_pancreatic_enzymes_grade_by_multiples_of_uln_when_asymptomatic(dictionary, term, value, expected):
    assert graded(dictionary, term=term, value=value, unit="U/L", uln=60) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(90, 1), (120, 2), (121, 3), (300, 3), (301, 4)],
)
def test_pancreatic_enzymes_grade_higher_with_signs_or_symptoms(dictionary, value, expected):
    case = {"term": "Lipase increased", "value": value, "unit": "U/L", "uln": 60, "symptomatic": True}
    assert graded(dictionary, **case) == expected


# --------------------------------------------------------------------------- vital signs


@pytest.mark.parametrize(
    ("systolic", "diastolic", "extra", "expected"),
    [
        (119, 79, {}, None),
        (120, 70, {}, 1),
        (139, 70, {}, 1),
        (110, 80, {}, 1),
        (110, 89, {}, 1),
        (140, 70, {}, 2),
        (159, 70, {}, 2),
        (110, 90, {}, 2),
        (110, 99, {}, 2),
        (160, 70, {}, 3),
        (110, 100, {}, 3),
        (139, 100, {}, 3),
        (130, 85, {"life_threatening": True}, 4),
        (125, 70, {"intervention": True}, 2),
        (150, 95, {"previously_normal": False}, None),
        (150, 95, {"previously_normal": False, "intervention": True}, 2),
        (165, 95, {"previously_normal": False}, 3),
    ],
)
def test_adult_hypertension_grades_by_systolic_or_diastolic(dictionary, systolic, diastolic, extra, expected):
    case = {
        "term": "Hypertension",
        "systolic": systolic,
        "diastolic": diastolic,
        "population": "adult",
        **extra,
    }
    assert graded(dictionary, **case) == expected


PEDIATRIC_PERCENTILES = {
    "systolic": {"p90": 110, "p95": 114, "p99": 121},
    "diastolic": {"p90": 70, "p95": 74, "p99": 82},
}


@pytest.mark.parametrize(
    ("systolic", "diastolic", "expected"),
    [(110, 60, None), (111, 60, 1), (114, 60, 2), (126, 60, 2), (127, 60, 3), (100, 75, 2), (100, 88, 3)],
)
def test_pediatric_hypertension_grades_by_percentile(dictionary, systolic, diastolic, expected):
    case = {
        "term": "Hypertension",
        "systolic": systolic,
        "diastolic": diastolic,
        "population": "pediatric",
        "percentiles": PEDIATRIC_PERCENTILES,
    }
    assert graded(dictionary, **case) == expected


def test_pediatric_hypertension_without_percentiles_is_left_to_the_clinician(dictionary):
    case = {"term": "Hypertension", "systolic": 130, "diastolic": 85, "population": "pediatric"}
    result = grade_case(case, dictionary)
    assert result.grade is None
    assert "percentile" in result.reason


@pytest.mark.parametrize(
    ("value", "unit", "hours", "expected"),
    [
        ("37.9", "C", None, None),
        ("38.0", "C", None, 1),
        ("39.0", "C", None, 1),
        ("39.1", "C", None, 2),
        ("40.0", "C", None, 2),
        ("40.1", "C", 12, 3),
        ("40.1", "C", 24, 3),
        ("40.1", "C", 25, 4),
        ("100.4", "F", None, 1),
        ("102.3", "°F", None, 2),
        ("104.5", "F", 30, 4),
    ],
)
def test_fever_grades_by_temperature_and_duration(dictionary, value, unit, hours, expected):
    case = {"term": "Fever", "value": value, "unit": unit}
    if hours is not None:
        case["sustained_hours"] = hours
    assert graded(dictionary, **case) == expected


@pytest.mark.parametrize(
    ("value", "baseline", "extra", "expected"),
    [
        (449, None, {}, None),
        (450, None, {}, 1),
        (480, None, {}, 1),
        (481, None, {}, 2),
        (500, None, {}, 2),
        (501, None, {}, 3),
        (470, 400, {}, 3),
        (460, 400, {}, 1),
        (470, None, {"life_threatening": True}, 4),
    ],
)
def test_qtc_prolongation_grades_by_interval_and_change(dictionary, value, baseline, extra, expected):
    case = {
        "term": "Electrocardiogram QT corrected interval prolonged",
        "value": value,
        "unit": "ms",
        **extra,
    }
    if baseline is not None:
        case["baseline_value"] = baseline
    assert graded(dictionary, **case) == expected


def test_qtc_has_no_grade_five(dictionary):
    term = "Electrocardiogram QT corrected interval prolonged"
    assert dictionary.by_term[term].allowed_grades() == (1, 2, 3, 4)


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ({"value": "trace"}, None),
        ({"value": "1+"}, 1),
        ({"value": "2+"}, 2),
        ({"value": "3+"}, 2),
        ({"value": "4+"}, 3),
        ({"value": "0.1", "unit": "g/24h", "uln": "0.15"}, None),
        ({"value": "0.15", "unit": "g/24h", "uln": "0.15"}, 1),
        ({"value": "0.99", "unit": "g/24h", "uln": "0.15"}, 1),
        ({"value": "1.0", "unit": "g/24h"}, 2),
        ({"value": 3499, "unit": "mg/24h"}, 2),
        ({"value": 3500, "unit": "mg/24h"}, 3),
        ({"value": "0.5", "unit": "g/24h"}, None),
        ({"population": "pediatric", "upc_ratio": "0.5"}, 2),
        ({"population": "pediatric", "upc_ratio": "1.9"}, 2),
        ({"population": "pediatric", "upc_ratio": "2.0"}, 3),
    ],
)
def test_proteinuria_grades_by_dipstick_24_hour_protein_or_ratio(dictionary, case, expected):
    assert graded(dictionary, term="Proteinuria", **case) == expected


def test_proteinuria_never_reaches_grade_four_or_five(dictionary):
    assert dictionary.by_term["Proteinuria"].allowed_grades() == (1, 2, 3)
    assert graded(dictionary, term="Proteinuria", value=20, unit="g/24h") == 3


# ------------------------------------------------------------------ febrile neutropenia, hyperglycemia


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ({"anc": 800, "anc_unit": "/mm3", "temperature_c": "38.4"}, 3),
        ({"anc": 800, "anc_unit": "/mm3", "temperature_c": "38.3"}, None),
        ({"anc": 800, "anc_unit": "/mm3", "temperature_c": "38.0", "sustained_hours": 2}, 3),
        ({"anc": 800, "anc_unit": "/mm3", "temperature_c": "38.0", "sustained_hours": 1}, None),
        ({"anc": 800, "anc_unit": "/mm3", "temperature_c": "37.9", "sustained_hours": 5}, None),
        ({"anc": 1000, "anc_unit": "/mm3", "temperature_c": "39.0"}, None),
        ({"anc": "0.9", "anc_unit": "10^9/L", "temperature_c": "39.0"}, 3),
        ({"anc": "1.0", "anc_unit": "10^9/L", "temperature_c": "39.0"}, None),
        ({"anc": 300, "anc_unit": "/mm3", "temperature_c": "39.0", "life_threatening": True}, 4),
    ],
)
def test_febrile_neutropenia_needs_anc_below_1000_with_fever(dictionary, case, expected):
    assert graded(dictionary, term="Febrile neutropenia", **case) == expected


def test_febrile_neutropenia_never_produces_grade_one_or_two(dictionary):
    allowed = dictionary.by_term["Febrile neutropenia"].allowed_grades()
    assert allowed == (3, 4, 5)
    for temperature in ("38.4", "39.5", "41.0"):
        found = graded(
            dictionary, term="Febrile neutropenia", anc=900, anc_unit="/mm3", temperature_c=temperature
        )
        assert found in allowed


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ({}, None),
        ({"intervention": False}, None),
        ({"value": 200, "unit": "mg/dL", "baseline_value": 110}, 1),
        ({"intervention": True}, 2),
        ({"intervention": "oral_agent"}, 2),
        ({"intervention": "insulin"}, 3),
        ({"hospitalized": True}, 3),
        ({"intervention": "oral_agent", "hospitalized": True}, 3),
        ({"intervention": "urgent"}, 4),
        ({"life_threatening": True}, 4),
    ],
)
def test_hyperglycemia_is_graded_from_qualifiers(dictionary, case, expected):
    assert graded(dictionary, term="Hyperglycemia", **case) == expected


def test_hyperglycemia_refuses_an_unknown_intervention_kind(dictionary):
    with pytest.raises(CtcaeError, match="intervention"):
        grade_case({"term": "Hyperglycemia", "intervention": "prayer"}, dictionary)


# --------------------------------------------------------------------------- lookup and errors


def test_term_is_found_by_meddra_code(dictionary):
    result = grade_case({"meddra_code": "10029366", "value": 400, "unit": "/mm3", "lln": 2000}, dictionary)
    assert result.grade == 4


def test_term_and_code_that_disagree_are_refused(dictionary):
    with pytest.raises(CtcaeError, match="different terms"):
        grade_case({"term": "Anemia", "meddra_code": "10029366", "value": 9, "unit": "g/dL"}, dictionary)


@pytest.mark.parametrize(
    "case",
    [
        {"term": "Neutrophils low", "value": 1, "unit": "10^9/L"},
        {"term": "neutrophil count decreased", "value": 1, "unit": "10^9/L"},
        {"meddra_code": "99999999", "value": 1, "unit": "10^9/L"},
    ],
)
def test_unknown_term_is_an_error_for_that_item(dictionary, case):
    with pytest.raises(CtcaeError, match="unknown"):
        grade_case(case, dictionary)


@pytest.mark.parametrize(
    ("case", "field"),
    [
        ({"term": ANC, "value": 1, "unit": "G/L", "lln": 2}, "G/L"),
        ({"term": ANC, "value": 1, "unit": "cells", "lln": 2}, "cells"),
        ({"term": ANC, "value": 1, "unit": "g/L", "lln": 2}, "g/L"),
        ({"term": ANC, "value": 1, "lln": 2}, "unit"),
        ({"term": ANC, "unit": "/mm3", "lln": 2}, "value"),
        ({"term": ANC, "value": "lots", "unit": "/mm3"}, "value"),
        ({"term": "Anemia", "value": 9, "unit": "U/L"}, "U/L"),
        ({"term": "Febrile neutropenia", "anc": 500, "anc_unit": "/hpf", "temperature_c": 39}, "/hpf"),
        ({"term": "Hypertension", "systolic": "high"}, "systolic"),
        ({"term": ANC, "value": 1, "unit": "/mm3", "symptomatic": "yes"}, "symptomatic"),
        ({"term": "Hypertension", "systolic": 150, "population": "elderly"}, "population"),
        ({"value": 1, "unit": "/mm3"}, "term"),
    ],
)
def test_malformed_field_or_unknown_unit_is_an_error_naming_it(dictionary, case, field):
    with pytest.raises(CtcaeError, match=re.escape(field)):
        grade_case(case, dictionary)


@pytest.mark.parametrize("term", ["Nausea", "Fatigue", "Hypophosphatemia", "Pneumonitis"])
def test_known_term_without_a_value_rule_is_left_to_the_clinician(dictionary, term):
    result = grade_case({"term": term}, dictionary)
    assert result.grade is None
    assert result.reason == NOT_ENCODED


def test_a_grade_missing_from_the_term_is_turned_into_no_grade(dictionary, monkeypatch):
    # Were a rule ever to return a grade that is " -" for the term, the guard refuses it.
    monkeypatch.setitem(ctcae.RULES, "Febrile neutropenia", lambda req: ctcae._Found(2, "forced"))
    result = grade_case({"term": "Febrile neutropenia"}, dictionary)
    assert result.grade is None
    assert "does not exist" in result.reason


def test_every_encoded_rule_names_a_real_term(dictionary):
    assert set(ctcae.RULES) <= set(dictionary.by_term)


@pytest.mark.parametrize(
    ("term", "grade_", "numbers"),
    [
        (ANC, 1, ["1500", "1.5"]),
        (ANC, 4, ["500", "0.5"]),
        (PLT, 2, ["75,000", "50,000", "75.0", "50.0"]),
        (WBC, 3, ["2000", "1000", "2.0", "1.0"]),
        (LYM, 4, ["200", "0.2"]),
        ("Anemia", 2, ["10.0", "8.0", "6.2", "4.9", "100", "80"]),
        (ALT, 1, ["3.0", "1.5"]),
        (ALP, 1, ["2.5", "2.0"]),
        (BILI, 3, ["3.0", "10.0"]),
        ("Creatinine increased", 3, ["3.0", "6.0"]),
        ("Hyponatremia", 3, ["125-129", "120-124"]),
        ("Hypernatremia", 3, ["155", "160"]),
        ("Hypokalemia", 3, ["3.0", "2.5"]),
        ("Hyperkalemia", 2, ["5.5", "6.0"]),
        ("Hypomagnesemia", 3, ["0.9", "0.7", "0.4", "0.3"]),
        ("Hypocalcemia", 2, ["8.0", "7.0", "2.0", "1.75", "1.0", "0.9"]),
        ("Hypercalcemia", 3, ["12.5", "13.5", "3.1", "3.4", "1.6", "1.8"]),
        ("Hypoglycemia", 2, ["55", "40", "3.0", "2.2"]),
        ("Lipase increased", 3, ["2.0", "5.0"]),
        ("Fever", 2, ["39.0", "40.0"]),
        ("Electrocardiogram QT corrected interval prolonged", 3, ["501", "60"]),
        ("Proteinuria", 3, ["3.5", "4+"]),
        ("Febrile neutropenia", 3, ["1000", "38.3", "38"]),
    ],
)
def test_encoded_thresholds_are_those_of_the_nci_text(dictionary, term, grade_, numbers):
    text = dictionary.by_term[term].grade_text(grade_)
    assert text is not None
    for number in numbers:
        assert number in text


# --------------------------------------------------------------------------- the term list parser


def test_term_list_has_837_terms_in_26_socs(dictionary):
    assert len(dictionary.terms) == 837
    assert len({t.soc for t in dictionary.terms}) == 26
    assert all(re.fullmatch(r"\d{8}", t.meddra_code) for t in dictionary.terms)


def test_not_applicable_grade_counts_match_the_nci_readme(dictionary):
    missing = [sum(1 for t in dictionary.terms if t.grades[n] is None) for n in range(5)]
    assert missing == [192, 92, 87, 286, 343]


def test_grade_text_keeps_the_nci_cell_exactly(dictionary):
    hypertension = dictionary.by_term["Hypertension"]
    assert hypertension.grade_text(1).startswith("Adult: Systolic BP 120 - 139 mm Hg")
    assert "\n" in hypertension.grade_text(1)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda text: "", "empty"),
        (lambda text: text.replace("MedDRA Code", "Code", 1), "MedDRA Code"),
        (lambda text: text.replace("10029366", "1002936X", 1), "row"),
        (lambda text: text.replace("10029366", "10002272", 1), "repeats"),
        (lambda text: text.rsplit("\n", 2)[0] + "\n", "expected 837 CTCAE v5.0 terms"),
    ],
)
def test_malformed_term_list_is_refused_naming_the_problem(mutate, message):
    with pytest.raises(CtcaeFileError, match=re.escape(message)):
        parse_ctcae_csv(mutate(_csv_text()), source="x.csv")


def test_ctcae_module_imports_nothing_from_django():
    tree = ast.parse(Path(ctcae.__file__).read_text())
    imported = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    imported += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert not [name for name in imported if name.startswith("django")]


def test_ctcae_module_reads_no_environment_or_disk():
    # The terms are handed in (Dictionary(terms)); nothing in the module opens a file or reads os.environ.
    tree = ast.parse(Path(ctcae.__file__).read_text())
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert not imported & {"os", "pathlib", "io.open", "sys"}
    calls = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    assert "open" not in calls
    assert not hasattr(ctcae, "default_dictionary")
    assert not hasattr(ctcae, "default_csv_path")


def test_a_file_of_another_version_is_parsed_with_that_version():
    text = _csv_text().replace("CTCAE v5.0 Change", "CTCAE v6.0 Change", 1)
    rows = text.split("\n")
    # NCI's counts are known for v5.0 only: a shorter v6.0 file is accepted as it is.
    terms = parse_ctcae_csv("\n".join(rows[:11]) + "\n", source="v6.csv", version="6.0")
    assert len(terms) == 10
    assert terms[0].change_note == parse_ctcae_csv(_csv_text())[0].change_note


def test_the_change_column_must_name_the_version_being_parsed():
    with pytest.raises(CtcaeFileError, match=r"x\.csv: row 1 \(header\): column 'CTCAE v5\.0 Change'"):
        parse_ctcae_csv(_csv_text(), source="x.csv", version="6.0")


def test_a_dictionary_names_its_version_in_lookup_errors(dictionary):
    v6 = Dictionary(dictionary.terms, version="6.0")
    with pytest.raises(CtcaeError, match=r"unknown CTCAE v6\.0 term 'Neutropenia'"):
        v6.lookup("Neutropenia", None)


def test_terms_of_a_version_without_encoded_rules_are_graded_clinically(dictionary):
    v6 = Dictionary(dictionary.terms, version="6.0")
    request = ctcae.GradingRequest(term=ANC, value=Decimal(900), unit="/mm3", lln=Decimal(2000))
    assert grade(request, dictionary).grade == 3
    result = grade(request, v6)
    assert result.grade is None
    assert "not v6.0" in result.reason
