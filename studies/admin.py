"""Admin for the trial definitions: one study page shows its whole protocol, criteria in words.

Definitions normally come from fixtures (manage.py load_studies); edits here are audited
(simple-history) and `manage.py check` flags any that leave a definition inconsistent.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html_join
from simple_history.admin import SimpleHistoryAdmin

from edc.core.admin_site import site
from studies.models import (
    Arm,
    Codelist,
    CodelistItem,
    EligibilityCriterion,
    Endpoint,
    FormDefinition,
    FormItem,
    Intervention,
    Site,
    Study,
    TreatmentPhase,
    VisitDefinition,
)
from studies.serializers import rule_in_words


def _assumed(obj: object) -> bool:
    return bool(getattr(obj, "assumption", "") or getattr(obj, "assumptions", {}))


class AssumedFilter(admin.SimpleListFilter):
    title = "source"
    parameter_name = "source"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("protocol", "Protocol text"), ("assumption", "Marked assumption")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        assumed = queryset.exclude(assumption="") | queryset.exclude(assumptions={})
        if self.value() == "assumption":
            return assumed
        if self.value() == "protocol":
            return queryset.exclude(pk__in=assumed.values("pk"))
        return queryset


class DefinitionAdmin(SimpleHistoryAdmin):
    @admin.display(boolean=True, description="assumption")
    def is_assumed(self, obj: object) -> bool:
        return _assumed(obj)


# --- study inlines --------------------------------------------------------------------------------


class SiteInline(admin.TabularInline):
    model = Site
    extra = 0
    fields = ("code", "name", "city", "country", "time_zone")
    show_change_link = True


class ArmInline(admin.TabularInline):
    model = Arm
    extra = 0
    fields = ("order", "code", "name", "kind", "description")
    show_change_link = True


class TreatmentPhaseInline(admin.TabularInline):
    model = TreatmentPhase
    extra = 0
    fields = ("order", "code", "name", "arm", "entry_rule")
    show_change_link = True


class InterventionInline(admin.TabularInline):
    model = Intervention
    extra = 0
    fields = ("order", "code", "agent", "kind", "dose", "frequency", "route", "days", "cycle_length_days")
    readonly_fields = ("dose", "days")
    show_change_link = True

    @admin.display(description="dose")
    def dose(self, obj: Intervention) -> str:
        return obj.dose_label or "not stated"

    @admin.display(description="dosing days")
    def days(self, obj: Intervention) -> str:
        return compress_days(obj.dosing_days)


class CriterionInline(admin.TabularInline):
    model = EligibilityCriterion
    extra = 0
    fields = ("kind", "number", "text", "rule_in_words", "assumption")
    readonly_fields = ("rule_in_words",)
    show_change_link = True

    @admin.display(description="rule")
    def rule_in_words(self, obj: EligibilityCriterion) -> str:
        return rule_in_words(obj.rule) or "investigator confirms"


class VisitInline(admin.TabularInline):
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

    @admin.display(description="window")
    def window(self, obj: VisitDefinition) -> str:
        return visit_window(obj)

    @admin.display(description="repeats")
    def repeat(self, obj: VisitDefinition) -> str:
        return visit_repeat(obj)


class EndpointInline(admin.TabularInline):
    model = Endpoint
    extra = 0
    fields = ("order", "code", "name", "kind", "anchor", "time_frame")
    show_change_link = True


@admin.register(Study, site=site)
class StudyAdmin(DefinitionAdmin):
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
            "Design",
            {"fields": ("phase", "design", "condition", "sponsor", "target_enrollment", "status")},
        ),
        (
            "Response and safety",
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
            "Duration",
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
        ("Assumptions", {"fields": ("assumption", "assumptions")}),
    )


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

    @admin.display(description="dose")
    def dose(self, obj: Intervention) -> str:
        return obj.dose_label or "not stated"

    @admin.display(description="dosing days")
    def days(self, obj: Intervention) -> str:
        return compress_days(obj.dosing_days)


@admin.register(EligibilityCriterion, site=site)
class EligibilityCriterionAdmin(DefinitionAdmin):
    list_display = ("__str__", "study", "short_text", "rule_in_words", "is_assumed")
    list_filter = ("study", "kind", AssumedFilter)
    search_fields = ("text", "number", "study__protocol_id")
    list_select_related = ("study",)
    readonly_fields = ("rule_in_words",)

    @admin.display(description="text")
    def short_text(self, obj: EligibilityCriterion) -> str:
        return obj.text if len(obj.text) <= 120 else obj.text[:117] + "..."

    @admin.display(description="rule")
    def rule_in_words(self, obj: EligibilityCriterion) -> str:
        return rule_in_words(obj.rule) or "investigator confirms"


@admin.register(VisitDefinition, site=site)
class VisitDefinitionAdmin(DefinitionAdmin):
    list_display = ("code", "name", "study", "kind", "anchor", "offset_days", "window", "repeat", "form_list")
    list_filter = ("study", "kind", "anchor", "on_end_of_treatment", AssumedFilter)
    search_fields = ("code", "name", "series", "study__protocol_id")
    list_select_related = ("study",)
    filter_horizontal = ("forms",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[VisitDefinition]:
        return super().get_queryset(request).prefetch_related("forms")

    @admin.display(description="window")
    def window(self, obj: VisitDefinition) -> str:
        return visit_window(obj)

    @admin.display(description="repeats")
    def repeat(self, obj: VisitDefinition) -> str:
        return visit_repeat(obj)

    @admin.display(description="forms")
    def form_list(self, obj: VisitDefinition) -> str:
        return ", ".join(form.code for form in obj.forms.all())


@admin.register(Endpoint, site=site)
class EndpointAdmin(DefinitionAdmin):
    list_display = ("code", "name", "study", "kind", "anchor", "is_assumed")
    list_filter = ("study", "kind", "anchor", AssumedFilter)
    search_fields = ("code", "name", "definition", "study__protocol_id")
    list_select_related = ("study",)


class CodelistItemInline(admin.TabularInline):
    model = CodelistItem
    extra = 0
    fields = ("order", "code", "label")


@admin.register(Codelist, site=site)
class CodelistAdmin(DefinitionAdmin):
    list_display = ("code", "name", "item_codes")
    search_fields = ("code", "name", "items__code", "items__label")
    inlines = (CodelistItemInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Codelist]:
        return super().get_queryset(request).prefetch_related("items")

    @admin.display(description="items")
    def item_codes(self, obj: Codelist) -> str:
        return ", ".join(item.code for item in obj.items.all())


@admin.register(CodelistItem, site=site)
class CodelistItemAdmin(DefinitionAdmin):
    list_display = ("code", "label", "codelist")
    list_filter = ("codelist",)
    search_fields = ("code", "label", "codelist__code")
    list_select_related = ("codelist",)


class FormItemInline(admin.TabularInline):
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
    list_display = ("code", "name", "version", "active", "item_count", "visits")
    list_filter = ("active",)
    search_fields = ("code", "name", "items__code", "items__label")
    inlines = (FormItemInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[FormDefinition]:
        return super().get_queryset(request).prefetch_related("items", "visit_definitions__study")

    @admin.display(description="items")
    def item_count(self, obj: FormDefinition) -> int:
        return len(obj.items.all())

    @admin.display(description="expected at")
    def visits(self, obj: FormDefinition) -> str:
        return format_html_join(
            ", ", "{} {}", ((v.study.protocol_id, v.code) for v in obj.visit_definitions.all())
        )


@admin.register(FormItem, site=site)
class FormItemAdmin(DefinitionAdmin):
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
    return f"-{visit.window_before_days}/+{visit.window_after_days} d"


def visit_repeat(visit: VisitDefinition) -> str:
    if visit.repeat_interval_days is None:
        return "once"
    text = f"every {visit.repeat_interval_days} d"
    if visit.repeat_until_day is not None:
        text += f" to day {visit.repeat_until_day}"
    if visit.repeat_count is not None:
        text += f", at most {visit.repeat_count}"
    return text
