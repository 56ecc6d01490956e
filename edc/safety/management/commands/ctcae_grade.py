"""Grade a batch of CTCAE grading requests from a JSON case file, with the terms in the database."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _

from edc.inputs.cases import CaseError, Section, evaluate_case_file, read_case
from edc.inputs.commands import InputFileCommand, InvalidInput
from edc.inputs.errors import InputError
from edc.inputs.files import read_json
from edc.safety.casefile import GradingCaseIn
from edc.safety.ctcae import VERSION, CtcaeError, GradingRequest, grade
from edc.safety.selectors import CtcaeTermsNotLoaded, ctcae_dictionary
from studies.selectors import study_lookup

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
        "Grade CTCAE requests (a JSON list or an object with grading_cases); prints id -> result. "
        "Grades with the terms load_ctcae stored, of the study's CTCAE version (--study) or of "
        f"--ctcae-version (default {VERSION}). "
        "Exits 1 when any case is invalid or cannot be graded (errors as JSON on stderr)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the JSON case file")
        parser.add_argument(
            "--ctcae-version",
            help=f"the CTCAE version to grade with (default: the study's with --study, else {VERSION})",
        )
        parser.add_argument(
            "--study", help="protocol id, registry id or primary key: grade with its CTCAE version"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = str(options["file"])
        document = read_json(path)
        version = options.get("ctcae_version")
        if version is None and options.get("study"):
            key = options["study"]
            try:
                version = study_lookup(key).ctcae_version
            except (ObjectDoesNotExist, ValueError) as exc:
                raise CommandError(_("--study %(key)s: %(error)s") % {"key": key, "error": exc}) from None
        try:
            dictionary = ctcae_dictionary(version=version or VERSION)
        except CtcaeTermsNotLoaded as exc:
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
