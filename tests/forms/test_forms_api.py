"""The screening forms through the API: one resource per form, the one lab store, "not done" with a
reason, plausible ranges, dates, scoping, the write path's reasons and versions, fixed query counts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from edc.forms.models import DiseaseBaseline, HistoryAnswers, LabResult, VitalSigns
from edc.visits.models import Visit
from tests.factories import screen_subject

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module", autouse=True)
def registry(django_db_setup, django_db_blocker):
    """The form registry (plausible ranges, versions), loaded once for the module."""
    from io import StringIO
    from pathlib import Path

    from django.conf import settings
    from django.core.management import call_command
    from django.db import transaction

    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            call_command(
                "load_studies", str(Path(settings.BASE_DIR) / "fixtures" / "forms.yaml"), stdout=StringIO()
            )
            yield
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


# A valid body per resource (the subject is added by the tests).
BODIES = {
    "vital-signs": {
        "date": "2025-03-05",
        "weight_kg": 80,
        "height_cm": 175,
        "systolic_bp": 125,
        "diastolic_bp": 80,
    },
    "ecog": {"date": "2025-03-05", "ecog": 1},
    "lab-results": {
        "date": "2025-03-05",
        "test": "HGB",
        "value": 12.1,
        "unit": "g/dL",
        "lln": 11.5,
        "uln": 15.5,
    },
    "pregnancy-tests": {"date": "2025-03-05", "result": "negative", "specimen": "URINE"},
    "disease-baseline": {
        "diagnosis_date": "2023-11",
        "primary_site": "LARYNX",
        "histology": "SCC",
        "setting": "LOCAL",
        "surgery": True,
        "surgery_date": "2024-01-10",
        "surgery_type": "RADICAL",
        "neck_dissection": True,
        "recurrence": True,
        "recurrence_date": "2024-06",
    },
    "prior-therapies": {
        "agent": "cisplatin",
        "agent_class": "CHEMOTHERAPY",
        "setting": "ADJ",
        "start_date": "2024-02",
        "last_dose_date": "2024-03-20",
        "ongoing": False,
        "cycles": 3,
    },
    "medical-history": {
        "term": "Hypothyroidism",
        "category": "AUTOIMMUNE_DISEASE",
        "onset": "2012",
        "ongoing": True,
    },
    "concomitant-medications": {
        "agent": "levothyroxine",
        "category": "OTHER",
        "dose": 50,
        "dose_unit": "ug",
        "route": "PO",
        "start": "2012",
        "ongoing": True,
    },
    "history-answers": {"any_prior_therapy": True, "any_condition": True, "any_growth_factor": False},
}


@pytest.fixture
def subject(trial):
    return screen_subject(trial.site_a)  # consented on 2025-03-01


@pytest.fixture
def coordinator(trial, client_for):
    return client_for(trial.coordinator)


def create(client, resource, subject, **changes):
    body = {"subject": str(subject.pk), **BODIES[resource], **changes}
    return client.post(f"/api/{resource}/", body, format="json")


@pytest.mark.parametrize("resource", sorted(BODIES))
def test_each_screening_form_is_created_at_the_screening_visit_with_its_history(
    coordinator, subject, resource
):
    response = create(coordinator, resource, subject)
    assert response.status_code == 201, response.json()
    data = response.json()
    screening = Visit.objects.get(subject=subject, kind="screening")
    assert (data["subject"], data["visit"], data["site"], data["version"]) == (
        str(subject.pk),
        str(screening.pk),
        subject.site_id,
        1,
    )
    assert data["form_version"] == ("1.0" if resource == "history-answers" else "2.0")
    listed = coordinator.get(f"/api/{resource}/", {"subject": str(subject.pk)}).json()
    assert [row["id"] for row in listed["results"]] == [data["id"]]


def test_vital_signs_derive_the_bsa_by_mosteller_and_keep_the_numbers_as_entered(coordinator, subject):
    data = create(coordinator, "vital-signs", subject, weight_kg=70.5).json()
    assert data["weight_kg"] == "70.5"
    assert data["height_cm"] == "175"
    assert data["bsa_m2"] == "1.85"  # √(175 × 70.5 / 3600) = 1.851


def test_the_bsa_is_derived_and_cannot_be_entered(coordinator, subject):
    response = create(coordinator, "vital-signs", subject, bsa_m2=2.5)
    assert response.status_code == 400
    assert response.json()["errors"]["bsa_m2"] == ["This field is read-only."]


def test_a_lab_keeps_the_result_as_reported_and_stores_it_in_the_standard_unit(coordinator, subject):
    data = create(coordinator, "lab-results", subject).json()
    assert (data["value"], data["unit"], data["lln"], data["uln"]) == ("12.1", "g/dL", "11.5", "15.5")
    assert (data["standard_value"], data["standard_unit"]) == ("121.0000", "g/L")
    assert (data["standard_lln"], data["standard_uln"]) == ("115.0000", "155.0000")
    assert data["range_indicator"] == "NORMAL"
    row = LabResult.objects.get()
    assert row.as_value().value == __import__("decimal").Decimal("12.1")


def test_a_lab_in_other_units_converts_through_units_py(coordinator, subject):
    counts = create(
        coordinator, "lab-results", subject, test="NEUT", value=1500, unit="/mm3", lln=None, uln=None
    )
    assert (counts.json()["standard_value"], counts.json()["standard_unit"]) == ("1.5000", "10^9/L")
    creat = create(
        coordinator, "lab-results", subject, test="CREAT", value=1.2, unit="mg/dL", lln=None, uln=1.1
    )
    assert creat.json()["standard_value"] == "106.0820"  # µmol/L (113.12 g/mol)
    assert creat.json()["range_indicator"] == "HIGH"


def test_a_urine_dipstick_reading_is_stored_as_its_code(coordinator, subject):
    data = create(
        coordinator, "lab-results", subject, test="UPROT", value="++", unit="", lln=None, uln=None
    ).json()
    assert (data["value"], data["standard_value"]) == ("2+", None)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"unit": "g/dl/x"}, "unit"),  # an unknown unit
        ({"unit": "U/L"}, "unit"),  # a unit that is no unit of haemoglobin
        ({"unit": ""}, "unit"),
        ({"value": "high"}, "value"),
        ({"value": True}, "value"),
        ({"test": "TSHX"}, "test"),
        ({"lln": 16, "uln": 15}, "lln"),
        ({"date": "2099-01-01"}, "date"),  # the future
        ({"date": "2025-02-28"}, "date"),  # before the consent (2025-03-01)
        ({"test": "UPROT", "value": "5+", "unit": "", "lln": None, "uln": None}, "value"),
    ],
)
def test_a_bad_lab_answers_400_naming_the_field_and_writes_nothing(coordinator, subject, changes, field):
    response = create(coordinator, "lab-results", subject, **changes)
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"], response.json()
    assert not LabResult.objects.exists()


def test_a_procedure_before_any_consent_is_refused(coordinator, trial):
    subject = screen_subject(trial.site_a, consented_at=None, screening_date=dt.date(2025, 3, 1))
    response = create(coordinator, "ecog", subject)
    assert response.status_code == 400
    assert response.json()["errors"]["subject"] == [
        "Record the signed informed consent before any screening procedure."
    ]


def test_a_value_outside_the_registry_s_plausible_range_is_refused(coordinator, subject):
    response = create(coordinator, "vital-signs", subject, weight_kg=251)
    assert response.status_code == 400
    assert response.json()["errors"]["weight_kg"] == ["251 is outside the plausible range 20-250."]
    assert create(coordinator, "vital-signs", subject, weight_kg=250).status_code == 201


def test_not_done_takes_a_reason_instead_of_data_never_both(coordinator, subject):
    both = create(coordinator, "ecog", subject, not_done_reason="refused")
    assert both.status_code == 400
    assert both.json()["errors"]["ecog"] == ["A form marked not done holds no data."]
    blank = create(coordinator, "ecog", subject, ecog=None)
    assert blank.status_code == 400
    assert "ecog" in blank.json()["errors"]
    not_done = create(
        coordinator, "ecog", subject, ecog=None, not_done_reason="refused", not_done_detail="tired"
    )
    assert not_done.status_code == 201, not_done.json()
    assert (not_done.json()["ecog"], not_done.json()["not_done_reason"]) == (None, "refused")
    unknown = create(coordinator, "ecog", subject, ecog=None, not_done_reason="busy")
    assert unknown.status_code == 400


def test_a_lab_not_done_keeps_its_test_and_date(coordinator, subject):
    response = create(
        coordinator,
        "lab-results",
        subject,
        value=None,
        unit="",
        lln=None,
        uln=None,
        not_done_reason="not_done",
    )
    assert response.status_code == 201, response.json()
    assert (response.json()["test"], response.json()["value"]) == ("HGB", None)


def test_the_disease_baseline_is_one_per_subject_and_refuses_a_contradiction(coordinator, subject):
    assert create(coordinator, "disease-baseline", subject).status_code == 201
    second = create(coordinator, "disease-baseline", subject)
    assert second.status_code == 400
    assert DiseaseBaseline.objects.count() == 1
    DiseaseBaseline.objects.all()  # the first one stays
    contradiction = create(coordinator, "disease-baseline", screen_subject(subject.site), surgery=False)
    assert contradiction.status_code == 400
    assert set(contradiction.json()["errors"]) >= {"surgery_date", "surgery_type", "neck_dissection"}


def test_history_answers_are_one_per_subject(coordinator, subject):
    assert create(coordinator, "history-answers", subject).status_code == 201
    assert create(coordinator, "history-answers", subject).status_code == 400
    assert HistoryAnswers.objects.count() == 1


def test_a_prior_therapy_names_its_class_and_keeps_its_ctcae_version(coordinator, subject):
    response = create(coordinator, "prior-therapies", subject, toxicity_grade=2)
    assert response.status_code == 400
    assert "toxicity_ctcae" in response.json()["errors"]
    graded = create(coordinator, "prior-therapies", subject, toxicity_grade=2, toxicity_ctcae="4.03")
    assert graded.status_code == 201
    assert (graded.json()["toxicity_grade"], graded.json()["toxicity_ctcae"]) == (2, "4.03")
    unknown = create(coordinator, "prior-therapies", subject, agent_class="MAGIC")
    assert unknown.status_code == 400


def test_a_correction_needs_a_reason_and_the_version_and_is_in_the_history(coordinator, subject):
    data = create(coordinator, "vital-signs", subject).json()
    url = f"/api/vital-signs/{data['id']}/"
    assert coordinator.patch(url, {"weight_kg": 81}, format="json").status_code == 428
    no_reason = coordinator.patch(url, {"weight_kg": 81}, format="json", HTTP_IF_MATCH='"1"')
    assert no_reason.status_code == 400
    assert "change_reason" in no_reason.json()["errors"]
    changed = coordinator.patch(
        url, {"weight_kg": 81, "change_reason": "scale read wrong"}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert changed.status_code == 200, changed.json()
    assert (changed.json()["weight_kg"], changed.json()["bsa_m2"], changed.json()["version"]) == (
        "81",
        "1.98",
        2,
    )
    history = coordinator.get(url + "history/").json()
    assert history[0]["reason"] == "scale read wrong"
    assert history[0]["changes"]["weight_kg"] == {"old": "80", "new": "81"}
    stale = coordinator.patch(
        url, {"weight_kg": 82, "change_reason": "x"}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert stale.status_code == 409
    assert VitalSigns.objects.get().weight_kg == 81


def test_a_form_row_is_voided_never_deleted(coordinator, subject):
    data = create(coordinator, "ecog", subject).json()
    url = f"/api/ecog/{data['id']}/"
    assert coordinator.delete(url).status_code == 405
    voided = coordinator.post(
        url + "void/", {"change_reason": "wrong patient"}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert voided.status_code == 200
    assert coordinator.get("/api/ecog/").json()["results"] == []


def test_a_site_a_coordinator_sees_nothing_of_site_b_and_cannot_write_there(coordinator, trial, subject):
    other = screen_subject(trial.site_b)
    from edc.forms.services import ecog_create

    theirs = ecog_create(user=None, subject=other, date=dt.date(2025, 3, 5), ecog=0)
    assert coordinator.get(f"/api/ecog/{theirs.pk}/").status_code == 404
    assert coordinator.get("/api/ecog/", {"subject": str(other.pk)}).json()["results"] == []
    assert coordinator.get("/api/ecog/", {"site": other.site_id}).json()["results"] == []
    response = create(coordinator, "ecog", other)
    assert response.status_code == 400
    assert "subject" in response.json()["errors"]  # a subject they do not see cannot even be named
    assert (
        coordinator.post(
            f"/api/ecog/{theirs.pk}/void/", {"change_reason": "x"}, format="json", HTTP_IF_MATCH='"1"'
        ).status_code
        == 404
    )


def test_a_monitor_reads_but_cannot_enter_forms(trial, client_for, subject):
    monitor = client_for(trial.monitor)
    assert create(monitor, "ecog", subject).status_code == 403
    assert monitor.get("/api/ecog/").status_code == 200


def test_a_form_at_a_visit_of_another_subject_is_refused(coordinator, trial, subject):
    other = screen_subject(trial.site_a)
    visit = Visit.objects.get(subject=other)
    response = create(coordinator, "ecog", subject, visit=str(visit.pk))
    assert response.status_code == 400
    assert response.json()["errors"]["visit"] == ["The visit is another subject's."]


# --- fixed query counts ---------------------------------------------------------------------------

# Per list page of any form resource, whatever the number of rows: the page (cursor pages need no
# count); the scoping to the user's sites is a subquery of it.
LIST_QUERIES = 1


@pytest.mark.parametrize("resource", sorted(BODIES))
def test_a_form_list_costs_a_fixed_number_of_queries(trial, client_for, resource):
    client = client_for(trial.coordinator)

    def queries():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"/api/{resource}/").status_code == 200
        return len(ctx.captured_queries)

    for _ in range(2):
        subject = screen_subject(trial.site_a)
        assert create(client, resource, subject).status_code == 201
    few = queries()
    for _ in range(3):
        assert create(client, resource, screen_subject(trial.site_a)).status_code == 201
    assert queries() == few == LIST_QUERIES


def test_a_lab_value_is_corrected_through_patch_and_converted_again(coordinator, subject):
    data = create(coordinator, "lab-results", subject).json()
    url = f"/api/lab-results/{data['id']}/"
    changed = coordinator.patch(
        url, {"value": "13.4", "change_reason": "transcribed wrong"}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert changed.status_code == 200, changed.json()
    assert (changed.json()["value"], changed.json()["standard_value"]) == ("13.4", "134.0000")
    history = coordinator.get(url + "history/").json()
    assert history[0]["reason"] == "transcribed wrong"
