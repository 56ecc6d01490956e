"""Writes of the safety app: loading a CTCAE term list into the dictionary table."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from edc.safety.ctcae import TermText
from edc.safety.models import CtcaeTerm

_FIELDS = (
    "soc",
    "term",
    "grade_1",
    "grade_2",
    "grade_3",
    "grade_4",
    "grade_5",
    "definition",
    "navigational_note",
    "change_note",
)


@dataclass(frozen=True)
class CtcaeLoad:
    created: int
    updated: int
    unchanged: int
    not_in_file: list[str]  # MedDRA codes stored for the version but absent from the file


def _values(term: TermText) -> dict[str, Any]:
    return {
        "soc": term.soc,
        "term": term.term,
        **{f"grade_{n}": term.grades[n - 1] for n in range(1, 6)},
        "definition": term.definition,
        "navigational_note": term.navigational_note,
        "change_note": term.change_note,
    }


@transaction.atomic
def ctcae_terms_load(*, terms: Sequence[TermText], version: str) -> CtcaeLoad:
    """Store the terms of one CTCAE version; idempotent (a second load changes nothing).

    Terms of other versions are untouched. Terms are never deleted (adverse events may point at
    them): a code stored for the version but no longer in the file is reported in ``not_in_file``.
    """
    created = updated = unchanged = 0
    existing = {t.meddra_code: t for t in CtcaeTerm.objects.filter(version=version)}
    incoming = {t.meddra_code for t in terms}
    stale = sorted(code for code in existing if code not in incoming)
    new_rows = []
    for term in terms:
        values = _values(term)
        row = existing.get(term.meddra_code)
        if row is None:
            new_rows.append(CtcaeTerm(version=version, meddra_code=term.meddra_code, **values))
            created += 1
        elif any(getattr(row, name) != values[name] for name in _FIELDS):
            for name in _FIELDS:
                setattr(row, name, values[name])
            row.save()
            updated += 1
        else:
            unchanged += 1
    CtcaeTerm.objects.bulk_create(new_rows)
    return CtcaeLoad(created=created, updated=updated, unchanged=unchanged, not_in_file=stale)
