"""Seed 000 end to end: "After reaching CR, patients entered the maintenance treatment period". A
subject on camrelizumab + bevacizumab + capecitabine whose measurements, entered through the API,
derive a complete response enters the maintenance phase through the visits service: the switch is
stored with its trigger and history, the cycles go on, and from the switch only camrelizumab
maintenance is given."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from edc.core.models import Role
from edc.visits.exposures import PhaseSwitch
from edc.visits.models import Visit
from edc.visits.treatment import exposure_record
from tests.factories import MembershipFactory, UserFactory
from tests.tumors.conftest import imaging_visits
from tests.tumors.test_api import LESION
from tests.visits.treatment_support import SEED_000, enrolled, intervention, visit

pytestmark = pytest.mark.django_db

DOSED = dt.date(2025, 3, 18)


def give(subject, code, day, visit_code, given="200"):
    return exposure_record(
        user=None,
        subject=subject,
        visit=visit(subject, visit_code),
        intervention=intervention(SEED_000, code),
        start_date=day,
        dose_given=Decimal(given),
        route="IV",
    )


@pytest.fixture
def treated(studies):
    """A seed 000 subject dosed at cycle 1, with one baseline target, and an API client of its site."""
    subject = enrolled(SEED_000)
    give(subject, "CAM", DOSED, "CYCLE1")
    user = UserFactory(username="maint_coordinator")
    MembershipFactory(user=user, study=subject.study, site=subject.site, role=Role.SITE_COORDINATOR)
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(user)
    posted = client.post("/api/tumor-lesions/", {"subject": str(subject.pk), **LESION}, format="json")
    assert posted.status_code == 201, posted.json()
    subject.refresh_from_db()
    return client, subject


def scan(client, subject, scan_visit, state, mm=None, overall="CR"):
    measurement = {"lesion": "T1", "target_state": state}
    if mm is not None:
        measurement["diameter_mm"] = str(mm)
    response = client.post(
        "/api/tumor-assessments/",
        {
            "subject": str(subject.pk),
            "visit": str(scan_visit.pk),
            "date": scan_visit.target_date.isoformat(),
            "investigator_overall": overall,
            "investigator_new_lesions": "N",
            "measurements": [measurement],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    return response.json()


def test_a_derived_complete_response_enters_maintenance_and_only_its_agent_is_given_after(treated):
    client, subject = treated
    first, second = imaging_visits(subject)[:2]
    partial = scan(client, subject, first, "MEASURED", mm=20, overall="PR")
    assert partial["overall_response"] == "PR"
    assert not PhaseSwitch.objects.filter(subject=subject).exists()  # a partial response switches nothing

    complete = scan(client, subject, second, "DISAPPEARED")
    assert complete["overall_response"] == "CR"
    switch = PhaseSwitch.objects.get(subject=subject)
    assert (switch.phase.code, switch.date) == ("MAINT", second.target_date)
    assert "complete response" in switch.trigger and second.target_date.isoformat() in switch.trigger
    assert switch.history.count() == 1
    # Maintenance keeps the 3-weekly cycles (the fixture's CAM_MAINT): the re-plan the switch runs
    # leaves the cycles after it planned.
    assert Visit.objects.active().filter(subject=subject, kind="treatment", status="planned").exists()

    after = second.target_date + dt.timedelta(days=1)
    later_cycle = (
        Visit.objects.active()
        .filter(subject=subject, kind="treatment", target_date__gt=after)
        .order_by("target_date")
        .first()
    )
    assert later_cycle is not None
    with pytest.raises(ValidationError) as refused:
        give(subject, "BEV", later_cycle.target_date, later_cycle.code, given="525")
    assert "phase" in str(refused.value.message_dict["intervention"]).lower()
    maint = give(subject, "CAM_MAINT", later_cycle.target_date, later_cycle.code)
    assert (maint.phase.code, maint.planned_dose) == ("MAINT", Decimal("200.00"))


def test_a_later_complete_response_does_not_switch_again(treated):
    client, subject = treated
    first, second, third = imaging_visits(subject)[:3]
    scan(client, subject, first, "DISAPPEARED")
    scan(client, subject, second, "DISAPPEARED")
    scan(client, subject, third, "DISAPPEARED")
    assert list(PhaseSwitch.objects.filter(subject=subject).values_list("phase__code", "date")) == [
        ("MAINT", first.target_date)
    ]


def test_a_complete_response_of_a_subject_not_yet_dosed_switches_nothing(studies):
    subject = enrolled(SEED_000)
    user = UserFactory(username="maint_coordinator_2")
    MembershipFactory(user=user, study=subject.study, site=subject.site, role=Role.SITE_COORDINATOR)
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(user)
    assert (
        client.post("/api/tumor-lesions/", {"subject": str(subject.pk), **LESION}, format="json").status_code
        == 201
    )
    assert scan(client, subject, imaging_visits(subject)[0], "DISAPPEARED")["overall_response"] == "CR"
    assert not PhaseSwitch.objects.filter(subject=subject).exists()
