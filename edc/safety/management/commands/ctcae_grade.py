"""Grade a batch of CTCAE grading requests from a JSON case file, with the terms in the database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from edc.safety.ctcae import VERSION, CtcaeError, grade_case
from edc.safety.selectors import CtcaeTermsNotLoaded, ctcae_dictionary
from studies.selectors import study_lookup


class Command(BaseCommand):
    help = (
        "Grade CTCAE requests (a JSON list or an object with grading_cases); prints id -> result. "
        "Grades with the terms load_ctcae stored, of the study's CTCAE version (--study) or of "
        f"--ctcae-version (default {VERSION})."
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
        path = Path(options["file"])
        cases = self._read_cases(path)
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
        output: dict[str, dict[str, Any]] = {}
        for case in cases:
            try:
                result = grade_case(case, dictionary).as_dict()
            except CtcaeError as exc:
                # One bad case is reported in its place; the others are still graded.
                result = {"grade": None, "criterion": "", "reason": str(exc), "error": str(exc)}
            output[str(case["id"])] = result
        self.stdout.write(json.dumps(output, indent=2, ensure_ascii=False))

    def _read_cases(self, path: Path) -> list[dict[str, Any]]:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise CommandError(f"{path}: cannot read: {exc}") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise CommandError(f"{path}: not valid JSON: {exc}") from None
        if isinstance(data, dict):
            if "grading_cases" not in data:
                raise CommandError(f"{path}: field 'grading_cases' is missing")
            data = data["grading_cases"]
        if not isinstance(data, list):
            raise CommandError(f"{path}: field 'grading_cases' must be a list of cases")
        seen: set[str] = set()
        for index, case in enumerate(data):
            if not isinstance(case, dict):
                raise CommandError(f"{path}: case #{index + 1}: must be an object")
            case_id = case.get("id")
            if case_id is None or str(case_id).strip() == "" or isinstance(case_id, bool | dict | list):
                raise CommandError(f"{path}: case #{index + 1}: field 'id' is missing")
            if str(case_id) in seen:
                raise CommandError(f"{path}: case {case_id}: field 'id' repeats")
            seen.add(str(case_id))
        return data
