"""`python manage.py eligibility_evaluate FILE.json`: the eligibility engine on a case file.

Prints one JSON object mapping each case id to {"outcome", "criteria": [...]} (plus "warnings"
when a lab could not be read). A malformed case or an unknown study gives that case
{"errors": [...]}; the other cases are still evaluated and the command then exits 1 with the same
errors on stderr (docs/input-files.md).
"""

from __future__ import annotations

from typing import Any

from edc.eligibility.casefile import EligibilityCaseIn
from edc.eligibility.eligibility import ConfirmationError, Criterion, evaluate
from edc.eligibility.selectors import StudyNotFound, study_criteria, study_lookup
from edc.inputs.cases import CaseError, Section, evaluate_case_file, read_case
from edc.inputs.commands import InputFileCommand, InvalidInput
from edc.inputs.files import read_json


class Command(InputFileCommand):
    help = (
        "Evaluate eligibility cases (JSON) against the studies' criterion rules; prints JSON. "
        "Exits 1 when any case is invalid (errors as JSON on stderr, docs/input-files.md)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", help='eligibility case file: {"cases": [...]}')

    def handle(self, *args: Any, **options: Any) -> None:
        path = str(options["file"])
        criteria_by_study: dict[str, list[Criterion] | str] = {}

        def run(raw: Any) -> dict[str, Any]:
            case = read_case(EligibilityCaseIn, raw).to_case()
            criteria = self._criteria(case.study, criteria_by_study)
            try:
                result = evaluate(criteria, case.patient, case.as_of).to_dict()
            except ConfirmationError as exc:
                field, _, message = str(exc).partition(": ")
                raise CaseError.at(field, message) from None
            if case.warnings:
                result["warnings"] = list(case.warnings)
            return result

        outputs, errors = evaluate_case_file(
            path, read_json(path), [Section("cases", run)], bare_list="cases"
        )
        self.print_json(outputs)
        if errors:
            raise InvalidInput(errors)

    @staticmethod
    def _criteria(key: str, cache: dict[str, list[Criterion] | str]) -> list[Criterion]:
        if key not in cache:
            try:
                cache[key] = study_criteria(study_lookup(key))
            except StudyNotFound as exc:
                cache[key] = str(exc)
        found = cache[key]
        if isinstance(found, str):
            raise CaseError.at("study", found)
        return found
