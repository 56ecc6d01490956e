"""Logins, logouts and failed logins are recorded with time and source, readable in the admin."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.utils import timezone

from edc.accounts.models import AccountEvent, AccountEventKind, AppendOnlyError, Door
from edc.accounts.selectors import account_events
from tests.accounts.helpers import WRONG
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/accounts/accountevent/"


def _only(**filters) -> AccountEvent:
    return AccountEvent.objects.get(**filters)


def test_an_admin_login_and_logout_are_recorded_with_time_and_source(alice, admin_login, browser):
    before = timezone.now()
    admin_login()
    browser.post("/admin/logout/")
    login = _only(kind=AccountEventKind.LOGIN)
    logout = _only(kind=AccountEventKind.LOGOUT)
    for event in (login, logout):
        assert event.user == alice
        assert event.door == Door.ADMIN
        assert event.ip_address == "198.51.100.4"
        assert event.user_agent == "Firefox/140"
        assert before <= event.occurred_at <= timezone.now()


def test_a_failed_admin_login_is_recorded_with_the_name_typed(alice, admin_login):
    admin_login(password=WRONG)
    admin_login(username="nobody", password=WRONG)
    failed = AccountEvent.objects.filter(kind=AccountEventKind.LOGIN_FAILED).order_by("id")
    assert [(e.username, e.user, e.door, e.ip_address) for e in failed] == [
        ("alice", alice, Door.ADMIN, "198.51.100.4"),
        ("nobody", None, Door.ADMIN, "198.51.100.4"),
    ]


def test_token_logins_and_failures_are_recorded_as_api_events(alice, token_login):
    token_login()
    token_login(password=WRONG)
    events = AccountEvent.objects.order_by("id")
    assert [(e.kind, e.door, e.user, e.ip_address, e.user_agent) for e in events] == [
        (AccountEventKind.LOGIN, Door.API, alice, "203.0.113.7", "sync-job/1.0"),
        (AccountEventKind.LOGIN_FAILED, Door.API, alice, "203.0.113.7", "sync-job/1.0"),
    ]


def test_attempts_on_a_locked_account_are_recorded_as_locked_out(alice, token_login):
    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit + 1):
        token_login(password=WRONG)
    token_login()  # the right password, refused
    flags = list(
        AccountEvent.objects.filter(kind=AccountEventKind.LOGIN_FAILED)
        .order_by("id")
        .values_list("locked_out", flat=True)
    )
    assert flags == [False] * (limit - 1) + [True] * 3
    assert not AccountEvent.objects.filter(kind=AccountEventKind.LOGIN).exists()


def test_account_events_cannot_be_changed_or_deleted(alice, token_login):
    token_login()
    event = AccountEvent.objects.get()
    event.username = "mallory"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AccountEvent.objects.update(username="mallory")
    with pytest.raises(AppendOnlyError):
        AccountEvent.objects.all().delete()
    assert AccountEvent.objects.get().username == "alice"


def test_the_selector_filters_by_user_kind_and_time(alice, token_login):
    UserFactory(username="bob")
    token_login()
    token_login(username="bob", password=WRONG)
    assert [e.username for e in account_events(user=alice)] == ["alice"]
    assert [e.username for e in account_events(kinds=[AccountEventKind.LOGIN_FAILED])] == ["bob"]
    assert list(account_events(since=timezone.now() + timedelta(minutes=1))) == []


def test_administrators_read_account_events_in_the_admin(alice, token_login, client):
    token_login(password=WRONG)
    client.force_login(alice)
    response = client.get(CHANGELIST)
    assert response.status_code == 200
    assert b"203.0.113.7" in response.content
    event = AccountEvent.objects.filter(kind=AccountEventKind.LOGIN_FAILED).get()
    page = client.get(f"{CHANGELIST}{event.pk}/change/")
    assert page.status_code == 200
    assert b'name="_save"' not in page.content  # read-only: no save button


def test_the_admin_cannot_add_change_or_delete_account_events(alice, token_login, client):
    token_login(password=WRONG)
    event = AccountEvent.objects.get()
    client.force_login(alice)
    assert client.get(f"{CHANGELIST}add/").status_code == 403
    assert client.post(f"{CHANGELIST}{event.pk}/change/", {"username": "mallory"}).status_code == 403
    assert client.post(f"{CHANGELIST}{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AccountEvent.objects.get(pk=event.pk).username == "alice"


def test_staff_without_the_permission_do_not_see_account_events(two_sites, client):
    client.force_login(two_sites.user_a)
    assert client.get(CHANGELIST).status_code == 403


def test_staff_given_the_view_permission_read_them(two_sites, client):
    two_sites.user_a.user_permissions.add(Permission.objects.get(codename="view_accountevent"))
    client.force_login(two_sites.user_a)
    assert client.get(CHANGELIST).status_code == 200


def test_the_account_event_changelist_costs_a_fixed_number_of_queries(
    alice, token_login, client, django_assert_num_queries
):
    client.force_login(alice)
    token_login(password=WRONG)
    client.get(CHANGELIST)  # warm the content-type and permission caches
    # session, user, filtered count, total count, the page (users joined)
    with django_assert_num_queries(QUERIES := 5):
        client.get(CHANGELIST)
    for _ in range(10):
        token_login(username="bob", password=WRONG)
        token_login()
    with django_assert_num_queries(QUERIES):
        assert client.get(CHANGELIST).status_code == 200
