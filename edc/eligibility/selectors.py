"""Reads for eligibility: a study's criteria from the database as the pure dataclasses."""

from __future__ import annotations

from typing import Any

from edc.eligibility.eligibility import INCLUSION, Criterion
from studies import selectors as studies_selectors
from studies.models import Study


class StudyNotFound(LookupError):
    pass


def study_lookup(key: str | int) -> Any:
    """The study for a protocol id, registry id or primary key (StudyNotFound when none)."""
    try:
        return studies_selectors.study_lookup(key)
    except Study.DoesNotExist as exc:
        raise StudyNotFound(str(exc) or f"unknown study {key!r}") from None


def study_criteria(study: Any) -> list[Criterion]:
    """The study's criteria, inclusions first, each kind in the protocol's order."""
    rows = sorted(
        study.criteria.all(),
        key=lambda row: (row.kind != INCLUSION, row.order, row.pk),
    )
    return [Criterion(kind=row.kind, number=str(row.number), text=row.text, rule=row.rule) for row in rows]
