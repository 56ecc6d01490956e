"""Body surface area by Mosteller (N Engl J Med 1987;317:1098): √(height cm × weight kg / 3600)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edc.core.bsa import BsaError, mosteller_bsa

FOUR_PLACES = Decimal("0.0001")


@pytest.mark.parametrize(
    ("height_cm", "weight_kg", "bsa"),
    [
        # Exact squares of the formula: 180 × 80 / 3600 = 4, 160 × 90 / 3600 = 4, 150 × 54 / 3600 = 2.25.
        ("180", "80", "2"),
        ("160", "90", "2"),
        ("150", "54", "1.5"),
        ("120", "30", "1"),
        # The textbook adult, 170 cm and 70 kg: 1.82 m² (to two places, as calculators print it).
        ("170", "70", "1.8181"),
        ("150", "60", "1.5811"),
        ("175.5", "68.2", "1.8234"),
    ],
)
def test_body_surface_area_is_the_square_root_of_height_times_weight_over_3600(height_cm, weight_kg, bsa):
    result = mosteller_bsa(height_cm=Decimal(height_cm), weight_kg=Decimal(weight_kg))
    assert result.quantize(FOUR_PLACES) == Decimal(bsa).quantize(FOUR_PLACES)


def test_the_textbook_adult_has_a_bsa_of_1_82_square_metres():
    assert mosteller_bsa(height_cm=170, weight_kg=70).quantize(Decimal("0.01")) == Decimal("1.82")


def test_exact_squares_come_out_exact_not_approximately():
    assert mosteller_bsa(height_cm=Decimal(180), weight_kg=Decimal(80)) == Decimal(2)
    assert mosteller_bsa(height_cm=Decimal(150), weight_kg=Decimal(54)) == Decimal("1.5")


def test_ints_strings_and_floats_are_read_as_their_decimal_text():
    expected = mosteller_bsa(height_cm=Decimal("170.2"), weight_kg=Decimal("70.1"))
    assert mosteller_bsa(height_cm="170.2", weight_kg="70.1") == expected
    assert mosteller_bsa(height_cm=170.2, weight_kg=70.1) == expected


@pytest.mark.parametrize(
    ("height_cm", "weight_kg", "field"),
    [(0, 70, "height_cm"), (170, 0, "weight_kg"), (-1, 70, "height_cm"), (170, "-3", "weight_kg")],
)
def test_a_measurement_that_is_not_positive_is_refused_naming_it(height_cm, weight_kg, field):
    with pytest.raises(BsaError, match="positive") as caught:
        mosteller_bsa(height_cm=height_cm, weight_kg=weight_kg)
    assert caught.value.field == field


@pytest.mark.parametrize("bad", ["tall", "NaN", "Infinity", None, True, [170]])
def test_something_that_is_not_a_number_is_refused_naming_the_field(bad):
    with pytest.raises(BsaError) as caught:
        mosteller_bsa(height_cm=bad, weight_kg=70)
    assert caught.value.field == "height_cm"


measurements = st.decimals(min_value=Decimal("30"), max_value=Decimal("250"), places=1)


@settings(max_examples=200, deadline=None)
@given(height=measurements, weight=measurements)
def test_bsa_squared_times_3600_gives_back_height_times_weight(height, weight):
    bsa = mosteller_bsa(height_cm=height, weight_kg=weight)
    assert abs(bsa * bsa * 3600 - height * weight) < Decimal("1e-20")


@settings(max_examples=200, deadline=None)
@given(
    height=measurements,
    weight=measurements,
    more=st.decimals(min_value=Decimal("0.1"), max_value=50, places=1),
)
def test_bsa_grows_with_weight_and_with_height(height, weight, more):
    bsa = mosteller_bsa(height_cm=height, weight_kg=weight)
    assert mosteller_bsa(height_cm=height, weight_kg=weight + more) > bsa
    assert mosteller_bsa(height_cm=height + more, weight_kg=weight) > bsa
    # Symmetric in its two measurements.
    assert mosteller_bsa(height_cm=weight, weight_kg=height) == bsa
