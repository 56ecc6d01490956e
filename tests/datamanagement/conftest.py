"""A study with sites A and B, the roles of issue 22, and a consented subject at each site."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pytest

from edc.core.models import Role
from edc.core.services import ChangeReason, record_save, record_update
from edc.visits.models import Visit, VisitStatus
from tests.factories import MembershipFactory, SiteFactory, StudyFactory, UserFactory, screen_subject

PASSWORD = "pw-for-tests"


@dataclass
class World:
    study: Any
    site_a: Any
    site_b: Any
    users: dict[str, Any] = field(default_factory=dict)
    subject_a: Any = None
    subject_b: Any = None


ROLES = {
    "coordinator": (Role.SITE_COORDINATOR, "A"),
    "investigator": (Role.INVESTIGATOR, "A"),
    "investigator_b": (Role.INVESTIGATOR, "B"),
    "monitor": (Role.MONITOR, None),
    "monitor_b": (Role.MONITOR, "B"),
    "data_manager": (Role.DATA_MANAGER, None),
    "sponsor": (Role.SPONSOR_VIEWER, None),
    "study_admin": (Role.ADMIN, None),
}


@pytest.fixture
def world(db) -> World:
    study = StudyFactory(protocol_id="DM-STUDY")
    site_a = SiteFactory(study=study, code="A")
    site_b = SiteFactory(study=study, code="B")
    w = World(study, site_a, site_b)
    for name, (role, site) in ROLES.items():
        user = UserFactory(username=f"dm_{name}", first_name=name.title(), last_name="Tester")
        MembershipFactory(user=user, study=study, site={"A": site_a, "B": site_b}.get(site or ""), role=role)
        w.users[name] = user
    w.users["superuser"] = UserFactory(username="dm_root", is_superuser=True)
    w.subject_a = screen_subject(site_a, screening_date=dt.date(2025, 3, 1))
    w.subject_b = screen_subject(site_b, screening_date=dt.date(2025, 3, 1))
    return w


def visit_done(
    subject: Any, *, code: str = "C1D1", day: dt.date, start: dt.date, end: dt.date, reason: str = ""
) -> Visit:
    """A treatment visit done on `day` with its window (the visits issue records them by its service)."""
    visit = Visit(
        study=subject.study,
        site=subject.site,
        subject=subject,
        code=code,
        name=code,
        kind="treatment",
        target_date=start + (end - start) / 2,
        window_start=start,
        window_end=end,
        status=VisitStatus.DONE,
        visit_date=day,
        out_of_window_reason=reason,
    )
    return record_save(visit, user=None)


def correct(record: Any, **changes: Any) -> Any:
    """A correction with its reason (the app's services call edit_checks_run_for after it)."""
    from edc.datamanagement.services import edit_checks_run_for

    fresh = type(record).objects.get(pk=record.pk)
    saved = record_update(
        fresh, user=None, changes=changes, reason=ChangeReason("transcription_error", "fixed")
    )
    edit_checks_run_for(saved)
    return saved
