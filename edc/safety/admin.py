from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from edc.core.admin import (
    REASON_FIELDS,
    AuditedAdminForm,
    AuditedModelAdmin,
    AuditedTabularInline,
    ScopedHistoryAdminMixin,
    VoidedFilter,
    _cached_capability,
    _on_history_page,
    _Refused,
    object_or_404,
    refusal_messages,
)
from edc.core.admin_site import site
from edc.core.models import Capability
from edc.core.scoping import has_capability, scope, sites_with, visible_studies
from edc.safety import services
from edc.safety.models import (
    SERIOUSNESS_FIELDS,
    AdverseEvent,
    CtcaeTerm,
    LabAeProposal,
    Outcome,
    ProposalStatus,
    SaeReport,
)
from edc.safety.reports import sae_due_now, safety_summary
from edc.subjects.models import Subject


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

    def autocomplete_extra(self, obj: CtcaeTerm) -> dict[str, Any]:
        """The term's grades with their text, for the AE page's grade list (safety/ae_grades.js)."""
        return {"grades": [{"grade": n, "text": obj.grade_text(n)} for n in obj.allowed_grades()]}

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _cached_capability(request, Capability.READ)

    def has_view_permission(self, request: HttpRequest, obj: CtcaeTerm | None = None) -> bool:
        # The dictionary holds no patient data: whoever reads a study reads it (the AE form's term
        # autocomplete asks it), as every signed-in user reads /api/ctcae/terms/.
        return _cached_capability(request, Capability.READ)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: CtcaeTerm | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: CtcaeTerm | None = None) -> bool:
        return False


# --- adverse events (issue 20) -------------------------------------------------------------------
# The AE page writes through edc/safety/services.py, the API's services. Attributions are entered
# one line per agent ("agent | relatedness | action | expected"), so an AE is created with the
# attribution to every agent received in one save, as the rules require.

ATTRIBUTION_HELP = _(
    "One line per agent received: agent | relatedness (UNRELATED, UNLIKELY, POSSIBLE, PROBABLE, DEFINITE) "
    "| action (NONE, REDUCED, DELAYED, INTERRUPTED, WITHDRAWN, NA) | expected (yes, no or empty: "
    "not assessed)."
)
_YES_NO = {"yes": True, "y": True, "no": False, "n": False, "": None}


def parse_attributions(text: str) -> list[services.AttributionIn]:
    found = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")]
        if len(parts) < 2 or len(parts) > 4:
            raise ValidationError(
                {
                    "attributions": [
                        gettext("Line {n}: agent | relatedness | action | expected.").format(n=number)
                    ]
                }
            )
        parts += [""] * (4 - len(parts))
        expected = parts[3].lower()
        if expected not in _YES_NO:
            raise ValidationError(
                {"attributions": [gettext("Line {n}: expected is yes, no or empty.").format(n=number)]}
            )
        found.append(
            services.AttributionIn(
                parts[0], parts[1].upper(), (parts[2] or "NONE").upper(), _YES_NO[expected]
            )
        )
    return found


def attributions_text(ae: AdverseEvent) -> str:
    lines = []
    for a in services.current_attributions(ae):
        expected = "" if a.expected is None else ("yes" if a.expected else "no")
        lines.append(" | ".join([a.agent, a.relatedness, a.action, expected]).rstrip(" |"))
    return "\n".join(lines)


class GradeField(forms.TypedChoiceField):
    """The grade list shows the term's grades with their CTCAE text once the term is known; any grade
    1-5 passes the field so that the service refuses a grade the term lacks naming the valid ones (the
    one message for the API, the form door and this page)."""

    def valid_value(self, value: Any) -> bool:
        return str(value) in {str(n) for n in range(1, 6)}


def grade_choices(term: CtcaeTerm | None) -> list[tuple[Any, str]]:
    if term is None:
        return [("", gettext("choose the term first")), *((n, str(n)) for n in range(1, 6))]
    return [("", "---------"), *((n, f"{n}: {term.grade_text(n)}") for n in term.allowed_grades())]


def _term_named(value: Any) -> CtcaeTerm | None:
    if isinstance(value, CtcaeTerm):
        return value
    if value in (None, ""):
        return None
    try:
        return CtcaeTerm.objects.filter(pk=int(str(value))).first()
    except (TypeError, ValueError):
        return None


class AdverseEventForm(AuditedAdminForm):
    grade = GradeField(coerce=int, choices=grade_choices(None), label=_("grade"))
    grade_on = forms.DateField(
        required=False,
        label=_("grade from"),
        help_text=_("A new grade is kept from this day on (default: onset)."),
    )
    attributions = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 4, "cols": 80}), help_text=ATTRIBUTION_HELP
    )

    class Meta:
        model = AdverseEvent
        fields = "__all__"
        widgets = {
            "immune_related": forms.Select(choices=[("", "---------"), ("N", _("No")), ("Y", _("Yes"))])
        }

    class Media:
        # Picking another term in the autocomplete rebuilds the grade list from the term's grades,
        # which the autocomplete's answer carries (EdcAdminSite.autocomplete_view).
        js = ["safety/ae_grades.js"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "grade" not in self.fields or "ctcae_term" not in self.fields:
            return
        # The term the page is about: the one posted (a refused save shows the page again), the
        # add link's ?ctcae_term=, or the record's own.
        if self.is_bound:
            term = _term_named(self.data.get(self.add_prefix("ctcae_term")))
        else:
            term = _term_named(self.initial.get("ctcae_term"))
            if term is None and not self.instance._state.adding:
                term = self.instance.ctcae_term
        if not self.instance._state.adding:
            # Set on this form's own fields: the class's fields are shared by every request.
            grades = services.current_grades(self.instance)
            self.fields["grade"].initial = grades[-1].grade if grades else None
            if "attributions" in self.fields:
                self.fields["attributions"].initial = attributions_text(self.instance)
        cast(GradeField, self.fields["grade"]).choices = grade_choices(term)
        if term is not None:
            self.fields["grade"].help_text = gettext("The grades of {term} with their CTCAE text.").format(
                term=term.term
            )


AE_ADD_FIELDS = [
    "subject", "ctcae_term", "verbatim", "onset", "grade", "resolution", "outcome", "serious",
    *SERIOUSNESS_FIELDS.values(), "site_aware_at", "immune_related", "attributions", "treatment_given",
    "death_date",
]  # fmt: skip
AE_DERIVED = [
    "worst_grade_with_text", "grade_history", "collection_category", "after_period", "treatment_emergent",
    "relatedness", "action_taken", "susar", "reported_to_sponsor_at", "sae_report_versions",
]  # fmt: skip
AE_CHANGE_FIELDS = [
    "subject", "ctcae_term", "verbatim", "onset", "grade", "grade_on", "resolution", "outcome", "serious",
    *SERIOUSNESS_FIELDS.values(), "site_aware_at", "immune_related", "attributions", "treatment_given",
    "death_date", "sponsor_aware_at", "susar_initial_reported_at", "susar_full_reported_at", *AE_DERIVED,
]  # fmt: skip


@admin.register(AdverseEvent, site=site)
class AdverseEventAdmin(AuditedModelAdmin):
    form = AdverseEventForm
    list_display = [
        "subject", "term", "verbatim", "worst_grade", "serious", "susar", "onset", "resolution", "outcome",
        "site",
    ]  # fmt: skip
    list_filter = (
        VoidedFilter, "serious", "worst_grade", "susar", "immune_related", "collection_category",
        ("study", admin.RelatedOnlyFieldListFilter), ("site", admin.RelatedOnlyFieldListFilter),
    )  # fmt: skip
    list_select_related = ["subject", "site"]
    search_fields = ["term", "verbatim", "subject__screening_number", "subject__subject_identifier"]
    autocomplete_fields = ["ctcae_term"]
    readonly_fields = [*AE_DERIVED, "attribution_lines"]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        fields = AE_CHANGE_FIELDS if obj is not None else AE_ADD_FIELDS
        if obj is not None and not _on_history_page(request) and self.has_change_permission(request, obj):
            return [*fields, *REASON_FIELDS]
        if obj is not None:  # read only: the form's own inputs are shown by their derived displays
            return [f for f in fields if f not in ("grade", "grade_on", "attributions")] + [
                "attribution_lines"
            ]
        return list(fields)

    @admin.display(description=_("attributions"))
    def attribution_lines(self, obj: AdverseEvent) -> str:
        return attributions_text(obj).replace("\n", "; ")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            fields.append("subject")
        return fields

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "subject":
            kwargs["queryset"] = scope(Subject.objects.active(), request.user).filter(
                site__in=sites_with(request.user, Capability.ENTER_DATA)
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).select_related("ctcae_term", "subject", "site")

    # --- derived, shown ------------------------------------------------------------------------

    @admin.display(description=_("worst grade"))
    def worst_grade_with_text(self, obj: AdverseEvent) -> str:
        return f"{obj.worst_grade}: {obj.worst_grade_text() or ''}" if obj.worst_grade else ""

    @admin.display(description=_("grade history"))
    def grade_history(self, obj: AdverseEvent) -> str:
        return "; ".join(f"{g.on}: {g.grade}" for g in services.current_grades(obj))

    @admin.display(description=_("SAE reports"))
    def sae_report_versions(self, obj: AdverseEvent) -> str:
        reports = SaeReport.objects.active().filter(adverse_event=obj).order_by("sequence")
        return "; ".join(f"{r.sequence} ({r.kind}) {r.reported_at:%Y-%m-%d %H:%M %Z}" for r in reports)

    # --- the writes ------------------------------------------------------------------------------

    def save_model(self, request: HttpRequest, obj: Any, form: forms.ModelForm, change: bool) -> None:
        data = form.cleaned_data
        if not change:
            saved = self.run_service(self._create, request, data)
        else:
            stored = AdverseEvent.objects.select_related("ctcae_term", "subject").get(pk=obj.pk)
            saved = stored
            version = data["base_version"]
            changed = [n for n in form.changed_data if n not in REASON_FIELDS]
            if changed:
                saved = self.run_service(
                    self._update, request, stored, data, changed, data["reason"], version
                )
                version = saved.version
            if data.get("void_record"):
                if data["reason"] is None:
                    raise _Refused(
                        ValidationError({"change_reason": [gettext("Say why the record is voided.")]})
                    )
                saved = self.run_service(
                    services.adverse_event_void,
                    user=request.user,
                    ae=saved,
                    reason=data["reason"],
                    version=version,
                )
        for field in self.model._meta.concrete_fields:
            setattr(obj, field.attname, getattr(saved, field.attname))
        obj._state.adding = False
        obj._state.db = saved._state.db

    @staticmethod
    def _criteria(data: dict[str, Any]) -> list[str]:
        return [name for name, field in SERIOUSNESS_FIELDS.items() if data.get(field)]

    def _create(self, request: HttpRequest, data: dict[str, Any]) -> AdverseEvent:
        return services.adverse_event_create(
            user=request.user,
            subject=data["subject"],
            ctcae_term=data["ctcae_term"],
            onset=data["onset"],
            grade=data["grade"],
            outcome=data["outcome"],
            attributions=parse_attributions(data.get("attributions", "")),
            verbatim=data.get("verbatim", ""),
            resolution=data.get("resolution"),
            serious=data.get("serious") == "Y",
            seriousness=self._criteria(data),
            site_aware_at=data.get("site_aware_at"),
            immune_related=data.get("immune_related") or None,
            treatment_given=data.get("treatment_given", ""),
            death_date=data.get("death_date"),
        )

    def _update(
        self,
        request: HttpRequest,
        ae: AdverseEvent,
        data: dict[str, Any],
        changed: list[str],
        reason: Any,
        version: int,
    ) -> AdverseEvent:
        values: dict[str, Any] = {n: data[n] for n in changed if n in services.AE_CHANGEABLE}
        extra: dict[str, Any] = {}
        if "grade" in changed or "grade_on" in changed:
            on = data.get("grade_on") or data.get("onset") or ae.onset
            history = [g for g in services.current_grades(ae) if g.on != on]
            extra["grades"] = sorted([*history, services.GradeIn(on, data["grade"])], key=lambda g: g.on)
        if "attributions" in changed:
            extra["attributions"] = parse_attributions(data.get("attributions", ""))
        if "serious" in changed or any(f in changed for f in SERIOUSNESS_FIELDS.values()):
            extra["serious"] = data.get("serious") == "Y"
            extra["seriousness"] = self._criteria(data)
        return services.adverse_event_update(
            user=request.user, ae=ae, reason=reason, version=version, **values, **extra
        )

    # --- the SAE list and the safety tables ---------------------------------------------------------

    def get_urls(self) -> list[Any]:
        own = [
            path(
                "sae-due/", self.admin_site.admin_view(self.sae_due_view), name="safety_adverseevent_sae_due"
            ),
            path(
                "safety-summary/",
                self.admin_site.admin_view(self.safety_summary_view),
                name="safety_adverseevent_safety_summary",
            ),
        ]
        return own + super().get_urls()

    def _page(self, request: HttpRequest, template: str, **context: Any) -> HttpResponse:
        return TemplateResponse(
            request, template, {**self.admin_site.each_context(request), "opts": self.model._meta, **context}
        )

    def sae_due_view(self, request: HttpRequest) -> HttpResponse:
        """What is due now on the SAE clocks, each deadline in its site's time zone."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        now = timezone.now()
        items = sae_due_now(user=request.user, now=now)
        return self._page(
            request, "admin/safety/sae_due.html", title=gettext("SAE reports due"), items=items, as_of=now
        )

    def safety_summary_view(self, request: HttpRequest) -> HttpResponse:
        """The safety tables of a study the user sees (?study=<id>, default the first)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        studies = list(visible_studies(request.user).order_by("protocol_id"))
        raw = request.GET.get("study")
        study = studies[0] if studies and raw is None else None
        if raw is not None:
            study = next((s for s in studies if str(s.pk) == raw), None)
            if study is None:
                raise Http404
        summary = safety_summary(study=study, user=request.user) if study is not None else None
        return self._page(
            request, "admin/safety/safety_summary.html", title=gettext("Safety tables"), studies=studies,
            summary=summary,
        )  # fmt: skip


class AdverseEventInline(AuditedTabularInline):
    """The AE log on the subject page (read here; each AE opens on its own page). Audited inline
    formset: a subject page saved without these rows leaves them as they are."""

    model = AdverseEvent
    fk_name = "subject"
    extra = 0
    fields = ["ae_link", "worst_grade", "onset", "resolution", "serious", "susar", "outcome"]
    readonly_fields = ("ae_link", "worst_grade", "onset", "resolution", "serious", "susar", "outcome")
    verbose_name = _("adverse event")
    verbose_name_plural = _("adverse events")
    can_delete = False

    def get_queryset(self, request: HttpRequest) -> Any:
        return (
            scope(super().get_queryset(request), request.user)
            .filter(voided_at__isnull=True)
            .order_by("onset")
        )

    @admin.display(description=_("event"))
    def ae_link(self, obj: AdverseEvent) -> str:
        url = reverse("admin:safety_adverseevent_change", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, obj.verbatim or obj.term)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# --- the proposals queue ----------------------------------------------------------------------------


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("confirm", _("Confirm: record the AE")), ("dismiss", _("Dismiss"))]
    )
    reason = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text=_("Required to dismiss.")
    )
    outcome = forms.ChoiceField(choices=[("", "---------"), *Outcome.choices], required=False)
    immune_related = forms.ChoiceField(
        choices=[("", "---------"), ("N", _("No")), ("Y", _("Yes"))], required=False
    )
    attributions = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 4}), help_text=ATTRIBUTION_HELP
    )


class OpenFirstFilter(admin.SimpleListFilter):
    title = _("status")
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [*ProposalStatus.choices, ("all", _("All"))]

    def choices(self, changelist: Any) -> Any:
        for lookup, title in self.lookup_choices:
            yield {
                "selected": (self.value() or "open") == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        value = self.value() or "open"
        return queryset if value == "all" else queryset.filter(status=value)


@admin.register(LabAeProposal, site=site)
class LabAeProposalAdmin(ScopedHistoryAdminMixin, admin.ModelAdmin):
    """The investigators' queue: AEs proposed from lab grades, open first; each decided on its page."""

    list_display = ["subject", "term", "grade", "baseline_grade", "lab_value", "status", "site", "created"]
    list_filter = (OpenFirstFilter, ("site", admin.RelatedOnlyFieldListFilter))
    list_select_related = ["subject", "site", "lab"]
    search_fields = ["term", "subject__screening_number", "subject__subject_identifier"]

    def get_queryset(self, request: HttpRequest) -> Any:
        return scope(super().get_queryset(request), request.user).filter(voided_at__isnull=True)

    @admin.display(description=_("lab value"))
    def lab_value(self, obj: LabAeProposal) -> str:
        return f"{obj.lab.test} {obj.lab.value} {obj.lab.unit} ({obj.lab.date})"

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _cached_capability(request, Capability.READ)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _cached_capability(request, Capability.READ)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list[Any]:
        own = [
            path(
                "<path:object_id>/decide/",
                self.admin_site.admin_view(self.decide_view),
                name="safety_labaeproposal_decide",
            )
        ]
        return own + super().get_urls()

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        return self.decide_view(request, object_id)

    def decide_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        proposal = object_or_404(
            self.get_queryset(request).select_related("lab", "ctcae_term", "subject"), object_id
        )
        may_decide = proposal.status == ProposalStatus.OPEN and has_capability(
            request.user, Capability.SIGN, site=proposal.site
        )
        form = DecisionForm(request.POST or None)
        errors: dict[Any, list[str]] = {}
        if request.method == "POST":
            if not may_decide:
                raise PermissionDenied
            if form.is_valid():
                data = form.cleaned_data
                try:
                    if data["decision"] == "dismiss":
                        services.ae_proposal_dismiss(
                            user=request.user, proposal=proposal, reason=data["reason"]
                        )
                        return HttpResponseRedirect(reverse("admin:safety_labaeproposal_changelist"))
                    ae = services.ae_proposal_confirm(
                        user=request.user,
                        proposal=proposal,
                        outcome=data["outcome"],
                        attributions=parse_attributions(data["attributions"]),
                        immune_related=data["immune_related"] or None,
                    )
                    return HttpResponseRedirect(reverse("admin:safety_adverseevent_change", args=[ae.pk]))
                except (ValidationError, PermissionDenied) as exc:
                    errors = refusal_messages(exc)
        return TemplateResponse(
            request,
            "admin/safety/proposal_decide.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": gettext("Proposed adverse event"),
                "proposal": proposal,
                "grade_text": proposal.ctcae_term.grade_text(proposal.grade),
                "form": form,
                "errors": errors,
                "may_decide": may_decide,
            },
        )
