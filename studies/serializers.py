"""Read-only serializers of the trial definitions (nested: one study carries its whole definition)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from studies.models import (
    Arm,
    Codelist,
    CodelistItem,
    EligibilityCriterion,
    Endpoint,
    FormDefinition,
    FormItem,
    Intervention,
    Site,
    Study,
    TreatmentPhase,
    VisitDefinition,
)

ASSUMED = ("assumption", "assumptions")


class SiteSerializer(serializers.ModelSerializer):
    class Meta:
        model = Site
        fields = ("id", "code", "name", "city", "country", "time_zone", *ASSUMED)


class ArmSerializer(serializers.ModelSerializer):
    class Meta:
        model = Arm
        fields = ("id", "code", "name", "kind", "description", "order", *ASSUMED)


class TreatmentPhaseSerializer(serializers.ModelSerializer):
    arm: serializers.SlugRelatedField[Arm] = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = TreatmentPhase
        fields = ("id", "code", "name", "arm", "order", "entry_rule", "description", *ASSUMED)


class InterventionSerializer(serializers.ModelSerializer):
    arm: serializers.SlugRelatedField[Arm] = serializers.SlugRelatedField(slug_field="code", read_only=True)
    phase: serializers.SlugRelatedField[TreatmentPhase] = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    dose_amount = serializers.DecimalField(
        max_digits=12, decimal_places=4, coerce_to_string=True, read_only=True
    )
    dose_label = serializers.CharField(read_only=True)

    class Meta:
        model = Intervention
        fields = (
            "id",
            "code",
            "agent",
            "aliases",
            "kind",
            "arm",
            "phase",
            "dose_amount",
            "dose_unit",
            "dose_basis",
            "dose_per",
            "dose_label",
            "frequency",
            "doses_per_day",
            "route",
            "dosing_days",
            "cycle_length_days",
            "dose_role",
            "infusion",
            "notes",
            "choice_group",
            "order",
            *ASSUMED,
        )


class EligibilityCriterionSerializer(serializers.ModelSerializer):
    rule_text = serializers.SerializerMethodField()

    class Meta:
        model = EligibilityCriterion
        fields = ("id", "kind", "number", "text", "rule", "rule_text", "order", *ASSUMED)

    def get_rule_text(self, obj: EligibilityCriterion) -> str:
        return rule_in_words(obj.rule)


class VisitDefinitionSerializer(serializers.ModelSerializer):
    phase: serializers.SlugRelatedField[TreatmentPhase] = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    # many=True: DRF makes it a ManyRelatedField of these.
    forms: serializers.SlugRelatedField[FormDefinition] = serializers.SlugRelatedField(
        slug_field="code", many=True, read_only=True
    )

    class Meta:
        model = VisitDefinition
        fields = (
            "id",
            "code",
            "name",
            "kind",
            "series",
            "anchor",
            "anchor_visit",
            "repeat_from",
            "offset_days",
            "window_before_days",
            "window_after_days",
            "repeat_interval_days",
            "repeat_until_day",
            "repeat_count",
            "on_end_of_treatment",
            "phase",
            "forms",
            "order",
            *ASSUMED,
        )


class EndpointSerializer(serializers.ModelSerializer):
    class Meta:
        model = Endpoint
        fields = (
            "id",
            "code",
            "name",
            "kind",
            "definition",
            "time_frame",
            "analysis_set",
            "anchor",
            "order",
            *ASSUMED,
        )


STUDY_FIELDS = (
    "id",
    "protocol_id",
    "registry_id",
    "seed",
    "title",
    "short_title",
    "phase",
    "design",
    "condition",
    "sponsor",
    "target_enrollment",
    "status",
    "ctcae_version",
    "response_criteria",
    "confirmation_required",
    "confirmation_min_interval_days",
    "min_sd_duration_days",
    "max_treatment_days",
    "schedule_horizon_days",
    "follow_up_rule",
    "enrollment_period_months",
    "study_duration_months",
    "ae_collection_start",
    "ae_collection_end_days_after_last_dose",
    "sae_collection_start",
    "irae_collection_end_days_after_last_dose",
    "dose_recalc_weight_change_pct",
    "locked_at",
    *ASSUMED,
)


class StudySerializer(serializers.ModelSerializer):
    # The sites the requesting user is granted (prefetched by the view as `visible_sites`).
    sites = SiteSerializer(source="visible_sites", many=True, read_only=True)
    arms = ArmSerializer(many=True, read_only=True)
    phases = TreatmentPhaseSerializer(many=True, read_only=True)
    interventions = InterventionSerializer(many=True, read_only=True)
    criteria = EligibilityCriterionSerializer(many=True, read_only=True)
    visit_definitions = VisitDefinitionSerializer(many=True, read_only=True)
    endpoints = EndpointSerializer(many=True, read_only=True)

    class Meta:
        model = Study
        fields = (
            *STUDY_FIELDS,
            "sites",
            "arms",
            "phases",
            "interventions",
            "criteria",
            "visit_definitions",
            "endpoints",
        )


class CodelistItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = CodelistItem
        fields = ("code", "label", "order")


class CodelistSerializer(serializers.ModelSerializer):
    items = CodelistItemSerializer(many=True, read_only=True)

    class Meta:
        model = Codelist
        fields = ("code", "name", "items", *ASSUMED)


class FormItemSerializer(serializers.ModelSerializer):
    codelist = CodelistSerializer(read_only=True)
    range = serializers.SerializerMethodField()

    class Meta:
        model = FormItem
        fields = ("code", "label", "data_type", "unit", "codelist", "required", "range", "order", *ASSUMED)

    def get_range(self, obj: FormItem) -> list[str | None] | None:
        if obj.range_low is None and obj.range_high is None:
            return None
        return [_plain(obj.range_low), _plain(obj.range_high)]


class FormDefinitionSerializer(serializers.ModelSerializer):
    items = FormItemSerializer(many=True, read_only=True)

    class Meta:
        model = FormDefinition
        fields = (
            "id",
            "code",
            "name",
            "version",
            "is_current",
            "published_at",
            "description",
            "active",
            "order",
            "items",
            *ASSUMED,
        )


def _plain(value: Any) -> str | None:
    # Decimal as text without the storage's trailing zeros: "20", "3.5".
    return None if value is None else format(value.normalize(), "f")


def rule_in_words(rule: Any) -> str:
    """The criterion's rule in words; blank for a criterion the investigator confirms."""
    if rule is None:
        return ""
    # Imported here: the grammar belongs to the eligibility app.
    from edc.eligibility.rules import describe_rule

    return describe_rule(rule)
