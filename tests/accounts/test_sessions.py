"""Idle sessions expire after EDC_SESSION_IDLE_MINUTES; a session in use stays open."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session

from tests.accounts.helpers import later

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def logged_in(alice, admin_login, browser):
    assert admin_login().status_code == 302
    assert browser.get("/admin/").status_code == 200
    return browser


def test_the_default_idle_limit_is_thirty_minutes():
    assert settings.SESSION_COOKIE_AGE == 30 * 60


def test_an_idle_session_expires(logged_in):
    with later(timedelta(minutes=29)):
        assert logged_in.get("/admin/").status_code == 200
    with later(timedelta(minutes=29 + 31)):
        response = logged_in.get("/admin/")
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")


def test_a_session_in_use_stays_open_past_the_idle_limit(logged_in):
    for minutes in (20, 40, 60, 80):
        with later(timedelta(minutes=minutes)):
            assert logged_in.get("/admin/").status_code == 200, minutes


def test_the_session_is_rewritten_at_most_once_a_minute(logged_in):
    key = logged_in.session.session_key
    expiry = Session.objects.get(pk=key).expire_date
    logged_in.get("/admin/")
    assert Session.objects.get(pk=key).expire_date == expiry  # no write for a request seconds later
    with later(timedelta(minutes=2)):
        logged_in.get("/admin/")
        assert Session.objects.get(pk=key).expire_date >= expiry + timedelta(minutes=2)


def test_the_session_cookie_ends_with_the_browser(alice, admin_login, browser):
    response = admin_login()
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["max-age"] == ""
    assert cookie["expires"] == ""


def test_a_bad_idle_limit_refuses_to_start_naming_the_variable():
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDC_")}
    env.update({"DJANGO_DEBUG": "1", "EDC_SESSION_IDLE_MINUTES": "half an hour"})
    env["DJANGO_SETTINGS_MODULE"] = "edc.settings"
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "EDC_SESSION_IDLE_MINUTES" in result.stderr
