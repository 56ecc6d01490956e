"""demo_setup: a superuser, a site coordinator at one site, a monitor and a data manager, printed with
fresh passwords, so that site scoping shows on first login (debug only)."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.test import Client, RequestFactory, override_settings

from edc.core.models import Membership, Role
from edc.core.scoping import visible_sites, visible_studies
from tests.factories import SiteFactory, StudyFactory, SubjectFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("debug_on")]

LOGIN = re.compile(r"^ {4}(\S+) +(\S+)  (.+)$", re.MULTILINE)


@pytest.fixture
def debug_on(settings):
    settings.DEBUG = True


@pytest.fixture
def trials():
    """Two trials as load_studies leaves them: seed 000's study with its site 01 (and a second site)."""
    seed_000 = StudyFactory(protocol_id="CAM-BEV-CAP-HNSCC")
    site_01 = SiteFactory(study=seed_000, code="01")
    site_02 = SiteFactory(study=seed_000, code="02")
    other = StudyFactory(protocol_id="CET-DALP-HNSCC")
    other_site = SiteFactory(study=other, code="01")
    return seed_000, site_01, site_02, other, other_site


def run() -> tuple[dict[str, tuple[str, str]], str]:
    out, err = StringIO(), StringIO()
    call_command("demo_setup", stdout=out, stderr=err)
    return {m.group(1): (m.group(2), m.group(3)) for m in LOGIN.finditer(out.getvalue())}, err.getvalue()


def _login_request():
    # django-axes counts failures per request: authenticate() needs one.
    return RequestFactory().post("/admin/login/")


def _admin_login(username: str, password: str) -> Client:
    """Log in through the admin's own login page, as a newcomer does."""
    client = Client()
    response = client.post("/admin/login/", {"username": username, "password": password, "next": "/admin/"})
    assert response.status_code == 302, username
    return client


def test_four_logins_are_printed_and_each_password_works(trials):
    logins, _ = run()
    assert set(logins) == {"demo", "coordinator", "monitor", "datamanager"}
    for username, (password, _what) in logins.items():
        assert authenticate(_login_request(), username=username, password=password) is not None, username


def test_the_printed_lines_say_what_each_login_sees(trials):
    logins, _ = run()
    assert logins["coordinator"][1] == "site coordinator at site 01 of CAM-BEV-CAP-HNSCC only"
    assert logins["monitor"][1] == "monitor, every site of the 2 loaded trials"
    assert logins["datamanager"][1] == "data manager, every site of the 2 loaded trials"


def test_the_coordinator_sees_one_site_and_the_monitor_and_data_manager_every_site(trials):
    seed_000, site_01, site_02, other, other_site = trials
    run()
    coordinator = Membership.objects.get(user__username="coordinator")
    assert (coordinator.study, coordinator.site, coordinator.role) == (
        seed_000,
        site_01,
        Role.SITE_COORDINATOR,
    )
    assert list(visible_sites(coordinator.user)) == [site_01]
    for username, role in (("monitor", Role.MONITOR), ("datamanager", Role.DATA_MANAGER)):
        memberships = Membership.objects.filter(user__username=username)
        assert {(m.study, m.site, m.role) for m in memberships} == {
            (seed_000, None, role),
            (other, None, role),
        }
        user = memberships.first().user
        assert set(visible_sites(user)) == {site_01, site_02, other_site}
        assert set(visible_studies(user)) == {seed_000, other}


def test_on_first_login_the_coordinator_lists_only_the_subjects_of_their_site(trials):
    _seed_000, site_01, site_02, _other, other_site = trials
    mine = SubjectFactory(site=site_01, screening_number="SCR-MINE")
    SubjectFactory(site=site_02, screening_number="SCR-SITE-02")
    SubjectFactory(site=other_site, screening_number="SCR-OTHER-STUDY")
    logins, _ = run()
    client = _admin_login("coordinator", logins["coordinator"][0])
    page = client.get("/admin/subjects/subject/")
    assert page.status_code == 200
    assert [s.pk for s in page.context["cl"].result_list] == [mine.pk]
    monitor = _admin_login("monitor", logins["monitor"][0])
    assert len(monitor.get("/admin/subjects/subject/").context["cl"].result_list) == 3


def test_every_run_gives_fresh_passwords_and_the_old_ones_stop_working(trials):
    first, _ = run()
    second, _ = run()
    for username in first:
        assert first[username][0] != second[username][0]
        assert authenticate(_login_request(), username=username, password=first[username][0]) is None
    assert Membership.objects.filter(user__username="monitor").count() == 2


def test_only_the_superuser_is_a_superuser(trials):
    run()
    from django.contrib.auth import get_user_model

    users = {u.username: u for u in get_user_model().objects.all()}
    assert users["demo"].is_superuser
    assert not any(users[name].is_superuser for name in ("coordinator", "monitor", "datamanager"))
    assert all(users[name].is_staff for name in users)


def test_without_loaded_trials_the_superuser_is_created_and_the_role_logins_wait(db):
    logins, err = run()
    assert set(logins) == {"demo"}
    assert "load_studies" in err


def test_demo_setup_refuses_to_run_without_debug(trials):
    with override_settings(DEBUG=False), pytest.raises(CommandError, match="DJANGO_DEBUG=1"):
        call_command("demo_setup", stdout=StringIO())
