"""Reads for the visit schedule: a study's visit definitions as the pure engine's specs (the one
place both `schedule_preview` and `schedule_rebuild` build them), a subject's anchor dates, and the
treatment dates safety and endpoints read (first and last dose, the agents received)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db.models import Q

from edc.core.partial_dates import PartialDate
from edc.visits.schedule import ScheduleParams, SubjectDates, VisitDefinitionSpec
from studies.models import Intervention, Study, VisitDefinition
from studies.selectors import study_lookup

__all__ = [
    "actual_dates",
    "agents_received",
    "death_date",
    "end_of_treatment",
    "first_dose_date",
    "last_dose_date",
    "study_lookup",
    "study_schedule_params",
    "study_visit_specs",
    "subject_dates",
    "visit_spec_from_row",
]


def visit_spec_from_row(row: VisitDefinition) -> VisitDefinitionSpec:
    """One VisitDefinition row as the pure engine's spec."""
    return VisitDefinitionSpec(
        code=row.code,
        name=row.name,
        kind=row.kind,
        series=row.series,
        anchor=row.anchor,
        repeat_from=row.repeat_from,
        offset_days=row.offset_days,
        window_before_days=row.window_before_days,
        window_after_days=row.window_after_days,
        repeat_interval_days=row.repeat_interval_days,
        repeat_until_day=row.repeat_until_day,
        repeat_count=row.repeat_count,
        on_end_of_treatment=row.on_end_of_treatment,
        phase=row.phase.code if row.phase is not None else "",
        order=row.order,
        anchor_visit=row.anchor_visit,
    )


def study_visit_specs(
    study: Study, rows: Iterable[VisitDefinition] | None = None
) -> list[VisitDefinitionSpec]:
    """The study's visit definitions, in definition order (`rows`: already read by the caller)."""
    if rows is None:
        rows = study.visit_definitions.select_related("phase")
    specs = [visit_spec_from_row(row) for row in rows]
    return sorted(specs, key=lambda s: (s.order, s.code))


def _given() -> Q:
    """Exposure rows whose dose reached the patient: not voided, not "not done", not skipped, > 0."""
    from edc.visits.exposures import ExposureAdjustment

    return Q(voided_at__isnull=True, not_done_reason="", dose_given__gt=0) & ~Q(
        adjustment=ExposureAdjustment.SKIPPED
    )


def first_dose_date(subject: Any) -> dt.date | None:
    """The day of the subject's first dose of study treatment, as safety and endpoints read it.

    The earliest exposure with a dose given (one query); before any dose is given, the planned
    first dose of enrollment (the date the schedule anchors on until then); None before enrollment.
    """
    from edc.visits.exposures import Exposure

    actual: dt.date | None = (
        Exposure.objects.filter(_given(), subject=subject)
        .order_by("start_date")
        .values_list("start_date", flat=True)
        .first()
    )
    if actual is not None:
        return actual
    planned: dt.date | None = subject.planned_first_dose
    return planned


def end_of_treatment(subject: Any) -> Any:
    """The subject's end-of-treatment form (not voided), or None while treatment goes on."""
    from edc.visits.exposures import EndOfTreatment

    return EndOfTreatment.objects.active().filter(subject=subject).first()


def last_dose_date(subject: Any) -> dt.date | None:
    """The day of the last dose once treatment has ended (the end-of-treatment form); None while it
    goes on (one query)."""
    from edc.visits.exposures import EndOfTreatment

    day: dt.date | None = (
        EndOfTreatment.objects.active()
        .filter(subject=subject)
        .values_list("last_dose_date", flat=True)
        .first()
    )
    return day


def agents_received(subject: Any) -> list[Intervention]:
    """The agents the subject received (a dose given), one per agent however many doses and regimens
    (cetuximab's loading and maintenance regimens are one agent): the intervention of each agent's
    first dose, in the order the agents were first given (one query)."""
    from edc.visits.exposures import Exposure

    rows = (
        Exposure.objects.filter(_given(), subject=subject)
        .select_related("intervention")
        .order_by("start_date", "intervention__order", "created")
    )
    seen: dict[str, Intervention] = {}
    for row in rows:
        seen.setdefault(row.intervention.agent.lower(), row.intervention)
    return list(seen.values())


def death_date(subject: Any) -> dt.date | None:
    """The day of death from the death form (C3, edc.forms.selectors.death_of), or None.

    A partial date counts from its earliest day: nothing is planned from then on (the visits of
    that month already lie in the past when the death is recorded; done visits are never touched).
    """
    try:
        from edc.forms.selectors import death_of  # type: ignore[attr-defined]
    except ImportError:  # the death form (issue 18 item 4, helper h19) is not merged yet
        return None
    death = death_of(subject)
    if death is None:
        return None
    value = getattr(death, "death_date", None)
    if value is None:
        return None
    if isinstance(value, PartialDate):
        return value.earliest()
    if isinstance(value, dt.date):
        return value
    return PartialDate.parse(value).earliest()


def _dosed_visits(subject: Any) -> list[tuple[str, dt.date]]:
    """(visit code, start date) of every dose given, earliest first (one query)."""
    from edc.visits.exposures import Exposure

    return list(
        Exposure.objects.filter(_given(), subject=subject, visit__voided_at__isnull=True)
        .values_list("visit__code", "start_date")
        .order_by("start_date", "created")
    )


def actual_dates(subject: Any, doses: list[tuple[str, dt.date]] | None = None) -> dict[str, dt.date]:
    """The actual date of each visit the schedule follows (occurrence code -> date): the date a
    visit was done, and for a visit with a dose given the day of its first dose (a cycle starts
    with its dose; a delayed cycle re-anchors the cycles after it). `doses`: `_dosed_visits`,
    already read by the caller. One or two queries."""
    from edc.visits.models import Visit, VisitStatus

    actual: dict[str, dt.date] = dict(
        Visit.objects.active()
        .filter(subject=subject, status=VisitStatus.DONE, visit_date__isnull=False)
        .values_list("code", "visit_date")
    )
    dosed: dict[str, dt.date] = {}
    for code, day in _dosed_visits(subject) if doses is None else doses:
        dosed.setdefault(code, day)
    actual.update(dosed)
    return actual


# Before the first dose no dose is given and treatment has not ended (a dose moves the subject on
# treatment, and the end of treatment needs a dose), so these statuses skip those reads.
_BEFORE_TREATMENT = ("screening", "enrolled", "screen_failed")


def subject_dates(subject: Any) -> SubjectDates:
    """The subject's anchor dates as the schedule engine reads them.

    The actual first dose (else the planned one), the actual dates of done visits and dosed cycles,
    the end of treatment (its date, last dose and reason, as the engine's reason: only progression
    stops imaging), the death date; the consent date is the first signed consent's day at the
    subject's site. Queries: consent, done visits and death (3); once treatment started, the doses
    and the end of treatment (2 more).
    """
    from edc.consent.selectors import first_consent_date

    started = subject.status not in _BEFORE_TREATMENT
    doses = _dosed_visits(subject) if started else []
    eot = end_of_treatment(subject) if started else None
    return SubjectDates(
        consent=first_consent_date(subject),
        enrollment=subject.enrollment_date,
        first_dose=doses[0][1] if doses else subject.planned_first_dose,
        last_dose=eot.last_dose_date if eot is not None else None,
        end_of_treatment=eot.eot_date if eot is not None else None,
        eot_reason=eot.schedule_reason if eot is not None else None,
        death=death_date(subject),
        actual=actual_dates(subject, doses),
    )


def study_schedule_params(study: Study, *, horizon: dt.date | None = None) -> ScheduleParams:
    """The study's limits; ``horizon`` (a caller's date) replaces the study's horizon in days."""
    return ScheduleParams(
        max_treatment_days=study.max_treatment_days,
        horizon_days=study.schedule_horizon_days,
        horizon=horizon,
    )
