"""Body surface area by Mosteller: the one formula every body-size dose and derivation uses.

Pure module (no Django). Rule: BSA (m²) = √(height (cm) × weight (kg) / 3600).
Source: Mosteller RD. Simplified calculation of body-surface area. N Engl J Med 1987;317(17):1098
(letter); the formula the trial definitions name (docs/definitions.md, "Interventions": "Body surface
area is Mosteller").

Shared by the dosing module (``edc.visits.dosing``) and the forms' derivations, so that a dose and
a displayed BSA never disagree. Exact Decimal arithmetic, unrounded (28 significant digits, the
default Decimal context): rounding a BSA or a dose to what the pharmacy dispenses is a separate,
stated step of the caller, never hidden here. Measurements are in cm and kg; convert other units
through ``edc.core.units`` first.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Final

MOSTELLER_DIVISOR: Final = Decimal(3600)

Number = Decimal | int | float | str


class BsaError(ValueError):
    """A measurement BSA cannot be computed from; ``field`` names it (height_cm or weight_kg)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _positive(field: str, value: Number) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int | float | str):
        raise BsaError(field, f"{value!r} is not a number")
    try:
        # A float goes through its shortest text (70.1, not 70.09999999999999431566): what was typed.
        number = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    except InvalidOperation:
        raise BsaError(field, f"{value!r} is not a number") from None
    if not number.is_finite() or number <= 0:
        raise BsaError(field, f"must be a positive number, not {value}")
    return number


def mosteller_bsa(*, height_cm: Number, weight_kg: Number) -> Decimal:
    """Body surface area in m²: √(height cm × weight kg / 3600), unrounded."""
    height = _positive("height_cm", height_cm)
    weight = _positive("weight_kg", weight_kg)
    return (height * weight / MOSTELLER_DIVISOR).sqrt()
