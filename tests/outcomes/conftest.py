"""A study with endpoints like seed 003's (ORR confirmed, PFS and OS from registration with 2-year
landmarks, ORR by PD-L1) at two sites, enrolled subjects, and their facts.

`facts` stands in the tumor, survival and biomarker readers with plain frozen dataclasses of the
contracts' shapes (edc/tumors/selectors.py ResponseFacts, edc/forms/selectors.py SurvivalFacts), so the
assembly is tested on exactly the values given; tests/outcomes/test_stored_data.py runs the real
readers on stored records.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest

from edc.core.models import Role
from edc.outcomes import selectors
from edc.subjects.models import SubjectStatus
from studies.models import Endpoint
from tests.factories import MembershipFactory, SiteFactory, StudyFactory, SubjectFactory, UserFactory

D = dt.date


@dataclass(frozen=True)
class Timepoint:
    date: dt.date
    sum_mm: Decimal | None
    pct_change_from_baseline: Decimal | None
    overall_response: str


@dataclass(frozen=True)
class Response:
    best_response: str
    best_response_unconfirmed: str = ""
    first_response_date: dt.date | None = None
    progression_date: dt.date | None = None
    last_adequate_assessment_date: dt.date | None = None
    baseline_sum_mm: Decimal | None = Decimal(100)
    best_pct_change: Decimal | None = None
    timepoints: tuple[Timepoint, ...] = ()
    confirmation_required: bool = True


@dataclass(frozen=True)
class Survival:
    death_date: dt.date | None = None
    new_anticancer_therapy_date: dt.date | None = None
    last_known_alive_date: dt.date | None = None
    imputed: tuple[str, ...] = ()


def endpoint(study: Any, code: str, measure: str, **values: Any) -> Endpoint:
    order = Endpoint.objects.filter(study=study).count() + 1  # as the loader numbers them
    return Endpoint.objects.create(
        study=study, code=code, name=code, measure=measure, population="all_enrolled", order=order, **values
    )


@dataclass
class Trial:
    study: Any
    site_a: Any
    site_b: Any
    subjects: dict[str, Any] = field(default_factory=dict)
    users: dict[str, Any] = field(default_factory=dict)
    other: Any = None


def enroll(site: Any, identifier: str, day: dt.date, first_dose: dt.date | None = None) -> Any:
    return SubjectFactory(
        site=site,
        screening_number=f"SCR-{identifier}",
        subject_identifier=identifier,
        status=SubjectStatus.ON_TREATMENT,
        enrollment_date=day,
        planned_first_dose=first_dose or day + dt.timedelta(days=3),
    )


def timepoints(anchor: dt.date, *points: tuple[int, float | None, str]) -> tuple[Timepoint, ...]:
    return tuple(
        Timepoint(
            anchor + dt.timedelta(days=day),
            None,
            None if pct is None else Decimal(str(pct)),
            response,
        )
        for day, pct, response in points
    )


@pytest.fixture
def trial(db) -> Trial:
    study = StudyFactory(protocol_id="END-003", confirmation_required=True)
    site_a = SiteFactory(study=study, code="A")
    site_b = SiteFactory(study=study, code="B")
    endpoint(study, "ORR", "orr", kind="primary")
    endpoint(study, "DCR", "dcr")
    endpoint(study, "DOR", "dor")
    endpoint(study, "PFS_RATE", "pfs", anchor="registration", landmark_days=[730])
    endpoint(study, "OS_RATE", "os", anchor="registration", landmark_days=[730])
    endpoint(study, "PDL1", "orr", subgroup="PDL1")
    endpoint(study, "AE", "")  # not an efficacy figure: not computed
    t = Trial(study, site_a, site_b)
    start = D(2025, 1, 6)
    t.subjects = {
        "A-001": enroll(site_a, "A-001", start),
        "A-002": enroll(site_a, "A-002", start + dt.timedelta(days=10)),
        "A-003": enroll(site_a, "A-003", start + dt.timedelta(days=20)),
        "B-001": enroll(site_b, "B-001", start + dt.timedelta(days=5)),
        "B-002": enroll(site_b, "B-002", start + dt.timedelta(days=15)),
    }
    # Not enrolled: never counted.
    SubjectFactory(site=site_a, screening_number="SCR-SCREENING")
    SubjectFactory(site=site_b, screening_number="SCR-FAILED", status=SubjectStatus.SCREEN_FAILED)
    t.users = {
        "coordinator_a": UserFactory(username="end_coord_a"),
        "monitor": UserFactory(username="end_monitor"),
        "outsider": UserFactory(username="end_outsider"),
        "superuser": UserFactory(username="end_root", is_superuser=True),
    }
    MembershipFactory(user=t.users["coordinator_a"], study=study, site=site_a, role=Role.SITE_COORDINATOR)
    MembershipFactory(user=t.users["monitor"], study=study, site=None, role=Role.MONITOR)
    t.other = StudyFactory(protocol_id="END-OTHER")
    other_site = SiteFactory(study=t.other, code="Z")
    MembershipFactory(user=t.users["outsider"], study=t.other, site=other_site, role=Role.SITE_COORDINATOR)
    return t


def default_facts(t: Trial) -> tuple[dict[str, Response], dict[str, Survival], dict[str, str]]:
    """Per subject identifier: a confirmed PR, a CR later progressing, SD with a new therapy, PD and
    death, and one without any assessment (NE)."""
    s = t.subjects
    a1, a2, a3, b1, b2 = (s[k].enrollment_date for k in ("A-001", "A-002", "A-003", "B-001", "B-002"))
    responses = {
        "A-001": Response(
            "PR",
            "PR",
            first_response_date=a1 + dt.timedelta(days=42),
            last_adequate_assessment_date=a1 + dt.timedelta(days=252),
            best_pct_change=Decimal("-45.5"),
            timepoints=timepoints(a1, (42, -35, "PR"), (84, -45.5, "PR"), (252, -40, "PR")),
        ),
        "A-002": Response(
            "CR",
            "CR",
            first_response_date=a2 + dt.timedelta(days=84),
            progression_date=a2 + dt.timedelta(days=336),
            last_adequate_assessment_date=a2 + dt.timedelta(days=294),
            best_pct_change=Decimal("-100"),
            timepoints=timepoints(a2, (42, -60, "PR"), (84, -100, "CR"), (294, -100, "CR"), (336, -20, "PD")),
        ),
        # SD, a new therapy on day 130 after assessments on days 42, 84 and 126, then one on day 168.
        "A-003": Response(
            "SD",
            "PR",  # an unconfirmed PR at day 84
            last_adequate_assessment_date=a3 + dt.timedelta(days=168),
            best_pct_change=Decimal("-31"),
            timepoints=timepoints(a3, (42, -10, "SD"), (84, -31, "PR"), (126, -20, "SD"), (168, 5, "SD")),
        ),
        "B-001": Response(
            "PD",
            "PD",
            progression_date=b1 + dt.timedelta(days=42),
            last_adequate_assessment_date=b1 + dt.timedelta(days=42),
            best_pct_change=Decimal("35"),
            timepoints=timepoints(b1, (42, 35, "PD")),
        ),
        # B-002: no assessment at all (NE).
    }
    survival = {
        "A-001": Survival(last_known_alive_date=a1 + dt.timedelta(days=400)),
        "A-002": Survival(last_known_alive_date=a2 + dt.timedelta(days=420)),
        "A-003": Survival(
            new_anticancer_therapy_date=a3 + dt.timedelta(days=130),
            last_known_alive_date=a3 + dt.timedelta(days=300),
            imputed=("new_anticancer_therapy_date",),
        ),
        "B-001": Survival(death_date=b1 + dt.timedelta(days=90)),
        "B-002": Survival(last_known_alive_date=b2 + dt.timedelta(days=30)),
    }
    pdl1 = {"A-001": "positive", "A-002": "negative", "A-003": "positive", "B-001": "negative"}
    return responses, survival, pdl1


@pytest.fixture
def facts(trial, monkeypatch):
    """Stand in the three readers; returns the dicts (keyed by subject identifier) a test may change."""
    responses, survival, pdl1 = default_facts(trial)
    by_pk = {subject.pk: key for key, subject in trial.subjects.items()}

    def keyed(source: dict[str, Any]):
        return lambda ids: {pk: source[by_pk[pk]] for pk in ids if by_pk.get(pk) in source}

    monkeypatch.setattr(selectors, "_response_facts", keyed(responses))
    monkeypatch.setattr(selectors, "_survival_facts", keyed(survival))
    monkeypatch.setitem(selectors.SUBGROUP_SOURCES, "PDL1", keyed(pdl1))
    return responses, survival, pdl1
