"""The audited write path. Every service of every app writes clinical data through these helpers.

- The first entry of a record needs no reason; every later change needs a reason for change.
- Every change states the version it is based on (the record's own, or the one a door received); a
  stale version is refused with StaleRecord and nothing is written.
- A locked record (or one whose visit, subject or study is locked) refuses any change.
- Deletion is refused; voiding with a reason takes its place (record_void, the only way to void).
- The version, voiding and lock fields are set by these helpers only; fixed fields (the study) never
  change once the record exists.
- Each write is one transaction and leaves one history row (who, when, the values, the reason);
  record_bulk_create writes many records with one INSERT for the rows and one for their history.

Also here: the membership services (who may see and do what), and user deactivation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, Final, Literal, TypeVar, cast

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.signals import pre_create_historical_record

from edc.core.exceptions import ReasonRequired, RecordLocked, StaleRecord
from edc.core.models import AuditedModel, Capability, Membership, ReasonCode, _write_path

M = TypeVar("M", bound=AuditedModel)


class _Unset(Enum):
    UNSET = "unset"


# "Not given" for the optional keyword arguments of typed update services (None can be a value).
UNSET: Final = _Unset.UNSET
Unset = Literal[_Unset.UNSET]


def given(**values: Any) -> dict[str, Any]:
    """The keyword arguments a caller actually passed: `given(sex=sex, site=site)` drops UNSET ones."""
    return {name: value for name, value in values.items() if value is not UNSET}


@dataclass(frozen=True)
class ChangeReason:
    code: str
    text: str = ""

    def __post_init__(self) -> None:
        if self.code not in ReasonCode.values:
            raise ValidationError(
                {
                    "change_reason_code": [
                        gettext("Unknown reason code {code!r}; one of {codes}.").format(
                            code=self.code, codes=", ".join(ReasonCode.values)
                        )
                    ]
                }
            )
        if self.code == ReasonCode.OTHER and not self.text.strip():
            raise ValidationError(
                {"change_reason": [gettext("Explain the reason when the code is 'other'.")]}
            )

    @classmethod
    def from_input(cls, code: str | None, text: str | None) -> ChangeReason:
        """The reason as a person gives it in a door (admin form or API body): the same rule in both.

        The explanation is required, the code is optional (default: other). Nothing at all is
        ReasonRequired, a code alone is refused: an inspector reads the words, not only the code.
        """
        code = (code or "").strip()
        text = (text or "").strip()
        if not code and not text:
            raise ReasonRequired()
        if not text:
            raise ValidationError({"change_reason": [gettext("Explain the reason for change in words.")]})
        return cls(code=code or ReasonCode.OTHER, text=text)

    def __str__(self) -> str:
        label = ReasonCode(self.code).label
        return f"{label}: {self.text}" if self.text else str(label)


def lock_message(instance: AuditedModel) -> str | None:
    reasons = list(instance.iter_locks())
    return "; ".join(reasons) if reasons else None


def check_not_locked(instance: AuditedModel) -> None:
    message = lock_message(instance)
    if message:
        raise RecordLocked(gettext("The record cannot be changed: {reasons}.").format(reasons=message))


_NOT_COMPARED = frozenset({"updated", "created", "version"})


def changed_fields(old: models.Model, new: models.Model) -> dict[str, tuple[Any, Any]]:
    """Concrete fields whose value differs between two versions of a record."""
    changes = {}
    for field in new._meta.concrete_fields:
        if field.name in _NOT_COMPARED:
            continue
        before, after = field.value_from_object(old), field.value_from_object(new)
        if before != after:
            changes[field.name] = (before, after)
    return changes


def _stamp(instance: AuditedModel, user: Any, reason: ChangeReason | None) -> None:
    instance._history_user = user if user is not None and user.is_authenticated else None  # type: ignore[attr-defined]  # simple-history reads it
    instance._change_reason = reason.text if reason else ""  # type: ignore[attr-defined]  # simple-history reads it
    instance._change_reason_code = reason.code if reason else ""  # type: ignore[attr-defined]  # simple-history reads it


def _stored(instance: M, version: int | None) -> M:
    """The stored row, locked for this transaction, after the version check."""
    current = cast(M, type(instance)._default_manager.select_for_update().get(pk=instance.pk))
    based_on = instance.version if version is None else version
    if based_on != current.version:
        raise StaleRecord(current, based_on)
    return current


def _refuse_system_changes(instance: AuditedModel, changes: dict[str, Any], allowed: frozenset[str]) -> None:
    errors = {}
    for name in changes:
        if name in instance.fixed_fields:
            errors[name] = [gettext("This field cannot change once the record exists.")]
        elif name in instance.system_fields and name not in allowed:
            errors[name] = [gettext("This field is set by the write path only (voiding, locking).")]
    if errors:
        raise ValidationError(errors)


def _save(instance: M, *, user: Any, reason: ChangeReason | None, insert: bool = False) -> M:
    _stamp(instance, user, reason)
    with _write_path():
        if insert:
            instance.save(force_insert=True)
        else:
            instance.save()
    return instance


@transaction.atomic
def record_save(
    instance: M, *, user: Any, reason: ChangeReason | None = None, version: int | None = None
) -> M:
    """Create or change a record with its history row.

    `version`: the version the change is based on (what the user read); default the instance's own.
    Raises ValidationError (bad input), ReasonRequired, RecordLocked, StaleRecord; nothing is written then.
    """
    if instance._state.adding:
        _refuse_system_changes(instance, _system_values_set(instance), allowed=frozenset())
        # New data under a locked study or subject is refused like a change.
        check_not_locked(instance)
        instance.version = 1
        instance.full_clean()
        return _save(instance, user=user, reason=reason, insert=True)

    current = _stored(instance, version)
    check_not_locked(current)
    if current.voided_at is not None:
        raise ValidationError(gettext("A voided record cannot be changed."), code="voided")
    _refuse_system_changes(instance, changed_fields(current, instance), allowed=frozenset())
    # Clean first: it normalises values ("1961-07" to a PartialDate) so the comparison sees real changes.
    instance.full_clean()
    changes = changed_fields(current, instance)
    instance.version = current.version
    if not changes:
        return instance
    if reason is None:
        raise ReasonRequired()
    instance.version = current.version + 1
    return _save(instance, user=user, reason=reason)


def _system_values_set(instance: AuditedModel) -> dict[str, Any]:
    """System fields a new record arrives with that are not their defaults (a record born voided...)."""
    values = {}
    for name in instance.system_fields:
        value = getattr(instance, name)
        if name != "version" and value not in (None, ""):
            values[name] = value
    return values


@transaction.atomic
def record_update(
    instance: M,
    *,
    user: Any,
    changes: dict[str, Any],
    reason: ChangeReason | None,
    version: int | None = None,
) -> M:
    """Apply field changes to a stored record and save them with the reason.

    For typed services of the apps (`subject_update(sex=..., site=...)`): they decide which fields a
    door may change and pass only those.
    """
    for name, value in changes.items():
        setattr(instance, name, value)
    return record_save(instance, user=user, reason=reason, version=version)


@transaction.atomic
def record_void(instance: M, *, user: Any, reason: ChangeReason, version: int | None = None) -> M:
    """Void instead of delete: the record leaves working lists and stays in history and exports."""
    current = _stored(instance, version)
    check_not_locked(current)
    if current.voided_at is not None:
        raise ValidationError(gettext("The record is already voided."), code="already_voided")
    if not reason.text.strip():
        raise ValidationError({"change_reason": [gettext("Say why the record is voided.")]})
    current.voided_at = timezone.now()
    current.void_reason = str(reason)
    current.version += 1
    _save(current, user=user, reason=reason)
    _copy_state(current, instance)
    return current


@transaction.atomic
def record_lock(
    instance: M, *, user: Any, reason: ChangeReason | None = None, version: int | None = None
) -> M:
    """Lock a record: it refuses every change until unlocked. Who may lock is the caller's rule."""
    current = _stored(instance, version)
    if current.locked_at is not None:
        raise ValidationError(gettext("The record is already locked."), code="already_locked")
    current.locked_at = timezone.now()
    current.version += 1
    _save(current, user=user, reason=reason)
    _copy_state(current, instance)
    return current


@transaction.atomic
def record_unlock(instance: M, *, user: Any, reason: ChangeReason, version: int | None = None) -> M:
    """Unlock a record; unlocking always needs a reason."""
    current = _stored(instance, version)
    if current.locked_at is None:
        raise ValidationError(gettext("The record is not locked."), code="not_locked")
    if not reason.text.strip():
        raise ValidationError({"change_reason": [gettext("Say why the record is unlocked.")]})
    current.locked_at = None
    current.version += 1
    _save(current, user=user, reason=reason)
    _copy_state(current, instance)
    return current


def _copy_state(source: AuditedModel, target: AuditedModel) -> None:
    if target is not source:
        for field in source._meta.concrete_fields:
            setattr(target, field.attname, getattr(source, field.attname))


@transaction.atomic
def record_bulk_create(instances: Sequence[M], *, user: Any, batch_size: int | None = None) -> list[M]:
    """Create many new records of one model with their history: for the schedule and for imports.

    One INSERT for the records and one for their history rows (more only when the database limits
    the statement size), whatever the number of records. Each record is validated like a first entry
    (fields and `clean()`; pass related objects rather than ids so `clean()` needs no query), the
    database constraints refuse duplicates, and a locked parent refuses the lot. All or nothing.
    """
    if not instances:
        return []
    model = type(instances[0])
    errors: dict[str, list[str]] = {}
    for index, instance in enumerate(instances):
        if type(instance) is not model or not instance._state.adding:
            raise TypeError("record_bulk_create takes new records of one model.")
        _refuse_system_changes(instance, _system_values_set(instance), allowed=frozenset())
        check_not_locked(instance)
        instance.version = 1
        # A related object given as an instance is not looked up again (one query per key per
        # record otherwise); the database's foreign keys still guard the INSERT.
        given = [
            f.name
            for f in model._meta.concrete_fields
            if f.is_relation and isinstance(f, models.ForeignKey) and f.is_cached(instance)
        ]
        try:
            instance.full_clean(exclude=given, validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                errors.setdefault(f"{index}.{field}", []).extend(messages)
        _stamp(instance, user, None)
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic(), _write_path():
            created = model._default_manager.bulk_create(instances, batch_size=batch_size)
    except IntegrityError as exc:
        raise ValidationError(
            gettext("The records conflict with stored ones: {error}").format(error=exc)
        ) from exc
    model.history.bulk_history_create(
        created,
        batch_size=batch_size,
        default_user=user if user is not None and user.is_authenticated else None,
        custom_historical_attrs={"history_reason_code": ""},
    )
    for instance in created:
        instance._state.adding = False
    return list(created)


def _copy_reason_code(sender: Any, instance: Any, history_instance: Any, **kwargs: Any) -> None:
    # Plumbing, not domain behaviour: carries the coded reason onto the history row.
    if hasattr(history_instance, "history_reason_code"):
        history_instance.history_reason_code = getattr(instance, "_change_reason_code", "") or ""


pre_create_historical_record.connect(_copy_reason_code, dispatch_uid="edc_core_reason_code")


# --- memberships -----------------------------------------------------------------------------------


def _require_membership_admin(user: Any, study: Any) -> None:
    from edc.core.scoping import has_capability

    if not has_capability(user, Capability.MANAGE_MEMBERSHIPS, study=study):
        raise PermissionDenied(
            gettext("Only a superuser or a study administrator of {study} manages its memberships.").format(
                study=study
            )
        )


def _save_membership(membership: Membership, *, user: Any) -> Membership:
    membership.full_clean()
    membership._history_user = user  # type: ignore[attr-defined]  # simple-history reads it
    membership.save()
    return membership


@transaction.atomic
def membership_grant(*, user: Any, member: Any, study: Any, role: str, site: Any = None) -> Membership:
    """Give `member` a role in `study` (at one site, or all when `site` is None)."""
    _require_membership_admin(user, study)
    return _save_membership(Membership(user=member, study=study, site=site, role=role), user=user)


@transaction.atomic
def membership_change(
    *,
    user: Any,
    membership: Membership,
    role: str | Unset = UNSET,
    site: Any | Unset = UNSET,
    is_active: bool | Unset = UNSET,
) -> Membership:
    """Change the role or site of a membership, or end it (is_active=False). The study never changes."""
    _require_membership_admin(user, membership.study)
    for name, value in given(role=role, site=site, is_active=is_active).items():
        setattr(membership, name, value)
    return _save_membership(membership, user=user)


# --- users -----------------------------------------------------------------------------------------


@transaction.atomic
def user_deactivate(*, user: Any, account: Any) -> Any:
    """Users are deactivated, never deleted: their history rows keep naming them."""
    if not (user.is_active and user.is_superuser):
        raise PermissionDenied(gettext("Only a superuser deactivates accounts."))
    if account.pk == user.pk:
        raise ValidationError(gettext("You cannot deactivate your own account."))
    account.is_active = False
    account.save(update_fields=["is_active"])
    return account


USER_DELETION_REFUSED = _("Users are never deleted (their history rows name them): deactivate the account.")
