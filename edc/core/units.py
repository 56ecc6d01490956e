"""Clinical units: the one place where units are parsed and converted.

Pure Python (no Django). Every module that compares a value with a threshold
converts through :func:`convert`, so that spelling variants and conversions are
decided once.

Decisions a reader should know about:

- Spellings are normalised before lookup: ``µ``/``μ`` -> ``u``, ``×`` -> ``x``,
  superscript digits, ``°``, spaces and ``cells`` are dropped, and every
  power-of-ten notation (``10^9``, ``10e9``, ``x10^9``, ``10*9``, ``10**9``,
  ``10⁹``) becomes ``10^9``. Letter case is ignored only for spellings with a
  ``/`` (``mg/dl``), so a single letter (``M`` molar vs ``m`` metre) is never
  guessed.
- ``G/L`` (giga per litre, used by some European labs for 10^9/L) differs from
  ``g/L`` (grams per litre) only by case. Reading it either way could turn a
  neutrophil count into a protein level, so it is refused as ambiguous: write
  ``10^9/L``. ``T/L`` is refused for the same reason.
- Counts: 1 /mm3 = 1 /uL = 10^-3 x 10^9/L (1500 /mm3 = 1.5 x 10^9/L);
  10^3/uL = 10^9/L.
- Mass and molar concentrations convert only for an analyte with a molar mass
  (``MOLAR_MASS``); milliequivalents only for an analyte with a valence
  (sodium and potassium: 1 mEq/L = 1 mmol/L; calcium and magnesium:
  1 mEq/L = 0.5 mmol/L). Without the analyte the conversion is refused.
- Haemoglobin uses the monomer mass 16 114 g/mol (16.114 g/mmol), the convention behind
  CTCAE's "10.0 g/dL; 6.2 mmol/L; 100 g/L".
- Urea nitrogen (``BUN``) is 28.014 g/mol: two nitrogen atoms per urea, so
  1 mmol/L urea = 2.8 mg/dL BUN.
- Durations: a month is 30.4375 days (the mean Gregorian month, 365.25 / 12), a
  year 365.25 days. Hours convert exactly because the base is the second.
- Arithmetic is Decimal. Factors are exact decimals; a conversion that divides
  by a molar mass, by 9 (°F) or by a non-decimal factor is computed to
  34 significant digits and callers round where they report.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation, localcontext
from typing import Final

__all__ = [
    "MOLAR_MASS",
    "UNITS",
    "VALENCE",
    "UnitError",
    "compatible",
    "convert",
    "dimension",
    "normalize_unit",
    "to_decimal",
]

_PRECISION: Final = 34


class UnitError(ValueError):
    """An unknown unit, an unknown analyte or an impossible conversion."""


# canonical spelling -> (dimension, factor to the dimension's base unit).
# Temperature is affine and handled apart; its factor is unused.
UNITS: Final[dict[str, tuple[str, Decimal]]] = {
    # number concentration, base 10^9/L
    "10^9/L": ("count_concentration", Decimal(1)),
    "10^3/uL": ("count_concentration", Decimal(1)),
    "10^12/L": ("count_concentration", Decimal(1000)),
    "10^6/uL": ("count_concentration", Decimal(1000)),
    "/mm3": ("count_concentration", Decimal("0.001")),
    "/uL": ("count_concentration", Decimal("0.001")),
    "/L": ("count_concentration", Decimal("1E-9")),
    # mass concentration, base g/L
    "g/L": ("mass_concentration", Decimal(1)),
    "g/dL": ("mass_concentration", Decimal(10)),
    "mg/mL": ("mass_concentration", Decimal(1)),
    "mg/dL": ("mass_concentration", Decimal("0.01")),
    "mg/L": ("mass_concentration", Decimal("0.001")),
    "ug/mL": ("mass_concentration", Decimal("0.001")),
    "ug/dL": ("mass_concentration", Decimal("0.00001")),
    "ug/L": ("mass_concentration", Decimal("0.000001")),
    "ng/mL": ("mass_concentration", Decimal("0.000001")),
    "ng/L": ("mass_concentration", Decimal("1E-9")),
    "pg/mL": ("mass_concentration", Decimal("1E-9")),
    "ng/dL": ("mass_concentration", Decimal("1E-8")),  # thyroid hormones (issue 19)
    # substance concentration, base mmol/L
    "mol/L": ("substance_concentration", Decimal(1000)),
    "mmol/L": ("substance_concentration", Decimal(1)),
    "umol/L": ("substance_concentration", Decimal("0.001")),
    "nmol/L": ("substance_concentration", Decimal("0.000001")),
    "pmol/L": ("substance_concentration", Decimal("1E-9")),  # free T4 / T3 (issue 19)
    # hormone activity (TSH), base mIU/L: 1 uIU/mL = 1 mIU/L
    "mIU/L": ("hormone_activity_concentration", Decimal(1)),
    "uIU/mL": ("hormone_activity_concentration", Decimal(1)),
    # charge concentration, base mEq/L
    "mEq/L": ("equivalent_concentration", Decimal(1)),
    # catalytic concentration, base U/L (1 ukat = 60 U)
    "U/L": ("catalytic_concentration", Decimal(1)),
    "ukat/L": ("catalytic_concentration", Decimal(60)),
    # pressure, base mmHg
    "mmHg": ("pressure", Decimal(1)),
    # temperature (affine)
    "C": ("temperature", Decimal(1)),
    "F": ("temperature", Decimal(1)),
    # time, base second (exact for ms up to years)
    "ms": ("time", Decimal("0.001")),
    "s": ("time", Decimal(1)),
    "min": ("time", Decimal(60)),
    "h": ("time", Decimal(3600)),
    "days": ("time", Decimal(86400)),
    "weeks": ("time", Decimal(604800)),
    "months": ("time", Decimal("30.4375") * 86400),
    "years": ("time", Decimal("365.25") * 86400),
    # rates
    "/min": ("frequency", Decimal(1)),
    "mL/min": ("volume_flow", Decimal(1)),
    "mL/s": ("volume_flow", Decimal(60)),
    "mL/min/1.73m2": ("normalized_volume_flow", Decimal(1)),
    "g/24h": ("mass_rate", Decimal(1)),
    "mg/24h": ("mass_rate", Decimal("0.001")),
    # body measures and doses, base kg / m / m2 / L / Gy
    "kg": ("mass", Decimal(1)),
    "g": ("mass", Decimal("0.001")),
    "mg": ("mass", Decimal("0.000001")),
    "ug": ("mass", Decimal("1E-9")),
    "lb": ("mass", Decimal("0.45359237")),
    "m": ("length", Decimal(1)),
    "cm": ("length", Decimal("0.01")),
    "mm": ("length", Decimal("0.001")),
    "in": ("length", Decimal("0.0254")),
    "m2": ("area", Decimal(1)),
    "kg/m2": ("body_mass_index", Decimal(1)),
    "L": ("volume", Decimal(1)),
    "mL": ("volume", Decimal("0.001")),
    "Gy": ("absorbed_dose", Decimal(1)),
    "cGy": ("absorbed_dose", Decimal("0.01")),
    "mg/kg": ("dose_per_mass", Decimal(1)),
    "mg/m2": ("dose_per_area", Decimal(1)),
    "mg·min/mL": ("exposure", Decimal(1)),
    "%": ("fraction", Decimal(1)),
}

# Spellings (after _clean) that are not the canonical one.
_ALIASES: Final[dict[str, str]] = {
    "10^9/l": "10^9/L",
    "10^3/ul": "10^3/uL",
    "10^3/mm3": "10^3/uL",
    "k/ul": "10^3/uL",
    "10^12/l": "10^12/L",
    "10^6/ul": "10^6/uL",
    "10^6/mm3": "10^6/uL",
    "/mm^3": "/mm3",
    "/cumm": "/mm3",
    "/ul": "/uL",
    "/l": "/L",
    "mmol/l": "mmol/L",
    "mol/l": "mol/L",
    "umol/l": "umol/L",
    "nmol/l": "nmol/L",
    "meq/l": "mEq/L",
    "iu/l": "U/L",
    "u/l": "U/L",
    "ukat/l": "ukat/L",
    "mmhg": "mmHg",
    "degc": "C",
    "celsius": "C",
    "degf": "F",
    "fahrenheit": "F",
    "msec": "ms",
    "sec": "s",
    "hour": "h",
    "hours": "h",
    "hr": "h",
    "hrs": "h",
    "d": "days",
    "day": "days",
    "week": "weeks",
    "wk": "weeks",
    "wks": "weeks",
    "w": "weeks",
    "month": "months",
    "mo": "months",
    "mon": "months",
    "year": "years",
    "yr": "years",
    "yrs": "years",
    "y": "years",
    "bpm": "/min",
    "beats/min": "/min",
    "breaths/min": "/min",
    "ml/min": "mL/min",
    "ml/s": "mL/s",
    "ml/min/1.73m2": "mL/min/1.73m2",
    "ml/min/1.73m^2": "mL/min/1.73m2",
    "g/d": "g/24h",
    "g/day": "g/24h",
    "g/24hr": "g/24h",
    "g/24hours": "g/24h",
    "mg/d": "mg/24h",
    "mg/day": "mg/24h",
    "mg/24hr": "mg/24h",
    "mg/24hours": "mg/24h",
    "m^2": "m2",
    "kg/m^2": "kg/m2",
    "ml": "mL",
    "l": "L",
    "lbs": "lb",
    "mg/m^2": "mg/m2",
    "mg*min/ml": "mg·min/mL",
    "mg/ml*min": "mg·min/mL",
    "mg/ml·min": "mg·min/mL",
    "mg·min/ml": "mg·min/mL",
    "auc": "mg·min/mL",
    "percent": "%",
}

# Refused outright because they are one case-slip away from another unit.
_AMBIGUOUS: Final[dict[str, str]] = {
    "G/L": "'G/L' (giga per litre) is ambiguous with 'g/L' (grams per litre); write '10^9/L'",
    "T/L": "'T/L' (tera per litre) is ambiguous; write '10^12/L'",
}

_SUPERSCRIPTS: Final = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")
_POWER_OF_TEN: Final = re.compile(r"^x?10(?:\^|\*\*|\*|e)(\d+)", re.IGNORECASE)
_SUPERSCRIPT_RUN: Final = re.compile(r"([⁰¹²³⁴⁵⁶⁷⁸⁹⁻]+)")

# Analyte codes are the lab codes of the eligibility grammar (docs/definitions.md).
MOLAR_MASS: Final[dict[str, Decimal]] = {
    "CREAT": Decimal("113.12"),  # 1 mg/dL = 88.4 umol/L
    "BILI": Decimal("584.66"),  # 1 mg/dL = 17.1 umol/L
    "GLUC": Decimal("180.16"),  # 1 mmol/L = 18.0 mg/dL
    "CA": Decimal("40.08"),
    "MG": Decimal("24.305"),
    "UREA": Decimal("60.06"),
    "BUN": Decimal("28.014"),  # urea nitrogen: 2 N per urea molecule
    # Monomer (one haem) mass 16 114 g/mol, i.e. 16.114 g/mmol: CTCAE's 10.0 g/dL = 6.2 mmol/L.
    "HGB": Decimal("16114"),
    "K": Decimal("39.098"),
    "SODIUM": Decimal("22.990"),
    "CL": Decimal("35.45"),
    "PHOS": Decimal("30.974"),  # reported as phosphorus
    "URATE": Decimal("168.11"),
    "FT4": Decimal("776.87"),  # thyroxine: 1 ng/dL = 12.87 pmol/L
    "FT3": Decimal("650.97"),  # triiodothyronine: 1 pg/mL = 1.536 pmol/L
}

VALENCE: Final[dict[str, int]] = {
    "SODIUM": 1,
    "K": 1,
    "CL": 1,
    "CA": 2,
    "MG": 2,
}

_ANALYTE_ALIASES: Final[dict[str, str]] = {
    "NA": "SODIUM",
    "POTASSIUM": "K",
    "CALCIUM": "CA",
    "MAGNESIUM": "MG",
    "CREATININE": "CREAT",
    "BILIRUBIN": "BILI",
    "GLUCOSE": "GLUC",
    "HEMOGLOBIN": "HGB",
    "HAEMOGLOBIN": "HGB",
    "HB": "HGB",
    "CHLORIDE": "CL",
}

_CHEMICAL: Final = frozenset({"mass_concentration", "substance_concentration", "equivalent_concentration"})


def _build_casefold() -> dict[str, str]:
    table: dict[str, str] = {}
    clashes: set[str] = set()
    for spelling, canonical in [*((u, u) for u in UNITS), *_ALIASES.items()]:
        key = spelling.casefold()
        if key in table and table[key] != canonical:
            clashes.add(key)
        table[key] = canonical
    for key in clashes:
        del table[key]
    return table


_CASEFOLD: Final = _build_casefold()


def _clean(unit: str) -> str:
    text = unit.strip()
    text = text.replace("µ", "u").replace("μ", "u").replace("×", "x").replace("°", "")
    text = _SUPERSCRIPT_RUN.sub(lambda m: "^" + m.group(1).translate(_SUPERSCRIPTS), text)
    text = re.sub(r"\s+", "", text)
    text = re.sub(r"(?i)cells/", "/", text)
    text = re.sub(r"(?i)(mm|m|cm)\^([23])", r"\1\2", text)
    text = _POWER_OF_TEN.sub(lambda m: f"10^{m.group(1)}", text)
    return text


def normalize_unit(unit: str) -> str:
    """Return the canonical spelling of ``unit``; raise :class:`UnitError` if unknown."""
    if not isinstance(unit, str):
        raise UnitError(f"unit must be text, got {unit!r}")
    text = _clean(unit)
    if not text:
        raise UnitError("empty unit")
    if text in _AMBIGUOUS:
        raise UnitError(f"ambiguous unit {unit!r}: {_AMBIGUOUS[text]}")
    if text in UNITS:
        return text
    if text in _ALIASES:
        return _ALIASES[text]
    # Case is only forgiven where the spelling cannot be a single-letter symbol.
    if ("/" in text or len(text) > 2) and text.casefold() in _CASEFOLD:
        return _CASEFOLD[text.casefold()]
    raise UnitError(f"unknown unit {unit!r}")


def _analyte_code(analyte: str | None) -> str | None:
    if analyte is None:
        return None
    code = analyte.strip().upper()
    return _ANALYTE_ALIASES.get(code, code)


def to_decimal(value: object) -> Decimal:
    """Read a number exactly: floats go through ``str()`` so 0.1 stays 0.1."""
    if isinstance(value, bool):
        raise UnitError(f"not a number: {value!r}")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        result = Decimal(str(value))
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise UnitError(f"not a number: {value!r}") from None
    else:
        raise UnitError(f"not a number: {value!r}")
    if not result.is_finite():
        raise UnitError(f"not a finite number: {value!r}")
    return result


def _tidy(value: Decimal) -> Decimal:
    # Drop trailing fractional zeros without switching to exponent notation (100, not 1E+2).
    normal = value.normalize()
    exponent = normal.as_tuple().exponent  # an int for a finite value ("n", "N", "F" otherwise)
    if isinstance(exponent, int) and exponent > 0:
        normal = normal.quantize(Decimal(1))
    return normal


def dimension(unit: str, analyte: str | None = None) -> str:
    """The physical quantity of ``unit``.

    With an analyte that has a molar mass, mass, substance (and, with a
    valence, equivalent) concentrations are one interconvertible quantity and
    the answer is ``"concentration"``.
    """
    canonical = normalize_unit(unit)
    dim = UNITS[canonical][0]
    code = _analyte_code(analyte)
    if code is not None and dim in _CHEMICAL:
        if dim == "equivalent_concentration" and code not in VALENCE:
            return dim
        if dim == "mass_concentration" and code not in MOLAR_MASS:
            return dim
        return "concentration"
    return dim


def compatible(a: str, b: str, *, analyte: str | None = None) -> bool:
    """True when a value in ``a`` can be converted to ``b``.

    An unknown unit still raises :class:`UnitError`: unknown is not "incompatible".
    """
    normalize_unit(a)
    normalize_unit(b)
    try:
        convert(1, a, b, analyte=analyte)
    except UnitError:
        return False
    return True


def _to_mmol_per_l(value: Decimal, unit: str, dim: str, code: str | None, label: str) -> Decimal:
    factor = UNITS[unit][1]
    if dim == "substance_concentration":
        return value * factor
    if dim == "mass_concentration":
        if code is None:
            raise UnitError(f"cannot convert {label} without an analyte")
        if code not in MOLAR_MASS:
            raise UnitError(f"no molar mass for analyte {code!r}: cannot convert {label}")
        return value * factor * 1000 / MOLAR_MASS[code]
    if code is None:
        raise UnitError(f"cannot convert {label} without an analyte")
    if code not in VALENCE:
        raise UnitError(f"no valence for analyte {code!r}: cannot convert {label}")
    return value * factor / VALENCE[code]


def _from_mmol_per_l(mmol: Decimal, unit: str, dim: str, code: str | None, label: str) -> Decimal:
    factor = UNITS[unit][1]
    if dim == "substance_concentration":
        return mmol / factor
    if dim == "mass_concentration":
        if code is None:
            raise UnitError(f"cannot convert {label} without an analyte")
        if code not in MOLAR_MASS:
            raise UnitError(f"no molar mass for analyte {code!r}: cannot convert {label}")
        return mmol * MOLAR_MASS[code] / 1000 / factor
    if code is None:
        raise UnitError(f"cannot convert {label} without an analyte")
    if code not in VALENCE:
        raise UnitError(f"no valence for analyte {code!r}: cannot convert {label}")
    return mmol * VALENCE[code] / factor


def convert(value: object, from_unit: str, to_unit: str, *, analyte: str | None = None) -> Decimal:
    """Convert ``value`` from ``from_unit`` to ``to_unit`` in Decimal arithmetic.

    Raises :class:`UnitError` for an unknown unit, a conversion between
    different quantities, or a chemical conversion the analyte does not allow.
    """
    number = to_decimal(value)
    src = normalize_unit(from_unit)
    dst = normalize_unit(to_unit)
    label = f"{from_unit!r} to {to_unit!r}" + (f" for analyte {analyte!r}" if analyte else "")
    src_dim, src_factor = UNITS[src]
    dst_dim, dst_factor = UNITS[dst]
    code = _analyte_code(analyte)
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        if src == dst:
            return _tidy(number)
        if src_dim == dst_dim == "temperature":
            celsius = number if src == "C" else (number - 32) * 5 / 9
            return _tidy(celsius if dst == "C" else celsius * 9 / 5 + 32)
        if src_dim == dst_dim:
            return _tidy(number * src_factor / dst_factor)
        if src_dim in _CHEMICAL and dst_dim in _CHEMICAL:
            mmol = _to_mmol_per_l(number, src, src_dim, code, label)
            return _tidy(_from_mmol_per_l(mmol, dst, dst_dim, code, label))
    raise UnitError(f"cannot convert {label}: {src_dim} is not {dst_dim}")
