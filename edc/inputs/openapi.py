"""The case-file formats as OpenAPI 3.0 schemas, generated from their pydantic models. Pure: no Django.

The formats are described once, as the models; the API's schema (drf-spectacular, OpenAPI 3.0.3) is
derived from them: pydantic's JSON Schema with its ``$defs`` inlined, ``anyOf [X, null]`` written as
``nullable``, tuples as fixed-length arrays, and the annotation keys that every case may carry (title,
tags, rule, expected ...) added as allowed properties. Value types say what they accept through
``WithJsonSchema`` (edc.inputs.base), so the schema tells a client (and schemathesis) the truth.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel

from edc.inputs.base import ANNOTATION_KEYS
from edc.inputs.cases import FILE_ANNOTATION_KEYS

_DROPPED = frozenset({"title", "$defs", "discriminator"})
# OpenAPI 3.0 cannot describe "any key starting with expected" (no patternProperties): the worked
# examples' answer keys are listed; any other expected* key is accepted too, only not described.
EXPECTED_KEYS = (
    "expected",
    "expected_category",
    "expected_errors",
    "expected_grade",
    "expected_outcome",
    "expected_valid",
)


CASE_ID: dict[str, Any] = {
    "anyOf": [{"type": "string", "pattern": r"\S"}, {"type": "integer"}],
    "description": "The case's id, unique in the file; its result is printed under it.",
}


def _resolve(node: Any, defs: Mapping[str, Any]) -> Any:
    if isinstance(node, list):
        return [_resolve(item, defs) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        resolved = _resolve(copy.deepcopy(defs[name]), defs)
        extra = {k: v for k, v in node.items() if k != "$ref"}
        return {**resolved, **_resolve(extra, defs)} if extra else resolved
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DROPPED:
            continue
        if key in ("properties", "patternProperties"):
            out[key] = {name: _resolve(sub, defs) for name, sub in value.items()}
        else:
            out[key] = _resolve(value, defs)
    return _openapi30(out)


def _openapi30(schema: dict[str, Any]) -> dict[str, Any]:
    """JSON Schema 2020-12 idioms that OpenAPI 3.0 writes differently."""
    for key in ("anyOf", "oneOf"):
        members = schema.get(key)
        if isinstance(members, list) and any(m == {"type": "null"} for m in members):
            rest = [m for m in members if m != {"type": "null"}]
            del schema[key]
            if len(rest) == 1:
                schema.update({k: v for k, v in rest[0].items() if k not in schema})
            else:
                schema[key] = rest
            schema["nullable"] = True
    if "prefixItems" in schema:
        items = schema.pop("prefixItems")
        schema["items"] = items[0] if all(i == items[0] for i in items) else {"anyOf": items}
        schema.setdefault("minItems", len(items))
        schema.setdefault("maxItems", len(items))
    if "const" in schema:
        schema["enum"] = [schema.pop("const")]
    if isinstance(schema.get("type"), list):
        every = schema.pop("type")
        types = [t for t in every if t != "null"]
        if len(types) != len(every):
            schema["nullable"] = True
        if len(types) == 1:
            schema["type"] = types[0]
        else:
            schema["anyOf"] = [{"type": t} for t in types]
    return schema


def model_schema(model: type[BaseModel], *, annotations: frozenset[str] = ANNOTATION_KEYS) -> dict[str, Any]:
    """One case's schema: the model's, self-contained, with the annotation keys allowed."""
    raw = model.model_json_schema(mode="validation")
    schema: dict[str, Any] = _resolve(raw, raw.get("$defs", {}))
    properties = schema.setdefault("properties", {})
    if "id" in properties:  # a case's id is text or a whole number (edc.inputs.cases.case_id_of)
        properties["id"] = CASE_ID
    for key in sorted(annotations):
        properties.setdefault(key, {"description": "An annotation for readers; no engine reads it."})
    for key in EXPECTED_KEYS:
        properties.setdefault(key, {"description": "A worked example's answer; not read."})
    return schema


def case_file_schema(
    sections: Mapping[str, dict[str, Any]], *, description: str, bare_list: str | None = None
) -> dict[str, Any]:
    """A case file: an object with one or more case lists (and the file's annotation keys)."""
    properties: dict[str, Any] = {
        name: {"type": "array", "items": schema} for name, schema in sections.items()
    }
    for key in sorted(FILE_ANNOTATION_KEYS):
        properties[key] = {"description": "An annotation of the file; not read."}
    document: dict[str, Any] = {
        "type": "object",
        "description": description,
        "properties": properties,
        "additionalProperties": False,
    }
    names: Sequence[str] = list(sections)
    document["anyOf"] = [{"required": [name]} for name in names]
    if bare_list is None:
        return document
    return {"oneOf": [{"type": "array", "items": sections[bare_list]}, document], "description": description}
