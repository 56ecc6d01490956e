"""The REST door: error shape, reasons for change, voiding, locks and site scoping."""

import pytest
from django.utils import timezone

from edc.subjects.models import Subject
from tests.factories import SubjectFactory

pytestmark = pytest.mark.django_db


def _url(subject=None, suffix=""):
    return f"/api/subjects/{subject.pk}/{suffix}" if subject else "/api/subjects/"


@pytest.fixture
def subject_a(two_sites):
    return SubjectFactory(site=two_sites.site_a, screening_number="A-001", birth_date="1961")


@pytest.fixture
def subject_b(two_sites):
    return SubjectFactory(site=two_sites.site_b, screening_number="B-001")


def test_anonymous_requests_are_refused(api_client, subject_a):
    response = api_client.get(_url())
    assert response.status_code in (401, 403)
    assert response.json()["code"] == "not_authenticated"


def test_create_needs_no_reason_and_records_the_user(client_for, two_sites):
    response = client_for(two_sites.user_a).post(
        _url(),
        {
            "study": two_sites.study.pk,
            "site": two_sites.site_a.pk,
            "screening_number": "A-100",
            "sex": "M",
            "birth_date": "1958-03",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    subject = Subject.objects.get(screening_number="A-100")
    assert str(subject.birth_date) == "1958-03"
    assert subject.history.get().history_user == two_sites.user_a


def test_bad_input_answers_400_with_field_errors_and_writes_nothing(client_for, two_sites):
    response = client_for(two_sites.user_a).post(
        _url(),
        {
            "study": two_sites.study.pk,
            "site": two_sites.site_a.pk,
            "screening_number": "A-101",
            "sex": "X",
            "birth_date": "1958-13",
        },
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    assert body["status"] == 400
    assert set(body["errors"]) == {"sex", "birth_date"}
    assert not Subject.objects.filter(screening_number="A-101").exists()


def test_patch_without_reason_answers_400_and_changes_nothing(client_for, two_sites, subject_a):
    response = client_for(two_sites.user_a).patch(_url(subject_a), {"initials": "LW"}, format="json")
    assert response.status_code == 400
    assert "change_reason" in response.json()["errors"]
    stored = Subject.objects.get(pk=subject_a.pk)
    assert stored.initials == ""
    assert stored.history.count() == 1  # only the creation row: the refused PATCH added none


def test_put_without_reason_answers_400(client_for, two_sites, subject_a):
    payload = {"site": two_sites.site_a.pk, "screening_number": "A-001", "sex": "M", "birth_date": "1961"}
    response = client_for(two_sites.user_a).put(_url(subject_a), payload, format="json")
    assert response.status_code == 400
    assert Subject.objects.get(pk=subject_a.pk).sex == "F"


def test_patch_with_reason_changes_and_the_history_shows_old_new_and_reason(client_for, two_sites, subject_a):
    client = client_for(two_sites.user_a)
    response = client.patch(
        _url(subject_a),
        {"birth_date": "1961-07", "change_reason": "ID card checked", "change_reason_code": "source_updated"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["birth_date"] == "1961-07"
    history = client.get(_url(subject_a, "history/")).json()
    newest = history[0]
    assert newest["user"] == "coord_a"
    assert newest["reason_code"] == "source_updated"
    assert newest["reason"] == "ID card checked"
    assert newest["changes"]["birth_date"] == {"old": "1961", "new": "1961-07"}


def test_unknown_reason_code_is_a_field_error(client_for, two_sites, subject_a):
    response = client_for(two_sites.user_a).patch(
        _url(subject_a), {"initials": "LW", "change_reason": "x", "change_reason_code": "whim"}, format="json"
    )
    assert response.status_code == 400
    assert "change_reason_code" in response.json()["errors"]


def test_delete_is_refused_and_void_keeps_the_record(client_for, two_sites, subject_a):
    client = client_for(two_sites.user_a)
    assert client.delete(_url(subject_a)).status_code == 405
    assert client.post(_url(subject_a, "void/"), {}, format="json").status_code == 400
    response = client.post(_url(subject_a, "void/"), {"change_reason": "duplicate entry"}, format="json")
    assert response.status_code == 200
    assert response.json()["voided_at"] is not None
    listed = client.get(_url()).json()
    assert listed["count"] == 0
    assert client.get(_url(subject_a)).status_code == 200  # still readable
    assert client.get(_url() + "?include_voided=1").json()["count"] == 1


def test_a_locked_record_answers_409_and_is_unchanged(client_for, two_sites, subject_a):
    Subject._base_manager.filter(pk=subject_a.pk).update(locked_at=timezone.now())
    response = client_for(two_sites.user_a).patch(
        _url(subject_a), {"initials": "LW", "change_reason": "typo"}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["code"] == "locked"
    assert Subject.objects.get(pk=subject_a.pk).initials == ""


def test_site_a_user_sees_nothing_of_site_b(client_for, two_sites, subject_a, subject_b):
    client = client_for(two_sites.user_a)
    listed = client.get(_url()).json()
    assert [row["screening_number"] for row in listed["results"]] == ["A-001"]
    assert listed["count"] == 1
    assert client.get(_url(subject_b)).status_code == 404
    assert client.get(_url(subject_b, "history/")).status_code == 404
    filtered = client.get(_url() + f"?site={two_sites.site_b.pk}")
    assert filtered.status_code == 200
    assert filtered.json()["count"] == 0
    assert client.get(_url() + "?screening_number=B-001").json()["count"] == 0
    patch = client.patch(_url(subject_b), {"initials": "X", "change_reason": "x"}, format="json")
    assert patch.status_code == 404


def test_a_user_cannot_create_at_a_site_they_do_not_see(client_for, two_sites):
    response = client_for(two_sites.user_a).post(
        _url(),
        {
            "study": two_sites.study.pk,
            "site": two_sites.site_b.pk,
            "screening_number": "B-100",
            "sex": "M",
            "birth_date": "1958",
        },
        format="json",
    )
    assert response.status_code == 400
    assert "site" in response.json()["errors"]
    assert not Subject.objects.filter(screening_number="B-100").exists()


def test_monitor_sees_all_sites_but_cannot_change(client_for, two_sites, subject_a, subject_b):
    client = client_for(two_sites.monitor)
    assert client.get(_url()).json()["count"] == 2
    response = client.patch(_url(subject_a), {"initials": "X", "change_reason": "x"}, format="json")
    assert response.status_code == 403
    assert response.json()["status"] == 403


def test_subject_list_costs_a_fixed_number_of_queries(client_for, two_sites, django_assert_num_queries):
    client = client_for(two_sites.user_a)
    SubjectFactory(site=two_sites.site_a)
    with django_assert_num_queries(2):  # count + page (scoping is a subquery, relations are joined)
        client.get(_url())
    for _ in range(10):
        SubjectFactory(site=two_sites.site_a)
    with django_assert_num_queries(2):
        assert client.get(_url()).json()["count"] == 11


def test_schema_and_docs_are_served(client_for, two_sites):
    client = client_for(two_sites.user_a)
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/subjects/" in schema.content
    assert client.get("/api/docs/").status_code == 200
