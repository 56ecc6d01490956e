"""Screened patients of seeds 002 and 004 in the (extended) eligibility case format, each with the
outcome the protocol gives: passes, failures at and around every numeric boundary (× ULN, g/L
against g/dL and mmol/L, 10⁹/L against /mm³ and /µL, creatinine in µmol/L), data missing or too
old, the investigator's parts. Every case carries its consent, so screening_import can store it.
"""

from __future__ import annotations

import copy
from typing import Any

AS_OF = "2025-03-15"
CONSENT = {"signed_at": "2025-02-20T09:00:00+08:00", "obtained_by": "Dr Li"}

LABS_002 = [
    {"test": "HGB", "value": 120, "unit": "g/L", "date": "2025-03-10"},
    {"test": "WBC", "value": 5.0, "unit": "10^9/L", "date": "2025-03-10"},
    {"test": "PLAT", "value": 200, "unit": "10^9/L", "date": "2025-03-10"},
    {"test": "BILI", "value": 10, "unit": "umol/L", "uln": 20, "date": "2025-03-10"},
    {"test": "AST", "value": 30, "unit": "U/L", "uln": 40, "date": "2025-03-10"},
    {"test": "ALT", "value": 30, "unit": "U/L", "uln": 40, "date": "2025-03-10"},
    {"test": "CREAT", "value": 0.9, "unit": "mg/dL", "uln": 1.2, "date": "2025-03-10"},
    {"test": "BUN", "value": 150, "unit": "mg/L", "date": "2025-03-10"},
    {"test": "UPROT", "value": "negative", "date": "2025-03-10"},
    {"test": "GLUC", "value": 5.5, "unit": "mmol/L", "lln": 3.9, "uln": 6.1, "date": "2025-03-10"},
]
PD1_002 = {
    "agent": "pembrolizumab",
    "regimen": "pembrolizumab",
    "class": "PD1",
    "setting": "RM",
    "line": 1,
    "start": "2024-09-15",
    "last_dose": "2025-02-01",
    "cycles": 6,
    "progression": True,
    "toxicity_recovered": True,
    "toxicity_grade": 1,
    "toxicity_ctcae": "4.03",
}
# The parts only the investigator can judge, answered (keys name the kind: 002 and 004 number
# inclusions and exclusions both from 1).
CONFIRM_002 = {
    "I5": "met",
    "I7": "met",
    "I8": "met",
    "I8a": "met",
    "I8f": "met",
    "E3": "not_met",
    "E8": "not_met",
    "E10": "not_met",
    "E13": "not_met",
    "E14": "not_met",
}


def base_002() -> dict[str, Any]:
    return {
        "study": "CET-DALP-HNSCC",
        "as_of": AS_OF,
        "consent": dict(CONSENT),
        "subject": {"birth_year": 1965, "sex": "M"},
        "ecog": 0,
        "vitals": {
            "weight_kg": 80,
            "height_cm": 175,
            "systolic_bp": 128,
            "diastolic_bp": 82,
            "heart_rate": 76,
        },
        "labs": copy.deepcopy(LABS_002),
        "dates": {"surgery": "2024-05-01", "recurrence": "2024-09-01"},
        "disease": {
            "primary_site": "OROPHARYNX",
            "histology": "SCC",
            "histology_confirmation": "HISTOLOGY",
            "setting": "LOCOREG",
            "measurable": True,
            "hpv_status": "NEG",
            "hpv_method": "IHC",
            "surgery_type": "RADICAL",
            "neck_dissection": True,
        },
        "prior_therapies": [dict(PD1_002)],
        "medical_history": [
            {"condition": "Hypertension", "category": "OTHER", "onset": "2015", "ongoing": True}
        ],
        "medications": [{"agent": "amlodipine", "category": "OTHER", "start": "2015", "ongoing": True}],
        "confirmations": dict(CONFIRM_002),
    }


def old_format_002() -> dict[str, Any]:
    """A case of the format before its extension (tests/eligibility/test_command.py's)."""
    return {
        "study": "CET-DALP-HNSCC",
        "as_of": AS_OF,
        "consent": dict(CONSENT),
        "subject": {"birth_year": 1965, "sex": "M"},
        "ecog": 0,
        "vitals": {"weight_kg": 80, "height_cm": 175},
        "labs": copy.deepcopy(LABS_002[:-1]),
        "dates": {"prior_pd1_first_dose": "2024-06-01", "prior_pd1_last_dose": "2025-02-01"},
        "confirm_unstructured": True,
    }


def _lab(case: dict[str, Any], test: str, **changes: Any) -> dict[str, Any]:
    for lab in case["labs"]:
        if lab["test"] == test:
            lab.update(changes)
            for key in [k for k, v in changes.items() if v is None]:
                del lab[key]
            return case
    case["labs"].append({"test": test, "date": "2025-03-10", **changes})
    return case


def _without_lab(case: dict[str, Any], test: str) -> dict[str, Any]:
    case["labs"] = [lab for lab in case["labs"] if lab["test"] != test]
    return case


def _set(case: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    node = case
    *parents, last = path.split(".")
    for key in parents:
        node = node[key]
    node[last] = value
    return case


def _pd1(case: dict[str, Any], **changes: Any) -> dict[str, Any]:
    case["prior_therapies"][0].update(changes)
    return case


def _row(case: dict[str, Any], section: str, **row: Any) -> dict[str, Any]:
    case[section].append(row)
    return case


# (id, how to change the base case, outcome)
CASES_002: list[tuple[str, Any, str]] = [
    ("002-base", lambda c: c, "eligible"),
    ("002-alt-1.525-uln", lambda c: _lab(c, "ALT", value=61), "ineligible"),
    ("002-alt-1.5-uln", lambda c: _lab(c, "ALT", value=60), "eligible"),
    ("002-bili-1.5-uln-umol", lambda c: _lab(c, "BILI", value=30, uln=20), "eligible"),
    ("002-bili-above-1.5-uln", lambda c: _lab(c, "BILI", value=30.1, uln=20), "ineligible"),
    ("002-hgb-9.9-g/dL", lambda c: _lab(c, "HGB", value=9.9, unit="g/dL"), "ineligible"),
    ("002-hgb-10-g/dL", lambda c: _lab(c, "HGB", value=10, unit="g/dL"), "eligible"),
    ("002-hgb-6.2-mmol/L", lambda c: _lab(c, "HGB", value=6.2, unit="mmol/L"), "ineligible"),  # 99.9 g/L
    ("002-hgb-6.21-mmol/L", lambda c: _lab(c, "HGB", value=6.21, unit="mmol/L"), "eligible"),  # 100.07 g/L
    ("002-hgb-15-days-old", lambda c: _lab(c, "HGB", date="2025-02-28"), "needs_review"),
    ("002-hgb-14-days-old", lambda c: _lab(c, "HGB", date="2025-03-01"), "eligible"),
    ("002-hgb-missing", lambda c: _without_lab(c, "HGB"), "needs_review"),
    ("002-wbc-3500-mm3-no-neut", lambda c: _lab(c, "WBC", value=3500, unit="/mm3"), "needs_review"),
    (
        "002-wbc-3.9-neut-2.0",
        lambda c: _lab(_lab(c, "WBC", value=3.9), "NEUT", value=2.0, unit="10^9/L"),
        "eligible",
    ),
    (
        "002-wbc-3.9-neut-1999-mm3",
        lambda c: _lab(_lab(c, "WBC", value=3.9), "NEUT", value=1999, unit="/mm3"),
        "ineligible",
    ),
    ("002-plat-99000-uL", lambda c: _lab(c, "PLAT", value=99000, unit="/uL"), "ineligible"),
    ("002-plat-100000-uL", lambda c: _lab(c, "PLAT", value=100000, unit="/uL"), "eligible"),
    ("002-bun-20.1-mg/dL", lambda c: _lab(c, "BUN", value=20.1, unit="mg/dL"), "ineligible"),
    ("002-bun-20-mg/dL", lambda c: _lab(c, "BUN", value=20, unit="mg/dL"), "eligible"),
    ("002-uprot-2plus", lambda c: _lab(c, "UPROT", value="2+"), "ineligible"),
    (
        "002-uprot-1plus-24h-499mg",
        lambda c: _lab(_lab(c, "UPROT", value="1+"), "UPROT24H", value=499, unit="mg/24h"),
        "eligible",
    ),
    (
        "002-uprot-1plus-24h-0.5g",
        lambda c: _lab(_lab(c, "UPROT", value="1+"), "UPROT24H", value=0.5, unit="g/24h"),
        "ineligible",
    ),
    # creatinine 1.6 x ULN; Cockcroft-Gault at 59-60 years, 80 kg: 55.6-56.3 mL/min
    ("002-creat-1.6-uln-80kg", lambda c: _lab(c, "CREAT", value=1.6, uln=1.0), "ineligible"),
    (
        "002-creat-141-umol-100kg",
        lambda c: _set(_lab(c, "CREAT", value=141, unit="umol/L", uln=100), "vitals.weight_kg", 100),
        "eligible",
    ),
    ("002-gluc-above-uln", lambda c: _lab(c, "GLUC", value=6.2), "needs_review"),
    (
        "002-gluc-above-uln-confirmed",
        lambda c: _set(_lab(c, "GLUC", value=6.2), "confirmations.I8e", "met"),
        "eligible",
    ),
    ("002-pd1-28-days", lambda c: _pd1(c, last_dose="2025-02-15"), "eligible"),
    ("002-pd1-27-days", lambda c: _pd1(c, last_dose="2025-02-16"), "ineligible"),
    ("002-pd1-toxicity-grade-2", lambda c: _pd1(c, toxicity_grade=2), "ineligible"),
    (
        "002-pd1-toxicity-graded-v5",
        lambda c: _pd1(c, toxicity_ctcae="5.0"),
        "needs_review",
    ),
    ("002-pd1-no-progression", lambda c: _pd1(c, progression=False), "needs_review"),
    (
        "002-pd1-no-progression-confirmed",
        lambda c: _set(_pd1(c, progression=False), "confirmations.I3", "met"),
        "eligible",
    ),
    ("002-hpv-positive", lambda c: _set(c, "disease.hpv_status", "POS"), "ineligible"),
    ("002-hpv-by-pcr", lambda c: _set(c, "disease.hpv_method", "PCR"), "ineligible"),
    (
        "002-prior-cetuximab",
        lambda c: _row(
            c,
            "prior_therapies",
            agent="cetuximab",
            **{"class": "ANTI_EGFR"},
            start="2023-01",
            last_dose="2023-06",
        ),
        "ineligible",
    ),
    (
        "002-hiv",
        lambda c: _row(c, "medical_history", condition="HIV", category="HIV", onset="2010", ongoing=True),
        "ineligible",
    ),
    (
        "002-malignancy-ended-5-years-ago",
        lambda c: _row(
            c,
            "medical_history",
            condition="Thyroid cancer",
            category="OTHER_MALIGNANCY",
            onset="2019-06",
            end="2020-03-15",
            ongoing=False,
        ),
        "ineligible",
    ),
    (
        "002-malignancy-ended-5-years-and-a-day-ago",
        lambda c: _row(
            c,
            "medical_history",
            condition="Thyroid cancer",
            category="OTHER_MALIGNANCY",
            onset="2019-06",
            end="2020-03-14",
            ongoing=False,
        ),
        "eligible",
    ),
    (
        "002-growth-factor-7-days",
        lambda c: _row(
            c,
            "medications",
            agent="G-CSF",
            category="GROWTH_FACTOR",
            start="2025-03-06",
            stop="2025-03-08",
            ongoing=False,
        ),
        "ineligible",
    ),
    (
        "002-growth-factor-8-days",
        lambda c: _row(
            c,
            "medications",
            agent="G-CSF",
            category="GROWTH_FACTOR",
            start="2025-03-05",
            stop="2025-03-07",
            ongoing=False,
        ),
        "eligible",
    ),
    (
        "002-trial-drug-4-weeks",
        lambda c: _row(
            c,
            "medications",
            agent="XYZ-123",
            category="INVESTIGATIONAL",
            start="2024-12",
            stop="2025-02-15",
            ongoing=False,
        ),
        "ineligible",
    ),
    (
        "002-trial-drug-4-weeks-and-a-day",
        lambda c: _row(
            c,
            "medications",
            agent="XYZ-123",
            category="INVESTIGATIONAL",
            start="2024-12",
            stop="2025-02-14",
            ongoing=False,
        ),
        "eligible",
    ),
    ("002-age-75-76", lambda c: _set(c, "subject.birth_year", 1949), "needs_review"),
    ("002-age-74-75", lambda c: _set(c, "subject.birth_year", 1950), "eligible"),
    ("002-age-76-77", lambda c: _set(c, "subject.birth_year", 1948), "ineligible"),
    ("002-ecog-2", lambda c: _set(c, "ecog", 2), "ineligible"),
    ("002-no-confirmations", lambda c: _set(c, "confirmations", {}), "needs_review"),
    ("002-old-format", lambda c: old_format_002(), "eligible"),
    (
        "002-old-format-unconfirmed",
        lambda c: _set(old_format_002(), "confirm_unstructured", False),
        "needs_review",
    ),
]


CONFIRM_004 = {
    "I9": "met",
    "I10": "met",
    "I12": "met",
    "I13": "met",
    "E3": "not_met",
    "E7": "not_met",
    "E8": "not_met",
    "E11": "not_met",
    "E12": "not_met",
}


def base_004() -> dict[str, Any]:
    return {
        "study": "NCT06170697",
        "as_of": AS_OF,
        "consent": {"signed_at": "2025-03-01T10:30:00+08:00", "version": "1.0"},
        "subject": {"birth_year": 1970, "sex": "M"},
        "ecog": 1,
        "vitals": {"weight_kg": 65.5, "height_cm": 168},
        "labs": [{"test": "HGB", "value": 128, "unit": "g/L", "date": "2025-03-05"}],
        "dates": {"surgery": "2024-10-01", "recurrence": "2025-02-01"},
        "disease": {
            "primary_site": "ORAL_CAVITY",
            "histology": "SCC",
            "histology_confirmation": "HISTOLOGY",
            "setting": "LOCAL",
            "measurable": True,
            "surgery_type": "RADICAL",
            "neck_dissection": True,
            "recurrence_confirmation": "RADIOLOGY",
            "recurrence_imaging_count": 2,
            "metastasis_excluded": True,
            "metastasis_method": "PETCT",
        },
        "prior_therapies": [],
        "medical_history": [],
        "medications": [],
        "confirmations": dict(CONFIRM_004),
    }


def old_format_004() -> dict[str, Any]:
    return {
        "study": "NCT06170697",
        "as_of": AS_OF,
        "consent": {"signed_at": "2025-03-01T10:30:00+08:00"},
        "subject": {"birth_year": 1970, "sex": "M"},
        "ecog": 1,
        "dates": {"surgery": "2024-10-01", "recurrence": "2025-02-01"},
        "confirm_unstructured": True,
    }


def _female(case: dict[str, Any], **test: Any) -> dict[str, Any]:
    case["subject"]["sex"] = "F"
    if test:
        case["pregnancy_test"] = test
    return case


CASES_004: list[tuple[str, Any, str]] = [
    ("004-base", lambda c: c, "eligible"),
    ("004-age-70-71", lambda c: _set(c, "subject.birth_year", 1954), "needs_review"),
    ("004-age-69-70", lambda c: _set(c, "subject.birth_year", 1955), "eligible"),
    ("004-age-71-72", lambda c: _set(c, "subject.birth_year", 1953), "ineligible"),
    ("004-ecog-2", lambda c: _set(c, "ecog", 2), "ineligible"),
    (
        "004-recurrence-183-days",
        lambda c: _set(c, "dates", {"surgery": "2024-06-01", "recurrence": "2024-12-01"}),
        "ineligible",
    ),
    (
        "004-recurrence-182-days",
        lambda c: _set(c, "dates", {"surgery": "2024-06-01", "recurrence": "2024-11-30"}),
        "eligible",
    ),
    (
        "004-no-surgery",
        lambda c: _set(
            _set(c, "dates", {"recurrence": "2024-11-30"}),
            "disease",
            {k: v for k, v in c["disease"].items() if k not in ("surgery_type", "neck_dissection")},
        ),
        "ineligible",
    ),
    (
        "004-pregnancy-urine-7-days",
        lambda c: _female(c, date="2025-03-08", result="negative", specimen="URINE"),
        "eligible",
    ),
    (
        "004-pregnancy-urine-8-days",
        lambda c: _female(c, date="2025-03-07", result="negative", specimen="URINE"),
        "needs_review",
    ),
    (
        "004-pregnancy-serum",
        lambda c: _female(c, date="2025-03-08", result="negative", specimen="SERUM"),
        "ineligible",
    ),
    (
        "004-pregnancy-specimen-not-recorded",
        lambda c: _female(c, date="2025-03-08", result="negative"),
        "needs_review",
    ),
    (
        "004-pregnancy-positive",
        lambda c: _female(c, date="2025-03-08", result="positive", specimen="URINE"),
        "ineligible",
    ),
    ("004-woman-without-test", lambda c: _female(c), "needs_review"),
    (
        "004-prior-pd1",
        lambda c: _row(
            c,
            "prior_therapies",
            agent="camrelizumab",
            **{"class": "PD1"},
            start="2023-02",
            last_dose="2023-08",
            setting="RM",
            ongoing=False,
        ),
        "ineligible",
    ),
    (
        "004-adjuvant-chemotherapy",
        lambda c: _row(
            c,
            "prior_therapies",
            agent="cisplatin",
            **{"class": "CHEMOTHERAPY"},
            start="2024-11",
            last_dose="2024-12",
            setting="ADJ",
            ongoing=False,
        ),
        "ineligible",
    ),
    ("004-nasopharynx", lambda c: _set(c, "disease.primary_site", "NASOPHARYNX"), "ineligible"),
    ("004-one-radiograph", lambda c: _set(c, "disease.recurrence_imaging_count", 1), "ineligible"),
    ("004-chest-ct-only", lambda c: _set(c, "disease.metastasis_method", "CT_CHEST"), "ineligible"),
    ("004-no-neck-dissection", lambda c: _set(c, "disease.neck_dissection", False), "ineligible"),
    (
        "004-live-vaccine-28-days",
        lambda c: _row(
            c,
            "medications",
            agent="yellow fever vaccine",
            category="LIVE_VACCINE",
            start="2025-02-15",
            ongoing=False,
        ),
        "ineligible",
    ),
    (
        "004-live-vaccine-29-days",
        lambda c: _row(
            c,
            "medications",
            agent="yellow fever vaccine",
            category="LIVE_VACCINE",
            start="2025-02-14",
            ongoing=False,
        ),
        "eligible",
    ),
    (
        "004-immunosuppressant-14-days",
        lambda c: _row(
            c,
            "medications",
            agent="prednisone 30 mg",
            category="IMMUNOSUPP",
            start="2025-02-20",
            stop="2025-03-01",
            ongoing=False,
        ),
        "needs_review",
    ),
    (
        "004-immunosuppressant-14-days-confirmed",
        lambda c: _set(
            _row(
                c,
                "medications",
                agent="prednisone 30 mg",
                category="IMMUNOSUPP",
                start="2025-02-20",
                stop="2025-03-01",
                ongoing=False,
            ),
            "confirmations.E14",
            "met",
        ),
        "ineligible",
    ),
    (
        "004-immunosuppressant-15-days",
        lambda c: _row(
            c,
            "medications",
            agent="prednisone 30 mg",
            category="IMMUNOSUPP",
            start="2025-02-20",
            stop="2025-02-28",
            ongoing=False,
        ),
        "eligible",
    ),
    (
        "004-malignancy-in-2021",
        lambda c: _row(
            c,
            "medical_history",
            condition="Breast cancer",
            category="OTHER_MALIGNANCY",
            onset="2020-11",
            end="2021-01",
            ongoing=False,
        ),
        "ineligible",
    ),
    (
        "004-skin-carcinoma-in-2024",
        lambda c: _row(
            c,
            "medical_history",
            condition="Basal cell carcinoma",
            category="SKIN_OR_IN_SITU_CARCINOMA",
            onset="2024-01",
            end="2024-02",
            ongoing=False,
        ),
        "eligible",
    ),
    (
        "004-hypothyroidism",
        lambda c: _row(
            c,
            "medical_history",
            condition="Hashimoto hypothyroidism",
            category="AUTOIMMUNE_DISEASE",
            onset="2012",
            ongoing=True,
        ),
        "needs_review",
    ),
    (
        "004-hypothyroidism-admitted",
        lambda c: _set(
            _row(
                c,
                "medical_history",
                condition="Hashimoto hypothyroidism",
                category="AUTOIMMUNE_DISEASE",
                onset="2012",
                ongoing=True,
            ),
            "confirmations.E13",
            "not_met",
        ),
        "eligible",
    ),
    (
        "004-history-not-recorded",
        lambda c: {k: v for k, v in c.items() if k != "medical_history"},
        "needs_review",
    ),
    ("004-old-format", lambda c: old_format_004(), "eligible"),
]


def build(table: list[tuple[str, Any, str]], base: Any) -> list[tuple[dict[str, Any], str]]:
    cases = []
    for case_id, change, outcome in table:
        case = change(base())
        case["id"] = case_id
        cases.append((case, outcome))
    return cases


def all_cases() -> list[tuple[dict[str, Any], str]]:
    return build(CASES_002, base_002) + build(CASES_004, base_004)
