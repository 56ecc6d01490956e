"""Helpers for the accounts tests."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

PASSWORD = "pw-for-tests"  # tests.factories.UserFactory's password
WRONG = "not-the-password"


def token_client(key: str) -> APIClient:
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def later(delta: timedelta) -> time_machine.travel:
    """Travel to `delta` after now (the clock keeps running there)."""
    return time_machine.travel(timezone.now() + delta)
