"""The shared body of the RECIST and iRECIST case-file commands."""

from __future__ import annotations

from typing import Any, ClassVar

from edc.inputs.cases import Section, evaluate_case_file
from edc.inputs.commands import InputFileCommand, InvalidInput
from edc.inputs.files import read_json


class CaseFileCommand(InputFileCommand):
    """Read a case file, evaluate each section's cases, print one JSON object; fail after printing."""

    sections: ClassVar[tuple[Section, ...]]
    file_help: ClassVar[str]

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", help=self.file_help)

    def handle(self, *args: Any, **options: Any) -> None:
        path = options["file"]
        outputs, errors = evaluate_case_file(path, read_json(path), self.sections)
        self.print_json(outputs)
        if errors:
            raise InvalidInput(errors)
