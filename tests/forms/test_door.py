"""The registry's form door, GET|POST /api/visits/{id}/forms/{code}/ (edc/forms/door.py): validation by
the registry with errors keyed by item code, the same rows as the per-form resources, "not done",
scoping, no 500 whatever the body, fixed query counts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from edc.core.models import Role
from edc.eligibility.services import eligibility_decide
from edc.forms.door import form_spec, not_writable, resource_for
from edc.forms.models import LabResult, VitalSigns
from edc.forms.status import visit_stores
from edc.subjects.services import subject_enroll
from edc.visits.models import Visit
from studies.form_stores import form_stores
from studies.models import FormDefinition, Study
from tests.factories import MembershipFactory, UserFactory, screen_subject

S000 = "CAM-BEV-CAP-HNSCC"
ENROLLED, FIRST_DOSE = dt.date(2025, 3, 10), dt.date(2025, 3, 15)
DAY = "2025-03-05"

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def studies(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            call_command("load_studies", stdout=StringIO())
            yield
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def _subject(site_index: int = 0, enroll: bool = False):
    study = Study.objects.get(protocol_id=S000)
    site = study.sites.order_by("code")[site_index]
    subject = screen_subject(site)
    if enroll:
        eligibility_decide(user=None, subject=subject, as_of=FIRST_DOSE, confirm_unstructured=True)
        subject = subject_enroll(
            user=None, subject=subject, enrollment_date=ENROLLED, planned_first_dose=FIRST_DOSE
        )
    return subject


def screening(subject) -> Visit:
    return Visit.objects.get(subject=subject, kind="screening")


@pytest.fixture
def coordinator(studies, client_for):
    study = Study.objects.get(protocol_id=S000)
    user = UserFactory(username="door_coordinator")
    MembershipFactory(
        user=user, study=study, site=study.sites.order_by("code")[0], role=Role.SITE_COORDINATOR
    )
    return client_for(user)


def door(client, visit, code, body):
    return client.post(f"/api/visits/{visit.pk}/forms/{code}/", body, format="json")


# Valid entries in item codes (a form without one here gets a generated entry of its required items).
EXAMPLES: dict[str, dict[str, Any]] = {
    "VS": {"VSDATE": DAY, "WEIGHT": 80, "HEIGHT": 175, "SYSBP": 125, "DIABP": 80, "PULSE": 72, "TEMP": 36.8},
    "ECOG": {"ECOGDATE": DAY, "ECOG": 1},
    "LB": {"LBDATE": DAY, "LBTESTCD": "HGB", "LBORRES": "12.1", "LBORRESU": "g/dL", "LBORNRLO": 11.5,
           "LBORNRHI": 15.5, "LBCLSIG": False},
    "PREG": {"PREGDATE": DAY, "PREGRES": "negative", "PREGSPEC": "URINE"},
    "BD": {"DIAGDATE": "2023-11", "PRIMSITE": "LARYNX", "HISTOLOGY": "SCC", "SETTING": "LOCAL",
           "MEASURABLE": True, "SURGERY": True, "SURGDATE": "2024-01-10", "SURGTYPE": "RADICAL",
           "NECKDISS": True, "RECUR": True, "RECURDATE": "2024-06"},
    "PT": {"PTAGENT": "cisplatin", "PTCLASS": "CHEMOTHERAPY", "PTSETTING": "ADJ", "PTSTDAT": "2024-02",
           "PTENDAT": "2024-03-20", "PTONGO": False, "PTCYCLES": 3},
    "MH": {"MHTERM": "Hypothyroidism", "MHCAT": "AUTOIMMUNE_DISEASE", "MHSTDAT": "2012", "MHONGO": True},
    "CM": {"CMTRT": "levothyroxine", "CMCAT": "OTHER", "CMDOSE": 50, "CMDOSU": "ug", "CMROUTE": "PO",
           "CMSTDAT": "2012", "CMONGO": True},
    "HX": {"PTYN": True, "MHYN": True, "CMGFYN": False, "CMISYN": False, "CMLVYN": False, "CMIDYN": False,
           "CMTFYN": False},
    # The AE by its CTCAE term, the grade at onset and one attribution per agent (AEREL and AEACN, the
    # strongest of them, are derived); seriousness as Y/N with its criteria.
    "AE": {"AETERM": "Nausea", "AESTDAT": "2025-03-17", "AEGRADE": "2", "AESER": "Y", "AESHOSP": True,
           "AEAWARE": "2025-03-17T09:00:00+08:00", "AEIRAE": "N",
           "AEREL_AGENT": "camrelizumab=POSSIBLE/INTERRUPTED", "AEOUT": "RECOVERING", "AETRT": "ondansetron"},
    # A dose by the intervention's code (the resource takes the intervention's id), at cycle 1.
    "EX": {"EXTRT": "CAM", "EXCYCLE": 1, "EXSTDAT": "2025-03-15", "EXDOSE": "200", "EXROUTE": "IV"},
}  # fmt: skip

# Forms whose row belongs at cycle 1 of an enrolled subject (the AE after camrelizumab's first dose).
AT_CYCLE_1 = {"EX", "AE"}


def _dosed(subject) -> None:
    from edc.visits.treatment import exposure_record
    from studies.models import Intervention

    exposure_record(
        user=None,
        subject=subject,
        visit=Visit.objects.get(subject=subject, code="CYCLE1"),
        intervention=Intervention.objects.get(study=subject.study, code="CAM"),
        start_date=FIRST_DOSE,
        dose_given=Decimal(200),
        route="IV",
    )


def generated(code: str) -> dict[str, Any]:
    """An entry of the form's required items, each the simplest value of its type."""
    spec = form_spec(code)
    assert spec is not None
    values: dict[str, Any] = {}
    for item in spec.items:
        if not item.required:
            continue
        kind = item.data_type
        if kind in ("integer", "decimal"):
            low = item.low if item.low is not None else Decimal(1)
            values[item.code] = int(low) if kind == "integer" else str(low)
        elif kind == "date":
            values[item.code] = DAY
        elif kind == "partial_date":
            values[item.code] = "2025-03"
        elif kind == "datetime":
            values[item.code] = "2025-03-05T09:00:00+08:00"
        elif kind == "boolean":
            values[item.code] = False
        elif kind == "choice":
            values[item.code] = item.codes[0]
        else:
            values[item.code] = "text"
    return values


def _door_stores() -> list[Any]:
    """Every visit store with a per-form API resource, discovered now (later forms join by themselves)."""
    return [store for store in visit_stores() if not not_writable(store)]


def _prefix(model) -> str:
    from edc.api.urls import router

    return next(prefix for prefix, viewset, _ in router.registry if viewset is resource_for(model))


_SKIP = {"id", "subject", "visit", "created", "updated", "history"}


def stored(model, pk) -> dict[str, Any]:
    row = model.objects.get(pk=pk)
    return {f.name: getattr(row, f.attname) for f in model._meta.concrete_fields if f.name not in _SKIP}


@pytest.mark.parametrize("form_code", sorted({s.form_code for s in _door_stores()}))
def test_each_registered_form_stores_the_same_row_through_its_resource_and_through_the_door(
    studies, ctcae_terms, coordinator, form_code
):
    store = next(s for s in _door_stores() if s.form_code == form_code)
    items = EXAMPLES.get(form_code) or generated(form_code)
    # Two subjects of the same site: a form held once per subject (BD, HX) is entered once for each.
    enroll = form_code in AT_CYCLE_1
    by_door, by_resource = _subject(enroll=enroll), _subject(enroll=enroll)
    at = (lambda s: Visit.objects.get(subject=s, code="CYCLE1")) if enroll else screening
    if form_code == "AE":
        _dosed(by_door), _dosed(by_resource)
    through_door = door(coordinator, at(by_door), form_code, {"items": items})
    fields = {store.field_for(code): value for code, value in items.items()}
    translate = getattr(store.model, "door_body", None)  # a resource whose body names things otherwise
    if translate is not None and form_code in EXAMPLES:
        fields = translate(fields, at(by_resource))
    body = {"subject": str(by_resource.pk), "visit": str(at(by_resource).pk), **fields}
    through_resource = coordinator.post(f"/api/{_prefix(store.model)}/", body, format="json")
    if form_code in EXAMPLES:
        assert through_door.status_code == 201, through_door.json()
    assert through_door.status_code == through_resource.status_code, (
        through_door.json(),
        through_resource.json(),
    )
    if through_door.status_code != 201:
        # Both refused the generated entry: for the same items (the door names items, the resource fields).
        keys = {
            store.field_for(k) if form_spec(form_code).item(k) else k for k in through_door.json()["errors"]
        }
        assert keys == set(through_resource.json()["errors"])
        return
    row = through_door.json()
    assert row["form"] == form_code and row["visit"] == str(at(by_door).pk)
    assert through_door["ETag"] == f'"{row["version"]}"'
    assert stored(store.model, row["id"]) == stored(store.model, through_resource.json()["id"])
    # The door answers the row as it reads it back.
    listed = coordinator.get(f"/api/visits/{at(by_door).pk}/forms/{form_code}/").json()
    assert listed["rows"] == [row]


def test_the_door_answers_the_items_in_their_codes_with_the_row_s_state(studies, coordinator):
    visit = screening(_subject())
    row = door(coordinator, visit, "VS", {"items": EXAMPLES["VS"]}).json()
    assert row["items"]["WEIGHT"] == "80" and row["items"]["BSA"] == "1.97"
    assert row["items"]["SYSBP"] == 125 and row["items"]["VSDATE"] == DAY
    assert (row["state"], row["form_version"], row["not_done_reason"]) == ("complete", "2.0", "")
    listed = coordinator.get(f"/api/visits/{visit.pk}/forms/VS/").json()
    assert (listed["state"], listed["stored"], listed["writable"], len(listed["rows"])) == (
        "complete",
        True,
        True,
        1,
    )


def _errors(response) -> dict[str, list[str]]:
    assert response.status_code == 400, response.json()
    return response.json()["errors"]


def test_unknown_items_and_body_keys_are_refused_by_name_and_derived_items_are_read_only(
    studies, coordinator
):
    visit = screening(_subject())
    errors = _errors(
        door(coordinator, visit, "VS", {"items": {**EXAMPLES["VS"], "WAIST": 90, "BSA": 2.0}, "extra": 1})
    )
    assert set(errors) == {"WAIST", "BSA", "extra"}
    assert "Unknown item of form VS 2.0." in errors["WAIST"]
    assert "read-only" in errors["BSA"][0]
    assert not VitalSigns.objects.filter(visit=visit).exists()


@pytest.mark.parametrize(
    ("code", "value", "words"),
    [
        ("WEIGHT", "heavy", "A number is expected"),
        ("WEIGHT", True, "A number is expected"),
        ("WEIGHT", 300, "outside the plausible range 20-250 kg"),
        ("SYSBP", 120.5, "A whole number"),
        ("VSDATE", 20250305, "A date is YYYY-MM-DD"),
        ("VSDATE", "2025-02-30", "no calendar date"),
        ("HEIGHT", {"value": 70, "unit": "kg"}, "cannot be read as cm"),
        ("HEIGHT", {"value": 70}, "Give the unit"),
        ("TEMP", "37\x00", "NUL character"),
    ],
)
def test_each_value_has_its_item_s_type_and_range(studies, coordinator, code, value, words):
    errors = _errors(
        door(coordinator, screening(_subject()), "VS", {"items": {**EXAMPLES["VS"], code: value}})
    )
    assert set(errors) == {code}
    assert words in " ".join(errors[code])


def test_a_code_outside_the_item_s_codelist_names_the_codes(studies, coordinator):
    errors = _errors(
        door(coordinator, screening(_subject()), "PREG", {"items": {**EXAMPLES["PREG"], "PREGRES": "neg"}})
    )
    assert errors["PREGRES"] == ["'neg' is not a code of PREGRES: one of negative, positive, not_applicable."]


def test_every_required_item_of_the_registry_is_asked(studies, coordinator):
    # The vital-signs resource takes a row without the weight; the registry requires it.
    errors = _errors(door(coordinator, screening(_subject()), "VS", {"items": {"VSDATE": DAY, "SYSBP": 120}}))
    assert errors == {"WEIGHT": ["Required."]}
    assert set(_errors(door(coordinator, screening(_subject()), "VS", {}))) == {"VSDATE", "WEIGHT"}


def test_a_number_in_another_unit_is_converted_to_the_item_s_unit(studies, coordinator):
    items = {**EXAMPLES["VS"], "WEIGHT": {"value": 176, "unit": "lb"}, "TEMP": {"value": 98.6, "unit": "F"}}
    row = door(coordinator, screening(_subject()), "VS", {"items": items}).json()
    assert (row["items"]["WEIGHT"], row["items"]["TEMP"]) == ("79.832", "37.0")


def test_the_model_s_own_rules_come_back_keyed_by_item_code(studies, coordinator):
    # Before the patient's consent (the service's rule), a diastolic above the systolic (the model's).
    before = door(
        coordinator, screening(_subject()), "VS", {"items": {**EXAMPLES["VS"], "VSDATE": "2025-02-01"}}
    )
    assert "before the patient's consent" in _errors(before)["VSDATE"][0]
    upside = door(coordinator, screening(_subject()), "VS", {"items": {**EXAMPLES["VS"], "DIABP": 130}})
    assert set(_errors(upside)) == {"DIABP"}


def test_a_form_not_done_with_a_reason_keeps_only_its_date_and_shows_as_not_done(studies, coordinator):
    subject = _subject(enroll=True)
    cycle = Visit.objects.filter(subject=subject, kind="treatment").order_by("target_date").first()
    body = {"items": {"ECOGDATE": "2025-03-15"}, "not_done_reason": "refused", "not_done_detail": "tired"}
    row = door(coordinator, cycle, "ECOG", body).json()
    assert (row["state"], row["not_done_reason"], row["items"]["ECOG"]) == ("not_done", "refused", None)
    status = coordinator.get(f"/api/visits/{cycle.pk}/forms/").json()
    ecog = next(f for f in status["forms"] if f["code"] == "ECOG")
    assert (ecog["state"], ecog["not_done_reason"], ecog["not_done_detail"]) == (
        "not_done",
        "refused",
        "tired",
    )
    assert "ECOG" not in {f["code"] for f in status["forms"] if f["state"] == "missing"}
    # Data in a form marked not done, an unknown reason, a detail without a reason: refused by name.
    full = door(coordinator, cycle, "ECOG", {**body, "items": {"ECOGDATE": "2025-03-15", "ECOG": 1}})
    assert _errors(full) == {"ECOG": ["A form marked not done holds no data."]}
    assert set(_errors(door(coordinator, cycle, "ECOG", {**body, "not_done_reason": "lazy"}))) == {
        "not_done_reason"
    }
    assert set(
        _errors(door(coordinator, cycle, "ECOG", {"items": EXAMPLES["ECOG"], "not_done_detail": "x"}))
    ) == {"not_done_detail"}


def test_one_lab_test_per_row_as_the_registry_repeats_it(studies, coordinator):
    visit = screening(_subject())
    door(coordinator, visit, "LB", {"items": EXAMPLES["LB"]})
    platelets = {"LBDATE": DAY, "LBTESTCD": "PLAT", "LBORRES": "1500", "LBORRESU": "/mm3"}
    row = door(coordinator, visit, "LB", {"items": platelets}).json()
    assert (row["items"]["LBSTRESN"], row["items"]["LBSTRESU"]) == ("1.5000", "10^9/L")
    door(
        coordinator, visit, "LB", {"items": {"LBDATE": DAY, "LBTESTCD": "INR"}, "not_done_reason": "not_done"}
    )
    listed = coordinator.get(f"/api/visits/{visit.pk}/forms/LB/").json()
    assert [r["items"]["LBTESTCD"] for r in listed["rows"]] == ["HGB", "PLAT", "INR"]
    assert [r["state"] for r in listed["rows"]] == ["complete", "complete", "not_done"]
    assert listed["state"] == "complete"
    assert LabResult.objects.filter(visit=visit).count() == 3


def test_a_form_stored_per_subject_is_read_here_and_written_by_its_own_door(studies, coordinator):
    subject = _subject()
    listed = coordinator.get(f"/api/visits/{screening(subject).pk}/forms/DM/").json()
    assert listed["writable"] is False
    assert listed["rows"][0]["items"]["SEX"] == "F" and listed["rows"][0]["visit"] is None
    refused = door(coordinator, screening(subject), "DM", {"items": {"SEX": "M"}})
    assert refused.status_code == 405 and "per subject" in refused.json()["detail"]


def test_a_form_without_a_model_or_resource_yet_reads_as_missing_and_is_refused_by_the_door(
    studies, coordinator
):
    stored = {s.form_code for s in form_stores()}
    waiting = sorted(
        set(FormDefinition.objects.filter(is_current=True).values_list("code", flat=True)) - stored
    )
    waiting += sorted(s.form_code for s in visit_stores() if not_writable(s))
    if not waiting:  # every registry form has its model: register one that has none
        FormDefinition.objects.create(code="ZZNOMODEL", name="A form no model stores", is_current=True)
        waiting = ["ZZNOMODEL"]
    visit = screening(_subject())
    listed = coordinator.get(f"/api/visits/{visit.pk}/forms/{waiting[0]}/").json()
    assert (listed["writable"], listed["state"], listed["rows"]) == (False, "missing", [])
    assert door(coordinator, visit, waiting[0], {"items": {}}).status_code == 405


def test_another_site_s_visit_is_not_found_and_a_reader_may_not_write(studies, coordinator, client_for):
    other = (
        screening(_subject(site_index=1)) if Study.objects.get(protocol_id=S000).sites.count() > 1 else None
    )
    if other is not None:
        assert door(coordinator, other, "VS", {"items": EXAMPLES["VS"]}).status_code == 404
        assert coordinator.get(f"/api/visits/{other.pk}/forms/VS/").status_code == 404
    assert coordinator.get("/api/visits/not-a-uuid/forms/VS/").status_code == 404
    assert coordinator.get(f"/api/visits/{screening(_subject()).pk}/forms/NOPE/").status_code == 404
    study = Study.objects.get(protocol_id=S000)
    monitor = UserFactory(username="door_monitor")
    MembershipFactory(user=monitor, study=study, site=None, role=Role.MONITOR)
    reader = client_for(monitor)
    visit = screening(_subject())
    assert door(reader, visit, "VS", {"items": EXAMPLES["VS"]}).status_code == 403
    assert reader.get(f"/api/visits/{visit.pk}/forms/VS/").status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        [],
        "items",
        {"items": []},
        {"items": None, "not_done_reason": 5},
        {"items": {"WEIGHT\x00": 1}},
        {"items": {"VSDATE": "\x00", "WEIGHT": {"value": {"value": 1}, "unit": "kg"}}},
        {"items": {"WEIGHT": 1e308, "HEIGHT": 10**40, "TEMP": "9" * 5000}},
        {"items": {"WEIGHT": {"value": 80, "unit": "kg\x00"}}},
        {"items": {"VSDATE": DAY, "WEIGHT": 80}, "not_done_detail": ["x"]},
        {"items": {"VSDATE": "9999-12-31", "WEIGHT": 80}},
        {"items": {str(n): n for n in range(500)}},
    ],
)
def test_no_body_gives_a_server_error(studies, coordinator, body):
    response = door(coordinator, screening(_subject()), "VS", body)
    assert response.status_code == 400, response.content


def test_deep_nesting_and_form_encoded_bodies_are_refused(studies, coordinator):
    visit = screening(_subject())
    deep = '{"items": {"WEIGHT": ' + "[" * 5000 + "]" * 5000 + "}}"
    response = coordinator.post(f"/api/visits/{visit.pk}/forms/VS/", deep, content_type="application/json")
    assert response.status_code == 400
    response = coordinator.post(
        f"/api/visits/{visit.pk}/forms/VS/", "items=x", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 415


def test_reading_a_visit_s_rows_costs_the_same_whatever_their_number(studies, coordinator):
    visit = screening(_subject())

    def cost() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert coordinator.get(f"/api/visits/{visit.pk}/forms/LB/").status_code == 200
        return len(ctx.captured_queries)

    door(coordinator, visit, "LB", {"items": EXAMPLES["LB"]})
    one = cost()
    for test in ("PLAT", "ALT", "AST", "CREAT"):
        door(
            coordinator,
            visit,
            "LB",
            {"items": {"LBDATE": DAY, "LBTESTCD": test, "LBORRES": "1", "LBORRESU": ""}},
        )
    assert cost() == one


def test_the_door_names_the_item_when_the_resource_refuses_a_translated_value(
    studies, ctcae_terms, coordinator
):
    subject = _subject(enroll=True)
    cycle1 = Visit.objects.get(subject=subject, code="CYCLE1")
    _dosed(subject)
    bad_attribution = {**EXAMPLES["AE"], "AEREL_AGENT": "camrelizumab"}
    assert set(_errors(door(coordinator, cycle1, "AE", {"items": bad_attribution}))) == {"AEREL_AGENT"}
    not_received = {**EXAMPLES["AE"], "AEREL_AGENT": "bevacizumab=POSSIBLE"}
    assert "AEREL_AGENT" in _errors(door(coordinator, cycle1, "AE", {"items": not_received}))
    unknown_agent = {**EXAMPLES["EX"], "EXTRT": "ASPIRIN"}
    errors = _errors(door(coordinator, cycle1, "EX", {"items": unknown_agent}))
    assert set(errors) == {"EXTRT"} and "CAM" in errors["EXTRT"][0]
