"""Admin pages of data management: the query list with ageing, SDV marks, signatures (read-only).

Writes go through the API (the same services); these pages are scoped like every clinical page
(the user's sites), their history pages read-only (edc.core.admin).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from edc.core.admin import AuditedModelAdmin, VoidedFilter
from edc.core.admin_site import site
from edc.datamanagement.models import Query, Signature, SourceVerification
from edc.datamanagement.selectors import query_age_days, sdv_states, signature_state


class ReadOnlyAdmin(AuditedModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Query, site=site)
class QueryAdmin(ReadOnlyAdmin):
    list_display = ["subject", "site", "record_type", "field", "rule", "status", "age", "text", "raised_by"]
    list_filter = (
        VoidedFilter,
        "status",
        "rule",
        ("site", admin.RelatedOnlyFieldListFilter),
        ("study", admin.RelatedOnlyFieldListFilter),
    )
    list_select_related = ["subject", "site", "raised_by"]
    search_fields = ["text", "subject__screening_number", "subject__subject_identifier"]

    @admin.display(description=_("age (days)"))
    def age(self, query: Query) -> int:
        return query_age_days(query)


@admin.register(SourceVerification, site=site)
class SourceVerificationAdmin(ReadOnlyAdmin):
    list_display = [
        "subject",
        "site",
        "record_type",
        "field",
        "verified_version",
        "verified_by",
        "verified_at",
        "state",
    ]
    list_filter = (VoidedFilter, ("site", admin.RelatedOnlyFieldListFilter))
    list_select_related = ["subject", "site", "verified_by"]

    @admin.display(description=_("state"))
    def state(self, mark: SourceVerification) -> str:
        return sdv_states([mark])[mark.pk].state


@admin.register(Signature, site=site)
class SignatureAdmin(ReadOnlyAdmin):
    list_display = ["subject", "site", "kind", "signer_name", "signed_at", "meaning", "state"]
    list_filter = (VoidedFilter, "kind", ("site", admin.RelatedOnlyFieldListFilter))
    list_select_related = ["subject", "site"]

    @admin.display(description=_("state"))
    def state(self, signature: Signature) -> str:
        return signature_state(signature).state
