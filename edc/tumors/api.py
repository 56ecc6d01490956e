"""The tumour resources and the RECIST 1.1 / iRECIST engines as API tools (registered by edc/api/urls.py).

/api/tumor-lesions/          lesions (form TU): ?subject= ?visit= ?site= ?category=
/api/tumor-assessments/      assessments (form RS) with their derived responses and measurements:
                             ?subject= ?visit= ?site= ?date_after= ?date_before= ?overall_response=
                             ?response_mismatch=
/api/lesion-measurements/    one lesion at one assessment (form TR): ?subject= ?assessment= ?lesion=

Each is an AuditedViewSet (scoped reads, versions and ETags, history, void); writes go through
edc/tumors/services.py, which re-derives the subject's responses on every change.

POST /api/tools/recist/evaluate/    a RECIST case file -> exactly what `recist_evaluate` prints
POST /api/tools/irecist/evaluate/   an iRECIST case file -> exactly what `irecist_evaluate` prints

The body is the case file's JSON (docs/domain/case-files.md); nothing is stored. Invalid input:
400 with the input layer's errors keyed by their place in the body (edc/inputs/api.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import django_filters
from django.urls import URLPattern, path
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.routers import BaseRouter

from edc.api.fields import StrictPrimaryKeyRelatedField
from edc.api.serializers import StrictModelSerializer
from edc.api.viewsets import AuditedViewSet
from edc.core.scoping import scope
from edc.core.services import ChangeReason
from edc.forms.api import BASE_FIELDS, META_FIELDS, READ_ONLY, FormRecordSerializer
from edc.inputs.api import CaseFileToolView, tool_schema
from edc.inputs.cases import Section
from edc.inputs.openapi import case_file_schema, model_schema
from edc.tumors import services
from edc.tumors.casefiles import (
    IRECIST_SECTIONS,
    RECIST_SECTIONS,
    IrecistCaseIn,
    MeasurabilityCaseIn,
    ResponseCaseIn,
    TargetSelectionCaseIn,
)
from edc.tumors.models import Lesion, LesionMeasurement, TumorAssessment

_RESPONSES = ["CR", "PR", "SD", "NON_CR_NON_PD", "PD", "NE"]
_NULLABLE_NUMBER = {"type": "number", "nullable": True}

RECIST_REQUEST = case_file_schema(
    {
        "response_cases": model_schema(ResponseCaseIn),
        "measurability_cases": model_schema(MeasurabilityCaseIn),
        "target_selection_cases": model_schema(TargetSelectionCaseIn),
    },
    description="A RECIST 1.1 case file (docs/domain/case-files.md).",
)
IRECIST_REQUEST = case_file_schema(
    {"cases": model_schema(IrecistCaseIn)},
    description="An iRECIST case file (docs/domain/case-files.md).",
)

_RECIST_TIMEPOINT = {
    "type": "object",
    "properties": {
        "date": {"type": "string", "format": "date"},
        "target_response": {"type": "string", "nullable": True},
        "non_target_response": {"type": "string", "nullable": True},
        "new_lesions": {"nullable": True, "anyOf": [{"type": "boolean"}, {"type": "string"}]},
        "overall_response": {"type": "string"},
        "sum_of_diameters_mm": _NULLABLE_NUMBER,
        "sum_of_measured_targets_mm": _NULLABLE_NUMBER,
        "pct_change_from_baseline": _NULLABLE_NUMBER,
        "nadir_mm_before_this_assessment": _NULLABLE_NUMBER,
    },
    "required": ["date", "target_response", "non_target_response", "new_lesions", "overall_response"],
}
_CASE_ERRORS = {"type": "object", "properties": {"errors": {"type": "array"}}, "required": ["errors"]}
RECIST_RESPONSE = {
    "type": "object",
    "description": "Case id -> its result: a response case's, a lesion's category or a target selection.",
    "additionalProperties": {
        "anyOf": [
            {
                "type": "object",
                "properties": {
                    "baseline_sum_mm": _NULLABLE_NUMBER,
                    "timepoints": {"type": "array", "items": _RECIST_TIMEPOINT},
                    "best_overall_response_confirmation_required": {"type": "string", "enum": _RESPONSES},
                    "best_overall_response_no_confirmation": {"type": "string", "enum": _RESPONSES},
                },
                "required": [
                    "baseline_sum_mm",
                    "timepoints",
                    "best_overall_response_confirmation_required",
                    "best_overall_response_no_confirmation",
                ],
            },
            {
                "type": "object",
                "properties": {
                    "category": {
                        "type": "string",
                        "enum": ["measurable", "non_measurable", "non_pathological", "not_a_lesion"],
                    }
                },
                "required": ["category"],
            },
            {
                "type": "object",
                "properties": {
                    "valid": {"type": "boolean"},
                    "errors": {"type": "array", "items": {"type": "string"}},
                },
                "required": ["valid", "errors"],
            },
        ]
    },
}
IRECIST_RESPONSE = {
    "type": "object",
    "description": "Case id -> its iRECIST result.",
    "additionalProperties": {
        "type": "object",
        "properties": {
            "baseline_sum_mm": _NULLABLE_NUMBER,
            "timepoints": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "date": {"type": "string", "format": "date"},
                        "target_sum_mm": _NULLABLE_NUMBER,
                        "overall_response": {"type": "string"},
                    },
                    "required": ["date", "overall_response"],
                },
            },
            "best_overall_response_irecist": {"type": "string"},
            "best_overall_response_recist11_no_confirmation": {"type": "string"},
        },
        "required": ["baseline_sum_mm", "timepoints", "best_overall_response_irecist"],
    },
}


class RecistEvaluateView(CaseFileToolView):
    def sections(self, request: Request) -> Sequence[Section]:
        return RECIST_SECTIONS

    @tool_schema(RECIST_REQUEST, RECIST_RESPONSE, "RECIST 1.1 responses for a case file")
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        return super().post(request, *args, **kwargs)


class IrecistEvaluateView(CaseFileToolView):
    def sections(self, request: Request) -> Sequence[Section]:
        return IRECIST_SECTIONS

    @tool_schema(IRECIST_REQUEST, IRECIST_RESPONSE, "iRECIST responses for a case file")
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        return super().post(request, *args, **kwargs)


urlpatterns: list[URLPattern] = [
    path("tools/recist/evaluate/", RecistEvaluateView.as_view(), name="tools-recist-evaluate"),
    path("tools/irecist/evaluate/", IrecistEvaluateView.as_view(), name="tools-irecist-evaluate"),
]


# --- the resources ---------------------------------------------------------------------------------

MEASUREMENT_ITEMS = list(LesionMeasurement.editable_fields)


class LesionSerializer(FormRecordSerializer):
    class Meta:
        model = Lesion
        fields = [
            *BASE_FIELDS,
            *[f for f in Lesion.editable_fields if f != "visit"],
            "irradiated_on_study",
            "measurability",
            *META_FIELDS,
        ]
        read_only_fields = [*READ_ONLY, "irradiated_on_study", "measurability"]
        validators: list[Any] = []


class MeasurementSerializer(FormRecordSerializer):
    # The assessment's: set by the service, never entered.
    subject: Any = serializers.PrimaryKeyRelatedField(read_only=True)
    visit: Any = serializers.PrimaryKeyRelatedField(read_only=True)
    assessment = StrictPrimaryKeyRelatedField(queryset=TumorAssessment.objects.none())
    lesion = StrictPrimaryKeyRelatedField(queryset=Lesion.objects.none())

    class Meta:
        model = LesionMeasurement
        fields = [
            "id",
            "study",
            "site",
            "subject",
            "visit",
            "assessment",
            "lesion",
            "lesion_code",
            "date",
            *MEASUREMENT_ITEMS,
            *META_FIELDS,
        ]
        read_only_fields = [*READ_ONLY, "subject", "visit", "lesion_code", "date"]
        extra_kwargs = {"method": {"required": False}}  # default: the lesion's baseline method
        validators: list[Any] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["assessment"].queryset = scope(TumorAssessment.objects.active(), request.user)  # type: ignore[attr-defined]
            self.fields["lesion"].queryset = scope(Lesion.objects.active(), request.user)  # type: ignore[attr-defined]


class NestedMeasurementSerializer(StrictModelSerializer):
    """A measurement inside its assessment: the lesion named by its code (T1, NT1, N1)."""

    lesion = serializers.CharField(source="lesion_code", help_text="The lesion id (T1, NT1, N1 ...).")

    class Meta:
        model = LesionMeasurement
        fields = ["id", "lesion", *MEASUREMENT_ITEMS]
        read_only_fields = ["id"]
        extra_kwargs = {"method": {"required": False}}  # default: the lesion's baseline method
        validators: list[Any] = []


class AssessmentSerializer(FormRecordSerializer):
    measurements = serializers.SerializerMethodField()

    class Meta:
        model = TumorAssessment
        fields = [
            *BASE_FIELDS,
            *[
                f
                for f in TumorAssessment.editable_fields
                if f not in ("visit", "not_done_reason", "not_done_detail")
            ],
            "not_done_reason",
            "not_done_detail",
            *TumorAssessment.derived_fields,
            "measurements",
            *META_FIELDS,
        ]
        read_only_fields = [*READ_ONLY, *TumorAssessment.derived_fields]
        validators: list[Any] = []

    @extend_schema_field(NestedMeasurementSerializer(many=True))
    def get_measurements(self, obj: TumorAssessment) -> list[dict[str, Any]]:
        rows = [m for m in obj.measurements.all() if m.voided_at is None]
        return NestedMeasurementSerializer(rows, many=True).data  # type: ignore[return-value]


class AssessmentCreateSerializer(AssessmentSerializer):
    """A create may carry the assessment's measurements (one transaction, one derivation)."""

    measurements = NestedMeasurementSerializer(many=True, required=False)  # type: ignore[assignment]


class LesionFilter(django_filters.FilterSet):
    class Meta:
        model = Lesion
        fields = ["subject", "visit", "site", "category"]


class AssessmentFilter(django_filters.FilterSet):
    date_after = django_filters.DateFilter(field_name="date", lookup_expr="gte")
    date_before = django_filters.DateFilter(field_name="date", lookup_expr="lte")

    class Meta:
        model = TumorAssessment
        fields = ["subject", "visit", "site", "overall_response", "response_mismatch"]


class MeasurementFilter(django_filters.FilterSet):
    class Meta:
        model = LesionMeasurement
        fields = ["subject", "assessment", "lesion", "site"]


class LesionViewSet(AuditedViewSet):
    queryset = Lesion.objects.select_related("site").order_by("subject_id", "category", "code", "id")
    serializer_class = LesionSerializer
    filterset_class = LesionFilter

    def create_record(self, data: dict[str, Any]) -> Lesion:
        return services.lesion_create(user=self.request.user, **data)

    def update_record(
        self, instance: Any, data: dict[str, Any], reason: ChangeReason, version: int
    ) -> Lesion:
        return services.lesion_update(
            user=self.request.user, lesion=instance, reason=reason, version=version, **data
        )

    def void_record(self, instance: Any, reason: ChangeReason, version: int) -> Lesion:
        return services.lesion_void(user=self.request.user, lesion=instance, reason=reason, version=version)


class AssessmentViewSet(AuditedViewSet):
    queryset = (
        TumorAssessment.objects.select_related("site")
        .prefetch_related("measurements")
        .order_by("subject_id", "date", "id")
    )
    serializer_class = AssessmentSerializer
    filterset_class = AssessmentFilter

    def get_serializer_class(self) -> Any:
        return AssessmentCreateSerializer if self.action == "create" else AssessmentSerializer

    def create_record(self, data: dict[str, Any]) -> TumorAssessment:
        rows = [
            {"lesion": m.pop("lesion_code"), **m}
            for m in (dict(m) for m in data.pop("measurements", []) or [])
        ]
        created = services.assessment_create(user=self.request.user, measurements=rows, **data)
        return TumorAssessment.objects.prefetch_related("measurements").get(pk=created.pk)

    def update_record(
        self, instance: Any, data: dict[str, Any], reason: ChangeReason, version: int
    ) -> TumorAssessment:
        return services.assessment_update(
            user=self.request.user, assessment=instance, reason=reason, version=version, **data
        )

    def void_record(self, instance: Any, reason: ChangeReason, version: int) -> TumorAssessment:
        return services.assessment_void(
            user=self.request.user, assessment=instance, reason=reason, version=version
        )


class MeasurementViewSet(AuditedViewSet):
    queryset = LesionMeasurement.objects.select_related("site").order_by("assessment_id", "lesion_code", "id")
    serializer_class = MeasurementSerializer
    filterset_class = MeasurementFilter

    def create_record(self, data: dict[str, Any]) -> LesionMeasurement:
        data.pop("subject", None)
        data.pop("visit", None)
        return services.measurement_create(user=self.request.user, **data)

    def update_record(
        self, instance: Any, data: dict[str, Any], reason: ChangeReason, version: int
    ) -> LesionMeasurement:
        return services.measurement_update(
            user=self.request.user, measurement=instance, reason=reason, version=version, **data
        )

    def void_record(self, instance: Any, reason: ChangeReason, version: int) -> LesionMeasurement:
        return services.measurement_void(
            user=self.request.user, measurement=instance, reason=reason, version=version
        )


VIEWSETS = {
    "tumor-lesions": LesionViewSet,
    "tumor-assessments": AssessmentViewSet,
    "lesion-measurements": MeasurementViewSet,
}


def register(router: BaseRouter) -> None:
    for prefix, viewset in VIEWSETS.items():
        router.register(prefix, viewset, basename=prefix)
