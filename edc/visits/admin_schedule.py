"""Admin pages of the schedule: the coordinator's overdue-visits page (/admin/visits/visit/overdue/,
served by VisitAdmin) and the schedule table on the subject's page (SubjectAdmin's `schedule` field).

Both read what the API reads: the overdue page is edc/visits/reports.py (one query, each site's
today, scoped to the user's sites), the table is the subject's active visits with the same
timing words as /api/subjects/{id}/visits/ (edc/visits/api.py visit_state)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext

from edc.visits import reports
from edc.visits.models import Visit

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
            )
        )
    header = format_html_join("", "<th>{}</th>", ((h,) for h in head))
    body = format_html_join(
        "",
        '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>'
        '<td><span style="color:{}; font-weight:bold">{}</span></td></tr>',
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
