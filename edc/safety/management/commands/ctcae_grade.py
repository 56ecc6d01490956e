"""Grade a batch of CTCAE v5.0 grading requests from a JSON case file."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError, CommandParser

from edc.inputs.cases import CaseError, Section, evaluate_case_file, read_case
from edc.inputs.commands import InputFileCommand, InvalidInput
from edc.inputs.errors import InputError
from edc.inputs.files import read_json
from edc.safety.casefile import GradingCaseIn
from edc.safety.ctcae import CSV_NAME, CtcaeError, CtcaeFileError, Dictionary, GradingRequest, grade

_FIELD = re.compile(r"^field '([^']+)'[:]?\s*(.*)$", re.DOTALL)


def _engine_problem(exc: CtcaeError, request: GradingRequest) -> tuple[str | None, str]:
    """The engine's refusal as (field, message): "field 'unit': ..." names its field."""
    message = str(exc)
    match = _FIELD.match(message)
    if match:
        return match.group(1), match.group(2) or message
    for name in ("unit", "anc_unit"):
        unit = getattr(request, name)
        if unit and repr(unit) in message:
            return name, message
    if "MedDRA code" in message:
        return "meddra_code", message
    if "term" in message:
        return "term", message
    return None, message


def _error_result(errors: list[InputError]) -> dict[str, Any]:
    # The format's output fields stay (no grade, the reason), with the errors beside them.
    reason = "; ".join(f"{e.field}: {e.message}" if e.field else e.message for e in errors)
    return {"grade": None, "criterion": "", "reason": reason, "errors": [e.as_dict() for e in errors]}


class Command(InputFileCommand):
    help = (
        "Grade CTCAE v5.0 requests (a JSON list or an object with grading_cases); prints id -> result. "
        "Exits 1 when any case is invalid or cannot be graded (errors as JSON on stderr)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the JSON case file")
        parser.add_argument("--ctcae-file", help=f"the term list CSV (default: EDC_SHARED_DIR/{CSV_NAME})")

    def handle(self, *args: Any, **options: Any) -> None:
        path = str(options["file"])
        document = read_json(path)
        csv_path = options.get("ctcae_file") or Path(settings.EDC_SHARED_DIR) / CSV_NAME
        try:
            dictionary = Dictionary.from_csv(csv_path)
        except CtcaeFileError as exc:
            raise CommandError(str(exc)) from None

        def run(raw: Any) -> dict[str, Any]:
            request = read_case(GradingCaseIn, raw).to_request()
            try:
                return grade(request, dictionary).as_dict()
            except CtcaeError as exc:
                # One case the engine cannot grade is reported in its place; the others are graded.
                raise CaseError([_engine_problem(exc, request)]) from None

        section = Section("grading_cases", run, on_error=_error_result)
        outputs, errors = evaluate_case_file(path, document, [section], bare_list="grading_cases")
        self.print_json(outputs)
        if errors:
            raise InvalidInput(errors)
