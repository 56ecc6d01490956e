"""Reads of the accounts app."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import User
from django.db.models import QuerySet

from edc.accounts.models import AccountEvent, AccountEventKind, ApiToken
from edc.accounts.tokens import key_digest


def api_token_for_key(key: str) -> ApiToken | None:
    """The token a client presented, with its user (one query), or None."""
    return ApiToken.objects.select_related("user").filter(key_digest=key_digest(key)).first()


def account_events(
    *,
    user: User | None = None,
    kinds: list[AccountEventKind] | None = None,
    since: datetime | None = None,
) -> QuerySet[AccountEvent]:
    """Account events, newest first, optionally of one user, of some kinds, or since a time."""
    events = AccountEvent.objects.select_related("user")
    if user is not None:
        events = events.filter(user=user)
    if kinds:
        events = events.filter(kind__in=kinds)
    if since is not None:
        events = events.filter(occurred_at__gte=since)
    return events.order_by("-occurred_at", "-id")
