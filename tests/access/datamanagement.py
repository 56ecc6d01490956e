"""Data management's resources in the access matrix (issue 22): the records of THE WORLD they act
on and how each action is performed. The rows are in tests/access/matrix.py, in the issue 22 block.

Conventions added here: a query raised on each world subject (marker: its text); write actions on
a subject (lock, SDV, signature, audit-trail export) act on the world's "subjects" records, so the
matrix's hidden-subject checks (nothing written, no marker shown) apply to them too.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django.utils import timezone

from edc.core.services import record_bulk_create
from edc.datamanagement.models import Query


def add_records(world: Any) -> None:
    now = timezone.now()
    world.records["queries"] = {
        key: record_bulk_create(
            [
                Query(
                    study=subject.study,
                    site=subject.site,
                    subject=subject,
                    record_type="subjects.subject",
                    record_id=subject.pk,
                    field="sex",
                    text=f"SECRET-Q-{key}",
                    raised_at=now,
                    opened_at=now,
                )
            ],
            user=None,
        )[0]
        for key, subject in world.records["subjects"].items()
    }


def _actor_username(client: Any) -> str:
    user = getattr(client.handler, "_force_user", None)
    return user.get_username() if user is not None else ""


def api_raise(status: Callable[[Any], Any]) -> Callable[..., Any]:
    def run(client: Any, world: Any, key: str) -> Any:
        subject = world.records["subjects"][key]
        body = {
            "record_type": "subjects.subject",
            "record_id": str(subject.pk),
            "field": "sex",
            "text": "matrix",
        }
        response = client.post("/api/queries/", body, format="json")
        answer = status(response)
        if answer.code == "400":  # a record the user does not see cannot even be named
            assert "record_id" in response.json()["errors"], response.json()
            answer.code = "hidden"
        return answer

    return run


def api_query_step(step: str, body: dict[str, Any], status: Callable[[Any], Any]) -> Callable[..., Any]:
    def run(client: Any, world: Any, pk: Any) -> Any:
        return status(client.post(f"/api/queries/{pk}/{step}/", body, format="json"))

    return run


def admin_query_step(action: str, status: Callable[[Any], Any]) -> Callable[..., Any]:
    """The admin's query page: answer or close (saved: the query's status changed)."""

    def run(client: Any, world: Any, pk: Any) -> Any:
        before = Query.objects.filter(pk=pk).first()
        data = {"action": action, "text": "matrix", "base_version": before.version if before else 1}
        response = client.post(f"/admin/datamanagement/query/{pk}/respond/", data)
        after = Query.objects.filter(pk=pk).first()
        if before is not None and after is not None and after.status != before.status:
            return type(status(response))("saved")
        return status(response)

    return run


def admin_raise(status: Callable[[Any], Any]) -> Callable[..., Any]:
    """The admin's raise page for a subject (saved: the query exists)."""

    def run(client: Any, world: Any, pk: Any) -> Any:
        response = client.post(
            f"/admin/datamanagement/query/raise/subjects.subject/{pk}/",
            {"field": "sex", "text": "MATRIX-RAISE"},
        )
        if Query.objects.filter(record_id=pk, text="MATRIX-RAISE").exists():
            return type(status(response))("saved")
        return status(response)

    return run


def no_raised_query(record: Any) -> bool:
    return not Query.objects.filter(record_id=record.pk, text="MATRIX-RAISE").exists()


def api_subject_post(
    path: str, body: Callable[[Any, Any], dict[str, Any]], status: Callable[[Any], Any]
) -> Callable[..., Any]:
    """A POST naming the subject `pk` in its body; a hidden subject answers like a missing one."""

    def run(client: Any, world: Any, pk: Any) -> Any:
        return status(client.post(path, body(client, pk), format="json"))

    return run


def lock_body(client: Any, pk: Any) -> dict[str, Any]:
    return {"action": "lock", "record_type": "subjects.subject", "record_id": str(pk), "reason": "matrix"}


def sdv_body(client: Any, pk: Any) -> dict[str, Any]:
    return {"record_type": "subjects.subject", "record_id": str(pk)}


def sign_body(client: Any, pk: Any) -> dict[str, Any]:
    return {
        "kind": "casebook",
        "record_id": str(pk),
        "password": "pw-for-tests",
        "username": _actor_username(client),
    }


def query_unchanged(record: Query) -> bool:
    stored = Query.objects.get(pk=record.pk)
    return (stored.version, stored.status) == (record.version, record.status)


def resources(resource_class: Any, helpers: dict[str, Any]) -> dict[tuple[str, str], Any]:
    status, api_list, api_get, admin_list = (
        helpers["status"],
        helpers["api_list"],
        helpers["api_get"],
        helpers["admin_list"],
    )
    query_marker = lambda query: query.text  # noqa: E731
    subject_marker = lambda subject: subject.screening_number  # noqa: E731
    return {
        ("api", "queries"): resource_class(
            "queries",
            missing=uuid.uuid4,
            marker=query_marker,
            actions={
                "list": api_list("queries", "/api/queries/", site_filter="site"),
                "retrieve": api_get("/api/queries/{pk}/"),
                "history": api_get("/api/queries/{pk}/history/"),
                "create": api_raise(status),
                "answer": api_query_step("answer", {"answer": "matrix"}, status),
                "close": api_query_step("close", {"text": "matrix"}, status),
            },
            unchanged=query_unchanged,
        ),
        ("api", "data-locks"): resource_class(
            "subjects",
            missing=uuid.uuid4,
            marker=subject_marker,
            actions={"lock": api_subject_post("/api/data-locks/", lock_body, status)},
        ),
        ("api", "sdv"): resource_class(
            "subjects",
            missing=uuid.uuid4,
            marker=subject_marker,
            actions={"mark": api_subject_post("/api/sdv/", sdv_body, status)},
        ),
        ("api", "signatures"): resource_class(
            "subjects",
            missing=uuid.uuid4,
            marker=subject_marker,
            actions={"sign": api_subject_post("/api/signatures/", sign_body, status)},
        ),
        ("api", "audit-trail"): resource_class(
            "subjects",
            missing=uuid.uuid4,
            marker=subject_marker,
            actions={
                "subject": api_get("/api/audit-trail/?subject={pk}"),
            },
        ),
        ("api", "audit-trail-study"): resource_class(
            "studies",
            missing=lambda: 10**9,
            marker=lambda study: study.protocol_id,
            actions={"study": api_get("/api/audit-trail/?study={pk}")},
        ),
        ("admin", "queries"): resource_class(
            "queries",
            missing=uuid.uuid4,
            marker=query_marker,
            actions={
                "list": admin_list("queries", "/admin/datamanagement/query/", site_filter="site__id__exact"),
                "view": api_get("/admin/datamanagement/query/{pk}/change/"),
                "history": api_get("/admin/datamanagement/query/{pk}/history/"),
                "page": api_get("/admin/datamanagement/query/{pk}/respond/"),
                "answer": admin_query_step("answer", status),
                "close": admin_query_step("close", status),
            },
            unchanged=query_unchanged,
        ),
        ("admin", "query-raise"): resource_class(
            "subjects",
            missing=uuid.uuid4,
            marker=subject_marker,
            actions={
                "page": api_get("/admin/datamanagement/query/raise/subjects.subject/{pk}/"),
                "post": admin_raise(status),
            },
            unchanged=no_raised_query,
        ),
    }
