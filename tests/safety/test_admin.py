"""The admin's AE doors: the AE page (term autocomplete, the term's grades with their text, refusals
naming the valid grades), the AE log on the subject page, the proposals queue, the SAE list and the
safety tables page, with the changelists' query counts pinned."""

from __future__ import annotations

import datetime as dt

import pytest

from edc.safety import services
from edc.safety.models import AdverseEvent, LabAeProposal
from tests.safety.conftest import FIRST_DOSE, SEED000_AGENTS, term, unrelated

DAY3 = FIRST_DOSE + dt.timedelta(days=3)
ATTRIBUTIONS = "\n".join(f"{a} | UNRELATED | NONE" for a in SEED000_AGENTS)


def add_data(subject, name, grade, **extra):
    data = {
        "subject": str(subject.pk),
        "ctcae_term": str(term(name).pk),
        "verbatim": "",
        "onset": DAY3.isoformat(),
        "grade": str(grade),
        "outcome": "RECOVERING",
        "serious": "N",
        "immune_related": "N",
        "attributions": ATTRIBUTIONS,
        "treatment_given": "",
    }
    data.update(extra)
    return data


def _ae(world, subject=None, name="Nausea", grade=2, **values):
    values.setdefault("attributions", unrelated(*SEED000_AGENTS))
    return services.adverse_event_create(
        user=None, subject=subject or world.subject(), ctcae_term=term(name), onset=DAY3, grade=grade,
        outcome="RECOVERING", immune_related=False, **values,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("name", "grade", "valid"),
    [("Neutrophil count decreased", 5, "valid grades: 1 ("), ("Febrile neutropenia", 2, "valid grades: 3 (")],
)
def test_the_admin_refuses_a_grade_the_term_does_not_have_naming_the_valid_ones(
    seed000, client, name, grade, valid
):
    client.force_login(seed000.investigator)
    response = client.post("/admin/safety/adverseevent/add/", add_data(seed000.subject(), name, grade))
    assert response.status_code == 200
    text = response.content.decode()
    assert f"Grade {grade} does not exist for {name}" in text and valid in text
    assert not AdverseEvent.objects.exists()


def test_the_admin_records_an_ae_and_its_page_offers_only_the_terms_grades_with_their_text(seed000, client):
    client.force_login(seed000.investigator)
    subject = seed000.subject()
    response = client.post("/admin/safety/adverseevent/add/", add_data(subject, "Nausea", 2))
    assert response.status_code == 302, response.content.decode()[:3000]
    ae = AdverseEvent.objects.get(subject=subject)
    assert ae.worst_grade == "2" and ae.attributions.count() == 3
    page = client.get(f"/admin/safety/adverseevent/{ae.pk}/change/").content.decode()
    assert '<option value="3" >3: Inadequate oral caloric' in page or "3: Inadequate oral caloric" in page
    assert 'value="4"' not in page.split('name="grade"')[1].split("</select>")[0]  # Nausea has no grade 4


def _grade_options(page: str) -> list[str]:
    select = page.split('name="grade"')[1].split("</select>")[0]
    return [part.split(">", 1)[1].split("<", 1)[0] for part in select.split("<option")[1:]]


def test_the_add_page_lists_the_grades_of_the_term_it_is_opened_for(seed000, client):
    client.force_login(seed000.investigator)
    page = client.get(f"/admin/safety/adverseevent/add/?ctcae_term={term('Febrile neutropenia').pk}")
    options = _grade_options(page.content.decode())
    assert options[0] == "---------" and [o.split(":")[0] for o in options[1:]] == ["3", "4", "5"]
    assert options[1].startswith("3: ANC &lt;1000/mm3 with a single temperature")
    assert "safety/ae_grades.js" in page.content.decode()  # the list follows the term picked


def test_the_add_page_without_a_term_asks_for_it_first(seed000, client):
    client.force_login(seed000.investigator)
    options = _grade_options(client.get("/admin/safety/adverseevent/add/").content.decode())
    assert options == ["choose the term first", "1", "2", "3", "4", "5"]


def test_a_refused_add_shows_the_posted_terms_grades_again(seed000, client):
    client.force_login(seed000.investigator)
    data = add_data(seed000.subject(), "Neutrophil count decreased", 5)
    page = client.post("/admin/safety/adverseevent/add/", data).content.decode()
    assert [o.split(":")[0] for o in _grade_options(page)[1:]] == ["1", "2", "3", "4"]


def test_the_term_autocomplete_carries_each_terms_grades_with_their_text(seed000, client):
    client.force_login(seed000.coordinator)
    response = client.get(
        "/admin/autocomplete/",
        {
            "term": "febrile neutro",
            "app_label": "safety",
            "model_name": "adverseevent",
            "field_name": "ctcae_term",
        },
    )
    found = {r["text"]: r for r in response.json()["results"]}
    grades = found["Febrile neutropenia (CTCAE v5.0)"]["grades"]
    assert [g["grade"] for g in grades] == [3, 4, 5]
    assert grades[2]["text"] == term("Febrile neutropenia").grade_5


def test_the_change_page_keeps_the_records_grade_and_attributions_to_itself(seed000, client):
    client.force_login(seed000.investigator)
    ae = _ae(seed000, name="Diarrhea", grade=3)
    client.get(f"/admin/safety/adverseevent/{ae.pk}/change/")
    page = client.get("/admin/safety/adverseevent/add/").content.decode()
    assert 'value="" selected' in page.split('name="grade"')[1].split("</select>")[0]
    assert "UNRELATED" not in page.split('name="attributions"')[1].split("</textarea>")[0]


def test_a_grade_change_in_the_admin_adds_to_the_grade_history(seed000, client):
    client.force_login(seed000.investigator)
    ae = _ae(seed000, name="Diarrhea", grade=1)
    data = add_data(ae.subject, "Diarrhea", 3)
    data.pop("subject")
    data.update(
        grade_on=(DAY3 + dt.timedelta(days=2)).isoformat(), base_version=ae.version,
        change_reason_code="source_updated", change_reason="worse at the visit",
        sponsor_aware_at="", susar_initial_reported_at="", susar_full_reported_at="", death_date="",
        resolution="",
        site_aware_at="",
    )  # fmt: skip
    response = client.post(f"/admin/safety/adverseevent/{ae.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert [g.grade for g in services.current_grades(AdverseEvent.objects.get(pk=ae.pk))] == [1, 3]


def test_the_term_autocomplete_answers_a_coordinator(seed000, client):
    client.force_login(seed000.coordinator)
    response = client.get(
        "/admin/autocomplete/",
        {"term": "neutro", "app_label": "safety", "model_name": "adverseevent", "field_name": "ctcae_term"},
    )
    assert response.status_code == 200
    names = [r["text"] for r in response.json()["results"]]
    assert "Neutrophil count decreased (CTCAE v5.0)" in names


def test_the_subject_page_shows_the_ae_log(seed000, client):
    ae = _ae(seed000, name="Diarrhea", grade=3)
    client.force_login(seed000.monitor)
    page = client.get(f"/admin/subjects/subject/{ae.subject_id}/change/").content.decode()
    assert f"/admin/safety/adverseevent/{ae.pk}/change/" in page and "Diarrhea" in page


def test_the_ae_changelist_costs_a_fixed_number_of_queries(seed000, client, django_assert_max_num_queries):
    client.force_login(seed000.monitor)
    _ae(seed000)
    client.get("/admin/safety/adverseevent/")
    with django_assert_max_num_queries(12) as few:
        client.get("/admin/safety/adverseevent/")
    for _ in range(5):
        _ae(seed000, name="Diarrhea", grade=3)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get("/admin/safety/adverseevent/").status_code == 200


def test_the_proposals_queue_lists_open_ones_and_the_investigator_confirms_on_the_page(seed000, client):
    subject = seed000.subject()
    seed000.lab(subject, DAY3, "NEUT", "0.8", "10^9/L", lln="2.0", uln="7.0")
    proposal = LabAeProposal.objects.get(subject=subject)
    client.force_login(seed000.investigator)
    listed = client.get("/admin/safety/labaeproposal/").content.decode()
    assert "Neutrophil count decreased" in listed
    page = client.get(f"/admin/safety/labaeproposal/{proposal.pk}/change/").content.decode()
    assert "&lt;1000 - 500/mm3" in page and 'name="decision"' in page
    refused = client.post(
        f"/admin/safety/labaeproposal/{proposal.pk}/change/", {"decision": "dismiss", "reason": ""}
    )
    assert "Say why" in refused.content.decode()
    response = client.post(
        f"/admin/safety/labaeproposal/{proposal.pk}/change/",
        {"decision": "confirm", "outcome": "RECOVERING", "immune_related": "N", "attributions": ATTRIBUTIONS},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    proposal.refresh_from_db()
    assert proposal.status == "confirmed" and proposal.adverse_event.worst_grade == "3"


def test_a_coordinator_sees_the_queue_but_cannot_decide(seed000, client):
    subject = seed000.subject()
    seed000.lab(subject, DAY3, "NEUT", "0.8", "10^9/L", lln="2.0", uln="7.0")
    proposal = LabAeProposal.objects.get(subject=subject)
    client.force_login(seed000.coordinator)
    assert (
        'name="decision"'
        not in client.get(f"/admin/safety/labaeproposal/{proposal.pk}/change/").content.decode()
    )
    response = client.post(
        f"/admin/safety/labaeproposal/{proposal.pk}/change/", {"decision": "dismiss", "reason": "x"}
    )
    assert response.status_code == 403


def test_the_sae_list_and_the_safety_tables_page(seed000, client):
    aware = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    ae = _ae(seed000, name="Lung infection", grade=3, serious=True, seriousness=["hospitalisation"],
             site_aware_at=aware)  # fmt: skip
    client.force_login(seed000.monitor)
    page = client.get("/admin/safety/adverseevent/sae-due/").content.decode()
    assert f"/admin/safety/adverseevent/{ae.pk}/change/" in page and "site_to_sponsor" in page
    assert "Asia/Shanghai" in page
    tables = client.get(
        f"/admin/safety/adverseevent/safety-summary/?study={seed000.study.pk}"
    ).content.decode()
    assert "Lung infection" in tables and "Serious adverse events" in tables
    assert client.get("/admin/safety/adverseevent/safety-summary/?study=999999").status_code == 404
