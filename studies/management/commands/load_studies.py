"""Load trial definitions: `manage.py load_studies [PATH ...]` (default: every YAML file under fixtures/).

The whole set is validated before anything is written, and written in one transaction: a bad file
exits 1 with every problem as {"errors": [{"file", "object", "field", "message"}]} on stderr
(docs/input-files.md), and the database stays as it was.

Prints one line per file ("...: loaded (12 created, 1 updated)"); `-v 2` lists every object created,
changed or left in the database, `--json` prints the whole report as JSON. `--assumptions` lists
every marked assumption instead of loading.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError, CommandParser

from edc.inputs.commands import InputFileCommand
from studies.loader import default_paths, list_assumptions, read_definitions, write_definitions
from studies.models import StudyVersion


class Command(InputFileCommand):
    help = "Validate and load trial definitions (form registry and studies) from YAML fixtures."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="*", help="Files or folders (default: fixtures/).")
        parser.add_argument(
            "--assumptions", action="store_true", help="List every marked assumption as JSON; load nothing."
        )
        parser.add_argument("--dry-run", action="store_true", help="Validate only; write nothing.")
        parser.add_argument("--json", action="store_true", help="Print the whole report as JSON.")
        parser.add_argument(
            "--user", help="The username the load is recorded under (history, study versions)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        paths = options["paths"] or default_paths()
        if options["assumptions"]:
            rows = list_assumptions(paths)
            self.print_json({"assumptions": rows, "count": len(rows)})
            return
        user = self._user(options.get("user"))
        plans = read_definitions(paths)
        if options["dry_run"]:
            files = [
                {"file": p.name, "kind": p.kind, "study": p.protocol_id, "result": "valid"} for p in plans
            ]
            if options["json"]:
                self.print_json({"files": files})
            else:
                for f in files:
                    what = f"study {f['study']}" if f["kind"] == "study" else "form registry"
                    self.stdout.write(f"{f['file']}: {what}: valid")
            return
        before = set(StudyVersion.objects.values_list("pk", flat=True))
        reports = write_definitions(plans, user=user)
        replans = self._replan(before, user)
        if options["json"]:
            self.print_json({"files": [r.as_dict() for r in reports]})
            return
        for report in reports:
            self.stdout.write(report.line())
            if options["verbosity"] >= 2:
                for label in report.created:
                    self.stdout.write(f"  created {label}")
                for label in report.updated:
                    self.stdout.write(f"  changed {label}")
                for warning in report.warnings:
                    self.stdout.write(f"  warning: {warning}")
        for replan in replans:
            self.stdout.write(
                f"{replan.version}: {replan.subjects} subjects re-planned "
                f"({replan.created} visits created, {replan.moved} moved, {replan.dropped} cancelled)"
            )

    @staticmethod
    def _replan(before: set[int], user: Any) -> list[Any]:
        """A version this load recorded that has taken effect re-plans its study's subjects (the
        visits' service); one dated later is applied on its day by `schedule_replan`."""
        from edc.core.dates import latest_today
        from edc.visits.services import study_version_replan

        done = []
        for version in StudyVersion.objects.exclude(pk__in=before).select_related("study"):
            if version.effective_date is None or version.effective_date <= latest_today():
                result = study_version_replan(user=user, version=version)
                if result.subjects:
                    done.append(result)
        return done

    @staticmethod
    def _user(username: str | None) -> Any:
        if not username:
            return None
        try:
            return get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"--user: no user {username!r}") from None
