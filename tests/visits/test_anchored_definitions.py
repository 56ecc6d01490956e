"""A visit definition anchored on another visit's occurrences (`anchor_visit`) through the loader,
the engine's specs and the API."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from edc.visits.selectors import study_visit_specs
from studies.models import Study, VisitDefinition

pytestmark = pytest.mark.django_db

FIXTURES = Path(settings.BASE_DIR) / "fixtures"
SEED_002 = FIXTURES / "studies" / "002_cet_dalp_hnscc.yaml"


def load(*paths: Path) -> None:
    call_command("load_studies", str(FIXTURES / "forms.yaml"), *map(str, paths), stdout=io.StringIO())


def seed_002_with(tmp_path: Path, **changes) -> Path:
    data = yaml.safe_load(SEED_002.read_text(encoding="utf-8"))
    weekly = next(v for v in data["visits"] if v["code"] == "CETW")
    weekly.update(changes)
    path = tmp_path / "002.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_the_loader_stores_anchor_visit_and_the_engine_gets_it():
    load(SEED_002)
    row = VisitDefinition.objects.get(study__protocol_id="CET-DALP-HNSCC", code="CETW")
    assert row.anchor_visit == "CYCLE"
    specs = {s.code: s for s in study_visit_specs(Study.objects.get(protocol_id="CET-DALP-HNSCC"))}
    assert specs["CETW"].anchor_visit == "CYCLE"
    assert specs["CYCLE"].anchor_visit == ""


def test_an_anchor_visit_naming_no_visit_of_the_study_is_refused_naming_file_object_and_field(tmp_path):
    with pytest.raises(CommandError) as excinfo:
        load(seed_002_with(tmp_path, anchor_visit="CYCLES"))
    message = str(excinfo.value)
    assert "002.yaml" in message
    assert "CETW" in message
    assert "anchor_visit" in message
    assert "'CYCLES' names no visit of this study" in message
    assert not Study.objects.filter(protocol_id="CET-DALP-HNSCC").exists()


def test_the_api_shows_what_a_visit_is_anchored_on(admin_client):
    load(SEED_002)
    study = Study.objects.get(protocol_id="CET-DALP-HNSCC")
    visits = admin_client.get(f"/api/studies/{study.pk}/").json()["visit_definitions"]
    assert {v["code"]: v["anchor_visit"] for v in visits}["CETW"] == "CYCLE"
