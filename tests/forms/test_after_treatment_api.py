"""The after-treatment, radiotherapy and biomarker forms through the API: one resource per form with
the subject, visit, site and date-range filters, the same services as the admin, site scoping, and
fixed query counts; the restricted-medication flags read-only."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from edc.core.models import Role
from edc.forms.models import Death, RadiotherapyCourse
from edc.subjects.models import Subject, SubjectStatus
from edc.visits.models import Visit, VisitStatus
from studies.models import Study
from tests.factories import MembershipFactory, UserFactory
from tests.forms.conftest import FIRST_DOSE, enrolled

pytestmark = pytest.mark.django_db
SEED_001, SEED_003, SEED_004 = "CADO-LDRT-HNSCC", "CAM-APA-NPC", "CAM-CRT-HNSCC"

# A valid body per resource, in seed 003 (PD-L1 cut-off) unless the test says otherwise.
BODIES = {
    "radiotherapy-courses": {
        "target": "Left cervical node (lesion T1)",
        "technique": "SBRT",
        "on_study": True,
        "kind": "SBRT",
        "dose_per_fraction_gy": 8,
        "fractions": 3,
        "total_dose_gy": 24,
        "start_date": "2025-03-22",
        "end_date": "2025-03-26",
        "interrupted": False,
    },
    "biomarkers": {
        "date": "2025-03-05",
        "test": "PDL1",
        "assay": "22C3",
        "pdl1_score": "CPS",
        "pdl1_value": 5,
    },
    "survival-follow-ups": {
        "contact_date": "2025-09-01",
        "method": "PHONE",
        "vital_status": "ALIVE",
        "last_known_alive": "2025-09-01",
        "new_therapy": False,
    },
    "subsequent-therapies": {"start_date": "2025-08", "regimen": "Docetaxel", "agent_class": "CHEMOTHERAPY"},
    "deaths": {"death_date": "2025-10", "cause": "PD", "autopsy": "N"},
}
DATES = {
    "radiotherapy-courses": "2025-03-22",
    "biomarkers": "2025-03-05",
    "survival-follow-ups": "2025-09-01",
    "subsequent-therapies": "2025-08",
    "deaths": "2025-10",
}


def _client(client_for, protocol_id, role=Role.SITE_COORDINATOR, site_index=0):
    study = Study.objects.get(protocol_id=protocol_id)
    user = UserFactory()
    MembershipFactory(user=user, study=study, site=study.sites.order_by("code")[site_index], role=role)
    return client_for(user)


def create(client, resource, subject, **changes):
    body = {"subject": str(subject.pk), **BODIES[resource], **changes}
    return client.post(f"/api/{resource}/", body, format="json")


@pytest.mark.parametrize("resource", sorted(BODIES))
def test_each_form_is_created_listed_and_filtered_by_subject_visit_site_and_date(
    studies, client_for, resource
):
    client = _client(client_for, SEED_003)
    subject, other = enrolled(SEED_003), enrolled(SEED_003)
    response = create(client, resource, subject)
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["version"] == 1 and data["subject"] == str(subject.pk)
    assert create(client, resource, other).status_code == 201
    listed = client.get(f"/api/{resource}/", {"subject": str(subject.pk)}).json()["results"]
    assert [row["id"] for row in listed] == [data["id"]]
    by_visit = client.get(f"/api/{resource}/", {"visit": data["visit"]}).json()["results"]
    assert [row["id"] for row in by_visit] == [data["id"]]
    assert len(client.get(f"/api/{resource}/", {"site": subject.site_id}).json()["results"]) == 2
    day = DATES[resource]
    after = client.get(f"/api/{resource}/", {"date_after": day if len(day) == 10 else day + "-01"})
    assert after.status_code == 200
    later = dt.date.fromisoformat((day + "-01")[:10]) + dt.timedelta(days=40)
    assert client.get(f"/api/{resource}/", {"date_after": later.isoformat()}).json()["results"] == []
    assert len(client.get(f"/api/{resource}/", {"date_before": later.isoformat()}).json()["results"]) == 2


def test_a_pdl1_result_answers_its_derived_status_and_cut_off(studies, client_for):
    client = _client(client_for, SEED_003)
    data = create(client, "biomarkers", enrolled(SEED_003)).json()
    assert (data["pdl1_status"], data["pdl1_cutoff"]) == ("POS", "1.00")
    derived = create(client, "biomarkers", enrolled(SEED_003), pdl1_status="NEG")
    assert derived.status_code == 400
    assert derived.json()["errors"]["pdl1_status"] == ["This field is read-only."]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"test": "EBVDNA"}, "pdl1_score"),  # PD-L1 items on an EBV DNA row
        ({"pdl1_score": ""}, "pdl1_score"),
        ({"assay": ""}, "assay"),
        ({"pdl1_value": 101}, "pdl1_value"),  # the registry's plausible range 0-100
        ({"date": "2099-01-01"}, "date"),
        ({"test": "KRAS"}, "test"),
    ],
)
def test_a_bad_biomarker_answers_400_naming_the_field(studies, client_for, changes, field):
    client = _client(client_for, SEED_003)
    response = create(client, "biomarkers", enrolled(SEED_003), **changes)
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"], response.json()


def test_an_ebv_dna_sample_is_a_procedure_not_before_consent_but_archival_tissue_may_be(studies, client_for):
    client = _client(client_for, SEED_003)
    subject = enrolled(SEED_003)
    ebv = create(
        client,
        "biomarkers",
        subject,
        test="EBVDNA",
        assay="qPCR",
        pdl1_score="",
        pdl1_value=None,
        ebv_dna=1200,
        date="2025-02-20",
    )
    assert ebv.status_code == 400
    assert "consent" in ebv.json()["errors"]["date"][0]
    archival = create(client, "biomarkers", subject, date="2024-11-02")
    assert archival.status_code == 201, archival.json()
    undetectable = create(
        client,
        "biomarkers",
        subject,
        test="EBVDNA",
        assay="qPCR",
        pdl1_score="",
        pdl1_value=None,
        ebv_undetectable=True,
    )
    assert undetectable.status_code == 201, undetectable.json()


def test_a_radiotherapy_dose_in_cgy_is_stored_in_gy(studies, client_for):
    client = _client(client_for, SEED_001)
    response = create(
        client,
        "radiotherapy-courses",
        enrolled(SEED_001),
        dose_unit="cGy",
        technique="LDRT",
        kind="LDRT",
        dose_per_fraction_gy=50,
        fractions=4,
        total_dose_gy=200,
    )
    assert response.status_code == 201, response.json()
    assert (response.json()["dose_per_fraction_gy"], response.json()["total_dose_gy"]) == ("0.500", "2.000")
    assert "dose_unit" not in response.json()


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"total_dose_gy": 30}, "total_dose_gy", "is not 8"),
        ({"total_dose_gy": 81, "dose_per_fraction_gy": 27}, "total_dose_gy", "plausible range"),
        ({"kind": ""}, "kind", "on study"),
        ({"on_study": False}, "kind", "Only a course given on study"),
        ({"start_date": "2025-03"}, "start_date", "complete start date"),
        ({"end_date": "2025-03-20"}, "end_date", "before the start"),
        ({"interrupted": True}, "interruption_reason", "reason"),
        ({"interruption_days": 3}, "interrupted", "answer yes"),
        ({"start_date": "2025-02-25", "end_date": "2025-02-28"}, "start_date", "consent"),
        ({"dose_unit": "Sv"}, "dose_unit", ""),
    ],
)
def test_a_bad_radiotherapy_course_answers_400_naming_the_field(studies, client_for, changes, field, words):
    client = _client(client_for, SEED_004)
    response = create(client, "radiotherapy-courses", enrolled(SEED_004), **changes)
    assert response.status_code == 400, response.json()
    assert words in " ".join(response.json()["errors"][field]), response.json()
    assert not RadiotherapyCourse.objects.exists()


def test_radiotherapy_before_the_study_may_have_partial_dates_before_consent(studies, client_for):
    client = _client(client_for, SEED_004)
    response = create(
        client,
        "radiotherapy-courses",
        enrolled(SEED_004),
        target="Oral cavity and bilateral neck (adjuvant)",
        technique="IMRT",
        on_study=False,
        kind="",
        dose_per_fraction_gy=2,
        fractions=30,
        total_dose_gy=60,
        start_date="2023-05",
        end_date="2023-06",
    )
    assert response.status_code == 201, response.json()


def test_a_death_through_the_api_ends_the_schedule_and_corrections_keep_it_ended(studies, client_for):
    client = _client(client_for, SEED_003)
    subject = enrolled(SEED_003)
    response = create(client, "deaths", subject, death_date="2025-06-10")
    assert response.status_code == 201, response.json()
    assert Subject.objects.get(pk=subject.pk).status == SubjectStatus.OFF_STUDY
    assert not Visit.objects.filter(
        subject=subject, status=VisitStatus.PLANNED, target_date__gte=dt.date(2025, 6, 10)
    ).exists()
    again = create(client, "deaths", subject)
    assert again.status_code == 400
    assert "already recorded" in again.json()["errors"]["subject"][0]
    url = f"/api/deaths/{response.json()['id']}/"
    changed = client.patch(
        url,
        {"death_date": "2025-05-02", "change_reason": "death certificate"},
        format="json",
        HTTP_IF_MATCH='"1"',
    )
    assert changed.status_code == 200, changed.json()
    assert not Visit.objects.filter(
        subject=subject, status=VisitStatus.PLANNED, target_date__gte=dt.date(2025, 5, 2)
    ).exists()
    not_done = create(client, "deaths", enrolled(SEED_003), not_done_reason="unknown")
    assert not_done.status_code == 400
    assert not_done.json()["errors"]["not_done_reason"] == ["This field is read-only."]
    assert Death.objects.count() == 1


def test_another_site_s_subject_cannot_be_named_and_their_forms_are_not_listed(studies, client_for):
    from edc.forms.services import survival_follow_up_create
    from tests.factories import SiteFactory

    SiteFactory(study=Study.objects.get(protocol_id=SEED_003), code="99")
    client = _client(client_for, SEED_003)
    theirs = enrolled(SEED_003, site_index=1)
    response = create(client, "survival-follow-ups", theirs)
    assert response.status_code == 400
    assert "subject" in response.json()["errors"]
    row = survival_follow_up_create(
        user=None, subject=theirs, contact_date=dt.date(2025, 9, 1), not_done_reason="not_done"
    )
    assert client.get(f"/api/survival-follow-ups/{row.pk}/").status_code == 404
    assert client.get("/api/survival-follow-ups/", {"subject": str(theirs.pk)}).json()["results"] == []


def test_a_monitor_reads_the_forms_but_cannot_enter_them(studies, client_for):
    monitor = _client(client_for, SEED_003, role=Role.MONITOR)
    assert create(monitor, "survival-follow-ups", enrolled(SEED_003)).status_code == 403
    assert monitor.get("/api/deaths/").status_code == 200


def test_restricted_medication_flags_are_listed_read_only_with_their_rule_and_seed(studies, client_for):
    client = _client(client_for, SEED_004)
    subject = enrolled(SEED_004)
    medication = client.post(
        "/api/concomitant-medications/",
        {
            "subject": str(subject.pk),
            "agent": "MMR vaccine",
            "category": "LIVE_VACCINE",
            "start": (FIRST_DOSE - dt.timedelta(days=28)).isoformat(),
            "stop": (FIRST_DOSE - dt.timedelta(days=28)).isoformat(),
            "ongoing": False,
        },
        format="json",
    )
    assert medication.status_code == 201, medication.json()
    flags = client.get("/api/restricted-medication-flags/", {"subject": str(subject.pk)}).json()["results"]
    assert [(f["rule"], f["criterion"], f["certain"]) for f in flags] == [("004-E10", "exclusion 10", True)]
    assert flags[0]["medication"] == medication.json()["id"]
    assert "seed 004, exclusion 10" in flags[0]["message"]
    assert client.post("/api/restricted-medication-flags/", {}, format="json").status_code == 405


# --- fixed query counts ---------------------------------------------------------------------------

LIST_QUERIES = 1


@pytest.mark.parametrize("resource", [*sorted(BODIES), "restricted-medication-flags"])
def test_a_form_list_costs_one_query_whatever_the_number_of_rows(studies, client_for, resource):
    from edc.forms.services import concomitant_medication_create

    flags = resource == "restricted-medication-flags"
    protocol_id = SEED_004 if flags else SEED_003
    client = _client(client_for, protocol_id)

    def queries():
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(f"/api/{resource}/")
            assert response.status_code == 200
        return len(ctx.captured_queries), len(response.json()["results"])

    def add():
        subject = enrolled(protocol_id)
        if flags:
            concomitant_medication_create(
                user=None,
                subject=subject,
                agent="BCG",
                category="LIVE_VACCINE",
                start=FIRST_DOSE,
                ongoing=True,
            )
        else:
            assert create(client, resource, subject).status_code == 201

    add()
    few, rows = queries()
    for _ in range(3):
        add()
    many, more_rows = queries()
    assert (rows, more_rows) == (1, 4)
    assert many == few == LIST_QUERIES
