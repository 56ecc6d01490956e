"""Partial-date imputation for times computed from dates known only in part (OS, PFS, durations).

Pure module (no Django); the floor is an argument. Source: issue 19 item 5 ("missing day: the first of
the month, but never before the last date the subject was known alive or assessed ... marked as
imputed in every output"); built on ``edc.core.partial_dates`` (its START reading).

Rule (``impute``):

1. A complete date is used as recorded (not imputed).
2. A missing day is the first of the month; a missing month and day, 1 January of the year.
3. Floor: the imputed date is never before ``floor`` (the last date the subject was known alive, or
   last assessed; the caller says which in ``floor_label``). When the floor falls inside the recorded
   month (or year) and after the first day, the imputed date is the floor itself (the subject may have
   died on the day last seen alive). The imputed date never leaves what was recorded: when the whole
   recorded period lies before the floor, the records contradict each other; the first-day date is kept
   and ``conflict`` is set for the caller to raise a query. A complete date before the floor is also a
   ``conflict`` (the date is still used as recorded: it was not imputed).
4. Every result says whether it was imputed (``imputed``, ``flag`` = "imputed"), how (``dtf``, the
   CDISC ADaM date imputation flag: "D" day imputed, "M" month and day imputed, "" none) and why, in
   words (``description``). A time computed from two dates (``interval``) is imputed when either is.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Final

from edc.core.partial_dates import PartialDate

IMPUTED: Final = "imputed"
DEFAULT_FLOOR_LABEL: Final = "the last date known alive or assessed"


@dataclass(frozen=True)
class ImputedDate:
    date: dt.date
    recorded: str
    """The date as recorded: "2025", "2025-03" or "2025-03-17"."""
    imputed: bool
    dtf: str
    """CDISC ADaM date imputation flag: "D" (day), "M" (month and day) or "" (not imputed)."""
    floored: bool
    """Raised to the floor."""
    conflict: bool
    """The recorded date lies wholly before the floor."""
    description: str

    @property
    def flag(self) -> str:
        return IMPUTED if self.imputed else ""


def impute(
    value: PartialDate | str | dt.date,
    *,
    floor: dt.date | None = None,
    floor_label: str = DEFAULT_FLOOR_LABEL,
) -> ImputedDate:
    """The date to compute with for ``value``, by the rule above, and how it was obtained."""
    recorded = PartialDate.parse(value)
    text = recorded.isoformat()
    floor_words = f"{floor_label} ({floor.isoformat()})" if floor is not None else ""
    if recorded.is_complete:
        date = recorded.earliest()
        conflict = floor is not None and date < floor
        words = f"{text} as recorded"
        if conflict:
            words += f"; it is before {floor_words}"
        return ImputedDate(date, text, False, "", False, conflict, words)

    first = recorded.earliest()
    dtf = "D" if recorded.month is not None else "M"
    missing = "day missing: the first of the month" if dtf == "D" else "month and day missing: 1 January"
    date, floored, conflict = first, False, False
    if floor is not None and floor > first:
        if floor <= recorded.latest():
            date, floored = floor, True
        else:
            conflict = True
    words = f"{text} imputed as {date.isoformat()} ({missing}"
    if floored:
        words += f", raised to {floor_words}"
    words += ")"
    if conflict:
        words += f"; the recorded {text} is wholly before {floor_words}"
    return ImputedDate(date, text, True, dtf, floored, conflict, words)


@dataclass(frozen=True)
class ImputedInterval:
    start: ImputedDate
    end: ImputedDate
    days: int
    """end − start in days (negative when the end is before the start)."""
    imputed: bool
    description: str

    @property
    def flag(self) -> str:
        return IMPUTED if self.imputed else ""


def interval(start: ImputedDate, end: ImputedDate) -> ImputedInterval:
    """The time from ``start`` to ``end``, imputed when either date was."""
    days = (end.date - start.date).days
    notes = [d.description for d in (start, end) if d.imputed]
    words = f"{days} days from {start.date.isoformat()} to {end.date.isoformat()}"
    if notes:
        words += f", imputed: {'; '.join(notes)}"
    return ImputedInterval(start, end, days, bool(notes), words)
