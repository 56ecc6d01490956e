"""Load the CTCAE v5.0 term list into the dictionary table (idempotent)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import IntegrityError, transaction

from edc.safety.ctcae import CSV_NAME, VERSION, CtcaeFileError, TermText, read_ctcae_csv
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


def _values(term: TermText) -> dict[str, Any]:
    return {
        "soc": term.soc,
        "term": term.term,
        **{f"grade_{n}": term.grades[n - 1] for n in range(1, 6)},
        "definition": term.definition,
        "navigational_note": term.navigational_note,
        "change_note": term.change_note,
    }


class Command(BaseCommand):
    help = "Load all 837 CTCAE v5.0 terms from the shared NCI CSV; a second run changes nothing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--file", help=f"the CSV (default: EDC_SHARED_DIR/{CSV_NAME})")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"]) if options.get("file") else Path(settings.EDC_SHARED_DIR) / CSV_NAME
        try:
            terms = read_ctcae_csv(path)  # validates the whole file before anything is written
        except CtcaeFileError as exc:
            raise CommandError(str(exc)) from None
        try:
            created, updated, unchanged, stale = self._load(terms)
        except IntegrityError as exc:
            raise CommandError(f"{path}: cannot load: {exc}") from None
        message = f"{created} created, {updated} updated, {unchanged} unchanged"
        summary = {
            "file": str(path),
            "version": VERSION,
            "terms": len(terms),
            "socs": len({t.soc for t in terms}),
            "created": created,
            "updated": updated,
            "unchanged": unchanged,
            "not_in_file": stale,
            "message": message,
        }
        self.stderr.write(message)
        self.stdout.write(json.dumps(summary))

    def _load(self, terms: list[TermText]) -> tuple[int, int, int, list[str]]:
        created = updated = unchanged = 0
        with transaction.atomic():
            existing = {t.meddra_code: t for t in CtcaeTerm.objects.filter(version=VERSION)}
            # Terms are never deleted (events may point at them): a code no longer in the file is reported.
            incoming = {t.meddra_code for t in terms}
            stale = sorted(code for code in existing if code not in incoming)
            new_rows = []
            for term in terms:
                values = _values(term)
                row = existing.get(term.meddra_code)
                if row is None:
                    new_rows.append(CtcaeTerm(version=VERSION, meddra_code=term.meddra_code, **values))
                    created += 1
                elif any(getattr(row, name) != values[name] for name in _FIELDS):
                    for name in _FIELDS:
                        setattr(row, name, values[name])
                    row.save()
                    updated += 1
                else:
                    unchanged += 1
            CtcaeTerm.objects.bulk_create(new_rows)
        return created, updated, unchanged, stale
