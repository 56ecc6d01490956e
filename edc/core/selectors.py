"""Reads of the audit trail."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import BooleanField, ExpressionWrapper, Model, Q

from edc.core.readable import field_label, reason_words, value_words
from edc.core.scoping import pseudonymised, scope_history

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
    # The reason in words ("Transcription error: ..."): what an inspector reads.
    reason_words: str = ""
    changes_in_words: tuple[dict[str, str], ...] = ()


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
        .select_related("history_user", *_related(model))
        .order_by("-history_date", "-history_id")
    )
    hidden = set(getattr(model, "identifying_fields", ()))
    if hidden:
        # The API's queryset says it (AuditedViewSet annotates _edc_identified); else one query.
        identified = getattr(instance, "_edc_identified", None)
        if identified is True or (identified is None and not pseudonymised(user, instance)):
            hidden = set()
    fields = [f for f in model._meta.concrete_fields if f.name not in _SKIP and f.name not in hidden]
    # Related records' names come with the rows (select_related above): no query per value.
    cache: dict[tuple[Any, Any], str] = {}
    for row in rows:
        for field in fields:
            if field.many_to_one and field.is_cached(row):  # type: ignore[attr-defined]  # relation fields have it
                related = getattr(row, field.name)
                if related is not None:
                    cache[(field.related_model, related.pk)] = str(related)
    entries = []
    for index, row in enumerate(rows):
        if not row._visible:
            continue
        older = rows[index + 1] if index + 1 < len(rows) else None
        changes: dict[str, dict[str, Any]] = {}
        words: list[dict[str, str]] = []
        for field in fields:
            new = getattr(row, field.attname)
            old = getattr(older, field.attname) if older is not None else None
            if older is None or new != old:
                if older is None and new in (None, ""):
                    continue
                changes[field.name] = {"old": _plain(old), "new": _plain(new)}
                # In words: the field's label, choices by their label, related records by name.
                words.append(
                    {
                        "field": field.name,
                        "label": field_label(model, field.name),
                        "old": value_words(model, field.name, old, cache) if older is not None else "",
                        "new": value_words(model, field.name, new, cache),
                    }
                )
        entries.append(
            HistoryEntry(
                at=row.history_date,
                user=row.history_user.get_username() if row.history_user else None,
                kind=_kind(row, older, changes),
                reason_code=row.history_reason_code,
                reason=row.history_change_reason or "",
                changes=changes,
                version=getattr(row, "version", None),
                reason_words=reason_words(row.history_reason_code, row.history_change_reason or ""),
                changes_in_words=tuple(words),
            )
        )
    return entries


def _related(model: type[Model]) -> list[str]:
    """The many-to-one fields of a model's history rows, read with the rows in one query."""
    return [f.name for f in model._meta.concrete_fields if f.many_to_one and f.name not in _SKIP]


def _kind(row: Any, older: Any, changes: dict[str, Any]) -> str:
    if row.history_type == "+" or older is None:
        return "created"
    if row.voided_at is not None and older.voided_at is None:
        return "voided"
    if getattr(row, "locked_at", None) is not None and getattr(older, "locked_at", None) is None:
        return "locked"
    if getattr(row, "locked_at", None) is None and getattr(older, "locked_at", None) is not None:
        return "unlocked"
    site_field = getattr(row.instance_type, "scope_site_field", None)
    if site_field and "__" not in site_field and site_field in changes:
        return "moved"
    return "changed"


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
