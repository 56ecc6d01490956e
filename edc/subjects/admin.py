from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from edc.core.admin import AuditedModelAdmin, VoidedFilter
from edc.core.admin_site import site
from edc.core.services import ChangeReason
from edc.subjects import services
from edc.subjects.models import Subject


@admin.register(Subject, site=site)
class SubjectAdmin(AuditedModelAdmin):
    list_display = ["screening_number", "subject_identifier", "study", "site", "status", "sex", "birth_date"]
    list_filter = (
        VoidedFilter,
        "status",
        ("study", admin.RelatedOnlyFieldListFilter),
        ("site", admin.RelatedOnlyFieldListFilter),
    )
    list_select_related = ["study", "site"]
    search_fields = ["screening_number", "subject_identifier", "initials"]
    readonly_fields = ["subject_identifier", "status"]

    # The same services as the API (edc/subjects/api.py).
    def create_record(self, request: HttpRequest, data: dict[str, Any]) -> Subject:
        return services.subject_screen(user=request.user, **data)

    def update_record(
        self,
        request: HttpRequest,
        instance: Subject,
        changes: dict[str, Any],
        reason: ChangeReason | None,
        version: int,
    ) -> Subject:
        return services.subject_update(
            user=request.user, subject=instance, reason=reason, version=version, **changes
        )

    def void_record(
        self, request: HttpRequest, instance: Subject, reason: ChangeReason, version: int
    ) -> Subject:
        return services.subject_void(user=request.user, subject=instance, reason=reason, version=version)
