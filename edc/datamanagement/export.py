"""The audit-trail export for inspectors (issue 22): one CSV, streamed, per subject or per study.

Every history row of every audited record of the subject (or study) the reader may see: the subject,
its visits, consents, forms, eligibility decisions, and the data-management records (queries, SDV,
signatures), each change in words (field label, old -> new, who, when, why), lock and unlock
included. Then the account events (logins, logouts, failed logins) and membership changes (roles,
sites, ends) of the people concerned: for a subject, those who wrote its trail; for a study, its
members. Rows are produced one model at a time with iterator(), so memory stays flat.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

from django.apps import apps
from django.db.models import Q

from edc.core.models import AuditedModel, Membership
from edc.core.readable import field_label, reason_words, value_words
from edc.core.scoping import pseudonymised, scope

HEADER = [
    "when",
    "who",
    "event",
    "record type",
    "record",
    "subject",
    "site",
    "field",
    "old value",
    "new value",
    "reason",
]
_SKIP = {"updated", "created", "version", "id"}


class _Echo:
    def write(self, value: str) -> str:
        return value


def _subject_models() -> list[type[AuditedModel]]:
    """Audited models owned by a subject (a `subject` foreign key), the subject itself first."""
    from edc.subjects.models import Subject

    found: list[type[AuditedModel]] = [Subject]
    for model in apps.get_models():
        if model is Subject or not issubclass(model, AuditedModel) or model._meta.abstract:
            continue
        try:
            field = model._meta.get_field("subject")  # type: ignore[misc]  # probing: not every model has it
        except Exception:
            continue
        if field.is_relation and field.related_model is Subject:
            found.append(model)
    return found


def _kind(row: Any, older: Any) -> str:
    if older is None:
        return "created"
    if getattr(row, "voided_at", None) and not getattr(older, "voided_at", None):
        return "voided"
    if getattr(row, "locked_at", None) and not getattr(older, "locked_at", None):
        return "locked"
    if not getattr(row, "locked_at", None) and getattr(older, "locked_at", None):
        return "unlocked"
    return "changed"


def _model_rows(model: type[AuditedModel], user: Any, subjects: Any, study: Any) -> Iterator[list[str]]:
    from edc.subjects.models import Subject

    history = scope(model.history.all(), user, model=model)
    key = "id" if model is Subject else "subject_id"
    if subjects is not None:
        history = history.filter(**{f"{key}__in": subjects})
    else:
        history = history.filter(study_id=study.pk)
    history = history.select_related("history_user", "site").order_by("id", "history_date", "history_id")
    fields = [f for f in model._meta.concrete_fields if f.name not in _SKIP]
    hidden = (
        set(model.identifying_fields)
        if model.identifying_fields and pseudonymised(user, SimpleNamespace(study_id=study.pk))
        else set()
    )
    label = str(model._meta.verbose_name)
    cache: dict[Any, str] = {}
    previous: Any = None
    for row in history.iterator(chunk_size=2000):
        older: Any = previous if previous is not None and previous.id == row.id else None
        previous = row
        who = row.history_user.get_username() if row.history_user else "system"
        why = reason_words(row.history_reason_code, row.history_change_reason or "")
        subject = str(row.id if model is Subject else row.subject_id)
        base = [
            row.history_date.isoformat(timespec="seconds"),
            who,
            _kind(row, older),
            label,
            str(row.id),
            subject,
        ]
        base.append(row.site.code if getattr(row, "site", None) else "")
        changed = False
        for field in fields:
            if field.name in hidden:
                continue
            new = getattr(row, field.attname)
            old = getattr(older, field.attname) if older is not None else None
            if older is None and new in (None, "", [], {}):
                continue
            if older is not None and new == old:
                continue
            changed = True
            yield [
                *base,
                field_label(model, field.name),
                value_words(model, field.name, old, cache) if older is not None else "",
                value_words(model, field.name, new, cache),
                why,
            ]
        if not changed:
            yield [*base, "", "", "", why]


def _people_rows(users: Any, study: Any) -> Iterator[list[str]]:
    from edc.accounts.models import AccountEvent

    events = (
        AccountEvent.objects.filter(Q(user__in=users) | Q(username__in=users.values("username")))
        .order_by("occurred_at", "id")
        .iterator(chunk_size=2000)
    )
    for event in events:
        yield [
            event.occurred_at.isoformat(timespec="seconds"),
            event.username or (event.user.get_username() if event.user_id else ""),
            event.get_kind_display(),
            "account event",
            str(event.pk),
            "",
            "",
            "door",
            "",
            f"{event.get_door_display()} {event.ip_address or ''}".strip(),
            "",
        ]
    rows = (
        Membership.history.filter(study_id=study.pk, user__in=users)
        .select_related("history_user", "user", "site")
        .order_by("id", "history_date", "history_id")
    )
    previous: Any = None
    for row in rows.iterator(chunk_size=2000):
        older: Any = previous if previous is not None and previous.id == row.id else None
        previous = row
        for name in ("role", "site", "is_active"):
            new: Any = getattr(row, f"{name}_id" if name == "site" else name)
            old: Any = None
            if older is not None:
                old = getattr(older, f"{name}_id" if name == "site" else name)
                if new == old:
                    continue
            yield [
                row.history_date.isoformat(timespec="seconds"),
                row.history_user.get_username() if row.history_user else "system",
                "membership " + ("granted" if older is None else "changed"),
                "membership",
                f"{row.user.get_username()} @ {study.protocol_id}",
                "",
                row.site.code if row.site else "",
                field_label(Membership, name),
                value_words(Membership, name, old) if older is not None else "",
                value_words(Membership, name, new),
                row.history_change_reason or "",
            ]


def audit_trail_rows(user: Any, *, study: Any, subject: Any = None) -> Iterator[list[str]]:
    """The export's rows (header first), for one subject or for the whole study."""
    from django.contrib.auth import get_user_model

    yield HEADER
    subjects = [subject.pk] if subject is not None else None
    writers: set[Any] = set()
    for model in _subject_models():
        for row in _model_rows(model, user, subjects, study):
            writers.add(row[1])
            yield row
    users = get_user_model().objects.filter(memberships__study=study).distinct()
    if subject is not None:
        users = get_user_model().objects.filter(username__in=writers - {"system"})
    yield from _people_rows(users, study)


def audit_trail_csv(user: Any, *, study: Any, subject: Any = None) -> Iterator[str]:
    writer = csv.writer(_Echo())
    for row in audit_trail_rows(user, study=study, subject=subject):
        yield writer.writerow(row)
