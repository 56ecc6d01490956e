"""Definition models and the validating loader (load_studies), on small synthetic YAML files."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction

from edc.core.bsa import mosteller_bsa
from studies.loader import _dosing_days
from studies.models import (
    Arm,
    Codelist,
    EligibilityCriterion,
    Endpoint,
    FormDefinition,
    FormItem,
    Intervention,
    Site,
    Study,
    TreatmentPhase,
    VisitDefinition,
)
from studies.selectors import study_lookup
from tests.studies.conftest import forms_data, study_data

pytestmark = pytest.mark.django_db


def load(*paths: Any, **options: Any) -> dict[str, Any]:
    out = io.StringIO()
    call_command("load_studies", *map(str, paths), stdout=out, json=True, **options)
    return json.loads(out.getvalue())


def problems(info: pytest.ExceptionInfo) -> str:
    """The errors a refused load exited with, one "file: object: field: message" per line."""
    return "\n".join(str(error) for error in info.value.errors)


def history_rows() -> int:
    return sum(
        model.objects.count()
        for model in apps.get_app_config("studies").get_models()
        if model.__name__.startswith("Historical")
    )


def definition_rows() -> int:
    return sum(
        model.objects.count()
        for model in apps.get_app_config("studies").get_models()
        if not model.__name__.startswith("Historical")
    )


# --- models -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("height_cm", "weight_kg", "bsa"),
    [
        ("180", "80", "2"),  # sqrt(14400 / 3600) = 2 exactly
        ("160", "90", "2"),
        ("170", "70", "1.8181"),
        ("150", "60", "1.5811"),
        ("175.5", "68.2", "1.8234"),
        ("120", "30", "1.0"),
    ],
)
def test_body_surface_area_is_mosteller(height_cm, weight_kg, bsa):
    result = mosteller_bsa(height_cm=Decimal(height_cm), weight_kg=Decimal(weight_kg))
    assert result.quantize(Decimal("0.0001")) == Decimal(bsa).quantize(Decimal("0.0001"))


@pytest.mark.parametrize(("height_cm", "weight_kg"), [(0, 70), (170, 0), (-1, 70)])
def test_body_surface_area_refuses_non_positive_measurements(height_cm, weight_kg):
    with pytest.raises(ValueError, match="positive"):
        mosteller_bsa(height_cm=height_cm, weight_kg=weight_kg)


@pytest.mark.parametrize(
    ("basis", "amount", "dose_per", "per_day", "weight", "height", "dose", "daily"),
    [
        ("flat", "200", "dose", None, None, None, "200", "200"),
        ("flat", "150", "day", 1, "70", "170", "150", "150"),
        ("per_kg", "7.5", "dose", None, "60", None, "450", "450"),
        ("per_kg", "7.5", "dose", None, "72.4", None, "543", "543"),
        ("per_m2", "1250", "dose", 2, "80", "180", "2500", "5000"),
        ("per_m2", "400", "dose", None, "90", "160", "800", "800"),
        ("per_m2", "250", "dose", None, "80", "180", "500", "500"),
        ("per_m2", "1000", "day", 2, "80", "180", "2000", "2000"),
    ],
)
def test_dose_is_computed_from_the_basis(basis, amount, dose_per, per_day, weight, height, dose, daily):
    study = Study.objects.create(protocol_id="D", title="t")
    drug = Intervention.objects.create(
        study=study,
        code="X",
        agent="x",
        dose_amount=Decimal(amount),
        dose_unit="mg",
        dose_basis=basis,
        dose_per=dose_per,
        doses_per_day=per_day,
    )
    kwargs = {"weight_kg": weight and Decimal(weight), "height_cm": height and Decimal(height)}
    assert drug.compute_dose(**kwargs) == Decimal(dose)
    assert drug.daily_dose(**kwargs) == Decimal(daily)


@pytest.mark.parametrize(
    ("basis", "amount", "kwargs", "message"),
    [
        ("per_kg", "7.5", {}, "weight"),
        ("per_m2", "1250", {"weight_kg": Decimal(70)}, "height and weight"),
        ("flat", None, {}, "no dose"),
    ],
)
def test_dose_without_what_it_needs_is_refused(basis, amount, kwargs, message):
    drug = Intervention(agent="x", dose_basis=basis, dose_amount=amount and Decimal(amount), dose_unit="mg")
    with pytest.raises(ValueError, match=message):
        drug.compute_dose(**kwargs)


@pytest.mark.parametrize(
    ("amount", "unit", "basis", "per", "label"),
    [
        ("200", "mg", "flat", "dose", "200 mg"),
        ("7.5000", "mg", "per_kg", "dose", "7.5 mg/kg"),
        ("1250", "mg", "per_m2", "dose", "1250 mg/m²"),
        ("150", "mg", "flat", "day", "150 mg/day"),
        (None, "", "flat", "dose", ""),
    ],
)
def test_dose_label_reads_as_the_protocol_writes_it(amount, unit, basis, per, label):
    drug = Intervention(
        dose_amount=amount and Decimal(amount), dose_unit=unit, dose_basis=basis, dose_per=per
    )
    assert drug.dose_label == label


@pytest.mark.parametrize(
    ("model", "kwargs"),
    [
        (Site, {"code": "01", "name": "x"}),
        (Arm, {"code": "A", "name": "x"}),
        (TreatmentPhase, {"code": "P", "name": "x"}),
        (Intervention, {"code": "I", "agent": "x"}),
        (VisitDefinition, {"code": "V", "name": "x", "kind": "screening", "anchor": "enrollment"}),
        (Endpoint, {"code": "E", "name": "x"}),
        (EligibilityCriterion, {"kind": "inclusion", "number": "1", "text": "x"}),
    ],
)
def test_a_code_repeated_in_one_study_is_refused_by_the_database(model, kwargs):
    study = Study.objects.create(protocol_id="U", title="t")
    model.objects.create(study=study, **kwargs)
    with pytest.raises(IntegrityError), transaction.atomic():
        model.objects.create(study=study, **kwargs)


def test_the_same_code_in_two_studies_is_allowed():
    for pid in ("S1", "S2"):
        study = Study.objects.create(protocol_id=pid, title="t")
        VisitDefinition.objects.create(
            study=study, code="SCR", name="x", kind="screening", anchor="enrollment"
        )
    assert VisitDefinition.objects.filter(code="SCR").count() == 2


@pytest.mark.parametrize("amount", [Decimal(0), Decimal(-5)])
def test_a_dose_amount_must_be_positive(amount):
    study = Study.objects.create(protocol_id="P", title="t")
    with pytest.raises(IntegrityError), transaction.atomic():
        Intervention.objects.create(study=study, code="X", agent="x", dose_amount=amount)


def test_a_form_item_range_must_be_ordered():
    form = FormDefinition.objects.create(code="F", name="f")
    with pytest.raises(IntegrityError), transaction.atomic():
        FormItem.objects.create(
            form=form, code="X", label="x", data_type="decimal", range_low=Decimal(5), range_high=Decimal(1)
        )


def test_a_repeat_interval_of_zero_is_refused_by_the_database():
    study = Study.objects.create(protocol_id="R", title="t")
    with pytest.raises(IntegrityError), transaction.atomic():
        VisitDefinition.objects.create(
            study=study, code="V", name="v", kind="imaging", anchor="first_dose", repeat_interval_days=0
        )


def test_definitions_are_found_by_natural_key(loaded):
    assert Study.objects.get_by_natural_key("SYN-001").title == "A synthetic study"
    assert VisitDefinition.objects.get_by_natural_key("SYN-001", "IMG6W").offset_days == 42
    assert Intervention.objects.get_by_natural_key("SYN-001", "CAP").agent == "capecitabine"
    assert FormDefinition.objects.get_by_natural_key("VS").name == "Vital signs"
    assert Codelist.objects.get_by_natural_key("SEX").items.count() == 2
    assert VisitDefinition.objects.get(code="IMG6W").natural_key() == ("SYN-001", "IMG6W")


def test_study_defaults_match_the_contract():
    study = Study.objects.create(protocol_id="DEF", title="t")
    assert study.dose_recalc_weight_change_pct == Decimal(10)
    assert study.ctcae_version == "5.0"
    assert study.confirmation_min_interval_days == 28


def test_site_today_is_the_date_in_the_site_time_zone():
    import datetime as dt

    study = Study.objects.create(protocol_id="TZ", title="t")
    site = Site.objects.create(study=study, code="01", name="x", time_zone="Asia/Shanghai")
    now = dt.datetime(2025, 1, 1, 20, 0, tzinfo=dt.UTC)  # 04:00 on 2 January in Shanghai
    assert site.today(now) == dt.date(2025, 1, 2)


def test_every_definition_model_keeps_history():
    for name in (
        "Study",
        "Site",
        "Arm",
        "TreatmentPhase",
        "Intervention",
        "EligibilityCriterion",
        "VisitDefinition",
        "Endpoint",
        "FormDefinition",
        "FormItem",
        "Codelist",
        "CodelistItem",
    ):
        model = apps.get_model("studies", name)
        assert hasattr(model, "history"), name


# --- loading ------------------------------------------------------------------------------------


def test_loading_writes_the_whole_definition(loaded):
    study = Study.objects.get(protocol_id="SYN-001")
    assert study.registry_id == "NCT00000001"
    assert study.design == "single_arm"
    assert study.response_criteria == ["RECIST1.1"]
    assert study.confirmation_required is True
    assert study.ae_collection_start == "first_dose"
    assert study.ae_collection_end_days_after_last_dose == 30
    assert study.sae_collection_start == "consent"
    assert study.assumptions == {"protocol_id": "synthetic test study"}
    assert [s.code for s in study.sites.all()] == ["01"]
    assert [p.code for p in study.phases.all()] == ["COMBO", "MAINT"]
    assert study.phases.get(code="MAINT").arm.code == "A"
    assert study.criteria.count() == 3
    assert study.endpoints.get(code="PFS").anchor == "first_dose"
    assert study.endpoints.get(code="ORR").anchor == ""


def test_interventions_load_with_doses_bases_and_days(loaded):
    cap = Intervention.objects.get(code="CAP")
    assert cap.dose_amount == Decimal(1250)
    assert cap.dose_basis == "per_m2"
    assert cap.dosing_days == list(range(1, 15))
    assert cap.doses_per_day == 2
    assert cap.assumptions == {"dose_per": "read as per dose"}
    bev = Intervention.objects.get(code="BEV")
    assert bev.dose_amount == Decimal("7.5")
    assert bev.compute_dose(weight_kg=Decimal(60)) == Decimal(450)
    assert Intervention.objects.get(code="CAM").aliases == ["Carrilizumab"]
    assert Intervention.objects.get(code="CAM").phase.code == "COMBO"


def test_visits_load_with_windows_and_forms(loaded):
    img = VisitDefinition.objects.get(code="IMG6W")
    assert (img.offset_days, img.window_before_days, img.window_after_days) == (42, 3, 3)
    assert (img.repeat_interval_days, img.repeat_until_day) == (42, 336)
    assert img.series_code == "IMAGING"
    assert img.form_codes == ["TU"]
    cycle = VisitDefinition.objects.get(code="CYCLE")
    assert cycle.repeat_from == "previous_actual"
    assert cycle.on_end_of_treatment == "stop"
    assert cycle.series_code == "CYCLE"
    assert sorted(VisitDefinition.objects.get(code="SCR").form_codes) == ["DM", "TU", "VS"]
    assert [v.code for v in VisitDefinition.objects.all()] == ["SCR", "CYCLE", "IMG6W"]


def test_the_form_registry_loads_items_codelists_and_ranges(loaded):
    weight = FormItem.objects.get(form__code="VS", code="WEIGHT")
    assert (weight.range_low, weight.range_high, weight.unit, weight.required) == (
        Decimal(20),
        Decimal(250),
        "kg",
        True,
    )
    sex = FormItem.objects.get(form__code="DM", code="SEX")
    assert sex.codelist.code == "SEX"
    assert FormDefinition.objects.get(code="VS").version == "1.0"


def test_a_second_load_changes_nothing_and_says_so(loaded):
    before_rows, before_history = definition_rows(), history_rows()
    report = load(*loaded)
    assert [f["result"] for f in report["files"]] == ["no changes", "no changes"]
    assert all(not f["created"] and not f["updated"] for f in report["files"])
    assert (definition_rows(), history_rows()) == (before_rows, before_history)


def test_the_first_load_reports_what_it_created(db, synthetic_files):
    report = load(*synthetic_files)
    forms, study = report["files"]
    assert forms["kind"] == "forms" and forms["result"] == "loaded"
    assert "form VS 1.0" in forms["created"]
    assert study["study"] == "SYN-001"
    assert "visit IMG6W" in study["created"]
    assert "intervention CAP" in study["created"]


def test_a_changed_value_updates_only_that_object(loaded, write_yaml):
    data = study_data()
    data["visits"][2]["window_after_days"] = 5
    history_before = VisitDefinition.history.count()
    report = load(loaded[0], write_yaml("studies/syn.yaml", data))
    assert report["files"][1]["updated"] == ["visit IMG6W: window_after_days"]
    assert report["files"][0]["result"] == "no changes"
    assert VisitDefinition.objects.get(code="IMG6W").window_after_days == 5
    assert VisitDefinition.history.count() == history_before + 1
    assert VisitDefinition.history.first().history_change_reason.startswith("load_studies")


def test_a_changed_form_list_is_updated(loaded, write_yaml):
    data = study_data()
    data["visits"][2]["forms"] = ["TU", "VS"]
    report = load(loaded[0], write_yaml("studies/syn.yaml", data))
    assert "visit IMG6W: forms" in report["files"][1]["updated"]
    assert sorted(VisitDefinition.objects.get(code="IMG6W").form_codes) == ["TU", "VS"]


def test_a_removed_reference_is_cleared(loaded, write_yaml):
    data = study_data()
    del data["interventions"][0]["phase"]
    load(loaded[0], write_yaml("studies/syn.yaml", data))
    assert Intervention.objects.get(code="CAM").phase is None


def test_an_object_removed_from_the_file_is_kept_and_reported(loaded, write_yaml):
    data = study_data()
    data["visits"] = data["visits"][:2]
    data["criteria"] = data["criteria"][:2]
    report = load(loaded[0], write_yaml("studies/syn.yaml", data))
    warnings = report["files"][1]["warnings"]
    assert any("visit IMG6W" in w and "not deleted" in w for w in warnings)
    assert any("criterion exclusion/1" in w for w in warnings)
    assert VisitDefinition.objects.filter(code="IMG6W").exists()


def test_a_folder_is_loaded_registry_first(db, synthetic_files):
    folder = synthetic_files[0].parent
    report = load(folder)
    assert [f["kind"] for f in report["files"]] == ["forms", "study"]
    assert Study.objects.filter(protocol_id="SYN-001").exists()


def test_a_study_may_use_forms_already_in_the_database(loaded, write_yaml):
    data = study_data()
    data["study"]["protocol_id"] = "SYN-002"
    load(write_yaml("other.yaml", data))
    assert VisitDefinition.objects.get(study__protocol_id="SYN-002", code="SCR").forms.count() == 3


def test_dry_run_validates_and_writes_nothing(db, synthetic_files):
    report = load(*synthetic_files, dry_run=True)
    assert [f["result"] for f in report["files"]] == ["valid", "valid"]
    assert definition_rows() == 0


@pytest.mark.parametrize(
    ("value", "days"),
    [
        ([1], [1]),
        (1, [1]),
        ("1-14", list(range(1, 15))),
        ("1,8,15", [1, 8, 15]),
        ("1-3, 8", [1, 2, 3, 8]),
        ([1, "8-10"], [1, 8, 9, 10]),
        ([3, 1, 1], [1, 3]),
        ("1-21", list(range(1, 22))),
    ],
)
def test_dosing_days_are_read_as_day_numbers(value, days):
    assert _dosing_days(value) == days


@pytest.mark.parametrize("value", ["14-1", "day 1", [0], "0-3", [True], [1.5], "1-"])
def test_unreadable_dosing_days_are_refused(value):
    with pytest.raises(ValueError):
        _dosing_days(value)


# --- refusing bad files -------------------------------------------------------------------------


def _set(path: str, value: Any) -> Any:
    """A mutation of the synthetic study: dotted path with list indexes, e.g. visits.2.window_after_days."""

    def mutate(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = data
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return mutate


def _delete(path: str) -> Any:
    def mutate(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = data
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        del node[last]

    return mutate


STUDY_ERRORS = [
    ("broken window", _set("visits.2.window_before_days", "three"), "visits[2] IMG6W: window_before_days"),
    ("negative window", _set("visits.2.window_after_days", -1), "visits[2] IMG6W: window_after_days"),
    ("unknown unit", _set("interventions.0.dose_unit", "mg/furlong"), "interventions[0] CAM: dose_unit"),
    (
        "unknown rule field",
        _set("criteria.1.rule", {"field": "HAEMO", "op": ">=", "value": 1}),
        "criteria[1] inclusion 2: rule",
    ),
    (
        "rule unit of the wrong dimension",
        _set("criteria.1.rule.unit", "U/L"),
        "criteria[1] inclusion 2: rule",
    ),
    ("unknown key", _set("visits.0.windw", 3), "visits[0] SCR: windw: unknown field"),
    ("unknown section", _set("arms_list", []), "arms_list: unknown section"),
    ("missing title", _delete("study.title"), "study: title: required field is missing"),
    ("missing visit anchor", _delete("visits.1.anchor"), "visits[1] CYCLE: anchor: required"),
    ("bad visit kind", _set("visits.1.kind", "treatment_visit"), "visits[1] CYCLE: kind"),
    ("anchor on an undefined event", _set("visits.1.anchor", "randomisation"), "visits[1] CYCLE: anchor"),
    ("bad design", _set("study.design", "one_arm"), "study: design"),
    ("bad response criteria", _set("study.response_criteria", ["RECIST1.0"]), "study: response_criteria"),
    ("bad ae collection start", _set("study.ae_collection.start", "enrolment"), "study.ae_collection: start"),
    ("unknown arm", _set("interventions.1.arm", "B"), "interventions[1] BEV: arm"),
    ("unknown phase", _set("visits.1.phase", "INDUCTION"), "visits[1] CYCLE: phase"),
    ("unknown form", _set("visits.2.forms", ["TU", "XX"]), "visits[2] IMG6W: forms"),
    (
        "window as wide as interval",
        _set("visits.2.window_before_days", 39),
        "visits[2] IMG6W: window_before_days",
    ),
    ("body-size dose without unit", _delete("interventions.2.dose_unit"), "interventions[2] CAP: dose_unit"),
    (
        "dose unit carrying the basis",
        _set("interventions.2.dose_unit", "mg/m2"),
        "interventions[2] CAP: dose_unit",
    ),
    ("zero dose", _set("interventions.0.dose_amount", 0), "interventions[0] CAM: dose_amount"),
    ("text dose", _set("interventions.0.dose_amount", "200 mg"), "interventions[0] CAM: dose_amount"),
    (
        "dosing day beyond cycle",
        _set("interventions.2.dosing_days", "1-28"),
        "interventions[2] CAP: dosing_days",
    ),
    ("bad time zone", _set("sites.0.time_zone", "Asia/Peking"), "sites[0] 01: time_zone"),
    ("duplicate visit code", _set("visits.2.code", "CYCLE"), "visits[2] CYCLE: code"),
    ("assumption on an unknown field", _set("study.assumptions", {"protocol": "x"}), "study: assumptions"),
    ("boolean as text", _set("study.confirmation_required", "yes"), "study: confirmation_required"),
    ("number as text field", _set("arms.0.code", 1), "arms[0] 1: code"),
    ("interval of zero", _set("visits.2.repeat_interval_days", 0), "visits[2] IMG6W: repeat_interval_days"),
    ("bad endpoint anchor", _set("endpoints.1.anchor", "diagnosis"), "endpoints[1] PFS: anchor"),
    ("criteria not a list", _set("criteria", {"kind": "inclusion"}), "criteria: must be a list"),
]


@pytest.mark.parametrize(
    ("mutate", "expected"), [c[1:] for c in STUDY_ERRORS], ids=[c[0] for c in STUDY_ERRORS]
)
def test_a_bad_study_file_is_refused_naming_file_object_and_field(db, write_yaml, mutate, expected):
    forms = write_yaml("forms.yaml", forms_data())
    data = study_data()
    mutate(data)
    bad = write_yaml("studies/bad.yaml", data)
    with pytest.raises(CommandError) as info:
        load(forms, bad)
    assert f"{bad}: {expected}" in problems(info)
    assert definition_rows() == 0
    assert history_rows() == 0


FORM_ERRORS = [
    ("choice without codelist", _delete("forms.1.items.0.codelist"), "forms[1] DM.items[0] SEX: codelist"),
    ("unknown codelist", _set("forms.1.items.0.codelist", "GENDER"), "forms[1] DM.items[0] SEX: codelist"),
    ("unknown item unit", _set("forms.0.items.0.unit", "stone"), "forms[0] VS.items[0] WEIGHT: unit"),
    ("range upside down", _set("forms.0.items.0.range", [250, 20]), "forms[0] VS.items[0] WEIGHT: range"),
    ("bad data type", _set("forms.0.items.0.data_type", "float"), "forms[0] VS.items[0] WEIGHT: data_type"),
    ("duplicate item", _set("forms.0.items.1.code", "WEIGHT"), "forms[0] VS.items[1] WEIGHT: code"),
    ("missing form name", _delete("forms.2.name"), "forms[2] TU: name: required"),
    ("unknown section", _set("visits", []), "visits: unknown section"),
    (
        "codelist item without label",
        _delete("codelists.0.items.1.label"),
        "codelists[0] NY.items[1] Y: label",
    ),
]


@pytest.mark.parametrize(
    ("mutate", "expected"), [c[1:] for c in FORM_ERRORS], ids=[c[0] for c in FORM_ERRORS]
)
def test_a_bad_form_registry_is_refused_naming_the_item(db, write_yaml, mutate, expected):
    data = forms_data()
    mutate(data)
    bad = write_yaml("forms.yaml", data)
    with pytest.raises(CommandError) as info:
        load(bad)
    assert f"{bad}: {expected}" in problems(info)
    assert definition_rows() == 0


def test_every_problem_is_reported_at_once(db, write_yaml):
    data = study_data()
    data["visits"][0]["kind"] = "nope"
    data["interventions"][0]["dose_unit"] = "furlongs"
    data["criteria"][0]["rule"] = {"field": "shoe_size", "op": ">", "value": 1}
    bad = write_yaml("studies/bad.yaml", data)
    with pytest.raises(CommandError) as info:
        load(write_yaml("forms.yaml", forms_data()), bad)
    message = problems(info)
    assert "visits[0] SCR: kind" in message
    assert "interventions[0] CAM: dose_unit" in message
    assert "criteria[0] inclusion 1: rule" in message
    assert len(info.value.errors) == 3


def test_a_bad_file_leaves_the_loaded_definition_untouched(loaded, write_yaml):
    data = study_data()
    data["visits"][2]["window_after_days"] = 5  # a valid change ...
    data["interventions"][0]["dose_unit"] = "mg/furlong"  # ... in a file that is not
    before_rows, before_history = definition_rows(), history_rows()
    with pytest.raises(CommandError):
        load(loaded[0], write_yaml("studies/syn.yaml", data))
    assert VisitDefinition.objects.get(code="IMG6W").window_after_days == 3
    assert (definition_rows(), history_rows()) == (before_rows, before_history)


def test_one_bad_file_stops_the_good_ones_too(db, write_yaml, synthetic_files):
    data = study_data()
    data["study"]["protocol_id"] = "SYN-BAD"
    data["visits"][0]["anchor"] = "nowhere"
    bad = write_yaml("studies/zz_bad.yaml", data)
    with pytest.raises(CommandError, match=r"zz_bad\.yaml"):
        load(*synthetic_files, bad)
    assert Study.objects.count() == 0


def test_the_same_protocol_in_two_files_is_refused(db, write_yaml, synthetic_files):
    twin = write_yaml("studies/twin.yaml", study_data())
    with pytest.raises(CommandError, match="also defined in"):
        load(*synthetic_files, twin)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("study: [unclosed", "not valid YAML"),
        ("- just\n- a list\n", "expected a mapping"),
        ("something: else\n", "expected a 'study' block"),
    ],
)
def test_a_file_that_is_not_a_definition_is_refused(db, write_yaml, text, expected):
    path = write_yaml("odd.yaml", text)
    with pytest.raises(CommandError, match=expected):
        load(path)


def test_a_missing_path_is_refused(db, tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        load(tmp_path / "nope.yaml")


# --- assumptions --------------------------------------------------------------------------------


def test_assumptions_are_listed_without_loading(db, synthetic_files):
    report = load(*synthetic_files, assumptions=True)
    rows = report["assumptions"]
    assert report["count"] == len(rows) == 4
    assert {
        "file": str(synthetic_files[1]),
        "study": "SYN-001",
        "object": "study",
        "field": "protocol_id",
        "reason": "synthetic test study",
    } in rows
    assert any(r["object"] == "interventions[2] CAP" and r["field"] == "dose_per" for r in rows)
    assert any(r["object"] == "visits[1] CYCLE" and r["field"] == "window_after_days" for r in rows)
    assert any(r["object"] == "phases[1] MAINT" and r["field"] is None for r in rows)
    assert definition_rows() == 0


def test_assumptions_inside_nested_blocks_are_listed_and_kept(db, write_yaml):
    data = study_data()
    data["study"]["ae_collection"]["assumptions"] = {"end_days_after_last_dose": "usual 30 days"}
    path = write_yaml("studies/syn.yaml", data)
    rows = load(path, assumptions=True)["assumptions"]
    assert any(
        r["object"] == "study.ae_collection" and r["field"] == "end_days_after_last_dose" for r in rows
    )
    load(write_yaml("forms.yaml", forms_data()), path)
    study = Study.objects.get()
    assert study.assumptions["ae_collection.end_days_after_last_dose"] == "usual 30 days"


# --- lookup -------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["SYN-001", "NCT00000001", "nct00000001"])
def test_a_study_is_found_by_protocol_or_registry_id(loaded, key):
    assert study_lookup(key).protocol_id == "SYN-001"


def test_a_study_is_found_by_primary_key(loaded):
    study = Study.objects.get()
    assert study_lookup(study.pk) == study
    assert study_lookup(str(study.pk)) == study


@pytest.mark.parametrize("key", ["NOPE", "NCT99999999", "999999", ""])
def test_an_unknown_study_key_raises_a_clear_error(loaded, key):
    with pytest.raises(Study.DoesNotExist, match="No study with protocol id, registry id or id"):
        study_lookup(key)


# --- the real fixtures --------------------------------------------------------------------------

FIXTURES = Path(settings.EDC_FIXTURES_DIR)


def test_the_real_fixtures_load_five_studies_and_reload_without_changes(db):
    study_files = sorted((FIXTURES / "studies").glob("*.yaml"))
    first = load()
    assert Study.objects.count() == len(study_files) == 5
    assert all(f["result"] == "loaded" for f in first["files"])
    before = (definition_rows(), history_rows())
    second = load()
    assert {f["result"] for f in second["files"]} == {"no changes"}
    assert (definition_rows(), history_rows()) == before


def test_every_assumption_in_the_real_fixtures_has_a_reason(db):
    rows = load(assumptions=True)["assumptions"]
    assert rows
    assert all(isinstance(r["reason"], str) and r["reason"].strip() for r in rows)
    assert all(r["file"].endswith(".yaml") and r["object"] for r in rows)


# --- locked studies and natural keys ------------------------------------------------------------


def test_a_locked_study_refuses_a_changed_definition(loaded, write_yaml):
    from django.utils import timezone

    Study.objects.filter(protocol_id="SYN-001").update(locked_at=timezone.now())
    data = study_data()
    data["visits"][2]["window_after_days"] = 5
    with pytest.raises(CommandError, match="SYN-001 is locked"):
        load(loaded[0], write_yaml("studies/syn.yaml", data))
    assert VisitDefinition.objects.get(code="IMG6W").window_after_days == 3


def test_a_locked_study_still_reloads_unchanged(loaded):
    from django.utils import timezone

    Study.objects.filter(protocol_id="SYN-001").update(locked_at=timezone.now())
    assert {f["result"] for f in load(*loaded)["files"]} == {"no changes"}


@pytest.mark.parametrize(
    ("model", "key"),
    [
        (EligibilityCriterion, ("SYN-001", "inclusion", "2")),
        (FormItem, ("VS", "1.0", "WEIGHT")),
        (apps.get_model("studies", "CodelistItem"), ("SEX", "F")),
        (Site, ("SYN-001", "01")),
        (Arm, ("SYN-001", "A")),
        (TreatmentPhase, ("SYN-001", "MAINT")),
        (Endpoint, ("SYN-001", "PFS")),
    ],
)
def test_every_definition_round_trips_its_natural_key(loaded, model, key):
    obj = model.objects.get_by_natural_key(*key)
    assert obj.natural_key() == key
