"""The REST door: error shape, strict input, reasons for change, versions, voiding, locks, scoping."""

import pytest

from edc.core.models import Role
from edc.core.services import ChangeReason, record_lock
from edc.subjects import services
from edc.subjects.models import Subject
from tests.factories import MembershipFactory, SubjectFactory, UserFactory

pytestmark = pytest.mark.django_db


def _url(subject=None, suffix=""):
    return f"/api/subjects/{subject.pk}/{suffix}" if subject else "/api/subjects/"


@pytest.fixture
def subject_a(two_sites):
    return SubjectFactory(site=two_sites.site_a, screening_number="A-001", birth_date="1961")


@pytest.fixture
def subject_b(two_sites):
    return SubjectFactory(site=two_sites.site_b, screening_number="B-001")


def _new(two_sites, **overrides):
    body = {
        "study": two_sites.study.pk,
        "site": two_sites.site_a.pk,
        "sex": "M",
        "birth_date": "1958-03",
    }
    body.update(overrides)
    return body


def _fresh(subject):
    return Subject.objects.get(pk=subject.pk)


def test_anonymous_requests_are_refused(api_client, subject_a):
    response = api_client.get(_url())
    assert response.status_code in (401, 403)
    assert response.json()["code"] == "not_authenticated"


def test_create_needs_no_reason_and_records_the_user(client_for, two_sites):
    response = client_for(two_sites.user_a).post(_url(), _new(two_sites), format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["version"] == 1
    assert response["ETag"] == '"1"'
    subject = Subject.objects.get()
    assert response.json()["screening_number"] == subject.screening_number  # drawn by the service
    assert str(subject.birth_date) == "1958-03"
    assert subject.history.get().history_user == two_sites.user_a


def test_bad_input_answers_400_with_field_errors_and_writes_nothing(client_for, two_sites):
    response = client_for(two_sites.user_a).post(
        _url(), _new(two_sites, sex="X", birth_date="1958-13"), format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["status"] == 400
    assert set(body["errors"]) == {"sex", "birth_date"}
    assert not Subject.objects.exists()


@pytest.mark.parametrize(
    "field, value",
    [
        ("study", 1.5),  # was accepted as 1
        ("study", True),
        ("study", "1.0"),
        ("site", "١"),
        ("site", [1]),
        ("initials", 12),  # was coerced to "12"
        ("sex", ["M"]),
        ("birth_date", 1961),
        ("birth_date", "١٩٦١"),  # Arabic-Indic digits were accepted
        ("birth_date", "１９６１-05"),  # full-width digits were accepted
        ("birth_date", "1800"),  # an implausible birth year was accepted
        ("birth_date", "2999-01"),
        ("screening_number", None),
    ],
)
def test_a_value_of_the_wrong_type_or_implausible_is_refused_naming_the_field(
    client_for, two_sites, field, value
):
    if field in ("study", "site") and isinstance(value, float):
        value = two_sites.study.pk + 0.5
    response = client_for(two_sites.user_a).post(_url(), _new(two_sites, **{field: value}), format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"]
    assert not Subject.objects.exists()


@pytest.mark.parametrize("field", ["status", "subject_identifier", "version", "voided_at", "id", "colour"])
def test_a_create_naming_a_read_only_or_unknown_field_is_refused_by_name(client_for, two_sites, field):
    response = client_for(two_sites.user_a).post(_url(), _new(two_sites, **{field: "x"}), format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not Subject.objects.exists()


# --- changes: reason and version ------------------------------------------------------------------


def _change(client, subject, body, version=None, **headers):
    if version is not None:
        headers["HTTP_IF_MATCH"] = f'"{version}"'
    return client.patch(_url(subject), body, format="json", **headers)


def test_patch_without_reason_answers_400_and_changes_nothing(client_for, two_sites, subject_a):
    response = _change(client_for(two_sites.user_a), subject_a, {"initials": "LW"}, version=1)
    assert response.status_code == 400
    assert "change_reason" in response.json()["errors"]
    stored = _fresh(subject_a)
    assert stored.initials == ""
    assert stored.history.count() == 1  # only the creation row: the refused PATCH added none


def test_a_reason_code_without_words_is_refused(client_for, two_sites, subject_a):
    response = _change(
        client_for(two_sites.user_a),
        subject_a,
        {"initials": "LW", "change_reason": " ", "change_reason_code": "transcription_error"},
        version=1,
    )
    assert response.status_code == 400
    assert "change_reason" in response.json()["errors"]


def test_put_without_reason_answers_400(client_for, two_sites, subject_a):
    payload = {"site": two_sites.site_a.pk, "sex": "M", "birth_date": "1961", "version": 1}
    response = client_for(two_sites.user_a).put(_url(subject_a), payload, format="json")
    assert response.status_code == 400
    assert _fresh(subject_a).sex == "F"


def test_put_with_reason_and_version_replaces_the_editable_fields(client_for, two_sites, subject_a):
    payload = {"site": two_sites.site_a.pk, "sex": "M", "birth_date": "1961-02", "initials": "QQ"}
    response = client_for(two_sites.user_a).put(
        _url(subject_a), {**payload, "version": 1, "change_reason": "source seen"}, format="json"
    )
    assert response.status_code == 200, response.json()
    stored = _fresh(subject_a)
    assert (stored.sex, str(stored.birth_date), stored.initials, stored.version) == ("M", "1961-02", "QQ", 2)


def test_patch_with_reason_changes_and_the_history_shows_old_new_and_reason(client_for, two_sites, subject_a):
    client = client_for(two_sites.user_a)
    response = _change(
        client,
        subject_a,
        {"birth_date": "1961-07", "change_reason": "ID card checked", "change_reason_code": "source_updated"},
        version=1,
    )
    assert response.status_code == 200, response.json()
    assert response.json()["birth_date"] == "1961-07"
    assert (response.json()["version"], response["ETag"]) == (2, '"2"')
    history = client.get(_url(subject_a, "history/")).json()
    newest = history[0]
    assert newest["user"] == "coord_a"
    assert newest["reason_code"] == "source_updated"
    assert newest["reason"] == "ID card checked"
    assert newest["version"] == 2
    assert newest["changes"]["birth_date"] == {"old": "1961", "new": "1961-07"}


def test_a_read_answers_the_version_in_the_body_and_as_etag(client_for, two_sites, subject_a):
    response = client_for(two_sites.user_a).get(_url(subject_a))
    assert response.json()["version"] == 1
    assert response["ETag"] == '"1"'
    listed = client_for(two_sites.user_a).get(_url()).json()["results"]
    assert listed[0]["version"] == 1


@pytest.mark.parametrize("how", ["if-match", "body"])
def test_two_clients_the_second_write_with_the_old_version_answers_409_and_the_first_survives(
    two_sites, subject_a, how
):
    from rest_framework.test import APIClient

    colleague = UserFactory(username="second_coordinator")
    MembershipFactory(
        user=colleague, study=two_sites.study, site=two_sites.site_a, role=Role.SITE_COORDINATOR
    )
    first, second = APIClient(), APIClient()
    first.force_authenticate(two_sites.user_a)
    second.force_authenticate(colleague)
    etag = first.get(_url(subject_a))["ETag"]
    assert second.get(_url(subject_a))["ETag"] == etag  # both read version 1
    saved = first.patch(
        _url(subject_a), {"initials": "AA", "change_reason": "first"}, format="json", HTTP_IF_MATCH=etag
    )
    assert saved.status_code == 200
    body = {"initials": "BB", "change_reason": "second, from an old page"}
    if how == "body":
        stale = second.patch(_url(subject_a), {**body, "version": 1}, format="json")
    else:
        stale = second.patch(_url(subject_a), body, format="json", HTTP_IF_MATCH=etag)
    assert stale.status_code == 409
    answer = stale.json()
    assert (answer["status"], answer["code"], answer["errors"]) == (409, "stale", {})
    assert answer["current"]["initials"] == "AA"
    assert answer["current"]["version"] == 2
    assert stale["ETag"] == '"2"'
    stored = _fresh(subject_a)
    assert (stored.initials, stored.version, stored.history.count()) == ("AA", 2, 2)
    assert stored.history.first().history_change_reason == "first"


@pytest.mark.parametrize("method", ["patch", "put"])
def test_a_change_without_any_version_answers_428_naming_the_field(client_for, two_sites, subject_a, method):
    payload = {"site": two_sites.site_a.pk, "sex": "M", "birth_date": "1961", "change_reason": "x"}
    response = getattr(client_for(two_sites.user_a), method)(_url(subject_a), payload, format="json")
    assert response.status_code == 428
    body = response.json()
    assert (body["code"], list(body["errors"])) == ("version_required", ["version"])
    assert _fresh(subject_a).sex == "F"


@pytest.mark.parametrize(
    "headers, body, field",
    [
        ({"HTTP_IF_MATCH": "*"}, {}, "If-Match"),
        ({"HTTP_IF_MATCH": 'W/"1"'}, {}, "If-Match"),
        ({"HTTP_IF_MATCH": "1"}, {}, "If-Match"),
        ({}, {"version": "one"}, "version"),
        ({}, {"version": 1.5}, "version"),
        ({}, {"version": True}, "version"),
        ({}, {"version": 0}, "version"),
        ({"HTTP_IF_MATCH": '"2"'}, {"version": 1}, "version"),
    ],
)
def test_a_malformed_or_contradictory_version_answers_400(
    client_for, two_sites, subject_a, headers, body, field
):
    response = client_for(two_sites.user_a).patch(
        _url(subject_a), {"initials": "X", "change_reason": "x", **body}, format="json", **headers
    )
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"]
    assert _fresh(subject_a).initials == ""


@pytest.mark.parametrize(
    "field, value",
    [
        ("status", "enrolled"),  # silently ignored with 200 before
        ("study", 1),
        ("screening_number", "A-999"),
        ("subject_identifier", "X-1"),
        ("voided_at", "2026-01-01T00:00:00Z"),
        ("created", "2026-01-01T00:00:00Z"),
        ("colour", "blue"),
    ],
)
def test_a_change_naming_a_read_only_or_unknown_field_answers_400_naming_it(
    client_for, two_sites, subject_a, field, value
):
    response = _change(
        client_for(two_sites.user_a),
        subject_a,
        {field: value, "initials": "LW", "change_reason": "x"},
        version=1,
    )
    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]
    stored = _fresh(subject_a)
    assert (stored.initials, stored.status, stored.version) == ("", "screening", 1)


def test_unknown_reason_code_is_a_field_error(client_for, two_sites, subject_a):
    response = _change(
        client_for(two_sites.user_a),
        subject_a,
        {"initials": "LW", "change_reason": "x", "change_reason_code": "whim"},
        version=1,
    )
    assert response.status_code == 400
    assert "change_reason_code" in response.json()["errors"]


# --- voiding and locks -----------------------------------------------------------------------------


def test_delete_is_refused_and_void_keeps_the_record(client_for, two_sites, subject_a):
    client = client_for(two_sites.user_a)
    assert client.delete(_url(subject_a)).status_code == 405
    assert client.post(_url(subject_a, "void/"), {"version": 1}, format="json").status_code == 400
    assert client.post(_url(subject_a, "void/"), {"change_reason": "dup"}, format="json").status_code == 428
    refused = client.post(
        _url(subject_a, "void/"), {"change_reason": "dup", "version": 1, "x": 1}, format="json"
    )
    assert (refused.status_code, list(refused.json()["errors"])) == (400, ["x"])
    response = client.post(
        _url(subject_a, "void/"), {"change_reason": "duplicate entry", "version": 1}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["voided_at"] is not None
    assert response["ETag"] == '"2"'
    listed = client.get(_url()).json()
    assert listed["results"] == []
    assert client.get(_url(subject_a)).status_code == 200  # still readable
    assert len(client.get(_url() + "?include_voided=1").json()["results"]) == 1


def test_voiding_with_a_stale_version_answers_409(client_for, two_sites, subject_a):
    services.subject_update(
        user=two_sites.user_a, subject=_fresh(subject_a), initials="AB", reason=ChangeReason("other", "x")
    )
    response = client_for(two_sites.user_a).post(
        _url(subject_a, "void/"), {"change_reason": "dup"}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert response.status_code == 409
    assert _fresh(subject_a).voided_at is None


def test_a_locked_record_answers_409_and_is_unchanged(client_for, two_sites, subject_a):
    record_lock(subject_a, user=two_sites.superuser)
    response = _change(
        client_for(two_sites.user_a), subject_a, {"initials": "LW", "change_reason": "typo"}, version=2
    )
    assert response.status_code == 409
    assert response.json()["code"] == "locked"
    assert _fresh(subject_a).initials == ""


# --- scoping and roles -----------------------------------------------------------------------------


def test_site_a_user_sees_nothing_of_site_b(client_for, two_sites, subject_a, subject_b):
    client = client_for(two_sites.user_a)
    listed = client.get(_url()).json()
    assert [row["screening_number"] for row in listed["results"]] == ["A-001"]
    assert client.get(_url(subject_b)).status_code == 404
    assert client.get(_url(subject_b, "history/")).status_code == 404
    filtered = client.get(_url() + f"?site={two_sites.site_b.pk}")
    assert filtered.status_code == 200
    assert filtered.json()["results"] == []
    assert client.get(_url() + "?screening_number=B-001").json()["results"] == []
    patch = _change(client, subject_b, {"initials": "X", "change_reason": "x"}, version=1)
    assert patch.status_code == 404


def test_a_user_cannot_create_at_a_site_they_do_not_see(client_for, two_sites):
    response = client_for(two_sites.user_a).post(
        _url(), _new(two_sites, site=two_sites.site_b.pk, screening_number="B-100"), format="json"
    )
    assert response.status_code == 400
    assert "site" in response.json()["errors"]
    assert not Subject.objects.filter(screening_number="B-100").exists()


def test_monitor_sees_all_sites_but_cannot_change(client_for, two_sites, subject_a, subject_b):
    client = client_for(two_sites.monitor)
    assert len(client.get(_url()).json()["results"]) == 2
    response = _change(client, subject_a, {"initials": "X", "change_reason": "x"}, version=1)
    assert response.status_code == 403
    assert response.json()["status"] == 403


def test_a_data_manager_reads_every_site_but_does_not_edit_clinical_data(client_for, two_sites, subject_a):
    manager = UserFactory(username="dm")
    MembershipFactory(user=manager, study=two_sites.study, site=None, role=Role.DATA_MANAGER)
    client = client_for(manager)
    assert client.get(_url(subject_a)).status_code == 200
    assert _change(client, subject_a, {"initials": "X", "change_reason": "x"}, version=1).status_code == 403
    assert client.post(_url(), _new(two_sites), format="json").status_code == 403
    assert not Subject.objects.exclude(pk=subject_a.pk).exists()


def test_after_a_move_the_new_site_sees_the_move_and_no_empty_old_values(client_for, two_sites, subject_b):
    mover = UserFactory(username="mover", is_superuser=True)
    services.subject_update(
        user=mover, subject=_fresh(subject_b), initials="BB", reason=ChangeReason("other", "b")
    )
    services.subject_update(
        user=mover, subject=_fresh(subject_b), site=two_sites.site_a, reason=ChangeReason("other", "moved")
    )
    history = client_for(two_sites.user_a).get(_url(subject_b, "history/")).json()
    assert len(history) == 1  # what site B entered before the move stays with site B
    (moved,) = history
    assert moved["kind"] == "moved"
    assert moved["changes"] == {"site": {"old": two_sites.site_b.pk, "new": two_sites.site_a.pk}}
    full = client_for(mover).get(_url(subject_b, "history/")).json()
    assert [entry["kind"] for entry in full] == ["moved", "changed", "created"]


def test_subject_list_costs_a_fixed_number_of_queries(client_for, two_sites, django_assert_num_queries):
    client = client_for(two_sites.user_a)
    SubjectFactory(site=two_sites.site_a)
    # One query: the page and one row more (cursor pages count nothing; scoping is a subquery,
    # relations are joined). It was 2 with numbered pages (a COUNT first).
    with django_assert_num_queries(1):
        client.get(_url())
    for _ in range(10):
        SubjectFactory(site=two_sites.site_a)
    with django_assert_num_queries(1):
        assert len(client.get(_url()).json()["results"]) == 11


def test_subject_history_costs_a_fixed_number_of_queries(
    client_for, two_sites, subject_a, django_assert_num_queries
):
    client = client_for(two_sites.user_a)
    # the record (scoped), its history rows with users and visibility in one query
    with django_assert_num_queries(2):
        client.get(_url(subject_a, "history/"))
    for n in range(5):
        services.subject_update(
            user=two_sites.user_a,
            subject=_fresh(subject_a),
            initials=f"A{n}",
            reason=ChangeReason("other", "x"),
        )
    with django_assert_num_queries(2):
        assert len(client.get(_url(subject_a, "history/")).json()) == 6


def test_schema_and_docs_are_served(client_for, two_sites):
    client = client_for(two_sites.user_a)
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/subjects/" in schema.content
    assert client.get("/api/docs/").status_code == 200


@pytest.mark.parametrize("param", ["rescreen_of", "site", "status"])
def test_an_empty_filter_value_is_refused_naming_it_instead_of_listing_everything(
    client_for, two_sites, subject_a, param
):
    response = client_for(two_sites.user_a).get(_url(), {param: ""})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == [param]
    # Left out, the parameter is no filter.
    assert client_for(two_sites.user_a).get(_url()).json()["results"][0]["id"] == str(subject_a.pk)


@pytest.mark.parametrize(
    ("path", "query", "param"),
    [
        ("/api/exposures/", {"cycle": "0.5"}, "cycle"),  # an integer column: no rounding, no silence
        ("/api/radiotherapy-courses/", {"on_study": "null"}, "on_study"),  # "null" is no boolean
        ("/api/tumor-assessments/", {"response_mismatch": "unknown"}, "response_mismatch"),
        ("/api/reports/sae/", {"as_of": ""}, "as_of"),  # empty is refused, not read as "now"
    ],
)
def test_a_filter_value_of_the_wrong_type_is_refused_naming_it(client_for, two_sites, path, query, param):
    response = client_for(two_sites.user_a).get(path, query)
    assert response.status_code == 400, response.json()
    assert list(response.json()["errors"]) == [param]


def test_an_empty_date_in_a_form_encoded_body_is_refused_not_read_as_left_out(
    client_for, two_sites, subject_a
):
    client = client_for(two_sites.user_a)
    answer = client.post(f"{_url(subject_a)}screen-fail/", {"reason": "no consent", "date": ""})
    assert answer.status_code == 400, answer.json()
    assert list(answer.json()["errors"]) == ["date"]
    subject_a.refresh_from_db()
    assert subject_a.status == "screening"
