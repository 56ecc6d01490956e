"""The list filters every endpoint shares: `updated_since` (for sync clients) and `include_voided`.

Both apply to list actions only (a retrieve finds a record whatever its state) and refuse a value
they cannot read with 400 naming the parameter, never by ignoring it.

- `updated_since=<RFC 3339 date-time with offset>`: the rows written (created, changed, voided) at
  or after that instant. A view narrows by its model's `updated` column unless it defines
  `filter_updated_since(queryset, since)` (definitions have no such column: they ask their history).
- `include_voided=true|false` (also 1|0): voided records leave working lists by default. With
  `updated_since` they are included by default, so a sync client learns of every void (the row
  comes back with `voided_at` and `void_reason` set); `include_voided=false` leaves them out again.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import django_filters
from django import forms
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.filters import BaseFilterBackend
from rest_framework.request import Request

UPDATED_SINCE = "updated_since"
INCLUDE_VOIDED = "include_voided"

# RFC 3339 (the OpenAPI `date-time` format): a date, "T", a time, and a UTC offset or Z.
_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?([Zz]|[+-][0-9]{2}:[0-9]{2})",
    re.ASCII,
)
_BOOLEANS = {"true": True, "1": True, "false": False, "0": False}


class _BooleanField(forms.Field):
    def clean(self, value: Any) -> bool | None:
        if value is None:  # the parameter is absent
            return None
        if value not in _BOOLEANS:
            raise forms.ValidationError(gettext("true or false."), code="invalid")
        return _BOOLEANS[value]


@extend_schema_field({"type": "string", "enum": list(_BOOLEANS)})
class BooleanFilter(django_filters.Filter):
    """A yes/no filter that refuses what it cannot read: `true` or `false` (also 1 or 0), else 400.

    django-filter's BooleanFilter reads anything else ("null", "yes", "") as "no filter" and lists
    everything, silently: a client's typo would look like an answer.
    """

    field_class = _BooleanField

    def filter(self, qs: models.QuerySet, value: Any) -> models.QuerySet:
        if value is None:
            return qs
        return qs.filter(**{self.field_name: value})


def _is_list(view: Any) -> bool:
    return getattr(view, "action", None) == "list"


def parse_since(raw: str) -> dt.datetime:
    """An aware datetime from the `updated_since` text, or a 400 naming the parameter."""
    value = None
    if _RFC3339.fullmatch(raw):
        try:
            # In UTC, as the database compares it (an instant past year 9999 in UTC is no instant).
            value = dt.datetime.fromisoformat(raw.upper()).astimezone(dt.UTC)
        except (ValueError, OverflowError):
            value = None
    if value is None:
        raise serializers.ValidationError(
            {UPDATED_SINCE: [gettext("A date and time with its UTC offset, e.g. 2026-01-31T22:00:00Z.")]}
        )
    return value


def supports_updated_since(view: Any) -> bool:
    if callable(getattr(view, "filter_updated_since", None)):
        return True
    queryset = getattr(view, "queryset", None)
    model = getattr(queryset, "model", None)
    return model is not None and any(f.name == "updated" for f in model._meta.get_fields())


class UpdatedSinceFilter(BaseFilterBackend):
    description = _(
        "Only rows written (created, changed or voided) at or after this instant, an RFC 3339 date-time "
        "with its offset. Voided rows are included unless include_voided=false."
    )

    def filter_queryset(self, request: Request, queryset: models.QuerySet, view: Any) -> models.QuerySet:
        raw = request.query_params.get(UPDATED_SINCE)
        if raw is None or not _is_list(view) or not supports_updated_since(view):
            return queryset
        since = parse_since(raw)
        hook = getattr(view, "filter_updated_since", None)
        if callable(hook):
            return hook(queryset, since)
        return queryset.filter(updated__gte=since)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        if not supports_updated_since(view):
            return []
        return [
            {
                "name": UPDATED_SINCE,
                "required": False,
                "in": "query",
                "description": str(self.description),
                "schema": {"type": "string", "format": "date-time"},
            }
        ]


def include_voided(request: Request) -> bool:
    raw = request.query_params.get(INCLUDE_VOIDED)
    if raw is None:
        return UPDATED_SINCE in request.query_params
    if raw not in _BOOLEANS:
        raise serializers.ValidationError({INCLUDE_VOIDED: [gettext("true or false.")]})
    return _BOOLEANS[raw]


class VoidedFilter(BaseFilterBackend):
    """For lists of audited records (AuditedViewSet): voided records only when asked for."""

    description = _(
        "Include voided records (default: false, but true when updated_since is given, so that a sync "
        "client learns of voids)."
    )

    def filter_queryset(self, request: Request, queryset: models.QuerySet, view: Any) -> models.QuerySet:
        if not _is_list(view) or include_voided(request):
            return queryset
        return queryset.filter(voided_at__isnull=True)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": INCLUDE_VOIDED,
                "required": False,
                "in": "query",
                "description": str(self.description),
                "schema": {"type": "string", "enum": list(_BOOLEANS)},
            }
        ]


class StrictFilterBackend(DjangoFilterBackend):
    """django-filter's backend, refusing an empty value of a typed filter (`?visit=`) with 400.

    django-filter reads an empty value as "no filter" and lists everything: a client that built the
    query from a missing id would take the whole list for the answer. Text filters keep their
    reading (an empty search is no search).
    """

    def filter_queryset(self, request: Request, queryset: models.QuerySet, view: Any) -> models.QuerySet:
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None:
            errors: dict[str, list[str]] = {}
            for name, declared in filterset_class.base_filters.items():
                values = request.query_params.getlist(name)
                if not values:
                    continue
                if not isinstance(declared, django_filters.CharFilter) and "" in values:
                    errors[name] = [gettext("A value is required (leave the parameter out for no filter).")]
                elif isinstance(declared, django_filters.BooleanFilter) and any(
                    v.lower() not in _BOOLEANS for v in values
                ):
                    # django-filter reads "null" or "unknown" as no filter: the schema says boolean.
                    errors[name] = [gettext("true or false.")]
                elif (
                    isinstance(declared, django_filters.NumberFilter)
                    and _integer_field(queryset.model, declared.field_name)
                    and any(not _INTEGER.fullmatch(v) for v in values)
                ):
                    errors[name] = [gettext("A whole number.")]
            if errors:
                raise serializers.ValidationError(errors)
        return super().filter_queryset(request, queryset, view)


_INTEGER = re.compile(r"[+-]?\d{1,18}")


def _integer_field(model: type[models.Model], path: str) -> bool:
    """Whether the filter's field (a path of related fields) is an integer column (the schema's
    integer), so ?cycle=0.5 is refused rather than rounded or matched against nothing."""
    field: Any = None
    for part in path.split("__"):
        try:
            field = model._meta.get_field(part)
        except FieldDoesNotExist:  # a lookup suffix or an annotation: not a plain column
            return False
        if field.is_relation and field.related_model is not None:
            model = field.related_model
    return isinstance(field, models.IntegerField | models.AutoField) and not field.is_relation
