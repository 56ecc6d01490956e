"""Reads of the audit trail."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Model, QuerySet

from edc.core.scoping import scope_history

_SKIP = {"updated", "created"}


@dataclass(frozen=True)
class HistoryEntry:
    at: Any
    user: str | None
    kind: str  # created | changed | voided
    reason_code: str
    reason: str
    changes: dict[str, dict[str, Any]]


def history_for(instance: Model, user: Any) -> list[HistoryEntry]:
    """The audit trail of one record, newest first, with old and new value of each changed field."""
    rows: QuerySet = (
        scope_history(type(instance), user).filter(id=instance.pk).select_related("history_user")
    ).order_by("-history_date", "-history_id")
    rows = list(rows)
    fields = [f for f in type(instance)._meta.concrete_fields if f.name not in _SKIP]
    entries = []
    for index, row in enumerate(rows):
        older = rows[index + 1] if index + 1 < len(rows) else None
        changes: dict[str, dict[str, Any]] = {}
        for field in fields:
            new = getattr(row, field.attname)
            old = getattr(older, field.attname) if older is not None else None
            if older is None or new != old:
                if older is None and new in (None, ""):
                    continue
                changes[field.name] = {"old": _plain(old), "new": _plain(new)}
        kind = "created" if row.history_type == "+" else "changed"
        if older is not None and row.voided_at is not None and older.voided_at is None:
            kind = "voided"
        entries.append(
            HistoryEntry(
                at=row.history_date,
                user=row.history_user.get_username() if row.history_user else None,
                kind=kind,
                reason_code=row.history_reason_code,
                reason=row.history_change_reason or "",
                changes=changes,
            )
        )
    return entries


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
