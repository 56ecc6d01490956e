from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from edc.core.admin_site import site
from edc.safety.models import CtcaeTerm


@admin.register(CtcaeTerm, site=site)
class CtcaeTermAdmin(admin.ModelAdmin):
    """Read-only: the dictionary changes only through ``load_ctcae``."""

    list_display = ["term", "meddra_code", "soc", "version", "allowed"]
    list_filter = ["version", "soc"]
    search_fields = ["term", "meddra_code"]
    readonly_fields = [
        "version",
        "meddra_code",
        "soc",
        "term",
        "grade_1",
        "grade_2",
        "grade_3",
        "grade_4",
        "grade_5",
        "definition",
        "navigational_note",
        "change_note",
    ]

    @admin.display(description=_("grades"))
    def allowed(self, obj: CtcaeTerm) -> str:
        return ", ".join(str(g) for g in obj.allowed_grades())

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: CtcaeTerm | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: CtcaeTerm | None = None) -> bool:
        return False
