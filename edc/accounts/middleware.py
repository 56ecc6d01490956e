"""Idle sessions expire; active ones are kept alive.

SESSION_COOKIE_AGE (EDC_SESSION_IDLE_MINUTES) is the idle limit: the session row expires that long
after it was last saved. Django's SESSION_SAVE_EVERY_REQUEST would keep an active session alive
by saving it on every request (a write per page view); this saves it at most once a minute of
activity instead, which keeps the idle limit to within a minute.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

ACTIVITY_KEY = "_edc_last_activity"
REFRESH_SECONDS = 60


def mark_active(session: SessionBase) -> None:
    """Stamp the session as active now (marks it modified, so it is saved with a fresh expiry)."""
    session[ACTIVITY_KEY] = int(timezone.now().timestamp())


class IdleSessionMiddleware:
    """After SessionMiddleware: refresh the expiry of a logged-in session that is in use."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        # No session cookie: nothing to keep alive, and no query to find that out.
        if session is None or session.session_key is None or SESSION_KEY not in session:
            return response
        last = session.get(ACTIVITY_KEY)
        if not isinstance(last, int) or timezone.now().timestamp() - last >= REFRESH_SECONDS:
            mark_active(session)
        return response
