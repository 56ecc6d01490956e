"""Reads for eligibility: a study's criteria from the database as the pure dataclasses."""

from __future__ import annotations

from typing import Any

from edc.eligibility.eligibility import INCLUSION, Criterion


class StudyNotFound(LookupError):
    pass


def study_lookup(key: str | int) -> Any:
    """The study for a protocol id, registry id or primary key (StudyNotFound when none)."""
    from studies.models import Study

    try:
        from studies.selectors import study_lookup as lookup
    except ImportError:  # the studies app's selector is the one place for this; fall back until it exists
        lookup = None
    if lookup is not None:
        try:
            return lookup(key)
        except Study.DoesNotExist as exc:
            raise StudyNotFound(str(exc) or f"unknown study {key!r}") from None
    text = str(key).strip()
    study = (
        Study.objects.filter(protocol_id=text).first()
        or (Study.objects.filter(registry_id=text).first() if text else None)
        or (Study.objects.filter(pk=int(text)).first() if text.isdigit() else None)
    )
    if study is None:
        raise StudyNotFound(f"unknown study {text!r} (not a protocol id, registry id or primary key)")
    return study


def study_criteria(study: Any) -> list[Criterion]:
    """The study's criteria, inclusions first, each kind in the protocol's order."""
    rows = sorted(
        study.criteria.all(),
        key=lambda row: (row.kind != INCLUSION, row.order, row.pk),
    )
    return [Criterion(kind=row.kind, number=str(row.number), text=row.text, rule=row.rule) for row in rows]
