"""/api/studies/ and /api/forms/: the nested definition, scoped to memberships, in fixed queries."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from edc.core.models import Role
from studies.models import Form, FormDefinition, Study
from tests.factories import MembershipFactory, StudyFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser():
    return UserFactory(username="root", is_superuser=True)


def results(response) -> list[dict]:
    assert response.status_code == 200, response.content
    body = response.json()
    return body["results"] if isinstance(body, dict) and "results" in body else body


def test_the_study_list_nests_the_whole_definition(loaded, client_for, superuser):
    (study,) = results(client_for(superuser).get("/api/studies/"))
    assert study["protocol_id"] == "SYN-001"
    assert study["registry_id"] == "NCT00000001"
    assert study["confirmation_required"] is True
    assert study["ae_collection_start"] == "first_dose"
    assert [s["code"] for s in study["sites"]] == ["01"]
    assert [s["time_zone"] for s in study["sites"]] == ["Asia/Shanghai"]
    assert [a["code"] for a in study["arms"]] == ["A"]
    assert [p["code"] for p in study["phases"]] == ["COMBO", "MAINT"]
    assert [p["arm"] for p in study["phases"]] == ["A", "A"]
    assert [i["code"] for i in study["interventions"]] == ["CAM", "BEV", "CAP"]
    assert [v["code"] for v in study["visit_definitions"]] == ["SCR", "CYCLE", "IMG6W"]
    assert [e["code"] for e in study["endpoints"]] == ["ORR", "PFS"]


def test_interventions_show_dose_basis_and_label(loaded, client_for, superuser):
    (study,) = results(client_for(superuser).get("/api/studies/"))
    cap = next(i for i in study["interventions"] if i["code"] == "CAP")
    assert cap["dose_amount"] == "1250.0000"
    assert cap["dose_basis"] == "per_m2"
    assert cap["dose_label"] == "1250 mg/m²"
    assert cap["dosing_days"] == list(range(1, 15))
    assert cap["phase"] == "COMBO"
    assert cap["assumptions"] == {"dose_per": "read as per dose"}


def test_criteria_carry_the_rule_and_the_rule_in_words(loaded, client_for, superuser):
    (study,) = results(client_for(superuser).get("/api/studies/"))
    criteria = {(c["kind"], c["number"]): c for c in study["criteria"]}
    age = criteria[("inclusion", "1")]
    assert age["rule"] == {"field": "age", "op": "between", "value": [18, 75]}
    assert "18" in age["rule_text"] and "75" in age["rule_text"]
    assert "100 g/L" in criteria[("inclusion", "2")]["rule_text"]
    assert criteria[("exclusion", "1")]["rule"] is None
    assert criteria[("exclusion", "1")]["rule_text"] == ""


def test_visits_show_windows_repeats_and_form_codes(loaded, client_for, superuser):
    (study,) = results(client_for(superuser).get("/api/studies/"))
    img = next(v for v in study["visit_definitions"] if v["code"] == "IMG6W")
    assert (img["offset_days"], img["window_before_days"], img["window_after_days"]) == (42, 3, 3)
    assert (img["repeat_interval_days"], img["repeat_until_day"]) == (42, 336)
    assert img["series"] == "IMAGING"
    assert img["forms"] == ["TU"]
    assert img["on_end_of_treatment"] == "continue_unless_progression"


def test_a_study_is_retrieved_by_id(loaded, client_for, superuser):
    study = Study.objects.get()
    response = client_for(superuser).get(f"/api/studies/{study.pk}/")
    assert response.status_code == 200
    assert response.json()["protocol_id"] == "SYN-001"
    assert len(response.json()["criteria"]) == 3


def test_a_member_sees_only_the_studies_of_their_memberships(loaded, client_for):
    other = StudyFactory(protocol_id="OTHER")
    user = UserFactory(username="coord")
    MembershipFactory(user=user, study=other, site=None, role=Role.SITE_COORDINATOR)
    assert [s["protocol_id"] for s in results(client_for(user).get("/api/studies/"))] == ["OTHER"]
    hidden = Study.objects.get(protocol_id="SYN-001")
    assert client_for(user).get(f"/api/studies/{hidden.pk}/").status_code == 404


def test_a_user_without_membership_sees_no_study(loaded, client_for):
    assert results(client_for(UserFactory(username="nobody")).get("/api/studies/")) == []


def test_an_anonymous_request_is_refused(loaded, api_client):
    assert api_client.get("/api/studies/").status_code in (401, 403)
    assert api_client.get("/api/forms/").status_code in (401, 403)


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_the_definition_api_is_read_only(loaded, client_for, superuser, method):
    study = Study.objects.get()
    client = client_for(superuser)
    url = "/api/studies/" if method == "post" else f"/api/studies/{study.pk}/"
    assert getattr(client, method)(url, {}).status_code == 405
    form_url = "/api/forms/" if method == "post" else "/api/forms/VS/"
    assert getattr(client, method)(form_url, {}).status_code == 405


def test_the_study_list_can_be_filtered_by_protocol_id(loaded, client_for, superuser):
    StudyFactory(protocol_id="OTHER")
    found = results(client_for(superuser).get("/api/studies/", {"protocol_id": "OTHER"}))
    assert [s["protocol_id"] for s in found] == ["OTHER"]


def _make_study(n: int) -> Study:
    study = Study.objects.create(protocol_id=f"Q-{n}", title="t", registry_id=f"NCT9{n:07d}")
    study.sites.create(code="01", name="x")
    study.sites.create(code="02", name="y", time_zone="Europe/Paris")
    arm = study.arms.create(code="A", name="a")
    phase = study.phases.create(code="P", name="p", arm=arm)
    study.interventions.create(code="D", agent="d", arm=arm, phase=phase)
    study.interventions.create(code="E", agent="e", arm=arm)
    study.criteria.create(
        kind="inclusion", number="1", text="t", rule={"field": "age", "op": ">=", "value": 18}
    )
    study.criteria.create(kind="exclusion", number="1", text="t")
    visit = study.visit_definitions.create(
        code="V", name="v", kind="screening", anchor="enrollment", phase=phase
    )
    visit.forms.set(Form.objects.all())
    study.endpoints.create(code="E", name="e")
    return study


def _list_queries(client) -> tuple[int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/api/studies/")
    return len(ctx.captured_queries), len(results(response))


@pytest.mark.parametrize("who", ["superuser", "member"])
def test_the_study_list_costs_the_same_queries_for_2_and_6_studies(
    db, synthetic_files, client_for, django_assert_num_queries, who
):
    call_command("load_studies", str(synthetic_files[0]), stdout=io.StringIO())  # the form registry
    user = UserFactory(username="u", is_superuser=who == "superuser")

    def make(numbers: range) -> None:
        for n in numbers:
            study = _make_study(n)
            if who == "member":
                MembershipFactory(user=user, study=study, site=None, role=Role.MONITOR)

    make(range(2))
    client = client_for(user)
    queries, shown = _list_queries(client)
    assert shown == 2
    make(range(2, 6))
    with django_assert_num_queries(queries):
        response = client.get("/api/studies/")
    assert len(results(response)) == 6


# --- the form registry --------------------------------------------------------------------------


def test_the_form_registry_lists_forms_with_items_and_codelists(loaded, client_for, superuser):
    forms = {f["code"]: f for f in results(client_for(superuser).get("/api/forms/"))}
    assert set(forms) == {"VS", "DM", "TU"}
    weight = next(i for i in forms["VS"]["items"] if i["code"] == "WEIGHT")
    assert (weight["data_type"], weight["unit"], weight["required"], weight["range"]) == (
        "decimal",
        "kg",
        True,
        ["20", "250"],
    )
    sex = forms["DM"]["items"][0]
    assert sex["codelist"]["code"] == "SEX"
    assert [i["code"] for i in sex["codelist"]["items"]] == ["M", "F"]
    assert forms["TU"]["items"][0]["range"] is None


def test_a_form_is_retrieved_by_code(loaded, client_for, superuser):
    response = client_for(superuser).get("/api/forms/VS/")
    assert response.status_code == 200
    assert [i["code"] for i in response.json()["items"]] == ["WEIGHT", "HEIGHT"]
    assert client_for(superuser).get("/api/forms/NOPE/").status_code == 404


def test_any_signed_in_user_reads_the_form_registry(loaded, client_for):
    user = UserFactory(username="reader")
    assert {f["code"] for f in results(client_for(user).get("/api/forms/"))} == {"VS", "DM", "TU"}


def test_the_form_list_costs_the_same_queries_for_few_and_many_forms(
    loaded, client_for, superuser, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(superuser)
    with CaptureQueriesContext(connection) as ctx:
        client.get("/api/forms/")
    for n in range(5):
        form = FormDefinition.objects.create(code=f"F{n}", name="f")
        form.items.create(code="X", label="x", data_type="text")
    with django_assert_num_queries(len(ctx.captured_queries)):
        response = client.get("/api/forms/")
    assert len(results(response)) == 8
