"""The SAE clocks as the product runs them (edc/safety/sae.py fed from stored SAEs): the site's 24
hours on time and late, each site's time zone, a daylight-saving change, the SUSAR sponsor clock."""

from __future__ import annotations

import dataclasses
import datetime as dt

from edc.safety import sae as clocks
from edc.safety import services
from edc.safety.reports import sae_due_now
from edc.safety.services import AttributionIn
from tests.factories import SiteFactory, UserFactory
from tests.safety.conftest import FIRST_DOSE, SEED000_AGENTS, term, unrelated

UTC = dt.UTC


def _sae(world, subject, aware, **values):
    values.setdefault("attributions", unrelated(*SEED000_AGENTS))
    values.setdefault("seriousness", ["hospitalisation"])
    return services.adverse_event_create(
        user=None,
        subject=subject,
        ctcae_term=term("Lung infection"),
        onset=FIRST_DOSE + dt.timedelta(days=5),
        grade=3,
        outcome="RECOVERING",
        immune_related=False,
        serious=True,
        site_aware_at=aware,
        **values,
    )


def _site_clock(ae, now):
    return clocks.sae_clocks(services.sae_clock_input(ae), now=now)[0]


def test_a_report_within_24_hours_is_on_time_and_one_after_is_late(seed000):
    aware = dt.datetime(2025, 3, 21, 1, 0, tzinfo=UTC)
    on_time = _sae(seed000, seed000.subject(), aware)
    services.sae_report_submit(user=None, ae=on_time, reported_at=aware + dt.timedelta(hours=24))
    on_time.refresh_from_db()
    assert _site_clock(on_time, aware + dt.timedelta(days=3)).status == clocks.ON_TIME
    late = _sae(seed000, seed000.subject(), aware)
    services.sae_report_submit(user=None, ae=late, reported_at=aware + dt.timedelta(hours=24, minutes=1))
    late.refresh_from_db()
    assert _site_clock(late, aware + dt.timedelta(days=3)).status == clocks.LATE


def test_the_due_list_shows_each_deadline_in_its_sites_time_zone_across_a_dst_change(seed000):
    berlin = SiteFactory(study=seed000.study, code="BER", time_zone="Europe/Berlin")
    world_berlin = dataclasses.replace(seed000, site=berlin)
    # Saturday 29 March 2025, 12:00 in Berlin (CET); clocks go forward that night.
    aware_berlin = dt.datetime(2025, 3, 29, 11, 0, tzinfo=UTC)
    in_berlin = _sae(world_berlin, world_berlin.subject(), aware_berlin)
    aware_shanghai = dt.datetime(2025, 3, 29, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
    in_shanghai = _sae(seed000, seed000.subject(), aware_shanghai)
    due = sae_due_now(user=UserFactory(is_superuser=True), now=dt.datetime(2025, 3, 29, 20, 0, tzinfo=UTC))
    shown = {item["adverse_event"]: item for item in due}
    # 24 elapsed hours: 13:00 on Sunday by Berlin's clock (CEST), 12:00 on Sunday in Shanghai.
    assert shown[in_berlin.pk]["due_local"] == "2025-03-30T13:00:00+02:00"
    assert shown[in_shanghai.pk]["due_local"] == "2025-03-30T12:00:00+08:00"
    assert [item["adverse_event"] for item in due] == [in_shanghai.pk, in_berlin.pk]  # by deadline
    # 20:00 UTC is already Sunday 04:00 in Shanghai (due today there), still Saturday 21:00 in Berlin.
    assert {k: v["status"] for k, v in shown.items()} == {
        in_shanghai.pk: clocks.DUE_TODAY,
        in_berlin.pk: clocks.DUE,
    }
    later = sae_due_now(user=UserFactory(is_superuser=True), now=dt.datetime(2025, 3, 30, 3, 0, tzinfo=UTC))
    statuses = {item["adverse_event"]: item["status"] for item in later}
    assert statuses == {in_shanghai.pk: clocks.DUE_TODAY, in_berlin.pk: clocks.DUE_TODAY}


def test_a_fatal_susar_runs_the_sponsors_7_and_15_day_clocks(seed000):
    aware = dt.datetime(2025, 3, 21, 1, 0, tzinfo=UTC)
    attributions = [AttributionIn("camrelizumab", "PROBABLE", "WITHDRAWN", expected=False),
                    *unrelated("bevacizumab", "capecitabine")]  # fmt: skip
    ae = _sae(seed000, seed000.subject(), aware, attributions=attributions,
              seriousness=["hospitalisation", "life_threatening"])  # fmt: skip
    assert ae.susar
    services.sae_report_submit(user=None, ae=ae, reported_at=aware + dt.timedelta(hours=3))
    ae.refresh_from_db()
    found = clocks.sae_clocks(services.sae_clock_input(ae), now=aware + dt.timedelta(days=1))
    assert [(c.clock, c.due_date) for c in found[1:]] == [
        (clocks.SUSAR_INITIAL, dt.date(2025, 3, 28)),
        (clocks.SUSAR_FULL, dt.date(2025, 4, 5)),
    ]


def test_a_follow_up_report_keeps_the_sae_as_it_stood(seed000):
    aware = dt.datetime(2025, 3, 21, 1, 0, tzinfo=UTC)
    ae = _sae(seed000, seed000.subject(), aware)
    first = services.sae_report_submit(user=None, ae=ae, reported_at=aware + dt.timedelta(hours=5))
    ae = services.ae_grade_add(
        user=None, ae=ae, on=FIRST_DOSE + dt.timedelta(days=7), grade=4,
        reason=services.ChangeReason("source_updated", "ICU"),
    )  # fmt: skip
    follow = services.sae_report_submit(user=None, ae=ae, reported_at=aware + dt.timedelta(days=2))
    assert (first.sequence, first.snapshot["worst_grade"]) == (0, 3)
    assert (follow.sequence, follow.kind, follow.snapshot["worst_grade"]) == (1, "follow_up", 4)
