"""/api/exposures/ and /api/subjects/{id}/end-of-treatment/: the same services as the admin, scoped,
versioned, derived values read-only, refusals as 400s naming the field, lists at a fixed cost, and
answers that match the published schema."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from edc.core.models import Role
from edc.visits.exposures import EndOfTreatment, Exposure
from studies.models import Study
from tests.api.openapi import assert_documented, served_schema
from tests.factories import MembershipFactory, UserFactory
from tests.visits.treatment_support import (
    FIRST_DOSE,
    SEED_000,
    enrolled,
    intervention,
    studies,  # noqa: F401  (the module fixture)
    visit,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("studies")]


@pytest.fixture
def people():
    study = Study.objects.get(protocol_id=SEED_000)
    site = study.sites.order_by("code").first()
    coordinator, monitor, outsider = (UserFactory(), UserFactory(), UserFactory())
    MembershipFactory(user=coordinator, study=study, site=site, role=Role.SITE_COORDINATOR)
    MembershipFactory(user=monitor, study=study, site=None, role=Role.MONITOR)
    other = Study.objects.get(protocol_id="CET-DALP-HNSCC")
    MembershipFactory(user=outsider, study=other, site=other.sites.first(), role=Role.SITE_COORDINATOR)
    return {"coordinator": coordinator, "monitor": monitor, "outsider": outsider}


def body(subject, code="CAM", **values):
    return {
        "subject": str(subject.pk),
        "visit": str(visit(subject, "CYCLE1").pk),
        "intervention": intervention(SEED_000, code).pk,
        "start_date": FIRST_DOSE.isoformat(),
        "dose_given": "200",
        "route": "IV",
        **values,
    }


def test_a_dose_is_created_with_its_derived_planned_dose_and_basis(client_for, people):
    subject = enrolled(SEED_000, weight="70")
    client = client_for(people["coordinator"])
    response = client.post("/api/exposures/", body(subject, "BEV", dose_given="525"), format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert response["ETag"] == '"1"'
    assert (data["planned_dose"], data["dose_unit"], data["agent_code"], data["cycle"]) == (
        "525.00",
        "mg",
        "BEV",
        1,
    )
    assert (data["basis_weight_kg"], data["basis_recomputed"], data["basis_date"]) == (
        "70.000",
        True,
        "2025-03-01",
    )
    subject.refresh_from_db()
    assert subject.status == "on_treatment"


def test_derived_and_unknown_fields_are_refused_by_name(client_for, people):
    subject = enrolled(SEED_000)
    client = client_for(people["coordinator"])
    response = client.post("/api/exposures/", body(subject, planned_dose="1", colour="red"), format="json")
    assert response.status_code == 400
    assert {"planned_dose", "colour"} <= set(response.json()["errors"])
    assert not Exposure.objects.filter(subject=subject).exists()


def test_an_overdose_answers_400_on_dose_given_until_confirmed(client_for, people):
    subject = enrolled(SEED_000)
    client = client_for(people["coordinator"])
    response = client.post("/api/exposures/", body(subject, dose_given="240"), format="json")
    assert response.status_code == 400
    assert "overdose_reason" in response.json()["errors"]["dose_given"][0]
    confirmed = client.post(
        "/api/exposures/", body(subject, dose_given="240", overdose_reason="PI confirmed"), format="json"
    )
    assert confirmed.status_code == 201


def test_a_correction_needs_its_reason_and_version_and_recomputes_the_derived_values(client_for, people):
    subject = enrolled(SEED_000)
    client = client_for(people["coordinator"])
    created = client.post("/api/exposures/", body(subject), format="json").json()
    path = f"/api/exposures/{created['id']}/"
    assert (
        client.patch(path, {"dose_given": "180", "change_reason": "typo"}, format="json").status_code == 428
    )
    no_reason = client.patch(path, {"dose_given": "180"}, format="json", HTTP_IF_MATCH='"1"')
    assert no_reason.status_code == 400
    response = client.patch(
        path,
        {
            "dose_given": "180",
            "adjustment": "REDUCED",
            "adjustment_reason": "Neutropenia",
            "change_reason": "x",
        },
        format="json",
        HTTP_IF_MATCH='"1"',
    )
    assert response.status_code == 200, response.json()
    assert (response.json()["dose_given"], response.json()["version"]) == ("180.00", 2)
    stale = client.patch(
        path, {"dose_given": "170", "change_reason": "x"}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert stale.status_code == 409
    history = client.get(f"{path}history/").json()
    assert len(history) == 2
    derived = client.patch(
        path, {"planned_dose": "1", "change_reason": "x"}, format="json", HTTP_IF_MATCH='"2"'
    )
    assert derived.status_code == 400


def test_the_list_filters_by_subject_site_and_study_and_is_scoped(client_for, people):
    first, second = enrolled(SEED_000), enrolled(SEED_000)
    client = client_for(people["coordinator"])
    for subject in (first, second):
        assert client.post("/api/exposures/", body(subject), format="json").status_code == 201
    rows = client.get("/api/exposures/", {"subject": str(first.pk)}).json()["results"]
    assert [r["subject"] for r in rows] == [str(first.pk)]
    study = Study.objects.get(protocol_id=SEED_000)
    assert len(client.get("/api/exposures/", {"study": study.pk}).json()["results"]) == 2
    monitor = client_for(people["monitor"])
    assert len(monitor.get("/api/exposures/").json()["results"]) == 2
    assert monitor.post("/api/exposures/", body(first), format="json").status_code == 403
    outsider = client_for(people["outsider"])
    assert outsider.get("/api/exposures/").json()["results"] == []
    assert outsider.get(f"/api/exposures/{rows[0]['id']}/").status_code == 404


# Per list page, whatever the number of rows: the page itself (the scoping is a subquery of it).
LIST_QUERIES = 1


def test_the_exposure_list_costs_a_fixed_number_of_queries(client_for, people):
    client = client_for(people["coordinator"])

    def queries():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/api/exposures/").status_code == 200
        return len(ctx.captured_queries)

    assert client.post("/api/exposures/", body(enrolled(SEED_000)), format="json").status_code == 201
    few = queries()
    for _ in range(3):
        assert client.post("/api/exposures/", body(enrolled(SEED_000)), format="json").status_code == 201
    assert queries() == few == LIST_QUERIES


def test_end_of_treatment_is_posted_once_with_a_codelist_reason(client_for, people):
    subject = enrolled(SEED_000)
    client = client_for(people["coordinator"])
    path = f"/api/subjects/{subject.pk}/end-of-treatment/"
    assert client.get(path).status_code == 404  # on treatment: none yet
    assert client.post("/api/exposures/", body(subject), format="json").status_code == 201
    wrong = client.post(path, {"last_dose_date": "2025-03-15", "reason": "progression"}, format="json")
    assert wrong.status_code == 400 and "reason" in wrong.json()["errors"]
    extra = client.post(path, {"last_dose_date": "2025-03-15", "reason": "PD", "x": 1}, format="json")
    assert extra.status_code == 400 and "x" in extra.json()["errors"]
    response = client.post(path, {"last_dose_date": "2025-03-15", "reason": "PD"}, format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert (data["last_dose_date"], data["eot_date"], data["reason"]) == ("2025-03-15", "2025-03-15", "PD")
    assert client.get(path).json()["id"] == data["id"]
    again = client.post(path, {"last_dose_date": "2025-03-15", "reason": "PD"}, format="json")
    assert again.status_code == 400
    subject.refresh_from_db()
    assert subject.status == "follow_up"
    # read and corrected at /api/end-of-treatment/
    record = f"/api/end-of-treatment/{data['id']}/"
    fixed = client.patch(
        record,
        {"reason_detail": "RECIST PD at week 6", "change_reason": "added"},
        format="json",
        HTTP_IF_MATCH='"1"',
    )
    assert fixed.status_code == 200, fixed.json()
    assert client.post(f"{record}void/", {"change_reason": "x"}, format="json").status_code in (404, 405)
    assert EndOfTreatment.objects.get(pk=data["id"]).voided_at is None


def test_the_end_of_treatment_of_a_subject_not_seen_is_a_404_and_a_monitor_s_a_403(client_for, people):
    subject = enrolled(SEED_000)
    path = f"/api/subjects/{subject.pk}/end-of-treatment/"
    body_ = {"last_dose_date": "2025-03-15", "reason": "TOX"}
    assert client_for(people["outsider"]).post(path, body_, format="json").status_code == 404
    assert client_for(people["monitor"]).post(path, body_, format="json").status_code == 403


def test_the_treatment_answers_match_the_published_schema(client_for, people):
    schema = served_schema()
    subject = enrolled(SEED_000)
    client = client_for(people["coordinator"])
    created = client.post("/api/exposures/", body(subject), format="json")
    assert_documented(schema, "post", "/api/exposures/", created)
    assert_documented(schema, "get", "/api/exposures/", client.get("/api/exposures/"))
    assert_documented(
        schema, "get", "/api/exposures/{id}/", client.get(f"/api/exposures/{created.json()['id']}/")
    )
    assert_documented(
        schema, "post", "/api/exposures/", client.post("/api/exposures/", body(subject, dose_given="500"))
    )
    path = "/api/subjects/{id}/end-of-treatment/"
    real = f"/api/subjects/{subject.pk}/end-of-treatment/"
    assert_documented(schema, "get", path, client.get(real))  # 404
    ended = client.post(real, {"last_dose_date": "2025-03-15", "reason": "TOX"}, format="json")
    assert_documented(schema, "post", path, ended)
    assert_documented(schema, "get", path, client.get(real))
    assert_documented(schema, "post", path, client.post(real, {"reason": "nope"}, format="json"))
    assert "post" not in schema["paths"].get("/api/end-of-treatment/{id}/void/", {})
