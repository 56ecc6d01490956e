"""A study's endpoints on its stored data: the case built from the records, served by the API and the
admin exactly as endpoints_evaluate computes it, every figure traceable to its subjects, scoped."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from edc.outcomes import selectors
from tests.outcomes.conftest import Survival, enroll

pytestmark = pytest.mark.django_db


def endpoints_of(client_for, user, study) -> dict:
    response = client_for(user).get(f"/api/studies/{study.pk}/endpoints/")
    assert response.status_code == 200, response.content
    return response.json()


def rows_by_id(answer: dict) -> dict[str, dict]:
    return {row["id"]: row for row in answer["case"]["subjects"]}


# --- the case ---------------------------------------------------------------------------------------


def test_the_case_has_one_row_per_enrolled_subject_in_the_case_format(trial, facts):
    built = selectors.study_endpoints_case(trial.study)
    assert [s.id for s in built.subjects] == ["A-001", "A-002", "A-003", "B-001", "B-002"]
    a1 = trial.subjects["A-001"].enrollment_date
    assert built.raw["subjects"][0] == {
        "id": "A-001",
        "in_analysis_set": True,
        "anchor_date": a1.isoformat(),  # registration: the enrollment date
        "best_response": "PR",
        "first_response_date": (a1 + dt.timedelta(days=42)).isoformat(),
        "progression_date": None,
        "death_date": None,
        "new_anticancer_therapy_date": None,
        "last_adequate_assessment_date": (a1 + dt.timedelta(days=252)).isoformat(),
        "last_known_alive_date": (a1 + dt.timedelta(days=400)).isoformat(),
        "subgroups": {"PDL1": "positive"},
    }
    assert built.raw["landmarks_days"] == [730]
    assert built.issues == ()


def test_the_served_figures_are_exactly_what_endpoints_evaluate_prints_for_the_served_case(
    trial, facts, client_for, tmp_path
):
    answer = endpoints_of(client_for, trial.users["superuser"], trial.study)
    path = tmp_path / "case.json"
    path.write_text(json.dumps({"cases": [answer["case"]]}), encoding="utf-8")
    out = StringIO()
    call_command("endpoints_evaluate", str(path), stdout=out)
    assert json.loads(out.getvalue()) == {"END-003": answer["result"]}


def test_the_figures_of_the_five_subjects(trial, facts, client_for):
    answer = endpoints_of(client_for, trial.users["superuser"], trial.study)
    result = answer["result"]
    assert (result["orr"]["responders"], result["orr"]["n"], result["orr"]["rate"]) == (2, 5, 0.4)
    assert (result["dcr"]["responders"], result["dcr"]["rate"]) == (3, 0.6)
    assert result["orr"]["ci"] == [0.0527, 0.8534]  # R: binom.test(2, 5)$conf.int
    assert (result["pfs"]["n"], result["pfs"]["events"]) == (5, 2)
    assert (result["os"]["events"], result["dor"]["n"], result["dor"]["events"]) == (1, 2, 1)
    assert set(result["pfs"]["landmarks"]) == {"730"}
    assert result["orr_by_subgroup"]["PDL1"]["positive"]["responders"] == 1
    assert result["orr_by_subgroup"]["PDL1"]["negative"]["n"] == 2


def test_every_count_names_its_subjects(trial, facts, client_for):
    counted = endpoints_of(client_for, trial.users["superuser"], trial.study)["counted"]
    assert counted["orr"] == {
        "n": ["A-001", "A-002", "A-003", "B-001", "B-002"],
        "responders": ["A-001", "A-002"],
    }
    assert counted["dcr"]["responders"] == ["A-001", "A-002", "A-003"]
    assert counted["pfs"] == {"events": ["A-002", "B-001"], "censored": ["A-001", "A-003", "B-002"]}
    assert counted["os"] == {"events": ["B-001"], "censored": ["A-001", "A-002", "A-003", "B-002"]}
    assert counted["dor"] == {"events": ["A-002"], "censored": ["A-001"]}
    assert counted["orr_by_subgroup"] == {
        "PDL1": {
            "negative": {"n": ["A-002", "B-001"], "responders": ["A-002"]},
            "positive": {"n": ["A-001", "A-003"], "responders": ["A-001"]},
        }
    }
    assert counted["best_response"]["NE"] == ["B-002"]


def test_pfs_is_censored_at_the_last_adequate_assessment_on_or_before_the_new_therapy(trial, facts):
    built = selectors.study_endpoints_case(trial.study)
    row = next(r for r in built.raw["subjects"] if r["id"] == "A-003")
    anchor = trial.subjects["A-003"].enrollment_date
    # Assessments on days 42, 84, 126 and 168; the therapy started on day 130: day 126 counts.
    assert row["last_adequate_assessment_date"] == (anchor + dt.timedelta(days=126)).isoformat()
    assert row["best_response"] == "SD"  # the unconfirmed PR does not count (confirmation required)
    assert row["first_response_date"] is None


def test_the_rules_and_the_analysis_set_are_stated(trial, facts, client_for):
    answer = endpoints_of(client_for, trial.users["superuser"], trial.study)
    rules = answer["rules"]
    assert rules["anchor"]["event"] == "registration"
    assert rules["anchor"]["stated_by"] == ["PFS_RATE", "OS_RATE"]
    assert "enrollment date" in rules["anchor"]["date"]
    assert rules["analysis_set"]["population"] == "all_enrolled"
    assert rules["confirmation_required"] is True
    assert rules["landmarks_days"] == [730] and rules["subgroups"] == ["PDL1"]
    assert answer["analysis_set"] == {
        "population": "all_enrolled",
        "enrolled": 5,
        "n": 5,
        "subjects": ["A-001", "A-002", "A-003", "B-001", "B-002"],
        "not_counted": [],
    }
    assert [e["code"] for e in answer["endpoints"]] == ["ORR", "DCR", "DOR", "PFS_RATE", "OS_RATE", "PDL1"]


def test_imputed_dates_are_named_per_subject(trial, facts, client_for):
    subjects = {
        s["id"]: s for s in endpoints_of(client_for, trial.users["superuser"], trial.study)["subjects"]
    }
    assert subjects["A-003"]["imputed"] == ["new_anticancer_therapy_date"]
    assert subjects["A-001"]["imputed"] == []
    assert subjects["A-003"]["best_response_unconfirmed"] == "PR"


def test_without_any_date_known_alive_the_subject_is_censored_at_its_last_known_date_and_it_is_marked(
    trial, facts, client_for
):
    _, survival, _ = facts
    survival["B-002"] = Survival()
    answer = endpoints_of(client_for, trial.users["superuser"], trial.study)
    row = rows_by_id(answer)["B-002"]
    assert row["last_known_alive_date"] == row["anchor_date"]
    assert next(s for s in answer["subjects"] if s["id"] == "B-002")["imputed"] == ["last_known_alive_date"]


def test_a_subject_whose_data_contradict_the_rules_is_listed_not_counted_and_never_a_500(
    trial, facts, client_for
):
    _responses, survival, _ = facts
    anchor = trial.subjects["B-001"].enrollment_date
    survival["B-001"] = Survival(death_date=anchor + dt.timedelta(days=30))  # before the progression
    answer = endpoints_of(client_for, trial.users["superuser"], trial.study)
    assert answer["analysis_set"]["not_counted"] == ["B-001"]
    assert answer["analysis_set"]["n"] == 4
    (issue,) = answer["issues"]
    assert issue["subject"] == "B-001" and issue["field"] == "progression_date"
    assert "after death_date" in issue["message"]
    assert "B-001" not in rows_by_id(answer)


def test_the_anchor_is_the_one_the_study_names(trial, facts):
    subject = trial.subjects["A-001"]
    trial.study.endpoints.filter(code__in=["PFS_RATE", "OS_RATE"]).update(anchor="first_dose")
    built = selectors.study_endpoints_case(trial.study)
    assert built.raw["subjects"][0]["anchor_date"] == subject.planned_first_dose.isoformat()
    trial.study.endpoints.filter(code__in=["PFS_RATE", "OS_RATE"]).update(anchor="enrollment")
    built = selectors.study_endpoints_case(trial.study)
    assert built.raw["subjects"][0]["anchor_date"] == subject.enrollment_date.isoformat()


def test_a_study_stating_no_efficacy_endpoint_still_answers_with_first_dose_as_the_default_anchor(
    trial, facts, client_for
):
    trial.study.endpoints.all().delete()
    answer = endpoints_of(client_for, trial.users["superuser"], trial.study)
    assert answer["endpoints"] == []
    assert answer["rules"]["anchor"] | {"label": None} == {
        "event": "first_dose",
        "label": None,
        "stated_by": [],
        "date": answer["rules"]["anchor"]["date"],
    }
    assert answer["result"]["orr_by_subgroup"] == {}


# --- scoping ----------------------------------------------------------------------------------------


def test_a_coordinator_counts_the_subjects_of_their_site_only(trial, facts, client_for):
    answer = endpoints_of(client_for, trial.users["coordinator_a"], trial.study)
    assert answer["sites"] == ["A"]
    assert answer["analysis_set"]["subjects"] == ["A-001", "A-002", "A-003"]
    assert "B-001" not in json.dumps(answer)
    assert endpoints_of(client_for, trial.users["monitor"], trial.study)["sites"] == ["A", "B"]


def test_another_studys_member_and_an_unknown_study_get_404_and_anonymous_401(
    trial, facts, client_for, api_client
):
    path = f"/api/studies/{trial.study.pk}/endpoints/"
    assert client_for(trial.users["outsider"]).get(path).status_code == 404
    assert client_for(trial.users["monitor"]).get("/api/studies/999999/endpoints/").status_code == 404
    api_client.force_authenticate(user=None)
    assert api_client.get(path).status_code == 401


# --- queries ----------------------------------------------------------------------------------------


def _queries(client, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return len(captured.captured_queries)


def test_the_endpoints_use_a_fixed_number_of_queries_whatever_the_number_of_subjects(
    trial, facts, client_for
):
    client = client_for(trial.users["monitor"])
    path = f"/api/studies/{trial.study.pk}/endpoints/"
    before = _queries(client, path)
    for i in range(6):
        enroll(trial.site_b, f"B-1{i:02d}", dt.date(2025, 3, 1))
    assert _queries(client, path) == before
