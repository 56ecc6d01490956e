from __future__ import annotations

from rest_framework import serializers

from edc.core.models import ReasonCode


class ChangeReasonSerializer(serializers.Serializer):
    """The reason for change that PATCH, PUT and void require."""

    change_reason = serializers.CharField(
        required=True, allow_blank=False, help_text="Why the record changes (free text)."
    )
    change_reason_code = serializers.ChoiceField(
        choices=ReasonCode.choices, required=False, default=ReasonCode.OTHER
    )


class HistoryEntrySerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    user = serializers.CharField(allow_null=True)
    kind = serializers.CharField()
    reason_code = serializers.CharField(allow_blank=True)
    reason = serializers.CharField(allow_blank=True)
    changes = serializers.DictField()
