"""Reads for the visit schedule: a study's visit definitions as the pure engine's specs."""

from __future__ import annotations

import datetime as dt
from typing import Any

from edc.visits.schedule import ScheduleParams, VisitDefinitionSpec
from studies.selectors import study_lookup

__all__ = ["study_lookup", "study_schedule_params", "study_visit_specs", "visit_spec_from_row"]


def _int_or_none(value: Any) -> int | None:
    return None if value in (None, "") else int(value)


def visit_spec_from_row(row: Any) -> VisitDefinitionSpec:
    """One VisitDefinition row as a spec; blank optional fields take the contract's defaults."""
    return VisitDefinitionSpec(
        code=row.code,
        name=row.name,
        kind=str(row.kind),
        series=getattr(row, "series", "") or "",
        anchor=str(getattr(row, "anchor", "") or "first_dose"),
        repeat_from=str(getattr(row, "repeat_from", "") or "anchor"),
        offset_days=int(getattr(row, "offset_days", 0) or 0),
        window_before_days=int(getattr(row, "window_before_days", 0) or 0),
        window_after_days=int(getattr(row, "window_after_days", 0) or 0),
        repeat_interval_days=_int_or_none(getattr(row, "repeat_interval_days", None)),
        repeat_until_day=_int_or_none(getattr(row, "repeat_until_day", None)),
        repeat_count=_int_or_none(getattr(row, "repeat_count", None)),
        on_end_of_treatment=str(getattr(row, "on_end_of_treatment", "") or "continue"),
        phase=_phase_code(getattr(row, "phase", None)),
        order=int(getattr(row, "order", 0) or 0),
    )


def _phase_code(phase: Any) -> str:
    if phase is None:
        return ""
    return str(getattr(phase, "code", phase))


def study_visit_specs(study: Any) -> list[VisitDefinitionSpec]:
    """The study's visit definitions, in definition order."""
    rows = study.visit_definitions.select_related("phase")
    specs = [visit_spec_from_row(row) for row in rows]
    return sorted(specs, key=lambda s: (s.order, s.code))


def study_schedule_params(study: Any, *, horizon: dt.date | None = None) -> ScheduleParams:
    """The study's limits; ``horizon`` (a caller's date) replaces the study's horizon in days."""
    return ScheduleParams(
        max_treatment_days=_int_or_none(getattr(study, "max_treatment_days", None)),
        horizon_days=_int_or_none(getattr(study, "schedule_horizon_days", None)),
        horizon=horizon,
    )
