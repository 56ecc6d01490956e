"""Reads of the audit trail."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import BooleanField, ExpressionWrapper, Model, Q

from edc.core.scoping import scope_history

_SKIP = {"updated", "created", "version"}


@dataclass(frozen=True)
class HistoryEntry:
    at: Any
    user: str | None
    kind: str  # created | changed | moved | voided
    reason_code: str
    reason: str
    changes: dict[str, dict[str, Any]]
    version: int | None = None


def history_for(instance: Model, user: Any) -> list[HistoryEntry]:
    """The audit trail of one record that the user may read, newest first, old and new value per change.

    A user reads the rows written while the record was at one of their sites. When a subject moved
    from another site, the new site's trail starts with the move: its entry says what the move
    changed (the site, and anything changed with it) against the row before, which stays unseen;
    nothing of the earlier rows is shown, and no entry pretends every earlier value was empty.
    """
    model = type(instance)
    visible = scope_history(model, user).filter(id=instance.pk).values("pk")
    rows = list(
        model.history.filter(id=instance.pk)  # type: ignore[attr-defined]  # simple-history's manager is unstubbed
        .annotate(_visible=ExpressionWrapper(Q(pk__in=visible), output_field=BooleanField()))
        .select_related("history_user")
        .order_by("-history_date", "-history_id")
    )
    fields = [f for f in model._meta.concrete_fields if f.name not in _SKIP]
    entries = []
    for index, row in enumerate(rows):
        if not row._visible:
            continue
        older = rows[index + 1] if index + 1 < len(rows) else None
        changes: dict[str, dict[str, Any]] = {}
        for field in fields:
            new = getattr(row, field.attname)
            old = getattr(older, field.attname) if older is not None else None
            if older is None or new != old:
                if older is None and new in (None, ""):
                    continue
                changes[field.name] = {"old": _plain(old), "new": _plain(new)}
        entries.append(
            HistoryEntry(
                at=row.history_date,
                user=row.history_user.get_username() if row.history_user else None,
                kind=_kind(row, older, changes),
                reason_code=row.history_reason_code,
                reason=row.history_change_reason or "",
                changes=changes,
                version=getattr(row, "version", None),
            )
        )
    return entries


def _kind(row: Any, older: Any, changes: dict[str, Any]) -> str:
    if row.history_type == "+" or older is None:
        return "created"
    if row.voided_at is not None and older.voided_at is None:
        return "voided"
    site_field = getattr(row.instance_type, "scope_site_field", None)
    if site_field and "__" not in site_field and site_field in changes:
        return "moved"
    return "changed"


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
