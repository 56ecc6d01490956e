"""The command side of the input layer: every command that reads input files behaves alike.

- Results go to stdout as one JSON object (readable UTF-8, not \\u escapes).
- Any error, whether the whole file is unreadable or one case of a batch is invalid, makes the command
  exit with status 1 after the results are printed; stderr then holds
  ``{"errors": [{"file", "object", "field", "message"}, ...]}`` (one error per line), the same
  document for every command. Called from code (``call_command``) the command raises
  ``InvalidInput`` (a ``CommandError``) whose ``errors`` hold the same objects.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from edc.inputs.errors import InputError, InputErrors, errors_json


class InvalidInput(CommandError):
    def __init__(self, errors: Iterable[InputError]) -> None:
        self.errors = list(errors)
        super().__init__(errors_json(self.errors))


class InputFileCommand(BaseCommand):
    """Base of the commands that read definition and case files."""

    _from_command_line = False

    def run_from_argv(self, argv: list[str]) -> None:
        self._from_command_line = True
        super().run_from_argv(argv)

    def execute(self, *args: Any, **options: Any) -> Any:
        try:
            try:
                return super().execute(*args, **options)
            except InputErrors as exc:
                raise InvalidInput(exc.errors) from exc
        except InvalidInput as exc:
            if not self._from_command_line or options.get("traceback"):
                raise
            # The JSON document alone on stderr, without Django's "CommandError: " prefix.
            self.stderr.write(str(exc), style_func=lambda text: text)
            sys.exit(exc.returncode)

    def print_json(self, data: Any) -> None:
        self.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str))
