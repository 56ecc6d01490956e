"""Admin pages of the schedule: the coordinator's overdue-visits page (/admin/visits/visit/overdue/,
served by VisitAdmin), the schedule table on the subject's page (SubjectAdmin's `schedule` field)
with each visit's record / missed actions, and the pages of those actions
(/admin/visits/visit/{id}/record/ and .../miss/), which call the services the API's actions call.

Both read what the API reads: the overdue page is edc/visits/reports.py (one query, each site's
today, scoped to the user's sites), the table is the subject's active visits with the same
timing words as /api/subjects/{id}/visits/ (edc/visits/api.py visit_state)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from edc.core.admin import REFUSALS, object_or_404, refusal_messages
from edc.core.models import Capability
from edc.core.scoping import has_capability
from edc.visits import reports, services
from edc.visits.models import Visit, VisitStatus

PAGE = 500  # rows on the overdue page; the API and the command page through the rest

# The window's colour: done on time green, early/late orange, overdue red, due amber, upcoming grey.
COLOURS = {
    "on_time": "#2e7d32",
    "early": "#ef6c00",
    "late": "#ef6c00",
    "overdue": "#c62828",
    "due": "#f9a825",
    "upcoming": "#757575",
}


def timing_label(state: str) -> str:
    labels = {
        "on_time": gettext("on time"),
        "early": gettext("early"),
        "late": gettext("late"),
        "overdue": gettext("overdue"),
        "due": gettext("due"),
        "upcoming": gettext("upcoming"),
    }
    return labels.get(state, "")


def _window(visit: Visit) -> str:
    if visit.window_start is None and visit.window_end is None:
        return "-"
    return f"{visit.window_start or '…'} – {visit.window_end or '…'}"


def schedule_table(subject: Any) -> SafeString:
    """The subject's schedule in order (cancelled visits included, with their status): one query."""
    from edc.visits.api import visit_state

    visits = list(
        Visit.objects.active()
        .filter(subject=subject)
        .select_related("site")
        .order_by("target_date", "order", "code")
    )
    if not visits:
        return format_html("{}", gettext("No visits planned yet."))
    head = [
        gettext("Code"),
        gettext("Name"),
        gettext("Target"),
        gettext("Window"),
        gettext("Status"),
        gettext("Visit date"),
        gettext("Window"),
        gettext("Actions"),
    ]
    rows = []
    for visit in visits:
        state = visit_state(visit)
        rows.append(
            (
                reverse("admin:visits_visit_change", args=[visit.pk]),
                visit.code,
                visit.name,
                visit.target_date or "-",
                _window(visit),
                visit.get_status_display(),
                visit.visit_date or "-",
                COLOURS.get(state, "inherit"),
                timing_label(state) or "-",
                visit_actions(visit),
            )
        )
    header = format_html_join("", "<th>{}</th>", ((h,) for h in head))
    body = format_html_join(
        "",
        '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>'
        '<td><span style="color:{}; font-weight:bold">{}</span></td><td>{}</td></tr>',
        rows,
    )
    return format_html(
        '<table class="edc-schedule"><thead><tr>{}</tr></thead><tbody>{}</tbody></table>', header, body
    )


def _due_days(request: HttpRequest) -> int:
    try:
        days = int(request.GET.get("due_days", "7"))
    except ValueError:
        return 7
    return min(max(days, 0), 365)


def overdue_view(model_admin: Any, request: HttpRequest) -> HttpResponse:
    """The visits of the user's sites whose window has closed (and those due in the next days),
    oldest first; each links to its visit, where it is recorded or missed."""
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    due_days = _due_days(request)
    rows, more = reports.overdue_visits(
        request.user, reports.ReportFilters(due_days=due_days), offset=0, limit=PAGE
    )
    for row in rows:
        row["visit_url"] = reverse("admin:visits_visit_change", args=[row["visit_id"]])
        row["record_url"] = reverse("admin:visits_visit_record", args=[row["visit_id"]])
        row["miss_url"] = reverse("admin:visits_visit_miss", args=[row["visit_id"]])
        row["subject_url"] = reverse("admin:subjects_subject_change", args=[row["subject_id"]])
        row["colour"] = COLOURS[row["state"]]
        row["state_label"] = timing_label(row["state"])
    return TemplateResponse(
        request,
        "admin/visits/visit/overdue.html",
        {
            **model_admin.admin_site.each_context(request),
            "opts": model_admin.model._meta,
            "title": gettext("Overdue visits"),
            "rows": rows,
            "more": more,
            "page": PAGE,
            "due_days": due_days,
        },
    )


# --- recording a visit, or its being missed ---------------------------------------------------------


def visit_actions(visit: Visit) -> SafeString:
    """The links to record the visit (or correct its date) and to mark it missed, as its status
    allows; the pages check the user's right to write at the visit's site."""
    links = []
    if visit.status != VisitStatus.CANCELLED:
        label = gettext("record") if visit.status == VisitStatus.PLANNED else gettext("correct the date")
        links.append((reverse("admin:visits_visit_record", args=[visit.pk]), label))
    if visit.status == VisitStatus.PLANNED:
        links.append((reverse("admin:visits_visit_miss", args=[visit.pk]), gettext("missed")))
    if not links:
        return format_html("{}", "-")
    return format_html_join(" · ", '<a href="{}">{}</a>', links)


class RecordForm(forms.Form):
    visit_date = forms.DateField(label=_("visit date"), help_text=_("The site's date of the visit."))
    out_of_window_reason = forms.CharField(
        label=_("reason outside the window"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text=_("Needed when the date is outside the visit's window."),
    )
    reason = forms.CharField(
        label=_("reason for the correction"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text=_("Needed when the visit was already done or missed."),
    )
    base_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class MissForm(forms.Form):
    reason = forms.CharField(
        label=_("why the visit was missed"), widget=forms.Textarea(attrs={"rows": 2, "cols": 60})
    )
    base_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


def _visit_for(model_admin: Any, request: HttpRequest, object_id: str) -> Visit:
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    # Scoped: another site's visit answers as one that does not exist.
    visits = (
        model_admin.get_queryset(request).filter(voided_at__isnull=True).select_related("subject", "site")
    )
    found: Visit = object_or_404(visits, object_id)
    return found


def _visit_step_page(
    model_admin: Any,
    request: HttpRequest,
    object_id: str,
    *,
    form_class: type[forms.Form],
    title: str,
    step: Any,
) -> HttpResponse:
    visit = _visit_for(model_admin, request, object_id)
    may_write = has_capability(request.user, Capability.ENTER_DATA, site=visit.site)
    form = form_class(request.POST or None, initial={"base_version": visit.version})
    if request.method == "POST":
        if not may_write:
            raise PermissionDenied
        if form.is_valid():
            try:
                saved = step(visit, form.cleaned_data)
            except REFUSALS as exc:  # the service's refusal, a locked or since-changed visit
                for field, errors in refusal_messages(exc).items():
                    for error in errors:
                        form.add_error(field if field in form.fields else None, error)
            else:
                messages.success(
                    request,
                    gettext("{visit}: {status}.").format(visit=saved.code, status=saved.get_status_display()),
                )
                return HttpResponseRedirect(reverse("admin:subjects_subject_change", args=[visit.subject_id]))
    return TemplateResponse(
        request,
        "admin/visits/visit/step.html",
        {
            **model_admin.admin_site.each_context(request),
            "opts": model_admin.model._meta,
            "title": title,
            "visit": visit,
            "window": _window(visit),
            "form": form,
            "may_write": may_write,
        },
    )


def record_view(model_admin: Any, request: HttpRequest, object_id: str) -> HttpResponse:
    """The visit took place on a date (outside its window with a reason: a candidate deviation)."""

    def step(visit: Visit, data: dict[str, Any]) -> Visit:
        return services.visit_record(
            user=request.user,
            visit=visit,
            visit_date=data["visit_date"],
            out_of_window_reason=data["out_of_window_reason"],
            reason=data["reason"],
            version=data["base_version"],
        )

    return _visit_step_page(
        model_admin, request, object_id, form_class=RecordForm, title=gettext("Record the visit"), step=step
    )


def miss_view(model_admin: Any, request: HttpRequest, object_id: str) -> HttpResponse:
    """The visit did not take place, with why."""

    def step(visit: Visit, data: dict[str, Any]) -> Visit:
        return services.visit_miss(
            user=request.user, visit=visit, reason=data["reason"], version=data["base_version"]
        )

    return _visit_step_page(
        model_admin, request, object_id, form_class=MissForm, title=gettext("The visit was missed"), step=step
    )
