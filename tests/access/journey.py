"""The subject journey's resources in the access matrix (issue 17): how each action is performed,
and the records of THE WORLD they act on (tests/access/test_matrix.py builds it and calls
`add_records`). The rows are in tests/access/matrix.py, in the journey's block."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

from edc.consent.models import ConsentVersion, SignedConsent
from edc.consent.services import consent_sign
from edc.eligibility.services import eligibility_decide
from edc.forms import services as forms
from edc.forms.models import (
    ConcomitantMedication,
    DiseaseBaseline,
    EcogAssessment,
    HistoryAnswers,
    LabResult,
    MedicalHistory,
    PregnancyTest,
    PriorTherapy,
    VitalSigns,
)
from edc.subjects.models import Subject
from edc.subjects.services import subject_screen
from edc.visits.models import Visit

CONSENTED = dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC)
FORM_DAY = dt.date(2025, 3, 5)

# A valid body per form resource (the subject is added per target).
BODIES: dict[str, dict[str, Any]] = {
    "vital-signs": {"date": "2025-03-05", "weight_kg": 70},
    "ecog": {"date": "2025-03-05", "ecog": 1},
    "lab-results": {"date": "2025-03-05", "test": "HGB", "value": 120, "unit": "g/L"},
    "pregnancy-tests": {"date": "2025-03-05", "result": "negative", "specimen": "URINE"},
    "disease-baseline": {"primary_site": "LARYNX", "histology": "SCC"},
    "prior-therapies": {
        "agent": "cisplatin",
        "agent_class": "CHEMOTHERAPY",
        "start_date": "2024-02",
        "ongoing": False,
    },
    "medical-history": {"term": "Asthma", "category": "ASTHMA", "onset": "1990", "ongoing": False},
    "concomitant-medications": {"agent": "salbutamol", "category": "OTHER", "start": "1990", "ongoing": True},
    "history-answers": {"any_prior_therapy": True},
}
MODELS: dict[str, type[Any]] = {
    "vital-signs": VitalSigns,
    "ecog": EcogAssessment,
    "lab-results": LabResult,
    "pregnancy-tests": PregnancyTest,
    "disease-baseline": DiseaseBaseline,
    "prior-therapies": PriorTherapy,
    "medical-history": MedicalHistory,
    "concomitant-medications": ConcomitantMedication,
    "history-answers": HistoryAnswers,
}


def _form_row(resource: str, subject: Subject) -> Any:
    """One stored row of the form, for the subject (the world's record of that resource)."""
    stored = {
        "vital-signs": lambda: forms.vital_signs_create(
            user=None, subject=subject, date=FORM_DAY, weight_kg=70
        ),
        "ecog": lambda: forms.ecog_create(user=None, subject=subject, date=FORM_DAY, ecog=1),
        "lab-results": lambda: forms.lab_result_create(
            user=None, subject=subject, date=FORM_DAY, test="PLAT", value=200, unit="10^9/L"
        ),
        "pregnancy-tests": lambda: forms.pregnancy_test_create(
            user=None, subject=subject, date=FORM_DAY, result="negative", specimen="SERUM"
        ),
        "disease-baseline": lambda: forms.disease_baseline_create(
            user=None, subject=subject, primary_site="OROPHARYNX", histology="SCC"
        ),
        "prior-therapies": lambda: forms.prior_therapy_create(
            user=None,
            subject=subject,
            agent="pembrolizumab",
            agent_class="PD1",
            start_date="2023",
            ongoing=False,
        ),
        "medical-history": lambda: forms.medical_history_create(
            user=None, subject=subject, term="Diabetes", category="DIABETES", onset="2010", ongoing=True
        ),
        "concomitant-medications": lambda: forms.concomitant_medication_create(
            user=None, subject=subject, agent="metformin", category="OTHER", start="2010", ongoing=True
        ),
        "history-answers": lambda: forms.history_answers_create(
            user=None, subject=subject, any_condition=True
        ),
    }
    return stored[resource]()


def add_records(world: Any) -> None:
    """A consented subject at A, B and Z with a row of every screening form, its visit and consent."""
    subjects: dict[str, Subject] = {}
    for key, site in world.sites.items():
        version, _ = ConsentVersion.objects.get_or_create(
            study=site.study, version="1.0", language="zh", defaults={"effective_from": dt.date(2023, 1, 1)}
        )
        subject = subject_screen(
            user=None,
            study=site.study,
            site=site,
            sex="F",
            birth_date="1970",
            screening_date=CONSENTED.date(),
        )
        consent_sign(
            user=None, subject=subject, version=version, signed_at=CONSENTED, obtained_by=f"JOURNEY-{key}"
        )
        eligibility_decide(user=None, subject=subject, as_of=dt.date(2025, 3, 15))
        subjects[key] = subject
    world.journey_subjects = subjects
    world.records["journey-subjects"] = subjects
    world.records["consents"] = {key: SignedConsent.objects.get(subject=s) for key, s in subjects.items()}
    world.records["visits"] = {key: Visit.objects.get(subject=s) for key, s in subjects.items()}
    world.records["consent-versions"] = {
        key: ConsentVersion.objects.get(study=study) for key, study in world.studies.items()
    }
    for resource in BODIES:
        world.records[resource] = {key: _form_row(resource, s) for key, s in subjects.items()}


def sign_eligibility(world: Any) -> None:
    """Sign the screening outcome on the data as it finally stands (after every issue's records, the
    tumour baseline lesions included), so the enrollment cells test access, not a stale outcome."""
    for subject in world.journey_subjects.values():
        eligibility_decide(user=None, subject=subject, as_of=dt.date(2025, 3, 15))


def _unchanged(model: type[Any]) -> Callable[[Any], bool]:
    def check(record: Any) -> bool:
        stored = model.objects.get(pk=record.pk)
        return stored.version == record.version and stored.voided_at is None

    return check


def subject_unchanged(record: Subject) -> bool:
    stored = Subject.objects.get(pk=record.pk)
    return (stored.version, stored.status) == (record.version, record.status)


# --- the actions ----------------------------------------------------------------------------------


def api_create_form(resource: str, status: Callable[[Any], Any]) -> Callable[..., Any]:
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


def api_create_consent(status: Callable[[Any], Any]) -> Callable[..., Any]:
    def run(client: Any, world: Any, key: str) -> Any:
        # Screen a fresh subject there (no consent yet) as the operator; the actor signs its consent.
        site = world.sites[key]
        fresh = subject_screen(
            user=None,
            study=site.study,
            site=site,
            sex="M",
            birth_date="1960",
            screening_date=CONSENTED.date(),
        )
        body = {
            "subject": str(fresh.pk),
            "version": "1.0",
            "signed_at": "2025-03-01T09:00:00+08:00",
            "obtained_by": "Dr Matrix",
        }
        response = client.post("/api/consents/", body, format="json")
        answer = status(response)
        if answer.code == "400":
            assert "subject" in response.json()["errors"], response.json()
            answer.code = "hidden"
        return answer

    return run


def api_void(resource: str, model: type[Any], status: Callable[[Any], Any]) -> Callable[..., Any]:
    def run(client: Any, world: Any, pk: Any) -> Any:
        record = model.objects.filter(pk=pk).first()
        headers = {"HTTP_IF_MATCH": f'"{record.version if record else 1}"'}
        return status(
            client.post(f"/api/{resource}/{pk}/void/", {"change_reason": "matrix"}, format="json", **headers)
        )

    return run


def api_change_ecog(status: Callable[[Any], Any]) -> Callable[..., Any]:
    def run(client: Any, world: Any, pk: Any) -> Any:
        record = EcogAssessment.objects.filter(pk=pk).first()
        headers = {"HTTP_IF_MATCH": f'"{record.version if record else 1}"'}
        body = {"ecog": 2, "change_reason": "matrix"}
        return status(client.patch(f"/api/ecog/{pk}/", body, format="json", **headers))

    return run


def api_subject_action(suffix: str, body: dict[str, Any], status: Callable[[Any], Any]) -> Callable[..., Any]:
    def run(client: Any, world: Any, pk: Any) -> Any:
        return status(client.post(f"/api/subjects/{pk}/{suffix}/", body, format="json"))

    return run


def new_pk() -> Any:
    return uuid.uuid4()
