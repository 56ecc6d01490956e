"""Reads for the visit schedule: a study's visit definitions as the pure engine's specs (the one
place both `schedule_preview` and `schedule_rebuild` build them), and a subject's anchor dates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from edc.visits.schedule import ScheduleParams, SubjectDates, VisitDefinitionSpec
from studies.models import Study, VisitDefinition
from studies.selectors import study_lookup

__all__ = [
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


def first_dose_date(subject: Any) -> dt.date | None:
    """The day of the subject's first dose of study treatment, as safety and endpoints read it.

    Until treatment exposure is recorded (the visits issue's exposures) this is the planned first
    dose of enrollment, the same date the schedule anchors on; None before enrollment.
    """
    planned: dt.date | None = subject.planned_first_dose
    return planned


def last_dose_date(subject: Any) -> dt.date | None:
    """The day of the subject's last dose once treatment has ended; None while it goes on.

    Until end of treatment is recorded (the visits issue) no subject has ended treatment.
    """
    return None


def subject_dates(subject: Any) -> SubjectDates:
    """The subject's anchor dates as the schedule engine reads them.

    The first dose is the planned one until the visits issue records the actual first dose; the
    consent date is the first signed consent's day at the subject's site.
    """
    from edc.consent.selectors import first_consent_date

    return SubjectDates(
        consent=first_consent_date(subject),
        enrollment=subject.enrollment_date,
        first_dose=subject.planned_first_dose,
    )


def study_schedule_params(study: Study, *, horizon: dt.date | None = None) -> ScheduleParams:
    """The study's limits; ``horizon`` (a caller's date) replaces the study's horizon in days."""
    return ScheduleParams(
        max_treatment_days=study.max_treatment_days,
        horizon_days=study.schedule_horizon_days,
        horizon=horizon,
    )
