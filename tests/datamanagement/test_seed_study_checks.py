"""The edit checks of visits and tumours on the seed studies, through their services: a candidate
protocol deviation awaiting review, an investigator's response that differs from the derived one.
Each raises its query, the correction closes it, a second bulk run raises 0."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from edc.core.services import ChangeReason
from edc.datamanagement.models import CloseKind, Query, QueryStatus
from edc.datamanagement.services import edit_checks_run
from edc.tumors import services as tumors
from edc.visits.models import Deviation, Visit
from edc.visits.services import deviation_review, visit_record
from tests.tumors import conftest as tumors_conftest
from tests.tumors.conftest import enrolled, imaging_visits

studies = tumors_conftest.studies  # the seed studies, loaded once for the module
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("studies")]


def _open(rule, subject):
    return Query.objects.filter(rule=rule, subject=subject, status=QueryStatus.OPEN)


def test_a_candidate_deviation_raises_a_review_query_and_the_review_closes_it():
    subject = enrolled()
    visit = Visit.objects.select_related("subject", "site", "study").get(subject=subject, code="CYCLE2")
    late = visit.window_end + dt.timedelta(days=2)
    visit_record(user=None, visit=visit, visit_date=late, out_of_window_reason="CT scanner down")
    candidate = Deviation.objects.get(visit=visit)
    query = _open("candidate_deviation_awaiting_review", subject).get()
    assert (query.record_type, query.record_id, query.field) == ("visits.deviation", candidate.pk, "status")
    assert "awaits review" in query.text and "CT scanner down" in query.text
    assert (
        edit_checks_run(study=subject.study, subjects=type(subject).objects.filter(pk=subject.pk)).raised == 0
    )
    deviation_review(user=None, deviation=candidate, decision="confirm", severity="minor")
    query.refresh_from_db()
    assert (query.status, query.close_kind) == (QueryStatus.CLOSED, CloseKind.CORRECTED)


def _target(subject):
    return tumors.lesion_create(
        user=None,
        subject=subject,
        code="T1",
        category="TARGET",
        location="liver T1",
        organ="liver",
        nodal="N",
        method="CT",
        slice_thickness_mm=Decimal(5),
        diameter_mm=Decimal(40),
        date=dt.date(2025, 3, 1),
    )


def test_an_investigator_response_unlike_the_derived_one_raises_a_query_and_its_correction_closes_it():
    subject = enrolled()
    _target(subject)
    visit = imaging_visits(subject)[0]
    assessment = tumors.assessment_create(
        user=None,
        subject=subject,
        visit=visit,
        date=visit.target_date,
        investigator_overall="CR",
        investigator_new_lesions="N",
        measurements=[{"lesion": "T1", "target_state": "MEASURED", "diameter_mm": Decimal(20)}],
    )
    query = _open("investigator_response_mismatch", subject).get()
    assert (query.record_type, query.record_id, query.field) == (
        "tumors.tumorassessment",
        assessment.pk,
        "investigator_overall",
    )
    assert "overall: investigator CR, derived PR" in query.text
    assert (
        edit_checks_run(study=subject.study, subjects=type(subject).objects.filter(pk=subject.pk)).raised == 0
    )
    tumors.assessment_update(
        user=None,
        assessment=assessment,
        reason=ChangeReason("transcription_error", "PR on the source"),
        investigator_overall="PR",
    )
    query.refresh_from_db()
    assert (query.status, query.close_kind) == (QueryStatus.CLOSED, CloseKind.CORRECTED)
