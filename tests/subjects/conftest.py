"""A small trial for the journey's tests: one study, sites A and B, consent version 1.0, one arm."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from edc.core.models import Role
from edc.eligibility.services import eligibility_decide
from studies.models import Arm
from tests.factories import (
    ConsentVersionFactory,
    MembershipFactory,
    SiteFactory,
    StudyFactory,
    UserFactory,
    screen_subject,
)

FIRST_DOSE = dt.date(2025, 3, 15)
ENROLLED_ON = dt.date(2025, 3, 10)


@dataclass
class Trial:
    study: object
    site_a: object
    site_b: object
    version: object
    coordinator: object
    investigator: object
    monitor: object


@pytest.fixture
def trial(db) -> Trial:
    study = StudyFactory(protocol_id="JOURNEY")
    site_a = SiteFactory(study=study, code="01")
    site_b = SiteFactory(study=study, code="02")
    Arm.objects.create(study=study, code="A", name="Experimental")
    version = ConsentVersionFactory(study=study)
    coordinator, investigator, monitor = (
        UserFactory(username="j_coordinator"),
        UserFactory(username="j_investigator"),
        UserFactory(username="j_monitor"),
    )
    MembershipFactory(user=coordinator, study=study, site=site_a, role=Role.SITE_COORDINATOR)
    MembershipFactory(user=investigator, study=study, site=site_a, role=Role.INVESTIGATOR)
    MembershipFactory(user=monitor, study=study, site=None, role=Role.MONITOR)
    return Trial(study, site_a, site_b, version, coordinator, investigator, monitor)


def eligible_subject(site, *, user=None, as_of=FIRST_DOSE, **values):
    """Screened, consented, and signed eligible as of the planned first dose (the study has no criteria)."""
    subject = screen_subject(site, **values)
    eligibility_decide(user=user, subject=subject, as_of=as_of)
    return subject
