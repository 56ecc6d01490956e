"""Account events (logins, logouts, failed logins) and expiring API tokens.

Account events are an append-only record readable by administrators: rows are created, never
changed or deleted. Role and membership changes will join them as further kinds.

API tokens are stored as a SHA-256 digest of the key (the key itself is shown once, at login),
with an expiry, and with a fingerprint of the user's password hash at issue: a password change,
through whatever door (admin, set_password + save, changepassword, even an UPDATE), changes the
hash and so retires every token issued before it, as Django does for sessions.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AccountEventKind(models.TextChoices):
    LOGIN = "login", _("Login")
    LOGOUT = "logout", _("Logout")
    LOGIN_FAILED = "login_failed", _("Failed login")
    # 21 CFR 11.300(d): a wrong password (or another user's ID) at an electronic signature is an
    # attempt at unauthorised use, kept with the logins.
    SIGNATURE_FAILED = "signature_failed", _("Failed signature (wrong password or user ID)")


class Door(models.TextChoices):
    ADMIN = "admin", _("Admin (web)")
    API = "api", _("API")


class AppendOnlyError(Exception):
    """An account event was about to be changed or deleted."""


class AccountEventQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("Account events are never changed.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Account events are never deleted.")


class AccountEvent(models.Model):
    kind = models.CharField(_("event"), max_length=32, choices=AccountEventKind.choices)
    door = models.CharField(_("door"), max_length=16, choices=Door.choices)
    occurred_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    # The account, when one matched; users are deactivated, never deleted, so the link holds.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="account_events",
    )
    # As typed at the login prompt (a failed login may name no existing account).
    username = models.CharField(_("username"), max_length=150, blank=True)
    ip_address = models.GenericIPAddressField(_("source address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=255, blank=True)
    locked_out = models.BooleanField(
        _("locked out"),
        default=False,
        help_text=_("The account was locked after too many failed logins when this attempt was made."),
    )

    objects = AccountEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("account event")
        verbose_name_plural = _("account events")
        ordering = ["-occurred_at", "-id"]
        base_manager_name = "objects"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.username} {self.occurred_at:%Y-%m-%d %H:%M:%S}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("Account events are never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Account events are never deleted.")


class ApiToken(models.Model):
    key_digest = models.CharField(max_length=64, unique=True, verbose_name=_("key digest"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("user")
    )
    created_at = models.DateTimeField(_("issued"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    credential_fingerprint = models.CharField(max_length=64, verbose_name=_("credential fingerprint"))

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"API token of {self.user_id} until {self.expires_at:%Y-%m-%d %H:%M}"
