"""The overdue-visit report: exact rows for a small hand-built trial, each site's own today, the
user's sites only, one query whatever the number of subjects; its API (JSON, CSV) and command."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from edc.core.services import record_bulk_create
from edc.visits import reports
from edc.visits.models import Visit, VisitStatus
from studies.models import Site
from tests.factories import screen_subject

pytestmark = pytest.mark.django_db

# 2026-12-01 02:00 UTC: 10:00 on 1 December in Shanghai, 21:00 on 30 November in Lima.
NOW = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)
DEC1, NOV30 = dt.date(2026, 12, 1), dt.date(2026, 11, 30)


def _visit(subject, code, end, status=VisitStatus.PLANNED, kind="treatment"):
    v = Visit(
        study=subject.study,
        site=subject.site,
        subject=subject,
        code=code,
        name=code,
        kind=kind,
        target_date=end - dt.timedelta(days=2),
        window_start=end - dt.timedelta(days=4),
        window_end=end,
        status=status,
    )
    if status == VisitStatus.DONE:
        v.visit_date = v.target_date
    if status == VisitStatus.MISSED:
        v.missed_reason = "away"
    return v


@pytest.fixture
def world(trial):
    Site.objects.filter(pk=trial.site_b.pk).update(time_zone="America/Lima")
    trial.site_b.refresh_from_db()
    a = screen_subject(trial.site_a)
    b = screen_subject(trial.site_b)
    record_bulk_create(
        [
            _visit(a, "C1", NOV30),  # closed yesterday in Shanghai: 1 day overdue
            _visit(a, "C2", DEC1),  # closes today: not overdue
            _visit(a, "C3", NOV30 - dt.timedelta(days=9), kind="imaging"),  # 10 days overdue
            _visit(a, "C4", NOV30, status=VisitStatus.DONE),
            _visit(a, "C5", NOV30, status=VisitStatus.MISSED),
            _visit(a, "C6", NOV30, status=VisitStatus.CANCELLED),
            _visit(a, "C7", DEC1 + dt.timedelta(days=5)),  # due within 7 days
            _visit(b, "C1", NOV30),  # closes today in Lima (still 30 November there): not overdue
            _visit(b, "C2", NOV30 - dt.timedelta(days=1)),  # 1 day overdue in Lima
        ],
        user=None,
    )
    return trial, a, b


def _codes(rows):
    return [(r["site"], r["code"], r["days_overdue"], r["state"]) for r in rows]


def test_exactly_the_open_visits_whose_window_closed_before_each_sites_today(world):
    trial = world[0]
    rows, more = reports.overdue_visits(None, reports.ReportFilters(study=trial.study), now=NOW)
    assert sorted(_codes(rows)) == sorted(
        [("01", "C3", 10, "overdue"), ("01", "C1", 1, "overdue"), ("02", "C2", 1, "overdue")]
    )
    assert not more
    assert {r["as_of"] for r in rows if r["site"] == "02"} == {NOV30}


def test_one_as_of_date_for_every_site(world):
    trial = world[0]
    rows, _ = reports.overdue_visits(None, reports.ReportFilters(study=trial.study, as_of=DEC1), now=NOW)
    assert ("02", "C1", 1, "overdue") in _codes(rows)


def test_filters_by_site_kind_days_overdue_and_the_visits_due_soon(world):
    trial = world[0]
    f = reports.ReportFilters
    rows, _ = reports.overdue_visits(None, f(study=trial.study, site=trial.site_a, kind="imaging"), now=NOW)
    assert _codes(rows) == [("01", "C3", 10, "overdue")]
    rows, _ = reports.overdue_visits(None, f(study=trial.study, min_days_overdue=5), now=NOW)
    assert _codes(rows) == [("01", "C3", 10, "overdue")]
    rows, _ = reports.overdue_visits(None, f(study=trial.study, max_days_overdue=1), now=NOW)
    assert sorted(_codes(rows)) == [("01", "C1", 1, "overdue"), ("02", "C2", 1, "overdue")]
    rows, _ = reports.overdue_visits(None, f(study=trial.study, site=trial.site_a, due_days=7), now=NOW)
    assert ("01", "C7", 0, "due") in _codes(rows) and ("01", "C2", 0, "due") in _codes(rows)


def test_a_coordinator_sees_their_sites_only(world):
    trial = world[0]
    rows, _ = reports.overdue_visits(trial.coordinator, reports.ReportFilters(study=trial.study), now=NOW)
    assert {r["site"] for r in rows} == {"01"}
    rows, _ = reports.overdue_visits(trial.monitor, reports.ReportFilters(study=trial.study), now=NOW)
    assert {r["site"] for r in rows} == {"01", "02"}


def test_the_report_is_one_query_whatever_the_number_of_subjects(world):
    trial = world[0]
    for n in (1, 6):
        for _ in range(n):
            s = screen_subject(trial.site_a)
            record_bulk_create([_visit(s, "C1", NOV30 - dt.timedelta(days=3))], user=None)
        with CaptureQueriesContext(connection) as ctx:
            rows, _ = reports.overdue_visits(
                trial.coordinator, reports.ReportFilters(study=trial.study), now=NOW
            )
        assert len(ctx.captured_queries) == 1
    assert len(rows) == 2 + 7


def test_the_api_answers_json_pages_and_csv(world):
    trial = world[0]
    client = APIClient()
    client.force_authenticate(trial.coordinator)
    url = "/api/reports/overdue-visits/"
    body = client.get(url, {"study": trial.study.pk, "as_of": "2026-12-01", "limit": 1}).json()
    assert len(body["results"]) == 1 and body["next_offset"] == 1
    csv = client.get(url, {"study": trial.study.pk, "as_of": "2026-12-01", "format": "csv"})
    assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")
    lines = csv.content.decode().splitlines()
    assert lines[0].startswith("visit_id,study,site") and len(lines) == 3
    bad = client.get(url, {"as_of": "yesterday", "format": "csv"})
    assert bad.status_code == 400 and "as_of" in bad.content.decode()
    assert client.get(url, {"colour": "red"}).status_code == 400


def test_the_command_prints_csv_json_or_a_table_and_names_a_bad_option(world):
    out = StringIO()
    call_command(
        "overdue_visits", "--study", "JOURNEY", "--as-of", "2026-12-01", "--format", "csv", stdout=out
    )
    assert len(out.getvalue().splitlines()) == 1 + 4
    out = StringIO()
    call_command("overdue_visits", "--study", "JOURNEY", "--site", "02", "--as-of", "2026-12-01", stdout=out)
    assert "2 visits" in out.getvalue()
    with pytest.raises(CommandError, match="--as-of"):
        call_command("overdue_visits", "--study", "JOURNEY", "--as-of", "2026-13-01")
    with pytest.raises(CommandError, match="--site"):
        call_command("overdue_visits", "--study", "JOURNEY", "--site", "99", "--as-of", "2026-12-01")
    with pytest.raises(CommandError, match="--study"):
        call_command("overdue_visits", "--study", "NOPE", "--as-of", "2026-12-01")
