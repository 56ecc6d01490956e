"""Evaluate an efficacy endpoints case file and print the endpoints per case id as JSON."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from edc.inputs.cases import evaluate_case_file
from edc.inputs.commands import InputFileCommand, InvalidInput
from edc.inputs.files import read_json
from edc.outcomes.casefile import ENDPOINTS_SECTIONS


class Command(InputFileCommand):
    help = (
        "Compute ORR, DCR, PFS, OS and DoR (Kaplan-Meier medians, landmark rates, exact intervals) "
        'for each case of an efficacy endpoints case file ({"cases": [...]}); prints one JSON object '
        "mapping case id to its endpoints. Exits 1 when any case is invalid (errors as JSON on stderr, "
        "docs/input-files.md)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the endpoints case file (JSON)")

    def handle(self, *args: Any, **options: Any) -> None:
        path = str(options["file"])
        outputs, errors = evaluate_case_file(path, read_json(path), ENDPOINTS_SECTIONS)
        self.print_json(outputs)
        if errors:
            raise InvalidInput(errors)
