"""The OpenAPI schema at /api/schema/ says what the API does (and the API answers what it says)."""

from __future__ import annotations

import pytest
from drf_spectacular.validation import validate_schema

from edc.core.services import ChangeReason, record_lock
from edc.subjects import services
from edc.subjects.models import Subject
from tests.api.openapi import assert_documented, operation, served_schema
from tests.factories import SubjectFactory

pytestmark = pytest.mark.django_db

SUBJECT = "/api/subjects/{id}/"
CHANGES = [("put", SUBJECT), ("patch", SUBJECT), ("post", "/api/subjects/{id}/void/")]


@pytest.fixture(scope="module")
def schema(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        return served_schema()


def _component(schema, ref_or_schema):
    ref = ref_or_schema.get("$ref") or ref_or_schema["allOf"][0]["$ref"]
    return schema["components"]["schemas"][ref.rsplit("/", 1)[1]]


def _request_body(schema, method, path):
    return _component(
        schema, operation(schema, method, path)["requestBody"]["content"]["application/json"]["schema"]
    )


def _operations(schema):
    for path, methods in schema["paths"].items():
        for method, op in methods.items():
            yield method, path, op


def test_the_schema_is_valid_openapi(schema):
    validate_schema(schema)


def test_no_operation_offers_delete_and_delete_answers_405_without_offering_it(schema, client_for, two_sites):
    assert [(m, p) for m, p, _ in _operations(schema) if m == "delete"] == []
    subject = SubjectFactory(site=two_sites.site_a)
    response = client_for(two_sites.user_a).delete(f"/api/subjects/{subject.pk}/")
    assert response.status_code == 405
    assert "void" in response.json()["detail"]
    assert "DELETE" not in response["Allow"]


@pytest.mark.parametrize(("method", "path"), CHANGES)
def test_changes_and_voids_state_the_reason_and_the_version(schema, method, path):
    body = _request_body(schema, method, path)
    assert {"change_reason", "change_reason_code", "version"} <= set(body["properties"])
    assert "change_reason" in body["required"]
    assert "version" not in body.get("required", [])  # or If-Match: OpenAPI cannot say "one of"
    assert body["additionalProperties"] is False
    (if_match,) = [p for p in operation(schema, method, path)["parameters"] if p["name"] == "If-Match"]
    assert if_match["in"] == "header"
    assert not if_match.get("required", False)
    responses = operation(schema, method, path)["responses"]
    assert {"409", "428"} <= set(responses)


def test_a_change_body_offers_exactly_the_editable_fields(schema):
    patched = _request_body(schema, "patch", SUBJECT)
    assert set(patched["properties"]) == {
        *Subject.editable_fields,
        "change_reason",
        "change_reason_code",
        "version",
    }
    assert patched["required"] == ["change_reason"]
    created = _request_body(schema, "post", "/api/subjects/")
    assert {"study", "site"} <= set(created["properties"])
    # The screening number is drawn by the service (the study's pattern), never sent.
    assert not {"change_reason", "version", "status", "id", "screening_number"} & set(created["properties"])


def test_read_only_fields_are_marked_and_left_out_of_request_bodies(schema):
    subject = schema["components"]["schemas"]["Subject"]["properties"]
    read_only = {name for name, field in subject.items() if field.get("readOnly")}
    assert read_only == {
        "id",
        "subject_identifier",
        "status",
        "version",
        "created",
        "updated",
        "voided_at",
        "void_reason",
        # set by the journey's transitions (screening, screen failure, re-screening, enrollment)
        "screening_number",
        "screen_failed_on",
        "screen_fail_reason",
        "screen_fail_criteria",
        "rescreen_of",
        "arm",
        "enrollment_date",
        "planned_first_dose",
    }
    assert not read_only & set(_request_body(schema, "post", "/api/subjects/")["properties"])


@pytest.mark.parametrize(
    ("component", "field"),
    [
        ("Subject", "voided_at"),
        ("VisitDefinition", "phase"),  # a visit outside any phase: the slug of no phase is null
        ("FormItem", "codelist"),  # an item without a codelist
        ("Intervention", "phase"),
        ("HistoryEntry", "user"),
    ],
)
def test_fields_that_can_be_null_are_marked_nullable(schema, component, field):
    assert schema["components"]["schemas"][component]["properties"][field].get("nullable") is True


def test_every_field_of_an_answer_is_marked_present(schema):
    for name, component in schema["components"]["schemas"].items():
        if "properties" in component and not name.endswith("Request"):
            assert set(component.get("required", [])) == set(component["properties"]), name


# POST paths of one segment that create no audited record (the token, the engines as tools).
_NOT_RECORD_COLLECTIONS = {"/api/auth/token/", "/api/ctcae/grade/"}


def _expected_errors(method, path):
    codes = {"400", "429"}
    if path != "/api/auth/token/":
        codes.add("401")
        if method != "get":
            codes.add("403")
    if "{" in path:
        codes.add("404")
    if method in ("post", "put", "patch"):
        codes |= {"413", "415"}
    if (method in ("put", "patch") and path.count("/") == 4) or path.endswith("/void/"):
        codes |= {"409", "428"}  # a change or void of a clinical record: locked, stale, no version
    if method == "post" and path.count("/") == 3 and path not in _NOT_RECORD_COLLECTIONS:
        codes.add("409")  # a new clinical record under a locked study or subject
    if method == "post" and "{" in path:
        codes.add("409")  # an action on a record: locked, or stale against the `version` it states
    if (method, path) == ("post", "/api/ctcae/grade/"):
        codes.add("404")  # ?version= names a CTCAE version with no stored terms
    if (method, path) == ("post", "/api/visits/{id}/forms/{code}/"):
        # A form the door does not write (per subject, no model, entered in its parent).
        codes.add("405")
    if (method, path) == ("get", "/api/audit-trail/"):
        codes |= {"403", "404"}  # a role that exports no trail; a subject or study the user does not see
    if (method, path) == ("get", "/api/reports/overdue-visits/"):
        codes.add("404")  # ?study= or ?site= naming one the user does not see
    return codes


def test_every_operation_documents_its_errors_in_the_one_error_shape(schema):
    for method, path, op in _operations(schema):
        errors = {code for code in op["responses"] if code >= "400"}
        assert errors == _expected_errors(method, path), (method, path)
        for code in errors:
            body = op["responses"][code]["content"]["application/json"]["schema"]
            assert _component(schema, body) is schema["components"]["schemas"]["Error"], (method, path, code)
            assert op["responses"][code]["description"]
        assert op["responses"]["429"]["headers"]["Retry-After"]["required"] is True
    error = schema["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"status", "code", "detail", "errors"}


def test_the_stale_answer_documents_the_stored_record_and_its_etag(schema):
    conflict = operation(schema, "patch", SUBJECT)["responses"]["409"]
    current = conflict["content"]["application/json"]["schema"]["allOf"][1]["properties"]["current"]
    assert current["allOf"][0]["$ref"] == "#/components/schemas/Subject"
    assert "ETag" in conflict["headers"]


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("get", SUBJECT, "200"),
        ("post", "/api/subjects/", "201"),
        ("put", SUBJECT, "200"),
        ("patch", SUBJECT, "200"),
        ("post", "/api/subjects/{id}/void/", "200"),
    ],
)
def test_every_answer_carrying_a_record_documents_its_etag(schema, method, path, status):
    assert operation(schema, method, path)["responses"][status]["headers"]["ETag"]["required"] is True


def test_the_history_is_documented_as_the_bare_array_it_is(schema):
    op = operation(schema, "get", "/api/subjects/{id}/history/")
    answer = op["responses"]["200"]["content"]["application/json"]["schema"]
    assert answer == {"type": "array", "items": {"$ref": "#/components/schemas/HistoryEntry"}}
    assert [p["name"] for p in op["parameters"]] == ["id"]  # not paged, not filtered
    entry = schema["components"]["schemas"]["HistoryEntry"]["properties"]
    assert entry["changes"]["additionalProperties"]["$ref"] == "#/components/schemas/FieldChange"


@pytest.mark.parametrize("path", ["/api/subjects/", "/api/studies/", "/api/forms/"])
def test_every_list_documents_cursor_pages_and_updated_since(schema, path):
    op = operation(schema, "get", path)
    names = {p["name"] for p in op["parameters"]}
    assert {"cursor", "page_size", "updated_since"} <= names
    assert "page" not in names
    page = _component(schema, op["responses"]["200"]["content"]["application/json"]["schema"])
    assert set(page["properties"]) == {"next", "previous", "results"}


def test_the_token_endpoint_is_documented_with_its_request_and_answer(schema):
    op = operation(schema, "post", "/api/auth/token/")
    assert op.get("security", []) in ([], [{}]) and "security" not in schema  # no credentials needed
    body = _request_body(schema, "post", "/api/auth/token/")
    assert set(body["properties"]) == {"username", "password"}
    assert body["additionalProperties"] is False
    answer = _component(schema, op["responses"]["200"]["content"]["application/json"]["schema"])
    assert set(answer["properties"]) == {"token", "expires"}
    assert "401" not in op["responses"]


def test_operations_are_described_for_people_not_with_the_code_s_docstrings(schema):
    for method, path, op in _operations(schema):
        assert "Subclasses" not in op.get("description", ""), (method, path)
    assert "The base of every record serializer" not in str(schema["components"])


# --- the answers are what the schema documents -------------------------------------------------------


def test_real_answers_match_their_documented_schema(schema, client_for, two_sites, api_client):
    subject = SubjectFactory(site=two_sites.site_a)
    other = SubjectFactory(site=two_sites.site_b)
    client = client_for(two_sites.user_a)
    checks = [
        ("get", "/api/subjects/", client.get("/api/subjects/")),
        ("get", SUBJECT, client.get(f"/api/subjects/{subject.pk}/")),
        ("get", SUBJECT, client.get(f"/api/subjects/{other.pk}/")),  # 404
        ("get", "/api/subjects/{id}/history/", client.get(f"/api/subjects/{subject.pk}/history/")),
        ("get", "/api/subjects/", client.get("/api/subjects/", {"cursor": "nonsense"})),  # 400
        ("patch", SUBJECT, client.patch(f"/api/subjects/{subject.pk}/", {"change_reason": "x"})),  # 428
        (
            "patch",
            SUBJECT,
            client.patch(
                f"/api/subjects/{subject.pk}/",
                {"initials": "AB", "change_reason": "typo"},
                HTTP_IF_MATCH='"1"',
            ),
        ),
        (  # stale: 409 with the stored record
            "patch",
            SUBJECT,
            client.patch(
                f"/api/subjects/{subject.pk}/",
                {"initials": "CD", "change_reason": "typo"},
                HTTP_IF_MATCH='"1"',
            ),
        ),
        ("get", "/api/studies/", client.get("/api/studies/")),
        ("get", "/api/studies/{id}/", client.get(f"/api/studies/{two_sites.study.pk}/")),
        ("get", "/api/forms/", client.get("/api/forms/")),
    ]
    monitor = client_for(two_sites.monitor)
    checks.append(
        (
            "post",
            "/api/subjects/{id}/void/",
            monitor.post(f"/api/subjects/{subject.pk}/void/", {"change_reason": "x"}, HTTP_IF_MATCH='"2"'),
        )
    )  # 403
    services.subject_update(
        user=two_sites.user_a,
        subject=Subject.objects.get(pk=subject.pk),
        initials="EF",
        reason=ChangeReason("other", "x"),
    )
    record_lock(Subject.objects.get(pk=subject.pk), user=two_sites.superuser)
    client = client_for(two_sites.user_a)
    checks.append(
        (
            "post",
            "/api/subjects/{id}/void/",
            client.post(f"/api/subjects/{subject.pk}/void/", {"change_reason": "x", "version": 4}),
        )
    )  # 409 locked
    api_client.force_authenticate(None)
    checks.append(("get", "/api/subjects/", api_client.get("/api/subjects/")))  # 401
    checks.append(("post", "/api/auth/token/", api_client.post("/api/auth/token/", {"username": "x"})))  # 400
    statuses = []
    for method, path, response in checks:
        assert_documented(schema, method, path, response)
        statuses.append(response.status_code)
    assert statuses == [200, 200, 404, 200, 400, 428, 200, 409, 200, 200, 200, 403, 409, 401, 400]


# --- what schemathesis found (each once, here in the fast suite) ---------------------------------


def test_visits_offer_only_what_they_answer_reads_record_miss_and_history(schema):
    # A visit is written by its own actions (record, miss) and the schedule services, never created,
    # changed or voided through the generic doors: the schema offered those and the server said 405.
    offered = {(m, p) for m, p, _op in _operations(schema) if p.startswith("/api/visits/{id}/")}
    offered |= {(m, p) for m, p, _op in _operations(schema) if p == "/api/visits/"}
    assert ("patch", "/api/visits/{id}/") not in offered and ("put", "/api/visits/{id}/") not in offered
    assert ("post", "/api/visits/") not in offered and ("post", "/api/visits/{id}/void/") not in offered
    assert {("post", "/api/visits/{id}/record/"), ("post", "/api/visits/{id}/miss/")} <= offered


def test_the_overdue_report_is_one_page_object_and_a_query_s_close_kind_may_be_empty(schema):
    answer = schema["paths"]["/api/reports/overdue-visits/"]["get"]["responses"]["200"]
    page = _component(schema, answer["content"]["application/json"]["schema"])
    assert set(page["properties"]) == {"results", "offset", "limit", "next_offset"}
    close_kind = _component(schema, {"$ref": "#/components/schemas/Query"})["properties"]["close_kind"]
    kinds = [value for option in close_kind["oneOf"] for value in _component(schema, option).get("enum", [])]
    assert "" in kinds and "manual" in kinds
