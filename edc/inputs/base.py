"""The base model and the value types every input format is written with. Pure: no Django.

Every model refuses unknown keys (``extra="forbid"``) and is strict: a number is not text, text is not
a number, ``"yes"`` is not true. The value types below do their own reading (and say what is wrong in
the words the formats' users know); each accepts exactly what docs/input-files.md says.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, WithJsonSchema

from edc.inputs.errors import fail


class InputModel(BaseModel):
    """An object of an input file: unknown keys refused, strict types, immutable once read."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, arbitrary_types_allowed=True)


def _empty(value: Any) -> None:
    if value is None:
        raise fail("must not be empty")


def _text(value: Any) -> str:
    _empty(value)
    if not isinstance(value, str):
        raise fail(f"expected text, got {value!r} (quote it to make it text)")
    return value.strip()


def _non_empty_text(value: Any) -> str:
    text = _text(value)
    if not text:
        raise fail("must be a non-empty string")
    return text


def _label(value: Any) -> str:
    """A code or number as people write it: text, or a plain number YAML read as one (5, 1.0)."""
    _empty(value)
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise fail(f"expected text, got {value!r}")
    text = str(value).strip()
    if not text:
        raise fail("must be a non-empty string")
    return text


def _whole(value: Any) -> int:
    _empty(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise fail(f"expected a whole number, got {value!r}")


def _count(value: Any) -> int:
    number = _whole(value)
    if number < 0:
        raise fail(f"must be 0 or more, got {number}")
    return number


def _positive(value: Any) -> int:
    number = _whole(value)
    if number <= 0:
        raise fail(f"must be more than 0, got {number}")
    return number


def _flag(value: Any) -> bool:
    _empty(value)
    if not isinstance(value, bool):
        raise fail(f"expected true or false, got {value!r}")
    return value


def _decimal(value: Any) -> Decimal:
    """An exact number from an int, a float (through its text: 7.5 stays 7.5) or numeric text."""
    _empty(value)
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise fail(f"expected a number, got {value!r}")
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation:
        raise fail(f"expected a number, got {value!r}") from None
    if not number.is_finite():
        raise fail(f"expected a finite number, got {value!r}")
    return number


def _positive_decimal(value: Any) -> Decimal:
    number = _decimal(value)
    if number <= 0:
        raise fail(f"must be more than 0, got {value}")
    return number


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)


def _date(value: Any) -> dt.date:
    """YYYY-MM-DD in ASCII digits (YAML may hand over a date it already read)."""
    _empty(value)
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise fail(f"must be a date YYYY-MM-DD, got {value!r}")


def _datetime(value: Any) -> dt.datetime:
    _empty(value)
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and value.isascii():
        try:
            return dt.datetime.fromisoformat(value)
        except ValueError:
            pass
    raise fail(f"must be a date and time YYYY-MM-DDTHH:MM[:SS][+HH:MM], got {value!r}")


read_number = _decimal

# What each type accepts, for the API's schema (edc/inputs/openapi.py): the validators decide.
_NUMERIC_TEXT = r"^\s*[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?\s*$"
_SCHEMA_NON_EMPTY = {"type": "string", "pattern": r"\S"}
NUMBER_SCHEMA = {"anyOf": [{"type": "number"}, {"type": "string", "pattern": _NUMERIC_TEXT}]}
_SCHEMA_POSITIVE = {
    "anyOf": [
        {"type": "number", "minimum": 0, "exclusiveMinimum": True},
        {"type": "string", "pattern": r"^\s*\+?([0-9]*[1-9][0-9]*(\.[0-9]*)?|[0-9]*\.[0-9]*[1-9][0-9]*)\s*$"},
    ]
}

Text = Annotated[str, BeforeValidator(_text), WithJsonSchema({"type": "string"})]
NonEmptyText = Annotated[str, BeforeValidator(_non_empty_text), WithJsonSchema(_SCHEMA_NON_EMPTY)]
Label = Annotated[
    str, BeforeValidator(_label), WithJsonSchema({"anyOf": [_SCHEMA_NON_EMPTY, {"type": "number"}]})
]
WholeNumber = Annotated[int, BeforeValidator(_whole), WithJsonSchema({"type": "integer"})]
Count = Annotated[int, BeforeValidator(_count), WithJsonSchema({"type": "integer", "minimum": 0})]
PositiveInt = Annotated[int, BeforeValidator(_positive), WithJsonSchema({"type": "integer", "minimum": 1})]
Flag = Annotated[bool, BeforeValidator(_flag), WithJsonSchema({"type": "boolean"})]
Number = Annotated[Decimal, BeforeValidator(_decimal), WithJsonSchema(NUMBER_SCHEMA)]
PositiveNumber = Annotated[Decimal, BeforeValidator(_positive_decimal), WithJsonSchema(_SCHEMA_POSITIVE)]
IsoDate = Annotated[
    dt.date,
    BeforeValidator(_date),
    WithJsonSchema({"type": "string", "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}),
]
IsoDateTime = Annotated[
    dt.datetime, BeforeValidator(_datetime), WithJsonSchema({"type": "string", "format": "date-time"})
]


def choice_of(values: Iterable[str], *, what: str = "") -> BeforeValidator:
    """A text value from a fixed list, the message listing the list: ``Annotated[str, choice_of(...)]``.

    Written as the metadata of an ``Annotated`` type (not a function returning a type) so that type
    checkers read the field as ``str``.
    """
    allowed = tuple(values)

    def check(value: Any) -> str:
        _empty(value)
        if value not in allowed:
            prefix = f"unknown {what} " if what else ""
            raise fail(f"{prefix}{value!r} is not one of {', '.join(allowed)}")
        return str(value)

    # The schema lists the choices (edc/inputs/openapi.py); a dynamic Literal is what pydantic reads.
    return BeforeValidator(check, json_schema_input_type=Literal[allowed])


def choices_of(values: Iterable[str]) -> BeforeValidator:
    """A list of values from a fixed list: ``Annotated[list[str], choices_of(...)]``."""
    allowed = tuple(values)

    def check(value: Any) -> list[str]:
        _empty(value)
        if not isinstance(value, list):
            raise fail(f"expected a list, got {value!r}")
        bad = [v for v in value if v not in allowed]
        if bad:
            raise fail(f"{', '.join(map(repr, bad))} not among {', '.join(allowed)}")
        return list(value)

    return BeforeValidator(check, json_schema_input_type=list[Literal[allowed]])  # type: ignore[valid-type]


def one_of(values: Iterable[str], *, what: str = "") -> Any:
    """The older spelling of ``Annotated[str, choice_of(values)]``: a type checker cannot read a call
    as a type, so new code writes the ``Annotated`` form."""
    return Annotated[str, choice_of(values, what=what)]


def list_of_one_of(values: Iterable[str]) -> Any:
    """The older spelling of ``Annotated[list[str], choices_of(values)]``."""
    return Annotated[list[str], choices_of(values)]


# Keys that describe a case for its readers and that no engine reads: a worked example's answer
# (any key starting with "expected"), its title, tags, the rule it illustrates and free comments.
ANNOTATION_KEYS = frozenset({"title", "tags", "description", "comment", "comments", "notes", "note", "rule"})


def without_annotations(raw: Any, *, keys: frozenset[str] = ANNOTATION_KEYS) -> Any:
    """The case object without its annotation keys (a non-object is returned as it is)."""
    if not isinstance(raw, dict):
        return raw
    return {
        k: v for k, v in raw.items() if not (k in keys or (isinstance(k, str) and k.startswith("expected")))
    }
