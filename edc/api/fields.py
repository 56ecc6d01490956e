from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from edc.core.partial_dates import PartialDate, PartialDateError


@extend_schema_field({"type": "string", "pattern": r"^\d{4}(-\d{2}(-\d{2})?)?$", "example": "1961-05"})
class PartialDateSerializerField(serializers.Field):
    default_error_messages = {"invalid": "{message}"}

    def to_representation(self, value: Any) -> str | None:
        return None if value is None else str(value)

    def to_internal_value(self, data: Any) -> PartialDate:
        try:
            return PartialDate.parse(str(data))
        except PartialDateError as exc:
            self.fail("invalid", message=str(exc))
