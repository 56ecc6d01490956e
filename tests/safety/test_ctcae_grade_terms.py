"""ctcae_grade reads its terms from the database (the one CTCAE store), of the requested version."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from edc.safety.ctcae import Dictionary
from edc.safety.models import CtcaeTerm
from edc.safety.selectors import CtcaeTermsNotLoaded, ctcae_dictionary
from tests.factories import StudyFactory

pytestmark = pytest.mark.django_db

ANC_CASE = {"id": "ANC", "term": "Neutrophil count decreased", "value": 1200, "unit": "/mm3", "lln": 2000}


def grade(tmp_path: Path, *args: str, cases=None) -> dict:
    path = tmp_path / "cases.json"
    path.write_text(json.dumps(cases or [ANC_CASE]), encoding="utf-8")
    out = StringIO()
    call_command("ctcae_grade", str(path), *args, stdout=out)
    return json.loads(out.getvalue())


def test_the_cited_grade_text_is_the_stored_terms_text(tmp_path, ctcae_terms):
    CtcaeTerm.objects.filter(version="5.0", term="Neutrophil count decreased").update(grade_2="as stored")
    result = grade(tmp_path)["ANC"]
    assert (result["grade"], result["criterion"]) == (2, "as stored")


def test_a_term_missing_from_the_database_is_unknown_to_grading(tmp_path, ctcae_terms):
    CtcaeTerm.objects.filter(version="5.0", term="Neutrophil count decreased").delete()
    path = tmp_path / "cases.json"
    path.write_text(json.dumps([ANC_CASE]), encoding="utf-8")
    out = StringIO()
    # A case the engine cannot grade is printed in its place, and the batch exits non-zero.
    with pytest.raises(CommandError) as excinfo:
        call_command("ctcae_grade", str(path), stdout=out)
    result = json.loads(out.getvalue())["ANC"]
    assert result["grade"] is None
    assert "unknown CTCAE v5.0 term 'Neutrophil count decreased'" in result["reason"]
    assert "Neutrophil count decreased" in str(excinfo.value)


def test_without_loaded_terms_the_command_says_to_run_load_ctcae(tmp_path, no_ctcae_terms):
    with pytest.raises(CommandError) as excinfo:
        grade(tmp_path)
    assert "no CTCAE v5.0 terms in the database" in str(excinfo.value)
    assert "load_ctcae" in str(excinfo.value)


def test_a_version_that_is_not_loaded_is_refused_naming_it(tmp_path, ctcae_terms):
    with pytest.raises(CommandError) as excinfo:
        grade(tmp_path, "--ctcae-version", "6.0")
    assert "no CTCAE v6.0 terms" in str(excinfo.value)
    assert "--version 6.0" in str(excinfo.value)


def test_the_studys_ctcae_version_is_used_with_the_study_option(tmp_path, ctcae_terms):
    StudyFactory(protocol_id="V6-STUDY", ctcae_version="6.0")
    with pytest.raises(CommandError, match=r"no CTCAE v6\.0 terms"):
        grade(tmp_path, "--study", "V6-STUDY")
    StudyFactory(protocol_id="V5-STUDY", ctcae_version="5.0")
    assert grade(tmp_path, "--study", "V5-STUDY")["ANC"]["grade"] == 2


def test_an_explicit_version_wins_over_the_studys(tmp_path, ctcae_terms):
    StudyFactory(protocol_id="V6-STUDY", ctcae_version="6.0")
    assert grade(tmp_path, "--study", "V6-STUDY", "--ctcae-version", "5.0")["ANC"]["grade"] == 2


def test_an_unknown_study_is_refused_naming_the_option(tmp_path, ctcae_terms):
    with pytest.raises(CommandError, match="--study NOPE"):
        grade(tmp_path, "--study", "NOPE")


def test_terms_of_another_version_are_looked_up_but_graded_clinically(tmp_path, ctcae_terms):
    row = CtcaeTerm.objects.get(version="5.0", term="Neutrophil count decreased")
    row.pk, row.version = None, "6.0"
    row.save()
    result = grade(tmp_path, "--ctcae-version", "6.0")["ANC"]
    assert result["grade"] is None
    assert "encoded for CTCAE v5.0 only, not v6.0" in result["reason"]


def test_the_selector_builds_the_dictionary_from_the_stored_rows(ctcae_terms, django_assert_num_queries):
    with django_assert_num_queries(1):
        dictionary = ctcae_dictionary(version="5.0")
    assert isinstance(dictionary, Dictionary)
    assert (dictionary.version, len(dictionary.terms)) == ("5.0", 837)
    assert dictionary.by_code["10029366"].term == "Neutrophil count decreased"
    assert dictionary.by_term["Febrile neutropenia"].allowed_grades() == (3, 4, 5)


def test_the_selector_refuses_a_version_with_no_terms(no_ctcae_terms):
    with pytest.raises(CtcaeTermsNotLoaded, match="load_ctcae"):
        ctcae_dictionary(version="5.0")
