"""The forms of issue 19 in the access matrix (radiotherapy, biomarkers, survival follow-up,
subsequent therapy, death; the restricted-medication flags read-only): the records of THE WORLD
they act on and how each action is performed. The rows are in tests/access/matrix.py, in the
block `# --- issue 19 ---`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from edc.consent.models import ConsentVersion
from edc.consent.services import consent_sign
from edc.core.services import record_save
from edc.forms import services as forms
from edc.forms.models import (
    Biomarker,
    ConcomitantMedication,
    Death,
    RadiotherapyCourse,
    RestrictedMedicationFlag,
    SubsequentTherapy,
    SurvivalFollowUp,
)
from edc.subjects.services import subject_screen
from tests.access.journey import CONSENTED, FORM_DAY

BODIES: dict[str, dict[str, Any]] = {
    "radiotherapy-courses": {
        "target": "Neck",
        "technique": "IMRT",
        "on_study": False,
        "fractions": 30,
        "total_dose_gy": 60,
        "start_date": "2023-05",
    },
    "biomarkers": {"date": "2025-03-05", "test": "VEGFR2", "assay": "IHC", "vegfr2_status": "POS"},
    "survival-follow-ups": {
        "contact_date": "2025-03-05",
        "method": "PHONE",
        "vital_status": "LOST",
        "last_known_alive": "2025-03-04",
    },
    "subsequent-therapies": {"start_date": "2025-03", "regimen": "Docetaxel"},
    "deaths": {"death_date": "2025-03-05", "cause": "PD"},
}
MODELS: dict[str, type[Any]] = {
    "radiotherapy-courses": RadiotherapyCourse,
    "biomarkers": Biomarker,
    "survival-follow-ups": SurvivalFollowUp,
    "subsequent-therapies": SubsequentTherapy,
    "deaths": Death,
}


def _row(resource: str, subject: Any) -> Any:
    stored = {
        "radiotherapy-courses": lambda: forms.radiotherapy_course_create(
            user=None,
            subject=subject,
            target="Neck",
            technique="IMRT",
            on_study=False,
            fractions=33,
            total_dose_gy=66,
            start_date="2022",
        ),
        "biomarkers": lambda: forms.biomarker_create(
            user=None, subject=subject, date=FORM_DAY, test="EBVDNA", assay="qPCR", ebv_dna=500
        ),
        "survival-follow-ups": lambda: forms.survival_follow_up_create(
            user=None, subject=subject, contact_date=FORM_DAY, not_done_reason="not_done"
        ),
        "subsequent-therapies": lambda: forms.subsequent_therapy_create(
            user=None, subject=subject, start_date="2025-03-04", regimen="Cetuximab"
        ),
    }
    return stored[resource]()


def _fresh(site: Any) -> Any:
    """A consented subject of its own (a death takes its subject off study: not the journey's)."""
    subject = subject_screen(
        user=None, study=site.study, site=site, sex="M", birth_date="1955", screening_date=CONSENTED.date()
    )
    version = ConsentVersion.objects.get(study=site.study, version="1.0", language="zh")
    consent_sign(user=None, subject=subject, version=version, signed_at=CONSENTED, obtained_by="Dr Matrix")
    return subject


def add_records(world: Any) -> None:
    """A row of each form at A, B and Z (the journey's subjects; a death on a subject of its own),
    and a restricted-medication flag there (stored as the CM service stores one)."""
    subjects = world.journey_subjects
    for resource in MODELS:
        if resource == "deaths":
            world.records[resource] = {
                key: forms.death_record(user=None, subject=_fresh(s.site), death_date=FORM_DAY, cause="UNK")
                for key, s in subjects.items()
            }
        else:
            world.records[resource] = {key: _row(resource, s) for key, s in subjects.items()}
    flags = {}
    for key, subject in subjects.items():
        medication = ConcomitantMedication.objects.filter(subject=subject).first()
        flags[key] = record_save(
            RestrictedMedicationFlag(
                study=subject.study,
                site=subject.site,
                subject=subject,
                medication=medication,
                rule="004-E10",
                seed="fixtures/records/004_NCT06170697_excerpt.txt",
                criterion="exclusion 10",
                category="live_vaccine",
                windows="on_trial",
                certain=True,
                first_dose=dt.date(2025, 3, 15),
                message=f"matrix flag {key}",
            ),
            user=None,
        )
    world.records["restricted-medication-flags"] = flags


def api_create(resource: str, status: Any) -> Any:
    def run(client: Any, world: Any, key: str) -> Any:
        subject = world.journey_subjects[key]
        response = client.post(
            f"/api/{resource}/", {"subject": str(subject.pk), **BODIES[resource]}, format="json"
        )
        answer = status(response)
        if answer.code == "400":  # a subject the user does not see cannot even be named
            assert "subject" in response.json()["errors"], response.json()
            answer.code = "hidden"
        return answer

    return run
