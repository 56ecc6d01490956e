"""The tumour resources: the API answers what the services derived, refuses bad input by field,
scopes lists to the user's sites, and reads a list in a fixed number of queries."""

from __future__ import annotations

import datetime as dt

import pytest
from rest_framework.test import APIClient

from edc.core.models import Role
from tests.factories import MembershipFactory, UserFactory
from tests.tumors.conftest import enrolled, imaging_visits

pytestmark = pytest.mark.django_db

LESION = {
    "code": "T1",
    "category": "TARGET",
    "location": "liver segment VII",
    "organ": "liver",
    "nodal": "N",
    "method": "CT",
    "slice_thickness_mm": "5",
    "diameter_mm": "40",
    "date": "2025-03-01",
}


@pytest.fixture
def coordinator(studies):
    subject = enrolled()
    user = UserFactory(username="tumour_coordinator")
    MembershipFactory(user=user, study=subject.study, site=subject.site, role=Role.SITE_COORDINATOR)
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(user)
    return client, subject


def scan(client, subject, visit, mm, **extra):
    return client.post(
        "/api/tumor-assessments/",
        {
            "subject": str(subject.pk),
            "visit": str(visit.pk),
            "date": visit.target_date.isoformat(),
            "investigator_overall": "PR",
            "investigator_new_lesions": "N",
            "measurements": [{"lesion": "T1", "target_state": "MEASURED", "diameter_mm": str(mm)}],
            **extra,
        },
        format="json",
    )


def test_an_assessment_posted_with_its_measurements_answers_the_derived_response(coordinator):
    client, subject = coordinator
    assert (
        client.post("/api/tumor-lesions/", {"subject": str(subject.pk), **LESION}, format="json").status_code
        == 201
    )
    response = scan(client, subject, imaging_visits(subject)[0], 20)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["sum_mm"], body["pct_change_from_baseline"], body["overall_response"]) == (
        "20.0",
        "-50.0",
        "PR",
    )
    assert body["response_mismatch"] is False
    assert body["measurements"][0]["lesion"] == "T1"
    assert response["ETag"] == f'"{body["version"]}"'


def test_a_corrected_measurement_through_the_api_changes_the_later_derived_response(coordinator):
    client, subject = coordinator
    client.post("/api/tumor-lesions/", {"subject": str(subject.pk), **LESION}, format="json")
    visits = imaging_visits(subject)
    scan(client, subject, visits[0], 20)
    second = scan(client, subject, visits[1], 26).json()
    assert second["overall_response"] == "PD"
    row = client.get("/api/lesion-measurements/", {"assessment": scan_id(client, subject, visits[0])}).json()[
        "results"
    ][0]
    changed = client.patch(
        f"/api/lesion-measurements/{row['id']}/",
        {"diameter_mm": "30", "change_reason": "transcription error"},
        format="json",
        HTTP_IF_MATCH=f'"{row["version"]}"',
    )
    assert changed.status_code == 200, changed.json()
    again = client.get(f"/api/tumor-assessments/{second['id']}/").json()
    assert again["overall_response"] == "PR"
    history = client.get(f"/api/tumor-assessments/{second['id']}/history/").json()
    assert len(history) == len(client.get(f"/api/tumor-assessments/{second['id']}/history/").json())
    assert "transcription error" in str(history[0])


def scan_id(client, subject, visit):
    rows = client.get("/api/tumor-assessments/", {"subject": str(subject.pk), "visit": str(visit.pk)}).json()
    return rows["results"][0]["id"]


def test_a_non_measurable_target_is_refused_with_the_field_named(coordinator):
    client, subject = coordinator
    response = client.post(
        "/api/tumor-lesions/", {"subject": str(subject.pk), **LESION, "diameter_mm": "8"}, format="json"
    )
    assert response.status_code == 400
    assert "diameter_mm" in response.json()["errors"]


def test_derived_and_unknown_fields_are_refused_by_name(coordinator):
    client, subject = coordinator
    response = client.post(
        "/api/tumor-lesions/",
        {"subject": str(subject.pk), **LESION, "measurability": "measurable", "colour": "red"},
        format="json",
    )
    assert response.status_code == 400
    assert {"measurability", "colour"} <= set(response.json()["errors"])
    client.post("/api/tumor-lesions/", {"subject": str(subject.pk), **LESION}, format="json")
    response = scan(client, subject, imaging_visits(subject)[0], 20, overall_response="CR")
    assert response.status_code == 400
    assert "overall_response" in response.json()["errors"]


def test_a_bad_measurement_is_located_in_the_body(coordinator):
    client, subject = coordinator
    client.post("/api/tumor-lesions/", {"subject": str(subject.pk), **LESION}, format="json")
    visit = imaging_visits(subject)[0]
    response = client.post(
        "/api/tumor-assessments/",
        {
            "subject": str(subject.pk),
            "visit": str(visit.pk),
            "date": visit.target_date.isoformat(),
            "investigator_overall": "PR",
            "investigator_new_lesions": "N",
            "measurements": [{"lesion": "T9", "target_state": "MEASURED", "diameter_mm": "20"}],
        },
        format="json",
    )
    assert response.status_code == 400
    assert "measurements[0].lesion" in response.json()["errors"]


def test_another_sites_coordinator_sees_none_of_the_subjects_tumour_data(coordinator, studies):
    client, subject = coordinator
    client.post("/api/tumor-lesions/", {"subject": str(subject.pk), **LESION}, format="json")
    outsider = UserFactory(username="other_site")
    other = subject.study.sites.exclude(pk=subject.site_id).first()
    if other is None:
        from tests.factories import SiteFactory

        other = SiteFactory(study=subject.study, code="99")
    MembershipFactory(user=outsider, study=subject.study, site=other, role=Role.SITE_COORDINATOR)
    api = APIClient()
    api.force_authenticate(outsider)
    assert api.get("/api/tumor-lesions/").json()["results"] == []


@pytest.mark.parametrize("resource", ["tumor-lesions", "tumor-assessments", "lesion-measurements"])
def test_a_list_reads_in_a_fixed_number_of_queries(coordinator, resource, django_assert_num_queries):
    client, subject = coordinator
    client.post("/api/tumor-lesions/", {"subject": str(subject.pk), **LESION}, format="json")
    visits = imaging_visits(subject)

    def count():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"/api/{resource}/").status_code == 200
        return len(ctx.captured_queries)

    scan(client, subject, visits[0], 20)
    one = count()
    for visit in visits[1:4]:
        scan(client, subject, visit, 20)
    assert count() == one
    # One scoped query (the scope is a subquery); assessments add their measurements (prefetch).
    expected = {"tumor-lesions": 1, "tumor-assessments": 2, "lesion-measurements": 1}[resource]
    with django_assert_num_queries(expected):
        client.get(f"/api/{resource}/")


def test_the_dates_are_answered_as_entered(coordinator):
    client, subject = coordinator
    body = client.post("/api/tumor-lesions/", {"subject": str(subject.pk), **LESION}, format="json").json()
    assert body["date"] == dt.date(2025, 3, 1).isoformat()
    assert body["measurability"] == "measurable"
