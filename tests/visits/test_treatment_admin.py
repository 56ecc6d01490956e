"""The admin of treatment: a dose added on the visit page goes through exposure_record (a refusal
shows on the page, nothing written), the end of treatment is added for a subject through its
service, monitors read only, and the changelists cost a fixed number of queries."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from edc.core.models import Role
from edc.visits.exposures import EndOfTreatment, Exposure
from edc.visits.treatment import exposure_record
from studies.models import Study
from tests.factories import MembershipFactory, UserFactory
from tests.visits.test_admin import _formset_prefix, _management, _visit_page, _visit_post
from tests.visits.treatment_support import (
    FIRST_DOSE,
    SEED_000,
    enrolled,
    intervention,
    studies,  # noqa: F401  (the module fixture)
    visit,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("studies")]


@pytest.fixture
def coordinator():
    study = Study.objects.get(protocol_id=SEED_000)
    user = UserFactory()
    MembershipFactory(
        user=user, study=study, site=study.sites.order_by("code").first(), role=Role.SITE_COORDINATOR
    )
    return user


@pytest.fixture
def monitor():
    user = UserFactory()
    MembershipFactory(user=user, study=Study.objects.get(protocol_id=SEED_000), site=None, role=Role.MONITOR)
    return user


def _dose_row(prefix, **values):
    row = {
        "intervention": str(intervention(SEED_000, "CAM").pk),
        "start_date": FIRST_DOSE.isoformat(),
        "dose_given": "200",
        "route": "IV",
        "adjustment": "NONE",
        "not_done_reason": "",
        **values,
    }
    return {f"{prefix}-0-{name}": value for name, value in row.items()}


def test_a_dose_added_on_the_visit_page_is_recorded_by_the_service(client, coordinator):
    subject = enrolled(SEED_000)
    cycle1 = visit(subject, "CYCLE1")
    client.force_login(coordinator)
    page = _visit_page(client, cycle1)
    assert page.status_code == 200
    prefix = _formset_prefix(page, Exposure)
    data = _visit_post(page, cycle1)
    data.update(_management(prefix, total=1, initial=0))
    data.update(_dose_row(prefix))
    response = client.post(f"/admin/visits/visit/{cycle1.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    row = Exposure.objects.get(subject=subject)
    assert (row.planned_dose, row.agent_code, row.history.get().history_user) == (
        Decimal("200.00"),
        "CAM",
        coordinator,
    )
    subject.refresh_from_db()
    assert subject.status == "on_treatment"


def test_an_overdose_on_the_visit_page_shows_the_refusal_and_writes_nothing(client, coordinator):
    subject = enrolled(SEED_000)
    cycle1 = visit(subject, "CYCLE1")
    client.force_login(coordinator)
    page = _visit_page(client, cycle1)
    prefix = _formset_prefix(page, Exposure)
    data = _visit_post(page, cycle1)
    data.update(_management(prefix, total=1, initial=0))
    data.update(_dose_row(prefix, dose_given="300"))
    response = client.post(f"/admin/visits/visit/{cycle1.pk}/change/", data)
    assert response.status_code == 200
    assert "overdose_reason" in response.content.decode()
    assert not Exposure.objects.filter(subject=subject).exists()


def test_the_end_of_treatment_is_added_for_a_subject_through_its_service(client, coordinator):
    subject = enrolled(SEED_000)
    exposure_record(
        user=None,
        subject=subject,
        visit=visit(subject, "CYCLE1"),
        intervention=intervention(SEED_000, "CAM"),
        start_date=FIRST_DOSE,
        dose_given=Decimal(200),
        route="IV",
    )
    client.force_login(coordinator)
    assert client.get("/admin/visits/endoftreatment/add/").status_code == 200
    response = client.post(
        "/admin/visits/endoftreatment/add/",
        {
            "subject": str(subject.pk),
            "eot_date": "2025-03-20",
            "last_dose_date": "2025-03-15",
            "reason": "TOX",
            "reason_detail": "",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    eot = EndOfTreatment.objects.get(subject=subject)
    assert (eot.visit.code, eot.reason, eot.eot_date.isoformat()) == ("EOT", "TOX", "2025-03-20")


def test_a_monitor_reads_the_dose_pages_but_cannot_add(client, monitor):
    subject = enrolled(SEED_000)
    row = exposure_record(
        user=None,
        subject=subject,
        visit=visit(subject, "CYCLE1"),
        intervention=intervention(SEED_000, "CAM"),
        start_date=FIRST_DOSE,
        dose_given=Decimal(200),
        route="IV",
    )
    client.force_login(monitor)
    assert client.get(f"/admin/visits/exposure/{row.pk}/change/").status_code == 200
    assert client.get("/admin/visits/endoftreatment/add/").status_code == 403
    page = _visit_page(client, visit(subject, "CYCLE1"))
    formset = next(f for f in page.context["inline_admin_formsets"] if f.formset.model is Exposure)
    assert not formset.has_add_permission


# Session and user (2), the user's grants (1), the site filter's choices (1), the count and the
# total (2), the permissions of the actions column (2), the page (1); the doses' page also reads the
# agent filter's codes (1) and the date hierarchy's range and days (2).
CHANGELIST_QUERIES = {"/admin/visits/exposure/": 12, "/admin/visits/endoftreatment/": 9}


@pytest.mark.parametrize("path", sorted(CHANGELIST_QUERIES))
def test_the_treatment_changelists_cost_a_fixed_number_of_queries(client, coordinator, path):
    from edc.visits.treatment import end_of_treatment_record

    client.force_login(coordinator)

    def treated():
        subject = enrolled(SEED_000)
        exposure_record(
            user=None,
            subject=subject,
            visit=visit(subject, "CYCLE1"),
            intervention=intervention(SEED_000, "CAM"),
            start_date=FIRST_DOSE,
            dose_given=Decimal(200),
            route="IV",
        )
        subject.refresh_from_db()
        end_of_treatment_record(user=None, subject=subject, last_dose_date=FIRST_DOSE, reason="TOX")

    def queries():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(path).status_code == 200
        return len(ctx.captured_queries)

    treated()
    few = queries()
    for _ in range(3):
        treated()
    assert queries() == few == CHANGELIST_QUERIES[path]
