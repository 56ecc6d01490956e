"""The overdue-visit report: open visits whose window has closed, and visits due in the next days.

Overdue as of a date: planned (neither done, missed nor cancelled), not voided, and the window's
last day is before that date: a window closing today is not overdue. The date is each site's own
today by default (a site in Shanghai may already be a day ahead of one in Lima), or one `as_of`
for all. Due: open visits whose window is still open or opens within the next `due_days` days.

One SQL query, whatever the size of the trial: "each site's today" is no per-site loop but a
condition per calendar date, grouping the site time zones that share today's date (at most three
dates exist on earth at any moment); the rows come with their subject and site in the same query,
read from the partial indexes on open visits (edc/visits/models.py). Scoped to the user's sites.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from edc.core.scoping import scope
from edc.visits.models import OPEN, Visit

OVERDUE = "overdue"
DUE = "due"

COLUMNS = (
    "visit_id",
    "study",
    "site",
    "subject_id",
    "subject",
    "code",
    "name",
    "kind",
    "target_date",
    "window_start",
    "window_end",
    "as_of",
    "days_overdue",
    "state",
)


@dataclass(frozen=True)
class ReportFilters:
    study: Any = None  # a Study (or its pk)
    site: Any = None  # a Site (or its pk)
    kind: str = ""
    min_days_overdue: int = 1  # 1: every visit whose window closed before the day
    max_days_overdue: int | None = None
    as_of: dt.date | None = None  # None: each site's today
    due_days: int = 0  # also list the visits due in the next N days (0: overdue only)


@lru_cache(maxsize=1)
def _zones() -> tuple[str, ...]:
    return tuple(sorted(zoneinfo.available_timezones()))


def zones_by_today(now: dt.datetime | None = None) -> dict[dt.date, list[str]]:
    """Every IANA time zone grouped by its calendar date at `now` (pure; no query).

    Today's offsets are whole quarter hours, so a zone's date only changes on a quarter hour (UTC):
    the grouping is computed once per quarter hour (some 600 conversions) and kept."""
    now = now or timezone.now()
    return _zones_at(int(now.timestamp()) // 900)


@lru_cache(maxsize=8)
def _zones_at(quarter: int) -> dict[dt.date, list[str]]:
    at = dt.datetime.fromtimestamp(quarter * 900, tz=dt.UTC)
    groups: dict[dt.date, list[str]] = {}
    for name in _zones():
        groups.setdefault(at.astimezone(zoneinfo.ZoneInfo(name)).date(), []).append(name)
    return groups


def _per_today(condition: Any, as_of: dt.date | None, now: dt.datetime | None, bound: Any = None) -> Q:
    """`condition(day)` with day = each site's today (or `as_of`), as one Q on the site's time zone.

    The largest group is the fallback (every zone not named by the others), so the statement lists
    the zones of the smaller groups only."""
    if as_of is not None:
        return condition(as_of)
    by_day = zones_by_today(now)
    groups = sorted(by_day.items(), key=lambda item: len(item[1]))
    *others, (fallback_day, _zones_of_fallback) = groups
    named = [zone for _day, zones in others for zone in zones]
    q = condition(fallback_day) & ~Q(site__time_zone__in=named)
    for day, zones in others:
        q |= condition(day) & Q(site__time_zone__in=zones)
    # `bound` at the latest date on earth bounds every site's: the index reads that range only.
    return bound(max(by_day)) & q if bound is not None else q


def overdue_queryset(user: Any, filters: ReportFilters, *, now: dt.datetime | None = None) -> QuerySet[Visit]:
    """The report's rows as one queryset (scoped, filtered, ordered); evaluating it is one query."""
    lo, hi, due = filters.min_days_overdue, filters.max_days_overdue, filters.due_days

    def overdue(day: dt.date) -> Q:
        q = Q(window_end__lte=day - dt.timedelta(days=max(lo, 1)))
        if hi is not None:
            q &= Q(window_end__gte=day - dt.timedelta(days=hi))
        return q

    def due_soon(day: dt.date) -> Q:
        return Q(window_end__gte=day, window_start__lte=day + dt.timedelta(days=due))

    def closed_by(day: dt.date) -> Q:
        return Q(window_end__lte=day - dt.timedelta(days=max(lo, 1)))

    wanted = _per_today(overdue, filters.as_of, now, bound=closed_by)
    if due > 0:
        wanted |= _per_today(due_soon, filters.as_of, now)
    rows: QuerySet[Visit] = Visit.objects.filter(OPEN).filter(wanted)
    if filters.study is not None:
        rows = rows.filter(study=filters.study)
    if filters.site is not None:
        rows = rows.filter(site=filters.site)
    if filters.kind:
        rows = rows.filter(kind=filters.kind)
    if user is not None:  # None: the operator at the server console (a command), as in the services
        rows = scope(rows, user)
    return rows.order_by("window_end", "site_id", "subject_id", "code")


_VALUES = (
    "pk",
    "study__protocol_id",
    "site__code",
    "site__time_zone",
    "subject_id",
    "subject__subject_identifier",
    "subject__screening_number",
    "code",
    "name",
    "kind",
    "target_date",
    "window_start",
    "window_end",
)


def _row(values: tuple[Any, ...], today: dict[str, dt.date], as_of: dt.date | None) -> dict[str, Any]:
    # `values` in _VALUES' order: rows are read as tuples, so a row is built once (one dict each,
    # not a dict from the ORM and then this one: the report's cost at 10,000 subjects).
    pk, protocol, site, zone, subject_id, identifier, screening, code, name, kind, target, start, end = values
    day = as_of or today[zone]
    late = (day - end).days if end is not None else 0
    return {
        "visit_id": str(pk),
        "study": protocol,
        "site": site,
        "subject_id": str(subject_id),
        "subject": identifier or screening,
        "code": code,
        "name": name,
        "kind": kind,
        "target_date": target,
        "window_start": start,
        "window_end": end,
        "as_of": day,
        "days_overdue": max(late, 0),
        "state": OVERDUE if late > 0 else DUE,
    }


class _Today(dict[str, dt.date]):
    """A time zone's today, computed once per zone per report (no query)."""

    def __init__(self, now: dt.datetime) -> None:
        super().__init__()
        self.now = now

    def __missing__(self, zone: str) -> dt.date:
        day = self.now.astimezone(zoneinfo.ZoneInfo(zone)).date()
        self[zone] = day
        return day


def overdue_visits(
    user: Any,
    filters: ReportFilters,
    *,
    offset: int = 0,
    limit: int | None = None,
    now: dt.datetime | None = None,
) -> tuple[list[dict[str, Any]], bool]:
    """The report's rows (a page of them with `limit`) and whether more follow: one query."""
    now = now or timezone.now()
    rows = overdue_queryset(user, filters, now=now).values_list(*_VALUES)
    if limit is not None:
        page = list(rows[offset : offset + limit + 1])
        more = len(page) > limit
        page = page[:limit]
    else:
        page, more = list(rows[offset:]), False
    today = _Today(now)
    return [_row(v, today, filters.as_of) for v in page], more
