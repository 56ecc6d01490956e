"""Small synthetic definitions (a form registry and one study) written to tmp_path as YAML."""

from __future__ import annotations

import copy
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import call_command

FORMS: dict[str, Any] = {
    "codelists": [
        {
            "code": "NY",
            "name": "No / yes",
            "items": [{"code": "N", "label": "No"}, {"code": "Y", "label": "Yes"}],
        },
        {
            "code": "SEX",
            "name": "Sex",
            "items": [{"code": "M", "label": "Male"}, {"code": "F", "label": "Female"}],
        },
    ],
    "forms": [
        {
            "code": "VS",
            "name": "Vital signs",
            "version": "1.0",
            "items": [
                {
                    "code": "WEIGHT",
                    "label": "Weight",
                    "data_type": "decimal",
                    "unit": "kg",
                    "required": True,
                    "range": [20, 250],
                },
                {
                    "code": "HEIGHT",
                    "label": "Height",
                    "data_type": "decimal",
                    "unit": "cm",
                    "range": [100, 230],
                },
            ],
        },
        {
            "code": "DM",
            "name": "Demographics",
            "items": [
                {"code": "SEX", "label": "Sex", "data_type": "choice", "codelist": "SEX", "required": True}
            ],
        },
        {
            "code": "TU",
            "name": "Tumour identification",
            "items": [{"code": "SITE", "label": "Site", "data_type": "text"}],
        },
    ],
}

STUDY: dict[str, Any] = {
    "study": {
        "protocol_id": "SYN-001",
        "assumptions": {"protocol_id": "synthetic test study"},
        "registry_id": "NCT00000001",
        "seed": "none.txt",
        "title": "A synthetic study",
        "short_title": "Synthetic",
        "phase": "PHASE2",
        "design": "single_arm",
        "target_enrollment": 40,
        "status": "recruiting",
        "ctcae_version": "5.0",
        "response_criteria": ["RECIST1.1"],
        "confirmation_required": True,
        "confirmation_min_interval_days": 28,
        "min_sd_duration_days": 42,
        "max_treatment_days": 730,
        "schedule_horizon_days": 730,
        "ae_collection": {"start": "first_dose", "end_days_after_last_dose": 30, "sae_start": "consent"},
        "dose_recalc_weight_change_pct": 10,
    },
    "sites": [
        {
            "code": "01",
            "name": "Hospital One",
            "city": "Beijing",
            "country": "China",
            "time_zone": "Asia/Shanghai",
        }
    ],
    "arms": [{"code": "A", "name": "Combination", "kind": "experimental"}],
    "phases": [
        {"code": "COMBO", "name": "Combination", "arm": "A", "order": 1},
        {
            "code": "MAINT",
            "name": "Maintenance",
            "arm": "A",
            "order": 2,
            "entry_rule": "after CR",
            "assumption": "entry rule paraphrased",
        },
    ],
    "interventions": [
        {
            "code": "CAM",
            "agent": "camrelizumab",
            "aliases": ["Carrilizumab"],
            "arm": "A",
            "phase": "COMBO",
            "dose_amount": 200,
            "dose_unit": "mg",
            "dose_basis": "flat",
            "route": "IV",
            "dosing_days": [1],
            "cycle_length_days": 21,
        },
        {
            "code": "BEV",
            "agent": "bevacizumab",
            "arm": "A",
            "phase": "COMBO",
            "dose_amount": 7.5,
            "dose_unit": "mg",
            "dose_basis": "per_kg",
            "route": "IV",
            "dosing_days": [1],
            "cycle_length_days": 21,
        },
        {
            "code": "CAP",
            "agent": "capecitabine",
            "arm": "A",
            "phase": "COMBO",
            "dose_amount": 1250,
            "dose_unit": "mg",
            "dose_basis": "per_m2",
            "dose_per": "dose",
            "frequency": "twice daily",
            "doses_per_day": 2,
            "route": "PO",
            "dosing_days": "1-14",
            "cycle_length_days": 21,
            "assumptions": {"dose_per": "read as per dose"},
        },
    ],
    "criteria": [
        {
            "kind": "inclusion",
            "number": "1",
            "text": "Age 18-75.",
            "rule": {"field": "age", "op": "between", "value": [18, 75]},
        },
        {
            "kind": "inclusion",
            "number": "2",
            "text": "Haemoglobin >= 100 g/L.",
            "rule": {"field": "HGB", "op": ">=", "value": 100, "unit": "g/L"},
        },
        {"kind": "exclusion", "number": "1", "text": "Anything the investigator judges.", "rule": None},
    ],
    "visits": [
        {
            "code": "SCR",
            "name": "Screening",
            "kind": "screening",
            "anchor": "enrollment",
            "offset_days": 0,
            "window_before_days": 28,
            "window_after_days": 0,
            "forms": ["DM", "VS", "TU"],
        },
        {
            "code": "CYCLE",
            "name": "Cycle {n} Day 1",
            "kind": "treatment",
            "anchor": "first_dose",
            "repeat_from": "previous_actual",
            "window_before_days": 0,
            "window_after_days": 3,
            "repeat_interval_days": 21,
            "repeat_until_day": 729,
            "on_end_of_treatment": "stop",
            "phase": "COMBO",
            "forms": ["VS"],
            "assumptions": {"window_after_days": "not stated"},
        },
        {
            "code": "IMG6W",
            "name": "Imaging {n}",
            "kind": "imaging",
            "series": "IMAGING",
            "anchor": "first_dose",
            "offset_days": 42,
            "window_before_days": 3,
            "window_after_days": 3,
            "repeat_interval_days": 42,
            "repeat_until_day": 336,
            "on_end_of_treatment": "continue_unless_progression",
            "forms": ["TU"],
        },
    ],
    "endpoints": [
        {"code": "ORR", "name": "Objective response rate", "kind": "primary", "anchor": None},
        {
            "code": "PFS",
            "name": "Progression-free survival",
            "kind": "secondary",
            "anchor": "first_dose",
            "time_frame": "up to 2 years",
        },
    ],
}


def forms_data() -> dict[str, Any]:
    return copy.deepcopy(FORMS)


def study_data() -> dict[str, Any]:
    return copy.deepcopy(STUDY)


@pytest.fixture
def write_yaml(tmp_path: Path) -> Callable[[str, Any], Path]:
    def _write(name: str, data: Any) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        text = data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
        path.write_text(text, encoding="utf-8")
        return path

    return _write


@pytest.fixture
def synthetic_files(write_yaml) -> tuple[Path, Path]:
    return write_yaml("forms.yaml", forms_data()), write_yaml("studies/syn.yaml", study_data())


@pytest.fixture
def loaded(db, synthetic_files):
    """The synthetic registry and study, loaded."""
    call_command("load_studies", *map(str, synthetic_files), stdout=io.StringIO())
    return synthetic_files
