"""The overdue-visit report on the command line:

    manage.py overdue_visits --study P [--site CODE] --as-of YYYY-MM-DD [--kind K]
        [--min-days N] [--max-days N] [--due-days N] [--format csv|json|table]

The same rows as /api/reports/overdue-visits/ (edc/visits/reports.py), for the operator at the
server console (every site of the study). A bad argument exits non-zero naming the option.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from edc.visits import reports
from edc.visits.api import rows_as_csv
from studies.models import Study, VisitKind


def _day(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--as-of: {value!r} is not a date YYYY-MM-DD") from None


class Command(BaseCommand):
    help = "List the visits whose window has closed, neither done nor missed (and those due soon)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--study", required=True, help="The study's protocol id.")
        parser.add_argument("--site", help="A site's code (default: every site).")
        parser.add_argument("--as-of", help="YYYY-MM-DD (default: each site's today).")
        parser.add_argument("--kind", choices=VisitKind.values, help="Only visits of this kind.")
        parser.add_argument("--min-days", type=int, default=1, help="At least N days overdue (default 1).")
        parser.add_argument("--max-days", type=int, help="At most N days overdue.")
        parser.add_argument("--due-days", type=int, default=0, help="Also the visits due in the next N days.")
        parser.add_argument("--format", choices=["csv", "json", "table"], default="table")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            study = Study.objects.get(protocol_id=options["study"])
        except Study.DoesNotExist:
            raise CommandError(f"--study: no study {options['study']!r}") from None
        site = None
        if options.get("site"):
            site = study.sites.filter(code=options["site"]).first()
            if site is None:
                raise CommandError(f"--site: no site {options['site']!r} in {study.protocol_id}")
        if options["min_days"] < 1:
            raise CommandError("--min-days: at least 1")
        if options.get("max_days") is not None and options["max_days"] < options["min_days"]:
            raise CommandError("--max-days: smaller than --min-days")
        if options["due_days"] < 0:
            raise CommandError("--due-days: not negative")
        filters = reports.ReportFilters(
            study=study,
            site=site,
            kind=options.get("kind") or "",
            min_days_overdue=options["min_days"],
            max_days_overdue=options.get("max_days"),
            as_of=_day(options["as_of"]) if options.get("as_of") else None,
            due_days=options["due_days"],
        )
        rows, _more = reports.overdue_visits(None, filters)
        fmt = options["format"]
        if fmt == "csv":
            self.stdout.write(rows_as_csv(rows), ending="")
        elif fmt == "json":
            self.stdout.write(json.dumps({"rows": rows, "count": len(rows)}, default=str, indent=2))
        else:
            self._table(rows)

    def _table(self, rows: list[dict[str, Any]]) -> None:
        columns = ["site", "subject", "code", "name", "window_end", "days_overdue", "state"]
        cells = [[str(row[c]) for c in columns] for row in rows]
        widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
        self.stdout.write("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
        for r in cells:
            self.stdout.write("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)))
        self.stdout.write(f"{len(rows)} visits")
