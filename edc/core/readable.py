"""The audit trail in words: field labels and values as a person reads them (issue 22).

History rows store columns; an inspector reads "Sex: Male -> Female, because: transcription error".
These helpers turn a model field and a stored value into that text: the field's verbose name, a
choice's label, Yes/No, a related record's name, dates in ISO. Used by the history endpoint
(edc/core/selectors.py), the admin history pages (edc/core/admin.py) and the audit-trail export
(edc/datamanagement/export.py), so the three say the same.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.translation import gettext

from edc.core.models import ReasonCode


def field_label(model: type[models.Model], name: str) -> str:
    """The field's label (its verbose name, capitalised); the name itself when the model has none."""
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return name
    label = str(getattr(field, "verbose_name", name) or name)
    return label[:1].upper() + label[1:]


def _related_words(field: Any, value: Any, cache: dict[tuple[Any, Any], str]) -> str:
    key = (field.related_model, value)
    if key not in cache:
        related = field.related_model._base_manager.filter(pk=value).first()
        cache[key] = str(related) if related is not None else str(value)
    return cache[key]


def value_words(
    model: type[models.Model], name: str, value: Any, cache: dict[tuple[Any, Any], str] | None = None
) -> str:
    """A stored value as text: "(empty)", a choice's label, Yes/No, a related record's name ..."""
    if value is None or value == "" or value == [] or value == {}:
        return gettext("(empty)")
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        field = None
    if field is not None and getattr(field, "choices", None):
        labels = {str(code): str(label) for code, label in field.flatchoices}  # type: ignore[union-attr]  # choices: a concrete field
        if str(value) in labels:
            return labels[str(value)]
    if field is not None and field.is_relation and field.many_to_one:
        return _related_words(field, value, cache if cache is not None else {})
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return str(value)


def reason_words(code: str, text: str) -> str:
    """The reason for change as one phrase: the coded reason's label and the words given."""
    label = str(ReasonCode(code).label) if code in ReasonCode.values else code
    if label and text:
        return f"{label}: {text}"
    return label or text
