"""The schedule's admin pages: the coordinator's overdue-visits page (their sites only, a fixed
number of queries) and the schedule table on the subject's page (every visit with its status,
visit date and window colour; a fixed number of queries whatever the schedule's length)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from edc.core.services import record_bulk_create
from edc.visits.models import Visit, VisitStatus
from edc.visits.services import visit_record
from tests.factories import screen_subject

pytestmark = pytest.mark.django_db

OVERDUE = "/admin/visits/visit/overdue/"
CLOSED = dt.date(2025, 3, 18)


def _visits(subject, count, *, first=CLOSED, prefix="C"):
    rows = [
        Visit(
            study=subject.study,
            site=subject.site,
            subject=subject,
            code=f"{prefix}{n}",
            name=f"Cycle {n}",
            kind="treatment",
            target_date=first + dt.timedelta(days=21 * n - 2),
            window_start=first + dt.timedelta(days=21 * n - 3),
            window_end=first + dt.timedelta(days=21 * n),
            status=VisitStatus.PLANNED,
        )
        for n in range(count)
    ]
    return record_bulk_create(rows, user=None) or rows


def _queries(client, path):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    assert response.status_code == 200
    return len(ctx.captured_queries), response


def test_the_overdue_page_lists_the_coordinators_sites_overdue_visits_only(client, trial):
    mine = screen_subject(trial.site_a)
    theirs = screen_subject(trial.site_b)
    _visits(mine, 1, prefix="MINE")
    _visits(theirs, 1, prefix="THEIRS")
    client.force_login(trial.coordinator)
    page = client.get(OVERDUE)
    assert page.status_code == 200
    text = page.content.decode()
    assert "MINE0" in text
    assert "THEIRS0" not in text
    visit = Visit.objects.get(code="MINE0")
    assert f"/admin/visits/visit/{visit.pk}/change/" in text  # record or miss it there
    client.force_login(trial.monitor)  # a study-wide monitor reads both sites
    text = client.get(OVERDUE).content.decode()
    assert "MINE0" in text and "THEIRS0" in text


def test_a_recorded_visit_leaves_the_overdue_page(client, trial):
    subject = screen_subject(trial.site_a)
    _visits(subject, 1, prefix="GONE")
    visit = Visit.objects.get(code="GONE0")
    visit_record(user=None, visit=visit, visit_date=CLOSED, out_of_window_reason="")
    client.force_login(trial.coordinator)
    assert "GONE0" not in client.get(OVERDUE).content.decode()


def test_the_overdue_page_runs_a_fixed_number_of_queries(client, trial):
    client.force_login(trial.coordinator)
    _visits(screen_subject(trial.site_a), 1, prefix="ONE")
    few, _ = _queries(client, OVERDUE)
    for _ in range(4):
        _visits(screen_subject(trial.site_a), 3, prefix="MORE")
    many, page = _queries(client, OVERDUE)
    assert page.content.decode().count("Record or miss") >= 13
    assert many == few


def test_the_overdue_page_refuses_a_user_without_a_membership(client, trial):
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="s_nobody"))
    assert client.get(OVERDUE).status_code == 403


def test_the_subject_page_shows_the_schedule_with_status_visit_date_and_window_colour(client, trial):
    subject = screen_subject(trial.site_a)
    _visits(subject, 3, prefix="SCH")
    done = Visit.objects.get(code="SCH1")
    visit_record(user=None, visit=done, visit_date=done.window_start)
    client.force_login(trial.coordinator)
    text = client.get(f"/admin/subjects/subject/{subject.pk}/change/").content.decode()
    assert 'class="edc-schedule"' in text
    for code in ("SCH0", "SCH1", "SCH2"):
        assert code in text
    assert str(done.window_start) in text  # the visit date
    assert "#2e7d32" in text  # on time: green
    assert "#c62828" in text  # the others' windows closed in 2025: overdue, red


def test_another_sites_visit_is_not_on_a_subjects_page_and_the_table_costs_fixed_queries(client, trial):
    subject = screen_subject(trial.site_a)
    other = screen_subject(trial.site_b)
    _visits(other, 1, prefix="ELSEWHERE")
    client.force_login(trial.coordinator)
    path = f"/admin/subjects/subject/{subject.pk}/change/"
    few, page = _queries(client, path)
    assert "ELSEWHERE" not in page.content.decode()
    _visits(subject, 8, prefix="LONG")
    many, page = _queries(client, path)
    assert "LONG7" in page.content.decode()
    assert many == few
    # The other site's subject is no page of the coordinator's.
    assert client.get(f"/admin/subjects/subject/{other.pk}/change/").status_code in (302, 404)
