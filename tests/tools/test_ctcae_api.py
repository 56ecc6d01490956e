"""/api/ctcae/grade/ grades like `ctcae_grade` with the stored terms; /api/ctcae/terms/ searches them."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from edc.safety.models import CtcaeTerm
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "domain" / "examples" / "ctcae_examples.json"
SHAPE_KEYS = {"status", "code", "detail", "errors"}


@pytest.fixture
def client() -> APIClient:
    api = APIClient(raise_request_exception=False)
    api.force_authenticate(UserFactory(username="grader"))
    return api


def grade(client: APIClient, body, query: str = "") -> object:
    return client.post(f"/api/ctcae/grade/{query}", data=json.dumps(body), content_type="application/json")


def printed(path: Path, *args: str) -> dict:
    out = StringIO()
    call_command("ctcae_grade", str(path), *args, stdout=out)
    return json.loads(out.getvalue())


# --- grading ----------------------------------------------------------------------------------------


def test_the_api_grades_the_example_file_exactly_as_the_command_prints_it(client, ctcae_terms):
    response = grade(client, json.loads(EXAMPLES.read_text(encoding="utf-8")))
    assert response.status_code == 200, response.content[:300]
    assert response.json() == printed(EXAMPLES)


def test_a_plain_list_is_graded_as_the_command_grades_it(client, ctcae_terms, tmp_path):
    cases = [
        {"id": "A", "term": "Anemia", "value": "7.5", "unit": "g/dL", "lln": 12},
        {"id": "B", "meddra_code": "10020772", "systolic": 162, "diastolic": 88, "population": "adult"},
        {"id": "C", "term": "Febrile neutropenia", "anc": 500, "anc_unit": "/mm3", "temperature_c": "38.5"},
        {"id": "D", "term": "Nausea"},
    ]
    path = tmp_path / "list.json"
    path.write_text(json.dumps(cases))
    answer = grade(client, cases).json()
    assert answer == printed(path)
    assert [answer[k]["grade"] for k in "ABCD"] == [3, 3, 3, None]


def test_a_request_the_engine_cannot_grade_answers_400_naming_the_case_and_field(client, ctcae_terms):
    response = grade(
        client,
        [
            {"id": "OK", "term": "Anemia", "value": 9, "unit": "g/dL", "lln": 12},
            {"id": "BADUNIT", "term": "Neutrophil count decreased", "value": 1, "unit": "G/L", "lln": 2},
            {"id": "TYPO", "term": "Anemia", "valeu": 9},
        ],
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) == {"[1].unit", "[2].valeu"}
    assert "G/L" in errors["[1].unit"][0]
    assert errors["[2].valeu"][0].startswith("unknown field (known: ")


def test_an_object_body_locates_errors_under_grading_cases(client, ctcae_terms):
    answer = grade(client, {"grading_cases": [{"term": "Anemia"}]}).json()
    assert answer["errors"] == {"grading_cases[0].id": ["required: a non-empty text id"]}


def test_a_version_without_stored_terms_answers_404_and_a_malformed_one_400_naming_version(
    client, ctcae_terms
):
    response = grade(client, [{"id": "A", "term": "Anemia"}], "?version=6.0")
    assert response.status_code == 404
    assert set(response.json()) == SHAPE_KEYS
    assert "no CTCAE v6.0 terms in the database" in response.json()["detail"]
    malformed = grade(client, [{"id": "A", "term": "Anemia"}], "?version=five")
    assert malformed.status_code == 400
    assert malformed.json()["errors"] == {"version": ["'five' is not a CTCAE version such as 5.0."]}


def test_grading_with_an_empty_dictionary_answers_404_not_a_server_error(client, no_ctcae_terms):
    response = grade(client, [{"id": "A", "term": "Anemia"}])
    assert response.status_code == 404
    assert "load_ctcae" in response.json()["detail"]


def test_grading_needs_a_signed_in_user(ctcae_terms):
    response = APIClient().post("/api/ctcae/grade/", data=[], format="json")
    assert response.status_code == 401


def test_grading_reads_the_dictionary_in_one_query(client, ctcae_terms, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert (
            grade(client, [{"id": "A", "term": "Anemia", "value": 9, "unit": "g/dL", "lln": 12}]).status_code
            == 200
        )


# --- searching the terms ------------------------------------------------------------------------------


def terms(client: APIClient, **params) -> dict:
    response = client.get("/api/ctcae/terms/", params)
    assert response.status_code == 200, response.content[:300]
    return response.json()


def all_terms(client: APIClient, **params) -> list[dict]:
    """Every term the search finds, following the cursor pages' `next` links."""
    page = terms(client, page_size=200, **params)
    found = list(page["results"])
    while page["next"]:
        response = client.get(page["next"])
        assert response.status_code == 200, response.content[:300]
        page = response.json()
        found += page["results"]
    return found


def test_terms_are_searched_by_term_meddra_code_and_soc(client, ctcae_terms):
    by_term = terms(client, search="febrile neutropenia")
    assert [t["term"] for t in by_term["results"]] == ["Febrile neutropenia"]
    assert by_term["results"][0]["meddra_code"] == "10016288"
    by_code = terms(client, search="10016288")
    assert [t["term"] for t in by_code["results"]] == ["Febrile neutropenia"]
    by_soc = all_terms(client, search="Blood and lymphatic system disorders")
    expected = CtcaeTerm.objects.filter(soc="Blood and lymphatic system disorders").count()
    assert len(by_soc) == expected
    assert expected > 5


def test_a_term_lists_only_the_grades_that_exist_for_it_with_their_text(client, ctcae_terms):
    (term,) = terms(client, search="Febrile neutropenia")["results"]
    assert [g["grade"] for g in term["grades"]] == [3, 4, 5]
    assert term["grades"][2]["text"] == "Death"
    assert set(term) == {"version", "meddra_code", "soc", "term", "grades", "definition", "navigational_note"}


def test_terms_are_paged_by_cursor_and_filtered_by_version(client, ctcae_terms):
    first = terms(client)
    assert len(first["results"]) == 50
    assert first["next"] and first["previous"] is None
    everything = all_terms(client)
    assert len(everything) == 837
    assert len({t["meddra_code"] for t in everything}) == 837  # no term twice across pages
    assert len(all_terms(client, version="5.0")) == 837
    assert terms(client, version="6.0")["results"] == []


def test_the_terms_list_costs_one_query_whatever_the_page(client, ctcae_terms):
    second_page = terms(client)["next"]
    for request in ({}, {"search": "anemia"}, {"version": "5.0", "page_size": 10}):
        with CaptureQueriesContext(connection) as queries:
            terms(client, **request)
        assert len(queries) == 1, [q["sql"] for q in queries]  # the page: cursor pages need no count
    with CaptureQueriesContext(connection) as queries:
        assert client.get(second_page).status_code == 200
    assert len(queries) == 1


def test_the_terms_list_needs_a_signed_in_user(ctcae_terms):
    assert APIClient().get("/api/ctcae/terms/").status_code == 401


def test_a_cursor_that_is_not_this_lists_answers_400_in_the_error_shape(client, ctcae_terms):
    response = client.get("/api/ctcae/terms/", {"cursor": "not-a-cursor"})
    assert response.status_code == 400
    assert set(response.json()) == SHAPE_KEYS
    assert "cursor" in response.json()["errors"]
