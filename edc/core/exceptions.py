"""Errors of the audited write path. The API maps them to one error shape (see edc/api/errors.py)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


class RecordLocked(Exception):
    """The record, its visit, its subject or its study is locked: no change is allowed (HTTP 409)."""


class DeletionRefused(Exception):
    """Clinical data is never deleted; it is voided with a reason."""


class AuditBypassError(Exception):
    """A write that would skip the history rows (raw save, bulk writes, QuerySet.update/delete)."""


class HistoryIsAppendOnly(AuditBypassError):
    """History rows are only ever added: changing or deleting one is refused."""


class StaleRecord(Exception):
    """The write was based on an older version of the record than the stored one (HTTP 409).

    `current` is the stored record, so a door can show what the other user saved.
    """

    def __init__(self, current: Any, based_on: int) -> None:
        self.current = current
        self.based_on = based_on
        super().__init__(
            _(
                "The record was changed by someone else since you read it (your version {based_on}, "
                "stored version {stored}). Nothing was saved: read it again and repeat your change."
            ).format(based_on=based_on, stored=current.version)
        )


class ReasonRequired(ValidationError):
    """A change to an existing record needs a reason for change."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(
            {
                "change_reason": [
                    message or _("A reason for change is required to change an existing record.")
                ]
            },
            code="reason_required",
        )
