"""'Today' is the site's date: a date is refused as future by the site's calendar, not the server's."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError

from edc.core.dates import latest_today, today_for
from edc.core.fields import PartialDateField
from edc.core.models import Role
from edc.core.partial_dates import PartialDate
from edc.subjects.models import Subject
from tests.factories import MembershipFactory, SiteFactory, StudyFactory, UserFactory

# 20:00 UTC on 10 March: already 04:00 on 11 March in Shanghai (UTC+8), still 16:00 on 10 March in
# New York (UTC-4 in March) and 10:00 on 11 March on the Line Islands (UTC+14).
EVENING_IN_UTC = dt.datetime(2026, 3, 10, 20, 0, tzinfo=dt.UTC)


@pytest.fixture
def sites(db):
    study = StudyFactory(protocol_id="TZ-STUDY")
    shanghai = SiteFactory(study=study, code="SH", time_zone="Asia/Shanghai")
    new_york = SiteFactory(study=study, code="NY", time_zone="America/New_York")
    coordinator = UserFactory(username="coord_tz")
    for site in (shanghai, new_york):
        MembershipFactory(user=coordinator, study=study, site=site, role=Role.SITE_COORDINATOR)
    return study, shanghai, new_york, coordinator


def _create(client_for, user, study, site, birth_date):
    body = {
        "study": study.pk,
        "site": site.pk,
        "sex": "F",
        "birth_date": birth_date,
    }
    return client_for(user).post("/api/subjects/", body, format="json")


@time_machine.travel(EVENING_IN_UTC, tick=False)
def test_a_date_that_is_tomorrow_in_utc_but_today_in_shanghai_is_accepted_at_a_shanghai_site(
    client_for, sites
):
    study, shanghai, _new_york, coordinator = sites
    response = _create(client_for, coordinator, study, shanghai, "2026-03-11")
    assert response.status_code == 201, response.json()
    assert str(Subject.objects.get(pk=response.json()["id"]).birth_date) == "2026-03-11"


@time_machine.travel(EVENING_IN_UTC, tick=False)
def test_the_same_date_is_refused_as_future_at_a_new_york_site_where_it_is_still_the_day_before(
    client_for, sites
):
    study, _shanghai, new_york, coordinator = sites
    response = _create(client_for, coordinator, study, new_york, "2026-03-11")
    assert response.status_code == 400
    assert response.json()["errors"]["birth_date"] == ["A partial date cannot lie in the future."]
    assert not Subject.objects.filter(site=new_york).exists()


@time_machine.travel(EVENING_IN_UTC, tick=False)
def test_today_at_the_new_york_site_is_accepted(client_for, sites):
    study, _shanghai, new_york, coordinator = sites
    response = _create(client_for, coordinator, study, new_york, "2026-03-10")
    assert response.status_code == 201, response.json()


@time_machine.travel(EVENING_IN_UTC, tick=False)
def test_a_site_knows_its_own_date(sites):
    _study, shanghai, new_york, _coordinator = sites
    assert shanghai.today() == dt.date(2026, 3, 11)
    assert new_york.today() == dt.date(2026, 3, 10)
    assert today_for(Subject(site=shanghai)) == dt.date(2026, 3, 11)


def test_a_record_without_a_site_is_checked_against_the_latest_date_on_earth():
    # 10:30 UTC on 31 December is 00:30 on 1 January on the Line Islands (UTC+14).
    instant = dt.datetime(2026, 12, 31, 10, 30, tzinfo=dt.UTC)
    assert latest_today(instant) == dt.date(2027, 1, 1)
    assert today_for(None, instant) == dt.date(2027, 1, 1)
    assert today_for(Subject(), instant) == dt.date(2027, 1, 1)


@time_machine.travel(EVENING_IN_UTC, tick=False)
def test_the_field_without_a_record_accepts_today_on_the_line_islands_and_refuses_the_day_after():
    field = PartialDateField()
    field.validate(PartialDate.parse("2026-03-11"), None)
    with pytest.raises(ValidationError) as refused:
        field.validate(PartialDate.parse("2026-03-12"), None)
    assert refused.value.code == "future_partial_date"
