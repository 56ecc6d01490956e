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
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from edc.core.dates import latest_today, today_for
from edc.core.services import ChangeReason, record_bulk_create, record_save, record_update
from edc.datamanagement.services import edit_checks_run_for
from edc.visits import schedule
from edc.visits.models import (
    Deviation,
    DeviationCategory,
    DeviationSeverity,
    DeviationSource,
    DeviationStatus,
    Visit,
    VisitStatus,
)
from edc.visits.selectors import study_schedule_params, study_visit_specs, subject_dates
from studies.form_stores import form_stores

SCREENING = "screening"
UNSCHEDULED = "unscheduled"


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
    """What one re-plan wrote (and what it left alone on purpose)."""

    created: list[Visit] = field(default_factory=list)
    # Planned visits moved to the engine's new target and window (code -> the visit as stored now).
    moved: dict[str, Visit] = field(default_factory=dict)
    # Planned visits the engine no longer plans, now cancelled with the reason (their codes).
    dropped: list[str] = field(default_factory=list)
    # Visits the engine would move or drop but that are done, missed, cancelled or hold data (codes).
    kept: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.moved or self.dropped)


def _same_plan(stored: Visit, planned: schedule.PlannedVisit) -> bool:
    return (stored.target_date, stored.window_start, stored.window_end) == (
        planned.target,
        planned.window_start,
        planned.window_end,
    )


# Kinds a re-plan never moves or cancels: screening exists from screening on, unscheduled visits
# are recorded by hand; neither comes from the engine.
NOT_PLANNED_KINDS = (SCREENING, UNSCHEDULED)
# A subject in these states has no schedule to re-plan (not enrolled yet, or it has ended).
_NO_SCHEDULE = ("screening", "screen_failed", "off_study")


def visits_with_data(visit_ids: Iterable[Any]) -> set[Any]:
    """The visits among `visit_ids` that hold a form record that is not voided.

    One query per form model: every model that stores a registry form (studies/form_stores.py) and
    belongs to a visit counts, so the forms other apps add are counted without a change here.
    """
    ids = list(visit_ids)
    if not ids:
        return set()
    found: set[Any] = set()
    for store in form_stores():
        model = store.model
        try:
            model._meta.get_field("visit")
        except FieldDoesNotExist:
            continue
        rows = model._base_manager.filter(visit_id__in=ids)
        if any(f.name == "voided_at" for f in model._meta.concrete_fields):
            rows = rows.filter(voided_at__isnull=True)
        found.update(rows.values_list("visit_id", flat=True).distinct())
    return found


def visit_has_data(visit: Visit) -> bool:
    """Whether any form of the visit holds a record that is not voided."""
    return bool(visits_with_data([visit.pk]))


def _new_visit(subject: Any, planned: schedule.PlannedVisit, definition: Any) -> Visit:
    return Visit(
        study=subject.study,
        site=subject.site,
        subject=subject,
        definition=definition,
        code=planned.code,
        name=planned.name,
        kind=planned.kind,
        series=planned.series,
        occurrence=planned.occurrence,
        number=planned.number,
        anchor_visit_code=planned.anchor_visit,
        order=planned.order,
        target_date=planned.target,
        window_start=planned.window_start,
        window_end=planned.window_end,
    )


@transaction.atomic
def schedule_rebuild(
    *, user: Any, subject: Any, reason: str, since: dt.date | None = None, reason_code: str = "other"
) -> ScheduleChange:
    """Bring the subject's stored visits in line with the engine's plan; write only the differences.

    - a visit the engine plans and nothing stores under its code is created (all of them in bulk:
      one INSERT for the rows and one for their history, whatever their number);
    - a planned visit without data that the engine plans elsewhere moves to the new target and
      window (one change with `reason` each);
    - a planned visit without data that the engine no longer plans is cancelled with `reason`;
    - a visit done, missed or cancelled, or one holding data, is never moved or cancelled (it is
      listed in `kept` when the plan differs); screening and unscheduled visits are not the
      engine's and stay as they are; a cancelled visit is not brought back (that part of the
      schedule was ended on purpose: a person re-opens it).

    `since` (an amendment taking effect on that day): only visits targeted on or after it are
    created, moved or cancelled; the visits before it stay as the earlier version planned them.

    Queries: the definitions (1), the anchor dates (subject_dates), the stored visits (1), one per
    form model for the visits that would change, then the writes. An unchanged plan writes nothing.
    """
    if not reason.strip():
        raise ValidationError({"reason": [gettext("Say why the schedule is re-planned.")]})
    change = ScheduleChange()
    if subject.status in _NO_SCHEDULE:
        return change
    study = subject.study
    rows = list(study.visit_definitions.select_related("phase"))
    specs = study_visit_specs(study, rows=rows)
    by_code = {row.code: row for row in rows}
    planned = schedule.plan(specs, subject_dates(subject), study_schedule_params(study))
    stored = {
        v.code: v for v in Visit.objects.active().filter(subject=subject).select_related("subject", "study")
    }

    def in_scope(day: dt.date | None) -> bool:
        return since is None or day is None or day >= since

    new: list[Visit] = []
    to_move: list[tuple[Visit, schedule.PlannedVisit]] = []
    for visit in planned:
        current = stored.get(visit.code)
        if current is None:
            if in_scope(visit.target):
                new.append(_new_visit(subject, visit, by_code.get(visit.definition)))
        elif (
            current.kind not in NOT_PLANNED_KINDS
            and not _same_plan(current, visit)
            and in_scope(current.target_date)
            and in_scope(visit.target)
        ):
            to_move.append((current, visit))
    planned_codes = {v.code for v in planned}
    to_drop = [
        v
        for code, v in stored.items()
        if code not in planned_codes
        and v.kind not in NOT_PLANNED_KINDS
        and v.status != VisitStatus.CANCELLED
        and in_scope(v.target_date)
    ]
    touched = [v for v, _p in to_move] + to_drop
    with_data = visits_with_data(v.pk for v in touched if v.status == VisitStatus.PLANNED)

    def movable(v: Visit) -> bool:
        return v.status == VisitStatus.PLANNED and v.pk not in with_data

    why = ChangeReason(code=reason_code, text=reason)
    for current, visit in to_move:
        if not movable(current):
            change.kept.append(current.code)
            continue
        change.moved[current.code] = record_update(
            current,
            user=user,
            changes={
                "target_date": visit.target,
                "window_start": visit.window_start,
                "window_end": visit.window_end,
                "name": visit.name,
                "number": visit.number,
                "order": visit.order,
            },
            reason=why,
        )
    for current in to_drop:
        if not movable(current):
            change.kept.append(current.code)
            continue
        record_update(
            current,
            user=user,
            changes={"status": VisitStatus.CANCELLED, "cancelled_reason": reason},
            reason=why,
        )
        change.dropped.append(current.code)
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


# --- recording a visit ---------------------------------------------------------------------------


class Timing:
    EARLY = "early"
    ON_TIME = "on_time"
    LATE = "late"


def visit_timing(visit: Visit, day: dt.date | None = None) -> str:
    """Early, on time or late: the visit's date (or `day`) against its window (none: on time)."""
    when = day or visit.visit_date
    if when is None:
        return ""
    if visit.window_start is not None and when < visit.window_start:
        return Timing.EARLY
    if visit.window_end is not None and when > visit.window_end:
        return Timing.LATE
    return Timing.ON_TIME


def _check_writable(user: Any, visit: Visit) -> None:
    from edc.subjects.access import require_write

    require_write(user, visit.site)
    if visit.voided_at is not None:
        raise ValidationError(gettext("A voided visit cannot be recorded."), code="voided")


def _check_visit_day(visit: Visit, day: dt.date) -> None:
    today = today_for(visit)
    if day > today:
        raise ValidationError(
            {"visit_date": [gettext("The date is after today at the site ({today}).").format(today=today)]}
        )
    first = visit.subject.screening_date
    if first is not None and day < first:
        raise ValidationError(
            {"visit_date": [gettext("The date is before the subject's screening ({day}).").format(day=first)]}
        )


def _window_text(visit: Visit) -> str:
    return f"{visit.window_start or '…'} – {visit.window_end or '…'}"


def _window_deviation(*, user: Any, visit: Visit, timing: str, reason: str) -> Deviation | None:
    """Raise (or update) the visit's one candidate window deviation; dismiss it once back in window."""
    existing = Deviation.objects.active().filter(visit=visit, source=DeviationSource.VISIT_WINDOW).first()
    if timing == Timing.ON_TIME:
        if existing is not None and existing.status == DeviationStatus.CANDIDATE:
            return record_update(
                existing,
                user=user,
                changes={
                    "status": DeviationStatus.DISMISSED,
                    "review_note": gettext("The visit date was corrected into its window."),
                },
                reason=ChangeReason("other", gettext("The visit date was corrected into its window.")),
            )
        return existing
    day = visit.visit_date
    assert day is not None  # a done visit has its date (the model's constraint)
    description = gettext("{code} recorded {timing} on {day} (window {window}): {reason}").format(
        code=visit.code,
        timing=gettext("early") if timing == Timing.EARLY else gettext("late"),
        day=visit.visit_date,
        window=_window_text(visit),
        reason=reason,
    )
    if existing is None:
        return record_save(
            Deviation(
                study=visit.study,
                site=visit.site,
                subject=visit.subject,
                visit=visit,
                date=day,
                category=DeviationCategory.VISIT_WINDOW,
                status=DeviationStatus.CANDIDATE,
                source=DeviationSource.VISIT_WINDOW,
                description=description,
            ),
            user=user,
        )
    if existing.status == DeviationStatus.CANDIDATE:
        # Still to review: it follows the visit's new date rather than adding a second entry.
        return record_update(
            existing,
            user=user,
            changes={"date": visit.visit_date, "description": description},
            reason=ChangeReason("other", gettext("The visit was recorded again.")),
        )
    return existing  # reviewed already: the reviewer's decision stands, nothing is added


@transaction.atomic
def visit_record(
    *,
    user: Any,
    visit: Visit,
    visit_date: dt.date,
    out_of_window_reason: str = "",
    version: int | None = None,
    reason: str = "",
) -> Visit:
    """The visit took place on `visit_date` (the site's date, not after today there).

    Outside its window it needs `out_of_window_reason` and raises one candidate protocol deviation
    for review (recording it again updates that candidate; it never adds a second). A planned visit
    becomes done; a done visit's date, or a missed visit found to have taken place, is a correction
    and needs `reason`. Cancelled visits are refused (that part of the schedule ended).
    """
    _check_writable(user, visit)
    if visit.status == VisitStatus.CANCELLED:
        raise ValidationError(
            {
                "status": [
                    gettext("The visit was cancelled ({why}); it cannot be recorded.").format(
                        why=visit.cancelled_reason or "-"
                    )
                ]
            }
        )
    correction = visit.status in (VisitStatus.DONE, VisitStatus.MISSED)
    if correction and not reason.strip():
        raise ValidationError(
            {
                "reason": [
                    gettext("The visit is already {status}: say why it is recorded again.").format(
                        status=visit.get_status_display()
                    )
                ]
            }
        )
    _check_visit_day(visit, visit_date)
    timing = visit_timing(visit, visit_date)
    words = out_of_window_reason.strip()
    if timing != Timing.ON_TIME and not words:
        raise ValidationError(
            {
                "out_of_window_reason": [
                    gettext("The date is outside the visit's window ({window}): say why.").format(
                        window=_window_text(visit)
                    )
                ]
            }
        )
    changes = {
        "status": VisitStatus.DONE,
        "visit_date": visit_date,
        "out_of_window_reason": words if timing != Timing.ON_TIME else "",
        "missed_reason": "",
    }
    why = (
        ChangeReason("other", reason.strip())
        if correction
        else ChangeReason("other", gettext("Visit recorded on {day}").format(day=visit_date))
    )
    done = record_update(visit, user=user, changes=changes, reason=why, version=version)
    _window_deviation(user=user, visit=done, timing=timing, reason=words)
    edit_checks_run_for(done)  # window, missing forms, the candidate deviation (issue 22)
    return done


@transaction.atomic
def visit_miss(*, user: Any, visit: Visit, reason: str, version: int | None = None) -> Visit:
    """The visit did not take place: `reason` required. Only a planned visit without data, once its
    window has opened at the site (a visit that is not due yet is not missed)."""
    _check_writable(user, visit)
    words = reason.strip()
    if not words:
        raise ValidationError({"reason": [gettext("Say why the visit was missed.")]})
    if visit.status != VisitStatus.PLANNED:
        raise ValidationError(
            {
                "status": [
                    gettext("Only a planned visit can be missed; this one is {status}.").format(
                        status=visit.get_status_display()
                    )
                ]
            }
        )
    today = today_for(visit)
    opens = visit.window_start or visit.target_date
    if opens is not None and opens > today:
        raise ValidationError(
            {"status": [gettext("The visit's window opens on {day}: it is not due yet.").format(day=opens)]}
        )
    if visit_has_data(visit):
        raise ValidationError(
            {"status": [gettext("The visit holds form data: it took place, record its date instead.")]}
        )
    missed = record_update(
        visit,
        user=user,
        changes={"status": VisitStatus.MISSED, "missed_reason": words},
        reason=ChangeReason("other", gettext("Visit missed: {reason}").format(reason=words)),
        version=version,
    )
    edit_checks_run_for(missed)  # a missed visit closes its window query (issue 22)
    return missed


def _unscheduled_definition(study: Any) -> Any:
    return study.visit_definitions.filter(kind=UNSCHEDULED).order_by("order", "code").first()


@transaction.atomic
def visit_unscheduled_create(
    *, user: Any, subject: Any, visit_date: dt.date, reason: str, name: str = ""
) -> Visit:
    """An unscheduled visit of an enrolled subject, done on `visit_date`, with why it took place.

    Coded from the study's unscheduled definition (else UNS) and numbered 1, 2, ... per subject;
    it has no window, so it is always on time, and no re-plan moves it."""
    from edc.subjects.access import require_write

    require_write(user, subject.site)
    words = reason.strip()
    if not words:
        raise ValidationError({"reason": [gettext("Say why the unscheduled visit took place.")]})
    if subject.status in _NO_SCHEDULE:
        raise ValidationError(
            {"subject": [gettext("Unscheduled visits are for enrolled subjects still on the study.")]}
        )
    definition = _unscheduled_definition(subject.study)
    prefix = definition.code if definition is not None else "UNS"
    # Voided ones keep their number: a code is never reused for another visit.
    taken = Visit.objects.filter(subject=subject, kind=UNSCHEDULED).count()
    number = taken + 1
    visit = Visit(
        study=subject.study,
        site=subject.site,
        subject=subject,
        definition=definition,
        code=f"{prefix}{number}",
        name=name.strip() or gettext("Unscheduled visit {n}").format(n=number),
        kind=UNSCHEDULED,
        series=prefix,
        occurrence=number,
        number=number,
        order=definition.order if definition is not None else 0,
        target_date=visit_date,
        status=VisitStatus.DONE,
        visit_date=visit_date,
        out_of_window_reason="",
        missed_reason="",
    )
    _check_visit_day(visit, visit_date)
    # The first entry's history row keeps why the visit took place.
    return record_save(visit, user=user, reason=ChangeReason("other", words))


# --- the deviation log ---------------------------------------------------------------------------


def _deviation_checks(deviation: Deviation) -> None:
    if deviation.date is not None and deviation.date > today_for(deviation):
        raise ValidationError({"date": [gettext("The date is after today at the site.")]})


@transaction.atomic
def deviation_create(
    *,
    user: Any,
    site: Any,
    date: dt.date,
    category: str,
    severity: str,
    description: str,
    subject: Any = None,
    visit: Visit | None = None,
    corrective_action: str = "",
    reported_to_ethics: bool = False,
    ethics_reported_date: dt.date | None = None,
) -> Deviation:
    """A deviation entered by hand: confirmed at once, major or minor."""
    from edc.subjects.access import require_write

    require_write(user, site)
    if subject is not None and subject.site_id != site.pk:
        raise ValidationError({"site": [gettext("A subject's deviation is at the subject's site.")]})
    deviation = Deviation(
        study=site.study,
        site=site,
        subject=subject,
        visit=visit,
        date=date,
        category=category,
        severity=severity,
        status=DeviationStatus.CONFIRMED,
        source=DeviationSource.MANUAL,
        description=description,
        corrective_action=corrective_action,
        reported_to_ethics=reported_to_ethics,
        ethics_reported_date=ethics_reported_date,
    )
    _deviation_checks(deviation)
    return record_save(deviation, user=user)


@transaction.atomic
def deviation_update(
    *, user: Any, deviation: Deviation, reason: ChangeReason, version: int | None = None, **changes: Any
) -> Deviation:
    """Change a deviation's own fields (Deviation.editable_fields), with the reason for change."""
    from edc.subjects.access import require_write

    require_write(user, deviation.site)
    unknown = sorted(set(changes) - set(Deviation.editable_fields))
    if unknown:
        raise ValidationError({name: [gettext("This field cannot be changed here.")] for name in unknown})
    if deviation.status == DeviationStatus.CANDIDATE and changes.get("severity"):
        raise ValidationError({"severity": [gettext("Review the candidate to set its severity.")]})
    for name, value in changes.items():
        setattr(deviation, name, value)
    _deviation_checks(deviation)
    return record_save(deviation, user=user, reason=reason, version=version)


class ReviewDecision:
    CONFIRM = "confirm"
    DISMISS = "dismiss"
    ALL = (CONFIRM, DISMISS)


@transaction.atomic
def deviation_review(
    *,
    user: Any,
    deviation: Deviation,
    decision: str,
    severity: str = "",
    note: str = "",
    corrective_action: str | None = None,
    version: int | None = None,
) -> Deviation:
    """A person's decision on a candidate: confirm it as major or minor, or dismiss it (with why)."""
    from edc.subjects.access import require_write

    require_write(user, deviation.site)
    if deviation.status != DeviationStatus.CANDIDATE:
        raise ValidationError(
            {
                "status": [
                    gettext("Only a candidate is reviewed; this one is {status}.").format(
                        status=deviation.get_status_display()
                    )
                ]
            }
        )
    errors: dict[str, list[str]] = {}
    if decision not in ReviewDecision.ALL:
        errors["decision"] = [gettext("One of confirm, dismiss.")]
    elif decision == ReviewDecision.CONFIRM and severity not in DeviationSeverity.values:
        errors["severity"] = [gettext("Confirm it as major or minor.")]
    elif decision == ReviewDecision.DISMISS and not note.strip():
        errors["note"] = [gettext("Say why the candidate is dismissed.")]
    if errors:
        raise ValidationError(errors)
    changes: dict[str, Any] = {
        "status": DeviationStatus.CONFIRMED
        if decision == ReviewDecision.CONFIRM
        else DeviationStatus.DISMISSED,
        "severity": severity if decision == ReviewDecision.CONFIRM else "",
        "review_note": note.strip(),
        "reviewed_by": user if user is not None and user.is_authenticated else None,
        "reviewed_at": timezone.now(),
    }
    if corrective_action is not None:
        changes["corrective_action"] = corrective_action
    words = note.strip() or gettext("Confirmed as {severity}").format(severity=severity)
    reviewed = record_update(
        deviation, user=user, changes=changes, reason=ChangeReason("other", words), version=version
    )
    edit_checks_run_for(reviewed)  # the review closes the "awaiting review" query (issue 22)
    return reviewed


# --- amendments ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AmendmentReplan:
    version: Any
    subjects: int
    created: int
    moved: int
    dropped: int
    kept: int


@transaction.atomic
def study_version_replan(*, user: Any, version: Any, as_of: dt.date | None = None) -> AmendmentReplan:
    """A new version of the study's definition takes effect: re-plan every subject it applies to.

    It applies to the study's subjects whose schedule runs (enrolled, on treatment, in follow-up);
    visits targeted before the version's effective date (or `as_of`, or today at the study's
    earliest site when the file states none) stay as the earlier version planned them. Each subject's
    changes carry the reason "Amendment <number> effective <date>". The loader calls this after a
    load that records a version whose effective date has come (load_studies); `schedule_replan`
    does it by hand for a version whose day arrives later.
    """
    from edc.subjects.models import Subject

    study = version.study
    since = as_of or version.effective_date or latest_today()
    reason = gettext("Amendment {number} effective {day}").format(number=version.number, day=since)
    totals = {"subjects": 0, "created": 0, "moved": 0, "dropped": 0, "kept": 0}
    subjects = (
        Subject.objects.active()
        .filter(study=study)
        .exclude(status__in=_NO_SCHEDULE)
        .select_related("study", "site")
        .order_by("pk")
    )
    for subject in subjects:
        change = schedule_rebuild(
            user=user, subject=subject, reason=reason, since=since, reason_code="protocol_amendment"
        )
        totals["subjects"] += 1
        totals["created"] += len(change.created)
        totals["moved"] += len(change.moved)
        totals["dropped"] += len(change.dropped)
        totals["kept"] += len(change.kept)
    return AmendmentReplan(version=version, **totals)
