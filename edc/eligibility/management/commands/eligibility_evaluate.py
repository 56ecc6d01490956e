"""`python manage.py eligibility_evaluate FILE.json`: the eligibility engine on a case file.

Prints one JSON object mapping each case id to {"outcome", "criteria": [...]} (plus "warnings"
when a lab could not be read). A malformed case or an unknown study gives that case
{"error": ...}; the other cases are still evaluated and the command then exits non-zero naming
the file, the case and the field.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from edc.eligibility.casefile import CaseError, case_id_of, parse_case, parse_cases
from edc.eligibility.eligibility import ConfirmationError, Criterion, evaluate
from edc.eligibility.selectors import StudyNotFound, study_criteria, study_lookup


class Command(BaseCommand):
    help = "Evaluate eligibility cases (JSON) against the studies' criterion rules; prints JSON."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", help='eligibility case file: {"cases": [...]}')

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise CommandError(f"{path}: cannot read: {exc}") from None
        except json.JSONDecodeError as exc:
            raise CommandError(f"{path}: invalid JSON: {exc}") from None
        try:
            raw_cases = parse_cases(document)
        except CaseError as exc:
            raise CommandError(f"{path}: {exc}") from None

        output: dict[str, Any] = {}
        failures: list[str] = []
        criteria_by_study: dict[str, list[Criterion] | str] = {}
        for index, raw in enumerate(raw_cases):
            case_id = case_id_of(raw, index)
            if case_id in output:
                case_id = f"{case_id} (cases[{index}])"
                failures.append(f"case {case_id}: id: duplicate id")
                output[case_id] = {"error": "id: duplicate id"}
                continue
            try:
                case = parse_case(raw, index)
                criteria = self._criteria(case.study, criteria_by_study)
                result = evaluate(criteria, case.patient, case.as_of).to_dict()
            except CaseError as exc:
                output[case_id] = {"error": f"{exc.field}: {exc.message}"}
                failures.append(str(exc))
                continue
            except (StudyNotFound, ConfirmationError) as exc:
                message = f"study: {exc}" if isinstance(exc, StudyNotFound) else str(exc)
                output[case_id] = {"error": message}
                failures.append(f"case {case_id}: {message}")
                continue
            if case.warnings:
                result["warnings"] = list(case.warnings)
            output[case_id] = result

        self.stdout.write(json.dumps(output, indent=2, ensure_ascii=False))
        if failures:
            raise CommandError(f"{path}: " + "; ".join(failures))

    @staticmethod
    def _criteria(key: str, cache: dict[str, list[Criterion] | str]) -> list[Criterion]:
        if key not in cache:
            try:
                cache[key] = study_criteria(study_lookup(key))
            except StudyNotFound as exc:
                cache[key] = str(exc)
        found = cache[key]
        if isinstance(found, str):
            raise StudyNotFound(found)
        return found
