"""Form versions and study versions: a form that data uses is never rewritten, an amendment is recorded."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from studies.models import Form, FormDefinition, Study, StudyVersion, VisitDefinition
from tests.factories import SiteFactory, SubjectFactory, UserFactory
from tests.studies.conftest import forms_data, study_data

pytestmark = pytest.mark.django_db


def load(*paths: Any, **options: Any) -> dict[str, Any]:
    out = io.StringIO()
    call_command("load_studies", *map(str, paths), stdout=out, json=True, **options)
    return json.loads(out.getvalue())


def refused(*paths: Any) -> list[tuple[str | None, str | None, str]]:
    with pytest.raises(CommandError) as info:
        load(*paths)
    return [(e.object, e.field, e.message) for e in info.value.errors]


def with_vs(version: str, *, label: str = "Weight", published: bool | None = None) -> dict[str, Any]:
    data = forms_data()
    vs = data["forms"][0]
    vs["version"] = version
    vs["items"][0]["label"] = label
    if published is not None:
        vs["published"] = published
    return data


# --- form versions --------------------------------------------------------------------------------


def test_a_new_form_version_becomes_current_and_the_old_one_stays_as_it_was(loaded, write_yaml):
    report = load(write_yaml("forms.yaml", with_vs("2.0", label="Body weight")))
    assert "form VS: current version 1.0 -> 2.0" in report["files"][0]["updated"]
    old, new = FormDefinition.objects.filter(code="VS").order_by("version")
    assert (old.version, old.is_current, old.items.get(code="WEIGHT").label) == ("1.0", False, "Weight")
    assert (new.version, new.is_current, new.items.get(code="WEIGHT").label) == ("2.0", True, "Body weight")
    # Visits name the form, so they now expect its current version without being touched.
    visit = VisitDefinition.objects.get(code="CYCLE")
    assert [form.current.version for form in visit.forms.all()] == ["2.0"]
    assert Form.objects.filter(code="VS").count() == 1


def test_a_draft_version_no_data_uses_is_changed_in_place(loaded, write_yaml):
    report = load(write_yaml("forms.yaml", with_vs("1.0", label="Body weight")))
    assert report["files"][0]["updated"] == ["form VS.WEIGHT: label"]
    assert FormDefinition.objects.filter(code="VS").count() == 1


def test_a_published_version_is_never_rewritten(db, write_yaml):
    load(write_yaml("forms.yaml", with_vs("1.0", published=True)))
    assert FormDefinition.objects.get(code="VS").published_at is not None
    problems = refused(write_yaml("forms.yaml", with_vs("1.0", label="Body weight", published=True)))
    assert [(obj, field) for obj, field, _ in problems] == [("forms[0] VS", "version")]
    assert "is published on" in problems[0][2] and "give the changed form a new version" in problems[0][2]
    assert "item WEIGHT label" in problems[0][2]
    assert FormDefinition.objects.get(code="VS").items.get(code="WEIGHT").label == "Weight"
    # The same change as a new version is accepted.
    load(write_yaml("forms.yaml", with_vs("1.1", label="Body weight")))
    assert FormDefinition.objects.get(code="VS", is_current=True).version == "1.1"


def test_a_published_version_cannot_return_to_draft(db, write_yaml):
    load(write_yaml("forms.yaml", with_vs("1.0", published=True)))
    problems = refused(write_yaml("forms.yaml", with_vs("1.0", published=False)))
    assert problems == [("forms[0] VS", "published", "version 1.0 is published and cannot return to draft")]


def test_a_form_version_that_holds_data_is_never_rewritten(loaded, write_yaml):
    # The subject record stores the DM form: once a subject exists, DM's current version is in use.
    SubjectFactory(site=SiteFactory(study=Study.objects.get()))
    data = forms_data()
    data["forms"][1]["items"][0]["label"] = "Sex at birth"
    problems = refused(write_yaml("forms.yaml", data))
    assert [(obj, field) for obj, field, _ in problems] == [("forms[1] DM", "version")]
    assert "data is stored in it (subjects.Subject)" in problems[0][2]
    data["forms"][1]["version"] = "1.1"
    load(write_yaml("forms.yaml", data))
    assert list(FormDefinition.objects.filter(code="DM").values_list("version", "is_current")) == [
        ("1.0", False),
        ("1.1", True),
    ]


def test_a_second_version_of_a_form_with_the_same_number_is_refused_by_the_database(db):
    FormDefinition.objects.create(code="X", name="x", version="1.0")
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        FormDefinition.objects.create(code="X", name="x", version="1.0", is_current=False)
    with pytest.raises(IntegrityError), transaction.atomic():
        FormDefinition.objects.create(code="X", name="x", version="2.0", is_current=True)


def test_the_form_api_serves_the_current_version_and_any_other_on_request(loaded, write_yaml, client_for):
    load(write_yaml("forms.yaml", with_vs("2.0", label="Body weight")))
    client = client_for(UserFactory(username="reader"))
    listed = client.get("/api/forms/").json()["results"]
    assert [(f["code"], f["version"]) for f in listed if f["code"] == "VS"] == [("VS", "2.0")]
    current = client.get("/api/forms/VS/").json()
    assert (current["version"], current["is_current"], current["items"][0]["label"]) == (
        "2.0",
        True,
        "Body weight",
    )
    old = client.get("/api/forms/VS/", {"version": "1.0"}).json()
    assert (old["version"], old["is_current"], old["items"][0]["label"]) == ("1.0", False, "Weight")
    missing = client.get("/api/forms/VS/", {"version": "9.9"})
    assert missing.status_code == 404
    assert "no version 9.9" in missing.json()["detail"]


# --- study versions -------------------------------------------------------------------------------


def test_the_first_load_records_version_1_and_an_unchanged_reload_records_nothing(loaded):
    (version,) = StudyVersion.objects.all()
    assert (version.number, version.effective_date, version.source) == ("1", None, "syn.yaml")
    assert "visit IMG6W" in version.changes["created"]
    load(*loaded)
    assert StudyVersion.objects.count() == 1


def test_an_amendment_is_recorded_as_a_new_version_with_its_effective_date(loaded, write_yaml):
    import datetime as dt

    user = UserFactory(username="loader")
    data = study_data()
    data["study"]["version"] = "2.0"
    data["study"]["effective_date"] = "2025-06-01"
    data["visits"][2]["window_after_days"] = 7
    report = load(loaded[0], write_yaml("studies/syn.yaml", data), user="loader")
    assert report["files"][1]["version"] == "2.0"
    latest = Study.objects.get().current_version
    assert (latest.number, latest.effective_date, latest.loaded_by) == ("2.0", dt.date(2025, 6, 1), user)
    assert latest.changes == {"created": [], "updated": ["visit IMG6W: window_after_days"]}
    visit = VisitDefinition.objects.get(code="IMG6W")
    assert visit.history.first().history_user == user
    assert "load_studies syn.yaml" in visit.history.first().history_change_reason


def test_a_changed_definition_under_a_version_already_recorded_is_refused(loaded, write_yaml):
    data = study_data()
    data["study"]["version"] = "1"
    data["visits"][2]["window_after_days"] = 7
    problems = refused(loaded[0], write_yaml("studies/syn.yaml", data))
    assert [(obj, field) for obj, field, _ in problems] == [("study", "version")]
    assert "give the amendment a new version" in problems[0][2]
    assert VisitDefinition.objects.get(code="IMG6W").window_after_days == 3


def test_an_amendment_changes_no_subject(loaded, write_yaml):
    subject = SubjectFactory(site=SiteFactory(study=Study.objects.get()))
    before = subject.history.count(), type(subject)._base_manager.filter(pk=subject.pk).values().get()
    data = study_data()
    data["study"]["version"] = "2"
    data["visits"][1]["repeat_interval_days"] = 28
    load(loaded[0], write_yaml("studies/syn.yaml", data))
    after = subject.history.count(), type(subject)._base_manager.filter(pk=subject.pk).values().get()
    assert after == before
