"""The one error shape of every input file, and its translation from pydantic.

An error names the file, the object in it (a case id, or a definition object such as
``visits[2] IMG6W``), the field inside that object (a path such as ``follow_ups[0].date``) and says
what is wrong. Commands print the errors as ``{"errors": [{"file", "object", "field", "message"}]}``.
Pure: no Django.
"""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticCustomError

Loc = tuple[str | int, ...]
ModelT = TypeVar("ModelT", bound=BaseModel)


@dataclass(frozen=True)
class InputError:
    file: str | None
    object: str | None
    field: str | None
    message: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        return ": ".join(part for part in (self.file, self.object, self.field, self.message) if part)


class InputErrors(ValueError):
    """One or more errors in input files; ``errors`` holds them, ``str()`` is the JSON document."""

    def __init__(self, errors: Iterable[InputError]) -> None:
        self.errors = list(errors)
        super().__init__(errors_json(self.errors))


def errors_json(errors: Sequence[InputError]) -> str:
    """``{"errors": [...]}`` with one error per line: readable in a terminal, parseable by a program."""
    if not errors:
        return '{"errors": []}'
    lines = ",\n".join("  " + json.dumps(e.as_dict(), ensure_ascii=False) for e in errors)
    return '{"errors": [\n' + lines + "\n]}"


def fail(message: str, at: str | int | Sequence[str | int] = ()) -> PydanticCustomError:
    """An error for a validator to raise; ``at`` places it below the validated value (a key or path)."""
    where: list[str | int] = [at] if isinstance(at, str | int) else list(at)
    return PydanticCustomError("edc", "{message}", {"message": message, "at": where})


# --- translation -----------------------------------------------------------------------------------


def path_text(loc: Sequence[str | int]) -> str:
    """("follow_ups", 0, "date") -> "follow_ups[0].date"."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def problems(exc: ValidationError, model: type[BaseModel] | None = None) -> list[tuple[Loc, str]]:
    """Each pydantic error as (location, message in our words)."""
    found: list[tuple[Loc, str]] = []
    for error in exc.errors(include_url=False):
        loc: Loc = tuple(error["loc"])
        ctx = error.get("ctx") or {}
        if error["type"] == "edc":
            loc = loc + tuple(ctx.get("at") or ())
        found.append((loc, _message(error, loc, model)))
    return found


def _got(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def _message(error: Mapping[str, Any], loc: Loc, model: type[BaseModel] | None) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    value = error.get("input")
    if kind == "edc":
        return str(ctx["message"])
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        known = known_fields(model, loc[:-1]) if model is not None else None
        return f"unknown field (known: {', '.join(known)})" if known else "unknown field"
    if kind in ("string_type", "string_sub_type"):
        return f"expected text, got {_got(value)}"
    if kind in ("int_type", "int_from_float", "int_parsing"):
        return f"expected a whole number, got {_got(value)}"
    if kind in ("bool_type", "bool_parsing"):
        return f"expected true or false, got {_got(value)}"
    if kind in ("list_type", "tuple_type"):
        return f"expected a list, got {_got(value)}"
    if kind in ("dict_type", "model_type", "model_attributes_type", "dataclass_type"):
        return f"expected an object, got {_got(value)}"
    if kind == "literal_error":
        return f"{_got(value)} is not one of {ctx.get('expected')}"
    if kind == "greater_than_equal":
        return f"must be {ctx.get('ge')} or more, got {_got(value)}"
    if kind == "greater_than":
        return f"must be more than {ctx.get('gt')}, got {_got(value)}"
    if kind == "less_than_equal":
        return f"must be {ctx.get('le')} or less, got {_got(value)}"
    if kind in ("too_short", "too_long"):
        return (
            f"expected {ctx.get('min_length', ctx.get('max_length'))} item(s), got {ctx.get('actual_length')}"
        )
    if kind == "value_error":
        return str(ctx.get("error") or error["msg"])
    return str(error["msg"])


def known_fields(model: type[BaseModel] | None, loc: Sequence[str | int]) -> list[str] | None:
    """The field names of the model found at ``loc`` below ``model`` (None when it is not a model)."""
    target: Any = model
    for part in loc:
        target = _step(target, part)
        if target is None:
            return None
    target = _unwrap(target)
    if isinstance(target, type) and issubclass(target, BaseModel):
        return sorted(info.alias or name for name, info in target.model_fields.items())
    return None


def _unwrap(tp: Any) -> Any:
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(members) != 1:
                return tp
            tp = members[0]
        else:
            return tp


def _step(tp: Any, part: str | int) -> Any:
    tp = _unwrap(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        for name, info in tp.model_fields.items():
            if part in (name, info.alias):
                return info.annotation
        return None
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if isinstance(part, int) and origin in (list, tuple, Sequence) and args:
        return args[0]
    if isinstance(part, str) and origin in (dict, Mapping) and len(args) == 2:
        return args[1]
    return None


# --- validating one object of a file -----------------------------------------------------------------


def validate(
    model: type[ModelT],
    data: Any,
    *,
    context: Mapping[str, Any] | None = None,
) -> tuple[ModelT | None, list[tuple[Loc, str]]]:
    """Validate ``data`` as ``model``: (the object, []) or (None, [(loc, message), ...])."""
    try:
        return model.model_validate(data, context=dict(context or {})), []
    except ValidationError as exc:
        return None, problems(exc, model)
