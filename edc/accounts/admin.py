"""Account events in the admin: readable by administrators, never added, changed or deleted."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from edc.accounts.models import AccountEvent
from edc.core.admin_site import site


@admin.register(AccountEvent, site=site)
class AccountEventAdmin(admin.ModelAdmin):
    list_display = ["occurred_at", "kind", "door", "username", "user", "ip_address", "locked_out"]
    list_filter = ["kind", "door", "locked_out"]
    search_fields = ["username", "ip_address"]
    list_select_related = ["user"]
    actions = None

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
