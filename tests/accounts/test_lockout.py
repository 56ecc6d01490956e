"""Failed logins lock the account for a while, on the API token endpoint and the admin login alike."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY

from tests.accounts.helpers import WRONG, later
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_thirty_failed_token_logins_are_refused_and_then_so_is_the_right_password(alice, token_login):
    statuses = [token_login(password=WRONG).status_code for _ in range(30)]
    limit = settings.AXES_FAILURE_LIMIT
    assert statuses[: limit - 1] == [400] * (limit - 1)  # wrong password, not yet locked
    assert statuses[limit - 1 :] == [429] * (30 - limit + 1)

    response = token_login()  # the right password, within the lockout window
    assert response.status_code == 429
    body = response.json()
    assert body["code"] == "locked_out"
    assert set(body) == {"status", "code", "detail", "errors"}
    assert "token" not in body
    assert int(response["Retry-After"]) == settings.AXES_COOLOFF_TIME.total_seconds()


def test_thirty_failed_admin_logins_are_refused_and_then_the_right_password_too(alice, admin_login, browser):
    statuses = [admin_login(password=WRONG).status_code for _ in range(30)]
    limit = settings.AXES_FAILURE_LIMIT
    assert statuses[: limit - 1] == [200] * (limit - 1)  # the login form again, with its error
    assert statuses[limit - 1 :] == [429] * (30 - limit + 1)

    response = admin_login()
    assert response.status_code == 429
    assert b"Too many failed login attempts" in response.content
    assert SESSION_KEY not in browser.session
    assert browser.get("/admin/").status_code == 302  # still sent to the login page


def test_failures_on_one_door_lock_the_other(alice, token_login, admin_login):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        token_login(password=WRONG)
    assert admin_login().status_code == 429


def test_after_the_lockout_the_right_password_works_again(alice, token_login):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        token_login(password=WRONG)
    with later(settings.AXES_COOLOFF_TIME - timedelta(minutes=1)):
        assert token_login().status_code == 429
    with later(settings.AXES_COOLOFF_TIME + timedelta(minutes=1)):
        assert token_login().status_code == 200


def test_attempts_during_the_lockout_do_not_extend_it(alice, token_login):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        token_login(password=WRONG)
    with later(timedelta(minutes=20)):
        assert token_login(password=WRONG).status_code == 429
    with later(settings.AXES_COOLOFF_TIME + timedelta(minutes=1)):
        assert token_login().status_code == 200


def test_a_successful_login_resets_the_count(alice, token_login):
    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):
        token_login(password=WRONG)
    assert token_login().status_code == 200
    for _ in range(limit - 1):
        assert token_login(password=WRONG).status_code == 400
    assert token_login().status_code == 200


def test_one_account_locked_leaves_the_others_open(alice, token_login):
    UserFactory(username="bob")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        token_login(password=WRONG)
    assert token_login(username="bob").status_code == 200


def test_the_failure_limit_is_configurable(alice, token_login, settings):
    settings.AXES_FAILURE_LIMIT = 2
    assert token_login(password=WRONG).status_code == 400
    assert token_login(password=WRONG).status_code == 429
