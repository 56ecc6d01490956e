"""The tools in the OpenAPI schema: request and response bodies described, and truthfully so.

The worked examples validate against each tool's request schema and the answers against its response
schema; a body the tool refuses for its shape (an unknown key, a wrong type) is invalid by the schema
too, so a schema-driven fuzzer (schemathesis) generates useful valid and invalid requests.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from rest_framework.test import APIClient

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "domain" / "examples"
POSTS = {
    "/api/tools/recist/evaluate/": EXAMPLES / "recist_examples.json",
    "/api/tools/irecist/evaluate/": EXAMPLES / "irecist_examples.json",
    "/api/tools/endpoints/evaluate/": EXAMPLES / "endpoints_examples.json",
    "/api/ctcae/grade/": EXAMPLES / "ctcae_examples.json",
}


@pytest.fixture(scope="module")
def schema(django_db_blocker) -> dict[str, Any]:
    with django_db_blocker.unblock():
        response = APIClient().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return json.loads(response.content)


def json_schema(node: Any) -> Any:
    """OpenAPI 3.0's ``nullable`` as JSON Schema (what schemathesis does too)."""
    if isinstance(node, list):
        return [json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: json_schema(value) for key, value in node.items() if key != "nullable"}
    if node.get("nullable"):
        return {"anyOf": [out, {"type": "null"}]}
    return out


def body_schema(schema: dict, path: str, status: str | None = None) -> dict:
    operation = schema["paths"][path]["post"]
    content = operation["responses"][status]["content"] if status else operation["requestBody"]["content"]
    return json_schema(content["application/json"]["schema"])


def is_valid(instance: Any, against: dict) -> bool:
    return jsonschema.Draft4Validator(against, format_checker=jsonschema.FormatChecker()).is_valid(instance)


@pytest.mark.parametrize("path", sorted(POSTS))
def test_every_tool_describes_its_request_and_its_answers(schema, path):
    operation = schema["paths"][path]["post"]
    assert list(operation["requestBody"]["content"]) == ["application/json"]
    assert {"200", "400", "401", "413", "415", "429"} <= set(operation["responses"])
    # Every error answer is the API's one error shape (the Error component).
    for code in ("400", "401", "413", "415", "429"):
        body = operation["responses"][code]["content"]["application/json"]["schema"]
        assert body == {"$ref": "#/components/schemas/Error"}, code


@pytest.mark.parametrize("path", sorted(POSTS))
def test_the_worked_examples_are_valid_requests_and_their_answers_valid_responses(schema, path, ctcae_terms):
    body = json.loads(POSTS[path].read_text(encoding="utf-8"))
    jsonschema.Draft4Validator(body_schema(schema, path), format_checker=jsonschema.FormatChecker()).validate(
        body
    )
    client = APIClient()
    client.force_authenticate(UserFactory(username="schema"))
    answer = client.post(path, data=body, format="json")
    assert answer.status_code == 200
    jsonschema.Draft4Validator(body_schema(schema, path, "200")).validate(answer.json())


def _broken_endpoints() -> list[tuple[str, Any]]:
    good = json.loads(POSTS["/api/tools/endpoints/evaluate/"].read_text(encoding="utf-8"))

    def changed(change):
        body = copy.deepcopy(good)
        change(body)
        return body

    return [
        ("an unknown key", changed(lambda b: b["cases"][0]["subjects"][0].update(colour="red"))),
        ("a date as a number", changed(lambda b: b["cases"][0]["subjects"][0].update(anchor_date=20240101))),
        ("an unknown response", changed(lambda b: b["cases"][0]["subjects"][0].update(best_response="iCR"))),
        ("text for a flag", changed(lambda b: b["cases"][0]["subjects"][0].update(in_analysis_set="yes"))),
        ("no case list", {"subjects": []}),
        ("a negative landmark", changed(lambda b: b["cases"][0].update(landmarks_days=[-5]))),
    ]


@pytest.mark.parametrize(("what", "body"), _broken_endpoints(), ids=[w for w, _ in _broken_endpoints()])
def test_a_body_the_tool_refuses_for_its_shape_is_invalid_by_the_schema(schema, what, body):
    assert not is_valid(body, body_schema(schema, "/api/tools/endpoints/evaluate/"))
    client = APIClient()
    client.force_authenticate(UserFactory(username="schema"))
    assert client.post("/api/tools/endpoints/evaluate/", data=body, format="json").status_code == 400


def test_recist_measurements_are_described_in_every_form_the_format_allows(schema):
    request = body_schema(schema, "/api/tools/recist/evaluate/")
    follow_up = request["properties"]["response_cases"]["items"]["properties"]["follow_ups"]["items"]
    measurement = follow_up["properties"]["target_measurements_mm"]["anyOf"][0]["additionalProperties"]
    for value in (12, 0, "TOO_SMALL_TO_MEASURE", {"fragments_mm": [4, 6]}, {"merged_into": "T1"}, None):
        assert is_valid(value, measurement), value
    for value in (-1, "12", {"fragments_mm": []}, {"kind": "measured"}):
        assert not is_valid(value, measurement), value


def test_the_terms_list_documents_search_version_and_its_page(schema):
    operation = schema["paths"]["/api/ctcae/terms/"]["get"]
    assert {p["name"] for p in operation["parameters"]} == {"cursor", "page_size", "search", "version"}
    page = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert page.endswith("/PaginatedCtcaeTermList")
