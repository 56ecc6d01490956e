"""Rate limits: per API token (per user for a session, per address without credentials), 429 with
Retry-After in the API's error shape, served again once the window allows."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.test import Client, override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from edc.accounts import services
from tests.api.openapi import assert_documented, served_schema
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)


def _rates(token: str = "3/minute", anonymous: str = "2/minute"):
    rates = {"token": token, "anonymous": anonymous}
    return override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates})


def _token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Token {services.api_token_issue(user=user, now=timezone.now()).key}"
    )
    return client


def _statuses(client, n: int, path: str = "/api/subjects/") -> list[int]:
    return [client.get(path).status_code for _ in range(n)]


def test_a_token_over_its_limit_answers_429_with_retry_after_in_the_error_shape(two_sites):
    with _rates(), time_machine.travel(NOW, tick=False):
        client = _token_client(two_sites.user_a)
        assert _statuses(client, 3) == [200, 200, 200]
        refused = client.get("/api/subjects/")
    assert refused.status_code == 429
    body = refused.json()
    assert (body["status"], body["code"], body["errors"]) == (429, "throttled", {})
    assert body["detail"]
    assert refused["Retry-After"] == "60"
    assert_documented(served_schema(), "get", "/api/subjects/", refused)


def test_each_token_counts_on_its_own(two_sites):
    with _rates(), time_machine.travel(NOW, tick=False):
        first, second = _token_client(two_sites.user_a), _token_client(two_sites.user_a)
        assert _statuses(first, 4) == [200, 200, 200, 429]
        assert _statuses(second, 3) == [200, 200, 200]
        assert _statuses(_token_client(two_sites.user_b), 1) == [200]


def test_a_session_counts_per_user(two_sites):
    with _rates(), time_machine.travel(NOW, tick=False):
        browser, other_tab = Client(), Client()
        browser.force_login(two_sites.user_a)
        other_tab.force_login(two_sites.user_a)
        assert _statuses(browser, 2) + _statuses(other_tab, 2) == [200, 200, 200, 429]


def test_a_throttled_token_is_served_again_once_the_window_has_passed(two_sites):
    with _rates(), time_machine.travel(NOW, tick=False) as clock:
        client = _token_client(two_sites.user_a)
        assert _statuses(client, 4) == [200, 200, 200, 429]
        clock.shift(dt.timedelta(seconds=61))
        assert _statuses(client, 1) == [200]  # throttled, not banned


def test_the_token_endpoint_is_limited_per_address_in_the_error_shape(two_sites):
    client = APIClient()
    body = {"username": "coord_a", "password": "pw-for-tests"}
    with _rates(), time_machine.travel(NOW, tick=False):
        answers = [client.post("/api/auth/token/", body).status_code for _ in range(3)]
        refused = client.post("/api/auth/token/", body, REMOTE_ADDR="127.0.0.1")
        elsewhere = client.post("/api/auth/token/", body, REMOTE_ADDR="10.1.2.3")
    assert answers == [200, 200, 429]
    assert (refused.status_code, refused.json()["code"]) == (429, "throttled")
    assert int(refused["Retry-After"]) > 0
    assert elsewhere.status_code == 200


def test_the_default_rates_come_from_the_environment_settings():
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    assert rates == {"token": settings.EDC_API_RATE_PER_TOKEN, "anonymous": settings.EDC_API_RATE_ANONYMOUS}
    assert (
        "EDC_API_RATE_PER_TOKEN" not in os.environ or rates["token"] == os.environ["EDC_API_RATE_PER_TOKEN"]
    )


def test_the_default_rate_serves_an_ordinary_client(two_sites):
    # 600/minute by default: a sync client paging through a study is never near it.
    client = _token_client(UserFactory(username="sync", is_superuser=True))
    assert set(_statuses(client, 30)) == {200}


@pytest.mark.parametrize("rate", ["lots", "0/minute", "10/week"])
def test_a_rate_setting_that_is_not_a_rate_stops_the_start_naming_the_variable(rate):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "EDC_"))}
    env.update(
        {"DJANGO_DEBUG": "1", "DJANGO_SETTINGS_MODULE": "edc.settings", "EDC_API_RATE_PER_TOKEN": rate}
    )
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "EDC_API_RATE_PER_TOKEN" in result.stderr
