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
    assert (
        f"/admin/visits/visit/{visit.pk}/record/" in text and f"/admin/visits/visit/{visit.pk}/miss/" in text
    )
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
    assert page.content.decode().count("/record/") >= 13  # each row: record, missed, its visit page
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


# --- recording and missing a visit in the admin ------------------------------------------------------


def _step(client, visit, step, **data):
    data.setdefault("base_version", Visit.objects.get(pk=visit.pk).version)
    return client.post(f"/admin/visits/visit/{visit.pk}/{step}/", data)


def test_the_coordinator_records_a_visit_from_the_schedule_and_a_late_one_needs_a_reason(client, trial):
    from edc.visits.models import Deviation

    subject = screen_subject(trial.site_a)
    _visits(subject, 2, prefix="REC")
    on_time, late = Visit.objects.get(code="REC0"), Visit.objects.get(code="REC1")
    client.force_login(trial.coordinator)
    table = client.get(f"/admin/subjects/subject/{subject.pk}/change/").content.decode()
    assert (
        f"/admin/visits/visit/{on_time.pk}/record/" in table
        and f"/admin/visits/visit/{late.pk}/miss/" in table
    )
    visit_page = client.get(f"/admin/visits/visit/{on_time.pk}/change/").content.decode()
    assert f"/admin/visits/visit/{on_time.pk}/record/" in visit_page and "Form status" in visit_page
    page = client.get(f"/admin/visits/visit/{on_time.pk}/record/").content.decode()
    assert 'name="visit_date"' in page and str(on_time.window_start) in page
    response = _step(client, on_time, "record", visit_date=on_time.target_date.isoformat())
    assert response.status_code == 302 and response["Location"].endswith(
        f"/subjects/subject/{subject.pk}/change/"
    )
    on_time.refresh_from_db()
    assert (on_time.status, on_time.visit_date) == ("done", on_time.target_date)
    assert on_time.history.first().history_user == trial.coordinator

    after_window = late.window_end + dt.timedelta(days=2)
    refused = _step(client, late, "record", visit_date=after_window.isoformat())
    assert refused.status_code == 200 and "outside the visit" in refused.content.decode()
    assert Visit.objects.get(pk=late.pk).status == "planned"
    assert (
        _step(
            client,
            late,
            "record",
            visit_date=after_window.isoformat(),
            out_of_window_reason="patient travelling",
        ).status_code
        == 302
    )
    assert Deviation.objects.filter(visit=late, status="candidate").count() == 1


def test_the_coordinator_marks_a_visit_missed_with_a_reason(client, trial):
    subject = screen_subject(trial.site_a)
    _visits(subject, 1, prefix="MISS")
    visit = Visit.objects.get(code="MISS0")
    client.force_login(trial.coordinator)
    refused = _step(client, visit, "miss", reason="")
    assert refused.status_code == 200 and "errorlist" in refused.content.decode()
    assert _step(client, visit, "miss", reason="patient in hospital").status_code == 302
    visit.refresh_from_db()
    assert (visit.status, visit.missed_reason) == ("missed", "patient in hospital")
    # A missed visit found to have taken place is a correction: it needs its reason.
    again = _step(client, visit, "record", visit_date=visit.target_date.isoformat())
    assert again.status_code == 200 and "say why it is recorded again" in again.content.decode()


def test_a_stale_page_a_monitor_and_another_site_are_refused(client, trial):
    subject = screen_subject(trial.site_a)
    other = screen_subject(trial.site_b)
    _visits(subject, 1, prefix="OWN")
    _visits(other, 1, prefix="FAR")
    mine, theirs = Visit.objects.get(code="OWN0"), Visit.objects.get(code="FAR0")
    client.force_login(trial.coordinator)
    stale = _step(client, mine, "miss", reason="x", base_version=mine.version + 5)
    assert stale.status_code == 200 and Visit.objects.get(pk=mine.pk).status == "planned"
    assert client.get(f"/admin/visits/visit/{theirs.pk}/record/").status_code == 404
    assert _step(client, theirs, "miss", reason="x", base_version=1).status_code == 404
    client.force_login(trial.monitor)
    assert "<form method" not in client.get(f"/admin/visits/visit/{mine.pk}/record/").content.decode()
    assert _step(client, mine, "miss", reason="x").status_code == 403
    assert (
        Visit.objects.get(pk=mine.pk).status == "planned"
        and Visit.objects.get(pk=theirs.pk).status == "planned"
    )
