"""The one lab value (edc/core/labs.py): reading an entered result, its standard value, and the
same value read by the eligibility engine and by CTCAE grading. Pure: no database."""

from __future__ import annotations

import ast
from decimal import Decimal
from pathlib import Path

import pytest

from edc.core.labs import LabValue, LabValueError, read_lab
from edc.eligibility import eligibility
from edc.safety.ctcae import GradingRequest, lab_request

ROOT = Path(__file__).resolve().parents[2]


def test_eligibility_and_ctcae_grading_read_the_same_lab_value_type():
    assert eligibility.LabResult is LabValue
    lab = LabValue("ALT", Decimal("120"), "U/L", uln=Decimal("40"))
    request = lab_request(
        "Alanine aminotransferase increased", lab, baseline=LabValue("ALT", Decimal("30"), "U/L")
    )
    assert request == GradingRequest(
        term="Alanine aminotransferase increased",
        value=Decimal("120"),
        unit="U/L",
        uln=Decimal("40"),
        baseline_value=Decimal("30"),
    )


def test_a_baseline_in_another_unit_is_converted_to_the_lab_s_unit():
    lab = LabValue("CREAT", Decimal("2.0"), "mg/dL", uln=Decimal("1.2"))
    request = lab_request("Creatinine increased", lab, baseline=LabValue("CREAT", Decimal("88.4"), "umol/L"))
    assert request.baseline_value.quantize(Decimal("0.001")) == Decimal("1.000")


@pytest.mark.parametrize(
    ("entered", "standard"),
    [
        ({"test": "HGB", "value": "10.0", "unit": "g/dL"}, (Decimal("100.0000"), "g/L")),
        ({"test": "HGB", "value": "6.2", "unit": "mmol/L"}, (Decimal("99.9068"), "g/L")),
        ({"test": "NEUT", "value": "1500", "unit": "/mm3"}, (Decimal("1.5000"), "10^9/L")),
        ({"test": "PLAT", "value": "100", "unit": "10^3/uL"}, (Decimal("100.0000"), "10^9/L")),
        ({"test": "CREAT", "value": "1", "unit": "mg/dL"}, (Decimal("88.4017"), "umol/L")),
        ({"test": "BILI", "value": "1.0", "unit": "mg/dL"}, (Decimal("17.1040"), "umol/L")),
        ({"test": "INR", "value": "1.1"}, (Decimal("1.1"), None)),
    ],
)
def test_an_entered_result_has_its_value_in_the_test_s_standard_unit(entered, standard):
    lab = read_lab(**entered)
    assert (lab.standard_value(), lab.standard_unit) == standard
    assert lab.value == Decimal(entered["value"])  # as entered, never rounded


@pytest.mark.parametrize(
    ("entered", "field"),
    [
        ({"test": "HBG", "value": 1, "unit": "g/L"}, "test"),
        ({"test": "HGB", "value": None, "unit": "g/L"}, "value"),
        ({"test": "HGB", "value": "lots", "unit": "g/L"}, "value"),
        ({"test": "HGB", "value": 120, "unit": None}, "unit"),
        ({"test": "HGB", "value": 120, "unit": "U/L"}, "unit"),
        ({"test": "NEUT", "value": 1.5, "unit": "G/L"}, "unit"),  # ambiguous with g/L
        ({"test": "INR", "value": 1.1, "unit": "%"}, "unit"),
        ({"test": "ALT", "value": 30, "unit": "U/L", "lln": 40, "uln": 10}, "lln"),
        ({"test": "UPROT", "value": 2, "unit": None}, "value"),
        ({"test": "UPROT", "value": "5+"}, "value"),
        ({"test": "UPROT", "value": "1+", "unit": "g/L"}, "unit"),
    ],
)
def test_an_entered_result_that_cannot_be_stored_names_the_field(entered, field):
    with pytest.raises(LabValueError) as refused:
        read_lab(**entered)
    assert refused.value.field == field


def test_a_dipstick_reading_is_read_as_its_code():
    assert read_lab(test="uprot", value="++").value == "2+"
    assert read_lab(test="UPROT", value="neg").value == "negative"


@pytest.mark.parametrize(
    ("value", "indicator"), [("9", "LOW"), ("10", "NORMAL"), ("40", "NORMAL"), ("40.1", "HIGH")]
)
def test_the_range_indicator_reads_the_site_lab_s_range_inclusively(value, indicator):
    lab = read_lab(test="ALT", value=value, unit="U/L", lln=10, uln=40)
    assert lab.range_indicator() == indicator


@pytest.mark.parametrize(
    "module",
    [
        "edc/core/labs.py",
        "edc/eligibility/record.py",
        "edc/eligibility/casefile.py",
        "edc/forms/codes.py",
        "edc/subjects/identifiers.py",
    ],
)
def test_the_journey_s_pure_modules_import_nothing_from_django(module):
    tree = ast.parse((ROOT / module).read_text(encoding="utf-8"))
    imported = {
        node.module if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in getattr(node, "names", [])
    }
    assert not [name for name in imported if name and name.split(".")[0] in {"django", "rest_framework"}]
