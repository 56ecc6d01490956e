"""Re-planning writes only the differences: planned visits without data move or are cancelled with
the reason; done, missed, filled, screening and unscheduled visits stay; an amendment re-plans the
subjects it applies to from its effective date on."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from edc.core.services import ChangeReason, record_update
from edc.forms import services as form_services
from edc.forms.models import EcogAssessment
from edc.visits.models import Visit, VisitStatus
from edc.visits.services import (
    schedule_rebuild,
    study_version_replan,
    visit_has_data,
    visit_miss,
    visit_record,
    visit_unscheduled_create,
    visits_with_data,
)
from studies.form_stores import form_stores
from studies.models import StudyVersion
from tests.visits.test_schedule_rebuild import _enrolled

pytestmark = pytest.mark.django_db


def _move_first_dose(subject, days):
    return record_update(
        subject,
        user=None,
        changes={"planned_first_dose": subject.planned_first_dose + dt.timedelta(days=days)},
        reason=ChangeReason("other", "test: the first dose moved"),
    )


def _visits(subject):
    return {v.code: v for v in Visit.objects.active().filter(subject=subject)}


def _ecog_at(visit):
    return form_services.form_record_create(
        user=None, model=EcogAssessment, subject=visit.subject, visit=visit, date=visit.target_date, ecog=1
    )


def test_moving_the_anchor_moves_the_planned_visits_and_writes_one_history_row_each(studies):
    subject = _enrolled("CET-DALP-HNSCC")
    before = _visits(subject)
    history = Visit.history.count()
    subject = _move_first_dose(subject, 7)
    change = schedule_rebuild(user=None, subject=subject, reason="First dose a week later")
    after = _visits(subject)
    # Every first-dose-anchored visit moved by a week; the screening visit did not.
    assert change.created == [] and change.dropped == []
    assert set(change.moved) == {c for c, v in before.items() if v.kind != "screening"}
    for code in change.moved:
        assert after[code].target_date == before[code].target_date + dt.timedelta(days=7)
        assert after[code].status == VisitStatus.PLANNED
    assert after["SCR"].target_date == before["SCR"].target_date
    assert Visit.history.count() == history + len(change.moved)
    row = Visit.history.filter(code="CYCLE2", subject_id=subject.pk).order_by("-history_id").first()
    assert row.history_change_reason == "First dose a week later"


def test_done_missed_and_filled_visits_are_never_moved(studies):
    # The imaging visits: they stay anchored on the first dose (a cycle recorded done re-anchors the
    # cycles after it on its actual date, so moving the planned first dose would not move them).
    subject = _enrolled("CET-DALP-HNSCC")
    visits = _visits(subject)
    visit_record(user=None, visit=visits["IMG1"], visit_date=visits["IMG1"].target_date)
    visit_miss(user=None, visit=visits["IMG2"], reason="patient in hospital")
    _ecog_at(visits["IMG3"])
    before = _visits(subject)
    subject = _move_first_dose(subject, 5)
    change = schedule_rebuild(user=None, subject=subject, reason="moved")
    after = _visits(subject)
    for code in ("IMG1", "IMG2", "IMG3"):  # the plan moved them: each is kept where it was
        assert code in change.kept and code not in change.moved
        assert after[code].target_date == before[code].target_date
        assert after[code].version == before[code].version
    assert after["IMG4"].target_date == before["IMG4"].target_date + dt.timedelta(days=5)
    assert "IMG4" in change.moved


def test_a_re_plan_twice_writes_nothing_the_second_time(studies):
    subject = _enrolled("CAM-APA-NPC")
    subject = _move_first_dose(subject, 3)
    first = schedule_rebuild(user=None, subject=subject, reason="moved")
    assert first.changed
    history = Visit.history.count()
    second = schedule_rebuild(user=None, subject=subject, reason="again")
    assert not second.changed
    assert Visit.history.count() == history


def test_visits_no_longer_planned_are_cancelled_with_the_reason_unless_they_hold_data(studies):
    subject = _enrolled("CET-DALP-HNSCC")
    cycles = sorted(
        (v for v in _visits(subject).values() if v.code.startswith("CYCLE")), key=lambda v: v.occurrence
    )
    definition = cycles[0].definition
    keep = 4
    _ecog_at(cycles[keep + 1])  # a visit that holds data stays even when no longer planned
    definition.repeat_count = keep
    definition.repeat_until_day = None
    definition.save()
    change = schedule_rebuild(user=None, subject=subject, reason="Fewer cycles")
    after = _visits(subject)
    # The cycles past the new count go, and with them the weekly visits planned per cycle.
    dropped_cycles = {c for c in change.dropped if c.startswith("CYCLE")}
    assert dropped_cycles == {v.code for v in cycles[keep:]} - {cycles[keep + 1].code}
    assert any(c.startswith(f"CETW{keep + 2}D") for c in change.dropped)
    assert cycles[keep + 1].code in change.kept
    for code in change.dropped:
        assert after[code].status == VisitStatus.CANCELLED
        assert after[code].cancelled_reason == "Fewer cycles"
    assert after[cycles[keep + 1].code].status == VisitStatus.PLANNED
    # Cancelled visits are listed, not deleted, and a second re-plan leaves them as they are.
    assert not schedule_rebuild(user=None, subject=subject, reason="again").changed


def test_screening_and_unscheduled_visits_are_kept_by_a_re_plan(studies):
    subject = _enrolled("CAM-BEV-CAP-HNSCC")
    uns = visit_unscheduled_create(user=None, subject=subject, visit_date=dt.date(2025, 4, 2), reason="Fever")
    assert (uns.code, uns.status, uns.kind) == ("UNS1", VisitStatus.DONE, "unscheduled")
    second = visit_unscheduled_create(
        user=None, subject=subject, visit_date=dt.date(2025, 4, 3), reason="Rash"
    )
    assert second.code == "UNS2"
    subject = _move_first_dose(subject, 2)
    change = schedule_rebuild(user=None, subject=subject, reason="moved")
    assert {"SCR", "UNS1", "UNS2"}.isdisjoint(set(change.moved) | set(change.dropped) | set(change.kept))
    after = _visits(subject)
    assert after["UNS1"].status == VisitStatus.DONE and after["SCR"].status == VisitStatus.DONE


def test_an_unscheduled_visit_needs_a_reason_and_an_enrolled_subject(studies):
    subject = _enrolled("CAM-BEV-CAP-HNSCC")
    with pytest.raises(ValidationError) as exc:
        visit_unscheduled_create(user=None, subject=subject, visit_date=dt.date(2025, 4, 2), reason=" ")
    assert "reason" in exc.value.message_dict


def test_a_re_plan_needs_a_reason(studies):
    subject = _enrolled("CAM-BEV-CAP-HNSCC")
    with pytest.raises(ValidationError) as exc:
        schedule_rebuild(user=None, subject=subject, reason="")
    assert "reason" in exc.value.message_dict


def test_visits_with_data_counts_every_form_model_with_one_query_each(studies):
    subject = _enrolled("CAM-BEV-CAP-HNSCC")
    visits = _visits(subject)
    _ecog_at(visits["CYCLE2"])
    ids = [v.pk for v in visits.values()]
    stores = [s for s in form_stores() if any(f.name == "visit" for f in s.model._meta.concrete_fields)]
    with CaptureQueriesContext(connection) as ctx:
        found = visits_with_data(ids)
    assert visits["CYCLE2"].pk in found and visits["CYCLE3"].pk not in found
    assert len(ctx.captured_queries) == len(stores)
    assert visit_has_data(visits["CYCLE2"]) and not visit_has_data(visits["CYCLE3"])


def test_a_voided_form_record_is_no_data(studies):
    subject = _enrolled("CAM-BEV-CAP-HNSCC")
    visit = _visits(subject)["CYCLE2"]
    record = _ecog_at(visit)
    form_services.form_record_void(user=None, record=record, reason=ChangeReason("other", "wrong visit"))
    assert not visit_has_data(visit)


def test_an_amendment_re_plans_the_subjects_from_its_effective_date_on(studies):
    subject = _enrolled("CET-DALP-HNSCC")
    other = _enrolled("CET-DALP-HNSCC")
    visits = _visits(subject)
    cycles = sorted((v for v in visits.values() if v.code.startswith("CYCLE")), key=lambda v: v.occurrence)
    definition = cycles[0].definition
    definition.window_after_days = definition.window_after_days + 1
    definition.save()
    effective = cycles[3].target_date
    version = StudyVersion.objects.create(study=subject.study, number="9.9-test", effective_date=effective)
    result = study_version_replan(user=None, version=version)
    assert result.subjects >= 2
    after = _visits(subject)
    for v in cycles:
        if v.target_date < effective:
            assert after[v.code].window_end == v.window_end  # before the amendment: as it was
    later = [v for v in cycles if v.target_date >= effective]
    assert any(after[v.code].window_end != v.window_end for v in later)
    row = Visit.history.filter(subject_id=subject.pk, history_type="~").order_by("-history_id").first()
    assert row.history_change_reason.startswith("Amendment 9.9-test")
    assert row.history_reason_code == "protocol_amendment"
    assert _visits(other)[later[0].code].window_end == after[later[0].code].window_end
