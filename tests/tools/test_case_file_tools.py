"""The engines as API tools: /api/tools/{recist,irecist,endpoints}/evaluate/ answer exactly what the
commands print for the same file; bad input answers 400 with located errors; only signed-in users."""

from __future__ import annotations

import copy
import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "domain" / "examples"
TOOLS = {
    "recist": ("recist_evaluate", EXAMPLES / "recist_examples.json"),
    "irecist": ("irecist_evaluate", EXAMPLES / "irecist_examples.json"),
    "endpoints": ("endpoints_evaluate", EXAMPLES / "endpoints_examples.json"),
}
SHAPE_KEYS = {"status", "code", "detail", "errors"}


@pytest.fixture
def client() -> APIClient:
    api = APIClient(raise_request_exception=False)
    api.force_authenticate(UserFactory(username="reader"))  # no membership: the tools read no study data
    return api


def printed(command: str, path: Path) -> dict:
    out = StringIO()
    call_command(command, str(path), stdout=out)
    return json.loads(out.getvalue())


def post(client: APIClient, tool: str, body) -> object:
    return client.post(f"/api/tools/{tool}/evaluate/", data=json.dumps(body), content_type="application/json")


def document(tool: str) -> dict:
    return json.loads(TOOLS[tool][1].read_text(encoding="utf-8"))


@pytest.mark.parametrize("tool", sorted(TOOLS))
def test_the_tool_answers_exactly_what_its_command_prints_for_the_same_file(client, tool):
    command, path = TOOLS[tool]
    response = post(client, tool, document(tool))
    assert response.status_code == 200, response.content[:500]
    assert response.json() == printed(command, path)


def test_the_endpoints_tool_reproduces_the_worked_examples(client):
    answer = post(client, "endpoints", document("endpoints")).json()
    assert answer == {case["id"]: case["expected"] for case in document("endpoints")["cases"]}


@pytest.mark.parametrize("tool", sorted(TOOLS))
def test_signing_in_is_required(tool):
    response = APIClient().post(f"/api/tools/{tool}/evaluate/", data={}, format="json")
    assert response.status_code == 401
    assert set(response.json()) == SHAPE_KEYS


def test_an_invalid_case_answers_400_with_each_error_keyed_by_its_place_in_the_body(client):
    body = document("recist")
    bad = copy.deepcopy(body["response_cases"][1])
    bad["follow_ups"][0]["date"] = "2024-13-01"
    bad["protocl"] = bad.pop("protocol")
    body["response_cases"][1] = bad
    body["extra"] = True
    response = post(client, "recist", body)
    assert response.status_code == 400
    answer = response.json()
    assert set(answer) == SHAPE_KEYS
    assert (answer["status"], answer["code"]) == (400, "invalid")
    assert answer["errors"] == {
        "extra": ["unknown field (known: response_cases, measurability_cases, target_selection_cases)"],
        "response_cases[1].protocl": ["unknown field (known: baseline, follow_ups, id, protocol)"],
        "response_cases[1].protocol": ["required field is missing"],
        "response_cases[1].follow_ups[0].date": ["must be a date YYYY-MM-DD, got '2024-13-01'"],
    }


def test_an_endpoints_case_the_rules_cannot_use_answers_400_naming_the_subjects_field(client):
    body = document("endpoints")
    body["cases"][0]["subjects"][4]["progression_date"] = "2020-01-01"
    answer = post(client, "endpoints", body).json()
    assert answer["errors"] == {
        "cases[0].subjects[4].progression_date": ["2020-01-01 is before anchor_date 2024-03-18"]
    }


def test_a_case_without_an_id_is_located_by_its_position(client):
    case = copy.deepcopy(document("irecist")["cases"][0])
    del case["id"]
    answer = post(client, "irecist", {"cases": [case]}).json()
    assert answer["errors"] == {"cases[0].id": ["required: a non-empty text id"]}


@pytest.mark.parametrize("body", [[], "text", None, 3, {"cases": "all"}, {}])
def test_a_body_that_is_not_a_case_file_answers_400(client, body):
    response = post(client, "endpoints", body)
    assert response.status_code == 400
    assert set(response.json()) == SHAPE_KEYS
    assert response.json()["errors"]


def test_a_body_that_is_not_json_answers_400_and_a_form_body_415(client):
    broken = client.post("/api/tools/endpoints/evaluate/", data="{no", content_type="application/json")
    assert broken.status_code == 400
    assert broken.json()["code"] == "parse_error"
    form = client.post("/api/tools/endpoints/evaluate/", data={"cases": "x"}, format="multipart")
    assert form.status_code == 415


def test_a_body_nested_too_deeply_answers_400(client):
    deep = "[" * 5_000 + "]" * 5_000
    response = client.post("/api/tools/recist/evaluate/", data=deep, content_type="application/json")
    assert response.status_code == 400
    assert "nested deeper" in response.json()["detail"]


def test_a_body_over_the_upload_limit_answers_413(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    response = post(client, "endpoints", document("endpoints"))
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"


def test_only_post_is_allowed(client):
    assert client.get("/api/tools/recist/evaluate/").status_code == 405
