"""/api/adverse-events/, /api/ae-proposals/, /api/reports/sae/ and /api/studies/{id}/safety-summary/:
the same services as the admin, scoped, with their query counts pinned."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest

from edc.safety.models import AdverseEvent, LabAeProposal
from tests.factories import UserFactory
from tests.safety.conftest import FIRST_DOSE, SEED000_AGENTS

DAY3 = FIRST_DOSE + dt.timedelta(days=3)
UNRELATED = [{"agent": a, "relatedness": "UNRELATED", "action": "NONE"} for a in SEED000_AGENTS]


def body(subject, **values):
    data = {
        "subject": str(subject.pk),
        "term": "Nausea",
        "onset": DAY3.isoformat(),
        "grade": 2,
        "outcome": "RECOVERING",
        "attributions": UNRELATED,
        "immune_related": False,
    }
    data.update(values)
    return data


def test_an_ae_is_recorded_and_read_back_with_its_grade_text(seed000, client_for):
    client = client_for(seed000.investigator)
    subject = seed000.subject()
    response = client.post("/api/adverse-events/", body(subject), format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert (
        data["term"] == "Nausea" and data["worst_grade"] == 2 and data["soc"] == "Gastrointestinal disorders"
    )
    assert data["worst_grade_text"].startswith("Oral intake decreased")
    assert data["grades"][0]["grade"] == 2 and data["grades"][0]["text"].startswith("Oral intake")
    assert {a["agent"] for a in data["attributions"]} == set(SEED000_AGENTS)
    assert response["ETag"] == '"1"' and data["ongoing"] is True


@pytest.mark.parametrize(
    ("term", "grade", "valid"),
    [("Neutrophil count decreased", 5, "valid grades: 1 ("), ("Febrile neutropenia", 1, "valid grades: 3 (")],
)
def test_an_invalid_grade_answers_400_naming_the_valid_grades(seed000, client_for, term, grade, valid):
    client = client_for(seed000.investigator)
    response = client.post(
        "/api/adverse-events/", body(seed000.subject(), term=term, grade=grade), format="json"
    )
    assert response.status_code == 400
    message = response.json()["errors"]["grade"][0]
    assert f"Grade {grade} does not exist for {term}" in message and valid in message


def test_an_unknown_term_or_field_is_refused_by_name(seed000, client_for):
    client = client_for(seed000.investigator)
    response = client.post("/api/adverse-events/", body(seed000.subject(), term="Nauseous"), format="json")
    assert response.status_code == 400 and "term" in response.json()["errors"]
    response = client.post(
        "/api/adverse-events/", body(seed000.subject(), susar=True, colour="red"), format="json"
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) >= {"susar", "colour"}


def test_onset_before_consent_answers_400_as_medical_history(seed000, client_for):
    client = client_for(seed000.investigator)
    response = client.post("/api/adverse-events/", body(seed000.subject(), onset="2025-02-01"), format="json")
    assert response.status_code == 400
    assert "medical history" in response.json()["errors"]["onset"][0]


def test_a_change_needs_the_version_and_a_reason_and_a_grade_adds_to_the_history(seed000, client_for):
    client = client_for(seed000.investigator)
    ae = client.post(
        "/api/adverse-events/", body(seed000.subject(), term="Diarrhea", grade=1), format="json"
    ).json()
    url = f"/api/adverse-events/{ae['id']}/"
    assert client.patch(url, {"outcome": "RECOVERED"}, format="json").status_code == 428
    response = client.patch(
        url,
        {
            "outcome": "RECOVERED",
            "resolution": (DAY3 + dt.timedelta(days=6)).isoformat(),
            "change_reason": "resolved",
        },
        format="json",
        HTTP_IF_MATCH='"1"',
    )
    assert response.status_code == 200, response.json()
    response = client.post(
        f"{url}grades/",
        {"on": (DAY3 + dt.timedelta(days=2)).isoformat(), "grade": 3, "change_reason": "worse"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["worst_grade"] == 3 and [g["grade"] for g in response.json()["grades"]] == [1, 3]


def _ae(world, **values):
    from edc.safety import services
    from tests.safety.conftest import term, unrelated

    values.setdefault("onset", DAY3)
    values.setdefault("grade", 2)
    values.setdefault("outcome", "RECOVERING")
    values.setdefault("attributions", unrelated(*SEED000_AGENTS))
    values.setdefault("immune_related", False)
    name = values.pop("term", "Nausea")
    subject = values.pop("subject", None) or world.subject()
    return services.adverse_event_create(user=None, subject=subject, ctcae_term=term(name), **values)


def test_the_list_filters_by_grade_serious_term_soc_related_and_immune_related(seed000, client_for):
    from edc.safety.services import AttributionIn

    aware = dt.datetime(2025, 3, 18, 2, tzinfo=dt.UTC)
    nausea = _ae(seed000)
    colitis = _ae(
        seed000, term="Colitis", grade=3, immune_related=True, serious=True, seriousness=["hospitalisation"],
        site_aware_at=aware,
        attributions=[AttributionIn("camrelizumab", "PROBABLE", "WITHDRAWN"),
                      AttributionIn("bevacizumab", "UNRELATED", "NONE"),
                      AttributionIn("capecitabine", "UNLIKELY", "NONE")],
    )  # fmt: skip
    client = client_for(seed000.monitor)

    def ids(query):
        response = client.get(f"/api/adverse-events/?{query}")
        assert response.status_code == 200, response.json()
        return {row["id"] for row in response.json()["results"]}

    assert ids(f"study={seed000.study.pk}") == {str(nausea.pk), str(colitis.pk)}
    assert ids("grade=3") == ids("grade_min=3") == ids("serious=true") == {str(colitis.pk)}
    assert ids("term=nausea") == ids("related=false") == ids("immune_related=false") == {str(nausea.pk)}
    assert ids("soc=Gastrointestinal disorders") == {str(nausea.pk), str(colitis.pk)}
    assert ids("related=true") == ids("immune_related=true") == {str(colitis.pk)}
    assert ids(f"subject={nausea.subject_id}") == {str(nausea.pk)}
    assert client_for(UserFactory()).get("/api/adverse-events/").json()["results"] == []


def test_the_ae_list_costs_a_fixed_number_of_queries(seed000, client_for, django_assert_num_queries):
    client = client_for(seed000.monitor)
    _ae(seed000)
    client.get("/api/adverse-events/")
    with django_assert_num_queries(4):
        first = client.get("/api/adverse-events/")
    for _ in range(4):
        _ae(seed000, term="Diarrhea", grade=3)
    with django_assert_num_queries(4):
        more = client.get("/api/adverse-events/")
    assert len(first.json()["results"]) == 1 and len(more.json()["results"]) == 5


# --- proposals -----------------------------------------------------------------------------------


def test_a_grade_3_neutrophil_count_from_a_normal_baseline_is_proposed_and_confirmed(seed000, client_for):
    subject = seed000.subject()
    seed000.lab(subject, FIRST_DOSE, "NEUT", "3.2", "10^9/L", lln="2.0", uln="7.0")
    lab = seed000.lab(subject, DAY3, "NEUT", "0.8", "10^9/L", lln="2.0", uln="7.0")
    proposal = LabAeProposal.objects.get(lab=lab)
    assert (proposal.term, proposal.grade, proposal.baseline_grade, proposal.status) == (
        "Neutrophil count decreased",
        3,
        0,
        "open",
    )
    assert not AdverseEvent.objects.filter(subject=subject).exists()  # never silently
    client = client_for(seed000.investigator)
    listed = client.get("/api/ae-proposals/?status=open").json()["results"]
    assert [p["id"] for p in listed] == [str(proposal.pk)] and listed[0]["grade_text"].startswith("<1000")
    response = client.post(
        f"/api/ae-proposals/{proposal.pk}/confirm/",
        {"outcome": "RECOVERING", "attributions": UNRELATED, "immune_related": False},
        format="json",
    )
    assert response.status_code == 201, response.json()
    ae = response.json()
    assert (ae["term"], ae["worst_grade"], ae["onset"]) == ("Neutrophil count decreased", 3, DAY3.isoformat())
    assert ae["grades"] == [{"on": DAY3.isoformat(), "grade": 3, "text": ae["grades"][0]["text"]}]
    proposal.refresh_from_db()
    assert proposal.status == "confirmed" and str(proposal.adverse_event_id) == ae["id"]


def test_the_same_value_from_a_grade_3_baseline_proposes_nothing(seed000):
    subject = seed000.subject()
    seed000.lab(subject, FIRST_DOSE - dt.timedelta(days=2), "NEUT", "0.9", "10^9/L", lln="2.0", uln="7.0")
    seed000.lab(subject, DAY3, "NEUT", "0.8", "10^9/L", lln="2.0", uln="7.0")
    assert not LabAeProposal.objects.filter(subject=subject).exists()


def test_a_proposal_is_dismissed_only_with_a_reason_and_only_by_an_investigator(seed000, client_for):
    subject = seed000.subject()
    lab = seed000.lab(subject, DAY3, "PLAT", "40", "10^9/L", lln="100", uln="300")
    proposal = LabAeProposal.objects.get(lab=lab)
    assert proposal.baseline_grade == 0 and "no baseline value" in proposal.reason
    url = f"/api/ae-proposals/{proposal.pk}/dismiss/"
    assert client_for(seed000.coordinator).post(url, {"reason": "clumped"}, format="json").status_code == 403
    client = client_for(seed000.investigator)
    response = client.post(url, {"reason": " "}, format="json")
    assert response.status_code == 400 and "reason" in response.json()["errors"]
    response = client.post(url, {"reason": "platelet clumping on the smear"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "dismissed"


def test_a_corrected_lab_value_updates_then_withdraws_its_open_proposal(seed000):
    from edc.core.models import ReasonCode
    from edc.core.services import ChangeReason
    from edc.forms.services import form_record_update

    subject = seed000.subject()
    lab = seed000.lab(subject, DAY3, "NEUT", "0.8", "10^9/L", lln="2.0", uln="7.0")
    reason = ChangeReason(ReasonCode.TRANSCRIPTION_ERROR, "typed from the wrong line")
    lab = form_record_update(user=seed000.coordinator, record=lab, reason=reason, value="0.4")
    proposal = LabAeProposal.objects.get(lab=lab)
    assert (proposal.grade, proposal.status) == (4, "open")
    form_record_update(user=seed000.coordinator, record=lab, reason=reason, value="2.5")
    proposal.refresh_from_db()
    assert proposal.status == "withdrawn" and proposal.history.count() == 3


def test_a_voided_lab_value_withdraws_its_proposal(seed000, client_for):
    subject = seed000.subject()
    lab = seed000.lab(subject, DAY3, "ALT", "250", "U/L", lln="0", uln="40")
    assert LabAeProposal.objects.get(lab=lab).grade == 3
    client_for(seed000.coordinator).post(
        f"/api/lab-results/{lab.pk}/void/",
        {"change_reason": "wrong patient"},
        format="json",
        HTTP_IF_MATCH='"1"',
    )
    assert LabAeProposal.objects.get(lab=lab).status == "withdrawn"


def test_the_proposals_list_costs_a_fixed_number_of_queries(seed000, client_for, django_assert_num_queries):
    client = client_for(seed000.investigator)
    subject = seed000.subject()
    seed000.lab(subject, DAY3, "NEUT", "0.8", "10^9/L", lln="2.0", uln="7.0")
    client.get("/api/ae-proposals/")
    with django_assert_num_queries(1):
        one = client.get("/api/ae-proposals/")
    for day in range(4, 8):
        seed000.lab(
            subject, FIRST_DOSE + dt.timedelta(days=day), "PLAT", "40", "10^9/L", lln="100", uln="300"
        )
    with django_assert_num_queries(1):
        more = client.get("/api/ae-proposals/")
    assert len(one.json()["results"]) == 1 and len(more.json()["results"]) == 5


# --- the SAE report --------------------------------------------------------------------------------


def test_the_sae_report_lists_what_is_due_now_and_an_initial_report_stops_the_clock(seed000, client_for):
    aware = dt.datetime(2025, 3, 18, 2, tzinfo=dt.UTC)  # 10:00 in Shanghai
    ae = _ae(seed000, term="Lung infection", grade=3, serious=True, seriousness=["hospitalisation"],
             site_aware_at=aware)  # fmt: skip
    client = client_for(seed000.investigator)
    due = client.get("/api/reports/sae/?as_of=2025-03-18T12:00:00Z").json()
    assert [(i["adverse_event"], i["clock"], i["status"]) for i in due["items"]] == [
        (str(ae.pk), "site_to_sponsor", "due")
    ]
    assert due["items"][0]["due_local"] == "2025-03-19T10:00:00+08:00"
    late = client.get("/api/reports/sae/?as_of=2025-03-19T03:00:00Z").json()
    assert late["items"][0]["status"] == "overdue" and late["items"][0]["hours_left"] == -1.0
    response = client.post(
        f"/api/adverse-events/{ae.pk}/sae-reports/",
        {"reported_at": "2025-03-18T09:00:00Z", "narrative": "initial"},
        format="json",
    )
    assert response.status_code == 201 and response.json()["kind"] == "initial"
    assert client.get("/api/reports/sae/?as_of=2025-03-19T03:00:00Z").json()["items"] == []
    follow = client.post(
        f"/api/adverse-events/{ae.pk}/sae-reports/", {"reported_at": "2025-03-20T09:00:00Z"}, format="json"
    )
    assert follow.json()["sequence"] == 1 and follow.json()["kind"] == "follow_up"
    detail = client.get(f"/api/adverse-events/{ae.pk}/").json()
    assert [r["sequence"] for r in detail["sae_reports"]] == [0, 1]
    assert detail["sae_clocks"][0]["status"] == "on_time"


def test_the_sae_report_refuses_a_bad_time_and_a_non_serious_ae(seed000, client_for):
    client = client_for(seed000.investigator)
    assert client.get("/api/reports/sae/?as_of=yesterday").status_code == 400
    assert client.get("/api/reports/sae/?study=x").status_code == 400
    ae = _ae(seed000)
    url = f"/api/adverse-events/{ae.pk}/sae-reports/"
    response = client.post(url, {"reported_at": "2025-03-18T09:00:00Z"}, format="json")
    assert response.status_code == 400


def test_the_sae_report_costs_a_fixed_number_of_queries(seed000, client_for, django_assert_num_queries):
    client = client_for(seed000.monitor)
    aware = dt.datetime(2025, 3, 18, 2, tzinfo=dt.UTC)
    _ae(
        seed000,
        term="Lung infection",
        grade=3,
        serious=True,
        seriousness=["hospitalisation"],
        site_aware_at=aware,
    )
    client.get("/api/reports/sae/")
    with django_assert_num_queries(1):
        client.get("/api/reports/sae/")
    for _ in range(3):
        _ae(seed000, term="Lung infection", grade=3, serious=True, seriousness=["hospitalisation"],
            site_aware_at=aware)  # fmt: skip
    with django_assert_num_queries(1):
        assert len(client.get("/api/reports/sae/").json()["items"]) == 4


# --- safety tables -----------------------------------------------------------------------------------


def test_the_safety_summary_counts_subjects_by_soc_term_and_worst_grade(seed000, client_for):
    from edc.safety.services import AttributionIn

    a, b, c = seed000.subject(), seed000.subject(), seed000.subject()
    _ae(seed000, subject=a, term="Diarrhea", grade=1)
    _ae(seed000, subject=a, term="Diarrhea", grade=3, onset=DAY3 + dt.timedelta(days=10))
    _ae(seed000, subject=b, term="Diarrhea", grade=2,
        attributions=[AttributionIn("capecitabine", "PROBABLE", "WITHDRAWN"),
                      AttributionIn("camrelizumab", "UNRELATED", "NONE"),
                      AttributionIn("bevacizumab", "UNRELATED", "NONE")])  # fmt: skip
    _ae(seed000, subject=c, term="Hypertension", grade=3)
    client = client_for(seed000.monitor)
    data = client.get(f"/api/studies/{seed000.study.pk}/safety-summary/").json()
    assert data["denominator"] == 3
    tables = {t["code"]: t for t in data["tables"]}
    rows = {(r["level"], r["soc"], r["term"]): r for r in tables["all"]["rows"]}
    diarrhea = rows[("term", "Gastrointestinal disorders", "Diarrhea")]
    assert (diarrhea["any_grade"], diarrhea["grade_3_or_more"], diarrhea["by_grade"]) == (
        2,
        1,
        [0, 1, 1, 0, 0],
    )
    assert diarrhea["any_grade_pct"] == "66.7"
    assert rows[("any", "", "")]["any_grade"] == 3 and rows[("any", "", "")]["grade_3_or_more"] == 2
    related = {(r["level"], r["term"]): r for r in tables["related"]["rows"]}
    assert related[("term", "Diarrhea")]["any_grade"] == 1
    assert [r["term"] for r in tables["discontinuation"]["rows"] if r["level"] == "term"] == ["Diarrhea"]
    assert tables["serious"]["rows"][0]["any_grade"] == 0
    csv_text = client.get(f"/api/studies/{seed000.study.pk}/safety-summary/?format=csv")
    assert csv_text["Content-Type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(csv_text.content.decode())))
    assert lines[0][:3] == ["table", "title", "denominator"]
    assert ["all", "Treatment-emergent adverse events", "3", "term", "Gastrointestinal disorders", "Diarrhea",
            "2", "66.7", "1", "33.3", "0", "1", "1", "0", "0"] in lines  # fmt: skip


def test_the_safety_summary_costs_a_fixed_number_of_queries(seed000, client_for, django_assert_num_queries):
    client = client_for(seed000.monitor)
    url = f"/api/studies/{seed000.study.pk}/safety-summary/"
    _ae(seed000)
    client.get(url)
    with django_assert_num_queries(3):
        client.get(url)
    for _ in range(5):
        _ae(seed000, term="Diarrhea", grade=3)
    with django_assert_num_queries(3):
        client.get(url)


def test_a_study_you_do_not_see_has_no_safety_summary(seed000, client_for):
    assert (
        client_for(UserFactory()).get(f"/api/studies/{seed000.study.pk}/safety-summary/").status_code == 404
    )
    assert client_for(seed000.monitor).get("/api/studies/x/safety-summary/").status_code == 404


def test_the_safety_population_is_the_subjects_who_received_study_treatment(seed000, client_for):
    from edc.core.models import ReasonCode
    from edc.core.services import ChangeReason, record_update
    from edc.visits.services import visit_unscheduled_create
    from edc.visits.treatment import exposure_record
    from studies.models import Intervention

    seed000.subject()  # on treatment
    never_dosed = seed000.subject()
    record_update(  # enrolled, the first dose planned in the past, but never given
        never_dosed,
        user=None,
        changes={"status": "enrolled"},
        reason=ChangeReason(ReasonCode.OTHER, "test: enrolled, no dose"),
    )
    client = client_for(seed000.monitor)
    assert client.get(f"/api/studies/{seed000.study.pk}/safety-summary/").json()["denominator"] == 1
    # The safety world has no stored schedule: the dose is given at an unscheduled visit.
    visit = visit_unscheduled_create(
        user=None, subject=never_dosed, visit_date=dt.date(2025, 3, 15), reason="first dose", name="Dose"
    )
    exposure_record(
        user=None,
        subject=never_dosed,
        visit=visit,
        intervention=Intervention.objects.get(study=seed000.study, code="CAM"),
        start_date=dt.date(2025, 3, 15),
        dose_given=Decimal(200),
        route="IV",
    )
    assert client.get(f"/api/studies/{seed000.study.pk}/safety-summary/").json()["denominator"] == 2
