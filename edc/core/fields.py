"""Model fields shared by the clinical apps."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from edc.core.dates import today_for
from edc.core.partial_dates import PartialDate, PartialDateError


class PartialDateField(models.CharField):
    """A partial date stored as ISO text ("2019", "2019-05", "2019-05-17"), which sorts in date order."""

    description = _("Partial date (year, optional month and day)")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["max_length"] = 10
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> tuple[Any, ...]:
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("max_length", None)
        return name, path, args, kwargs

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> PartialDate | None:
        if not value:
            return None
        return PartialDate.parse(value)

    def to_python(self, value: Any) -> PartialDate | None:
        if value in (None, ""):
            return None
        try:
            return PartialDate.parse(value)
        except PartialDateError as exc:
            raise ValidationError(str(exc), code="invalid_partial_date") from exc

    def get_prep_value(self, value: Any) -> str | None:
        value = self.to_python(value)
        return value.isoformat() if value is not None else None

    def value_to_string(self, obj: models.Model) -> str:
        value = self.value_from_object(obj)
        return "" if value is None else str(value)

    def validate(self, value: Any, model_instance: models.Model | None) -> None:
        # CharField's max_length validator would see the PartialDate object; check the text instead.
        text = self.get_prep_value(value)
        super().validate(text, model_instance)
        # "Today" is the date at the record's site; a record without a site is checked against the
        # latest date on earth, so a date that is already today somewhere is never refused.
        if isinstance(value, PartialDate) and value.earliest() > today_for(model_instance):
            raise ValidationError(
                gettext("A partial date cannot lie in the future."), code="future_partial_date"
            )

    def run_validators(self, value: Any) -> None:
        super().run_validators(self.get_prep_value(value))
