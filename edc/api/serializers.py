"""Serializer bases of the API: strict fields, and writes that name every field they refuse.

- Every model field maps to a strict field (edc/api/fields.py): no type is coerced.
- A write that names an unknown field or a read-only one (`status`, `study` on a change, `id`) answers
  400 naming it; nothing is silently ignored.
- Besides the record's fields, a change carries `change_reason`, `change_reason_code` and `version`
  (the version it is based on); a create carries none of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from edc.api import fields as strict
from edc.core.fields import PartialDateField
from edc.core.models import ReasonCode

# What a change (PATCH, PUT) or a void carries besides the record's own fields.
WRITE_META_KEYS = frozenset({"change_reason", "change_reason_code", "version"})


def refused_keys(
    data: Mapping[str, Any], fields: Mapping[str, serializers.Field], allowed: frozenset[str]
) -> dict:
    """{key: [message]} for every key of a write body that is unknown or read-only."""
    errors: dict[str, list[str]] = {}
    for key in data:
        if key in allowed:
            continue
        field = fields.get(key)
        if field is None:
            errors[key] = [gettext("Unknown field.")]
        elif field.read_only:
            errors[key] = [gettext("This field is read-only.")]
    return errors


class StrictModelSerializer(serializers.ModelSerializer):
    """The base of every record serializer: strict types, unknown and read-only fields refused by name.

    The viewset puts the keys a write may add (WRITE_META_KEYS for a change) in the context as
    `extra_write_keys`.
    """

    # The schema says so (additionalProperties: false on its request bodies, edc/api/schema.py).
    refuses_unknown_fields = True

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: strict.StrictCharField,
        models.TextField: strict.StrictCharField,
        models.SlugField: strict.StrictCharField,
        models.EmailField: strict.StrictCharField,
        models.IntegerField: strict.StrictIntegerField,
        models.SmallIntegerField: strict.StrictIntegerField,
        models.BigIntegerField: strict.StrictIntegerField,
        models.PositiveIntegerField: strict.StrictIntegerField,
        models.PositiveSmallIntegerField: strict.StrictIntegerField,
        models.PositiveBigIntegerField: strict.StrictIntegerField,
        models.DecimalField: strict.StrictDecimalField,
        models.FloatField: strict.StrictFloatField,
        models.BooleanField: strict.StrictBooleanField,
        models.DateField: strict.StrictDateField,
        PartialDateField: strict.PartialDateSerializerField,
    }
    serializer_related_field = strict.StrictPrimaryKeyRelatedField
    serializer_choice_field = strict.StrictChoiceField

    def to_representation(self, instance: Any) -> Any:
        data = super().to_representation(instance)
        hidden = getattr(instance, "identifying_fields", ())
        request = self.context.get("request")
        if hidden and request is not None and _pseudonymised(request, instance):
            # A sponsor viewer reads pseudonymised data: no initials, a birth date as its year.
            for name in hidden:
                if data.get(name):
                    value = data[name]
                    data[name] = str(value)[:4] if name.endswith("birth_date") else ""
        return data

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return super().to_internal_value(data)
        errors = refused_keys(data, self.fields, self.context.get("extra_write_keys", frozenset()))
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
            raise serializers.ValidationError({**detail, **errors}) from exc
        if errors:
            raise serializers.ValidationError(errors)
        return value


def _pseudonymised(request: Any, instance: Any) -> bool:
    """edc.core.scoping.pseudonymised, asked once per study and request (lists ask per row)."""
    from edc.core.scoping import pseudonymised

    identified = getattr(instance, "_edc_identified", None)
    if identified is not None:  # annotated by AuditedViewSet.get_queryset: no query per row
        return not identified
    cache = getattr(request, "_edc_pseudonymised", None)
    if cache is None:
        cache = request._edc_pseudonymised = {}
    key = getattr(instance, "study_id", None)
    if key not in cache:
        cache[key] = pseudonymised(request.user, instance)
    return bool(cache[key])


class ChangeReasonSerializer(serializers.Serializer):
    """What a change (PATCH, PUT) and a void carry besides the record's fields."""

    change_reason = strict.StrictCharField(
        required=True, allow_blank=False, help_text=_("Why the record changes (free text, required).")
    )
    change_reason_code = strict.StrictChoiceField(
        choices=ReasonCode.choices, required=False, default=ReasonCode.OTHER
    )
    version = strict.StrictIntegerField(
        required=False,
        min_value=1,
        help_text=_("The version the change is based on (or send it as If-Match); a stale one answers 409."),
    )


class VoidSerializer(ChangeReasonSerializer):
    """The body of POST .../void/: the reason and the version, nothing else."""

    refuses_unknown_fields = True

    def to_internal_value(self, data: Any) -> Any:
        errors = refused_keys(data, self.fields, frozenset()) if isinstance(data, Mapping) else {}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            raise serializers.ValidationError({**exc.detail, **errors}) from exc  # type: ignore[dict-item]
        if errors:
            raise serializers.ValidationError(errors)
        return value


class FieldChangeSerializer(serializers.Serializer):
    """One field's change in a history entry: the value before (null on creation) and after."""

    old = serializers.JSONField(allow_null=True, help_text=_("The value before; null on creation."))
    new = serializers.JSONField(allow_null=True, help_text=_("The value after."))


class FieldChangeInWordsSerializer(serializers.Serializer):
    """One field's change as a person reads it: its label, the values in words."""

    field = serializers.CharField(help_text=_("The field's name."))
    label = serializers.CharField(help_text=_("The field's label, as the forms show it."))  # type: ignore[assignment]  # the key's name
    old = serializers.CharField(
        allow_blank=True, help_text=_("The value before, in words (blank on creation).")
    )
    new = serializers.CharField(help_text=_("The value after, in words."))


class HistoryEntrySerializer(serializers.Serializer):
    """One entry of a record's audit trail (GET .../history/)."""

    at = serializers.DateTimeField(help_text=_("When the change was stored."))
    user = serializers.CharField(allow_null=True, help_text=_("Who wrote it (username)."))
    kind = serializers.ChoiceField(choices=["created", "changed", "moved", "voided", "locked", "unlocked"])
    version = serializers.IntegerField(allow_null=True, help_text=_("The record's version after it."))
    reason_code = serializers.CharField(allow_blank=True, help_text=_("The coded reason for change."))
    reason = serializers.CharField(allow_blank=True, help_text=_("The reason for change, in words."))
    reason_words = serializers.CharField(
        allow_blank=True, help_text=_("The coded reason's label and the explanation, as one phrase.")
    )
    changes = serializers.DictField(
        child=FieldChangeSerializer(), help_text=_("Per changed field: its old and new value.")
    )
    changes_in_words = FieldChangeInWordsSerializer(
        many=True, help_text=_("The same changes in words: label, old -> new (choices by their label).")
    )
