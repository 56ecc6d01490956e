"""load_ctcae: 837 CTCAE v5.0 terms in 26 SOCs, idempotent, refusing a bad file; versions side by side."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from edc.safety.models import CtcaeTerm
from edc.safety.reference import VENDORED_CSV

# Each test starts from an empty dictionary table (the session's terms come back afterwards).
pytestmark = pytest.mark.usefixtures("no_ctcae_terms")


def load(*args: str) -> dict:
    out = StringIO()
    call_command("load_ctcae", *args, stdout=out, stderr=StringIO())
    return json.loads(out.getvalue())


def csv_text() -> str:
    return VENDORED_CSV["5.0"].read_text(encoding="utf-8")


def test_the_default_file_is_the_copy_vendored_in_the_repository():
    summary = load()
    assert summary["file"] == str(settings.BASE_DIR / "edc/safety/data/ctcae/CTCAE_v5.0_clean_copy.csv")
    assert summary["version"] == "5.0"


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


def v6_copy(tmp_path, mutate=lambda text: text):
    """The v5.0 list dressed as a v6.0 file (the change-note column names the file's version)."""
    path = tmp_path / "CTCAE_v6.0.csv"
    text = csv_text().replace("CTCAE v5.0 Change", "CTCAE v6.0 Change", 1)
    path.write_text(mutate(text), encoding="utf-8")
    return path


def test_another_version_is_stored_beside_v5_and_leaves_it_unchanged(tmp_path):
    load()
    path = v6_copy(tmp_path, lambda text: text.replace("A disorder characterized by", "V6:", 1))
    summary = load("--file", str(path), "--version", "6.0")
    assert (summary["version"], summary["created"]) == ("6.0", 837)
    assert CtcaeTerm.objects.filter(version="5.0").count() == 837
    assert CtcaeTerm.objects.filter(version="6.0").count() == 837
    assert not CtcaeTerm.objects.filter(version="5.0", definition__startswith="V6:").exists()
    assert CtcaeTerm.objects.filter(version="6.0", definition__startswith="V6:").count() == 1
    assert load()["message"] == "0 created, 0 updated, 837 unchanged"


def test_a_file_of_another_version_than_the_one_named_is_refused(tmp_path):
    with pytest.raises(CommandError) as excinfo:
        load("--file", str(v6_copy(tmp_path)), "--version", "5.0")
    assert "CTCAE v6.0 Change" in str(excinfo.value)
    assert "v5.0" in str(excinfo.value)
    assert CtcaeTerm.objects.count() == 0


def test_a_version_without_a_vendored_file_needs_the_file_option():
    with pytest.raises(CommandError, match="--file"):
        load("--version", "6.0")


@pytest.mark.parametrize("version", ["six", "6", "v6.0", ""])
def test_a_version_that_is_not_a_version_number_is_refused(version):
    with pytest.raises(CommandError, match="--version"):
        load("--version", version)
