"""Admin base for clinical data: scoped lists, a reason for change on every edit, voiding, no deletion."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from edc.core.admin_site import site
from edc.core.models import Membership, ReasonCode
from edc.core.scoping import can_write_site, scope, visible_sites, visible_studies
from edc.core.services import ChangeReason, changed_fields, lock_message, record_save, record_void

REASON_FIELDS = ("change_reason_code", "change_reason", "void_record")


class AuditedAdminForm(forms.ModelForm):
    """Adds the reason for change (and voiding) to the change form of an existing record."""

    change_reason_code = forms.ChoiceField(
        choices=[("", "---------"), *ReasonCode.choices], required=False, label="Reason for change"
    )
    change_reason = forms.CharField(
        required=False, label="Explanation", widget=forms.Textarea(attrs={"rows": 2, "cols": 60})
    )
    void_record = forms.BooleanField(
        required=False,
        label="Void this record",
        help_text="Voided records leave working lists; history keeps them.",
    )

    current_user: Any = None  # set per request by AuditedModelAdmin.get_form

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        instance = self.instance
        # The same rule as the services' require_site_write, shown as a form error instead of a 403.
        site = (cleaned.get("site") or getattr(instance, "site", None)) if "site" in self.fields else None
        if site is not None and not can_write_site(self.current_user, site):
            raise ValidationError(f"Your role does not allow entering or changing data at site {site.code}.")
        if instance is None or instance._state.adding:
            return cleaned
        stored = type(instance)._default_manager.get(pk=instance.pk)
        locked = lock_message(stored)
        if locked:
            raise ValidationError(f"The record cannot be changed: {locked}.")
        if stored.voided_at is not None:
            raise ValidationError("A voided record cannot be changed.")
        data_changed = [name for name in self.changed_data if name not in REASON_FIELDS]
        if (data_changed or cleaned.get("void_record")) and not (
            cleaned.get("change_reason_code") or cleaned.get("change_reason", "").strip()
        ):
            self.add_error(
                "change_reason_code", "A reason for change is required to change an existing record."
            )
        if (
            cleaned.get("change_reason_code") == ReasonCode.OTHER
            and not cleaned.get("change_reason", "").strip()
        ):
            self.add_error("change_reason", "Explain the reason when the code is 'Other'.")
        if cleaned.get("void_record") and not cleaned.get("change_reason", "").strip():
            self.add_error("change_reason", "Say why the record is voided.")
        return cleaned


class VoidedFilter(admin.SimpleListFilter):
    title = "record status"
    parameter_name = "voided"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("active", "Active"), ("voided", "Voided"), ("all", "All")]

    def choices(self, changelist: Any) -> Any:
        for lookup, title in self.lookup_choices:
            yield {
                "selected": (self.value() or "active") == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request: HttpRequest, queryset: models.QuerySet) -> models.QuerySet:
        value = self.value() or "active"
        if value == "active":
            return queryset.filter(voided_at__isnull=True)
        if value == "voided":
            return queryset.filter(voided_at__isnull=False)
        return queryset


class AuditedModelAdmin(SimpleHistoryAdmin):
    form = AuditedAdminForm
    history_list_display = ["history_reason_code", "history_change_reason"]
    list_filter: tuple[Any, ...] = (VoidedFilter,)

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        return scope(super().get_queryset(request), request.user)

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"current_user": request.user})

    def get_history_queryset(
        self, request: HttpRequest, history_manager: Any, pk_name: str, object_id: Any
    ) -> Any:
        # Without this, simple-history falls back to the history rows of a record the user cannot see.
        queryset = super().get_history_queryset(request, history_manager, pk_name, object_id)
        return scope(queryset, request.user, model=self.model)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        fields = tuple(super().get_readonly_fields(request, obj))
        return (*fields, "voided_at", "void_reason") if obj is not None else fields

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        names = [f for f in self.get_fields(request, obj) if f not in REASON_FIELDS]
        if obj is None:
            return [(None, {"fields": names})]
        return (
            [
                (None, {"fields": names}),
                ("Reason for change", {"fields": list(REASON_FIELDS)}),
            ]
            if fieldsets
            else fieldsets
        )

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        fields = [f for f in super().get_fields(request, obj) if f not in REASON_FIELDS]
        return fields + list(REASON_FIELDS) if obj is not None else fields

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "study":
            kwargs["queryset"] = visible_studies(request.user)
        elif db_field.name == "site":
            kwargs["queryset"] = visible_sites(request.user).select_related("study")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Any, form: forms.ModelForm, change: bool) -> None:
        if not change:
            record_save(obj, user=request.user)
            return
        data = form.cleaned_data
        reason = None
        if data.get("change_reason_code") or data.get("change_reason"):
            reason = ChangeReason(
                code=data.get("change_reason_code") or ReasonCode.OTHER, text=data["change_reason"]
            )
        stored = type(obj)._default_manager.get(pk=obj.pk)
        if changed_fields(stored, obj):
            record_save(obj, user=request.user, reason=reason)
        if data.get("void_record") and reason is not None:
            record_void(obj, user=request.user, reason=reason)
            messages.info(request, "The record was voided.")


@admin.register(Membership, site=site)
class MembershipAdmin(SimpleHistoryAdmin):
    list_display = ["user", "study", "site", "role", "is_active"]
    list_filter = ["role", "is_active", "study"]
    search_fields = ["user__username", "study__protocol_id", "site__code"]
    list_select_related = ["user", "study", "site"]
    autocomplete_fields: list[str] = []
