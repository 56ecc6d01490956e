"""Print the planned visits of a study for a hypothetical subject.

Only the dates given are known: a visit whose anchor is not given is not planned. In particular the
enrollment date does NOT default to the first dose, so screening (anchored on enrollment) appears only
with --enrollment. With --last-dose, the end of treatment is the last dose date (no study says
otherwise yet) and the reason defaults to "other" (not progression: imaging continues).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.core.management.base import BaseCommand, CommandError, CommandParser

from edc.visits import schedule
from edc.visits.selectors import study_lookup, study_schedule_params, study_visit_specs

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# --eot-reason takes the end-of-treatment form's codes (codelist EOTREAS in fixtures/forms.yaml) as
# well as the schedule's own words; each code is the schedule reason it means.
EOT_FORM_CODES = {
    "PD": "progression",
    "TOX": "toxicity",
    "DEATH": "death",
    "WITHDRAWAL": "withdrawal",
    "MAXDUR": "completed",
    "INV": "investigator_decision",
    "LOST": "lost_to_follow_up",
    "OTHER": "other",
}
_PREVIEW_KINDS = {k for k in schedule.KINDS if k != "unscheduled"}


def _parse_date(option: str, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        if not _DATE.match(value):
            raise ValueError
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{option}: {value!r} is not a date in the form YYYY-MM-DD.") from None


class Command(BaseCommand):
    help = (
        "Preview a study's visit schedule (targets and windows) for a subject with the given dates. "
        "Visits anchored on a date that is not given are not planned (--enrollment does not default "
        "to --first-dose; without it there is no screening visit)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("study", help="protocol id, registry id or primary key")
        parser.add_argument("--first-dose", required=True, help="YYYY-MM-DD")
        parser.add_argument("--last-dose", help="YYYY-MM-DD; also the end-of-treatment date")
        parser.add_argument(
            "--eot-reason",
            help=(
                "why treatment ended (needs --last-dose): an EOT form code "
                f"({', '.join(EOT_FORM_CODES)}) or {', '.join(schedule.EOT_REASONS)}; default other"
            ),
        )
        parser.add_argument("--enrollment", help="YYYY-MM-DD; no default (screening needs it)")
        parser.add_argument("--consent", help="YYYY-MM-DD; no default")
        parser.add_argument("--death", help="YYYY-MM-DD; nothing is planned after it")
        parser.add_argument(
            "--until", help="YYYY-MM-DD; the horizon, replacing the study's schedule_horizon_days"
        )
        parser.add_argument(
            "--actual",
            action="append",
            default=[],
            metavar="CODE=YYYY-MM-DD",
            help="an actual visit date (e.g. CYCLE3=2025-02-20); repeatable",
        )
        parser.add_argument("--format", choices=["json", "table"], default="json")

    def handle(self, *args: Any, **options: Any) -> None:
        key = options["study"]
        try:
            study = study_lookup(key)
        except (ObjectDoesNotExist, ValueError) as exc:
            raise CommandError(
                f"STUDY: no study with protocol id, registry id or primary key {key!r}."
            ) from exc

        first_dose = _parse_date("--first-dose", options["first_dose"])
        last_dose = _parse_date("--last-dose", options.get("last_dose"))
        enrollment = _parse_date("--enrollment", options.get("enrollment"))
        consent = _parse_date("--consent", options.get("consent"))
        death = _parse_date("--death", options.get("death"))
        until = _parse_date("--until", options.get("until"))
        actual = self._actuals(options.get("actual") or [])

        reason = options.get("eot_reason")
        if reason is not None:
            reason = EOT_FORM_CODES.get(reason, reason)
            if reason not in schedule.EOT_REASONS:
                raise CommandError(
                    f"--eot-reason: unknown reason {options['eot_reason']!r}; expected an EOT form code "
                    f"({', '.join(EOT_FORM_CODES)}) or one of {', '.join(schedule.EOT_REASONS)}."
                )
            if last_dose is None:
                raise CommandError("--eot-reason: needs --last-dose (the date treatment ended).")
        if last_dose is not None:
            if first_dose is not None and last_dose < first_dose:
                raise CommandError(f"--last-dose: {last_dose} is before --first-dose {first_dose}.")
            reason = reason or "other"
        if death is not None and first_dose is not None and death < first_dose:
            raise CommandError(f"--death: {death} is before --first-dose {first_dose}.")

        dates = schedule.SubjectDates(
            consent=consent,
            enrollment=enrollment,
            first_dose=first_dose,
            last_dose=last_dose,
            end_of_treatment=last_dose,
            eot_reason=reason,
            death=death,
            actual=actual,
        )
        specs = study_visit_specs(study)
        for problem in schedule.validate_definitions(specs):
            self.stderr.write(f"{study.protocol_id}: {problem}")
        try:
            visits = schedule.plan(specs, dates, study_schedule_params(study, horizon=until))
        except schedule.UnboundedScheduleError as exc:
            raise CommandError(f"--until: {exc}; the study has no schedule horizon, give --until.") from exc
        except ValueError as exc:
            raise CommandError(f"STUDY {study.protocol_id}: invalid visit definitions: {exc}") from exc

        rows = [
            {
                "code": v.code,
                "name": v.name,
                "kind": v.kind,
                "target": v.target.isoformat(),
                "window_start": v.window_start.isoformat(),
                "window_end": v.window_end.isoformat(),
            }
            for v in visits
            if v.kind in _PREVIEW_KINDS
        ]
        if options["format"] == "table":
            self.stdout.write(self._table(rows, first_dose))
        else:
            self.stdout.write(json.dumps({"visits": rows}, indent=2))

    def _actuals(self, values: list[str]) -> dict[str, dt.date]:
        out: dict[str, dt.date] = {}
        for value in values:
            code, sep, day = value.partition("=")
            if not sep or not code.strip():
                raise CommandError(f"--actual: {value!r} is not CODE=YYYY-MM-DD.")
            parsed = _parse_date(f"--actual {code.strip()}", day.strip())
            assert parsed is not None
            out[code.strip()] = parsed
        return out

    def _table(self, rows: list[dict[str, str]], first_dose: dt.date | None) -> str:
        headers = ["code", "name", "kind", "target", "day", "window"]
        lines = []
        for r in rows:
            target = dt.date.fromisoformat(r["target"])
            day = str((target - first_dose).days) if first_dose else ""
            window = f"{r['window_start']} .. {r['window_end']}"
            lines.append([r["code"], r["name"], r["kind"], r["target"], day, window])
        widths = [max([len(h)] + [len(line[i]) for line in lines]) for i, h in enumerate(headers)]

        def fmt(cells: list[str]) -> str:
            parts = [
                c.rjust(w) if i == 4 else c.ljust(w)
                for i, (c, w) in enumerate(zip(cells, widths, strict=True))
            ]
            return "  ".join(parts).rstrip()

        out = [fmt(headers), fmt(["-" * w for w in widths])]
        out.extend(fmt(line) for line in lines)
        out.append(f"{len(rows)} visits")
        return "\n".join(out)
