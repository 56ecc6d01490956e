"""Reads of data management: query lists with ageing, SDV and signature states (issue 22).

SDV and signature states are read against the records as they are now, so a change through any
service clears the verification or invalidates the signature: nothing has to remember to do it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from edc.core.models import Capability
from edc.core.readable import field_label, reason_words
from edc.core.scoping import has_capability, scope
from edc.datamanagement.models import Query, QueryStatus, Signature, SignatureKind, SourceVerification

QUERY_STEPS = ("answer", "close", "reopen")


def query_steps_allowed(user: Any, query: Query) -> list[str]:
    """The steps of QUERY_STEPS this user may take on the query now, for a door to offer: the site
    answers an open query; monitors and data managers close one not closed and re-open one not open.
    The query services decide (with their own messages); tests/datamanagement/test_admin.py checks
    that what this offers is exactly what they accept."""
    allowed = []
    if query.status == QueryStatus.OPEN and has_capability(user, Capability.ANSWER_QUERIES, site=query.site):
        allowed.append("answer")
    if has_capability(user, Capability.RAISE_QUERIES, site=query.site):
        if query.status != QueryStatus.CLOSED:
            allowed.append("close")
        if query.status != QueryStatus.OPEN:
            allowed.append("reopen")
    return allowed


def visible_queries(user: Any) -> QuerySet[Query]:
    return scope(Query.objects.active(), user).select_related("raised_by", "answered_by", "closed_by")


def query_age_days(query: Query, now: dt.datetime | None = None) -> int:
    """Ageing: whole days open since the query was raised (or last re-opened), until it was closed."""
    end = (
        query.closed_at if query.status == QueryStatus.CLOSED and query.closed_at else (now or timezone.now())
    )
    return max(0, (end - query.opened_at).days)


def rule_description(name: str) -> str:
    from edc.datamanagement.checks import REGISTRY

    check = REGISTRY.get(name)
    return check.description if check is not None else ""


def record_field_label(record_type: str, field: str) -> str:
    from django.apps import apps

    if not field:
        return ""
    try:
        model = apps.get_model(record_type)
    except (LookupError, ValueError):
        return field
    return field_label(model, field) if ":" not in field else field


# --- source data verification ----------------------------------------------------------------------


@dataclass(frozen=True)
class SdvState:
    state: str  # "verified" | "cleared"
    cleared_by: dict[str, Any] | None = None  # the change that cleared it: version, at, user, reason


def sdv_states(marks: list[SourceVerification]) -> dict[Any, SdvState]:
    """{mark id: state}; one query per kind of record for the changes since each verification."""
    from django.apps import apps

    by_type: dict[str, list[SourceVerification]] = defaultdict(list)
    for mark in marks:
        by_type[mark.record_type].append(mark)
    states: dict[Any, SdvState] = {}
    for record_type, group in by_type.items():
        model = apps.get_model(record_type)
        lowest = min(m.verified_version for m in group)
        rows = list(
            model.history.filter(id__in={m.record_id for m in group}, version__gte=lowest)
            .select_related("history_user")
            .order_by("history_date", "history_id")
        )
        history: dict[Any, list[Any]] = defaultdict(list)
        for row in rows:
            history[row.id].append(row)
        for mark in group:
            states[mark.pk] = _sdv_state(mark, history.get(mark.record_id, []))
    return states


def _sdv_state(mark: SourceVerification, rows: list[Any]) -> SdvState:
    base = next((r for r in rows if r.version == mark.verified_version), None)
    previous = base
    for row in rows:
        if row.version <= mark.verified_version:
            continue
        changed = previous is None or (
            getattr(row, mark.field + "_id", getattr(row, mark.field, None))
            != getattr(previous, mark.field + "_id", getattr(previous, mark.field, None))
            if mark.field
            else True
        )
        if changed:
            return SdvState(
                "cleared",
                {
                    "version": row.version,
                    "at": row.history_date,
                    "user": row.history_user.get_username() if row.history_user else None,
                    "reason": reason_words(row.history_reason_code, row.history_change_reason or ""),
                },
            )
        previous = row
    return SdvState("verified")


# --- signatures ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignatureState:
    state: str  # "valid" | "invalidated"
    changed: tuple[str, ...] = ()  # the records changed since signing ("app.model id")


def signature_state(signature: Signature) -> SignatureState:
    """Valid while every signed record is at its signed version (and a screening decision not stale)."""
    from django.apps import apps

    from edc.datamanagement.services import _screening_extra, signature_manifest

    model = apps.get_model(signature.record_type)
    record = model._default_manager.filter(pk=signature.record_id).first()
    if record is None:
        return SignatureState("invalidated", (f"{signature.record_type} {signature.record_id}",))
    now = {(t, i): v for t, i, v in signature_manifest(signature.kind, record)}
    then = {(t, i): v for t, i, v in signature.manifest}
    changed = sorted(f"{t} {i}" for t, i in set(now) | set(then) if now.get((t, i)) != then.get((t, i)))
    if signature.kind == SignatureKind.SCREENING and _screening_extra(record):
        changed.append("screening data (the decision is stale)")
    return SignatureState("invalidated" if changed else "valid", tuple(changed))
