"""API token authentication with expiry and revocation (replaces DRF's never-expiring tokens).

Same header as DRF's TokenAuthentication (`Authorization: Token <key>`). A token stops working
when it expires (EDC_TOKEN_TTL_HOURS), when its user is deactivated, or when the user's password
changes; a token refused for one of these reasons is deleted, so it stays refused.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from edc.accounts import selectors, services, tokens


class ExpiringTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        token = selectors.api_token_for_key(key)
        if token is None:
            raise exceptions.AuthenticationFailed(gettext("Invalid token."))
        problem = tokens.refusal(
            expires_at=token.expires_at,
            fingerprint=token.credential_fingerprint,
            user=token.user,
            now=timezone.now(),
        )
        if problem is not None:
            services.api_token_revoke(token=token)
            raise exceptions.AuthenticationFailed(problem)
        return token.user, token
