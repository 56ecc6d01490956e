"""SAE clocks (edc/safety/sae.py): 24 hours site → sponsor, the sponsor's 7/15-day SUSAR clock (C5),
and the "due now" view in each site's time zone, across time zones and daylight-saving changes.

Asia/Shanghai has no daylight saving (UTC+8 all year). Europe/Berlin changes on 2025-03-30 (02:00 CET
-> 03:00 CEST) and 2025-10-26 (03:00 CEST -> 02:00 CET); America/New_York on 2025-03-09 and 2025-11-02.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edc.safety.sae import (
    DUE,
    DUE_TODAY,
    LATE,
    ON_TIME,
    OVERDUE,
    SITE_TO_SPONSOR,
    SUSAR_FULL,
    SUSAR_INITIAL,
    SUSAR_REPORT,
    SaeClockError,
    SaeClockInput,
    due_now,
    sae_clocks,
    site_report_clock,
    site_report_deadline,
    susar_clocks,
    susar_deadlines,
)

UTC = dt.UTC
SHANGHAI, BERLIN, NEW_YORK = "Asia/Shanghai", "Europe/Berlin", "America/New_York"


def local(zone: str, *args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=ZoneInfo(zone))


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


# --------------------------------------------------------------------------- site -> sponsor, 24 h


def test_the_site_has_24_hours_from_awareness_to_report_to_the_sponsor():
    aware = local(SHANGHAI, 2025, 5, 6, 9, 30)
    assert site_report_deadline(site_aware_at=aware) == local(SHANGHAI, 2025, 5, 7, 9, 30)


@pytest.mark.parametrize(
    ("reported", "status"),
    [
        ((2025, 5, 6, 18, 0), ON_TIME),
        ((2025, 5, 7, 9, 30), ON_TIME),  # at the deadline: within 24 hours
        ((2025, 5, 7, 9, 31), LATE),
    ],
)
def test_a_report_at_the_deadline_is_on_time_and_after_it_late(reported, status):
    clock = site_report_clock(
        site_aware_at=local(SHANGHAI, 2025, 5, 6, 9, 30),
        reported_at=local(SHANGHAI, *reported),
        now=local(SHANGHAI, 2025, 5, 9),
        site_time_zone=SHANGHAI,
    )
    assert clock.status == status
    assert clock.late is (status == LATE)


def test_an_unreported_sae_is_due_until_the_deadline_and_overdue_after_it():
    def status_at(*now: int) -> str:
        return site_report_clock(
            site_aware_at=local(SHANGHAI, 2025, 5, 6, 9, 30),
            reported_at=None,
            now=local(SHANGHAI, *now),
            site_time_zone=SHANGHAI,
        ).status

    assert [status_at(2025, 5, 7, 9, 30), status_at(2025, 5, 7, 9, 30, 1)] == [DUE, OVERDUE]


def test_24_hours_are_elapsed_hours_across_the_spring_change_in_berlin():
    # Aware at noon on Saturday 29 March (CET, UTC+1); the night loses an hour: due at 13:00 CEST.
    aware = local(BERLIN, 2025, 3, 29, 12, 0)
    due = site_report_deadline(site_aware_at=aware)
    assert due == utc(2025, 3, 30, 11, 0)
    assert due.astimezone(ZoneInfo(BERLIN)) == dt.datetime(2025, 3, 30, 13, 0, tzinfo=ZoneInfo(BERLIN))
    clock = site_report_clock(
        site_aware_at=aware, reported_at=local(BERLIN, 2025, 3, 30, 12, 30), now=due, site_time_zone=BERLIN
    )
    assert clock.status == ON_TIME  # 12:30 local on Sunday is 23.5 hours later


def test_24_hours_are_elapsed_hours_across_the_autumn_change_in_new_york():
    # Aware 20:00 EDT on Saturday 1 November; the night gains an hour: due 19:00 EST on Sunday.
    aware = local(NEW_YORK, 2025, 11, 1, 20, 0)
    due = site_report_deadline(site_aware_at=aware)
    assert due.astimezone(ZoneInfo(NEW_YORK)) == dt.datetime(2025, 11, 2, 19, 0, tzinfo=ZoneInfo(NEW_YORK))
    late = site_report_clock(
        site_aware_at=aware,
        reported_at=local(NEW_YORK, 2025, 11, 2, 19, 30),
        now=local(NEW_YORK, 2025, 11, 3),
        site_time_zone=NEW_YORK,
    )
    assert late.status == LATE  # 19:30 EST is 24.5 hours later, though the wall clock says 23.5


def test_the_same_instant_gives_the_same_deadline_whatever_zone_it_is_written_in():
    shanghai = local(SHANGHAI, 2025, 3, 30, 9, 0)
    berlin = shanghai.astimezone(ZoneInfo(BERLIN))
    assert site_report_deadline(site_aware_at=shanghai) == site_report_deadline(site_aware_at=berlin)


def test_a_protocol_may_set_another_limit():
    aware = utc(2025, 1, 1, 0, 0)
    assert site_report_deadline(site_aware_at=aware, limit=dt.timedelta(hours=12)) == utc(2025, 1, 1, 12, 0)


def test_a_report_made_after_the_as_of_instant_is_not_yet_made():
    clock = site_report_clock(
        site_aware_at=utc(2025, 1, 1, 0, 0),
        reported_at=utc(2025, 1, 3, 0, 0),
        now=utc(2025, 1, 2, 6, 0),
        site_time_zone=SHANGHAI,
    )
    assert (clock.status, clock.reported_at, clock.late) == (OVERDUE, None, None)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"site_aware_at": dt.datetime(2025, 1, 1, 8, 0)}, "site_aware_at"),  # noqa: DTZ001 (naive on purpose: refused)
        ({"now": dt.datetime(2025, 1, 2)}, "now"),  # noqa: DTZ001 (naive on purpose: refused)
        ({"reported_at": utc(2024, 12, 31)}, "reported_at"),
        ({"site_time_zone": "Mars/Olympus"}, "site_time_zone"),
        ({"site_time_zone": ""}, "site_time_zone"),
        ({"limit": dt.timedelta(0)}, "limit"),
    ],
)
def test_naive_times_unknown_zones_and_reports_before_awareness_are_refused_by_name(kwargs, field):
    values = {
        "site_aware_at": utc(2025, 1, 1),
        "reported_at": None,
        "now": utc(2025, 1, 2),
        "site_time_zone": SHANGHAI,
    }
    values.update(kwargs)
    with pytest.raises(SaeClockError) as caught:
        site_report_clock(**values)
    assert caught.value.field == field


# --------------------------------------------------------------------------- the sponsor's SUSAR clock


def test_a_fatal_or_life_threatening_susar_is_due_in_7_calendar_days_and_fully_8_days_later():
    due = susar_deadlines(
        sponsor_aware_at=local(SHANGHAI, 2025, 5, 6, 16, 0),
        fatal_or_life_threatening=True,
        sponsor_time_zone=SHANGHAI,
    )
    assert (due.day_zero, due.initial_due, due.full_due) == (
        dt.date(2025, 5, 6),
        dt.date(2025, 5, 13),
        dt.date(2025, 5, 21),
    )


def test_any_other_susar_is_due_in_15_calendar_days():
    due = susar_deadlines(
        sponsor_aware_at=local(SHANGHAI, 2025, 5, 6, 16, 0),
        fatal_or_life_threatening=False,
        sponsor_time_zone=SHANGHAI,
    )
    assert (due.initial_due, due.full_due) == (dt.date(2025, 5, 21), None)


def test_day_zero_is_the_sponsors_calendar_day_not_the_utc_one():
    # 23:30 UTC on 1 March is 07:30 on 2 March in Shanghai: day 0 is 2 March there, 1 March in New York.
    aware = utc(2025, 3, 1, 23, 30)
    in_shanghai = susar_deadlines(
        sponsor_aware_at=aware, fatal_or_life_threatening=True, sponsor_time_zone=SHANGHAI
    )
    in_new_york = susar_deadlines(
        sponsor_aware_at=aware, fatal_or_life_threatening=True, sponsor_time_zone=NEW_YORK
    )
    assert (in_shanghai.day_zero, in_shanghai.initial_due) == (dt.date(2025, 3, 2), dt.date(2025, 3, 9))
    assert (in_new_york.day_zero, in_new_york.initial_due) == (dt.date(2025, 3, 1), dt.date(2025, 3, 8))


def test_a_report_on_the_last_calendar_day_is_on_time_up_to_local_midnight():
    def status(reported: dt.datetime) -> str:
        [initial, _full] = susar_clocks(
            sponsor_aware_at=local(SHANGHAI, 2025, 5, 6, 23, 59),
            fatal_or_life_threatening=True,
            sponsor_time_zone=SHANGHAI,
            now=utc(2025, 6, 1),
            initial_reported_at=reported,
        )
        return initial.status

    assert status(local(SHANGHAI, 2025, 5, 13, 23, 59, 59)) == ON_TIME
    assert status(local(SHANGHAI, 2025, 5, 14, 0, 0)) == LATE


def test_the_sponsors_deadline_is_local_midnight_across_the_spring_change_in_berlin():
    # Day 0 is 25 March (CET); day 7 is 1 April (CEST): due by 2 April 00:00 CEST = 1 April 22:00 UTC.
    [initial, full] = susar_clocks(
        sponsor_aware_at=local(BERLIN, 2025, 3, 25, 10, 0),
        fatal_or_life_threatening=True,
        sponsor_time_zone=BERLIN,
        now=local(BERLIN, 2025, 3, 26),
    )
    assert (initial.clock, initial.due_date, initial.due_at) == (
        SUSAR_INITIAL,
        dt.date(2025, 4, 1),
        utc(2025, 4, 1, 22),
    )
    assert (full.clock, full.due_date, full.due_at) == (SUSAR_FULL, dt.date(2025, 4, 9), utc(2025, 4, 9, 22))
    assert initial.is_late(utc(2025, 4, 1, 21, 59)) is False
    assert initial.is_late(utc(2025, 4, 1, 22, 0)) is True  # 00:00 CEST on 2 April


def test_the_full_report_has_its_own_clock():
    clocks = susar_clocks(
        sponsor_aware_at=utc(2025, 5, 6, 2),
        fatal_or_life_threatening=True,
        sponsor_time_zone=SHANGHAI,
        now=utc(2025, 5, 30),
        initial_reported_at=utc(2025, 5, 8),
    )
    assert [(c.clock, c.status) for c in clocks] == [(SUSAR_INITIAL, ON_TIME), (SUSAR_FULL, OVERDUE)]


def test_a_susar_report_before_the_sponsor_knew_is_refused():
    with pytest.raises(SaeClockError) as caught:
        susar_clocks(
            sponsor_aware_at=utc(2025, 5, 6),
            fatal_or_life_threatening=False,
            sponsor_time_zone=SHANGHAI,
            now=utc(2025, 5, 30),
            initial_reported_at=utc(2025, 5, 5),
        )
    assert caught.value.field == "initial_reported_at"


zones = st.sampled_from([SHANGHAI, BERLIN, NEW_YORK, "UTC", "Australia/Lord_Howe"])
instants = st.datetimes(
    # hypothesis takes naive bounds and attaches `timezones` itself
    min_value=dt.datetime(2024, 1, 1),  # noqa: DTZ001
    max_value=dt.datetime(2027, 1, 1),  # noqa: DTZ001
    timezones=st.just(UTC),
)


@settings(max_examples=300, deadline=None)
@given(aware=instants, zone=zones, fatal=st.booleans())
def test_the_sponsor_clock_always_ends_at_local_midnight_n_calendar_days_after_day_zero(aware, zone, fatal):
    [first, *rest] = susar_clocks(
        sponsor_aware_at=aware, fatal_or_life_threatening=fatal, sponsor_time_zone=zone, now=aware
    )
    day_zero = aware.astimezone(ZoneInfo(zone)).date()
    ends = first.due_at.astimezone(ZoneInfo(zone))
    assert ends.time() == dt.time(0) and ends.date() == day_zero + dt.timedelta(days=8 if fatal else 16)
    assert [c.due_date for c in rest] == ([day_zero + dt.timedelta(days=15)] if fatal else [])


@settings(max_examples=300, deadline=None)
@given(aware=instants, zone=zones)
def test_the_site_deadline_is_always_exactly_24_elapsed_hours_later(aware, zone):
    written = aware.astimezone(ZoneInfo(zone))
    assert site_report_deadline(site_aware_at=written) - aware == dt.timedelta(hours=24)


# --------------------------------------------------------------------------- what is due now


def sae(ref: str, zone: str, aware: dt.datetime, **kwargs: object) -> SaeClockInput:
    return SaeClockInput(ref=ref, site_time_zone=zone, site_aware_at=aware, **kwargs)  # type: ignore[arg-type]


def test_the_due_now_view_lists_unmet_clocks_overdue_first_in_each_sites_time_zone():
    now = utc(2025, 3, 30, 10, 0)  # 18:00 in Shanghai, 12:00 CEST in Berlin, 06:00 EDT in New York
    records = [
        sae("on-time", SHANGHAI, utc(2025, 3, 29, 12), reported_to_sponsor_at=utc(2025, 3, 29, 20)),
        sae("overdue", BERLIN, local(BERLIN, 2025, 3, 29, 9, 0)),  # due 10:00 CEST Sunday = 08:00 UTC
        sae("today", BERLIN, local(BERLIN, 2025, 3, 29, 22, 0)),  # due 23:00 CEST Sunday
        sae("tomorrow", SHANGHAI, local(SHANGHAI, 2025, 3, 30, 9, 0)),  # due 09:00 on Monday in Shanghai
        sae("ny", NEW_YORK, local(NEW_YORK, 2025, 3, 30, 1, 0)),  # due 01:00 EDT on Monday
    ]
    due = due_now(records, now=now)
    assert [(d.ref, d.status) for d in due] == [
        ("overdue", OVERDUE),
        ("today", DUE_TODAY),
        ("tomorrow", DUE),
        ("ny", DUE),
    ]
    overdue, today, tomorrow, _ny = due
    assert overdue.due_local == dt.datetime(2025, 3, 30, 10, 0, tzinfo=overdue.due_local.tzinfo)
    assert overdue.time_left == dt.timedelta(hours=-2)
    assert today.due_local == dt.datetime(2025, 3, 30, 23, 0, tzinfo=today.due_local.tzinfo)
    assert str(tomorrow.due_local.tzinfo) == SHANGHAI and tomorrow.due_local.hour == 9


def test_a_deadline_is_due_today_by_the_sites_date_not_the_servers():
    # 16:30 UTC on 5 May is 00:30 on 6 May in Shanghai: a deadline at 12:00 UTC on 6 May is due today there.
    records = [
        sae("cn", SHANGHAI, utc(2025, 5, 5, 12)),
        sae("us", NEW_YORK, utc(2025, 5, 5, 12)),
    ]
    due = {d.ref: d.status for d in due_now(records, now=utc(2025, 5, 5, 16, 30))}
    assert due == {"cn": DUE_TODAY, "us": DUE}  # 08:00 EDT on 6 May; it is still 5 May in New York


def test_a_susar_shows_the_sponsors_clock_once_the_sponsor_knows():
    record = sae(
        "susar",
        BERLIN,
        utc(2025, 5, 1, 8),
        reported_to_sponsor_at=utc(2025, 5, 1, 20),
        susar=True,
        fatal_or_life_threatening=True,
        sponsor_time_zone=SHANGHAI,
    )
    # Reported at 20:00 UTC = 04:00 on 2 May in Shanghai: day 0 is 2 May, the 7-day report due 9 May.
    clocks = sae_clocks(record, now=utc(2025, 5, 3))
    assert [(c.clock, c.due_date) for c in clocks] == [
        (SITE_TO_SPONSOR, dt.date(2025, 5, 2)),
        (SUSAR_INITIAL, dt.date(2025, 5, 9)),
        (SUSAR_FULL, dt.date(2025, 5, 17)),
    ]
    due = due_now([record], now=local(SHANGHAI, 2025, 5, 9, 12))
    assert [(d.clock, d.status) for d in due] == [(SUSAR_INITIAL, DUE_TODAY), (SUSAR_FULL, DUE)]
    # Shown in the Berlin site's time: midnight in Shanghai is 18:00 CEST.
    assert due[0].due_local == dt.datetime(2025, 5, 9, 18, 0, tzinfo=due[0].due_local.tzinfo)


def test_a_susar_without_a_report_to_the_sponsor_has_no_sponsor_clock_yet():
    record = sae("susar", SHANGHAI, utc(2025, 5, 1, 8), susar=True, sponsor_time_zone=SHANGHAI)
    assert [c.clock for c in sae_clocks(record, now=utc(2025, 5, 1, 9))] == [SITE_TO_SPONSOR]


def test_a_recorded_sponsor_awareness_starts_the_clock_and_a_non_fatal_susar_has_one_report():
    record = sae(
        "susar",
        SHANGHAI,
        utc(2025, 5, 1, 8),
        reported_to_sponsor_at=utc(2025, 5, 1, 9),
        susar=True,
        sponsor_aware_at=utc(2025, 4, 30, 12),
        sponsor_time_zone=SHANGHAI,
    )
    [_site, report] = sae_clocks(record, now=utc(2025, 5, 2))
    assert (report.clock, report.due_date) == (SUSAR_REPORT, dt.date(2025, 5, 15))


def test_a_susar_needs_the_sponsors_time_zone():
    record = sae("s", SHANGHAI, utc(2025, 5, 1, 8), reported_to_sponsor_at=utc(2025, 5, 1, 9), susar=True)
    with pytest.raises(SaeClockError) as caught:
        sae_clocks(record, now=utc(2025, 5, 2))
    assert caught.value.field == "sponsor_time_zone"


def test_the_due_now_view_can_look_only_so_far_ahead():
    records = [sae("soon", SHANGHAI, utc(2025, 5, 1, 0)), sae("later", SHANGHAI, utc(2025, 5, 1, 20))]
    due = due_now(records, now=utc(2025, 5, 1, 21), within=dt.timedelta(hours=6))
    assert [d.ref for d in due] == ["soon"]


def test_an_as_of_view_of_a_past_instant_shows_what_was_due_then():
    record = sae("x", SHANGHAI, utc(2025, 5, 1, 0), reported_to_sponsor_at=utc(2025, 5, 1, 12))
    assert [d.ref for d in due_now([record], now=utc(2025, 5, 1, 6))] == ["x"]
    assert due_now([record], now=utc(2025, 5, 1, 13)) == ()
