"""Identifier patterns (edc/subjects/identifiers.py) and their check at load time. Pure except the last."""

from __future__ import annotations

import pytest

from edc.subjects.identifiers import format_identifier, pattern_problems


@pytest.mark.parametrize(
    ("pattern", "sequence", "values", "expected"),
    [
        ("{site}-{seq:04d}", "per_site", {"seq": 7}, "01-0007"),
        ("004-{site}-{seq:03d}", "per_site", {"seq": 12}, "004-01-012"),
        ("{protocol}/{seq}", "per_study", {"seq": 3}, "CAM-CRT-HNSCC/3"),
    ],
)
def test_a_pattern_formats_the_study_the_site_and_the_sequence(pattern, sequence, values, expected):
    assert pattern_problems(pattern, sequence=sequence) == []
    assert format_identifier(pattern, protocol="CAM-CRT-HNSCC", site="01", **values) == expected


@pytest.mark.parametrize(
    ("pattern", "sequence", "words"),
    [
        ("{site}-0001", "per_site", "needs {seq}"),
        ("S-{seq:04d}", "per_site", "per site needs {site}"),
        ("{patient}-{seq}", "per_study", "unknown placeholder {patient}"),
        ("{site:>4}-{seq}", "per_study", "only {seq} takes a width"),
        ("{seq!r}", "per_study", "no conversions"),
        ("{seq", "per_study", "not a pattern"),
        ("", "per_study", "required"),
    ],
)
def test_a_pattern_that_could_repeat_or_cannot_be_read_is_refused(pattern, sequence, words):
    assert any(words in problem for problem in pattern_problems(pattern, sequence=sequence))


def test_an_identifier_longer_than_its_field_is_refused():
    with pytest.raises(ValueError, match="longer than 32"):
        format_identifier(
            "{protocol}-{protocol}-{protocol}-{seq}", protocol="CAM-CRT-HNSCC", site="01", seq=1
        )


@pytest.mark.django_db
def test_a_study_file_with_an_unusable_pattern_is_refused_naming_the_block_and_field(tmp_path):
    from io import StringIO
    from pathlib import Path

    from django.conf import settings
    from django.core.management import call_command

    from studies.models import Study

    fixtures = Path(settings.BASE_DIR) / "fixtures"
    text = (fixtures / "studies" / "002_cet_dalp_hnscc.yaml").read_text(encoding="utf-8")
    broken = tmp_path / "002.yaml"
    broken.write_text(
        text.replace('subject_identifier: "002-{site}-{seq:03d}"', 'subject_identifier: "002-{seq:03d}"')
    )
    with pytest.raises(Exception) as refused:
        call_command("load_studies", str(fixtures / "forms.yaml"), str(broken), stdout=StringIO())
    assert "enrollment" in str(refused.value)
    assert "subject_identifier" in str(refused.value)
    assert "per site needs {site}" in str(refused.value)
    assert not Study.objects.exists()
