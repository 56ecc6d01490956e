"""The audited write path. Every service of every app writes clinical data through these helpers.

- The first entry of a record needs no reason; every later change needs a reason for change.
- A locked record (or one whose visit, subject or study is locked) refuses any change.
- Deletion is refused; voiding with a reason takes its place.
- Each write is one transaction and leaves one history row (who, when, the values, the reason).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from simple_history.signals import pre_create_historical_record

from edc.core.exceptions import ReasonRequired, RecordLocked
from edc.core.models import AuditedModel, ReasonCode

M = TypeVar("M", bound=AuditedModel)


@dataclass(frozen=True)
class ChangeReason:
    code: str
    text: str = ""

    def __post_init__(self) -> None:
        if self.code not in ReasonCode.values:
            raise ValidationError(
                {
                    "change_reason_code": [
                        f"Unknown reason code {self.code!r}; one of {', '.join(ReasonCode.values)}."
                    ]
                }
            )
        if self.code == ReasonCode.OTHER and not self.text.strip():
            raise ValidationError({"change_reason": ["Explain the reason when the code is 'other'."]})

    @classmethod
    def from_input(cls, code: str | None, text: str | None) -> ChangeReason:
        """Build a reason from a form or request: no text and no code is a refusal, not a default."""
        code = (code or "").strip()
        text = (text or "").strip()
        if not code and not text:
            raise ReasonRequired()
        return cls(code=code or ReasonCode.OTHER, text=text)

    def __str__(self) -> str:
        label = ReasonCode(self.code).label
        return f"{label}: {self.text}" if self.text else label


def lock_message(instance: AuditedModel) -> str | None:
    reasons = list(instance.iter_locks())
    return "; ".join(reasons) if reasons else None


def check_not_locked(instance: AuditedModel) -> None:
    message = lock_message(instance)
    if message:
        raise RecordLocked(f"The record cannot be changed: {message}.")


def changed_fields(old: models.Model, new: models.Model) -> dict[str, tuple[Any, Any]]:
    """Concrete fields whose value differs between two versions of a record."""
    skip = {"updated", "created"}
    changes = {}
    for field in new._meta.concrete_fields:
        if field.name in skip:
            continue
        before, after = field.value_from_object(old), field.value_from_object(new)
        if before != after:
            changes[field.name] = (before, after)
    return changes


def _stamp(instance: AuditedModel, user: Any, reason: ChangeReason | None) -> None:
    instance._history_user = user if user is not None and user.is_authenticated else None
    instance._change_reason = reason.text if reason else ""
    instance._change_reason_code = reason.code if reason else ""


@transaction.atomic
def record_save(instance: M, *, user: Any, reason: ChangeReason | None = None) -> M:
    """Create or change a record with its history row.

    Raises ValidationError (bad input), ReasonRequired, RecordLocked; nothing is written then.
    """
    if instance._state.adding:
        # New data under a locked study or subject is refused like a change.
        check_not_locked(instance)
        instance.full_clean()
        _stamp(instance, user, reason)
        instance.save(force_insert=True)
        return instance

    current = type(instance)._default_manager.select_for_update().get(pk=instance.pk)
    check_not_locked(current)
    if current.voided_at is not None:
        raise ValidationError("A voided record cannot be changed.", code="voided")
    # Clean first: it normalises values ("1961-07" to a PartialDate) so the comparison sees real changes.
    instance.full_clean()
    if not changed_fields(current, instance):
        return instance
    if reason is None:
        raise ReasonRequired()
    _stamp(instance, user, reason)
    instance.save()
    return instance


@transaction.atomic
def record_update(instance: M, *, user: Any, changes: dict[str, Any], reason: ChangeReason | None) -> M:
    """Apply field changes to a stored record and save them with the reason."""
    for name, value in changes.items():
        setattr(instance, name, value)
    return record_save(instance, user=user, reason=reason)


@transaction.atomic
def record_void(instance: M, *, user: Any, reason: ChangeReason) -> M:
    """Void instead of delete: the record leaves working lists and stays in history and exports."""
    current = type(instance)._default_manager.select_for_update().get(pk=instance.pk)
    check_not_locked(current)
    if current.voided_at is not None:
        raise ValidationError("The record is already voided.", code="already_voided")
    if not reason.text.strip():
        raise ValidationError({"change_reason": ["Say why the record is voided."]})
    current.voided_at = timezone.now()
    current.void_reason = str(reason)
    _stamp(current, user, reason)
    current.save()
    instance.voided_at, instance.void_reason = current.voided_at, current.void_reason
    return current


def _copy_reason_code(sender: Any, instance: Any, history_instance: Any, **kwargs: Any) -> None:
    # Plumbing, not domain behaviour: carries the coded reason onto the history row.
    if hasattr(history_instance, "history_reason_code"):
        history_instance.history_reason_code = getattr(instance, "_change_reason_code", "") or ""


pre_create_historical_record.connect(_copy_reason_code, dispatch_uid="edc_core_reason_code")
