"""Writes of the accounts app: account events and API tokens."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.http import HttpRequest

from edc.accounts import tokens
from edc.accounts.models import AccountEvent, AccountEventKind, ApiToken, Door
from edc.api.middleware import API_PREFIX


@dataclass(frozen=True)
class IssuedToken:
    key: str  # shown to the client once; only its digest is stored
    token: ApiToken


@transaction.atomic
def api_token_issue(*, user: User, now: datetime) -> IssuedToken:
    """A new token for `user`, valid for EDC_TOKEN_TTL from `now`; the user's expired tokens go."""
    ApiToken.objects.filter(user=user, expires_at__lte=now).delete()
    key = tokens.new_key()
    token = ApiToken.objects.create(
        key_digest=tokens.key_digest(key),
        user=user,
        created_at=now,
        expires_at=now + settings.EDC_TOKEN_TTL,
        credential_fingerprint=tokens.credential_fingerprint(user),
    )
    return IssuedToken(key=key, token=token)


@transaction.atomic
def api_token_revoke(*, token: ApiToken) -> None:
    ApiToken.objects.filter(pk=token.pk).delete()


@transaction.atomic
def api_tokens_revoke(*, user: User) -> int:
    """Retire every API token of `user` (deactivation; an administrator's revocation)."""
    deleted, _ = ApiToken.objects.filter(user=user).delete()
    return deleted


@transaction.atomic
def account_event_record(
    *,
    kind: AccountEventKind,
    door: Door,
    user: User | None = None,
    username: str = "",
    ip_address: str | None = None,
    user_agent: str = "",
    locked_out: bool = False,
    now: datetime,
) -> AccountEvent:
    return AccountEvent.objects.create(
        kind=kind,
        door=door,
        user=user,
        username=(username or (user.get_username() if user is not None else ""))[:150],
        ip_address=ip_address,
        user_agent=user_agent[:255],
        locked_out=locked_out,
        occurred_at=now,
    )


def request_source(request: HttpRequest | None) -> dict[str, Any]:
    """Where an account event came from: the door, the client's address and user agent."""
    if request is None:
        return {"door": Door.ADMIN, "ip_address": None, "user_agent": ""}
    address = get_client_ip_address(request)
    try:
        address = str(ipaddress.ip_address(address)) if address else None
    except ValueError:
        address = None  # a malformed REMOTE_ADDR is not a reason to refuse a login
    return {
        "door": Door.API if request.path_info.startswith(API_PREFIX) else Door.ADMIN,
        "ip_address": address,
        "user_agent": request.META.get("HTTP_USER_AGENT", ""),
    }
