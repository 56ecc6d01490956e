"""Site scoping: one helper is the start of every list, detail, count and history."""

import datetime as dt

import pytest

from edc.core.scoping import can_write_site, scope, scope_history, visible_sites, visible_studies
from edc.subjects.models import Subject
from tests.factories import MembershipFactory, SiteFactory, StudyFactory, SubjectFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_site_member_sees_only_their_site_and_its_study(two_sites):
    assert list(visible_sites(two_sites.user_a)) == [two_sites.site_a]
    assert list(visible_studies(two_sites.user_a)) == [two_sites.study]


def test_an_all_sites_member_sees_every_site_of_the_study_but_no_other_study(two_sites):
    other = SiteFactory(study=StudyFactory(protocol_id="OTHER"), code="Z")
    sites = set(visible_sites(two_sites.monitor))
    assert sites == {two_sites.site_a, two_sites.site_b}
    assert other not in sites


def test_inactive_memberships_and_anonymous_users_see_nothing(two_sites):
    from django.contrib.auth.models import AnonymousUser

    user = UserFactory(username="former")
    MembershipFactory(user=user, study=two_sites.study, site=two_sites.site_a, is_active=False)
    assert not visible_sites(user).exists()
    assert not visible_studies(AnonymousUser()).exists()


def test_scope_filters_records_counts_and_history_by_site(two_sites):
    SubjectFactory(site=two_sites.site_a, screening_number="A-1")
    SubjectFactory(site=two_sites.site_b, screening_number="B-1")
    SubjectFactory(site=two_sites.site_b, screening_number="B-2")
    mine = scope(Subject.objects.all(), two_sites.user_a)
    assert [s.screening_number for s in mine] == ["A-1"]
    assert mine.count() == 1
    assert scope(Subject.objects.all(), two_sites.user_b).count() == 2
    assert scope(Subject.objects.all(), two_sites.monitor).count() == 3
    assert {row.screening_number for row in scope_history(Subject, two_sites.user_a)} == {"A-1"}


def test_two_memberships_do_not_duplicate_rows(two_sites):
    MembershipFactory(user=two_sites.user_a, study=two_sites.study, site=None)
    SubjectFactory(site=two_sites.site_a)
    assert scope(Subject.objects.all(), two_sites.user_a).count() == 1


def test_writing_roles_can_write_and_readers_cannot(two_sites):
    assert can_write_site(two_sites.user_a, two_sites.site_a)
    assert not can_write_site(two_sites.user_a, two_sites.site_b)
    assert not can_write_site(two_sites.monitor, two_sites.site_a)
    assert can_write_site(two_sites.superuser, two_sites.site_b)


def test_admin_history_of_another_sites_record_is_not_shown(client, two_sites):
    from django.contrib.auth.models import Permission

    two_sites.user_a.user_permissions.add(*Permission.objects.filter(content_type__app_label="subjects"))
    hidden = SubjectFactory(site=two_sites.site_b)
    client.force_login(two_sites.user_a)
    assert client.get(f"/admin/subjects/subject/{hidden.pk}/history/").status_code == 404


@pytest.mark.parametrize(
    "utc, zone, expected",
    [
        (dt.datetime(2026, 3, 1, 15, 59, tzinfo=dt.UTC), "Asia/Shanghai", dt.date(2026, 3, 1)),
        (dt.datetime(2026, 3, 1, 16, 0, tzinfo=dt.UTC), "Asia/Shanghai", dt.date(2026, 3, 2)),
        (dt.datetime(2026, 3, 1, 3, 0, tzinfo=dt.UTC), "America/New_York", dt.date(2026, 2, 28)),
    ],
)
def test_today_for_a_site_is_the_date_in_its_time_zone(utc, zone, expected):
    site = SiteFactory.build(time_zone=zone)
    assert site.today(now=utc) == expected
