"""Admin for the trial definitions: one study page shows its whole protocol, criteria in words.

Definitions normally come from fixtures (manage.py load_studies). In the admin a user sees the
definitions of their own studies; a study administrator of that study (or a superuser) changes them,
giving a reason that the history keeps with their name; nobody changes a locked study or deletes a
definition. The shared form registry is read by every staff member and changed by superusers only.
The models' `clean()` holds the cross-field rules, so a form here refuses what the loader and
`manage.py check` refuse. Writes go through studies.services.definition_save.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.html import format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from edc.core.admin_site import site
from edc.core.models import Role
from edc.core.scoping import request_grants, visible_studies
from studies.models import (
    Arm,
    Codelist,
    CodelistItem,
    EligibilityCriterion,
    Endpoint,
    Form,
    FormDefinition,
    FormItem,
    Intervention,
    Site,
    Study,
    StudyVersion,
    TreatmentPhase,
    VisitDefinition,
)
from studies.serializers import rule_in_words
from studies.services import administered_studies, definition_save, study_of

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


def _assumed(obj: object) -> bool:
    return bool(getattr(obj, "assumption", "") or getattr(obj, "assumptions", {}))


class AssumedFilter(admin.SimpleListFilter):
    title = _("source")
    parameter_name = "source"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, StrOrPromise]]:
        return [("protocol", _("Protocol text")), ("assumption", _("Marked assumption"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        assumed = queryset.exclude(assumption="") | queryset.exclude(assumptions={})
        if self.value() == "assumption":
            return assumed
        if self.value() == "protocol":
            return queryset.exclude(pk__in=assumed.values("pk"))
        return queryset


class DefinitionForm(forms.ModelForm):
    """Every change to a stored definition says why; the history keeps the reason with the user."""

    change_reason = forms.CharField(
        required=False,
        label=_("Reason for change"),
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text=_("Required for a change to a stored definition; kept in its history."),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or self.cleaned_data
        changed = [name for name in self.changed_data if name != "change_reason"]
        if self.instance.pk and changed and not (cleaned.get("change_reason") or "").strip():
            self.add_error(
                "change_reason", _("A reason for change is required to change a stored definition.")
            )
        return cleaned


def _sees(user: Any) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.is_staff)


class ScopedDefinitions:
    """Who sees and changes a definition, for model admins and inlines alike."""

    registry = False  # the shared form registry: every staff member reads it, superusers change it
    study_path: str | None = "study"  # how a row reaches its study

    def _scoped(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.registry or request.user.is_superuser:
            return queryset
        studies = visible_studies(request.user).values("id")
        lookup = "id__in" if self.study_path is None else f"{self.study_path}__in"
        return queryset.filter(**{lookup: studies})

    def _visible(self, request: HttpRequest, obj: Any) -> bool:
        if not _sees(request.user):
            return False
        if obj is None or self.registry or request.user.is_superuser:
            return True
        study = study_of(obj)
        return study is not None and visible_studies(request.user).filter(pk=study.pk).exists()

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._visible(request, obj)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _sees(request.user)

    def _may_change(self, request: HttpRequest, obj: Any) -> bool:
        user = request.user
        if not _sees(user):
            return False
        if self.registry or user.is_superuser:
            # The registry is the superuser's; a superuser changes any study that is not locked.
            study = None if self.registry else (study_of(obj) if obj is not None else None)
            return bool(user.is_superuser) and (study is None or study.locked_at is None)
        # The unlocked studies this user administers, from the memberships read once per request.
        ids = {g.study_id for g in request_grants(request) if g.role == Role.ADMIN and not g.study_locked}
        if obj is None:
            return bool(ids)
        study = study_of(obj)
        return study is not None and study.pk in ids

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._visible(request, obj) and self._may_change(request, obj)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # An inline passes its parent: adding to a study is changing that study's definition.
        return self._may_change(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # definitions are retired, never deleted: data may point at them


class DefinitionAdmin(ScopedDefinitions, SimpleHistoryAdmin):
    form = DefinitionForm
    history_list_display = ["history_change_reason"]

    @admin.display(boolean=True, description=_("assumption"))
    def is_assumed(self, obj: object) -> bool:
        return _assumed(obj)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return self._scoped(request, super().get_queryset(request))

    def get_history_queryset(
        self, request: HttpRequest, history_manager: Any, pk_name: str, object_id: Any
    ) -> Any:
        queryset = super().get_history_queryset(request, history_manager, pk_name, object_id)
        if self.registry or request.user.is_superuser:
            return queryset
        studies = visible_studies(request.user).values("id")
        return queryset.filter(
            **({"id__in": studies} if self.study_path is None else {f"{self.study_path}__in": studies})
        )

    def _check_ids(self, *ids: str) -> None:
        # A malformed id in a history URL is a page that does not exist, not a server error.
        for value in ids:
            try:
                self.model._meta.pk.to_python(value)
            except ValidationError:
                raise Http404 from None
            if not str(value).isdigit():
                raise Http404

    def history_view(self, request: HttpRequest, object_id: str, extra_context: Any = None) -> HttpResponse:
        self._check_ids(object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(
        self, request: HttpRequest, object_id: str, version_id: str, extra_context: Any = None
    ) -> HttpResponse:
        # A past version is shown, never saved back: that would bypass the reason and the rules.
        if request.method != "GET":
            raise PermissionDenied
        self._check_ids(object_id, version_id)
        if not self.get_queryset(request).filter(pk=object_id).exists():
            raise Http404
        return super().history_form_view(request, object_id, version_id, extra_context)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        fields = [f for f in super().get_fields(request, obj) if f != "change_reason"]
        return (
            [*fields, "change_reason"]
            if obj is not None and self.has_change_permission(request, obj)
            else fields
        )

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or not self.has_change_permission(request, obj):
            return [
                (name, {**opts, "fields": [f for f in opts["fields"] if f != "change_reason"]})
                for name, opts in fieldsets
            ]
        if any("change_reason" in opts["fields"] for _name, opts in fieldsets):
            return fieldsets
        return [*fieldsets, (_("Reason for change"), {"fields": ["change_reason"]})]

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "study":
            kwargs["queryset"] = administered_studies(request.user)
        elif db_field.name in ("arm", "phase") and not request.user.is_superuser:
            kwargs["queryset"] = db_field.related_model.objects.filter(
                study__in=administered_studies(request.user)
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Any, form: forms.ModelForm, change: bool) -> None:
        reason = form.cleaned_data.get("change_reason", "") if change else ""
        request._definition_reason = reason or str(_("changed in the admin"))  # type: ignore[attr-defined]  # per request
        definition_save(obj=obj, user=request.user, reason=reason, registry=self.registry)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        # Inline rows are saved with the parent's reason, through the same service.
        reason = getattr(request, "_definition_reason", "")
        for inline_obj in formset.save(commit=False):
            definition_save(obj=inline_obj, user=request.user, reason=reason, registry=self.registry)
        formset.save_m2m()

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        form.instance._change_reason = getattr(request, "_definition_reason", "")
        form.instance._history_user = request.user
        super().save_related(request, form, formsets, change)


class DefinitionInline(ScopedDefinitions):
    can_delete = False


# --- study inlines --------------------------------------------------------------------------------


class SiteInline(DefinitionInline, admin.TabularInline):
    model = Site
    extra = 0
    fields = ("code", "name", "city", "country", "time_zone")
    show_change_link = True


class ArmInline(DefinitionInline, admin.TabularInline):
    model = Arm
    extra = 0
    fields = ("order", "code", "name", "kind", "description")
    show_change_link = True


class TreatmentPhaseInline(DefinitionInline, admin.TabularInline):
    model = TreatmentPhase
    extra = 0
    fields = ("order", "code", "name", "arm", "entry_rule")
    show_change_link = True


class InterventionInline(DefinitionInline, admin.TabularInline):
    model = Intervention
    extra = 0
    fields = ("order", "code", "agent", "kind", "dose", "frequency", "route", "days", "cycle_length_days")
    readonly_fields = ("dose", "days")
    show_change_link = True

    @admin.display(description=_("dose"))
    def dose(self, obj: Intervention) -> str:
        return obj.dose_label or gettext("not stated")

    @admin.display(description=_("dosing days"))
    def days(self, obj: Intervention) -> str:
        return compress_days(obj.dosing_days)


class CriterionInline(DefinitionInline, admin.TabularInline):
    model = EligibilityCriterion
    extra = 0
    fields = ("kind", "number", "text", "rule_in_words", "assumption")
    readonly_fields = ("rule_in_words",)
    show_change_link = True

    @admin.display(description=_("rule"))
    def rule_in_words(self, obj: EligibilityCriterion) -> str:
        return rule_in_words(obj.rule) or gettext("investigator confirms")


class VisitInline(DefinitionInline, admin.TabularInline):
    model = VisitDefinition
    extra = 0
    fields = (
        "order",
        "code",
        "name",
        "kind",
        "anchor",
        "offset_days",
        "window",
        "repeat",
        "on_end_of_treatment",
    )
    readonly_fields = ("window", "repeat")
    show_change_link = True

    @admin.display(description=_("window"))
    def window(self, obj: VisitDefinition) -> str:
        return visit_window(obj)

    @admin.display(description=_("repeats"))
    def repeat(self, obj: VisitDefinition) -> str:
        return visit_repeat(obj)


class EndpointInline(DefinitionInline, admin.TabularInline):
    model = Endpoint
    extra = 0
    fields = ("order", "code", "name", "kind", "anchor", "time_frame")
    show_change_link = True


@admin.register(Study, site=site)
class StudyAdmin(DefinitionAdmin):
    study_path = None
    list_display = (
        "protocol_id",
        "short_title",
        "registry_id",
        "phase",
        "design",
        "status",
        "target_enrollment",
    )
    list_filter = ("status", "design", "phase", "ctcae_version", "confirmation_required")
    search_fields = ("protocol_id", "registry_id", "title", "short_title", "condition", "sponsor")
    readonly_fields = ("locked_at",)
    inlines = (
        SiteInline,
        ArmInline,
        TreatmentPhaseInline,
        InterventionInline,
        CriterionInline,
        VisitInline,
        EndpointInline,
    )
    fieldsets = (
        (None, {"fields": ("protocol_id", "registry_id", "seed", "title", "short_title")}),
        (
            _("Design"),
            {"fields": ("phase", "design", "condition", "sponsor", "target_enrollment", "status")},
        ),
        (
            _("Response and safety"),
            {
                "fields": (
                    "ctcae_version",
                    "response_criteria",
                    "confirmation_required",
                    "confirmation_min_interval_days",
                    "min_sd_duration_days",
                    "ae_collection_start",
                    "ae_collection_end_days_after_last_dose",
                    "sae_collection_start",
                    "irae_collection_end_days_after_last_dose",
                    "dose_recalc_weight_change_pct",
                )
            },
        ),
        (
            _("Duration"),
            {
                "fields": (
                    "max_treatment_days",
                    "schedule_horizon_days",
                    "follow_up_rule",
                    "enrollment_period_months",
                    "study_duration_months",
                    "locked_at",
                )
            },
        ),
        (_("Assumptions"), {"fields": ("assumption", "assumptions")}),
    )

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A new study comes with its administrators: a superuser's act (or load_studies).
        return bool(request.user.is_superuser and _sees(request.user))


# --- the definition models on their own -----------------------------------------------------------


@admin.register(Site, site=site)
class SiteAdmin(DefinitionAdmin):
    list_display = ("code", "name", "study", "city", "country", "time_zone")
    list_filter = ("study", "country", "time_zone")
    search_fields = ("code", "name", "city", "study__protocol_id")
    list_select_related = ("study",)


@admin.register(Arm, site=site)
class ArmAdmin(DefinitionAdmin):
    list_display = ("code", "name", "study", "kind", "is_assumed")
    list_filter = ("study", "kind", AssumedFilter)
    search_fields = ("code", "name", "study__protocol_id")
    list_select_related = ("study",)


@admin.register(TreatmentPhase, site=site)
class TreatmentPhaseAdmin(DefinitionAdmin):
    list_display = ("code", "name", "study", "arm", "order", "is_assumed")
    list_filter = ("study", AssumedFilter)
    search_fields = ("code", "name", "entry_rule", "study__protocol_id")
    list_select_related = ("study", "arm")


@admin.register(Intervention, site=site)
class InterventionAdmin(DefinitionAdmin):
    list_display = ("code", "agent", "study", "kind", "dose", "frequency", "route", "days", "is_assumed")
    list_filter = ("study", "kind", "dose_basis", "route", "dose_role", AssumedFilter)
    search_fields = ("code", "agent", "aliases", "study__protocol_id")
    list_select_related = ("study",)

    @admin.display(description=_("dose"))
    def dose(self, obj: Intervention) -> str:
        return obj.dose_label or gettext("not stated")

    @admin.display(description=_("dosing days"))
    def days(self, obj: Intervention) -> str:
        return compress_days(obj.dosing_days)


@admin.register(EligibilityCriterion, site=site)
class EligibilityCriterionAdmin(DefinitionAdmin):
    list_display = ("__str__", "study", "short_text", "rule_in_words", "is_assumed")
    list_filter = ("study", "kind", AssumedFilter)
    search_fields = ("text", "number", "study__protocol_id")
    list_select_related = ("study",)
    readonly_fields = ("rule_in_words",)

    @admin.display(description=_("text"))
    def short_text(self, obj: EligibilityCriterion) -> str:
        return obj.text if len(obj.text) <= 120 else obj.text[:117] + "..."

    @admin.display(description=_("rule"))
    def rule_in_words(self, obj: EligibilityCriterion) -> str:
        return rule_in_words(obj.rule) or gettext("investigator confirms")


@admin.register(VisitDefinition, site=site)
class VisitDefinitionAdmin(DefinitionAdmin):
    list_display = ("code", "name", "study", "kind", "anchor", "offset_days", "window", "repeat", "form_list")
    list_filter = ("study", "kind", "anchor", "on_end_of_treatment", AssumedFilter)
    search_fields = ("code", "name", "series", "study__protocol_id")
    list_select_related = ("study",)
    filter_horizontal = ("forms",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[VisitDefinition]:
        return super().get_queryset(request).prefetch_related("forms")

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "forms":
            # A visit expects a form by code: its current version, whichever that is.
            kwargs["queryset"] = Form.objects.filter(versions__is_current=True, versions__active=True)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    @admin.display(description=_("window"))
    def window(self, obj: VisitDefinition) -> str:
        return visit_window(obj)

    @admin.display(description=_("repeats"))
    def repeat(self, obj: VisitDefinition) -> str:
        return visit_repeat(obj)

    @admin.display(description=_("forms"))
    def form_list(self, obj: VisitDefinition) -> str:
        return ", ".join(form.code for form in obj.forms.all())


@admin.register(Endpoint, site=site)
class EndpointAdmin(DefinitionAdmin):
    list_display = ("code", "name", "study", "kind", "anchor", "is_assumed")
    list_filter = ("study", "kind", "anchor", AssumedFilter)
    search_fields = ("code", "name", "definition", "study__protocol_id")
    list_select_related = ("study",)


class CodelistItemInline(DefinitionInline, admin.TabularInline):
    registry = True
    model = CodelistItem
    extra = 0
    fields = ("order", "code", "label")


@admin.register(Codelist, site=site)
class CodelistAdmin(DefinitionAdmin):
    registry = True
    list_display = ("code", "name", "item_codes")
    search_fields = ("code", "name", "items__code", "items__label")
    inlines = (CodelistItemInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Codelist]:
        return super().get_queryset(request).prefetch_related("items")

    @admin.display(description=_("items"))
    def item_codes(self, obj: Codelist) -> str:
        return ", ".join(item.code for item in obj.items.all())


@admin.register(CodelistItem, site=site)
class CodelistItemAdmin(DefinitionAdmin):
    registry = True
    list_display = ("code", "label", "codelist")
    list_filter = ("codelist",)
    search_fields = ("code", "label", "codelist__code")
    list_select_related = ("codelist",)


class FormItemInline(DefinitionInline, admin.TabularInline):
    registry = True
    model = FormItem
    extra = 0
    fields = (
        "order",
        "code",
        "label",
        "data_type",
        "unit",
        "codelist",
        "required",
        "range_low",
        "range_high",
    )


@admin.register(FormDefinition, site=site)
class FormDefinitionAdmin(DefinitionAdmin):
    registry = True
    list_display = ("code", "version", "name", "is_current", "published_at", "active", "item_count", "visits")
    list_filter = ("is_current", "active")
    search_fields = ("code", "name", "items__code", "items__label")
    readonly_fields = ("form", "code", "version", "is_current", "published_at")
    inlines = (FormItemInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[FormDefinition]:
        return super().get_queryset(request).prefetch_related("items", "form__visit_definitions__study")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A version that is published or holds data never changes: the loader makes a new version.
        if obj is not None and obj.in_use_by():
            return False
        return super().has_change_permission(request, obj)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # versions come from the registry file (load_studies), with their number

    @admin.display(description=_("items"))
    def item_count(self, obj: FormDefinition) -> int:
        return len(obj.items.all())

    @admin.display(description=_("expected at"))
    def visits(self, obj: FormDefinition) -> str:
        if not obj.is_current:
            return ""
        return format_html_join(
            ", ", "{} {}", ((v.study.protocol_id, v.code) for v in obj.form.visit_definitions.all())
        )


@admin.register(FormItem, site=site)
class FormItemAdmin(DefinitionAdmin):
    registry = True

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.form.in_use_by():
            return False
        return super().has_change_permission(request, obj)

    list_display = (
        "__str__",
        "label",
        "data_type",
        "unit",
        "codelist",
        "required",
        "range_low",
        "range_high",
    )
    list_filter = ("form", "data_type", "required")
    search_fields = ("code", "label", "form__code")
    list_select_related = ("form", "codelist")


@admin.register(StudyVersion, site=site)
class StudyVersionAdmin(ScopedDefinitions, SimpleHistoryAdmin):
    """The definition versions the loader recorded: read-only here."""

    list_display = ("study", "number", "effective_date", "loaded_at", "loaded_by", "source")
    list_filter = ("study",)
    list_select_related = ("study", "loaded_by")
    readonly_fields = ("study", "number", "effective_date", "loaded_at", "loaded_by", "source", "changes")

    def get_queryset(self, request: HttpRequest) -> QuerySet[StudyVersion]:
        return self._scoped(request, super().get_queryset(request))

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# --- words for numbers ----------------------------------------------------------------------------


def compress_days(days: list[int]) -> str:
    """[1, 2, 3, 8] -> "1-3, 8"."""
    if not days:
        return ""
    parts: list[str] = []
    start = prev = days[0]
    for day in [*days[1:], None]:
        if day is not None and day == prev + 1:
            prev = day
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        if day is not None:
            start = prev = day
    return ", ".join(parts)


def visit_window(visit: VisitDefinition) -> str:
    return gettext("-{before}/+{after} d").format(
        before=visit.window_before_days, after=visit.window_after_days
    )


def visit_repeat(visit: VisitDefinition) -> str:
    if visit.repeat_interval_days is None:
        return gettext("once")
    text = gettext("every {days} d").format(days=visit.repeat_interval_days)
    if visit.repeat_until_day is not None:
        text += gettext(" to day {day}").format(day=visit.repeat_until_day)
    if visit.repeat_count is not None:
        text += gettext(", at most {count}").format(count=visit.repeat_count)
    return text
