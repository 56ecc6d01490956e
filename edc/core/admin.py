"""Admin base for clinical data: the same services as the API, roles for permissions, read-only history.

- **One door policy.** A ModelAdmin never saves a model: `AuditedModelAdmin` subclasses name their
  services in `create_record`, `update_record` and `void_record`, mirroring the API viewset. What a
  service refuses (validation, site rights, a lock, a stale version) is shown on the form, with the
  user's input kept, and nothing is written.
- **Roles, not Django model permissions,** decide what a user may do (edc.core.models.ROLE_CAPABILITIES):
  view where they READ, add and change where they ENTER_DATA, never delete.
- **History pages** (list and version) are scoped like the record, read-only, GET only; a malformed
  id in their URL is a 404.
"""

from __future__ import annotations

import itertools
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import NON_FIELD_ERRORS, ImproperlyConfigured, PermissionDenied, ValidationError
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from edc.core.admin_site import site
from edc.core.exceptions import RecordLocked, StaleRecord
from edc.core.models import AuditedModel, Capability, Membership, ReasonCode
from edc.core.readable import field_label, reason_words, value_words
from edc.core.scoping import (
    capabilities_anywhere,
    has_capability,
    pseudonymised,
    request_grants,
    scope,
    sites_with,
    studies_with,
    visible_studies,
)
from edc.core.services import ChangeReason, membership_change, membership_grant
from studies.models import Site

REASON_FIELDS = ("change_reason_code", "change_reason", "void_record", "base_version")
_MAX_HISTORY_ID = 2**31 - 1

# What a service may refuse; the admin shows it on the form instead of answering 500.
REFUSALS = (ValidationError, PermissionDenied, RecordLocked, StaleRecord)


class _Refused(Exception):
    def __init__(self, error: Exception) -> None:
        self.error = error


def object_or_404(queryset: models.QuerySet, object_id: str) -> Any:
    """The row of a (scoped) queryset named by an admin URL's id: a malformed id, a missing row and
    one the user may not see all answer 404 alike, so a page never tells which."""
    try:
        pk = queryset.model._meta.pk.to_python(object_id)
    except ValidationError as exc:
        raise Http404 from exc
    found = queryset.filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def refusal_messages(error: Exception) -> dict[str | None, list[str]]:
    """A service's refusal as form errors: {field or None: [message, ...]}."""
    if isinstance(error, ValidationError):
        if hasattr(error, "error_dict"):
            return {
                (None if field == NON_FIELD_ERRORS else field): [str(m) for m in messages_]
                for field, messages_ in error.message_dict.items()
            }
        return {None: [str(m) for m in error.messages]}
    return {None: [str(error)]}


class ServiceForm(forms.ModelForm):
    """A model form whose save is done by a service; a refusal of that service shows as form errors."""

    current_user: Any = None  # set per request by ServiceAdminMixin.get_form
    refusal: Exception | None = None  # the service's refusal of this very POST (second pass)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or self.cleaned_data
        if self.refusal is not None:
            for field, errors in refusal_messages(self.refusal).items():
                if field is not None and field not in self.fields:
                    errors = [f"{field}: {message}" for message in errors]
                    field = None
                self.add_error(field, errors)
        return cleaned


class ServiceAdminMixin:
    """The write of a change form is one service call; a refusal re-shows the form with its errors.

    save_model raises what the service refused; changeform_view then renders the same POST again with
    those errors on the form (the first attempt's transaction is rolled back, so nothing is written).
    """

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)  # type: ignore[misc]  # SimpleHistoryAdmin is untyped
        return type(
            form.__name__,
            (form,),
            {"current_user": request.user, "refusal": getattr(request, "_edc_refusal", None)},
        )

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: Any = None,
    ) -> HttpResponse:
        view = super().changeform_view  # type: ignore[misc]  # SimpleHistoryAdmin is untyped
        try:
            return view(request, object_id, form_url, extra_context)
        except _Refused as refused:
            request._edc_refusal = refused.error  # type: ignore[attr-defined]  # a per-request note
            return view(request, object_id, form_url, extra_context)

    def run_service(self, call: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return call(*args, **kwargs)
        except REFUSALS as error:
            raise _Refused(error) from error

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        form.save_m2m()
        for formset in formsets:
            if issubclass(formset.model, AuditedModel):
                inline = getattr(formset, "edc_inline", None)
                if inline is None:
                    raise ImproperlyConfigured(
                        "Inlines of audited models save through services: base the inline on AuditedInline "
                        "and give it its write hooks."
                    )
                self._save_audited_formset(request, form, formset, inline)
                continue
            self.save_formset(request, form, formset, change=change)  # type: ignore[attr-defined]  # a ModelAdmin's

    def _save_audited_formset(self, request: HttpRequest, form: Any, formset: Any, inline: Any) -> None:
        """Each inline row is one service call: a new row created, a changed one updated with the page's
        reason for change, a row ticked for removal voided with it (never deleted)."""
        if getattr(formset, "edc_untouched", False):
            return
        parent = form.instance
        reason = form.cleaned_data.get("reason") if hasattr(form, "cleaned_data") else None
        model_fields = {f.name for f in formset.model._meta.concrete_fields}
        fk_name = formset.fk.name
        for row in formset.forms:
            if not hasattr(row, "cleaned_data"):
                continue
            instance = row.instance
            deleting = formset._should_delete_form(row)
            if instance._state.adding:
                if deleting or not row.has_changed():
                    continue
                skip = {fk_name, formset.model._meta.pk.name}
                data = {
                    name: row.cleaned_data[name]
                    for name in row.fields
                    if name in model_fields and name in row.cleaned_data and name not in skip
                }
                formset.new_objects.append(self.run_service(inline.create_record, request, parent, data))
                continue
            stored = formset.model._default_manager.get(pk=instance.pk)
            version = row.cleaned_data.get("base_version") or stored.version
            if deleting:
                if reason is None:
                    raise _Refused(
                        ValidationError({"change_reason": [gettext("Say why the record is voided.")]})
                    )
                formset.deleted_objects.append(
                    self.run_service(inline.void_record, request, stored, reason, version)
                )
                continue
            changes = {name: row.cleaned_data[name] for name in row.changed_data if name in model_fields}
            if changes:
                saved = self.run_service(inline.update_record, request, stored, changes, reason, version)
                formset.changed_objects.append((saved, list(changes)))


class ScopedHistoryAdminMixin:
    """simple-history's pages, scoped like the record and read-only (GET only, every field read-only)."""

    model: Any

    def _object_pk(self, object_id: str) -> Any:
        try:
            return self.model._meta.pk.to_python(unquote(object_id))
        except (ValidationError, ValueError, TypeError) as exc:
            raise Http404 from exc

    def get_history_queryset(
        self, request: HttpRequest, history_manager: Any, pk_name: str, object_id: Any
    ) -> Any:
        queryset = super().get_history_queryset(request, history_manager, pk_name, object_id)  # type: ignore[misc]  # SimpleHistoryAdmin is untyped
        # Only records the user sees now (without this simple-history falls back to any record's rows)...
        queryset = queryset.filter(
            **{f"{pk_name}__in": self.get_queryset(request).values("pk")}  # type: ignore[attr-defined]  # ModelAdmin's
        )
        # ...and of a site-owned record, only the rows written while it was at the user's sites.
        if getattr(self.model, "scope_site_field", None) or getattr(self.model, "scope_study_field", None):
            queryset = scope(queryset, request.user, model=self.model)
        return queryset

    def set_history_delta_changes(
        self, request: HttpRequest, historical_records: Any, foreign_keys_are_objs: bool = True
    ) -> None:
        """Each entry's changes in words (issue 22): the field's label, old -> new as a person reads
        them (a choice's label, Yes/No, a related record's name), not raw column names and codes."""
        model = self.model
        records = list(historical_records)
        hidden: set[str] = set()
        if records and getattr(model, "identifying_fields", None) and pseudonymised(request.user, records[0]):
            hidden = set(model.identifying_fields)
        cache: dict[tuple[Any, Any], str] = {}
        for newer, older in itertools.pairwise(records):
            delta = newer.diff_against(older, foreign_keys_are_objs=False)
            newer.history_delta_changes = [
                {
                    "field": field_label(model, change.field),
                    "old": value_words(model, change.field, change.old, cache),
                    "new": value_words(model, change.field, change.new, cache),
                }
                for change in delta.changes
                if change.field not in hidden and change.field not in ("updated", "version")
            ]

    def reason_in_words(self, record: Any) -> str:
        """The history page's reason column: the coded reason's label with the explanation."""
        return reason_words(getattr(record, "history_reason_code", ""), record.history_change_reason or "")

    def history_view(self, request: HttpRequest, object_id: str, extra_context: Any = None) -> HttpResponse:
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET", "HEAD"])
        self._object_pk(object_id)
        return super().history_view(request, object_id, extra_context)  # type: ignore[misc]  # SimpleHistoryAdmin is untyped

    def history_form_view(
        self, request: HttpRequest, object_id: str, version_id: str, extra_context: Any = None
    ) -> HttpResponse:
        # Reverting is off and the page is read-only: a POST would save the old version's form.
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET", "HEAD"])
        pk = self._object_pk(object_id)
        if not (version_id.isascii() and version_id.isdigit()) or int(version_id) > _MAX_HISTORY_ID:
            raise Http404
        pk_name = self.model._meta.pk.attname
        history = self.model._meta.simple_history_manager_attribute
        rows = self.get_history_queryset(request, getattr(self.model, history), pk_name, pk)
        if not rows.filter(history_id=int(version_id)).exists():
            raise Http404
        request._edc_history_page = True  # type: ignore[attr-defined]  # a per-request note
        return super().history_form_view(request, object_id, version_id, extra_context)  # type: ignore[misc]  # SimpleHistoryAdmin is untyped


def _on_history_page(request: HttpRequest) -> bool:
    return bool(getattr(request, "_edc_history_page", False))


# --- clinical data -------------------------------------------------------------------------------


class AuditedAdminForm(ServiceForm):
    """Adds the reason for change, the version it is based on and voiding to an existing record's form."""

    change_reason_code = forms.ChoiceField(
        choices=[("", "---------"), *ReasonCode.choices], required=False, label=_("Reason for change")
    )
    change_reason = forms.CharField(
        required=False, label=_("Explanation"), widget=forms.Textarea(attrs={"rows": 2, "cols": 60})
    )
    void_record = forms.BooleanField(
        required=False,
        label=_("Void this record"),
        help_text=_("Voided records leave working lists; history keeps them."),
    )
    # The version the user read: a save based on an older one is refused, never merged.
    base_version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.instance._state.adding:
            self.fields["base_version"].initial = self.instance.version

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.instance._state.adding:
            return cleaned
        if cleaned.get("base_version") is None and "base_version" not in self.errors:
            self.add_error(None, gettext("The form lacks the record's version: reload the page."))
        code, text = cleaned.get("change_reason_code"), cleaned.get("change_reason")
        cleaned["reason"] = None
        if code or (text or "").strip():
            try:
                cleaned["reason"] = ChangeReason.from_input(code, text)
            except ValidationError as exc:
                for field, errors in refusal_messages(exc).items():
                    self.add_error(field, errors)
        return cleaned


class VoidedFilter(admin.SimpleListFilter):
    title = _("record status")
    parameter_name = "voided"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("active", _("Active")), ("voided", _("Voided")), ("all", _("All"))]

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


def _cached_capability(request: HttpRequest, capability: Capability) -> bool:
    """Whether the user holds `capability` anywhere; asked many times per page, queried once."""
    if not hasattr(request, "_edc_capabilities"):
        request._edc_capabilities = capabilities_anywhere(  # type: ignore[attr-defined]  # a per-request note
            request.user, request_grants(request)
        )
    return capability in request._edc_capabilities  # type: ignore[attr-defined]  # a per-request note


def _no_service(page: Any, write: str) -> str:
    writes = {"create": gettext("new record"), "change": gettext("change"), "void": gettext("void")}
    return gettext("This page takes no {write}: {page} names no service for it.").format(
        write=writes[write], page=type(page).__name__
    )


class AuditedModelAdmin(ServiceAdminMixin, ScopedHistoryAdminMixin, SimpleHistoryAdmin):
    """Subclasses implement the three writes by calling their app's services (as AuditedViewSet does)."""

    form = AuditedAdminForm
    history_list_display = ["reason_in_words"]
    list_filter: tuple[Any, ...] = (VoidedFilter,)

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Any = None,
    ) -> Any:
        # A subject's record: whoever raises queries (monitors, data managers) gets the page's
        # "Raise a query" link (edc/templates/admin/change_form.html); the page checks the site.
        of_a_subject = obj is not None and (
            obj._meta.label_lower == "subjects.subject" or getattr(obj, "subject_id", None) is not None
        )
        if (
            change
            and of_a_subject
            and self.model._meta.app_label != "datamanagement"
            and not _on_history_page(request)
            and _cached_capability(request, Capability.RAISE_QUERIES)
        ):
            context["raise_query_url"] = reverse(
                "admin:datamanagement_query_raise", args=[obj._meta.label_lower, obj.pk]
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    # --- the writes: one service each -------------------------------------------------------------

    # A page that names no service for a write refuses it as any write the user may not make (a
    # form error on the page, REFUSALS), never a server error.
    def create_record(self, request: HttpRequest, data: dict[str, Any]) -> AuditedModel:
        raise PermissionDenied(_no_service(self, "create"))

    def update_record(
        self,
        request: HttpRequest,
        instance: Any,
        changes: dict[str, Any],
        reason: ChangeReason | None,
        version: int,
    ) -> AuditedModel:
        raise PermissionDenied(_no_service(self, "change"))

    def void_record(
        self, request: HttpRequest, instance: Any, reason: ChangeReason, version: int
    ) -> AuditedModel:
        raise PermissionDenied(_no_service(self, "void"))

    def save_model(self, request: HttpRequest, obj: Any, form: forms.ModelForm, change: bool) -> None:
        data = form.cleaned_data
        model_fields = {f.name for f in self.model._meta.concrete_fields}
        if not change:
            values = {name: data[name] for name in form.fields if name in model_fields and name in data}
            saved = self.run_service(self.create_record, request, values)
        else:
            stored = self.model._default_manager.get(pk=obj.pk)
            changes = {name: data[name] for name in form.changed_data if name in model_fields}
            saved = stored
            version = data["base_version"]
            if changes:
                saved = self.run_service(
                    self.update_record, request, stored, changes, data["reason"], version
                )
                version = saved.version
            if data.get("void_record"):
                if data["reason"] is None:
                    raise _Refused(
                        ValidationError({"change_reason": [gettext("Say why the record is voided.")]})
                    )
                saved = self.run_service(self.void_record, request, saved, data["reason"], version)
                messages.info(request, gettext("The record was voided."))
        # The admin goes on with `obj` (its log entry, the redirect): give it what the service stored.
        for field in self.model._meta.concrete_fields:
            setattr(obj, field.attname, getattr(saved, field.attname))
        obj._state.adding = False
        obj._state.db = saved._state.db

    # --- scoping and roles ------------------------------------------------------------------------

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        return scope(super().get_queryset(request), request.user)

    def can_write(self, request: HttpRequest, obj: Any) -> bool:
        site_ = getattr(obj, "site", None) if getattr(self.model, "scope_site_field", None) else None
        if site_ is not None:
            return has_capability(request.user, Capability.ENTER_DATA, site=site_)
        return has_capability(request.user, Capability.ENTER_DATA, study=getattr(obj, "study", None))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _cached_capability(request, Capability.READ)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _cached_capability(request, Capability.READ)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return _cached_capability(request, Capability.ENTER_DATA)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if _on_history_page(request) or not _cached_capability(request, Capability.ENTER_DATA):
            return False
        return obj is None or self.can_write(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    # --- the form ---------------------------------------------------------------------------------

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            fields += [name for name in obj.fixed_fields if name not in fields]
            fields += ["version", "locked_at", "voided_at", "void_reason"]
        if _on_history_page(request):
            editable = self.fields or [f.name for f in self.model._meta.fields if f.editable]
            fields += [name for name in editable if name not in fields]
        return fields

    def _model_field_names(self, request: HttpRequest, obj: Any) -> list[str]:
        return [f for f in super().get_fields(request, obj) if f not in REASON_FIELDS]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        fields = self._model_field_names(request, obj)
        if obj is not None and obj.identifying_fields and pseudonymised(request.user, obj):
            fields = [name for name in fields if name not in obj.identifying_fields]
        if obj is not None and not _on_history_page(request) and self.has_change_permission(request, obj):
            fields += list(REASON_FIELDS)
        return fields

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = self.get_fields(request, obj)
        names = [f for f in fields if f not in REASON_FIELDS]
        reason = [f for f in fields if f in REASON_FIELDS]
        fieldsets: list[tuple[Any, dict[str, Any]]] = [(None, {"fields": names})]
        if reason:
            fieldsets.append((_("Reason for change"), {"fields": reason}))
        return fieldsets

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        # A user picks only where they may enter data; they cannot even name another study or site.
        if db_field.name == "study":
            kwargs["queryset"] = studies_with(request.user, Capability.ENTER_DATA)
        elif db_field.name == "site":
            kwargs["queryset"] = sites_with(request.user, Capability.ENTER_DATA).select_related("study")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


# --- inlines of clinical data --------------------------------------------------------------------


class AuditedInlineForm(forms.ModelForm):
    """An inline row of an audited model: carries the version it was rendered with."""

    base_version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.instance._state.adding:
            self.fields["base_version"].initial = self.instance.version


class AuditedInlineFormSet(forms.BaseInlineFormSet):
    """A POST of the parent page without this inline's rows (no management form) leaves the rows as
    they are: a client that writes only the parent's fields does not touch its inlines."""

    def __init__(self, data: Any = None, *args: Any, **kwargs: Any) -> None:
        prefix = kwargs.get("prefix") or type(self).get_default_prefix()
        self.edc_untouched = data is not None and f"{prefix}-TOTAL_FORMS" not in data
        super().__init__(None if self.edc_untouched else data, *args, **kwargs)
        # What the admin's change message reads (formset.save() sets them for other formsets).
        self.new_objects: list[Any] = []
        self.changed_objects: list[Any] = []
        self.deleted_objects: list[Any] = []

    def is_valid(self) -> bool:
        return True if self.edc_untouched else super().is_valid()


class AuditedInlineMixin:
    """The write hooks of an inline of an audited model, in the shape of AuditedModelAdmin's.

    The parent page saves each row through them (ServiceAdminMixin._save_audited_formset): a new row
    with `create_record(request, parent, data)`, a changed one with `update_record(request, instance,
    changes, reason, version)` and the page's reason for change, a row ticked "Void" with
    `void_record(request, instance, reason, version)`. Roles decide what a user may do, as for the
    parent: view where they read, add, change and void where they enter data.
    """

    # The form and formset (AuditedInlineForm, AuditedInlineFormSet) are set on the two inline
    # classes below: declared here, they would shadow the inline base classes' own typed attributes.
    extra = 0
    model: Any

    # As on AuditedModelAdmin: a write without its service is refused, never a server error.
    def create_record(self, request: HttpRequest, parent: Any, data: dict[str, Any]) -> AuditedModel:
        raise PermissionDenied(_no_service(self, "create"))

    def update_record(
        self,
        request: HttpRequest,
        instance: Any,
        changes: dict[str, Any],
        reason: ChangeReason | None,
        version: int,
    ) -> AuditedModel:
        raise PermissionDenied(_no_service(self, "change"))

    def void_record(
        self, request: HttpRequest, instance: Any, reason: ChangeReason, version: int
    ) -> AuditedModel:
        raise PermissionDenied(_no_service(self, "void"))

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        formset = super().get_formset(request, obj, **kwargs)  # type: ignore[misc]
        formset.edc_inline = self
        return formset

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        return scope(super().get_queryset(request), request.user).filter(voided_at__isnull=True)  # type: ignore[misc]

    def _may_write(self, request: HttpRequest, obj: Any) -> bool:
        if not _cached_capability(request, Capability.ENTER_DATA) or _on_history_page(request):
            return False
        site_ = getattr(obj, "site", None)
        return site_ is None or has_capability(request.user, Capability.ENTER_DATA, site=site_)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _cached_capability(request, Capability.READ)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_write(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_write(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The inline's "Delete" box voids the row (with the page's reason), it never deletes.
        return self._may_write(request, obj)


class AuditedTabularInline(AuditedInlineMixin, admin.TabularInline):
    form = AuditedInlineForm
    formset = AuditedInlineFormSet


class AuditedStackedInline(AuditedInlineMixin, admin.StackedInline):
    form = AuditedInlineForm
    formset = AuditedInlineFormSet


# --- memberships ---------------------------------------------------------------------------------


MEMBERSHIP_FIELDS = ["user", "study", "site", "role", "is_active"]


class MembershipForm(ServiceForm):
    class Meta:
        model = Membership
        fields = MEMBERSHIP_FIELDS


@admin.register(Membership, site=site)
class MembershipAdmin(ServiceAdminMixin, ScopedHistoryAdminMixin, SimpleHistoryAdmin):
    """Only superusers and study administrators of the study manage its memberships (same services)."""

    form = MembershipForm
    list_display = ["user", "study", "site", "role", "is_active"]
    list_filter = ["role", "is_active", ("study", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["user__username", "study__protocol_id", "site__code"]
    list_select_related = ["user", "study", "site"]

    def _administered(self, request: HttpRequest) -> Any:
        return studies_with(request.user, Capability.MANAGE_MEMBERSHIPS)

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(study__in=self._administered(request).values("id"))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _cached_capability(request, Capability.MANAGE_MEMBERSHIPS)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request) and (
            obj is None or has_capability(request.user, Capability.MANAGE_MEMBERSHIPS, study=obj.study)
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self.has_module_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not _on_history_page(request) and self.has_view_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # memberships end by deactivation; history keeps who had access when

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if _on_history_page(request):
            return MEMBERSHIP_FIELDS
        return ["user", "study", "created"] if obj is not None else []

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        administered = self._administered(request)
        if db_field.name == "study":
            kwargs["queryset"] = administered
        elif db_field.name == "site":
            kwargs["queryset"] = (
                Site.objects.filter(study__in=administered.values("id"))
                .select_related("study")
                .order_by("study__protocol_id", "code")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Any, form: forms.ModelForm, change: bool) -> None:
        data = form.cleaned_data
        if change:
            stored = Membership.objects.get(pk=obj.pk)
            changes = {
                name: data[name] for name in form.changed_data if name in ("site", "role", "is_active")
            }
            saved = stored
            if changes:
                saved = self.run_service(membership_change, user=request.user, membership=stored, **changes)
        else:
            saved = self.run_service(
                membership_grant,
                user=request.user,
                member=data["user"],
                study=data["study"],
                site=data.get("site"),
                role=data["role"],
            )
        obj.pk = saved.pk
        obj._state.adding = False


# Re-exported for apps that register their own admins.
__all__ = [
    "AuditedAdminForm",
    "AuditedInlineForm",
    "AuditedInlineMixin",
    "AuditedModelAdmin",
    "AuditedStackedInline",
    "AuditedTabularInline",
    "ScopedHistoryAdminMixin",
    "ServiceAdminMixin",
    "ServiceForm",
    "VoidedFilter",
    "visible_studies",
]
