"""A case file: one JSON document holding lists of cases, each read and evaluated on its own.

One bad case never stops the others: each case gives either its result or
``{"errors": [{"file", "object", "field", "message"}, ...]}`` in the printed object, and every error
is also returned so that the command can exit non-zero after printing. Pure: no Django.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from edc.inputs.base import without_annotations
from edc.inputs.errors import InputError, InputErrors, ModelT, path_text, validate
from edc.inputs.files import file_error

# Top-level keys that describe a file of worked examples; no engine reads them.
FILE_ANNOTATION_KEYS = frozenset(
    {"schema_version", "format", "created", "criteria", "title", "description", "comment", "notes"}
)


class CaseError(ValueError):
    """One case cannot be evaluated; ``problems`` are (field path, message) pairs."""

    def __init__(self, problems: Sequence[tuple[str | None, str]]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(f"{f}: {m}" if f else m for f, m in self.problems))

    @classmethod
    def at(cls, field_path: str | None, message: str) -> CaseError:
        return cls([(field_path, message)])


def read_case(model: type[ModelT], raw: Any, *, context: Mapping[str, Any] | None = None) -> ModelT:
    """Validate one raw case (annotation keys dropped) or raise CaseError naming every bad field."""
    if not isinstance(raw, dict):
        raise CaseError.at(None, f"a case must be an object, got {raw!r}")
    case, problems = validate(model, without_annotations(raw), context=context)
    if problems or case is None:
        raise CaseError([(path_text(loc) or None, message) for loc, message in problems])
    return case


def case_id_of(raw: Any) -> str | None:
    """The case's id when it has a usable one (text or a whole number)."""
    if not isinstance(raw, dict):
        return None
    value = raw.get("id")
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    text = str(value).strip()
    return text or None


@dataclass(frozen=True)
class Section:
    """A list of cases in a file: how to turn one raw case into its printed result."""

    name: str
    run: Callable[[Any], Mapping[str, Any]]  # raw case -> result; raises CaseError
    on_error: Callable[[list[InputError]], dict[str, Any]] = field(
        default=lambda errors: {"errors": [e.as_dict() for e in errors]}
    )


def sections_of(
    path: str,
    document: Any,
    names: Sequence[str],
    *,
    bare_list: str | None = None,
) -> tuple[dict[str, list[Any]], list[InputError]]:
    """The case lists of a document, and errors for keys no format knows (the cases still run).

    Raises InputErrors when the document holds no case list at all. ``bare_list`` names the section
    a document that is a plain JSON list stands for.
    """
    if isinstance(document, list) and bare_list is not None:
        return {bare_list: document}, []
    expected = " / ".join(names)
    if not isinstance(document, dict):
        raise file_error(path, f"must hold a JSON object with {expected}")
    if not any(name in document for name in names):
        raise file_error(path, f"has none of the case lists {', '.join(names)}")
    errors = [
        InputError(
            file=path,
            object=None,
            field=str(key),
            message=f"unknown field (known: {', '.join(names)})",
        )
        for key in document
        if key not in names and key not in FILE_ANNOTATION_KEYS
    ]
    lists: dict[str, list[Any]] = {}
    for name in names:
        if name not in document:
            continue
        cases = document[name]
        if not isinstance(cases, list):
            errors.append(InputError(file=path, object=None, field=name, message="must be a list of cases"))
            continue
        lists[name] = cases
    return lists, errors


def run_sections(
    path: str, lists: Mapping[str, list[Any]], sections: Sequence[Section]
) -> tuple[dict[str, Any], list[InputError]]:
    """Run every case; returns the printed object (case id -> result) and every error."""
    outputs: dict[str, Any] = {}
    errors: list[InputError] = []
    for section in sections:
        for index, raw in enumerate(lists.get(section.name, [])):
            position = f"{section.name}[{index}]"
            case_id = case_id_of(raw)
            problems: list[tuple[str | None, str]] = []
            if case_id is None:
                problems = [("id", "required: a non-empty text id")]
                case_id = position
            elif case_id in outputs:
                problems = [("id", f"duplicate case id {case_id!r} (again at {position})")]
                case_id = position
            else:
                try:
                    outputs[case_id] = dict(section.run(raw))
                    continue
                except CaseError as exc:
                    problems = exc.problems
            case_errors = [InputError(file=path, object=case_id, field=f, message=m) for f, m in problems]
            outputs[case_id] = section.on_error(case_errors)
            errors.extend(case_errors)
    return outputs, errors


def evaluate_case_file(
    path: str, document: Any, sections: Sequence[Section], *, bare_list: str | None = None
) -> tuple[dict[str, Any], list[InputError]]:
    """The whole file: the printed object and the errors (file-level ones first)."""
    lists, file_errors = sections_of(path, document, [s.name for s in sections], bare_list=bare_list)
    outputs, case_errors = run_sections(path, lists, sections)
    return outputs, file_errors + case_errors


__all__ = [
    "CaseError",
    "InputErrors",
    "Section",
    "case_id_of",
    "evaluate_case_file",
    "read_case",
]
