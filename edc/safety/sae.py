"""Serious adverse event clocks: the site's 24 hours to report to the sponsor, the sponsor's SUSAR clock,
and what is due now, shown in each site's time zone.

Pure module (no Django): every instant is an argument (``now`` included), every time zone a name.
Source: docs/domain/response-criteria.md C5 (ICH E2A; China GCP 2020; CDE rapid-reporting rules 2018;
21 CFR 312.32), issue 20 item 3.

Rules:

1. **Site → sponsor: 24 hours** from the moment the site became aware (China GCP 2020, "unless the
   protocol sets another limit": ``limit`` is an argument, 24 hours by default). Elapsed time, not
   wall-clock time: the deadline is ``site_aware_at + 24 h`` computed on UTC instants, so across a
   daylight-saving change the local clock reads an hour more or less (Berlin, aware 12:00 on the
   Saturday before the spring change: due 13:00 on Sunday, local time). A report at the deadline is on
   time; one after it is late.
2. **Sponsor → regulator, SUSARs** (ICH E2A as in C5): fatal or life-threatening: the initial report
   within **7 calendar days**, and "as complete a report as possible within 8 additional calendar days",
   read as 8 days after the 7-day deadline (day 15); any other SUSAR: **15 calendar days**. Day 0 is the
   calendar day the sponsor first learned of the event (C5). Choice, as C5 does not say in which time
   zone calendar days are counted: **the sponsor's** (the sponsor files with its own regulator, and a
   calendar day is the sponsor's day), given as ``sponsor_time_zone``. Day 0 is the sponsor-local date
   of ``sponsor_aware_at``; the report is on time when it is made on or before day 0 + N in that zone,
   i.e. before local midnight ending that day (``due_at``), which a daylight-saving change does not move.
   When ``sponsor_aware_at`` is not recorded, the site's report to the sponsor is when the sponsor
   learned (that report is how the sponsor learns); the sponsor clock does not run before either.
3. **Due now** (``due_now``): as of the instant ``now``, every clock that has not been met (no report
   made at or before ``now``), overdue first then by deadline, each shown in its site's time zone:
   ``overdue`` once the deadline has passed, ``due_today`` when it falls on the site's local date of
   ``now``, else ``due``. A report time after ``now`` counts as not yet made, so an "as of" view of a
   past instant shows what was due then.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

UTC: Final = dt.UTC
SITE_REPORT_LIMIT: Final = dt.timedelta(hours=24)
SUSAR_FATAL_DAYS: Final = 7
SUSAR_FATAL_FULL_REPORT_EXTRA_DAYS: Final = 8
SUSAR_OTHER_DAYS: Final = 15

# clocks
SITE_TO_SPONSOR: Final = "site_to_sponsor"
SUSAR_INITIAL: Final = "susar_initial"
SUSAR_FULL: Final = "susar_full"
SUSAR_REPORT: Final = "susar_report"

# statuses
ON_TIME: Final = "on_time"
LATE: Final = "late"
DUE: Final = "due"
DUE_TODAY: Final = "due_today"
OVERDUE: Final = "overdue"


class SaeClockError(ValueError):
    """An input a clock cannot run on; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _instant(field: str, value: dt.datetime) -> dt.datetime:
    if not isinstance(value, dt.datetime):
        raise SaeClockError(field, f"{value!r} is not a date and time")
    if value.tzinfo is None or value.utcoffset() is None:
        raise SaeClockError(field, "needs a time zone (a naive time is ambiguous)")
    return value.astimezone(UTC)


def _optional_instant(field: str, value: dt.datetime | None) -> dt.datetime | None:
    return None if value is None else _instant(field, value)


def zone(name: str, field: str = "time_zone") -> ZoneInfo:
    """The IANA time zone ``name`` (Asia/Shanghai, Europe/Berlin ...)."""
    if not isinstance(name, str) or not name.strip():
        raise SaeClockError(field, "a time zone name is required")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise SaeClockError(field, f"{name!r} is not a known time zone") from None


@dataclass(frozen=True)
class Deadline:
    """One reporting clock of one SAE."""

    clock: str
    due_at: dt.datetime
    """UTC. Site clock: the last instant that is on time. Calendar clocks: local midnight ending
    ``due_date``, the first instant that is late."""
    due_date: dt.date
    """The due day in ``time_zone`` (the site's for the site clock, the sponsor's for a SUSAR)."""
    time_zone: str
    calendar_days: bool
    reported_at: dt.datetime | None
    status: str

    def is_late(self, at: dt.datetime) -> bool:
        """Whether a report made at ``at`` misses this deadline."""
        return _late(_instant("at", at), self.due_at, calendar_days=self.calendar_days)

    @property
    def late(self) -> bool | None:
        """True/False once reported; None while not reported."""
        return None if self.reported_at is None else self.status == LATE


def _late(at: dt.datetime, due_at: dt.datetime, *, calendar_days: bool) -> bool:
    # Elapsed-time clocks include their deadline instant; calendar clocks end before local midnight.
    return at >= due_at if calendar_days else at > due_at


def _status(
    due_at: dt.datetime, reported_at: dt.datetime | None, now: dt.datetime, *, calendar_days: bool
) -> str:
    if reported_at is not None:
        return LATE if _late(reported_at, due_at, calendar_days=calendar_days) else ON_TIME
    return OVERDUE if _late(now, due_at, calendar_days=calendar_days) else DUE


def _made_by(reported_at: dt.datetime | None, now: dt.datetime) -> dt.datetime | None:
    # A report after `now` has not been made yet, as of `now`.
    return reported_at if reported_at is not None and reported_at <= now else None


def site_report_deadline(
    *, site_aware_at: dt.datetime, limit: dt.timedelta = SITE_REPORT_LIMIT
) -> dt.datetime:
    """When the site's report to the sponsor is due: ``limit`` (24 h) after awareness, in UTC."""
    if limit <= dt.timedelta(0):
        raise SaeClockError("limit", "must be a positive length of time")
    return _instant("site_aware_at", site_aware_at) + limit


def site_report_clock(
    *,
    site_aware_at: dt.datetime,
    reported_at: dt.datetime | None,
    now: dt.datetime,
    site_time_zone: str,
    limit: dt.timedelta = SITE_REPORT_LIMIT,
) -> Deadline:
    """The site → sponsor clock as of ``now``: on time, late, due or overdue."""
    aware = _instant("site_aware_at", site_aware_at)
    now = _instant("now", now)
    reported = _optional_instant("reported_at", reported_at)
    tz = zone(site_time_zone, "site_time_zone")
    if reported is not None and reported < aware:
        raise SaeClockError("reported_at", "is before the site became aware of the event")
    due_at = site_report_deadline(site_aware_at=aware, limit=limit)
    made = _made_by(reported, now)
    status = _status(due_at, made, now, calendar_days=False)
    return Deadline(
        clock=SITE_TO_SPONSOR,
        due_at=due_at,
        due_date=due_at.astimezone(tz).date(),
        time_zone=site_time_zone,
        calendar_days=False,
        reported_at=made,
        status=status,
    )


@dataclass(frozen=True)
class SusarDeadlines:
    day_zero: dt.date
    """The sponsor-local date the sponsor first learned of the event."""
    initial_due: dt.date
    """Fatal or life-threatening: day 0 + 7; otherwise day 0 + 15 (the only report)."""
    full_due: dt.date | None
    """Fatal or life-threatening: day 0 + 7 + 8; otherwise None."""
    time_zone: str


def susar_deadlines(
    *, sponsor_aware_at: dt.datetime, fatal_or_life_threatening: bool, sponsor_time_zone: str
) -> SusarDeadlines:
    """The sponsor's calendar-day deadlines for a SUSAR, counted from day 0 in the sponsor's zone."""
    tz = zone(sponsor_time_zone, "sponsor_time_zone")
    day_zero = _instant("sponsor_aware_at", sponsor_aware_at).astimezone(tz).date()
    if fatal_or_life_threatening:
        initial = day_zero + dt.timedelta(days=SUSAR_FATAL_DAYS)
        full = initial + dt.timedelta(days=SUSAR_FATAL_FULL_REPORT_EXTRA_DAYS)
        return SusarDeadlines(day_zero, initial, full, sponsor_time_zone)
    return SusarDeadlines(day_zero, day_zero + dt.timedelta(days=SUSAR_OTHER_DAYS), None, sponsor_time_zone)


def end_of_day(day: dt.date, time_zone: str) -> dt.datetime:
    """Local midnight ending ``day`` in ``time_zone``, in UTC (the first instant of the next day)."""
    tz = zone(time_zone)
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=tz).astimezone(UTC)


def _calendar_clock(
    clock: str, due: dt.date, time_zone: str, reported_at: dt.datetime | None, now: dt.datetime
) -> Deadline:
    due_at = end_of_day(due, time_zone)
    made = _made_by(reported_at, now)
    return Deadline(
        clock=clock,
        due_at=due_at,
        due_date=due,
        time_zone=time_zone,
        calendar_days=True,
        reported_at=made,
        status=_status(due_at, made, now, calendar_days=True),
    )


def susar_clocks(
    *,
    sponsor_aware_at: dt.datetime,
    fatal_or_life_threatening: bool,
    sponsor_time_zone: str,
    now: dt.datetime,
    initial_reported_at: dt.datetime | None = None,
    full_reported_at: dt.datetime | None = None,
) -> tuple[Deadline, ...]:
    """The sponsor's SUSAR clocks as of ``now``: the 7-day and the full report, or the one 15-day report."""
    aware = _instant("sponsor_aware_at", sponsor_aware_at)
    now = _instant("now", now)
    initial = _optional_instant("initial_reported_at", initial_reported_at)
    full = _optional_instant("full_reported_at", full_reported_at)
    for field, value in (("initial_reported_at", initial), ("full_reported_at", full)):
        if value is not None and value < aware:
            raise SaeClockError(field, "is before the sponsor learned of the event")
    due = susar_deadlines(
        sponsor_aware_at=aware,
        fatal_or_life_threatening=fatal_or_life_threatening,
        sponsor_time_zone=sponsor_time_zone,
    )
    if due.full_due is None:
        return (_calendar_clock(SUSAR_REPORT, due.initial_due, sponsor_time_zone, initial, now),)
    return (
        _calendar_clock(SUSAR_INITIAL, due.initial_due, sponsor_time_zone, initial, now),
        _calendar_clock(SUSAR_FULL, due.full_due, sponsor_time_zone, full, now),
    )


# --------------------------------------------------------------------------- due now


@dataclass(frozen=True)
class SaeClockInput:
    """What the clocks of one SAE need; ``ref`` is the caller's key (the SAE's id)."""

    ref: str
    site_time_zone: str
    site_aware_at: dt.datetime
    reported_to_sponsor_at: dt.datetime | None = None
    susar: bool = False
    fatal_or_life_threatening: bool = False
    sponsor_time_zone: str | None = None
    sponsor_aware_at: dt.datetime | None = None
    """None: the site's report to the sponsor is when the sponsor learned."""
    susar_initial_reported_at: dt.datetime | None = None
    susar_full_reported_at: dt.datetime | None = None


def sae_clocks(
    record: SaeClockInput, *, now: dt.datetime, site_limit: dt.timedelta = SITE_REPORT_LIMIT
) -> tuple[Deadline, ...]:
    """Every clock of one SAE as of ``now``: the site's, and the sponsor's once it runs (SUSARs)."""
    now = _instant("now", now)
    clocks = [
        site_report_clock(
            site_aware_at=record.site_aware_at,
            reported_at=record.reported_to_sponsor_at,
            now=now,
            site_time_zone=record.site_time_zone,
            limit=site_limit,
        )
    ]
    if record.susar:
        sponsor_aware = record.sponsor_aware_at or record.reported_to_sponsor_at
        if sponsor_aware is not None and _instant("sponsor_aware_at", sponsor_aware) <= now:
            if record.sponsor_time_zone is None:
                raise SaeClockError("sponsor_time_zone", "a SUSAR's clock needs the sponsor's time zone")
            clocks.extend(
                susar_clocks(
                    sponsor_aware_at=sponsor_aware,
                    fatal_or_life_threatening=record.fatal_or_life_threatening,
                    sponsor_time_zone=record.sponsor_time_zone,
                    now=now,
                    initial_reported_at=record.susar_initial_reported_at,
                    full_reported_at=record.susar_full_reported_at,
                )
            )
    return tuple(clocks)


@dataclass(frozen=True)
class DueItem:
    ref: str
    clock: str
    status: str
    """``overdue``, ``due_today`` (on the site's local date of now) or ``due``."""
    due_at: dt.datetime
    due_local: dt.datetime
    """``due_at`` in the site's time zone."""
    site_time_zone: str
    time_left: dt.timedelta
    """Negative once overdue."""


def due_now(
    records: Iterable[SaeClockInput],
    *,
    now: dt.datetime,
    within: dt.timedelta | None = None,
    site_limit: dt.timedelta = SITE_REPORT_LIMIT,
) -> tuple[DueItem, ...]:
    """The unmet clocks as of ``now`` (overdue first, then by deadline); ``within`` limits how far ahead."""
    now = _instant("now", now)
    items = []
    for record in records:
        tz = zone(record.site_time_zone, "site_time_zone")
        today = now.astimezone(tz).date()
        for clock in sae_clocks(record, now=now, site_limit=site_limit):
            if clock.status not in (DUE, OVERDUE):
                continue
            left = clock.due_at - now
            if within is not None and clock.status == DUE and left > within:
                continue
            local = clock.due_at.astimezone(tz)
            if clock.status == OVERDUE:
                status = OVERDUE
            else:
                # A calendar deadline's due_at is midnight ending the due day: its day is the one before.
                local_day = (
                    (local - dt.timedelta(microseconds=1)).date() if clock.calendar_days else local.date()
                )
                status = DUE_TODAY if local_day == today else DUE
            items.append(
                DueItem(
                    ref=record.ref,
                    clock=clock.clock,
                    status=status,
                    due_at=clock.due_at,
                    due_local=local,
                    site_time_zone=record.site_time_zone,
                    time_left=left,
                )
            )
    return tuple(sorted(items, key=lambda item: (item.status != OVERDUE, item.due_at, item.ref, item.clock)))
