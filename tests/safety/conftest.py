"""Seed 000 (camrelizumab + bevacizumab + capecitabine) and seed 002 / 004 loaded from the study files,
a site with an investigator and a coordinator, and subjects treated from FIRST_DOSE: the AE tests'
world. Subjects are put on treatment through the core write path (enrollment is the journey's, tested
there); the planned first dose is the first dose safety reads until exposure is recorded."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command

from edc.core.models import ReasonCode, Role
from edc.core.services import ChangeReason, record_update
from edc.forms.services import lab_result_create
from edc.safety.models import CtcaeTerm
from edc.safety.services import AttributionIn
from studies.models import Study
from tests.factories import MembershipFactory, UserFactory, screen_subject

FIXTURES = Path(settings.BASE_DIR) / "fixtures"
CONSENTED_AT = dt.datetime(2025, 3, 1, 1, 0, tzinfo=dt.UTC)
FIRST_DOSE = dt.date(2025, 3, 15)
SEEDS = {
    "000": "000_cam_bev_cap_hnscc.yaml",
    "001": "001_cado_ldrt_hnscc.yaml",
    "002": "002_cet_dalp_hnscc.yaml",
    "004": "004_cam_crt_hnscc.yaml",
}


def load_seed(code: str) -> Study:
    call_command(
        "load_studies",
        str(FIXTURES / "forms.yaml"),
        str(FIXTURES / "studies" / SEEDS[code]),
        stdout=StringIO(),
    )
    return Study.objects.get(seed__startswith=f"fixtures/records/{code}")


@dataclass
class SafetyWorld:
    study: Any
    site: Any
    investigator: Any
    coordinator: Any
    monitor: Any

    def subject(self, *, first_dose: dt.date | None = FIRST_DOSE, **values: Any) -> Any:
        """A consented subject on treatment from ``first_dose`` (None: still screening)."""
        subject = screen_subject(self.site, consented_at=CONSENTED_AT, **values)
        if first_dose is not None:
            record_update(
                subject,
                user=None,
                changes={
                    "status": "on_treatment",
                    "enrollment_date": first_dose - dt.timedelta(days=3),
                    "planned_first_dose": first_dose,
                    "arm": self.study.arms.first(),
                },
                reason=ChangeReason(ReasonCode.OTHER, "test: on treatment"),
            )
        return subject

    def lab(self, subject: Any, day: dt.date, test: str, value: Any, unit: str, **values: Any) -> Any:
        return lab_result_create(
            user=self.coordinator, subject=subject, date=day, test=test, value=value, unit=unit, **values
        )


def world_for(study: Study) -> SafetyWorld:
    site = study.sites.first()
    investigator = UserFactory(username=f"inv_{study.pk}")
    coordinator = UserFactory(username=f"coord_{study.pk}")
    monitor = UserFactory(username=f"mon_{study.pk}")
    MembershipFactory(user=investigator, study=study, site=site, role=Role.INVESTIGATOR)
    MembershipFactory(user=coordinator, study=study, site=site, role=Role.SITE_COORDINATOR)
    MembershipFactory(user=monitor, study=study, site=None, role=Role.MONITOR)
    return SafetyWorld(study, site, investigator, coordinator, monitor)


@pytest.fixture
def seed000(ctcae_terms) -> SafetyWorld:
    return world_for(load_seed("000"))


@pytest.fixture
def seed004(ctcae_terms) -> SafetyWorld:
    return world_for(load_seed("004"))


@pytest.fixture
def seed002(ctcae_terms) -> SafetyWorld:
    return world_for(load_seed("002"))


def term(name: str) -> CtcaeTerm:
    return CtcaeTerm.objects.get(version="5.0", term=name)


SEED000_AGENTS = ("bevacizumab", "camrelizumab", "capecitabine")


def unrelated(*agents: str) -> list[AttributionIn]:
    return [AttributionIn(agent, "UNRELATED", "NONE") for agent in agents]
