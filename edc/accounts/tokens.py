"""API token keys, digests and the rules that retire a token (no queries; "now" is an argument)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from django.contrib.auth.base_user import AbstractBaseUser
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext

_FINGERPRINT_SALT = "edc.accounts.tokens.credential_fingerprint"


def new_key() -> str:
    return secrets.token_urlsafe(32)


def key_digest(key: str) -> str:
    """What is stored of a key: a database reader learns no usable token."""
    return hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()


def credential_fingerprint(user: AbstractBaseUser) -> str:
    """Changes whenever the user's password hash changes (a new password, an unusable one)."""
    return salted_hmac(_FINGERPRINT_SALT, user.password or "", algorithm="sha256").hexdigest()


def refusal(*, expires_at: datetime, fingerprint: str, user: AbstractBaseUser, now: datetime) -> str | None:
    """Why a token no longer authenticates, or None while it does."""
    if now >= expires_at:
        return gettext("Token has expired; log in again.")
    if not user.is_active:
        return gettext("User inactive or deleted.")
    if not constant_time_compare(fingerprint, credential_fingerprint(user)):
        return gettext("Token revoked: the password has changed; log in again.")
    return None
