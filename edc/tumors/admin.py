"""The tumour forms in the admin: lesions and assessments inline on the visit page (the baseline lesions
on the screening visit, assessments and new lesions on an imaging visit), and an assessment page with
its measurements inline and the derived responses beside the investigator's. Every row is written by
edc/tumors/services.py, the same services as the API's.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from edc.core.admin import AuditedModelAdmin, AuditedStackedInline, AuditedTabularInline, VoidedFilter
from edc.core.admin_site import site
from edc.core.services import ChangeReason
from edc.tumors import services
from edc.tumors.models import Lesion, LesionMeasurement, TumorAssessment
from edc.visits.admin import VisitAdmin

LESION_FIELDS = [f for f in Lesion.editable_fields if f != "visit"]
ASSESSMENT_FIELDS = [f for f in TumorAssessment.editable_fields if f != "visit"]
MEASUREMENT_FIELDS = ["lesion", *LesionMeasurement.editable_fields]


class LesionWrites:
    def update_record(
        self,
        request: HttpRequest,
        instance: Any,
        changes: dict[str, Any],
        reason: ChangeReason | None,
        version: int,
    ) -> Lesion:
        return services.lesion_update(
            user=request.user, lesion=instance, reason=reason, version=version, **changes
        )

    def void_record(self, request: HttpRequest, instance: Any, reason: ChangeReason, version: int) -> Lesion:
        return services.lesion_void(user=request.user, lesion=instance, reason=reason, version=version)


class AssessmentWrites:
    def update_record(
        self,
        request: HttpRequest,
        instance: Any,
        changes: dict[str, Any],
        reason: ChangeReason | None,
        version: int,
    ) -> TumorAssessment:
        return services.assessment_update(
            user=request.user, assessment=instance, reason=reason, version=version, **changes
        )

    def void_record(
        self, request: HttpRequest, instance: Any, reason: ChangeReason, version: int
    ) -> TumorAssessment:
        return services.assessment_void(
            user=request.user, assessment=instance, reason=reason, version=version
        )


class MeasurementWrites:
    def update_record(
        self,
        request: HttpRequest,
        instance: Any,
        changes: dict[str, Any],
        reason: ChangeReason | None,
        version: int,
    ) -> LesionMeasurement:
        changes.pop("lesion", None)
        return services.measurement_update(
            user=request.user, measurement=instance, reason=reason, version=version, **changes
        )

    def void_record(
        self, request: HttpRequest, instance: Any, reason: ChangeReason, version: int
    ) -> LesionMeasurement:
        return services.measurement_void(
            user=request.user, measurement=instance, reason=reason, version=version
        )


class LesionInline(LesionWrites, AuditedTabularInline):  # type: ignore[misc]
    """The lesions entered at this visit (baseline lesions at screening, new lesions at a scan)."""

    model = Lesion
    fk_name = "visit"
    fields = [*LESION_FIELDS, "measurability", "base_version"]
    readonly_fields = ["measurability"]

    def create_record(self, request: HttpRequest, parent: Any, data: dict[str, Any]) -> Lesion:
        return services.lesion_create(user=request.user, subject=parent.subject, visit=parent, **data)


class AssessmentInline(AssessmentWrites, AuditedStackedInline):  # type: ignore[misc]
    model = TumorAssessment
    fk_name = "visit"
    fields = [*ASSESSMENT_FIELDS, "overall_response", "irecist_response", "response_mismatch", "base_version"]
    readonly_fields = ["overall_response", "irecist_response", "response_mismatch"]

    def create_record(self, request: HttpRequest, parent: Any, data: dict[str, Any]) -> TumorAssessment:
        return services.assessment_create(user=request.user, subject=parent.subject, visit=parent, **data)


class MeasurementInline(MeasurementWrites, AuditedTabularInline):  # type: ignore[misc]
    model = LesionMeasurement
    fk_name = "assessment"
    fields = [*MEASUREMENT_FIELDS, "base_version"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ["lesion_code"]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ["lesion", "lesion_code", *LesionMeasurement.editable_fields, "base_version"]

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        parent = getattr(request, "_edc_assessment", None)
        if db_field.name == "lesion" and parent is not None and field is not None:
            field.queryset = Lesion.objects.active().filter(subject_id=parent.subject_id)
        return field

    def create_record(self, request: HttpRequest, parent: Any, data: dict[str, Any]) -> LesionMeasurement:
        return services.measurement_create(user=request.user, assessment=parent, **data)


# The visit page carries the tumour forms too (its inlines are the visit's forms).
VisitAdmin.inlines = [*VisitAdmin.inlines, LesionInline, AssessmentInline]


@admin.register(Lesion, site=site)
class LesionAdmin(LesionWrites, AuditedModelAdmin):
    list_display = [
        "subject",
        "code",
        "category",
        "location",
        "organ",
        "diameter_mm",
        "measurability",
        "date",
    ]
    list_filter = (VoidedFilter, "category", ("site", admin.RelatedOnlyFieldListFilter))
    list_select_related = ["subject", "site"]
    search_fields = ["subject__screening_number", "subject__subject_identifier", "code"]
    fields = ["subject", "visit", *LESION_FIELDS, "irradiated_on_study", "measurability"]
    readonly_fields = ["subject", "visit", "irradiated_on_study", "measurability"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # entered on the visit page, where the visit says which subject and scan


@admin.register(TumorAssessment, site=site)
class TumorAssessmentAdmin(AssessmentWrites, AuditedModelAdmin):
    list_display = [
        "subject",
        "date",
        "sum_mm",
        "pct_change_from_baseline",
        "overall_response",
        "investigator_overall",
        "response_mismatch",
        "irecist_response",
        "best_response_confirmed_to_date",
    ]
    list_filter = (
        VoidedFilter,
        "overall_response",
        "response_mismatch",
        ("site", admin.RelatedOnlyFieldListFilter),
    )
    list_select_related = ["subject", "site"]
    search_fields = ["subject__screening_number", "subject__subject_identifier"]
    # The investigator's entries, then what the engines derived from the measurements.
    fields = ["subject", "visit", *ASSESSMENT_FIELDS, *TumorAssessment.derived_fields]
    readonly_fields = ["subject", "visit", *TumorAssessment.derived_fields]
    inlines = [MeasurementInline]

    def get_inline_instances(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        request._edc_assessment = obj  # type: ignore[attr-defined]
        return super().get_inline_instances(request, obj) if obj is not None else []

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # entered on the imaging visit's page
