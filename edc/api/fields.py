"""Strict serializer fields: a value of the wrong type is an error that names the field, never coerced.

DRF's defaults accept `"study": 1.5` as 1, `"initials": 12` as "12" and Arabic-Indic or full-width
digits in numbers and dates. These accept exactly the JSON type the field holds (and, for form-encoded
bodies, the ASCII text of a number), nothing else.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from decimal import Decimal
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from edc.core.partial_dates import PartialDate, PartialDateError

_INTEGER = re.compile(r"-?[0-9]+", re.ASCII)
_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?", re.ASCII)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
MAX_ID = 2**63 - 1


def _is_number(data: Any) -> bool:
    return isinstance(data, int | float) and not isinstance(data, bool)


class StrictPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """An id is a whole number (or, for UUID keys, a UUID string): 1.5, true, "1.0" and "١" are refused."""

    default_error_messages = {
        "incorrect_type": _("Incorrect type. Expected an id, received {data_type}."),
    }

    def to_internal_value(self, data: Any) -> Any:
        queryset = self.get_queryset()
        assert queryset is not None, "a writable id field needs a queryset"
        pk = queryset.model._meta.pk
        if isinstance(pk, models.UUIDField):
            if not isinstance(data, str):
                self.fail("incorrect_type", data_type=type(data).__name__)
            try:
                value: Any = uuid.UUID(data)
            except ValueError:
                self.fail("incorrect_type", data_type=_("text that is not a UUID"))
        else:
            if isinstance(data, int) and not isinstance(data, bool):
                value = data
            elif isinstance(data, str) and _INTEGER.fullmatch(data):
                value = int(data)
            else:
                self.fail("incorrect_type", data_type=type(data).__name__)
            if not 0 < value <= MAX_ID:
                self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(value)


class _BlankIsAValue:
    """In a form-encoded body DRF reads `date=` as "not given" for an optional field; here an empty
    value of a typed field is a value, and refused as that type (JSON bodies are unchanged)."""

    def get_value(self, dictionary: Any) -> Any:
        from rest_framework.utils import html

        name, nullable = getattr(self, "field_name", ""), getattr(self, "allow_null", False)
        if html.is_html_input(dictionary) and dictionary.get(name) == "" and not nullable:
            return ""
        return super().get_value(dictionary)  # type: ignore[misc]


class StrictCharField(serializers.CharField):
    default_error_messages = {"invalid": _("Not a valid string: expected text.")}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictIntegerField(_BlankIsAValue, serializers.IntegerField):
    default_error_messages = {"invalid": _("A valid integer is required.")}

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, int) and not isinstance(data, bool):
            value = data
        elif isinstance(data, str) and _INTEGER.fullmatch(data.strip()):
            value = int(data)
        else:
            self.fail("invalid")
        return super().to_internal_value(value)


class StrictDecimalField(_BlankIsAValue, serializers.DecimalField):
    default_error_messages = {"invalid": _("A valid number is required (digits 0-9, a point for decimals).")}

    def to_internal_value(self, data: Any) -> Decimal:
        if _is_number(data):
            data = str(data)
        if not isinstance(data, str) or not _DECIMAL.fullmatch(data.strip()):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictFloatField(serializers.FloatField):
    def to_internal_value(self, data: Any) -> float:
        if not (_is_number(data) or (isinstance(data, str) and _DECIMAL.fullmatch(data.strip()))):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(_BlankIsAValue, serializers.BooleanField):
    default_error_messages = {"invalid": _("Must be true or false.")}

    def to_internal_value(self, data: Any) -> bool:
        if isinstance(data, bool):
            return data
        if isinstance(data, str) and data in ("true", "false"):  # form-encoded bodies
            return data == "true"
        self.fail("invalid")


class StrictDateField(_BlankIsAValue, serializers.DateField):
    default_error_messages = {"invalid": _("A date is YYYY-MM-DD, with the digits 0-9.")}

    def to_internal_value(self, value: Any) -> dt.date:
        if not isinstance(value, str) or not _DATE.fullmatch(value):
            self.fail("invalid")
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            self.fail("invalid")


class StrictChoiceField(serializers.ChoiceField):
    """A choice is one of the codes, given as the codes' own type ("M", not ["M"] nor 1 for "1")."""

    def to_internal_value(self, data: Any) -> Any:
        if data == "" and self.allow_blank:
            return ""
        value = self.choice_strings_to_values.get(str(data)) if isinstance(data, str | int) else None
        if value is None or isinstance(data, bool) or type(value) is not type(data):
            self.fail("invalid_choice", input=data)
        return value


@extend_schema_field(
    {
        "type": "string",
        "pattern": r"^[0-9]{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?)?$",
        "description": _("A partial date: YYYY, YYYY-MM or YYYY-MM-DD."),
        "example": "1961-05",
    }
)
class PartialDateSerializerField(serializers.Field):
    default_error_messages = {"invalid": "{message}"}

    def to_representation(self, value: Any) -> str | None:
        return None if value is None else str(value)

    def to_internal_value(self, data: Any) -> PartialDate:
        if not isinstance(data, str):
            self.fail("invalid", message=_("A partial date is text: YYYY, YYYY-MM or YYYY-MM-DD."))
        try:
            return PartialDate.parse(data)
        except PartialDateError as exc:
            self.fail("invalid", message=str(exc))
