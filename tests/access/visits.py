"""Visits' resources in the access matrix (issue 18, items 1-2, 5-6): the records of THE WORLD they act
on (tests/access/test_matrix.py builds it and calls `add_records`) and how each action is performed.
The rows are in tests/access/matrix.py, in the block `# --- issue 18 (visits) ---`.

At each site A, B, Z: an enrolled subject (the `visit-subjects` targets: their schedule) with a
planned visit whose window closed in March 2025 (the `planned-visits` targets: recorded, missed and
listed by the overdue report) and a visit recorded late, whose candidate protocol deviation is the
`deviations` target (reviewed, listed, read)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from edc.consent.models import ConsentVersion
from edc.consent.services import consent_sign
from edc.core.services import ChangeReason, record_save, record_update
from edc.subjects.models import Subject
from edc.subjects.services import subject_screen
from edc.visits.models import Deviation, Visit
from edc.visits.services import visit_record

CONSENTED = dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC)
OPENS = dt.date(2025, 3, 15)
CLOSES = dt.date(2025, 3, 18)


def _visit(subject: Subject, code: str, target: dt.date) -> Visit:
    return record_save(
        Visit(
            study=subject.study,
            site=subject.site,
            subject=subject,
            code=code,
            name=f"Matrix visit {code}",
            kind="treatment",
            target_date=target,
            window_start=target,
            window_end=target + dt.timedelta(days=3),
        ),
        user=None,
    )


def _scheduled_subject(key: str, site: Any) -> tuple[Subject, Visit, Deviation]:
    version, _ = ConsentVersion.objects.get_or_create(
        study=site.study, version="1.0", language="zh", defaults={"effective_from": dt.date(2023, 1, 1)}
    )
    subject = subject_screen(
        user=None, study=site.study, site=site, sex="F", birth_date="1968", screening_date=CONSENTED.date()
    )
    consent_sign(user=None, subject=subject, version=version, signed_at=CONSENTED, obtained_by="VISITS")
    subject = record_update(
        subject,
        user=None,
        changes={"status": "enrolled", "subject_identifier": f"SCHEDULED-{key}", "enrollment_date": OPENS},
        reason=ChangeReason("other", "matrix: enrolled"),
    )
    # The world's studies define no visits: the visits are stored as the schedule would.
    planned = _visit(subject, "C1D1", OPENS)
    late = _visit(subject, "C2D1", dt.date(2025, 4, 5))
    late = visit_record(user=None, visit=late, visit_date=dt.date(2025, 4, 12), out_of_window_reason="matrix")
    deviation = Deviation.objects.get(visit=late)
    return subject, planned, deviation


def add_records(world: Any) -> None:
    subjects: dict[str, Subject] = {}
    planned: dict[str, Visit] = {}
    deviations: dict[str, Deviation] = {}
    for key, site in world.sites.items():
        subjects[key], planned[key], deviations[key] = _scheduled_subject(key, site)
    world.records["visit-subjects"] = subjects
    world.records["planned-visits"] = planned
    world.records["deviations"] = deviations


def visit_unchanged(record: Visit) -> bool:
    stored = Visit.objects.get(pk=record.pk)
    return (stored.version, stored.status, stored.visit_date) == (record.version, "planned", None)


def deviation_unchanged(record: Deviation) -> bool:
    stored = Deviation.objects.get(pk=record.pk)
    return (stored.version, stored.status) == (record.version, record.status)


def api_post(path: str, body: dict[str, Any], status: Callable[[Any], Any]) -> Callable[..., Any]:
    def run(client: Any, world: Any, pk: Any) -> Any:
        return status(client.post(path.format(pk=pk), body, format="json"))

    return run


def _if_match(model: Any, pk: Any) -> dict[str, str]:
    record = model.objects.filter(pk=pk).first()
    return {"HTTP_IF_MATCH": f'"{record.version if record else 1}"'}


def api_deviation_change(status: Callable[[Any], Any]) -> Callable[..., Any]:
    def run(client: Any, world: Any, pk: Any) -> Any:
        body = {"corrective_action": "matrix: retrained", "change_reason": "matrix"}
        return status(client.patch(f"/api/deviations/{pk}/", body, format="json", **_if_match(Deviation, pk)))

    return run


def api_deviation_void(status: Callable[[Any], Any]) -> Callable[..., Any]:
    def run(client: Any, world: Any, pk: Any) -> Any:
        body = {"change_reason": "matrix"}
        return status(
            client.post(f"/api/deviations/{pk}/void/", body, format="json", **_if_match(Deviation, pk))
        )

    return run


def api_unscheduled(status: Callable[[Any], Any]) -> Callable[..., Any]:
    def run(client: Any, world: Any, pk: Any) -> Any:
        body = {"visit_date": "2025-03-20", "reason": "matrix: unscheduled"}
        return status(client.post(f"/api/subjects/{pk}/visits/unscheduled/", body, format="json"))

    return run


def no_unscheduled_visit(record: Subject) -> bool:
    return not Visit.objects.filter(subject=record, kind="unscheduled").exists()


def admin_visit_step(step: str, status: Callable[[Any], Any]) -> Callable[..., Any]:
    """The admin's record / missed pages of a visit (saved: the visit's status changed)."""
    body = {"visit_date": "2025-03-16"} if step == "record" else {"reason": "matrix"}

    def run(client: Any, world: Any, pk: Any) -> Any:
        before = Visit.objects.filter(pk=pk).first()
        data = {**body, "base_version": before.version if before else 1}
        response = client.post(f"/admin/visits/visit/{pk}/{step}/", data)
        after = Visit.objects.filter(pk=pk).first()
        if before is not None and after is not None and after.status != before.status:
            return type(status(response))("saved")
        return status(response)

    return run


def api_create_deviation(status: Callable[[Any], Any]) -> Callable[..., Any]:
    def run(client: Any, world: Any, key: str) -> Any:
        body = {
            "site": world.sites[key].pk,
            "date": "2025-03-20",
            "category": "other",
            "severity": "minor",
            "description": "matrix: entered by hand",
        }
        response = client.post("/api/deviations/", body, format="json")
        answer = status(response)
        if answer.code == "400":  # a site the user does not see
            assert set(response.json()["errors"]) == {"site"}, response.json()
            answer.code = "hidden"
        return answer

    return run


def api_overdue_report(status: Callable[[Any], Any]) -> Callable[..., Any]:
    """The report lists exactly the overdue visits of the user's sites; naming a site the user does
    not see answers like a site that does not exist (404)."""

    def run(client: Any, world: Any, target: Any) -> Any:
        path = "/api/reports/overdue-visits/"
        response = client.get(path, {"limit": 1000})
        if response.status_code != 200:
            return status(response)
        body = response.json()
        assert body["next_offset"] is None
        ids = {str(row["visit_id"]) for row in body["results"]}
        records = world.records["planned-visits"]
        listed = {key for key, visit in records.items() if str(visit.pk) in ids}
        missing = client.get(path, {"site": 10_000_000}).status_code
        for key, visit in records.items():
            found = client.get(path, {"site": visit.site_id, "limit": 1000})
            if key in listed:
                assert str(visit.pk) in {str(r["visit_id"]) for r in found.json()["results"]}
            else:
                assert found.status_code == missing == 404, (key, found.status_code)
        answer = status(response)
        answer.listed = listed
        return answer

    return run


def admin_overdue_page(status: Callable[[Any], Any]) -> Callable[..., Any]:
    """The admin's overdue page lists exactly the overdue visits of the user's sites (each row links
    to its visit's page, which names the visit's id)."""

    def run(client: Any, world: Any, target: Any) -> Any:
        response = client.get("/admin/visits/visit/overdue/", {"due_days": "0"})
        answer = status(response)
        if response.status_code != 200:
            return answer
        text = response.content.decode()
        answer.listed = {key for key, v in world.records["planned-visits"].items() if str(v.pk) in text}
        return answer

    return run
