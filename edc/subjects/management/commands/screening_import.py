"""`python manage.py screening_import FILE.json [--user USERNAME]`: store screening logs.

Reads the eligibility case format (docs/domain/case-files.md, extended in docs/journey.md) and
stores each case through the services (edc/subjects/importing.py), all or nothing per file. Prints
one JSON object mapping each case id to the new subject's id. When any case is invalid nothing is
stored: the object maps each invalid case to {"errors": [...]} and each valid one to null, and the
command exits 1 with the errors on stderr (docs/input-files.md).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from django.db import transaction

from edc.inputs.cases import CaseError, case_id_of, sections_of
from edc.inputs.commands import InputFileCommand, InvalidInput
from edc.inputs.errors import InputError
from edc.inputs.files import read_json
from edc.subjects.importing import import_case


class Command(InputFileCommand):
    help = (
        "Import screened patients from an eligibility case file (JSON), all or nothing; prints "
        "{case id: subject id}. Exits 1 when any case is invalid (errors as JSON on stderr)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", help='eligibility case file: {"cases": [...]}')
        parser.add_argument(
            "--user",
            help="the account the records are entered under (its roles apply; default: the console "
            "operator, history rows name no user)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = str(options["file"])
        user = self._user(options.get("user"))
        lists, errors = sections_of(path, read_json(path), ["cases"], bare_list="cases")
        outputs: dict[str, Any] = {}
        with transaction.atomic():
            for index, raw in enumerate(lists.get("cases", [])):
                case_id = case_id_of(raw)
                problems: list[tuple[str | None, str]] = []
                if case_id is None:
                    case_id, problems = f"cases[{index}]", [("id", "required: a non-empty text id")]
                elif case_id in outputs:
                    problems = [("id", f"duplicate case id {case_id!r} (again at cases[{index}])")]
                    case_id = f"cases[{index}]"
                else:
                    try:
                        with transaction.atomic():
                            outputs[case_id] = str(import_case(raw, user=user, source=path).pk)
                        continue
                    except CaseError as exc:
                        problems = exc.problems
                case_errors = [InputError(file=path, object=case_id, field=f, message=m) for f, m in problems]
                outputs[case_id] = {"errors": [e.as_dict() for e in case_errors]}
                errors.extend(case_errors)
            if errors:
                transaction.set_rollback(True)
        if errors:
            self.print_json({k: (v if isinstance(v, dict) else None) for k, v in outputs.items()})
            raise InvalidInput(errors)
        self.print_json(outputs)

    @staticmethod
    def _user(username: str | None) -> Any:
        if username is None:
            return None
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"--user: no active account {username!r}.")
        return user
