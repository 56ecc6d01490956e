"""The study detail shows a user only the sites they are granted."""

import pytest

from edc.core.models import Role
from tests.factories import MembershipFactory, SiteFactory, UserFactory

pytestmark = pytest.mark.django_db


def _sites(client, study):
    response = client.get(f"/api/studies/{study.pk}/")
    assert response.status_code == 200
    return [site["code"] for site in response.json()["sites"]]


def test_a_single_site_user_sees_only_their_site_in_the_study_detail_and_list(client_for, two_sites):
    client = client_for(two_sites.user_a)
    assert _sites(client, two_sites.study) == ["A"]
    listed = client.get("/api/studies/").json()["results"]
    assert [[s["code"] for s in study["sites"]] for study in listed] == [["A"]]


def test_study_wide_members_and_superusers_see_every_site(client_for, two_sites):
    assert _sites(client_for(two_sites.monitor), two_sites.study) == ["A", "B"]
    assert _sites(client_for(two_sites.superuser), two_sites.study) == ["A", "B"]


def test_a_member_of_two_sites_sees_both_and_nothing_of_another_study(client_for, two_sites):
    user = UserFactory(username="two_sites")
    MembershipFactory(user=user, study=two_sites.study, site=two_sites.site_a, role=Role.SITE_COORDINATOR)
    MembershipFactory(user=user, study=two_sites.study, site=two_sites.site_b, role=Role.MONITOR)
    other = SiteFactory(code="Z")
    client = client_for(user)
    assert _sites(client, two_sites.study) == ["A", "B"]
    assert client.get(f"/api/studies/{other.study_id}/").status_code == 404
