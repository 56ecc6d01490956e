"""The one laboratory value of the system, shared by eligibility, CTCAE grading and edit checks.

Pure: no Django. A `LabValue` is one result as the site's lab reported it (test code, value and
unit as entered, the site lab's LLN/ULN in the same unit, the sample date). Every lab row the
forms app stores becomes one through `LabResult.as_value()`; the eligibility case format reads into
it; CTCAE grading takes it (`edc.safety.ctcae.lab_request`).

`read_lab` is the one check of an entered result: a known test code, a unit that parses and fits
the test (haemoglobin in g/L or g/dL, never in U/L), a numeric value for a numeric test, a
dipstick reading for urine protein, LLN <= ULN. It also gives the value in the test's standard
unit (`STANDARD_UNITS`), converted through `edc.core.units`, which the lab store keeps beside the
value as entered.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from edc.core.units import UnitError, convert, normalize_unit, to_decimal

# The test codes the lab store takes (codelist LBTEST of the form registry), each with the unit
# its standard value is kept in (None: unitless or ordinal). SI units, as Chinese sites report.
STANDARD_UNITS: dict[str, str | None] = {
    "HGB": "g/L",
    "ALB": "g/L",
    "WBC": "10^9/L",
    "NEUT": "10^9/L",
    "LYM": "10^9/L",
    "PLAT": "10^9/L",
    "BILI": "umol/L",
    "CREAT": "umol/L",
    "GLUC": "mmol/L",
    "CA": "mmol/L",
    "UREA": "mmol/L",
    "BUN": "mmol/L",
    "AST": "U/L",
    "ALT": "U/L",
    "ALP": "U/L",
    "GGT": "U/L",
    "LIPASE": "U/L",
    "AMYLASE": "U/L",
    "CREATCLR": "mL/min",
    "K": "mmol/L",
    "SODIUM": "mmol/L",
    "MG": "mmol/L",
    "INR": None,
    "UPROT": None,
    "UPROT24H": "mg/24h",
    # Thyroid function (the PD-1 trials), coagulation, creatine kinase (issue 19).
    "TSH": "mIU/L",
    "FT4": "pmol/L",
    "FT3": "pmol/L",
    "PT": "s",
    "APTT": "s",
    "FIB": "g/L",
    "CK": "U/L",
}
ORDINAL_TESTS = frozenset({"UPROT"})
UNITLESS_TESTS = frozenset({"INR"})
# Urine protein dipstick, lowest first.
DIPSTICK = ("negative", "trace", "1+", "2+", "3+", "4+")
# Dipstick spellings labs print besides the codes above.
DIPSTICK_ALIASES = {"neg": "negative", "-": "negative", "+": "1+", "++": "2+", "+++": "3+", "++++": "4+"}
# Standard values are kept to this many decimals (the value as entered is kept exactly).
STANDARD_PLACES = Decimal("0.0001")


class LabValueError(ValueError):
    """An entered result that cannot be stored: names the field ("unit", "value", "lln", ...)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class LabValue:
    """One laboratory result as reported: value and unit as entered, LLN/ULN in that unit."""

    test: str
    value: Decimal | str | None  # text only for the urine protein dipstick ("2+")
    unit: str | None = None
    lln: Decimal | None = None
    uln: Decimal | None = None
    date: dt.date | None = None

    @property
    def is_ordinal(self) -> bool:
        return self.test in ORDINAL_TESTS

    @property
    def standard_unit(self) -> str | None:
        return STANDARD_UNITS.get(self.test)

    def in_unit(self, unit: str) -> Decimal:
        """The value converted to `unit` (UnitError when it cannot be)."""
        if not isinstance(self.value, Decimal):
            raise UnitError(f"{self.test}: {self.value!r} is not a number")
        if self.unit is None:
            raise UnitError(f"{self.test} has no unit")
        return convert(self.value, self.unit, unit, analyte=self.test)

    def standard_value(self) -> Decimal | None:
        """The value in the test's standard unit, rounded to 4 decimals (None: ordinal or no unit)."""
        if not isinstance(self.value, Decimal):
            return None
        target = self.standard_unit
        if target is None or self.unit is None:
            return self.value if self.test in UNITLESS_TESTS else None
        return self.in_unit(target).quantize(STANDARD_PLACES, rounding=ROUND_HALF_UP)

    def range_indicator(self) -> str | None:
        """LOW, NORMAL or HIGH against the site lab's range (None without a range or a number)."""
        if not isinstance(self.value, Decimal):
            return None
        if self.lln is not None and self.value < self.lln:
            return "LOW"
        if self.uln is not None and self.value > self.uln:
            return "HIGH"
        if self.lln is None and self.uln is None:
            return None
        return "NORMAL"


def dipstick(value: str) -> str:
    """A dipstick reading in its code ("++" -> "2+"), or LabValueError."""
    text = DIPSTICK_ALIASES.get(value.strip().lower(), value.strip().lower())
    if text not in DIPSTICK:
        raise LabValueError("value", f"urine protein is one of {', '.join(DIPSTICK)}, not {value!r}")
    return text


def read_lab(
    *,
    test: str,
    value: Decimal | str | int | float | None,
    unit: str | None = None,
    lln: Decimal | int | float | str | None = None,
    uln: Decimal | int | float | str | None = None,
    date: dt.date | None = None,
) -> LabValue:
    """An entered result checked and normalised (unit spelling, dipstick code), or LabValueError."""
    code = (test or "").strip().upper()
    if code not in STANDARD_UNITS:
        raise LabValueError("test", f"unknown test {test!r} (known: {', '.join(STANDARD_UNITS)})")
    if value is None or (isinstance(value, str) and not value.strip()):
        raise LabValueError("value", "a result is required (or mark the test not done)")
    if code in ORDINAL_TESTS:
        if not isinstance(value, str):
            raise LabValueError("value", f"urine protein is a dipstick reading ({', '.join(DIPSTICK)})")
        if unit not in (None, ""):
            raise LabValueError("unit", "a dipstick reading has no unit")
        if lln is not None or uln is not None:
            raise LabValueError("uln", "a dipstick reading has no normal range")
        return LabValue(test=code, value=dipstick(value), date=date)
    try:
        number = to_decimal(value)
    except UnitError:
        raise LabValueError("value", f"must be a number, not {value!r}") from None
    bounds: dict[str, Decimal | None] = {}
    for name, bound in (("lln", lln), ("uln", uln)):
        try:
            bounds[name] = None if bound is None else to_decimal(bound)
        except UnitError:
            raise LabValueError(name, f"must be a number, not {bound!r}") from None
    if bounds["lln"] is not None and bounds["uln"] is not None and bounds["lln"] > bounds["uln"]:
        raise LabValueError("lln", f"LLN {bounds['lln']} is above ULN {bounds['uln']}")
    canonical = _unit_for(code, unit)
    return LabValue(test=code, value=number, unit=canonical, lln=bounds["lln"], uln=bounds["uln"], date=date)


def _unit_for(code: str, unit: str | None) -> str | None:
    if code in UNITLESS_TESTS:
        if unit not in (None, ""):
            raise LabValueError("unit", f"{code} has no unit")
        return None
    if unit is None or not unit.strip():
        raise LabValueError("unit", f"{code} needs its unit (e.g. {STANDARD_UNITS[code]})")
    try:
        canonical = normalize_unit(unit)
    except UnitError as exc:
        raise LabValueError("unit", str(exc)) from None
    standard = STANDARD_UNITS[code]
    assert standard is not None
    try:
        convert(1, canonical, standard, analyte=code)
    except UnitError:
        raise LabValueError("unit", f"{unit!r} is not a unit of {code} (e.g. {standard})") from None
    return canonical
