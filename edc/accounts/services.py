"""Writes of the accounts app: account events and API tokens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction

from edc.accounts import tokens
from edc.accounts.models import AccountEvent, AccountEventKind, ApiToken, Door


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
