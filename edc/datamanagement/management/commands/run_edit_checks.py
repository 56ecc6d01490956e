"""`python manage.py run_edit_checks --study S [--rule NAME ...] [--json]`: the bulk edit-check run.

Raises the queries of new findings, closes those whose data were corrected, never duplicates an
open one; prints {"raised", "closed", "open"} (a second run raises 0).
"""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from edc.datamanagement.services import edit_checks_run
from studies.models import Study


class Command(BaseCommand):
    help = "Run the edit checks of a study in bulk and print the queries raised, closed and open."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--study", required=True, help="The study's protocol id.")
        parser.add_argument("--rule", action="append", help="Only this edit check (repeatable).")
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")

    def handle(self, *args: Any, **options: Any) -> None:
        study = Study.objects.filter(protocol_id=options["study"]).first()
        if study is None:
            raise CommandError(f"--study: no study {options['study']!r}.")
        try:
            run = edit_checks_run(study=study, rules=options["rule"])
        except ValidationError as exc:
            raise CommandError(f"--rule: {'; '.join(exc.messages)}") from exc
        if options["json"]:
            self.stdout.write(json.dumps(run.as_dict()))
        else:
            self.stdout.write(f"raised {run.raised}, closed {run.closed}, open {run.open}")
