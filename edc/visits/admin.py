"""The visit page: a visit and its forms as inlines (the screening visit holds the screening forms).

Every inline row is written by the forms' services (edc/forms/services.py), the same as the API's;
a changed or voided row takes the page's reason for change. A visit's own fields are read-only
here: it is recorded (done on a date) or missed on its own pages, /admin/visits/visit/{id}/record/
and .../miss/ (edc/visits/admin_schedule.py), through the services the API's actions call.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from edc.core.admin import AuditedModelAdmin, AuditedStackedInline, AuditedTabularInline, VoidedFilter
from edc.core.admin_site import site
from edc.core.services import ChangeReason
from edc.forms import admin as after_treatment_inlines
from edc.forms import services as form_services
from edc.forms.admin_status import FormStatusAdminMixin
from edc.forms.models import (
    ConcomitantMedication,
    DiseaseBaseline,
    EcogAssessment,
    FormRecord,
    HistoryAnswers,
    LabResult,
    MedicalHistory,
    PregnancyTest,
    PriorTherapy,
    VitalSigns,
)
from edc.visits.models import Visit


class FormInlineMixin:
    model: type[FormRecord]
    fk_name = "visit"

    def create_record(self, request: HttpRequest, parent: Visit, data: dict[str, Any]) -> FormRecord:
        return form_services.form_record_create(
            user=request.user, model=self.model, subject=parent.subject, visit=parent, **data
        )

    def update_record(
        self,
        request: HttpRequest,
        instance: Any,
        changes: dict[str, Any],
        reason: ChangeReason | None,
        version: int,
    ) -> FormRecord:
        return form_services.form_record_update(
            user=request.user, record=instance, reason=reason, version=version, **changes
        )

    def void_record(
        self, request: HttpRequest, instance: Any, reason: ChangeReason, version: int
    ) -> FormRecord:
        return form_services.form_record_void(
            user=request.user, record=instance, reason=reason, version=version
        )


def _fields(model: type[FormRecord]) -> list[str]:
    names = [n for n in model.editable_fields if n != "visit"]
    return [*names, "base_version"]


def _inline(model: type[FormRecord], stacked: bool = False) -> type[Any]:
    base = AuditedStackedInline if stacked else AuditedTabularInline
    return type(
        f"{model.__name__}Inline",
        (FormInlineMixin, base),
        {"model": model, "fields": _fields(model), "__module__": __name__},
    )


FORM_INLINES = [
    _inline(VitalSigns),
    _inline(EcogAssessment),
    _inline(LabResult),
    _inline(PregnancyTest),
    _inline(DiseaseBaseline, stacked=True),
    _inline(PriorTherapy, stacked=True),
    _inline(MedicalHistory),
    _inline(ConcomitantMedication),
    _inline(HistoryAnswers, stacked=True),
    *after_treatment_inlines.VISIT_INLINES,  # issue 19 (edc/forms/admin.py)
]


@admin.register(Visit, site=site)
class VisitAdmin(FormStatusAdminMixin, AuditedModelAdmin):
    list_display = [
        "subject",
        "code",
        "name",
        "kind",
        "status",
        "target_date",
        "window_start",
        "window_end",
        "visit_date",
    ]
    list_filter = (VoidedFilter, "status", "kind", ("site", admin.RelatedOnlyFieldListFilter))
    list_select_related = ["subject", "site"]
    search_fields = ["subject__screening_number", "subject__subject_identifier", "code"]
    fields = [
        "study",
        "site",
        "subject",
        "code",
        "name",
        "kind",
        "status",
        "target_date",
        "window_start",
        "window_end",
        "visit_date",
        "missed_reason",
        "cancelled_reason",
    ]
    readonly_fields = fields
    inlines = FORM_INLINES

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # screening and the schedule create visits (edc/visits/services.py)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_readonly_fields(request, obj))  # the form status panel included
        return [*fields, "record_or_miss"] if obj is not None else fields

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_fields(request, obj))
        return [*fields, "record_or_miss"] if obj is not None else fields

    @admin.display(description=_("record"))
    def record_or_miss(self, obj: Visit) -> str:
        from edc.visits.admin_schedule import visit_actions

        return visit_actions(obj)

    def get_urls(self) -> list[Any]:
        from django.urls import path

        from edc.visits.admin_schedule import miss_view, overdue_view, record_view

        own = [
            path(
                "overdue/",
                self.admin_site.admin_view(lambda request: overdue_view(self, request)),
                name="visits_visit_overdue",
            ),
            path(
                "<path:object_id>/record/",
                self.admin_site.admin_view(lambda request, object_id: record_view(self, request, object_id)),
                name="visits_visit_record",
            ),
            path(
                "<path:object_id>/miss/",
                self.admin_site.admin_view(lambda request, object_id: miss_view(self, request, object_id)),
                name="visits_visit_miss",
            ),
        ]
        return own + super().get_urls()


from edc.visits import admin_treatment  # noqa: E402, F401  (the treatment inlines and pages)
