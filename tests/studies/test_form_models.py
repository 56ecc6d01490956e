"""The registry-model check: each model that stores a registry form matches its form, item by item."""

from __future__ import annotations

import io
from typing import ClassVar

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import models
from django.test.utils import isolate_apps

from edc.core.fields import PartialDateField
from edc.subjects.models import Subject
from studies import checks
from studies.checks import FormSpec, ItemSpec, compare_store, ids, registry_forms
from studies.form_stores import form_stores, store_of

VITALS = FormSpec(
    code="VS",
    version="1.0",
    items=(
        ItemSpec("VSDATE", "date"),
        ItemSpec("WEIGHT", "decimal", unit="kg"),
        ItemSpec("SYSBP", "integer", unit="mmHg"),
        ItemSpec("SMOKER", "choice", codes=("N", "Y")),
    ),
)


def test_the_subject_record_is_the_store_of_the_demographics_form():
    stores = {s.form_code: s.label for s in form_stores()}
    assert stores["DM"] == "subjects.Subject"
    assert compare_store(store_of(Subject), registry_forms()) == []


def test_every_form_model_matches_its_registry_form():
    # The subject journey's forms (issue 17) join the check like any later form model.
    assert {s.form_code for s in form_stores()} >= {"DM", "IC", "IE", "VS", "ECOG", "LB", "PREG", "BD", "PT"}
    assert [m for s in form_stores() for m in compare_store(s, registry_forms())] == []


def test_the_registry_file_s_demographics_items_are_the_subject_s_fields():
    dm = registry_forms()["DM"]
    assert [(i.code, i.data_type) for i in dm.items] == [
        ("SEX", "choice"),
        ("BIRTH_DATE", "partial_date"),
        ("INITIALS", "text"),
    ]


@isolate_apps("studies")
def test_a_model_that_matches_its_form_passes():
    class Vitals(models.Model):  # noqa: DJ008
        form_code: ClassVar[str] = "VS"
        form_item_fields: ClassVar[dict[str, str]] = {"VSDATE": "measured_on", "SYSBP": "systolic"}
        form_field_units: ClassVar[dict[str, str]] = {"weight": "kg", "systolic": "mmHg"}
        measured_on = models.DateField()
        weight = models.DecimalField(max_digits=5, decimal_places=1)
        systolic = models.PositiveSmallIntegerField()
        smoker = models.CharField(max_length=1, choices=[("N", "No"), ("Y", "Yes")])

        class Meta:
            app_label = "studies"

    assert compare_store(store_of(Vitals), {"VS": VITALS}) == []


@isolate_apps("studies")
def test_a_deliberately_mismatched_model_fails_the_check_naming_each_mismatch():
    class BadVitals(models.Model):  # noqa: DJ008
        form_code: ClassVar[str] = "VS"
        vsdate = models.DateTimeField()  # E022: a date item in a date-time field
        weight = models.DecimalField(max_digits=5, decimal_places=1)  # E023: no unit stated
        smoker = models.CharField(max_length=1, choices=[("N", "No"), ("Y", "Yes"), ("X", "Ex")])  # E022
        pulse = models.IntegerField()  # E024: a field the form does not ask
        # SYSBP has no field: E021

        class Meta:
            app_label = "studies"

    messages = compare_store(store_of(BadVitals), {"VS": VITALS})
    assert ids(messages) == ["studies.E021", "studies.E022", "studies.E022", "studies.E023", "studies.E024"]
    text = "\n".join(m.msg for m in messages)
    assert "item SYSBP has no field 'sysbp'" in text
    assert "item VSDATE is date, but field 'vsdate' is a DateTimeField" in text
    assert "item WEIGHT is in kg, field 'weight' in no stated unit" in text
    assert "field 'pulse' is no item of the form" in text


@isolate_apps("studies")
def test_a_model_naming_a_form_the_registry_lacks_fails_the_check():
    class Orphan(models.Model):  # noqa: DJ008
        form_code: ClassVar[str] = "ZZ"
        when = PartialDateField()

        class Meta:
            app_label = "studies"

    assert ids(compare_store(store_of(Orphan), {"VS": VITALS})) == ["studies.E020"]


def test_manage_py_check_fails_when_the_registry_and_the_subject_disagree(db, monkeypatch):
    forms = registry_forms()
    dm = forms["DM"]
    forms["DM"] = FormSpec(dm.code, dm.version, (*dm.items, ItemSpec("ETHNIC", "choice", codes=("HAN",))))
    monkeypatch.setattr(checks, "registry_forms", lambda path=None: forms)
    with pytest.raises(SystemCheckError, match=r"studies\.E021.*item ETHNIC has no field 'ethnic'"):
        call_command("check", stdout=io.StringIO(), stderr=io.StringIO())


def test_fields_the_base_models_add_are_no_form_data():
    names = {f.name for f in store_of(Subject).data_fields()}
    assert names == {"sex", "birth_date", "initials"}
