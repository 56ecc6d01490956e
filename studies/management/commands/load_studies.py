"""Load trial definitions: `manage.py load_studies [PATH ...]` (default: every YAML file under fixtures/).

The whole set is validated before anything is written, and written in one transaction: a bad file
exits non-zero naming the file, the object and the field, and the database stays as it was.
`--assumptions` lists every marked assumption instead of loading.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from studies.loader import (
    DefinitionError,
    default_paths,
    list_assumptions,
    read_definitions,
    write_definitions,
)


class Command(BaseCommand):
    help = "Validate and load trial definitions (form registry and studies) from YAML fixtures."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="*", help="Files or folders (default: fixtures/).")
        parser.add_argument(
            "--assumptions", action="store_true", help="List every marked assumption; load nothing."
        )
        parser.add_argument("--dry-run", action="store_true", help="Validate only; write nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        paths = options["paths"] or default_paths()
        try:
            if options["assumptions"]:
                rows = list_assumptions(paths)
                self.stdout.write(
                    json.dumps({"assumptions": rows, "count": len(rows)}, indent=2, default=str)
                )
                return
            plans = read_definitions(paths)
            if options["dry_run"]:
                files = [
                    {"file": p.name, "kind": p.kind, "study": p.protocol_id, "result": "valid"} for p in plans
                ]
                self.stdout.write(json.dumps({"files": files}, indent=2))
                return
            reports = write_definitions(plans)
        except DefinitionError as exc:
            count = len(exc.errors)
            raise CommandError(
                f"{count} problem{'s' if count != 1 else ''} in the definitions; nothing was loaded:\n"
                + "\n".join(exc.errors)
            ) from exc
        self.stdout.write(json.dumps({"files": [r.as_dict() for r in reports]}, indent=2, default=str))
