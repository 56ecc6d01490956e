"""No input causes a server error: nesting, NUL, oversize bodies and unknown paths answer 4xx.

Under /api/ every error, whoever produced it, has the API's shape
{"status", "code", "detail", "errors"}; elsewhere Django's HTML pages stay.
"""

from __future__ import annotations

import json

import pytest
from django.test import Client
from rest_framework.test import APIClient

from edc.api.parsers import MAX_JSON_DEPTH, json_depth_exceeds
from edc.subjects.api import SubjectViewSet
from edc.subjects.models import Subject
from tests.factories import SubjectFactory

pytestmark = pytest.mark.django_db

SHAPE_KEYS = {"status", "code", "detail", "errors"}
TOO_DEEP = "[" * 100_000 + "]" * 100_000


def _assert_shape(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == SHAPE_KEYS
    assert body["status"] == status
    if code is not None:
        assert body["code"] == code
    return body


@pytest.fixture
def anonymous() -> APIClient:
    return APIClient(raise_request_exception=False)


@pytest.fixture
def coordinator_a(two_sites) -> APIClient:
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(two_sites.user_a)
    return client


@pytest.fixture
def admin_browser(two_sites) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(two_sites.superuser)
    return client


# --- nesting ------------------------------------------------------------------------------------


def test_deeply_nested_json_on_the_token_endpoint_answers_400_without_logging_in(anonymous):
    response = anonymous.post("/api/auth/token/", data=TOO_DEEP, content_type="application/json")
    body = _assert_shape(response, 400, "parse_error")
    assert "nested" in body["detail"]


def test_deeply_nested_json_on_a_write_endpoint_answers_400_and_writes_nothing(coordinator_a):
    response = coordinator_a.post("/api/subjects/", data=TOO_DEEP, content_type="application/json")
    _assert_shape(response, 400, "parse_error")
    assert not Subject.objects.exists()


def test_json_one_level_over_the_limit_is_refused_and_at_the_limit_is_parsed(anonymous):
    at_limit = "[" * (MAX_JSON_DEPTH - 1) + "1" + "]" * (MAX_JSON_DEPTH - 1)
    over = json.dumps({"username": json.loads("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH), "password": "x"})
    refused = anonymous.post("/api/auth/token/", data=over, content_type="application/json")
    _assert_shape(refused, 400, "parse_error")
    payload = json.dumps({"username": json.loads(at_limit), "password": "x"})
    parsed = anonymous.post("/api/auth/token/", data=payload, content_type="application/json")
    body = _assert_shape(parsed, 400, "invalid")
    assert "username" in body["errors"]  # parsed, then refused as a field error: not a string


@pytest.mark.parametrize(
    "text, deeper",
    [
        (b'{"a": [1, {"b": 2}]}', False),
        (b'"' + b"[" * 100 + b'"', False),  # brackets inside a string do not nest
        (b'["\\"' + b"[" * 100 + b'"]', False),  # nor after an escaped quote
        (b"[" * (MAX_JSON_DEPTH + 1), True),  # malformed and deep: refused as deep
        (b"[]" * 10_000, False),  # many brackets, shallow
        (b"{" * (MAX_JSON_DEPTH + 1) + b"}" * (MAX_JSON_DEPTH + 1), True),
    ],
)
def test_json_depth_counts_only_brackets_outside_strings(text, deeper):
    assert json_depth_exceeds(text) is deeper


# --- NUL ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    ["status=%00", "screening_number__startswith=%00", "q=a%00b", "%00=1"],
)
def test_a_nul_in_an_admin_filter_answers_400(admin_browser, two_sites, query):
    SubjectFactory(site=two_sites.site_a)
    response = admin_browser.get(f"/admin/subjects/subject/?{query}")
    assert response.status_code == 400
    assert b"NUL" in response.content


def test_a_nul_in_an_admin_path_answers_400(admin_browser, two_sites):
    subject = SubjectFactory(site=two_sites.site_a)
    assert admin_browser.get("/admin/subjects/subject/%00/history/").status_code == 400
    assert admin_browser.get(f"/admin/subjects/subject/{subject.pk}/history/%00/").status_code == 400


def test_a_nul_in_an_api_path_or_query_answers_400_in_the_error_shape(coordinator_a):
    body = _assert_shape(coordinator_a.get("/api/subj%00ects/"), 400, "bad_request")
    assert "NUL" in body["detail"]
    _assert_shape(coordinator_a.get("/api/subjects/?screening_number=%00"), 400, "bad_request")
    _assert_shape(coordinator_a.get("/api/subjects/?include_voided=1%00"), 400, "bad_request")


def test_an_encoded_percent_sign_is_not_a_nul(coordinator_a):
    response = coordinator_a.get("/api/subjects/?screening_number=%2500")
    assert response.status_code == 200
    assert response.json()["results"] == []


# --- size ---------------------------------------------------------------------------------------


@pytest.fixture
def small_upload_limit(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 20


def test_a_json_body_over_the_upload_limit_answers_413_on_the_token_endpoint(anonymous, small_upload_limit):
    payload = json.dumps({"username": "u" * 2_000, "password": "x"})
    _assert_shape(
        anonymous.post("/api/auth/token/", data=payload, content_type="application/json"), 413, "too_large"
    )


def test_a_form_body_over_the_upload_limit_answers_413(anonymous, small_upload_limit):
    response = anonymous.post(
        "/api/auth/token/", data={"username": "u" * 2_000, "password": "x"}, format="multipart"
    )
    _assert_shape(response, 413, "too_large")
    encoded = anonymous.post(
        "/api/auth/token/", data="username=" + "u" * 2_000, content_type="application/x-www-form-urlencoded"
    )
    _assert_shape(encoded, 413, "too_large")


def test_a_body_over_the_upload_limit_answers_413_on_a_write_and_writes_nothing(
    coordinator_a, two_sites, small_upload_limit
):
    payload = {"study": two_sites.study.pk, "site": two_sites.site_a.pk, "screening_number": "A-9" * 500}
    response = coordinator_a.post("/api/subjects/", data=json.dumps(payload), content_type="application/json")
    _assert_shape(response, 413, "too_large")
    assert not Subject.objects.exists()


def test_too_many_form_fields_answer_400_in_the_error_shape(anonymous, small_upload_limit):
    body = "&".join(f"f{i}=1" for i in range(50))
    response = anonymous.post("/api/auth/token/", data=body, content_type="application/x-www-form-urlencoded")
    _assert_shape(response, 400, "bad_request")


# --- unknown paths and the other generic errors -----------------------------------------------


@pytest.mark.parametrize("path", ["/api/nope/", "/api/subjects/1/2/3/", "/api/auth/"])
def test_an_unknown_api_path_answers_a_json_404(anonymous, path):
    _assert_shape(anonymous.get(path), 404, "not_found")
    _assert_shape(anonymous.post(path, data={}, format="json"), 404, "not_found")


def test_an_unknown_api_path_answers_json_with_debug_on_too(anonymous, settings):
    settings.DEBUG = True
    _assert_shape(anonymous.get("/api/nope/"), 404, "not_found")


def test_an_unknown_path_outside_the_api_keeps_the_html_page(admin_browser):
    response = admin_browser.get("/nope/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_a_wrong_method_answers_405_in_the_error_shape(anonymous, coordinator_a, two_sites):
    _assert_shape(anonymous.get("/api/auth/token/"), 405, "method_not_allowed")
    subject = SubjectFactory(site=two_sites.site_a)
    _assert_shape(coordinator_a.delete(f"/api/subjects/{subject.pk}/"), 405)


def test_an_unsupported_media_type_answers_415_in_the_error_shape(anonymous):
    response = anonymous.post("/api/auth/token/", data="username=a", content_type="text/plain")
    _assert_shape(response, 415, "unsupported_media_type")


def test_malformed_json_answers_400_in_the_error_shape(anonymous, coordinator_a):
    _assert_shape(
        anonymous.post("/api/auth/token/", data="{", content_type="application/json"), 400, "parse_error"
    )
    _assert_shape(
        coordinator_a.post("/api/subjects/", data='{"a": NaN}', content_type="application/json"), 400
    )


def test_a_server_error_under_the_api_answers_500_in_the_error_shape(coordinator_a, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("a defect")

    monkeypatch.setattr(SubjectViewSet, "list", broken)
    body = _assert_shape(coordinator_a.get("/api/subjects/"), 500, "server_error")
    assert "defect" not in body["detail"]  # nothing of the exception leaks to the client
