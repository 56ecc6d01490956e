"""Which CTCAE v5.0 terms grade which lab test (pure, no Django).

A lab test of the one lab store (edc/core/labs.py STANDARD_UNITS) is graded under every term listed
here; a test with two directions (sodium, potassium, calcium, glucose) is graded under both terms and
the one that reaches a grade is the finding (a value cannot be both low and high). Tests without a
CTCAE term graded by value (urea, creatinine clearance) are absent: they propose nothing. Terms whose
value rule is not encoded in edc/safety/ctcae.py (INR increased, hyperglycemia: graded by the
intervention given) are listed so the engine says so ("grade clinically") instead of staying silent.
"""

from __future__ import annotations

from typing import Final

LAB_TERMS: Final[dict[str, tuple[str, ...]]] = {
    "HGB": ("Anemia",),
    "ALB": ("Hypoalbuminemia",),
    "WBC": ("White blood cell decreased",),
    "NEUT": ("Neutrophil count decreased",),
    "LYM": ("Lymphocyte count decreased",),
    "PLAT": ("Platelet count decreased",),
    "BILI": ("Blood bilirubin increased",),
    "CREAT": ("Creatinine increased",),
    "GLUC": ("Hypoglycemia", "Hyperglycemia"),
    "CA": ("Hypocalcemia", "Hypercalcemia"),
    "AST": ("Aspartate aminotransferase increased",),
    "ALT": ("Alanine aminotransferase increased",),
    "ALP": ("Alkaline phosphatase increased",),
    "GGT": ("GGT increased",),
    "LIPASE": ("Lipase increased",),
    "AMYLASE": ("Serum amylase increased",),
    "K": ("Hypokalemia", "Hyperkalemia"),
    "SODIUM": ("Hyponatremia", "Hypernatremia"),
    "MG": ("Hypomagnesemia",),
    "INR": ("INR increased",),
    "UPROT": ("Proteinuria",),
    "UPROT24H": ("Proteinuria",),
}


def terms_for(test: str) -> tuple[str, ...]:
    """The CTCAE terms a lab test is graded under (empty: none)."""
    return LAB_TERMS.get(test.strip().upper(), ())
