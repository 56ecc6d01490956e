from __future__ import annotations

from django.contrib import admin

from edc.core.admin import AuditedModelAdmin, VoidedFilter
from edc.core.admin_site import site
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
