"""The eligibility engine on synthetic criteria that mirror seeds 002 and 004.

Every numeric boundary at, just inside and just outside, in other units, with data missing or
too old; age from a birth year; Cockcroft-Gault; review parts and confirmations; Kleene logic.
"""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from edc.eligibility.casefile import CaseError, parse_case
from edc.eligibility.eligibility import (
    ConfirmationError,
    Criterion,
    LabResult,
    Patient,
    PregnancyTest,
    Subject,
    evaluate,
)

AS_OF = date(2025, 3, 15)
W14 = {"days": 14, "before": "first_dose"}
W7 = {"days": 7, "before": "first_dose"}


def D(value):
    return Decimal(str(value))


def lab(test, value, unit=None, *, uln=None, lln=None, days_before=3, on=None):
    when = on if on is not None else (None if days_before is None else AS_OF - timedelta(days=days_before))
    return LabResult(
        test=test,
        value=value if isinstance(value, str) else D(value),
        unit=unit,
        lln=None if lln is None else D(lln),
        uln=None if uln is None else D(uln),
        date=when,
    )


def patient(
    *labs,
    birth_year=1970,
    sex="M",
    ecog=None,
    weight=None,
    dates=None,
    pregnancy=None,
    confirmations=None,
    confirm_unstructured=False,
):
    return Patient(
        subject=Subject(birth_year=birth_year, sex=sex),
        ecog=ecog,
        weight_kg=None if weight is None else D(weight),
        labs=tuple(labs),
        dates={k: AS_OF - timedelta(days=v) if isinstance(v, int) else v for k, v in (dates or {}).items()},
        pregnancy_test=pregnancy,
        confirmations=confirmations or {},
        confirm_unstructured=confirm_unstructured,
    )


def judge(rule, p, kind="inclusion", number="1"):
    result = evaluate([Criterion(kind, number, "text", rule)], p, AS_OF)
    return result.criteria[0].status, result.criteria[0].reason


# Seed 002, inclusion 8a-8d (as in fixtures/studies/002_*.yaml), seed 004 inclusions 2, 6, 8, 14
# and exclusions 4, 10, 14.
HGB_100 = {"field": "HGB", "op": ">=", "value": 100, "unit": "g/L", "within": W14}
MARROW = {
    "all": [
        HGB_100,
        {
            "any": [
                {"field": "WBC", "op": ">=", "value": 4.0, "unit": "10^9/L", "within": W14},
                {"field": "NEUT", "op": ">=", "value": 2.0, "unit": "10^9/L", "within": W14},
            ]
        },
        {"field": "PLAT", "op": ">=", "value": 100, "unit": "10^9/L", "within": W14},
    ]
}
LIVER = {
    "all": [
        {"field": f, "op": "<=", "value": 1.5, "ref": "ULN", "within": W14} for f in ("BILI", "AST", "ALT")
    ]
}
ALT_15 = {"field": "ALT", "op": "<=", "value": 1.5, "ref": "ULN", "within": W14}
RENAL = {
    "all": [
        {
            "any": [
                {"field": "CREAT", "op": "<", "value": 1.5, "ref": "ULN", "within": W14},
                {"field": "CREATCLR", "op": ">=", "value": 60, "unit": "mL/min", "within": W14},
            ]
        },
        {"field": "BUN", "op": "<=", "value": 200, "unit": "mg/L", "within": W14},
    ]
}
CLEARANCE = {"field": "CREATCLR", "op": ">=", "value": 60, "unit": "mL/min", "within": W14}
URINE = {
    "any": [
        {"field": "UPROT", "op": "<", "value": "1+", "within": W14},
        {
            "all": [
                {"field": "UPROT", "op": "==", "value": "1+", "within": W14},
                {"field": "UPROT24H", "op": "<", "value": 500, "unit": "mg/24h", "within": W14},
            ]
        },
    ]
}
AGE_002 = {"field": "age", "op": "between", "value": [18, 75], "unit": "years"}
AGE_004 = {"field": "age", "op": "between", "value": [18, 70], "unit": "years"}
ECOG_01 = {"field": "ecog", "op": "in", "value": [0, 1]}
PD1_4W = {"field": "interval:prior_pd1_last_dose->first_dose", "op": ">=", "value": 4, "unit": "weeks"}
GROWTH_1W = {"field": "interval:last_growth_factor->first_dose", "op": "<=", "value": 1, "unit": "weeks"}
RECURRENCE_6M = {"field": "interval:surgery->recurrence", "op": "<", "value": 6, "unit": "months"}
IMMUNOSUPPRESSANT_14D = {
    "field": "interval:last_immunosuppressant->first_dose",
    "op": "<=",
    "value": 14,
    "unit": "days",
}
LIVE_VACCINE_4W = {"field": "interval:last_live_vaccine->first_dose", "op": "<=", "value": 4, "unit": "weeks"}
PRIOR_PD1 = {"field": "interval:prior_pd1_first_dose->first_dose", "op": ">=", "value": 0, "unit": "days"}
PREGNANCY = {
    "any": [
        {"field": "sex", "op": "==", "value": "M"},
        {"field": "pregnancy_test", "op": "in", "value": ["negative", "not_applicable"], "within": W7},
    ]
}

GOOD_MARROW = (lab("HGB", 120, "g/L"), lab("WBC", 5, "10^9/L"), lab("PLAT", 200, "10^9/L"))


@pytest.mark.parametrize(
    ("value", "unit", "status"),
    [
        (100, "g/L", "met"),
        (99.9, "g/L", "not_met"),
        (100.1, "g/L", "met"),
        (10, "g/dL", "met"),
        (9.99, "g/dL", "not_met"),
        (10.01, "g/dL", "met"),
        (6.2, "mmol/L", "not_met"),  # 6.2 mmol/L x 16.114 = 99.9 g/L
        (6.3, "mmol/L", "met"),
    ],
)
def test_haemoglobin_boundary_in_every_unit(value, unit, status):
    assert judge(HGB_100, patient(lab("HGB", value, unit)))[0] == status


@pytest.mark.parametrize(
    ("labs", "status"),
    [
        ((lab("WBC", 4.0, "10^9/L"),), "met"),
        ((lab("WBC", 3.9, "10^9/L"), lab("NEUT", 2.0, "10^9/L")), "met"),
        ((lab("WBC", 3.9, "10^9/L"), lab("NEUT", 1.99, "10^9/L")), "not_met"),
        ((lab("WBC", 4000, "/mm3"),), "met"),
        ((lab("WBC", 3999, "/mm3"), lab("NEUT", 1999, "/uL")), "not_met"),
        ((lab("WBC", 3999, "/mm3"), lab("NEUT", 2000, "/uL")), "met"),
        ((lab("WBC", 4.0, "10^3/uL"),), "met"),
        ((lab("WBC", 3.9, "10^9/L"),), "needs_review"),  # neutrophils might still admit
        ((lab("NEUT", 2.0, "10^9/L"),), "met"),
        ((lab("NEUT", 1.9, "10^9/L"),), "needs_review"),
    ],
)
def test_white_cells_or_neutrophils(labs, status):
    p = patient(lab("HGB", 120, "g/L"), lab("PLAT", 150, "10^9/L"), *labs)
    assert judge(MARROW, p)[0] == status


@pytest.mark.parametrize(
    ("value", "unit", "status"),
    [
        (100, "10^9/L", "met"),
        (99, "10^9/L", "not_met"),
        (101, "10^9/L", "met"),
        (100000, "/mm3", "met"),
        (99999, "/uL", "not_met"),
        (100, "10^3/uL", "met"),
        (99.9, "×10⁹/L", "not_met"),
    ],
)
def test_platelets_boundary_in_every_unit(value, unit, status):
    p = patient(lab("HGB", 120, "g/L"), lab("WBC", 5, "10^9/L"), lab("PLAT", value, unit))
    assert judge(MARROW, p)[0] == status


@pytest.mark.parametrize(
    ("value", "uln", "status"),
    [
        (60, 40, "met"),  # exactly 1.5 x ULN
        (59.9, 40, "met"),
        (60.1, 40, "not_met"),
        (1.8, 1.2, "met"),  # 1.5 x 1.2 = 1.8 exactly: equal, not greater
        (1.81, 1.2, "not_met"),
        (1.79, 1.2, "met"),
        (30, 40, "met"),
        (65, 40, "not_met"),
    ],
)
def test_alt_as_a_multiple_of_uln(value, uln, status):
    assert judge(ALT_15, patient(lab("ALT", value, "U/L", uln=uln)))[0] == status


def test_uln_multiple_reason_shows_the_values_compared():
    status, reason = judge(ALT_15, patient(lab("ALT", 65, "U/L", uln=40, on=date(2025, 3, 10))))
    assert status == "not_met"
    assert reason == "ALT 65 U/L on 2025-03-10 = 1.63 × ULN 40; limit ≤ 1.5 × ULN within 14 days"


def test_uln_multiple_without_uln_needs_review():
    status, reason = judge(ALT_15, patient(lab("ALT", 20, "U/L")))
    assert status == "needs_review"
    assert "has no ULN" in reason


def test_lln_multiple_compares_against_the_lower_limit():
    rule = {"field": "ALB", "op": ">=", "value": 1, "ref": "LLN"}
    assert judge(rule, patient(lab("ALB", 35, "g/L", lln=35)))[0] == "met"
    assert judge(rule, patient(lab("ALB", 34.9, "g/L", lln=35)))[0] == "not_met"


@pytest.mark.parametrize(
    ("labs", "status"),
    [
        (
            (lab("BILI", 30, "umol/L", uln=20), lab("AST", 60, "U/L", uln=40), lab("ALT", 60, "U/L", uln=40)),
            "met",
        ),
        (
            (lab("BILI", 31, "umol/L", uln=20), lab("AST", 20, "U/L", uln=40), lab("ALT", 20, "U/L", uln=40)),
            "not_met",
        ),
        (
            (
                lab("BILI", 1.8, "mg/dL", uln=1.2),
                lab("AST", 20, "U/L", uln=40),
                lab("ALT", 20, "U/L", uln=40),
            ),
            "met",
        ),
        (
            (lab("BILI", 10, "umol/L", uln=20), lab("AST", 61, "U/L", uln=40), lab("ALT", 20, "U/L", uln=40)),
            "not_met",
        ),
        ((lab("BILI", 10, "umol/L", uln=20), lab("ALT", 20, "U/L", uln=40)), "needs_review"),
        (
            (lab("BILI", 10, "umol/L", uln=20), lab("ALT", 61, "U/L", uln=40)),
            "not_met",
        ),  # settled without AST
    ],
)
def test_liver_function(labs, status):
    assert judge(LIVER, patient(*labs))[0] == status


@pytest.mark.parametrize(
    ("labs", "status"),
    [
        ((lab("CREAT", 1.49, "mg/dL", uln=1.0), lab("BUN", 200, "mg/L")), "met"),
        ((lab("CREAT", 1.5, "mg/dL", uln=1.0), lab("BUN", 200, "mg/L")), "needs_review"),  # no clearance data
        (
            (lab("CREAT", 1.5, "mg/dL", uln=1.0), lab("CREATCLR", 60, "mL/min"), lab("BUN", 200, "mg/L")),
            "met",
        ),
        (
            (lab("CREAT", 1.5, "mg/dL", uln=1.0), lab("CREATCLR", 59, "mL/min"), lab("BUN", 200, "mg/L")),
            "not_met",
        ),
        ((lab("CREAT", 100, "umol/L", uln=110), lab("BUN", 201, "mg/L")), "not_met"),
        ((lab("CREAT", 100, "umol/L", uln=110), lab("BUN", 20, "mg/dL")), "met"),
        ((lab("CREAT", 100, "umol/L", uln=110), lab("BUN", 20.1, "mg/dL")), "not_met"),
        ((lab("CREAT", 100, "umol/L", uln=110), lab("BUN", 7.1, "mmol/L")), "met"),  # 198.9 mg/L
        ((lab("CREAT", 100, "umol/L", uln=110), lab("BUN", 7.14, "mmol/L")), "not_met"),  # 200.02 mg/L
        ((lab("CREAT", 100, "umol/L", uln=110),), "needs_review"),
        ((lab("BUN", 250, "mg/L"),), "not_met"),  # urea nitrogen alone settles the all
    ],
)
def test_renal_function_creatinine_or_clearance_and_urea_nitrogen(labs, status):
    assert judge(RENAL, patient(*labs, weight=None))[0] == status


@pytest.mark.parametrize(
    ("birth_year", "sex", "weight", "creat", "status"),
    [
        # age 79-80, male, 72 kg, 1.0 mg/dL: (140-80) x 72 / 72 = 60 exactly, 61 at 79: met
        (1945, "M", 72, (1.0, "mg/dL"), "met"),
        # age 80-81: 59-60, straddles 60
        (1944, "M", 72, (1.0, "mg/dL"), "needs_review"),
        # age 81-82: 58-59: not met
        (1943, "M", 72, (1.0, "mg/dL"), "not_met"),
        # female x 0.85: 51-51.85: not met
        (1945, "F", 72, (1.0, "mg/dL"), "not_met"),
        # female, 0.85 mg/dL cancels the factor: 60-61: met
        (1945, "F", 72, (0.85, "mg/dL"), "met"),
        # age 59-60: 80/1.34 = 59.7, 81/1.34 = 60.4: the birth-year range straddles the limit
        (1965, "M", 72, (1.34, "mg/dL"), "needs_review"),
        # creatinine in umol/L: 70 umol/L = 0.79 mg/dL
        (1945, "M", 72, (70, "umol/L"), "met"),
        (1945, "M", 72, (133, "umol/L"), "not_met"),  # 1.50 mg/dL: 40-40.7
        # sex unknown: both formulas agree that 100+ is above 60
        (1985, None, 80, (0.8, "mg/dL"), "met"),
        # sex unknown and they disagree (M 60-61, F 51-51.85)
        (1945, None, 72, (1.0, "mg/dL"), "needs_review"),
    ],
)
def test_creatinine_clearance_by_cockcroft_gault(birth_year, sex, weight, creat, status):
    p = patient(lab("CREAT", creat[0], creat[1]), birth_year=birth_year, sex=sex, weight=weight)
    result, reason = judge(CLEARANCE, p)
    assert result == status
    assert "Cockcroft-Gault" in reason


@pytest.mark.parametrize(
    ("labs", "weight", "status", "reason_part"),
    [
        ((lab("CREATCLR", 65, "mL/min"), lab("CREAT", 3, "mg/dL")), 72, "met", "CREATCLR 65 mL/min"),
        ((lab("CREATCLR", 55, "mL/min"), lab("CREAT", 0.5, "mg/dL")), 72, "not_met", "CREATCLR 55"),
        ((lab("CREATCLR", 1.0, "mL/s"),), 72, "met", "= 60 mL/min"),
        # a measured clearance too old for the window: a recent creatinine answers instead
        (
            (lab("CREATCLR", 30, "mL/min", days_before=20), lab("CREAT", 0.8, "mg/dL")),
            72,
            "met",
            "Cockcroft-Gault",
        ),
        ((lab("CREATCLR", 90, "mL/min", days_before=20),), 72, "needs_review", "20 days before first dose"),
        ((lab("CREAT", 0.8, "mg/dL"),), None, "needs_review", "no weight"),
        ((lab("CREAT", 0.8, "mg/dL", days_before=15),), 72, "needs_review", "CREAT dated"),
        ((), 72, "needs_review", "no CREATCLR result"),
    ],
)
def test_measured_clearance_comes_first_and_missing_data_needs_review(labs, weight, status, reason_part):
    result, reason = judge(CLEARANCE, patient(*labs, birth_year=1965, weight=weight))
    assert result == status
    assert reason_part in reason


@pytest.mark.parametrize(
    ("labs", "status"),
    [
        ((lab("UPROT", "negative"),), "met"),
        ((lab("UPROT", "trace"),), "met"),
        ((lab("UPROT", "1+"), lab("UPROT24H", 499, "mg/24h")), "met"),
        ((lab("UPROT", "1+"), lab("UPROT24H", 500, "mg/24h")), "not_met"),
        ((lab("UPROT", "1+"), lab("UPROT24H", 0.4, "g/24h")), "met"),
        ((lab("UPROT", "1+"), lab("UPROT24H", 0.5, "g/24h")), "not_met"),
        ((lab("UPROT", "1+"),), "needs_review"),
        ((lab("UPROT", "2+"), lab("UPROT24H", 100, "mg/24h")), "not_met"),
        ((lab("UPROT", "4+"),), "not_met"),
        ((), "needs_review"),
        ((lab("UPROT", "negative", days_before=15),), "needs_review"),
    ],
)
def test_urine_protein_below_one_plus_or_24_hour_protein(labs, status):
    assert judge(URINE, patient(*labs))[0] == status


@pytest.mark.parametrize(
    ("labs", "status", "reason"),
    [
        (
            (lab("HGB", 120, "g/L", days_before=14),),
            "met",
            "HGB 120 g/L on 2025-03-01; limit ≥ 100 g/L within 14 days",
        ),
        (
            (lab("HGB", 120, "g/L", days_before=15),),
            "needs_review",
            "HGB dated 2025-02-28 is 15 days before first dose; limit 14 days",
        ),
        ((lab("HGB", 80, "g/L", days_before=15),), "needs_review", "is 15 days before first dose"),
        ((lab("HGB", 120, "g/L", days_before=None),), "needs_review", "HGB has no date"),
        ((), "needs_review", "no HGB result"),
        ((lab("HGB", 120, "g/L", days_before=-2),), "needs_review", "no HGB result on or before 2025-03-15"),
        ((lab("HGB", 80, "g/L", days_before=10), lab("HGB", 110, "g/L", days_before=2)), "met", "110 g/L"),
        ((lab("HGB", 110, "g/L", days_before=10), lab("HGB", 90, "g/L", days_before=2)), "not_met", "90 g/L"),
        ((lab("HGB", 110, "g/L", days_before=0),), "met", "on 2025-03-15"),
    ],
)
def test_lab_recency_window_and_missing_lab(labs, status, reason):
    result, why = judge(HGB_100, patient(*labs))
    assert result == status
    assert reason in why


@pytest.mark.parametrize(
    ("rule", "birth_year", "status"),
    [
        (AGE_002, 2008, "not_met"),  # 16-17
        (AGE_002, 2007, "needs_review"),  # 17-18 straddles 18
        (AGE_002, 2006, "met"),  # 18-19
        (AGE_002, 1960, "met"),
        (AGE_002, 1950, "met"),  # 74-75
        (AGE_002, 1949, "needs_review"),  # 75-76
        (AGE_002, 1948, "not_met"),  # 76-77
        (AGE_004, 1955, "met"),  # 69-70
        (AGE_004, 1954, "needs_review"),  # 70-71
        (AGE_004, 1953, "not_met"),
        (AGE_004, 2007, "needs_review"),
        (AGE_004, None, "needs_review"),
        ({"field": "age", "op": ">=", "value": 18}, 2007, "needs_review"),
        ({"field": "age", "op": ">", "value": 17}, 2007, "needs_review"),
        ({"field": "age", "op": ">=", "value": 17}, 2007, "met"),
        ({"field": "age", "op": "<", "value": 18}, 2008, "met"),
        ({"field": "age", "op": ">=", "value": 216, "unit": "months"}, 2006, "met"),
    ],
)
def test_age_from_birth_year_is_a_two_year_range(rule, birth_year, status):
    assert judge(rule, patient(birth_year=birth_year))[0] == status


def test_age_straddle_reason_names_the_range():
    status, reason = judge(AGE_002, patient(birth_year=2007))
    assert status == "needs_review"
    assert reason == "age 17–18 (born 2007); limit between 18 and 75 years: the range straddles the limit"


@pytest.mark.parametrize(
    ("ecog", "status"), [(0, "met"), (1, "met"), (2, "not_met"), (4, "not_met"), (None, "needs_review")]
)
def test_ecog_zero_or_one(ecog, status):
    assert judge(ECOG_01, patient(ecog=ecog))[0] == status


@pytest.mark.parametrize(
    ("rule", "kind", "dates", "status"),
    [
        # seed 004 inclusion 6: recurrence < 6 months (182.625 days) after surgery
        (
            RECURRENCE_6M,
            "inclusion",
            {"surgery": date(2024, 6, 1), "recurrence": date(2024, 11, 30)},
            "met",
        ),  # 182
        (
            RECURRENCE_6M,
            "inclusion",
            {"surgery": date(2024, 6, 1), "recurrence": date(2024, 12, 1)},
            "not_met",
        ),  # 183
        (RECURRENCE_6M, "inclusion", {"recurrence": date(2024, 12, 1)}, "not_met"),  # no surgery
        (RECURRENCE_6M, "inclusion", {"surgery": date(2024, 6, 1)}, "not_met"),  # no recurrence
        # seed 002 inclusion 3: prior PD-1 ended >= 4 weeks before first dose
        (PD1_4W, "inclusion", {"prior_pd1_last_dose": 28}, "met"),
        (PD1_4W, "inclusion", {"prior_pd1_last_dose": 27}, "not_met"),
        (PD1_4W, "inclusion", {"prior_pd1_last_dose": 100}, "met"),
        (PD1_4W, "inclusion", {}, "not_met"),  # never had PD-1 therapy
        # seed 002 exclusion 4: haematopoietic growth factor within 1 week
        (GROWTH_1W, "exclusion", {"last_growth_factor": 7}, "met"),
        (GROWTH_1W, "exclusion", {"last_growth_factor": 8}, "not_met"),
        (GROWTH_1W, "exclusion", {"last_growth_factor": 0}, "met"),
        (GROWTH_1W, "exclusion", {}, "not_met"),
        # seed 004 exclusion 14: immunosuppressants within 14 days
        (IMMUNOSUPPRESSANT_14D, "exclusion", {"last_immunosuppressant": 14}, "met"),
        (IMMUNOSUPPRESSANT_14D, "exclusion", {"last_immunosuppressant": 15}, "not_met"),
        (IMMUNOSUPPRESSANT_14D, "exclusion", {}, "not_met"),
        # seed 004 exclusion 10: live vaccine within 4 weeks
        (LIVE_VACCINE_4W, "exclusion", {"last_live_vaccine": 28}, "met"),
        (LIVE_VACCINE_4W, "exclusion", {"last_live_vaccine": 29}, "not_met"),
        # seed 004 exclusion 4: any prior anti-PD-1
        (PRIOR_PD1, "exclusion", {"prior_pd1_first_dose": 400}, "met"),
        (PRIOR_PD1, "exclusion", {}, "not_met"),
        ({"not": GROWTH_1W}, "inclusion", {}, "met"),
    ],
)
def test_interval_rules_with_events_absent_or_present(rule, kind, dates, status):
    assert judge(rule, patient(dates=dates), kind=kind)[0] == status


def test_interval_reason_shows_days_and_rule_unit():
    p = patient(dates={"surgery": date(2024, 6, 1), "recurrence": date(2024, 12, 1)})
    assert judge(RECURRENCE_6M, p)[1] == (
        "surgery 2024-06-01 to recurrence 2024-12-01: 183 days = 6.01 months; limit < 6 months"
    )
    assert judge(PD1_4W, patient())[1] == "no prior PD-1 last dose in the patient's history"


@pytest.mark.parametrize(
    ("sex", "test", "status"),
    [
        ("M", None, "met"),
        ("F", PregnancyTest("negative", AS_OF - timedelta(days=7)), "met"),
        ("F", PregnancyTest("negative", AS_OF - timedelta(days=8)), "needs_review"),
        ("F", PregnancyTest("positive", AS_OF - timedelta(days=2)), "not_met"),
        ("F", PregnancyTest("not_applicable", AS_OF - timedelta(days=2)), "met"),
        ("F", PregnancyTest("negative", None), "needs_review"),
        ("F", None, "needs_review"),
        (None, PregnancyTest("negative", AS_OF - timedelta(days=1)), "met"),
        (None, None, "needs_review"),
    ],
)
def test_negative_pregnancy_test_within_7_days(sex, test, status):
    assert judge(PREGNANCY, patient(sex=sex, pregnancy=test))[0] == status


HGB_WITH_REVIEW = {"all": [HGB_100, {"review": "no transfusion or colony-stimulating factor support"}]}


@pytest.mark.parametrize(
    ("hgb", "confirmations", "unstructured", "status"),
    [
        (120, {}, False, "needs_review"),
        (120, {"1": "met"}, False, "met"),
        (120, {"1": "not_met"}, False, "not_met"),
        (120, {}, True, "met"),
        (80, {}, False, "not_met"),  # the data settles it whatever the investigator says
        (80, {"1": "met"}, False, "not_met"),
        (80, {}, True, "not_met"),
        (None, {"1": "met"}, False, "needs_review"),  # a confirmation does not stand in for data
        (None, {}, True, "needs_review"),
        (120, {"1": "not_met"}, True, "not_met"),  # the investigator's answer wins over the default
    ],
)
def test_review_part_answered_by_confirmation_or_confirm_unstructured(
    hgb, confirmations, unstructured, status
):
    labs = () if hgb is None else (lab("HGB", hgb, "g/L"),)
    p = patient(*labs, confirmations=confirmations, confirm_unstructured=unstructured)
    assert judge(HGB_WITH_REVIEW, p)[0] == status


def test_unanswered_review_part_names_what_to_judge():
    status, reason = judge(HGB_WITH_REVIEW, patient(lab("HGB", 120, "g/L")))
    assert status == "needs_review"
    assert reason == "investigator to judge: no transfusion or colony-stimulating factor support"


def test_confirmation_does_not_replace_missing_data_and_says_so():
    status, reason = judge(HGB_WITH_REVIEW, patient(confirmations={"1": "met"}))
    assert status == "needs_review"
    assert reason.startswith("no HGB result")
    assert "not missing or out-of-window data" in reason


@pytest.mark.parametrize(
    ("rule", "kind", "status"),
    [
        ({"review": "x"}, "inclusion", "met"),
        ({"review": "x"}, "exclusion", "not_met"),
        ({"not": {"review": "x"}}, "inclusion", "met"),
        ({"not": {"review": "x"}}, "exclusion", "not_met"),
        ({"not": {"not": {"review": "x"}}}, "exclusion", "not_met"),
        ({"any": [{"review": "x"}, {"not": {"review": "y"}}]}, "exclusion", "not_met"),
        ({"all": [{"review": "x"}, {"not": {"review": "y"}}]}, "inclusion", "met"),
        # the data settles the exclusion against the patient: no review answer changes that
        ({"any": [{"review": "x"}, {"field": "ecog", "op": ">=", "value": 2}]}, "exclusion", "met"),
        ({"not": {"all": [{"review": "x"}, {"field": "ecog", "op": "<=", "value": 1}]}}, "inclusion", "met"),
    ],
)
def test_confirm_unstructured_answers_in_the_patients_favour_at_each_polarity(rule, kind, status):
    p = patient(ecog=3 if kind == "exclusion" and "any" in rule else 1, confirm_unstructured=True)
    assert judge(rule, p, kind=kind)[0] == status


@pytest.mark.parametrize(
    ("rule", "kind", "answer", "status"),
    [
        ({"review": "active infection"}, "exclusion", "met", "met"),
        ({"review": "active infection"}, "exclusion", "not_met", "not_met"),
        ({"not": {"review": "no active infection"}}, "exclusion", "met", "met"),
        ({"not": {"review": "no active infection"}}, "exclusion", "not_met", "not_met"),
        ({"not": {"review": "x"}}, "inclusion", "not_met", "not_met"),
    ],
)
def test_explicit_confirmation_moves_the_criterion_to_the_answer(rule, kind, answer, status):
    p = patient(confirmations={f"{kind[0].upper()}1": answer})
    assert judge(rule, p, kind=kind)[0] == status


@pytest.mark.parametrize(
    ("kind", "confirmations", "unstructured", "status", "reason"),
    [
        ("inclusion", {}, False, "needs_review", "no checkable rule: the investigator must confirm"),
        ("inclusion", {}, True, "met", "confirm_unstructured"),
        ("exclusion", {}, True, "not_met", "confirm_unstructured"),
        ("inclusion", {"1": "met"}, False, "met", "the investigator confirmed: met"),
        ("inclusion", {"1": "not_met"}, True, "not_met", "the investigator confirmed: not met"),
        ("exclusion", {"1": "met"}, True, "met", "the investigator confirmed: met"),
    ],
)
def test_criterion_without_rule(kind, confirmations, unstructured, status, reason):
    p = patient(confirmations=confirmations, confirm_unstructured=unstructured)
    result, why = judge(None, p, kind=kind)
    assert result == status
    assert reason in why


TRUE = {"field": "ecog", "op": "<=", "value": 1}
FALSE = {"field": "ecog", "op": ">=", "value": 3}
UNKNOWN = {"field": "ALT", "op": "<=", "value": 1.5, "ref": "ULN"}
VALUES = {"T": TRUE, "F": FALSE, "U": UNKNOWN}
STATUS = {"T": "met", "F": "not_met", "U": "needs_review"}


@pytest.mark.parametrize(
    ("a", "b", "all_", "any_"),
    [
        ("T", "T", "T", "T"),
        ("T", "F", "F", "T"),
        ("T", "U", "U", "T"),
        ("F", "T", "F", "T"),
        ("F", "F", "F", "F"),
        ("F", "U", "F", "U"),
        ("U", "T", "U", "T"),
        ("U", "F", "F", "U"),
        ("U", "U", "U", "U"),
    ],
)
def test_all_and_any_follow_kleene_logic(a, b, all_, any_):
    p = patient(ecog=0)
    assert judge({"all": [VALUES[a], VALUES[b]]}, p)[0] == STATUS[all_]
    assert judge({"any": [VALUES[a], VALUES[b]]}, p)[0] == STATUS[any_]


@pytest.mark.parametrize(("a", "negated"), [("T", "F"), ("F", "T"), ("U", "U")])
def test_not_follows_kleene_logic(a, negated):
    assert judge({"not": VALUES[a]}, patient(ecog=0))[0] == STATUS[negated]


def test_unknown_lab_unit_needs_review_and_names_the_unit():
    status, reason = judge(HGB_100, patient(lab("HGB", 12, "g/dl/x")))
    assert status == "needs_review"
    assert "g/dl/x" in reason


def test_impossible_conversion_needs_review():
    status, reason = judge(HGB_100, patient(lab("HGB", 12, "U/L")))
    assert status == "needs_review"
    assert "HGB" in reason


SEED_004_LIKE = [
    Criterion("inclusion", "1", "consent", None),
    Criterion("inclusion", "2", "age", AGE_004),
    Criterion("inclusion", "3", "resection", {"review": "radical resection and neck dissection"}),
    Criterion("inclusion", "8", "ECOG", ECOG_01),
    Criterion("inclusion", "14", "pregnancy", PREGNANCY),
    Criterion("exclusion", "1", "nasopharynx", None),
    Criterion("exclusion", "3", "trials", None),
    Criterion("exclusion", "14", "immunosuppressants", IMMUNOSUPPRESSANT_14D),
]


@pytest.mark.parametrize(
    ("key", "answer", "criterion"),
    [
        ("I3", "met", ("inclusion", "3")),
        ("i3", "met", ("inclusion", "3")),
        ("E3", "not_met", ("exclusion", "3")),
        ("E1", "met", ("exclusion", "1")),
        ("8", "met", ("inclusion", "8")),
    ],
)
def test_confirmation_keys_pick_the_criterion(key, answer, criterion):
    p = patient(confirmations={key: answer}, birth_year=1970, ecog=0)
    result = evaluate(SEED_004_LIKE, p, AS_OF)
    chosen = next(c for c in result.criteria if (c.kind, c.number) == criterion)
    if chosen.number != "8":
        assert chosen.status == answer
    others = [c for c in result.criteria if (c.kind, c.number) != criterion and c.number in ("1", "3")]
    assert all(c.status == "needs_review" for c in others)


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("3", "confirmations.3: ambiguous"),
        ("1", "confirmations.1: ambiguous"),
        ("99", "confirmations.99: no criterion numbered '99'"),
        ("I99", "confirmations.I99: no criterion"),
        ("X3", "confirmations.X3: no criterion"),
    ],
)
def test_ambiguous_or_unknown_confirmation_key_is_an_error(key, message):
    with pytest.raises(ConfirmationError, match=message):
        evaluate(SEED_004_LIKE, patient(confirmations={key: "met"}), AS_OF)


def test_same_criterion_confirmed_twice_is_an_error():
    with pytest.raises(ConfirmationError, match="confirmed twice"):
        evaluate(SEED_004_LIKE, patient(confirmations={"I3": "met", "i3": "met"}), AS_OF)


@pytest.mark.parametrize(
    ("overrides", "outcome"),
    [
        ({}, "eligible"),
        ({"ecog": 2}, "ineligible"),
        ({"dates": {"last_immunosuppressant": 3}}, "ineligible"),
        ({"birth_year": 1954}, "needs_review"),  # 70-71
        ({"ecog": None}, "needs_review"),
        ({"ecog": 2, "birth_year": 1954}, "ineligible"),  # one settled failure is enough
        ({"confirm_unstructured": False}, "needs_review"),
        ({"confirmations": {"E1": "met"}}, "ineligible"),
        ({"sex": "F"}, "needs_review"),  # no pregnancy test
        ({"sex": "F", "pregnancy": PregnancyTest("negative", AS_OF - timedelta(days=3))}, "eligible"),
        ({"sex": "F", "pregnancy": PregnancyTest("positive", AS_OF - timedelta(days=3))}, "ineligible"),
    ],
)
def test_outcome_over_a_seed_004_like_study(overrides, outcome):
    kwargs = {"birth_year": 1970, "sex": "M", "ecog": 1, "confirm_unstructured": True}
    kwargs.update(overrides)
    assert evaluate(SEED_004_LIKE, patient(**kwargs), AS_OF).outcome == outcome


SEED_002_LIKE = [
    Criterion("inclusion", "1", "age", AGE_002),
    Criterion("inclusion", "3", "prior PD-1", {"all": [PD1_4W, {"review": "toxicities back to grade ≤ 1"}]}),
    Criterion("inclusion", "6", "ECOG", ECOG_01),
    Criterion("inclusion", "8a", "marrow", {"all": [*MARROW["all"], {"review": "no transfusion"}]}),
    Criterion("inclusion", "8b", "liver", LIVER),
    Criterion("inclusion", "8c", "renal", RENAL),
    Criterion("inclusion", "8d", "urine", URINE),
    Criterion("exclusion", "4", "growth factors", GROWTH_1W),
]
GOOD_002_LABS = (
    *GOOD_MARROW,
    lab("BILI", 10, "umol/L", uln=20),
    lab("AST", 30, "U/L", uln=40),
    lab("ALT", 30, "U/L", uln=40),
    lab("CREAT", 80, "umol/L", uln=110),
    lab("BUN", 150, "mg/L"),
    lab("UPROT", "negative"),
)


@pytest.mark.parametrize(
    ("replace", "extra", "outcome"),
    [
        ({}, {}, "eligible"),
        ({"ALT": lab("ALT", 61, "U/L", uln=40)}, {}, "ineligible"),
        ({"ALT": lab("ALT", 60, "U/L", uln=40)}, {}, "eligible"),
        ({"HGB": lab("HGB", 9.9, "g/dL")}, {}, "ineligible"),
        ({"HGB": lab("HGB", 10, "g/dL")}, {}, "eligible"),
        ({"HGB": lab("HGB", 120, "g/L", days_before=20)}, {}, "needs_review"),
        ({"BUN": lab("BUN", 20.1, "mg/dL")}, {}, "ineligible"),
        ({"UPROT": lab("UPROT", "2+")}, {}, "ineligible"),
        ({"PLAT": lab("PLAT", 99000, "/mm3")}, {}, "ineligible"),
        ({}, {"dates": {"prior_pd1_last_dose": 27}}, "ineligible"),
        ({}, {"dates": {}}, "ineligible"),  # no prior PD-1 therapy at all
        ({}, {"dates": {"prior_pd1_last_dose": 40, "last_growth_factor": 6}}, "ineligible"),
        ({}, {"birth_year": 2007}, "needs_review"),
        ({}, {"confirm_unstructured": False}, "needs_review"),
    ],
)
def test_outcome_over_a_seed_002_like_study(replace, extra, outcome):
    labs = [replace.get(item.test, item) for item in GOOD_002_LABS]
    kwargs = {
        "birth_year": 1965,
        "ecog": 0,
        "dates": {"prior_pd1_last_dose": 40},
        "confirm_unstructured": True,
    }
    kwargs.update(extra)
    assert evaluate(SEED_002_LIKE, patient(*labs, **kwargs), AS_OF).outcome == outcome


def test_result_serialises_to_the_case_output_shape():
    result = evaluate(SEED_004_LIKE[:2], patient(birth_year=1970), AS_OF).to_dict()
    assert result == {
        "outcome": "needs_review",
        "criteria": [
            {
                "number": "1",
                "kind": "inclusion",
                "status": "needs_review",
                "reason": "no checkable rule: the investigator must confirm",
            },
            {
                "number": "2",
                "kind": "inclusion",
                "status": "met",
                "reason": "age 54–55 (born 1970); limit between 18 and 70 years",
            },
        ],
    }


# --- the case file format -------------------------------------------------------------------

BASE_CASE = {"id": "c1", "study": "NCT06170697", "as_of": "2025-03-15"}


def test_case_file_reads_every_part():
    case = parse_case(
        {
            **BASE_CASE,
            "subject": {"birth_year": 1970, "sex": "F"},
            "ecog": 1,
            "vitals": {"weight_kg": 60.5, "height_cm": 165},
            "labs": [
                {"test": "ALT", "value": 30, "unit": "U/L", "lln": 0, "uln": 40, "date": "2025-03-10"},
                {"test": "UPROT", "value": "+", "date": "2025-03-10"},
            ],
            "dates": {"surgery": "2024-06-01"},
            "pregnancy_test": {"date": "2025-03-12", "result": "negative"},
            "confirmations": {"I1": "met"},
            "confirm_unstructured": True,
        }
    )
    assert case.as_of == AS_OF
    assert case.patient.subject == Subject(1970, "F")
    assert case.patient.weight_kg == Decimal("60.5")
    assert case.patient.labs[0].uln == Decimal(40)
    assert case.patient.labs[1].value == "1+"
    assert case.patient.dates == {"surgery": date(2024, 6, 1)}
    assert case.patient.pregnancy_test == PregnancyTest("negative", date(2025, 3, 12))
    assert case.patient.confirm_unstructured is True
    assert case.warnings == ()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"id": None}, "id"),
        ({"study": ""}, "study"),
        ({"as_of": "15/03/2025"}, "as_of"),
        ({"as_of": None}, "as_of"),
        ({"subject": {"birth_year": "1970"}}, "subject.birth_year"),
        ({"subject": {"sex": "female"}}, "subject.sex"),
        ({"ecog": 6}, "ecog"),
        ({"vitals": {"weight_kg": "heavy"}}, "vitals.weight_kg"),
        ({"labs": [{"test": "ALT", "value": "high", "unit": "U/L"}]}, "labs[0].value"),
        ({"labs": [{"test": "ALT", "unit": "U/L"}]}, "labs[0].value"),
        ({"labs": [{"test": "ALT", "value": 3}]}, "labs[0].unit"),
        ({"labs": [{"test": "ALT", "value": 3, "unit": "U/L", "date": "2025-13-01"}]}, "labs[0].date"),
        ({"labs": [{"test": "UPROT", "value": "5+"}]}, "labs[0].value"),
        ({"dates": {"sugery": "2024-01-01"}}, "dates.sugery"),
        ({"pregnancy_test": {"result": "neg"}}, "pregnancy_test.result"),
        ({"confirmations": {"I1": "yes"}}, "confirmations.I1"),
        ({"confirm_unstructured": "yes"}, "confirm_unstructured"),
        ({"hpv": "negative"}, "hpv"),
    ],
)
def test_malformed_case_names_the_case_and_field(changes, field):
    raw = {**BASE_CASE, **changes}
    if raw.get("id") is None:
        raw.pop("id")
    with pytest.raises(CaseError) as caught:
        parse_case(raw, 4)
    assert caught.value.field == field
    assert caught.value.case_id == ("c1" if "id" in raw else "cases[4]")


def test_unknown_lab_unit_and_unknown_test_are_warnings_not_errors():
    case = parse_case(
        {
            **BASE_CASE,
            "labs": [
                {"test": "HGB", "value": 12, "unit": "g/dl/x", "date": "2025-03-10"},
                {"test": "FEV1", "value": 2, "unit": "L"},
            ],
        }
    )
    assert [lab.test for lab in case.patient.labs] == ["HGB"]
    assert case.warnings[0].startswith("labs[0].unit: unknown unit 'g/dl/x'")
    assert case.warnings[1].startswith("labs[1].test: unknown test 'FEV1'")
