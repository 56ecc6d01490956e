"""Runs every cell of the access matrix (tests/access/matrix.py): one test per resource, action and actor.

The world is built once (TestCase.setUpTestData); each test runs in its own savepoint, so a write
one test makes is gone for the next.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from django.conf import settings
from django.test import Client, TestCase
from django.utils import timezone
from rest_framework.test import APIClient

from edc.accounts.models import AccountEvent, AccountEventKind, Door
from edc.accounts.services import account_event_record
from edc.core.models import Membership, Role
from edc.safety.models import CtcaeTerm
from edc.subjects.models import Subject
from edc.tumors.models import Lesion, TumorAssessment
from studies.models import Arm, FormDefinition
from tests.access import after_treatment, datamanagement, journey, treatment, tumors, visits
from tests.access import safety as safety_access
from tests.access.matrix import ACTORS, rows
from tests.factories import MembershipFactory, SiteFactory, StudyFactory, SubjectFactory, UserFactory

MEMBERSHIPS = {
    "study_admin": (Role.ADMIN, "S", None),
    "data_manager": (Role.DATA_MANAGER, "S", None),
    "monitor": (Role.MONITOR, "S", None),
    "sponsor": (Role.SPONSOR_VIEWER, "S", None),
    "coordinator_a": (Role.SITE_COORDINATOR, "S", "A"),
    "investigator_a": (Role.INVESTIGATOR, "S", "A"),
    "outsider": (Role.SITE_COORDINATOR, "O", "Z"),
}


class World:
    """Study S (sites A, B), study O (site Z), actors with their memberships, records at A, B, Z."""

    def __init__(self) -> None:
        self.studies = {"S": StudyFactory(protocol_id="MATRIX-S"), "O": StudyFactory(protocol_id="MATRIX-O")}
        self.sites = {
            "A": SiteFactory(study=self.studies["S"], code="A"),
            "B": SiteFactory(study=self.studies["S"], code="B"),
            "Z": SiteFactory(study=self.studies["O"], code="Z"),
        }
        self.users: dict[str, Any] = {"superuser": UserFactory(username="m_superuser", is_superuser=True)}
        for actor, (role, study, site) in MEMBERSHIPS.items():
            self.users[actor] = UserFactory(username=f"m_{actor}")
            MembershipFactory(
                user=self.users[actor], study=self.studies[study], site=self.sites.get(site), role=role
            )
        self.users["nobody"] = UserFactory(username="m_nobody")
        self.users["anonymous"] = None
        self.records: dict[str, dict[str, Any]] = {
            "subjects": {
                key: SubjectFactory(site=site, screening_number=f"SECRET-{key}")
                for key, site in self.sites.items()
            },
            "memberships": {
                key: MembershipFactory(
                    user=UserFactory(username=f"member_{key}"), study=site.study, site=site, role=Role.MONITOR
                )
                for key, site in self.sites.items()
            },
            "studies": dict(self.studies),
            # A trial definition of each study (an arm stands for every definition model's admin).
            "definitions": {
                key: Arm.objects.create(study=study, code=f"ARM-{key}", name=f"SECRET-ARM-{key}")
                for key, study in self.studies.items()
            },
            "ctcae_terms": {
                "T": CtcaeTerm.objects.create(
                    meddra_code="10000000", soc="Matrix disorders", term="Matrix term"
                )
            },
            "account_events": {
                "E": account_event_record(
                    kind=AccountEventKind.LOGIN_FAILED, door=Door.ADMIN, username="matrix", now=timezone.now()
                )
            },
        }
        FormDefinition.objects.create(code="VS", name="Vital signs")
        journey.add_records(self)  # the subject journey's records (tests/access/journey.py)
        after_treatment.add_records(self)  # issue 19's forms (tests/access/after_treatment.py)
        tumors.add_records(self)  # issue 21's lesions and assessments (tests/access/tumors.py)
        datamanagement.add_records(self)  # issue 22's records (tests/access/datamanagement.py)
        treatment.add_records(self)  # issue 18's treatment records (tests/access/treatment.py)
        safety_access.add_records(self)  # issue 20's records (tests/access/safety.py)
        visits.add_records(self)  # issue 18's visits and deviations (tests/access/visits.py)
        journey.sign_eligibility(self)  # last: every record above is data the outcome is signed on


# --- how each action is performed ------------------------------------------------------------------


@dataclass
class Answer:
    """What a request answered, reduced to what a cell states."""

    code: str  # "200", "404", "saved", "login", ...
    body: bytes = b""
    listed: set[str] | None = None  # for list actions: the targets shown


def _status(response: Any) -> Answer:
    if response.status_code == 302 and "/login/" in response.get("Location", ""):
        return Answer("login", response.content)
    return Answer(str(response.status_code), getattr(response, "content", b""))


@dataclass
class Resource:
    """One resource of one door: its targets and, per action, how to perform it on a target (or None)."""

    name: str
    missing: Callable[[], Any]  # the pk of a record that does not exist
    marker: Callable[[Any], str]  # text that would reveal the record (must not appear when hidden)
    actions: dict[str, Callable[..., Answer]] = field(default_factory=dict)
    unchanged: Callable[[Any], bool] | None = None  # a hidden record after the action: nothing written


def _targets_listed(ids: set[str], world: World, resource: str) -> set[str]:
    return {key for key, record in world.records[resource].items() if str(record.pk) in ids}


# API ----------------------------------------------------------------------------------------------


def api_list(resource: str, path: str, site_filter: str | None = None) -> Callable[..., Answer]:
    def run(client: Any, world: World, target: Any) -> Answer:
        response = client.get(path, {"include_voided": "1"})
        if response.status_code != 200:
            return _status(response)
        body = response.json()
        ids = {str(row["id"]) for row in body["results"]}
        listed = _targets_listed(ids, world, resource)
        # Cursor pages state no total that could count hidden rows; the world fits in one page.
        assert set(body) == {"next", "previous", "results"}, "the page says more than its rows"
        assert body["next"] is None
        # A sync client's filter finds nothing more (voided and hidden rows alike).
        synced = client.get(path, {"updated_since": "2000-01-01T00:00:00Z"}).json()
        assert {str(row["id"]) for row in synced["results"]} == ids, "updated_since leaks"
        if site_filter:  # a filter naming another site's id finds nothing of it
            for key, record in world.records[resource].items():
                found = client.get(path, {site_filter: record.site_id, "include_voided": "1"}).json()
                assert (str(record.pk) in {str(r["id"]) for r in found["results"]}) == (key in listed)
        return Answer("200", response.content, listed)

    return run


def api_get(path: str) -> Callable[..., Answer]:
    def run(client: Any, world: World, pk: Any) -> Answer:
        return _status(client.get(path.format(pk=pk)))

    return run


def _if_match(world: World, resource: str, pk: Any) -> dict[str, str]:
    record = Subject.objects.filter(pk=pk).first()
    return {"HTTP_IF_MATCH": f'"{record.version if record else 1}"'}


def api_subject_change(client: Any, world: World, pk: Any) -> Answer:
    headers = _if_match(world, "subjects", pk)
    body = {"initials": "MX", "change_reason": "matrix"}
    return _status(client.patch(f"/api/subjects/{pk}/", body, format="json", **headers))


def api_subject_void(client: Any, world: World, pk: Any) -> Answer:
    headers = _if_match(world, "subjects", pk)
    return _status(
        client.post(f"/api/subjects/{pk}/void/", {"change_reason": "matrix"}, format="json", **headers)
    )


def api_subject_create(client: Any, world: World, key: str) -> Answer:
    site = world.sites[key]
    body = {"study": site.study_id, "site": site.pk, "sex": "M", "birth_date": "1970"}
    response = client.post("/api/subjects/", body, format="json")
    answer = _status(response)
    if answer.code == "400":  # a site or study the user does not see cannot even be named
        assert set(response.json()["errors"]) & {"study", "site"}, response.json()
        answer.code = "hidden"
    return answer


# admin --------------------------------------------------------------------------------------------


def admin_list(
    resource: str, path: str, site_filter: str | None = None, owner: str = "site_id"
) -> Callable[..., Answer]:
    """The changelist; `site_filter` names its filter on the owner (`owner`: the record's site or study)."""

    def run(client: Any, world: World, target: Any) -> Answer:
        params = {"voided": "all"} if resource == "subjects" else {}
        response = client.get(path, params)
        if response.status_code != 200:
            return _status(response)
        changelist = response.context["cl"]
        ids = {str(obj.pk) for obj in changelist.result_list}
        listed = _targets_listed(ids, world, resource)
        assert changelist.result_count == len(ids), "the count leaks"
        if resource == "subjects":  # the world holds no other subjects: the total counts only these
            assert changelist.full_result_count == len(ids), "the total count leaks"
        if site_filter:  # a filter naming another site's id finds nothing of it
            for key, record in world.records[resource].items():
                found = client.get(path, {**params, site_filter: getattr(record, owner)})
                shown = (
                    {str(obj.pk) for obj in found.context["cl"].result_list}
                    if found.status_code == 200
                    else set()
                )
                assert (str(record.pk) in shown) == (key in listed), (key, found.status_code)
        return Answer("200", response.content, listed)

    return run


def admin_page(path: str, model: Any = None) -> Callable[..., Answer]:
    def run(client: Any, world: World, pk: Any) -> Answer:
        history_of = model or (Subject if "/subjects/" in path else Membership)
        history = (
            history_of.history.filter(id=pk).first() if pk is not None and "{history_id}" in path else None
        )
        url = path.format(pk=pk, history_id=history.history_id if history else 999999)
        return _status(client.get(url))

    return run


def admin_subject_change(client: Any, world: World, pk: Any) -> Answer:
    subject = Subject.objects.filter(pk=pk).first()
    data = {"initials": "MX", "sex": "F", "birth_date": "1961-05", "change_reason": "matrix"}
    if subject is not None:
        data.update(site=subject.site_id, base_version=subject.version)
    response = client.post(f"/admin/subjects/subject/{pk}/change/", data)
    if subject is not None and Subject.objects.get(pk=pk).initials == "MX":
        return Answer("saved")
    return _status(response)


def admin_membership_change(client: Any, world: World, pk: Any) -> Answer:
    membership = Membership.objects.filter(pk=pk).first()
    data = {"role": Role.INVESTIGATOR, "is_active": "on", "site": membership.site_id if membership else ""}
    response = client.post(f"/admin/core/membership/{pk}/change/", data)
    if membership is not None and Membership.objects.get(pk=pk).role == Role.INVESTIGATOR:
        return Answer("saved")
    return _status(response)


def admin_definition_change(client: Any, world: World, pk: Any) -> Answer:
    arm = Arm.objects.filter(pk=pk).first()
    data = {"code": arm.code if arm else "X", "name": "MATRIX-RENAMED", "kind": "experimental", "order": 0}
    data.update(study=arm.study_id if arm else "", assumption="", assumptions="{}", change_reason="matrix")
    response = client.post(f"/admin/studies/arm/{pk}/change/", data)
    if arm is not None and Arm.objects.get(pk=pk).name == "MATRIX-RENAMED":
        return Answer("saved")
    return _status(response)


def admin_delete(path: str, model: Any) -> Callable[..., Answer]:
    """The admin's delete confirmation, confirmed: whatever it answers, the record must still be there."""

    def run(client: Any, world: World, pk: Any) -> Answer:
        existed = model.objects.filter(pk=pk).exists()
        response = client.post(path.format(pk=pk), {"post": "yes"})
        if existed and not model.objects.filter(pk=pk).exists():
            return Answer("deleted")
        return _status(response)

    return run


def admin_post(path: str) -> Callable[..., Answer]:
    """A change of a read-only admin page (the dictionary, the account events): refused before any form."""

    def run(client: Any, world: World, pk: Any) -> Answer:
        return _status(client.post(path.format(pk=pk), {"term": "changed", "username": "changed"}))

    return run


def once(path: str, api: bool = False) -> Callable[..., Answer]:
    def run(client: Any, world: World, target: Any) -> Answer:
        return _status(client.get(path))

    return run


RESOURCES: dict[tuple[str, str], Resource] = {
    ("api", "subjects"): Resource(
        "subjects",
        missing=uuid.uuid4,
        marker=lambda subject: subject.screening_number,
        actions={
            "list": api_list("subjects", "/api/subjects/", site_filter="site"),
            "retrieve": api_get("/api/subjects/{pk}/"),
            "history": api_get("/api/subjects/{pk}/history/"),
            "create": api_subject_create,
            "change": api_subject_change,
            "void": api_subject_void,
        },
    ),
    ("api", "studies"): Resource(
        "studies",
        missing=lambda: 10**9,
        marker=lambda study: study.protocol_id,
        actions={"list": api_list("studies", "/api/studies/"), "retrieve": api_get("/api/studies/{pk}/")},
    ),
    ("api", "forms"): Resource(
        "forms",
        missing=lambda: None,
        marker=lambda form: "",
        actions={"list": once("/api/forms/"), "retrieve": once("/api/forms/VS/")},
    ),
    ("admin", "subjects"): Resource(
        "subjects",
        missing=uuid.uuid4,
        marker=lambda subject: subject.screening_number,
        actions={
            "list": admin_list("subjects", "/admin/subjects/subject/", site_filter="site__id__exact"),
            "add": once("/admin/subjects/subject/add/"),
            "view": admin_page("/admin/subjects/subject/{pk}/change/"),
            "change": admin_subject_change,
            "history": admin_page("/admin/subjects/subject/{pk}/history/"),
            "version": admin_page("/admin/subjects/subject/{pk}/history/{history_id}/"),
        },
    ),
    ("admin", "memberships"): Resource(
        "memberships",
        missing=lambda: 10**9,
        marker=lambda membership: membership.user.username,
        actions={
            "list": admin_list("memberships", "/admin/core/membership/", site_filter="site__id__exact"),
            "add": once("/admin/core/membership/add/"),
            "view": admin_page("/admin/core/membership/{pk}/change/"),
            "change": admin_membership_change,
            "history": admin_page("/admin/core/membership/{pk}/history/"),
            "version": admin_page("/admin/core/membership/{pk}/history/{history_id}/"),
            "delete": admin_delete("/admin/core/membership/{pk}/delete/", Membership),
        },
    ),
    ("admin", "definitions"): Resource(
        "definitions",
        missing=lambda: 10**9,
        marker=lambda arm: arm.name,
        actions={
            "list": admin_list(
                "definitions", "/admin/studies/arm/", site_filter="study__id__exact", owner="study_id"
            ),
            "add": once("/admin/studies/arm/add/"),
            "view": admin_page("/admin/studies/arm/{pk}/change/"),
            "change": admin_definition_change,
            "history": admin_page("/admin/studies/arm/{pk}/history/"),
            "version": admin_page("/admin/studies/arm/{pk}/history/{history_id}/", Arm),
            "delete": admin_delete("/admin/studies/arm/{pk}/delete/", Arm),
        },
    ),
    ("admin", "ctcae_terms"): Resource(
        "ctcae_terms",
        missing=lambda: 10**9,
        marker=lambda term: "",
        actions={
            "list": once("/admin/safety/ctcaeterm/"),
            "add": once("/admin/safety/ctcaeterm/add/"),
            "view": admin_page("/admin/safety/ctcaeterm/{pk}/change/"),
            "change": admin_post("/admin/safety/ctcaeterm/{pk}/change/"),
            "delete": admin_delete("/admin/safety/ctcaeterm/{pk}/delete/", CtcaeTerm),
        },
    ),
    ("admin", "account_events"): Resource(
        "account_events",
        missing=lambda: 10**9,
        marker=lambda event: "",
        actions={
            "list": once("/admin/accounts/accountevent/"),
            "add": once("/admin/accounts/accountevent/add/"),
            "view": admin_page("/admin/accounts/accountevent/{pk}/change/"),
            "change": admin_post("/admin/accounts/accountevent/{pk}/change/"),
            "delete": admin_delete("/admin/accounts/accountevent/{pk}/delete/", AccountEvent),
        },
    ),
    ("admin", "users"): Resource(
        "users", missing=lambda: None, marker=lambda user: "", actions={"list": once("/admin/auth/user/")}
    ),
}

# --- The engines as API tools and the CTCAE dictionary: no study data, so every signed-in user ----------

_TOOL_BODIES: dict[str, Any] = {
    "recist": {"measurability_cases": [{"id": "M1", "lesion": {"kind": "nodal", "short_axis_mm": 16}}]},
    "irecist": {
        "cases": [
            {
                "id": "I1",
                "protocol": {"reference_date": "2024-01-01", "min_sd_duration_days": 42},
                "baseline": {
                    "date": "2023-12-20",
                    "target_lesions": [{"id": "T1", "organ": "lung", "nodal": False, "diameter_mm": 20}],
                },
                "follow_ups": [
                    {
                        "date": "2024-02-20",
                        "target_measurements_mm": {"T1": 10},
                        "non_target_status": {},
                        "new_lesions": [],
                    }
                ],
            }
        ]
    },
    "endpoints": {
        "cases": [
            {
                "id": "E1",
                "subjects": [
                    {
                        "id": "S1",
                        "in_analysis_set": True,
                        "anchor_date": "2024-01-01",
                        "best_response": "SD",
                        "last_known_alive_date": "2024-06-01",
                    }
                ],
            }
        ]
    },
}


def api_tool(tool: str) -> Callable[..., Answer]:
    def run(client: Any, world: World, target: Any) -> Answer:
        body = _TOOL_BODIES[tool]
        return _status(client.post(f"/api/tools/{tool}/evaluate/", body, format="json"))

    return run


def api_ctcae_grade(client: Any, world: World, target: Any) -> Answer:
    from edc.safety.models import CtcaeTerm

    CtcaeTerm.objects.get_or_create(
        version="5.0",
        meddra_code="10028813",
        defaults={"soc": "Gastrointestinal disorders", "term": "Nausea"},
    )
    return _status(client.post("/api/ctcae/grade/", [{"id": "A", "term": "Nausea"}], format="json"))


RESOURCES.update(
    {
        ("api", f"tools_{tool}"): Resource(
            f"tools_{tool}", missing=lambda: None, marker=lambda r: "", actions={"evaluate": api_tool(tool)}
        )
        for tool in _TOOL_BODIES
    }
)
RESOURCES[("api", "ctcae_grade")] = Resource(
    "ctcae_grade", missing=lambda: None, marker=lambda r: "", actions={"grade": api_ctcae_grade}
)
RESOURCES[("api", "ctcae_terms")] = Resource(
    "ctcae_terms", missing=lambda: None, marker=lambda r: "", actions={"list": once("/api/ctcae/terms/")}
)


# --- the subject journey (issue 17): actions in tests/access/journey.py ----------------------------


def _journey_resources() -> dict[tuple[str, str], Resource]:
    subjects = "journey-subjects"
    marker = lambda record: str(record.pk)  # noqa: E731
    found: dict[tuple[str, str], Resource] = {
        ("api", "consents"): Resource(
            "consents",
            missing=uuid.uuid4,
            marker=lambda consent: consent.obtained_by,
            actions={
                "list": api_list("consents", "/api/consents/", site_filter="site"),
                "retrieve": api_get("/api/consents/{pk}/"),
                "create": journey.api_create_consent(_status),
                "void": journey.api_void("consents", journey.SignedConsent, _status),
            },
            unchanged=journey._unchanged(journey.SignedConsent),
        ),
        ("api", "consent-versions"): Resource(
            "consent-versions",
            missing=lambda: 10**9,
            marker=lambda version: "",
            actions={"list": api_list("consent-versions", "/api/consent-versions/")},
        ),
        ("api", "reconsent-due"): Resource(
            "studies",
            missing=lambda: 10**9,
            marker=lambda study: study.protocol_id,
            actions={"retrieve": api_get("/api/studies/{pk}/reconsent-due/")},
        ),
        ("api", "visits"): Resource(
            "visits",
            missing=uuid.uuid4,
            marker=marker,
            actions={
                "list": api_list("visits", "/api/visits/", site_filter="site"),
                "retrieve": api_get("/api/visits/{pk}/"),
            },
        ),
        ("api", "eligibility"): Resource(
            subjects,
            missing=uuid.uuid4,
            marker=lambda subject: subject.screening_number,
            actions={
                "retrieve": api_get("/api/subjects/{pk}/eligibility/?as_of=2025-03-15"),
                "sign": journey.api_subject_action("eligibility", {"as_of": "2025-03-15"}, _status),
            },
            unchanged=journey.subject_unchanged,
        ),
        ("api", "enroll"): Resource(
            subjects,
            missing=uuid.uuid4,
            marker=lambda subject: subject.screening_number,
            actions={
                "post": journey.api_subject_action(
                    "enroll", {"enrollment_date": "2025-03-10", "planned_first_dose": "2025-03-15"}, _status
                )
            },
            unchanged=journey.subject_unchanged,
        ),
        ("api", "screen-fail"): Resource(
            subjects,
            missing=uuid.uuid4,
            marker=lambda subject: subject.screening_number,
            actions={"post": journey.api_subject_action("screen-fail", {"reason": "matrix"}, _status)},
            unchanged=journey.subject_unchanged,
        ),
        ("api", "withdraw"): Resource(
            subjects,
            missing=uuid.uuid4,
            marker=lambda subject: subject.screening_number,
            actions={
                "post": journey.api_subject_action(
                    "withdraw", {"date": "2025-03-20", "scope": "follow_up"}, _status
                )
            },
            unchanged=journey.subject_unchanged,
        ),
        ("admin", "visits"): Resource(
            "visits",
            missing=uuid.uuid4,
            marker=lambda visit: visit.subject.screening_number,
            actions={
                "list": admin_list("visits", "/admin/visits/visit/", site_filter="site__id__exact"),
                "view": api_get("/admin/visits/visit/{pk}/change/"),
            },
        ),
        ("admin", "screening-log"): Resource(
            subjects,
            missing=uuid.uuid4,
            marker=lambda subject: subject.screening_number,
            actions={
                "list": admin_list(
                    subjects, "/admin/subjects/subject/screening-log/", site_filter="site__id__exact"
                )
            },
        ),
        ("admin", "eligibility"): Resource(
            subjects,
            missing=uuid.uuid4,
            marker=lambda subject: subject.screening_number,
            actions={"view": api_get("/admin/subjects/subject/{pk}/eligibility/?as_of=2025-03-15")},
        ),
        ("admin", "enroll"): Resource(
            subjects,
            missing=uuid.uuid4,
            marker=lambda subject: subject.screening_number,
            actions={"view": api_get("/admin/subjects/subject/{pk}/enroll/")},
        ),
    }
    for resource, model in journey.MODELS.items():
        actions = {
            "list": api_list(resource, f"/api/{resource}/", site_filter="site"),
            "retrieve": api_get(f"/api/{resource}/{{pk}}/"),
            "create": journey.api_create_form(resource, _status),
            "void": journey.api_void(resource, model, _status),
        }
        if resource == "ecog":
            actions["change"] = journey.api_change_ecog(_status)
        found[("api", resource)] = Resource(
            resource, missing=uuid.uuid4, marker=marker, actions=actions, unchanged=journey._unchanged(model)
        )
    return found


RESOURCES.update(_journey_resources())
# --- issue 22: data management (tests/access/datamanagement.py) ---
RESOURCES.update(
    datamanagement.resources(
        Resource, {"status": _status, "api_list": api_list, "api_get": api_get, "admin_list": admin_list}
    )
)


# --- issue 19: the after-treatment, radiotherapy and biomarker forms (tests/access/after_treatment.py)


def _issue19_resources() -> dict[tuple[str, str], Resource]:
    def marker(record: Any) -> str:
        return str(record.pk)

    found: dict[tuple[str, str], Resource] = {}
    for resource, model in after_treatment.MODELS.items():
        found[("api", resource)] = Resource(
            resource,
            missing=uuid.uuid4,
            marker=marker,
            actions={
                "list": api_list(resource, f"/api/{resource}/", site_filter="site"),
                "retrieve": api_get(f"/api/{resource}/{{pk}}/"),
                "create": after_treatment.api_create(resource, _status),
                "void": journey.api_void(resource, model, _status),
            },
            unchanged=journey._unchanged(model),
        )
    flags = "restricted-medication-flags"
    found[("api", flags)] = Resource(
        flags,
        missing=uuid.uuid4,
        marker=marker,
        actions={
            "list": api_list(flags, f"/api/{flags}/", site_filter="site"),
            "retrieve": api_get(f"/api/{flags}/{{pk}}/"),
        },
    )
    return found


RESOURCES.update(_issue19_resources())
# --- issue 21: tumour lesions, assessments, measurements (tests/access/tumors.py) -----------------


def _tumor_resources() -> dict[tuple[str, str], Resource]:
    found: dict[tuple[str, str], Resource] = {}
    for resource, (model, body) in tumors.CHANGES.items():
        actions = {
            "list": api_list(resource, f"/api/{resource}/", site_filter="site"),
            "retrieve": api_get(f"/api/{resource}/{{pk}}/"),
            "history": api_get(f"/api/{resource}/{{pk}}/history/"),
            "change": tumors.api_change(resource, model, body, _status),
            "void": journey.api_void(resource, model, _status),
        }
        if resource == "tumor-lesions":
            actions["create"] = tumors.api_create_lesion(_status)
        found[("api", resource)] = Resource(
            resource,
            missing=uuid.uuid4,
            marker=lambda record: str(record.pk),
            actions=actions,
            unchanged=journey._unchanged(model),
        )
    for resource, path, model in (
        ("tumor-lesions", "/admin/tumors/lesion/", Lesion),
        ("tumor-assessments", "/admin/tumors/tumorassessment/", TumorAssessment),
    ):
        found[("admin", resource)] = Resource(
            resource,
            missing=uuid.uuid4,
            marker=lambda record: str(record.pk),
            actions={
                "list": admin_list(resource, path, site_filter="site__id__exact"),
                "view": admin_page(path + "{pk}/change/", model),
            },
        )
    return found


RESOURCES.update(_tumor_resources())


# --- issue 18 (treatment): actions in tests/access/treatment.py ------------------------------------


def _treatment_resources() -> dict[tuple[str, str], Resource]:
    from edc.visits.exposures import EndOfTreatment, Exposure

    marker = lambda record: str(record.pk)  # noqa: E731
    return {
        ("api", "exposures"): Resource(
            "exposures",
            missing=uuid.uuid4,
            marker=marker,
            actions={
                "list": api_list("exposures", "/api/exposures/", site_filter="site"),
                "retrieve": api_get("/api/exposures/{pk}/"),
                "history": api_get("/api/exposures/{pk}/history/"),
                "create": treatment.api_create_exposure(_status),
                "change": treatment.api_change("exposures", Exposure, {"infusion_minutes": 90}, _status),
                "void": journey.api_void("exposures", Exposure, _status),
            },
            unchanged=treatment.unchanged(Exposure),
        ),
        ("api", "end-of-treatment"): Resource(
            "end-of-treatment",
            missing=uuid.uuid4,
            marker=marker,
            actions={
                "list": api_list("end-of-treatment", "/api/end-of-treatment/", site_filter="site"),
                "retrieve": api_get("/api/end-of-treatment/{pk}/"),
                "change": treatment.api_change(
                    "end-of-treatment", EndOfTreatment, {"reason_detail": "matrix"}, _status
                ),
            },
            unchanged=treatment.unchanged(EndOfTreatment),
        ),
        ("api", "subject-end-of-treatment"): Resource(
            "treatment-subjects",
            missing=uuid.uuid4,
            marker=lambda subject: subject.subject_identifier,
            actions={"post": treatment.api_end_treatment(_status)},
            unchanged=treatment.subject_unchanged,
        ),
        ("admin", "exposures"): Resource(
            "exposures",
            missing=uuid.uuid4,
            marker=marker,
            actions={
                "list": admin_list("exposures", "/admin/visits/exposure/", site_filter="site__id__exact"),
                "view": api_get("/admin/visits/exposure/{pk}/change/"),
            },
        ),
        ("admin", "end-of-treatment"): Resource(
            "end-of-treatment",
            missing=uuid.uuid4,
            marker=marker,
            actions={
                "list": admin_list(
                    "end-of-treatment", "/admin/visits/endoftreatment/", site_filter="site__id__exact"
                ),
                "view": api_get("/admin/visits/endoftreatment/{pk}/change/"),
            },
        ),
    }


RESOURCES.update(_treatment_resources())


# --- safety (issue 20): actions in tests/access/safety.py --------------------------------------------


def _safety_resources() -> dict[tuple[str, str], Resource]:
    def ae_marker(ae: Any) -> str:
        return ae.verbatim

    def proposal_marker(proposal: Any) -> str:
        return proposal.reason

    return {
        ("api", "adverse-events"): Resource(
            "adverse-events",
            missing=uuid.uuid4,
            marker=ae_marker,
            actions={
                "list": api_list("adverse-events", "/api/adverse-events/", site_filter="site"),
                "retrieve": api_get("/api/adverse-events/{pk}/"),
                "create": safety_access.api_create_ae(_status),
                "void": journey.api_void("adverse-events", safety_access.AdverseEvent, _status),
            },
            unchanged=safety_access.ae_unchanged,
        ),
        ("api", "ae-proposals"): Resource(
            "ae-proposals",
            missing=uuid.uuid4,
            marker=proposal_marker,
            actions={
                "list": api_list("ae-proposals", "/api/ae-proposals/", site_filter="site"),
                "retrieve": api_get("/api/ae-proposals/{pk}/"),
                "dismiss": safety_access.api_dismiss(_status),
            },
            unchanged=safety_access.proposal_unchanged,
        ),
        ("api", "sae-report"): Resource(
            "sae-report", missing=uuid.uuid4, marker=lambda r: "", actions={"list": once("/api/reports/sae/")}
        ),
        ("api", "safety-summary"): Resource(
            "studies",
            missing=lambda: 10**9,
            marker=lambda study: "",
            actions={"retrieve": api_get("/api/studies/{pk}/safety-summary/")},
        ),
        ("admin", "adverse-events"): Resource(
            "adverse-events",
            missing=uuid.uuid4,
            marker=ae_marker,
            actions={
                "list": admin_list(
                    "adverse-events", "/admin/safety/adverseevent/", site_filter="site__id__exact"
                ),
                "view": api_get("/admin/safety/adverseevent/{pk}/change/"),
            },
        ),
        ("admin", "ae-proposals"): Resource(
            "ae-proposals",
            missing=uuid.uuid4,
            marker=proposal_marker,
            actions={
                "list": admin_list(
                    "ae-proposals", "/admin/safety/labaeproposal/", site_filter="site__id__exact"
                ),
                "view": api_get("/admin/safety/labaeproposal/{pk}/change/"),
            },
        ),
        ("admin", "sae-due"): Resource(
            "sae-due",
            missing=uuid.uuid4,
            marker=lambda r: "",
            actions={"list": once("/admin/safety/adverseevent/sae-due/")},
        ),
        ("admin", "safety-summary"): Resource(
            "safety-summary",
            missing=uuid.uuid4,
            marker=lambda r: "",
            actions={"list": once("/admin/safety/adverseevent/safety-summary/")},
        ),
    }


# --- issue 18 (visits): actions in tests/access/visits.py ------------------------------------------


def _visits_resources() -> dict[tuple[str, str], Resource]:
    marker = lambda record: str(record.pk)  # noqa: E731
    record_body = {"visit_date": "2025-03-16"}
    return {
        ("api", "visit-record"): Resource(
            "planned-visits",
            missing=uuid.uuid4,
            marker=marker,
            actions={"post": visits.api_post("/api/visits/{pk}/record/", record_body, _status)},
            unchanged=visits.visit_unchanged,
        ),
        ("api", "visit-miss"): Resource(
            "planned-visits",
            missing=uuid.uuid4,
            marker=marker,
            actions={"post": visits.api_post("/api/visits/{pk}/miss/", {"reason": "matrix"}, _status)},
            unchanged=visits.visit_unchanged,
        ),
        ("api", "subject-visits"): Resource(
            "visit-subjects",
            missing=uuid.uuid4,
            marker=lambda subject: subject.subject_identifier,
            actions={"schedule": api_get("/api/subjects/{pk}/visits/")},
        ),
        ("api", "deviations"): Resource(
            "deviations",
            missing=uuid.uuid4,
            marker=marker,
            actions={
                "list": api_list("deviations", "/api/deviations/", site_filter="site"),
                "retrieve": api_get("/api/deviations/{pk}/"),
                "create": visits.api_create_deviation(_status),
                "review": visits.api_post(
                    "/api/deviations/{pk}/review/", {"decision": "dismiss", "note": "matrix"}, _status
                ),
                "change": visits.api_deviation_change(_status),
                "void": visits.api_deviation_void(_status),
            },
            unchanged=visits.deviation_unchanged,
        ),
        ("api", "unscheduled-visits"): Resource(
            "visit-subjects",
            missing=uuid.uuid4,
            marker=lambda subject: subject.subject_identifier,
            actions={"post": visits.api_unscheduled(_status)},
            unchanged=visits.no_unscheduled_visit,
        ),
        ("admin", "visit-record"): Resource(
            "planned-visits",
            missing=uuid.uuid4,
            marker=marker,
            actions={
                "page": api_get("/admin/visits/visit/{pk}/record/"),
                "post": visits.admin_visit_step("record", _status),
            },
            unchanged=visits.visit_unchanged,
        ),
        ("admin", "visit-miss"): Resource(
            "planned-visits",
            missing=uuid.uuid4,
            marker=marker,
            actions={"post": visits.admin_visit_step("miss", _status)},
            unchanged=visits.visit_unchanged,
        ),
        ("api", "overdue-visits"): Resource(
            "planned-visits",
            missing=uuid.uuid4,
            marker=marker,
            actions={"list": visits.api_overdue_report(_status)},
        ),
        ("admin", "overdue-visits"): Resource(
            "planned-visits",
            missing=uuid.uuid4,
            marker=marker,
            actions={"list": visits.admin_overdue_page(_status)},
        ),
    }


RESOURCES.update(_safety_resources())
RESOURCES.update(_visits_resources())

_RECORD_CELL = re.compile(r"^([a-z0-9]+:[A-Z]+)(,[a-z0-9]+:[A-Z]+)*$")
_LIST_CELL = re.compile(r"^([A-Z]+|-)$")


class AccessMatrix(TestCase):
    """Generated below: test_<door>_<resource>_<action>_as_<actor>."""

    # The world is kept in a holder that exists before setUpTestData: TestCase deep-copies every
    # attribute setUpTestData *adds* for each test, and copying the whole world (hundreds of model
    # instances with their related objects) cost more than the request each test makes. The tests
    # never change these objects (their writes go through the doors, and each is rolled back).
    _shared: ClassVar[dict[str, Any]] = {}

    @property
    def world(self) -> World:
        return self._shared["world"]

    @property
    def sessions(self) -> dict[str, str]:
        return self._shared["sessions"]

    @classmethod
    def setUpTestData(cls) -> None:
        world = cls._shared["world"] = World()
        # One admin session per actor for the whole class (signing in per request is most of the cost).
        sessions: dict[str, str] = {}
        for actor, user in world.users.items():
            if user is not None:
                client = Client()
                client.force_login(user)
                sessions[actor] = client.cookies[settings.SESSION_COOKIE_NAME].value
        cls._shared["sessions"] = sessions

    def client_of(self, door: str, actor: str) -> Any:
        user = self.world.users[actor]
        if door == "api":
            client = APIClient()
            if user is not None:
                client.force_authenticate(user)
            return client
        client = Client()
        if user is not None:
            client.cookies[settings.SESSION_COOKIE_NAME] = self.sessions[actor]
        return client

    def check(self, door: str, resource_name: str, action: str, actor: str, cell: str) -> None:
        resource = RESOURCES[(door, resource_name)]
        run = resource.actions[action]
        client = self.client_of(door, actor)
        records = self.world.records.get(resource.name, {})
        if action == "list" and _LIST_CELL.match(cell):
            answer = run(client, self.world, None)
            expected = set() if cell == "-" else set(cell)
            self.assertEqual(answer.code, "200")
            self.assertEqual(
                answer.listed, expected, f"{actor} lists {answer.listed}, the matrix says {expected}"
            )
            return
        if not _RECORD_CELL.match(cell) and cell != "-":  # one answer whatever the target
            targets = [key if action == "create" else r.pk for key, r in records.items()] or [None]
            for target in targets:
                self.assertEqual(run(client, self.world, target).code, cell, target)
            return
        expected = {}
        for part in cell.split(",") if cell != "-" else []:
            code, targets = part.split(":")
            expected.update(dict.fromkeys(targets, code))
        nonexistent = None
        for key, record in records.items():
            target = key if action == "create" else record.pk
            answer = run(client, self.world, target)
            if key in expected:
                self.assertEqual(answer.code, expected[key], f"{actor} {action} {key}")
                continue
            # Hidden: exactly the answer for a record that does not exist, and nothing of it shown.
            if nonexistent is None and action != "create":
                nonexistent = run(client, self.world, resource.missing()).code
            want = "hidden" if action == "create" else nonexistent
            self.assertEqual(
                answer.code, want, f"{actor} {action} {key} (hidden) answers like a missing record"
            )
            marker = resource.marker(record)
            if marker:
                self.assertNotIn(marker.encode(), answer.body, f"{actor} {action} {key} leaks the record")
            if resource.name == "subjects":
                stored = Subject.objects.get(pk=record.pk)
                self.assertEqual((stored.version, stored.initials), (1, ""), f"{actor} {action} {key} wrote")
            if resource.name == "definitions":
                self.assertEqual(
                    Arm.objects.get(pk=record.pk).name, record.name, f"{actor} {action} {key} wrote"
                )
            if resource.unchanged is not None and action != "create":
                self.assertTrue(resource.unchanged(record), f"{actor} {action} {key} wrote")


def _make(door: str, resource: str, action: str, actor: str, cell: str) -> Callable[[AccessMatrix], None]:
    def test(self: AccessMatrix) -> None:
        self.check(door, resource, action, actor, cell)

    test.__doc__ = f"{door} {resource} {action} as {actor}: {cell}"
    return test


for _door, _resource, _action, _cells in rows():
    for _actor in ACTORS:
        setattr(
            AccessMatrix,
            f"test_{_door}_{_resource}_{_action}_as_{_actor}",
            _make(_door, _resource, _action, _actor, _cells[_actor]),
        )


# --- issue 21: study endpoints and plots (h21b) -----------------------------------------------------
_STUDY_MARKER = lambda study: study.protocol_id  # noqa: E731
RESOURCES.update(
    {
        ("api", "study-endpoints"): Resource(
            "studies",
            missing=lambda: 10**9,
            marker=_STUDY_MARKER,
            actions={"retrieve": api_get("/api/studies/{pk}/endpoints/")},
        ),
        ("api", "study-plot-png"): Resource(
            "studies",
            missing=lambda: 10**9,
            marker=_STUDY_MARKER,
            actions={"retrieve": api_get("/api/studies/{pk}/plots/waterfall.png")},
        ),
        ("api", "study-plot-svg"): Resource(
            "studies",
            missing=lambda: 10**9,
            marker=_STUDY_MARKER,
            actions={"retrieve": api_get("/api/studies/{pk}/plots/km-os.svg")},
        ),
        ("admin", "study-endpoints"): Resource(
            "studies",
            missing=lambda: 10**9,
            marker=_STUDY_MARKER,
            actions={"view": api_get("/admin/outcomes/studyendpoints/{pk}/change/")},
        ),
        ("admin", "study-plot"): Resource(
            "studies",
            missing=lambda: 10**9,
            marker=_STUDY_MARKER,
            actions={"view": api_get("/admin/outcomes/studyendpoints/{pk}/plots/swimmer.png")},
        ),
    }
)


# --- issue 19 (h19b): form status and the registry's form door -------------------------------------


def _door_create(client: Any, world: World, key: str) -> Answer:
    from studies.models import FormItem

    form = FormDefinition.objects.get(code="VS", is_current=True)
    FormItem.objects.get_or_create(
        form=form, code="VSDATE", defaults={"label": "Date", "data_type": "date", "required": True}
    )
    FormItem.objects.get_or_create(
        form=form, code="WEIGHT", defaults={"label": "Weight", "data_type": "decimal"}
    )
    visit = world.records["visits"][key]
    body = {"items": {"VSDATE": "2025-03-05", "WEIGHT": 70}}
    answer = _status(client.post(f"/api/visits/{visit.pk}/forms/VS/", body, format="json"))
    if answer.code == "404":  # a visit the user does not see
        answer.code = "hidden"
    return answer


RESOURCES.update(
    {
        ("api", "visit-forms"): Resource(
            "visits",
            missing=uuid.uuid4,
            marker=lambda v: str(v.pk),
            actions={"retrieve": api_get("/api/visits/{pk}/forms/")},
        ),
        ("api", "subject-forms"): Resource(
            "journey-subjects",
            missing=uuid.uuid4,
            marker=lambda s: str(s.pk),
            actions={"retrieve": api_get("/api/subjects/{pk}/forms/")},
        ),
        ("api", "form-door"): Resource(
            "visits",
            missing=uuid.uuid4,
            marker=lambda v: str(v.pk),
            actions={"retrieve": api_get("/api/visits/{pk}/forms/VS/"), "create": _door_create},
        ),
        ("api", "missing-forms"): Resource(
            "studies",
            missing=lambda: 10**9,
            marker=lambda study: study.protocol_id,
            actions={"retrieve": api_get("/api/studies/{pk}/missing-forms/")},
        ),
    }
)
