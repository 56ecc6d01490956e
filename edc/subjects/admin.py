"""The admin of the subject journey: the subject page (consents inline, links to the eligibility
checklist, enrollment and screen failure), the screening log. Every write is a service call, the
same as the API's (edc/subjects/api.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from edc.consent import services as consent_services
from edc.consent.models import ConsentVersion, SignedConsent
from edc.core.admin import (
    REFUSALS,
    AuditedModelAdmin,
    AuditedStackedInline,
    VoidedFilter,
    object_or_404,
    refusal_messages,
)
from edc.core.admin_site import site
from edc.core.models import Capability
from edc.core.scoping import has_capability
from edc.core.services import ChangeReason
from edc.eligibility import selectors as eligibility_selectors
from edc.eligibility import services as eligibility_services
from edc.forms import admin as after_treatment_inlines
from edc.forms.admin_status import FormStatusAdminMixin
from edc.safety.admin import AdverseEventInline
from edc.subjects import services
from edc.subjects.models import Subject, SubjectStatus


class SignedConsentInline(AuditedStackedInline):
    model = SignedConsent
    fk_name = "subject"
    fields = [
        "consent_version",
        "signed_at",
        "obtained_by",
        "patient_signed",
        "representative_signed",
        "representative_relationship",
        "witness_signed",
        "copy_given",
        "samples_consent",
        "base_version",
    ]
    verbose_name = _("signed consent")

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "consent_version":
            subject = getattr(request, "_edc_subject", None)
            versions = ConsentVersion.objects.order_by("effective_from")
            # Without the subject (the page is not a subject's), no version is offered.
            kwargs["queryset"] = (
                versions.filter(study_id=subject.study_id) if subject is not None else versions.none()
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def create_record(self, request: HttpRequest, parent: Any, data: dict[str, Any]) -> SignedConsent:
        version = data.pop("consent_version")
        return consent_services.consent_sign(user=request.user, subject=parent, version=version, **data)

    def update_record(
        self,
        request: HttpRequest,
        instance: Any,
        changes: dict[str, Any],
        reason: ChangeReason | None,
        version: int,
    ) -> SignedConsent:
        if "consent_version" in changes:
            changes["consent_version"] = changes.pop("consent_version")
        return consent_services.consent_update(
            user=request.user, consent=instance, reason=reason, version=version, **changes
        )

    def void_record(
        self, request: HttpRequest, instance: Any, reason: ChangeReason, version: int
    ) -> SignedConsent:
        return consent_services.consent_void(
            user=request.user, consent=instance, reason=reason, version=version
        )


@admin.register(Subject, site=site)
class SubjectAdmin(FormStatusAdminMixin, AuditedModelAdmin):
    list_display = [
        "screening_number",
        "subject_identifier",
        "study",
        "site",
        "status",
        "sex",
        "birth_date",
        "screening_date",
    ]
    list_filter = (
        VoidedFilter,
        "status",
        ("study", admin.RelatedOnlyFieldListFilter),
        ("site", admin.RelatedOnlyFieldListFilter),
    )
    list_select_related = ["study", "site"]
    search_fields = ["screening_number", "subject_identifier", "initials"]
    readonly_fields = [
        "screening_number",
        "subject_identifier",
        "status",
        "journey",
        "rescreen_of",
        "screen_failed_on",
        "screen_fail_reason",
        "screen_fail_criteria",
        "enrollment_date",
        "planned_first_dose",
        "arm",
        "schedule",
    ]
    fields = [
        "study",
        "site",
        "screening_number",
        "subject_identifier",
        "status",
        "journey",
        "sex",
        "birth_date",
        "initials",
        "screening_date",
        "rescreen_of",
        "screen_failed_on",
        "screen_fail_reason",
        "screen_fail_criteria",
        "enrollment_date",
        "planned_first_dose",
        "arm",
        "schedule",
    ]
    # The death form (issue 19) and the AE log (issue 20) on the subject's page.
    inlines = [SignedConsentInline, *after_treatment_inlines.SUBJECT_INLINES, AdverseEventInline]
    actions = ["enroll_selected", "screen_fail_selected"]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        fields = super().get_fields(request, obj)
        if obj is None:
            hidden = {"screening_number", "subject_identifier", "status", "journey", "rescreen_of"}
            hidden |= {"screen_failed_on", "screen_fail_reason", "screen_fail_criteria"}
            hidden |= {"enrollment_date", "planned_first_dose", "arm", "schedule"}
            return [f for f in fields if f not in hidden]
        return fields

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and "screening_date" not in fields:
            fields.append("screening_date")
        return fields

    def get_inline_instances(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        request._edc_subject = obj  # type: ignore[attr-defined]
        return super().get_inline_instances(request, obj) if obj is not None else []

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

    # --- the journey's pages ------------------------------------------------------------------------

    @admin.display(description=_("Screening"))
    def journey(self, obj: Subject) -> str:
        links = [
            (reverse("admin:subjects_subject_eligibility", args=[obj.pk]), gettext("Eligibility checklist")),
        ]
        if obj.status == SubjectStatus.SCREENING:
            links.append((reverse("admin:subjects_subject_enroll", args=[obj.pk]), gettext("Enroll")))
            links.append(
                (reverse("admin:subjects_subject_screen_fail", args=[obj.pk]), gettext("Screen failure"))
            )
        visit = obj.visits.filter(kind="screening", voided_at__isnull=True).first()
        if visit is not None:
            links.append(
                (reverse("admin:visits_visit_change", args=[visit.pk]), gettext("Screening visit and forms"))
            )
        return format_html(
            " · ".join(['<a href="{}">{}</a>'] * len(links)), *[part for link in links for part in link]
        )

    @admin.display(description=_("Schedule"))
    def schedule(self, obj: Subject) -> str:
        from edc.visits.admin_schedule import schedule_table

        return schedule_table(obj)

    def get_urls(self) -> list[Any]:
        own = [
            path(
                "screening-log/",
                self.admin_site.admin_view(self.screening_log_view),
                name="subjects_subject_screening_log",
            ),
            path(
                "<path:object_id>/eligibility/",
                self.admin_site.admin_view(self.eligibility_view),
                name="subjects_subject_eligibility",
            ),
            path(
                "<path:object_id>/enroll/",
                self.admin_site.admin_view(self.enroll_view),
                name="subjects_subject_enroll",
            ),
            path(
                "<path:object_id>/screen-fail/",
                self.admin_site.admin_view(self.screen_fail_view),
                name="subjects_subject_screen_fail",
            ),
        ]
        return own + super().get_urls()

    def screening_log_view(self, request: HttpRequest) -> HttpResponse:
        log = ScreeningLogAdmin(Subject, self.admin_site)
        return log.changelist_view(request, extra_context={"title": gettext("Screening log")})

    def _subject(self, request: HttpRequest, object_id: str) -> Subject:
        subject: Subject = object_or_404(
            self.get_queryset(request).select_related("study", "site"), object_id
        )
        return subject

    def _page(self, request: HttpRequest, subject: Subject, template: str, **context: Any) -> HttpResponse:
        return TemplateResponse(
            request,
            template,
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "subject": subject,
                "title": context.pop("title"),
                **context,
            },
        )

    def eligibility_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The live checklist: per criterion the status, reason and values; the investigator confirms
        the review parts and signs the outcome."""
        subject = self._subject(request, object_id)
        may_sign = has_capability(request.user, Capability.SIGN, site=subject.site)
        rows = eligibility_selectors.criterion_rows(subject.study)
        raw_as_of = request.POST.get("as_of") or request.GET.get("as_of")
        form = EligibilityForm(
            request.POST or None, rows=rows, initial={"as_of": raw_as_of or subject.planned_first_dose}
        )
        errors: dict[str | None, list[str]] = {}
        if request.method == "POST":
            if not may_sign:
                raise PermissionDenied
            if form.is_valid():
                try:
                    with transaction.atomic():
                        eligibility_services.eligibility_decide(
                            user=request.user,
                            subject=subject,
                            as_of=form.cleaned_data["as_of"],
                            confirmations=form.confirmations(),
                        )
                    messages.success(request, gettext("The screening outcome is signed."))
                    return HttpResponseRedirect(request.path + f"?as_of={form.cleaned_data['as_of']}")
                except REFUSALS as exc:
                    errors = refusal_messages(exc)
        as_of = _parse_day(raw_as_of) or subject.planned_first_dose
        result = eligibility_selectors.subject_eligibility(subject, as_of) if as_of else None
        decision = eligibility_selectors.current_decision(subject)
        state = eligibility_selectors.decision_state(decision) if decision is not None else None
        confirmations = {c.criterion_id: c for c in _confirmations(subject)}
        checklist = []
        if result is not None:
            for row, outcome in zip(rows, result["criteria"], strict=True):
                checklist.append(
                    {
                        "row": row,
                        "result": outcome,
                        "confirmation": confirmations.get(row.pk),
                        "field": form[f"c_{row.pk}"] if may_sign else None,
                        "comment": form[f"n_{row.pk}"] if may_sign else None,
                    }
                )
        return self._page(
            request,
            subject,
            "admin/subjects/subject/eligibility.html",
            title=gettext("Eligibility of {subject}").format(subject=subject),
            form=form,
            result=result,
            checklist=checklist,
            decision=decision,
            state=state,
            may_sign=may_sign,
            errors=errors,
            blanket=confirmations.get(None),
        )

    def enroll_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        subject = self._subject(request, object_id)
        if not self.can_write(request, subject):
            raise PermissionDenied
        form = EnrollForm(request.POST or None, subject=subject)
        errors: dict[str | None, list[str]] = {}
        if request.method == "POST" and form.is_valid():
            try:
                enrolled = services.subject_enroll(
                    user=request.user,
                    subject=subject,
                    enrollment_date=form.cleaned_data["enrollment_date"],
                    planned_first_dose=form.cleaned_data["planned_first_dose"],
                    arm=form.cleaned_data.get("arm"),
                )
                messages.success(
                    request,
                    gettext("Enrolled as {identifier}.").format(identifier=enrolled.subject_identifier),
                )
                return HttpResponseRedirect(reverse("admin:subjects_subject_change", args=[subject.pk]))
            except REFUSALS as exc:
                errors = refusal_messages(exc)
        return self._page(
            request,
            subject,
            "admin/subjects/subject/transition.html",
            title=gettext("Enroll {subject}").format(subject=subject),
            form=form,
            errors=errors,
        )

    def screen_fail_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        subject = self._subject(request, object_id)
        if not self.can_write(request, subject):
            raise PermissionDenied
        form = ScreenFailForm(request.POST or None)
        errors: dict[str | None, list[str]] = {}
        if request.method == "POST" and form.is_valid():
            criteria = [c.strip() for c in form.cleaned_data["failed_criteria"].split(",") if c.strip()]
            try:
                services.subject_screen_fail(
                    user=request.user,
                    subject=subject,
                    reason=form.cleaned_data["reason"],
                    failed_criteria=criteria or None,
                    date=form.cleaned_data.get("date"),
                )
                messages.success(request, gettext("Screen failure recorded."))
                return HttpResponseRedirect(reverse("admin:subjects_subject_change", args=[subject.pk]))
            except REFUSALS as exc:
                errors = refusal_messages(exc)
        return self._page(
            request,
            subject,
            "admin/subjects/subject/transition.html",
            title=gettext("Screen failure of {subject}").format(subject=subject),
            form=form,
            errors=errors,
        )

    @admin.action(description=_("Enroll the selected subject"))
    def enroll_selected(self, request: HttpRequest, queryset: Any) -> HttpResponse | None:
        return self._one(request, queryset, "admin:subjects_subject_enroll")

    @admin.action(description=_("Record a screen failure for the selected subject"))
    def screen_fail_selected(self, request: HttpRequest, queryset: Any) -> HttpResponse | None:
        return self._one(request, queryset, "admin:subjects_subject_screen_fail")

    def _one(self, request: HttpRequest, queryset: Any, name: str) -> HttpResponse | None:
        subjects = list(queryset[:2])
        if len(subjects) != 1:
            messages.error(request, gettext("Select exactly one subject."))
            return None
        return HttpResponseRedirect(reverse(name, args=[subjects[0].pk]))


def _confirmations(subject: Subject) -> Any:
    from edc.eligibility.models import EligibilityConfirmation

    return EligibilityConfirmation.objects.active().filter(subject=subject).select_related("confirmed_by")


def _parse_day(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    if not value:
        return None
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return None


class EligibilityForm(forms.Form):
    as_of = forms.DateField(label=_("As of (planned first dose)"))

    def __init__(self, *args: Any, rows: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rows = rows
        for row in rows:
            self.fields[f"c_{row.pk}"] = forms.ChoiceField(
                choices=[("", "—"), ("met", _("Met")), ("not_met", _("Not met"))], required=False
            )
            self.fields[f"n_{row.pk}"] = forms.CharField(
                required=False, widget=forms.TextInput(attrs={"size": 30})
            )

    def confirmations(self) -> dict[str, Any]:
        found = {}
        for row in self.rows:
            answer = self.cleaned_data.get(f"c_{row.pk}")
            if answer:
                key = eligibility_selectors.criterion_key(row)
                found[key] = {"answer": answer, "comment": self.cleaned_data.get(f"n_{row.pk}", "")}
        return found


class EnrollForm(forms.Form):
    enrollment_date = forms.DateField()
    planned_first_dose = forms.DateField()
    arm: forms.ModelChoiceField[Any] = forms.ModelChoiceField(queryset=None, required=False)

    def __init__(self, *args: Any, subject: Subject, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["arm"].queryset = subject.study.arms.all()  # type: ignore[attr-defined]


class ScreenFailForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2, "cols": 60}))
    failed_criteria = forms.CharField(
        required=False,
        help_text=_("Criteria as the study numbers them, e.g. I3, E4; empty: from the signed outcome."),
    )
    date = forms.DateField(required=False)


class ScreeningLogAdmin(admin.ModelAdmin):
    """Everyone screened, screen failures and re-screenings included, with the failing criteria.

    Served by SubjectAdmin at /admin/subjects/subject/screening-log/ (a second changelist of the
    subjects, read-only: each row links to the subject's page).
    """

    list_display = [
        "screening_number",
        "screening_date",
        "site",
        "status",
        "failing",
        "rescreen_of",
        "subject_identifier",
        "enrollment_date",
    ]
    list_filter = [
        "status",
        ("study", admin.RelatedOnlyFieldListFilter),
        ("site", admin.RelatedOnlyFieldListFilter),
    ]
    list_select_related = ["study", "site", "rescreen_of"]
    search_fields = ["screening_number", "subject_identifier"]
    ordering = ["study__protocol_id", "screening_date", "screening_number"]

    list_display_links = ["screening_number"]

    def get_queryset(self, request: HttpRequest) -> Any:
        from edc.core.scoping import scope

        return scope(super().get_queryset(request), request.user, model=Subject).filter(
            voided_at__isnull=True
        )

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        return {}

    @admin.display(description=_("failing criteria"))
    def failing(self, obj: Subject) -> str:
        return ", ".join(obj.screen_fail_criteria or [])

    def has_module_permission(self, request: HttpRequest) -> bool:
        return SubjectAdmin.has_module_permission(self, request)  # type: ignore[arg-type]

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return SubjectAdmin.has_view_permission(self, request, obj)  # type: ignore[arg-type]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
