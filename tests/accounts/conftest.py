"""Accounts tests log in for real (no force_login): a user with a known password and clients."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.accounts.helpers import PASSWORD
from tests.factories import UserFactory


@pytest.fixture
def alice(db):
    return UserFactory(username="alice", is_superuser=True)


@pytest.fixture
def api() -> APIClient:
    return APIClient(raise_request_exception=False, REMOTE_ADDR="203.0.113.7", HTTP_USER_AGENT="sync-job/1.0")


@pytest.fixture
def browser() -> Client:
    return Client(raise_request_exception=False, REMOTE_ADDR="198.51.100.4", HTTP_USER_AGENT="Firefox/140")


@pytest.fixture
def token_login(api) -> Callable[..., object]:
    def _login(username: str = "alice", password: str = PASSWORD):
        return api.post("/api/auth/token/", {"username": username, "password": password}, format="json")

    return _login


@pytest.fixture
def admin_login(browser) -> Callable[..., object]:
    def _login(username: str = "alice", password: str = PASSWORD):
        return browser.post(
            "/admin/login/?next=/admin/", {"username": username, "password": password, "next": "/admin/"}
        )

    return _login
