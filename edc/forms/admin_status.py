"""The form status on the subject and visit pages of the admin: a read-only panel (edc/forms/status.py).

`FormStatusAdminMixin` adds the read-only field `form_status` to the change page of a subject (every
visit that took place or is due, each with its forms) or of a visit (its forms). The subject and
visit admins take it as their first base; the page costs the same few queries whatever the number
of visits (pinned in tests/forms/test_status.py).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from edc.forms.status import (
    COMPLETE,
    IN_PROGRESS,
    MISSING,
    NOT_DONE,
    FormStatus,
    state_counts,
    visit_form_status,
)

STATE_LABELS = {
    MISSING: _("missing"),
    IN_PROGRESS: _("in progress"),
    COMPLETE: _("complete"),
    NOT_DONE: _("not done"),
}
STATE_COLOURS = {MISSING: "#ba2121", IN_PROGRESS: "#b8860b", COMPLETE: "#1b7b34", NOT_DONE: "#555"}


def _form(status: FormStatus) -> SafeString:
    label = str(STATE_LABELS[status.state])
    if status.state == NOT_DONE and status.not_done_reason:
        detail = f": {status.not_done_detail}" if status.not_done_detail else ""
        label = f"{label} ({status.not_done_reason}{detail})"
    if status.state == IN_PROGRESS and status.incomplete_items:
        label = f"{label}: {gettext('needs')} {', '.join(status.incomplete_items)}"
    if not status.expected:
        label = f"{label}, {gettext('not expected at this visit')}"
    return format_html(
        '<span style="color:{}" title="{}"><b>{}</b> {}</span>',
        STATE_COLOURS[status.state],
        status.name,
        status.code,
        label,
    )


def _forms(statuses: list[FormStatus]) -> SafeString:
    if not statuses:
        return format_html("<i>{}</i>", gettext("No forms expected."))
    return format_html_join(" · ", "{}", ((_form(s),) for s in statuses))


def _summary(statuses: list[FormStatus]) -> str:
    counts = state_counts(statuses)
    return ", ".join(f"{STATE_LABELS[state]}: {n}" for state, n in counts.items())


def visit_panel(visit: Any) -> SafeString:
    statuses = visit_form_status([visit])[visit.pk]
    return format_html(
        '<div class="form-status"><p>{}</p><p>{}</p></div>', _summary(statuses), _forms(statuses)
    )


def subject_panel(subject: Any) -> SafeString:
    from edc.visits.models import Visit, VisitStatus

    visits = list(Visit.objects.active().filter(subject=subject).order_by("target_date", "order", "code"))
    statuses = visit_form_status(visits)
    today = subject.site.today()
    # A planned visit whose window has not opened has nothing to enter yet: counted, not listed.
    shown = [
        v
        for v in visits
        if v.status != VisitStatus.PLANNED or v.window_start is None or v.window_start <= today
    ]
    later = len(visits) - len(shown)
    every = [s for v in shown for s in statuses[v.pk]]
    rows = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        (
            (v.code, v.get_status_display(), v.visit_date or v.target_date or "", _forms(statuses[v.pk]))
            for v in shown
        ),
    )
    note = (
        gettext("{n} planned visits whose window has not opened are not listed.").format(n=later)
        if later
        else ""
    )
    return format_html(
        '<div class="form-status"><p>{}</p><table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th>'
        "</tr></thead><tbody>{}</tbody></table><p>{}</p></div>",
        _summary(every),
        gettext("Visit"),
        gettext("Status"),
        gettext("Date"),
        gettext("Forms"),
        rows,
        note,
    )


class FormStatusAdminMixin:
    """The read-only `form_status` panel on a change page of a Subject or a Visit."""

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_fields(request, obj))  # type: ignore[misc]
        if obj is not None and "form_status" not in fields:
            fields.append("form_status")
        return fields

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_readonly_fields(request, obj))  # type: ignore[misc]
        if obj is not None and "form_status" not in fields:
            fields.append("form_status")
        return fields

    @staticmethod
    def _panel(obj: Any) -> SafeString:
        from edc.visits.models import Visit

        return visit_panel(obj) if isinstance(obj, Visit) else subject_panel(obj)

    def form_status(self, obj: Any) -> SafeString:
        if obj is None or obj.pk is None:
            return format_html("")
        return self._panel(obj)

    form_status.short_description = _("Form status")  # type: ignore[attr-defined]
