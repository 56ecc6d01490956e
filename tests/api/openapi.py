"""Test helpers: the served OpenAPI schema, and a check of a real answer against what it documents."""

from __future__ import annotations

import copy
from typing import Any

import jsonschema
from rest_framework.test import APIClient


def served_schema() -> dict[str, Any]:
    response = APIClient().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200, response.content
    return response.json()


def operation(schema: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    return schema["paths"][path][method.lower()]


def _json_schema(node: Any) -> Any:
    """OpenAPI 3.0 schema objects as JSON Schema: `nullable: true` becomes a null alternative."""
    if isinstance(node, list):
        return [_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _json_schema(value) for key, value in node.items()}
    if converted.pop("nullable", False):
        if "type" in converted and "enum" not in converted:
            converted["type"] = [converted["type"], "null"]
        else:
            return {"anyOf": [converted, {"type": "null"}]}
    return converted


def assert_documented(schema: dict[str, Any], method: str, path: str, response: Any) -> None:
    """The answer's status is documented for the operation, and its body is valid against that schema."""
    responses = operation(schema, method, path)["responses"]
    status = str(response.status_code)
    assert status in responses, f"{method} {path} answered {status}, documented: {sorted(responses)}"
    documented = responses[status]
    for name, header in documented.get("headers", {}).items():
        if header.get("required"):
            assert name in response, f"{method} {path} {status} lacks its header {name}"
    content = documented.get("content", {}).get("application/json")
    if content is None:
        return
    root = {"components": _json_schema(copy.deepcopy(schema["components"]))}
    root.update(_json_schema(copy.deepcopy(content["schema"])))
    jsonschema.validate(response.json(), root)
