"""Errors of the audited write path. The API maps them to one error shape (see edc/api/errors.py)."""

from django.core.exceptions import ValidationError


class RecordLocked(Exception):
    """The record, its visit, its subject or its study is locked: no change is allowed (HTTP 409)."""


class DeletionRefused(Exception):
    """Clinical data is never deleted; it is voided with a reason."""


class AuditBypassError(Exception):
    """A bulk write that would skip the history rows."""


class ReasonRequired(ValidationError):
    """A change to an existing record needs a reason for change."""

    def __init__(
        self, message: str = "A reason for change is required to change an existing record."
    ) -> None:
        super().__init__({"change_reason": [message]}, code="reason_required")
