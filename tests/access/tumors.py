"""The tumour resources in the access matrix (issue 21): the records of THE WORLD and how each action
is performed. The rows are in tests/access/matrix.py, in the block `# --- issue 21 ---`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from edc.core.services import record_save
from edc.tumors import services
from edc.tumors.models import Lesion, LesionMeasurement, TumorAssessment
from edc.visits.models import Visit

BASELINE_DAY = dt.date(2025, 3, 1)
SCAN_DAY = dt.date(2025, 4, 20)
LESION_BODY = {
    "category": "NONTARGET",
    "location": "left lung",
    "organ": "lung",
    "nodal": "N",
    "method": "CT",
    "nature": "pleural_effusion",
    "date": "2025-03-01",
}


def add_records(world: Any) -> None:
    """At A, B and Z (the journey's subjects): a target, an imaging visit with its assessment and the
    target's measurement."""
    lesions, assessments, measurements = {}, {}, {}
    for key, subject in world.journey_subjects.items():
        lesion = services.lesion_create(
            user=None,
            subject=subject,
            code="T1",
            category="TARGET",
            location=f"SECRET-LIVER-{key}",
            organ="liver",
            nodal="N",
            method="CT",
            slice_thickness_mm=Decimal(5),
            diameter_mm=Decimal(30),
            date=BASELINE_DAY,
        )
        visit = record_save(
            Visit(
                study=subject.study,
                site=subject.site,
                subject=subject,
                code="IMG1",
                name="Imaging",
                kind="imaging",
                target_date=SCAN_DAY,
                window_start=SCAN_DAY,
                window_end=SCAN_DAY,
            ),
            user=None,
        )
        assessment = services.assessment_create(
            user=None,
            subject=subject,
            visit=visit,
            date=SCAN_DAY,
            investigator_overall="SD",
            investigator_new_lesions="N",
            measurements=[{"lesion": "T1", "target_state": "MEASURED", "diameter_mm": Decimal(28)}],
        )
        lesions[key] = Lesion.objects.get(pk=lesion.pk)
        assessments[key] = assessment
        measurements[key] = LesionMeasurement.objects.get(assessment=assessment)
    world.records["tumor-lesions"] = lesions
    world.records["tumor-assessments"] = assessments
    world.records["lesion-measurements"] = measurements


def api_create_lesion(status: Callable[[Any], Any]) -> Callable[..., Any]:
    def run(client: Any, world: Any, key: str) -> Any:
        subject = world.journey_subjects[key]
        code = f"NT{Lesion.objects.filter(subject=subject).count() + 1}"
        response = client.post(
            "/api/tumor-lesions/", {"subject": str(subject.pk), "code": code, **LESION_BODY}, format="json"
        )
        answer = status(response)
        if answer.code == "400":  # a subject the user does not see cannot even be named
            assert "subject" in response.json()["errors"], response.json()
            answer.code = "hidden"
        return answer

    return run


def api_change(
    resource: str, model: type[Any], body: dict[str, Any], status: Callable[[Any], Any]
) -> Callable[..., Any]:
    def run(client: Any, world: Any, pk: Any) -> Any:
        record = model.objects.filter(pk=pk).first()
        headers = {"HTTP_IF_MATCH": f'"{record.version if record else 1}"'}
        return status(
            client.patch(
                f"/api/{resource}/{pk}/", {**body, "change_reason": "matrix"}, format="json", **headers
            )
        )

    return run


CHANGES = {
    "tumor-lesions": (Lesion, {"location": "right liver lobe"}),
    "tumor-assessments": (TumorAssessment, {"investigator_overall": "PR"}),
    "lesion-measurements": (LesionMeasurement, {"diameter_mm": "27"}),
}
