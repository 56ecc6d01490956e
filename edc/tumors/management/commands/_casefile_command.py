"""The shared body of the RECIST and iRECIST case-file commands."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, ClassVar

from django.core.management.base import BaseCommand, CommandError

from edc.tumors import casefiles


class CaseFileCommand(BaseCommand):
    """Read a case file, evaluate each section's cases, print one JSON object; fail after printing."""

    sections: ClassVar[dict[str, tuple[Callable[..., Any], Callable[[Any], Any]]]]
    file_help: ClassVar[str]

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", help=self.file_help)

    def handle(self, *args: Any, **options: Any) -> None:
        path = options["file"]
        try:
            data = casefiles.read_case_file(path, tuple(self.sections))
        except casefiles.CaseFileError as exc:
            raise CommandError(str(exc)) from exc
        outputs, errors = casefiles.evaluate_sections(data, self.sections)
        self.stdout.write(json.dumps(outputs, indent=2, ensure_ascii=False))
        if errors:
            raise CommandError(casefiles.error_summary(path, errors))
