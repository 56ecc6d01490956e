"""Recording a visit: done on a date (early, on time, late against its window at the site's date),
missed with a reason; out of window needs a reason and raises ONE candidate deviation for review."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from edc.visits.models import Deviation, DeviationStatus, Visit, VisitStatus
from edc.visits.services import (
    deviation_create,
    deviation_review,
    visit_miss,
    visit_record,
    visit_timing,
)
from tests.visits.test_schedule_rebuild import _enrolled

pytestmark = pytest.mark.django_db


def _visit(subject, code):
    return Visit.objects.select_related("subject", "site", "study").get(subject=subject, code=code)


def test_a_visit_in_its_window_is_done_on_time_without_a_deviation(studies):
    subject = _enrolled("CAM-BEV-CAP-HNSCC")
    visit = _visit(subject, "CYCLE2")
    done = visit_record(user=None, visit=visit, visit_date=visit.window_end)
    assert (done.status, done.visit_date, visit_timing(done)) == ("done", visit.window_end, "on_time")
    assert not Deviation.objects.filter(visit=visit).exists()


def test_a_late_visit_needs_a_reason_and_raises_one_candidate_deviation(studies):
    subject = _enrolled("CAM-BEV-CAP-HNSCC")
    visit = _visit(subject, "CYCLE2")
    late = visit.window_end + dt.timedelta(days=2)
    with pytest.raises(ValidationError) as exc:
        visit_record(user=None, visit=visit, visit_date=late)
    assert "out_of_window_reason" in exc.value.message_dict
    assert _visit(subject, "CYCLE2").status == VisitStatus.PLANNED
    done = visit_record(user=None, visit=visit, visit_date=late, out_of_window_reason="CT scanner down")
    assert visit_timing(done) == "late"
    (candidate,) = Deviation.objects.filter(visit=visit)
    assert (candidate.status, candidate.category, candidate.severity) == ("candidate", "visit_window", "")
    assert candidate.date == late and "CT scanner down" in candidate.description
    # Recorded again (a corrected date, still late): the same candidate follows, none is added.
    again = visit_record(
        user=None,
        visit=done,
        visit_date=late + dt.timedelta(days=1),
        out_of_window_reason="CT scanner down",
        reason="date corrected from the source",
    )
    assert Deviation.objects.filter(visit=visit).count() == 1
    assert Deviation.objects.get(visit=visit).date == again.visit_date


def test_an_early_visit_is_early(studies):
    subject = _enrolled("CAM-BEV-CAP-HNSCC")
    visit = _visit(subject, "CYCLE3")
    early = visit.window_start - dt.timedelta(days=1)
    done = visit_record(user=None, visit=visit, visit_date=early, out_of_window_reason="holiday")
    assert visit_timing(done) == "early"


def test_a_candidate_is_confirmed_as_major_or_minor_or_dismissed_and_never_raised_again(studies):
    subject = _enrolled("CAM-BEV-CAP-HNSCC")
    visit = _visit(subject, "CYCLE2")
    late = visit.window_end + dt.timedelta(days=3)
    visit = visit_record(user=None, visit=visit, visit_date=late, out_of_window_reason="flu")
    candidate = Deviation.objects.get(visit=visit)
    with pytest.raises(ValidationError) as exc:
        deviation_review(user=None, deviation=candidate, decision="confirm")
    assert "severity" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        deviation_review(user=None, deviation=candidate, decision="dismiss")
    assert "note" in exc.value.message_dict
    confirmed = deviation_review(user=None, deviation=candidate, decision="confirm", severity="minor")
    assert (confirmed.status, confirmed.severity) == (DeviationStatus.CONFIRMED, "minor")
    with pytest.raises(ValidationError):
        deviation_review(user=None, deviation=confirmed, decision="dismiss", note="x")
    visit_record(
        user=None,
        visit=visit,
        visit_date=late + dt.timedelta(days=1),
        out_of_window_reason="flu",
        reason="fix",
    )
    assert Deviation.objects.filter(visit=visit).count() == 1
    assert Deviation.objects.get(visit=visit).status == DeviationStatus.CONFIRMED


def test_a_candidate_corrected_into_the_window_is_dismissed(studies):
    subject = _enrolled("CAM-BEV-CAP-HNSCC")
    visit = _visit(subject, "CYCLE2")
    visit = visit_record(
        user=None, visit=visit, visit_date=visit.window_end + dt.timedelta(days=1), out_of_window_reason="x"
    )
    visit_record(user=None, visit=visit, visit_date=visit.target_date, reason="typo in the date")
    assert Deviation.objects.get(visit=visit).status == DeviationStatus.DISMISSED


def test_a_visit_date_after_today_at_the_site_or_before_screening_is_refused(studies):
    subject = _enrolled("CAM-BEV-CAP-HNSCC")
    visit = _visit(subject, "CYCLE2")
    tomorrow = visit.site.today() + dt.timedelta(days=1)
    with pytest.raises(ValidationError) as exc:
        visit_record(user=None, visit=visit, visit_date=tomorrow, out_of_window_reason="x")
    assert "visit_date" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        visit_record(user=None, visit=visit, visit_date=dt.date(2020, 1, 1), out_of_window_reason="x")
    assert "visit_date" in exc.value.message_dict


def test_re_recording_a_done_visit_needs_a_reason(studies):
    subject = _enrolled("CAM-BEV-CAP-HNSCC")
    visit = visit_record(
        user=None, visit=_visit(subject, "CYCLE2"), visit_date=_visit(subject, "CYCLE2").target_date
    )
    with pytest.raises(ValidationError) as exc:
        visit_record(user=None, visit=visit, visit_date=visit.target_date)
    assert "reason" in exc.value.message_dict


def test_a_missed_visit_needs_a_reason_and_a_window_that_has_opened(studies):
    subject = _enrolled("CAM-BEV-CAP-HNSCC")
    visit = _visit(subject, "CYCLE2")
    with pytest.raises(ValidationError) as exc:
        visit_miss(user=None, visit=visit, reason="")
    assert "reason" in exc.value.message_dict
    missed = visit_miss(user=None, visit=visit, reason="Patient travelling")
    assert (missed.status, missed.missed_reason) == (VisitStatus.MISSED, "Patient travelling")
    with pytest.raises(ValidationError):
        visit_miss(user=None, visit=missed, reason="again")
    future = Visit.objects.filter(subject=subject, window_start__gt=visit.site.today()).first()
    if future is not None:
        with pytest.raises(ValidationError) as exc:
            visit_miss(user=None, visit=future, reason="not yet")
        assert "status" in exc.value.message_dict


def test_a_cancelled_visit_cannot_be_recorded(studies):
    from edc.visits.services import visits_cancel_after

    subject = _enrolled("CAM-BEV-CAP-HNSCC")
    visits_cancel_after(user=None, subject=subject, after=dt.date(2025, 3, 20), reason="withdrawn")
    visit = _visit(subject, "CYCLE3")
    assert visit.status == VisitStatus.CANCELLED
    with pytest.raises(ValidationError) as exc:
        visit_record(user=None, visit=visit, visit_date=visit.target_date)
    assert "status" in exc.value.message_dict


def test_a_deviation_entered_by_hand_is_confirmed_with_its_severity(studies):
    subject = _enrolled("CAM-BEV-CAP-HNSCC")
    entry = deviation_create(
        user=None,
        site=subject.site,
        subject=subject,
        date=dt.date(2025, 3, 20),
        category="prohibited_medication",
        severity="major",
        description="St John's wort taken during cycle 1",
        corrective_action="Stopped; patient re-educated",
        reported_to_ethics=True,
        ethics_reported_date=dt.date(2025, 3, 25),
    )
    assert (entry.status, entry.source, entry.severity) == ("confirmed", "manual", "major")
    with pytest.raises(ValidationError) as exc:
        deviation_create(
            user=None,
            site=subject.site,
            date=dt.date(2025, 3, 20),
            category="consent",
            severity="",
            description="old consent version used",
        )
    assert "severity" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        deviation_create(
            user=None,
            site=subject.site,
            date=dt.date(2025, 3, 20),
            category="nonsense",
            severity="minor",
            description="x",
        )
    assert "category" in exc.value.message_dict
