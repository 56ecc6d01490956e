"""Django's login doors report through the auth signals; these record them as account events.

The admin's login and logout views and django.contrib.auth.authenticate() (used by the admin and
by the API token endpoint) are Django's code: the signals are their only hook. The API token
endpoint sends user_logged_in itself, so a token login is recorded, resets the failure count and
sets last_login exactly as an admin login does.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import timezone

from edc.accounts import services
from edc.accounts.middleware import mark_active
from edc.accounts.models import AccountEventKind


@receiver(user_logged_in, dispatch_uid="edc.accounts.logged_in")
def _logged_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    services.account_event_record(
        kind=AccountEventKind.LOGIN, user=user, now=timezone.now(), **services.request_source(request)
    )
    session = getattr(request, "session", None)
    if session is not None and SESSION_KEY in session:  # a session login, not a token one
        mark_active(session)


@receiver(user_logged_out, dispatch_uid="edc.accounts.logged_out")
def _logged_out(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if user is not None:
        services.account_event_record(
            kind=AccountEventKind.LOGOUT, user=user, now=timezone.now(), **services.request_source(request)
        )


@receiver(user_login_failed, dispatch_uid="edc.accounts.login_failed")
def _login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    User = get_user_model()
    # A NUL cannot reach PostgreSQL; the login forms refuse it already, this is for other callers.
    username = str(credentials.get(User.USERNAME_FIELD) or "").replace("\x00", "")
    user = User._default_manager.filter(**{User.USERNAME_FIELD: username}).first() if username else None
    services.account_event_record(
        kind=AccountEventKind.LOGIN_FAILED,
        user=user,
        username=username,
        # django-axes has run first (its app is listed before this one) and flagged a locked account.
        locked_out=bool(getattr(request, "axes_locked_out", False)),
        now=timezone.now(),
        **services.request_source(request),
    )


@receiver(post_save, sender=get_user_model(), dispatch_uid="edc.accounts.user_saved")
def _user_saved(sender: Any, instance: Any, **kwargs: Any) -> None:
    # A deactivated account keeps no API token (a reactivated one logs in again). Tokens are
    # refused for an inactive user in any case (the check at use covers queryset updates).
    if not instance.is_active:
        services.api_tokens_revoke(user=instance)
