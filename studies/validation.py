"""Field-level rules of the trial definitions, each in one place.

The models use these as field validators (so the admin and `manage.py check` apply them), and the
definition-file models (studies/schema.py) read values with them, so a file, an admin form and a
stored row are held to the same rule with the same words.
"""

from __future__ import annotations

import re
import zoneinfo
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from edc.core.units import UnitError, dimension, normalize_unit

_DAYS_PART = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$", re.ASCII)


def dose_unit_problem(value: str) -> str | None:
    """Why ``value`` cannot be the unit of a dose amount, or None."""
    try:
        unit = normalize_unit(value)
    except UnitError as exc:
        return _("unknown unit %(unit)r (%(why)s)") % {"unit": value, "why": exc}
    if dimension(unit) in ("dose_per_mass", "dose_per_area"):
        return _("%(unit)r: give the amount's unit (mg) here and the body-size basis in dose_basis") % {
            "unit": value
        }
    return None


def item_unit_problem(value: str) -> str | None:
    try:
        normalize_unit(value)
    except UnitError as exc:
        return _("unknown unit %(unit)r (%(why)s)") % {"unit": value, "why": exc}
    return None


def validate_dose_unit(value: str) -> None:
    if value and (problem := dose_unit_problem(value)):
        raise ValidationError(problem, code="invalid_unit")


def validate_item_unit(value: str) -> None:
    if value and (problem := item_unit_problem(value)):
        raise ValidationError(problem, code="invalid_unit")


def validate_time_zone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(
            _("Unknown time zone %(zone)r.") % {"zone": value}, code="invalid_time_zone"
        ) from exc


def parse_dosing_days(value: Any) -> list[int]:
    """[1], 1, "1-14", "1,8,15" or ["1-14", 22] -> sorted day numbers; ValueError says what is wrong."""
    parts: list[Any] = value if isinstance(value, list) else [value]
    days: set[int] = set()
    for part in parts:
        if isinstance(part, bool):
            raise ValueError(_("expected day numbers, got %(value)r") % {"value": part})
        if isinstance(part, int):
            if part < 1:
                raise ValueError(_("day %(day)s: cycle days count from 1") % {"day": part})
            days.add(part)
            continue
        if not isinstance(part, str):
            raise ValueError(_("expected day numbers or ranges like '1-14', got %(value)r") % {"value": part})
        for piece in part.split(","):
            match = _DAYS_PART.match(piece)
            if not match:
                raise ValueError(
                    _("cannot read days %(days)r (write 1-14 or 1,8,15)") % {"days": piece.strip()}
                )
            low = int(match.group(1))
            high = int(match.group(2) or low)
            if low < 1 or high < low:
                raise ValueError(
                    _("days %(days)r: expected a rising range from day 1 on") % {"days": piece.strip()}
                )
            days.update(range(low, high + 1))
    return sorted(days)


def validate_dosing_days(value: Any) -> None:
    if not isinstance(value, list) or any(
        isinstance(d, bool) or not isinstance(d, int) or d < 1 for d in value
    ):
        raise ValidationError(
            _("Dosing days are a list of cycle days from 1, e.g. [1, 8, 15]."), code="invalid_days"
        )


def validate_text_list(value: Any) -> None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError(_("Expected a list of text."), code="invalid_list")


def validate_landmark_days(value: Any) -> None:
    """Landmark days of a survival endpoint: distinct whole numbers of days, at least 1."""
    if (
        not isinstance(value, list)
        or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in value)
        or len(set(value)) != len(value)
    ):
        raise ValidationError(
            _("Landmarks are distinct days from the anchor (1 or more), e.g. [365, 730]."),
            code="invalid_landmarks",
        )


def validate_response_criteria(value: Any) -> None:
    from studies.models import ResponseCriteria

    validate_text_list(value)
    bad = [v for v in value if v not in ResponseCriteria.values]
    if bad:
        raise ValidationError(
            _("%(bad)s not among %(known)s")
            % {"bad": ", ".join(map(repr, bad)), "known": ", ".join(ResponseCriteria.values)},
            code="invalid_choice",
        )


def validate_assumptions(value: Any) -> None:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in value.items()
    ):
        raise ValidationError(
            _("expected {field: reason} with a reason in words for each field"), code="invalid_assumptions"
        )


def rule_problems(value: Any) -> list[str]:
    # Imported here: the rule grammar belongs to the eligibility app, which loads after this one.
    from edc.eligibility.rules import validate_rule

    return [] if value is None else list(validate_rule(value))


def validate_criterion_rule(value: Any) -> None:
    problems = rule_problems(value)
    if problems:
        raise ValidationError("; ".join(problems), code="invalid_rule")
