"""The treatment pages of the admin: the doses of a visit as an inline of the visit page, the
drug-exposure and end-of-treatment changelists, the phase switches (read-only).

Every row is written by edc/visits/treatment.py, the same services as the API's; a changed or
voided dose takes the page's reason for change. Imported by edc/visits/admin.py.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from edc.core.admin import AuditedModelAdmin, AuditedTabularInline, VoidedFilter
from edc.core.admin_site import site
from edc.core.services import ChangeReason
from edc.visits import treatment
from edc.visits.admin import VisitAdmin
from edc.visits.exposures import EndOfTreatment, Exposure, PhaseSwitch

EXPOSURE_INPUTS = [
    "intervention",
    "cycle",
    "start_date",
    "end_date",
    "dose_given",
    "route",
    "infusion_minutes",
    "adjustment",
    "adjustment_reason",
    "doses_missed",
    "overdose_reason",
    "not_done_reason",
    "not_done_detail",
]
EXPOSURE_DERIVED = ["planned_dose", "dose_unit", "cycle_day", "dose_role", "basis_bsa_m2", "basis_weight_kg"]


class ExposureWrites:
    """A dose corrected or voided through the treatment services, on the visit page and its own."""

    def update_record(
        self,
        request: HttpRequest,
        instance: Any,
        changes: dict[str, Any],
        reason: ChangeReason | None,
        version: int,
    ) -> Exposure:
        return treatment.exposure_update(
            user=request.user, exposure=instance, reason=reason, version=version, **changes
        )

    def void_record(
        self, request: HttpRequest, instance: Any, reason: ChangeReason, version: int
    ) -> Exposure:
        return treatment.exposure_void(user=request.user, exposure=instance, reason=reason, version=version)


class ExposureInline(ExposureWrites, AuditedTabularInline):
    """The doses given at this visit (each planned dose derived as it is saved)."""

    model = Exposure
    fk_name = "visit"
    fields = [*EXPOSURE_INPUTS, *EXPOSURE_DERIVED, "base_version"]
    readonly_fields = EXPOSURE_DERIVED

    def create_record(self, request: HttpRequest, parent: Any, data: dict[str, Any]) -> Exposure:
        return treatment.exposure_record(user=request.user, subject=parent.subject, visit=parent, **data)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "intervention":
            from edc.core.scoping import visible_studies
            from studies.models import Intervention

            kwargs["queryset"] = Intervention.objects.filter(
                study__in=visible_studies(request.user).values("id"), kind="drug"
            ).select_related("study")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class EndOfTreatmentInline(AuditedTabularInline):
    """The end-of-treatment form on its visit: recorded through the subject's end of treatment
    (API or the changelist's services), corrected here with the page's reason."""

    model = EndOfTreatment
    fk_name = "visit"
    fields = ["eot_date", "last_dose_date", "reason", "reason_detail", "base_version"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # end_of_treatment_record creates it with the visit it belongs to

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # corrected, never voided (the subject's status and schedule followed it)

    def update_record(
        self,
        request: HttpRequest,
        instance: Any,
        changes: dict[str, Any],
        reason: ChangeReason | None,
        version: int,
    ) -> EndOfTreatment:
        return treatment.end_of_treatment_update(
            user=request.user, record=instance, reason=reason, version=version, **changes
        )


# The visit page (edc/visits/admin.py) holds the treatment forms of its visit as well.
VisitAdmin.inlines = [*VisitAdmin.inlines, ExposureInline, EndOfTreatmentInline]


@admin.register(Exposure, site=site)
class ExposureAdmin(ExposureWrites, AuditedModelAdmin):
    list_display = [
        "subject",
        "agent_code",
        "cycle",
        "cycle_day",
        "start_date",
        "planned_dose",
        "dose_given",
        "dose_unit",
        "adjustment",
        "site",
    ]
    list_filter = (VoidedFilter, "adjustment", "agent_code", ("site", admin.RelatedOnlyFieldListFilter))
    list_select_related = ["subject", "site"]
    search_fields = ["subject__subject_identifier", "subject__screening_number", "agent_code"]
    date_hierarchy = "start_date"
    fields = [
        "study",
        "site",
        "subject",
        "visit",
        *EXPOSURE_INPUTS,
        "agent_code",
        "phase",
        *EXPOSURE_DERIVED,
        "basis_height_cm",
        "basis_date",
        "basis_recomputed",
        "form_version",
    ]
    readonly_fields = [
        "study",
        "site",
        "subject",
        "visit",
        "agent_code",
        "phase",
        *EXPOSURE_DERIVED,
        "basis_height_cm",
        "basis_date",
        "basis_recomputed",
        "form_version",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # a dose is entered on its visit's page (the inline above)


@admin.register(EndOfTreatment, site=site)
class EndOfTreatmentAdmin(AuditedModelAdmin):
    list_display = ["subject", "eot_date", "last_dose_date", "reason", "site"]
    list_filter = (VoidedFilter, "reason", ("site", admin.RelatedOnlyFieldListFilter))
    list_select_related = ["subject", "site"]
    search_fields = ["subject__subject_identifier", "subject__screening_number"]
    fields = ["study", "site", "subject", "visit", "eot_date", "last_dose_date", "reason", "reason_detail"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # On the add page the subject is chosen; the visit, study and site follow from it.
        fixed = ["study", "site", "visit"] if obj is None else ["study", "site", "subject", "visit"]
        return [*fixed, *(f for f in super().get_readonly_fields(request, obj) if f not in fixed)]

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "subject":
            from edc.core.scoping import scope
            from edc.subjects.models import Subject

            kwargs["queryset"] = scope(
                Subject.objects.active().filter(status__in=treatment.TREATMENT_STATUSES), request.user
            ).select_related("site")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def create_record(self, request: HttpRequest, data: dict[str, Any]) -> EndOfTreatment:
        return treatment.end_of_treatment_record(
            user=request.user,
            subject=data["subject"],
            last_dose_date=data["last_dose_date"],
            reason=data["reason"],
            eot_date=data.get("eot_date"),
            reason_detail=data.get("reason_detail") or "",
        )

    def update_record(
        self,
        request: HttpRequest,
        instance: Any,
        changes: dict[str, Any],
        reason: ChangeReason | None,
        version: int,
    ) -> EndOfTreatment:
        return treatment.end_of_treatment_update(
            user=request.user, record=instance, reason=reason, version=version, **changes
        )


@admin.register(PhaseSwitch, site=site)
class PhaseSwitchAdmin(AuditedModelAdmin):
    list_display = ["subject", "phase", "date", "trigger", "site"]
    list_select_related = ["subject", "site", "phase"]
    fields = ["study", "site", "subject", "phase", "date", "trigger"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # treatment_phase_switch, called with the response that triggered it

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
