"""Rate limits: per API token (per user for a session), per address for requests without one.

A client over its limit is answered 429 in the API's error shape (`code` "throttled") with
`Retry-After: <seconds>`, and is served again once the window allows: nothing is banned or locked
(failed logins are django-axes' business, edc.accounts). The rates are settings
(`REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`, from EDC_API_RATE_PER_TOKEN and EDC_API_RATE_ANONYMOUS),
read at each request so that a changed setting takes effect without a restart of the class.

Counts live in Django's cache. The default cache is per process: with several server processes each
counts on its own (a limit of N is then up to N per process); a shared cache (CACHES) makes it exact.
"""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from edc.accounts.models import ApiToken


class _SettingsRateThrottle(SimpleRateThrottle):
    def get_rate(self) -> str | None:
        rates: dict[str, str | None] = api_settings.DEFAULT_THROTTLE_RATES  # type: ignore[assignment]
        return rates.get(self.scope) if self.scope else None


class TokenRateThrottle(_SettingsRateThrottle):
    """Signed-in requests: one count per API token, or per user for a session (admin login)."""

    scope = "token"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        ident = f"token-{request.auth.pk}" if isinstance(request.auth, ApiToken) else f"user-{user.pk}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class AnonymousRateThrottle(_SettingsRateThrottle):
    """Requests without credentials (only the token endpoint serves them): per client address."""

    scope = "anonymous"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
