"""Writes of visits: the screening visit, the planned schedule, cancelling what a withdrawal stops.

`schedule_rebuild` is the one re-plan service (the visits issue extends it: re-anchoring on the
first dose, delayed cycles, end of treatment, amendments). It compares the pure engine's plan
(edc/visits/schedule.py, from the same specs `schedule_preview` prints) with the subject's stored
visits and writes only the differences: today it creates the visits that are missing, with
`record_bulk_create` (one INSERT for the rows and one for their history, whatever their number);
the visits it would move or drop are returned (`ScheduleChange.moved`, `.dropped`) and left as they
are until the visits issue decides how (a done, missed or filled visit is never moved or dropped).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext

from edc.core.services import ChangeReason, record_bulk_create, record_save, record_update
from edc.visits import schedule
from edc.visits.models import Visit, VisitStatus
from edc.visits.selectors import study_schedule_params, study_visit_specs, subject_dates

SCREENING = "screening"


def _screening_definition(study: Any) -> Any:
    return study.visit_definitions.filter(kind=SCREENING).order_by("order", "code").first()


@transaction.atomic
def screening_visit_create(*, user: Any, subject: Any) -> Visit:
    """The visit the screening forms belong to: done on the screening date (screen failures keep it)."""
    definition = _screening_definition(subject.study)
    day = subject.screening_date
    visit = Visit(
        study=subject.study,
        site=subject.site,
        subject=subject,
        definition=definition,
        code=definition.code if definition is not None else "SCR",
        name=definition.name if definition is not None else gettext("Screening"),
        kind=SCREENING,
        series=definition.series_code if definition is not None else "SCR",
        order=definition.order if definition is not None else 0,
        target_date=day,
        status=VisitStatus.DONE,
        visit_date=day,
    )
    return record_save(visit, user=user)


def screening_visit(subject: Any) -> Visit | None:
    """The subject's screening visit (the one their screening forms belong to)."""
    return (
        Visit.objects.active()
        .filter(subject=subject, kind=SCREENING)
        .select_related("subject")
        .order_by("created")
        .first()
    )


@dataclass(frozen=True)
class ScheduleChange:
    created: list[Visit] = field(default_factory=list)
    # Planned by the engine elsewhere than stored (code -> planned visit); not applied yet.
    moved: dict[str, schedule.PlannedVisit] = field(default_factory=dict)
    # Stored but no longer planned (codes); not applied yet.
    dropped: list[str] = field(default_factory=list)


def _same_plan(stored: Visit, planned: schedule.PlannedVisit) -> bool:
    return (stored.target_date, stored.window_start, stored.window_end) == (
        planned.target,
        planned.window_start,
        planned.window_end,
    )


@transaction.atomic
def schedule_rebuild(*, user: Any, subject: Any, reason: str) -> ScheduleChange:
    """Bring the subject's stored visits in line with the engine's plan; write only the differences.

    Queries: the definitions (2), the consent date (1), the stored visits (1), then one INSERT for
    the new visits and one for their history rows, whatever their number.
    """
    study = subject.study
    rows = list(study.visit_definitions.select_related("phase"))
    specs = study_visit_specs(study, rows=rows)
    by_code = {row.code: row for row in rows}
    planned = schedule.plan(specs, subject_dates(subject), study_schedule_params(study))
    stored = {v.code: v for v in Visit.objects.active().filter(subject=subject)}
    change = ScheduleChange()
    new: list[Visit] = []
    for visit in planned:
        current = stored.get(visit.code)
        if current is None:
            new.append(
                Visit(
                    study=study,
                    site=subject.site,
                    subject=subject,
                    definition=by_code.get(visit.definition),
                    code=visit.code,
                    name=visit.name,
                    kind=visit.kind,
                    series=visit.series,
                    occurrence=visit.occurrence,
                    number=visit.number,
                    anchor_visit_code=visit.anchor_visit,
                    order=visit.order,
                    target_date=visit.target,
                    window_start=visit.window_start,
                    window_end=visit.window_end,
                )
            )
        elif current.kind != SCREENING and not _same_plan(current, visit):
            change.moved[visit.code] = visit
    planned_codes = {v.code for v in planned}
    change.dropped.extend(
        code
        for code, visit in stored.items()
        if code not in planned_codes and visit.kind not in (SCREENING, "unscheduled")
    )
    # `reason` is for the changes to stored visits (the visits issue); new visits are first entries.
    change.created.extend(record_bulk_create(new, user=user))
    return change


@transaction.atomic
def visits_cancel_after(
    *, user: Any, subject: Any, after: dt.date, reason: str, treatment_only: bool = False
) -> list[Visit]:
    """Cancel the subject's planned visits targeted after `after` (a withdrawal); nothing is deleted."""
    if not reason.strip():
        raise ValidationError({"reason": [gettext("Say why the visits are cancelled.")]})
    visits = Visit.objects.active().filter(subject=subject, status=VisitStatus.PLANNED, target_date__gt=after)
    if treatment_only:
        visits = visits.filter(kind="treatment")
    cancelled = []
    why = ChangeReason(code="other", text=reason)
    for visit in visits.select_related("subject", "study"):
        cancelled.append(
            record_update(
                visit,
                user=user,
                changes={"status": VisitStatus.CANCELLED, "cancelled_reason": reason},
                reason=why,
            )
        )
    return cancelled
