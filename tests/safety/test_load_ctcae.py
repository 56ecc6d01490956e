"""load_ctcae: all 837 CTCAE v5.0 terms, 26 SOCs, idempotent, refusing a malformed file."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from edc.safety.ctcae import CSV_NAME
from edc.safety.models import CtcaeTerm

pytestmark = pytest.mark.django_db


def load(*args: str) -> dict:
    out = StringIO()
    call_command("load_ctcae", *args, stdout=out, stderr=StringIO())
    return json.loads(out.getvalue())


def csv_text() -> str:
    return (Path(settings.EDC_SHARED_DIR) / CSV_NAME).read_text(encoding="utf-8")


def test_load_creates_837_terms_in_26_socs():
    summary = load()
    assert summary["created"] == 837
    assert CtcaeTerm.objects.count() == 837
    assert CtcaeTerm.objects.values("soc").distinct().count() == 26
    assert set(CtcaeTerm.objects.values_list("version", flat=True)) == {"5.0"}


def test_second_load_changes_nothing():
    load()
    summary = load()
    assert summary["message"] == "0 created, 0 updated, 837 unchanged"
    assert (summary["created"], summary["updated"], summary["unchanged"]) == (0, 0, 837)


def test_a_changed_term_text_is_updated_on_reload():
    load()
    CtcaeTerm.objects.filter(term="Anemia").update(definition="edited")
    summary = load()
    assert (summary["created"], summary["updated"], summary["unchanged"]) == (0, 1, 836)
    assert CtcaeTerm.objects.get(term="Anemia").definition.startswith("A disorder")


@pytest.mark.parametrize(
    ("term", "allowed"),
    [
        ("Neutrophil count decreased", [1, 2, 3, 4]),
        ("Febrile neutropenia", [3, 4, 5]),
        ("Anemia", [1, 2, 3, 4, 5]),
        ("Proteinuria", [1, 2, 3]),
        ("Lymphocyte count increased", [2, 3]),
    ],
)
def test_grades_that_are_a_dash_are_stored_as_null(term, allowed):
    load()
    row = CtcaeTerm.objects.get(term=term)
    assert row.allowed_grades() == allowed
    for grade in set(range(1, 6)) - set(allowed):
        assert getattr(row, f"grade_{grade}") is None


def test_term_keeps_code_soc_and_nci_text():
    load()
    row = CtcaeTerm.objects.get(meddra_code="10029366")
    assert row.term == "Neutrophil count decreased"
    assert row.soc == "Investigations"
    assert row.grade_1 == "<LLN - 1500/mm3; <LLN - 1.5 x 10e9 /L"


def test_not_applicable_grade_counts_match_nci():
    load()
    counts = [CtcaeTerm.objects.filter(**{f"grade_{n}__isnull": True}).count() for n in range(1, 6)]
    assert counts == [192, 92, 87, 286, 343]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda text: text.replace("10029366", "1002936", 1), "MedDRA Code"),
        (lambda text: text.replace("MedDRA SOC", "SOC", 1), "MedDRA SOC"),
        (lambda text: text.rsplit("\n", 2)[0] + "\n", "837"),
        (lambda text: text.replace(",Investigations,", ",Investigation,", 1), "26 SOCs"),
        (lambda text: "", "empty"),
    ],
)
def test_malformed_file_exits_non_zero_naming_file_and_field_and_writes_nothing(tmp_path, mutate, message):
    bad = tmp_path / "bad.csv"
    bad.write_text(mutate(csv_text()), encoding="utf-8")
    with pytest.raises(CommandError) as excinfo:
        load("--file", str(bad))
    assert "bad.csv" in str(excinfo.value)
    assert message in str(excinfo.value)
    assert CtcaeTerm.objects.count() == 0


def test_missing_file_exits_non_zero(tmp_path):
    with pytest.raises(CommandError, match=r"nope\.csv"):
        load("--file", str(tmp_path / "nope.csv"))


def test_file_option_loads_the_given_copy(tmp_path):
    copy = tmp_path / "copy.csv"
    copy.write_text(csv_text(), encoding="utf-8")
    assert load("--file", str(copy))["created"] == 837
