"""What "today" is for a record: the calendar date at its site.

Dates of clinical events are the site's calendar dates, so a check against "today" uses the site's
date (``Site.today()``, in the site's time zone), never the server's. A record that knows no site
(a study-wide definition, a value checked before a site is chosen) is checked against the latest
date anywhere on earth: no site can be ahead of it, so a date that is already today at some site is
never refused as a future date.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from django.utils import timezone

# The Line Islands (Kiribati, UTC+14) reach each date first: no time zone is further ahead.
EARTH_LATEST = dt.timezone(dt.timedelta(hours=14), "UTC+14")


class _HasToday(Protocol):
    def today(self, now: dt.datetime | None = None) -> dt.date: ...


def latest_today(now: dt.datetime | None = None) -> dt.date:
    """The latest calendar date anywhere on earth at ``now`` (default: the current time)."""
    return (now or timezone.now()).astimezone(EARTH_LATEST).date()


def today_for(record: object | None, now: dt.datetime | None = None) -> dt.date:
    """The date at the record's site (a record with a ``site`` that has ``today()``), else the
    latest date on earth."""
    if record is not None and getattr(record, "site_id", None) is not None:
        site: _HasToday | None = getattr(record, "site", None)
        if site is not None:
            return site.today(now)
    return latest_today(now)
