"""Clinical unit parsing and conversion (edc/core/units.py): known values, spellings, refusals."""

from decimal import Decimal

import pytest

from edc.core.units import UnitError, compatible, convert, dimension, normalize_unit, to_decimal


def rounded(value: Decimal, places: str) -> Decimal:
    return value.quantize(Decimal(places))


@pytest.mark.parametrize(
    ("spelling", "canonical"),
    [
        ("10^9/L", "10^9/L"),
        ("10e9/L", "10^9/L"),
        ("10E9/L", "10^9/L"),
        ("x10^9/L", "10^9/L"),
        ("×10⁹/L", "10^9/L"),
        ("x 10^9 /L", "10^9/L"),
        ("10*9/L", "10^9/L"),
        ("10**9/L", "10^9/L"),
        ("10^9/l", "10^9/L"),
        ("10^9 cells/L", "10^9/L"),
        ("/mm3", "/mm3"),
        ("/mm³", "/mm3"),
        ("cells/mm3", "/mm3"),
        ("/uL", "/uL"),
        ("/µL", "/uL"),
        ("/μL", "/uL"),
        ("cells/uL", "/uL"),
        ("10^3/uL", "10^3/uL"),
        ("10³/µL", "10^3/uL"),
        ("10^3/mm3", "10^3/uL"),
        ("10^12/L", "10^12/L"),
        ("g/dL", "g/dL"),
        ("g/dl", "g/dL"),
        ("g/L", "g/L"),
        ("g/l", "g/L"),
        ("mg/dL", "mg/dL"),
        ("mg/dl", "mg/dL"),
        ("MG/DL", "mg/dL"),
        ("mg/L", "mg/L"),
        ("umol/L", "umol/L"),
        ("µmol/L", "umol/L"),
        ("μmol/L", "umol/L"),
        ("µmol/l", "umol/L"),
        ("mmol/L", "mmol/L"),
        ("mmol/l", "mmol/L"),
        ("U/L", "U/L"),
        ("IU/L", "U/L"),
        ("iu/l", "U/L"),
        ("mmHg", "mmHg"),
        ("mm Hg", "mmHg"),
        ("C", "C"),
        ("°C", "C"),
        ("F", "F"),
        ("°F", "F"),
        ("ms", "ms"),
        ("msec", "ms"),
        ("mL/min", "mL/min"),
        ("ml/min", "mL/min"),
        ("mL/min/1.73m²", "mL/min/1.73m2"),
        ("kg", "kg"),
        ("cm", "cm"),
        ("m", "m"),
        ("m²", "m2"),
        ("kg/m²", "kg/m2"),
        ("mg/24h", "mg/24h"),
        ("mg/24 h", "mg/24h"),
        ("mg/day", "mg/24h"),
        ("g/24h", "g/24h"),
        ("%", "%"),
        ("mEq/L", "mEq/L"),
        ("meq/l", "mEq/L"),
        ("days", "days"),
        ("day", "days"),
        ("weeks", "weeks"),
        ("wk", "weeks"),
        ("months", "months"),
        ("month", "months"),
        ("years", "years"),
        ("yr", "years"),
        ("  mg/dL  ", "mg/dL"),
    ],
)
def test_unit_spelling_is_normalised_to_its_canonical_form(spelling, canonical):
    assert normalize_unit(spelling) == canonical


@pytest.mark.parametrize(
    "unit",
    ["mg/dl/x", "furlongs", "", "   ", "M", "10^9", "mg/d/L", "g/dll", "K", "U/ml/x"],
)
def test_unknown_unit_is_refused_naming_the_unit(unit):
    with pytest.raises(UnitError) as excinfo:
        normalize_unit(unit)
    if unit.strip():
        assert repr(unit) in str(excinfo.value)


@pytest.mark.parametrize("unit", ["G/L", "T/L"])
def test_giga_per_litre_is_refused_as_ambiguous_with_grams_per_litre(unit):
    with pytest.raises(UnitError, match="ambiguous"):
        normalize_unit(unit)


def test_unit_that_is_not_text_is_refused():
    with pytest.raises(UnitError):
        normalize_unit(None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "from_unit", "to_unit", "analyte", "places", "expected"),
    [
        # creatinine 1 mg/dL = 88.4 umol/L
        (1, "mg/dL", "umol/L", "CREAT", "0.1", "88.4"),
        (1, "mg/dL", "µmol/L", "CREAT", "0.1", "88.4"),
        ("88.4", "umol/L", "mg/dL", "CREAT", "0.01", "1.00"),
        ("1.5", "mg/dL", "umol/L", "CREAT", "0.1", "132.6"),
        # bilirubin 1 mg/dL = 17.1 umol/L
        (1, "mg/dL", "umol/L", "BILI", "0.1", "17.1"),
        ("17.1", "µmol/L", "mg/dL", "BILI", "0.01", "1.00"),
        (3, "mg/dL", "umol/L", "BILI", "0.1", "51.3"),
        # glucose 1 mmol/L = 18.0 mg/dL
        (1, "mmol/L", "mg/dL", "GLUC", "0.1", "18.0"),
        (100, "mg/dL", "mmol/L", "GLUC", "0.01", "5.55"),
        # calcium: 10 mg/dL = 2.5 mmol/L; 2 mEq/L = 1 mmol/L
        (10, "mg/dL", "mmol/L", "CA", "0.01", "2.50"),
        ("2.5", "mmol/L", "mg/dL", "CA", "0.1", "10.0"),
        (2, "mEq/L", "mmol/L", "CA", "0.01", "1.00"),
        (5, "mEq/L", "mg/dL", "CA", "0.01", "10.02"),
        # magnesium: 2 mEq/L = 1 mmol/L = 2.43 mg/dL
        (2, "mEq/L", "mmol/L", "MG", "0.01", "1.00"),
        (1, "mmol/L", "mg/dL", "MG", "0.01", "2.43"),
        # sodium and potassium: mEq/L = mmol/L
        (140, "mEq/L", "mmol/L", "SODIUM", "1", "140"),
        ("4.2", "mEq/L", "mmol/L", "K", "0.1", "4.2"),
        ("4.2", "mmol/L", "mEq/L", "K", "0.1", "4.2"),
        # urea and urea nitrogen
        (1, "mmol/L", "mg/dL", "BUN", "0.1", "2.8"),
        (1, "mmol/L", "mg/dL", "UREA", "0.1", "6.0"),
        (28, "mg/dL", "mmol/L", "BUN", "0.1", "10.0"),
        # BUN mg/L vs mg/dL needs no analyte
        (200, "mg/L", "mg/dL", None, "1", "20"),
        (20, "mg/dL", "mg/L", None, "1", "200"),
        (20, "mg/dL", "mg/L", "BUN", "1", "200"),
        # haemoglobin: 10 g/dL = 100 g/L = 6.2 mmol/L (CTCAE anemia)
        (10, "g/dL", "g/L", None, "1", "100"),
        (100, "g/L", "g/dL", None, "0.1", "10.0"),
        (10, "g/dL", "mmol/L", "HGB", "0.1", "6.2"),
        (8, "g/dL", "mmol/L", "HGB", "0.1", "5.0"),
        ("6.2", "mmol/L", "g/dL", "HGB", "0.1", "10.0"),
        # counts
        (1500, "/mm3", "10^9/L", None, "0.1", "1.5"),
        (1500, "/mm³", "×10⁹/L", None, "0.1", "1.5"),
        (1500, "/uL", "10^9/L", None, "0.1", "1.5"),
        ("1.5", "10^9/L", "/mm3", None, "1", "1500"),
        (75000, "/mm3", "10^9/L", None, "1", "75"),
        (4, "10^3/uL", "10^9/L", None, "1", "4"),
        (4, "10^9/L", "10^3/uL", None, "1", "4"),
        ("4.5", "10^12/L", "10^9/L", None, "1", "4500"),
        # temperature
        ("98.6", "F", "C", None, "0.1", "37.0"),
        (37, "°C", "°F", None, "0.1", "98.6"),
        ("38.0", "C", "F", None, "0.1", "100.4"),
        (32, "F", "C", None, "1", "0"),
        (-40, "C", "F", None, "1", "-40"),
        # durations: a month is 30.4375 days
        (1, "months", "days", None, "0.0001", "30.4375"),
        (6, "months", "days", None, "0.0001", "182.6250"),
        (4, "weeks", "days", None, "1", "28"),
        (1, "years", "days", None, "0.01", "365.25"),
        (12, "months", "years", None, "1", "1"),
        (48, "h", "days", None, "1", "2"),
        (1, "days", "h", None, "1", "24"),
        # vitals and body measures
        (500, "ms", "s", None, "0.1", "0.5"),
        (180, "cm", "m", None, "0.01", "1.80"),
        (1, "g/24h", "mg/24h", None, "1", "1000"),
        (3500, "mg/24h", "g/24h", None, "0.1", "3.5"),
        (1, "ukat/L", "U/L", None, "1", "60"),
        (40, "IU/L", "U/L", None, "1", "40"),
        (120, "mmHg", "mm Hg", None, "1", "120"),
    ],
)
def test_known_conversions_give_the_clinical_value(value, from_unit, to_unit, analyte, places, expected):
    result = convert(value, from_unit, to_unit, analyte=analyte)
    assert isinstance(result, Decimal)
    assert rounded(result, places) == Decimal(expected)


@pytest.mark.parametrize(
    ("value", "from_unit", "to_unit", "expected"),
    [
        (10, "g/dL", "g/L", Decimal("100")),
        (1500, "/mm3", "10^9/L", Decimal("1.5")),
        ("98.6", "F", "C", Decimal("37")),
        (1, "months", "days", Decimal("30.4375")),
        (0.1, "g/dL", "g/L", Decimal("1")),
        (1.1, "mg/L", "mg/dL", Decimal("0.11")),
    ],
)
def test_decimal_conversions_are_exact_with_no_float_noise(value, from_unit, to_unit, expected):
    assert convert(value, from_unit, to_unit) == expected


def test_float_input_is_read_through_its_text():
    assert to_decimal(0.1) == Decimal("0.1")
    assert to_decimal(1.5) * Decimal("1.2") == Decimal("1.8")


def test_conversion_to_the_same_unit_returns_the_value():
    assert convert("2.50", "mmol/L", "mmol/l") == Decimal("2.5")


def test_whole_number_results_are_not_written_in_exponent_form():
    assert str(convert(10, "g/dL", "g/L")) == "100"


@pytest.mark.parametrize(
    ("from_unit", "to_unit", "analyte", "message"),
    [
        ("mg/dL", "mmol/L", None, "without an analyte"),
        ("umol/L", "mg/dL", None, "without an analyte"),
        ("mEq/L", "mmol/L", None, "without an analyte"),
        ("mg/dL", "mmol/L", "ALT", "no molar mass for analyte 'ALT'"),
        ("mEq/L", "mmol/L", "GLUC", "no valence for analyte 'GLUC'"),
        ("g/L", "U/L", None, "'g/L' to 'U/L'"),
        ("g/L", "U/L", "HGB", "'g/L' to 'U/L'"),
        ("/mm3", "g/L", None, "'/mm3' to 'g/L'"),
        ("C", "mmHg", None, "'C' to 'mmHg'"),
        ("ms", "mmHg", None, "'ms' to 'mmHg'"),
        ("mg/24h", "mg/dL", None, "'mg/24h' to 'mg/dL'"),
        ("kg", "cm", None, "'kg' to 'cm'"),
        ("%", "g/L", None, "'%' to 'g/L'"),
    ],
)
def test_impossible_conversion_is_refused_naming_the_units(from_unit, to_unit, analyte, message):
    with pytest.raises(UnitError) as excinfo:
        convert(1, from_unit, to_unit, analyte=analyte)
    assert message in str(excinfo.value)
    assert repr(from_unit) in str(excinfo.value)


@pytest.mark.parametrize(
    ("from_unit", "to_unit"), [("mg/dl/x", "mg/dL"), ("mg/dL", "bananas/L"), ("G/L", "10^9/L")]
)
def test_conversion_with_an_unknown_unit_is_refused(from_unit, to_unit):
    with pytest.raises(UnitError):
        convert(1, from_unit, to_unit, analyte="CREAT")


@pytest.mark.parametrize("value", ["abc", "", None, True, float("nan"), float("inf"), [1]])
def test_a_value_that_is_not_a_number_is_refused(value):
    with pytest.raises(UnitError):
        convert(value, "g/L", "g/dL")


@pytest.mark.parametrize(
    ("unit", "analyte", "expected"),
    [
        ("10^9/L", None, "count_concentration"),
        ("/mm3", None, "count_concentration"),
        ("g/dL", None, "mass_concentration"),
        ("mg/dL", None, "mass_concentration"),
        ("mg/dL", "CREAT", "concentration"),
        ("umol/L", "CREAT", "concentration"),
        ("umol/L", None, "substance_concentration"),
        ("mEq/L", None, "equivalent_concentration"),
        ("mEq/L", "K", "concentration"),
        ("mEq/L", "GLUC", "equivalent_concentration"),
        ("mg/dL", "ALT", "mass_concentration"),
        ("U/L", None, "catalytic_concentration"),
        ("U/L", "ALT", "catalytic_concentration"),
        ("mmHg", None, "pressure"),
        ("°F", None, "temperature"),
        ("ms", None, "time"),
        ("months", None, "time"),
        ("mL/min", None, "volume_flow"),
        ("g/24h", None, "mass_rate"),
        ("kg", None, "mass"),
        ("cm", None, "length"),
        ("%", None, "fraction"),
    ],
)
def test_dimension_names_the_quantity(unit, analyte, expected):
    assert dimension(unit, analyte) == expected


@pytest.mark.parametrize(
    ("a", "b", "analyte", "expected"),
    [
        ("g/dL", "g/L", None, True),
        ("/mm3", "10^9/L", None, True),
        ("mg/dL", "umol/L", None, False),
        ("mg/dL", "umol/L", "CREAT", True),
        ("mg/dL", "mmol/L", "ALT", False),
        ("mEq/L", "mmol/L", "MG", True),
        ("g/L", "U/L", None, False),
        ("C", "F", None, True),
        ("days", "months", None, True),
        ("mmHg", "ms", None, False),
    ],
)
def test_compatible_tells_whether_a_conversion_exists(a, b, analyte, expected):
    assert compatible(a, b, analyte=analyte) is expected


def test_compatible_still_refuses_an_unknown_unit():
    with pytest.raises(UnitError):
        compatible("mg/dl/x", "mg/dL")


def test_unit_error_is_a_value_error():
    assert issubclass(UnitError, ValueError)


def test_units_module_imports_nothing_from_django():
    import ast
    from pathlib import Path

    import edc.core.units as module

    tree = ast.parse(Path(module.__file__).read_text())
    imported = [
        alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
    ] + [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    assert not [name for name in imported if name.startswith("django")]
