"""Each edit check raises its query and closes it when the data is corrected; runs never duplicate."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import call_command

from edc.datamanagement.checks import REGISTRY, edit_check
from edc.datamanagement.models import CloseKind, Query, QueryStatus
from edc.datamanagement.services import edit_checks_run, edit_checks_run_for, query_close
from edc.forms import services as forms
from tests.datamanagement.conftest import correct, visit_done

D = dt.date


def _queries(rule, subject=None):
    found = Query.objects.filter(rule=rule)
    return found.filter(subject=subject) if subject is not None else found


def test_the_registry_names_every_rule_once_and_refuses_a_second_registration():
    assert {"visit_outside_window", "date_before_consent", "stale_eligibility_decision"} <= set(REGISTRY)
    with pytest.raises(ValueError):
        edit_check("visit_outside_window", models=["visits.visit"])(lambda subjects: [])


def test_a_visit_outside_its_window_raises_a_query_on_its_date_and_the_correction_closes_it(world):
    visit = visit_done(world.subject_a, day=D(2025, 3, 20), start=D(2025, 3, 8), end=D(2025, 3, 12))
    run = edit_checks_run(study=world.study)
    assert run.raised == 1
    query = _queries("visit_outside_window").get()
    assert (query.record_id, query.field, query.status) == (visit.pk, "visit_date", QueryStatus.OPEN)
    assert "2025-03-20" in query.text and query.raised_by is None
    correct(visit, visit_date=D(2025, 3, 11))
    query.refresh_from_db()
    assert (query.status, query.close_kind) == (QueryStatus.CLOSED, CloseKind.CORRECTED)
    assert [e.action for e in query.events.all()] == ["raised", "closed"]


def test_a_recorded_out_of_window_reason_closes_the_visit_query(world):
    visit = visit_done(world.subject_a, day=D(2025, 3, 20), start=D(2025, 3, 8), end=D(2025, 3, 12))
    edit_checks_run_for(visit)
    assert _queries("visit_outside_window").get().status == QueryStatus.OPEN
    correct(visit, out_of_window_reason="patient in hospital")
    assert _queries("visit_outside_window").get().status == QueryStatus.CLOSED


def test_a_visit_inside_its_window_raises_nothing(world):
    visit_done(world.subject_a, day=D(2025, 3, 12), start=D(2025, 3, 8), end=D(2025, 3, 12))
    assert edit_checks_run(study=world.study).raised == 0


def test_a_second_bulk_run_raises_nothing_new_and_counts_the_open_ones(world):
    visit_done(world.subject_a, day=D(2025, 3, 20), start=D(2025, 3, 8), end=D(2025, 3, 12))
    visit_done(world.subject_b, day=D(2025, 3, 1), start=D(2025, 3, 8), end=D(2025, 3, 12))
    assert edit_checks_run(study=world.study).as_dict() == {"raised": 2, "closed": 0, "open": 2}
    assert edit_checks_run(study=world.study).as_dict() == {"raised": 0, "closed": 0, "open": 2}
    assert Query.objects.count() == 2


def test_a_query_closed_by_a_reviewer_is_not_raised_again_while_the_data_stays(world):
    visit_done(world.subject_a, day=D(2025, 3, 20), start=D(2025, 3, 8), end=D(2025, 3, 12))
    edit_checks_run(study=world.study)
    query_close(user=world.users["data_manager"], query=Query.objects.get(), text="accepted: documented")
    assert edit_checks_run(study=world.study).raised == 0


def test_data_that_breaks_again_after_a_correction_raises_a_new_query(world):
    visit = visit_done(world.subject_a, day=D(2025, 3, 20), start=D(2025, 3, 8), end=D(2025, 3, 12))
    edit_checks_run_for(visit)
    visit = correct(visit, visit_date=D(2025, 3, 10))
    correct(visit, visit_date=D(2025, 3, 25))
    assert list(_queries("visit_outside_window").values_list("status", flat=True).order_by("raised_at")) == [
        "closed",
        "open",
    ]


def test_a_procedure_dated_before_consent_raises_a_query_and_its_correction_closes_it(world):
    from edc.consent.models import SignedConsent
    from edc.consent.services import consent_sign, consent_void
    from edc.core.services import ChangeReason
    from tests.factories import ConsentVersionFactory

    subject = world.subject_a  # consented 2025-03-01
    vitals = forms.vital_signs_create(user=None, subject=subject, date=D(2025, 3, 3), weight_kg=70)
    assert edit_checks_run(study=world.study).raised == 0
    # A second consent on the 4th; the first is then voided (entered for the wrong patient): the
    # vitals of the 3rd now precede the patient's first consent.
    first = SignedConsent.objects.get(subject=subject)
    consent_sign(
        user=None,
        subject=subject,
        version=ConsentVersionFactory(study=world.study, version="2.0"),
        signed_at=dt.datetime(2025, 3, 4, 9, 0, tzinfo=dt.UTC),
        obtained_by="Dr Li",
    )
    consent = consent_void(user=None, consent=first, reason=ChangeReason("other", "another patient's form"))
    edit_checks_run_for(consent)
    query = _queries("date_before_consent").get()
    assert (query.record_type, query.record_id, query.field) == ("forms.vitalsigns", vitals.pk, "date")
    correct(vitals, date=D(2025, 3, 5))
    query.refresh_from_db()
    assert query.status == QueryStatus.CLOSED


def test_a_visit_dated_before_consent_raises_a_query(world):
    visit_done(world.subject_a, day=D(2025, 2, 20), start=D(2025, 2, 18), end=D(2025, 2, 22))
    edit_checks_run(study=world.study)
    assert _queries("date_before_consent").get().field == "visit_date"


def test_the_on_save_run_checks_only_the_record_s_subject(world):
    visit_done(world.subject_b, day=D(2025, 3, 20), start=D(2025, 3, 8), end=D(2025, 3, 12))
    visit = visit_done(world.subject_a, day=D(2025, 3, 20), start=D(2025, 3, 8), end=D(2025, 3, 12))
    assert edit_checks_run_for(visit).raised == 1
    assert Query.objects.get().subject == world.subject_a


def test_run_edit_checks_prints_raised_closed_open_as_json_and_a_second_run_raises_zero(world):
    visit_done(world.subject_a, day=D(2025, 3, 20), start=D(2025, 3, 8), end=D(2025, 3, 12))
    out = StringIO()
    call_command("run_edit_checks", "--study", world.study.protocol_id, "--json", stdout=out)
    assert json.loads(out.getvalue()) == {"raised": 1, "closed": 0, "open": 1}
    out = StringIO()
    call_command("run_edit_checks", "--study", world.study.protocol_id, "--json", stdout=out)
    assert json.loads(out.getvalue()) == {"raised": 0, "closed": 0, "open": 1}


def test_run_edit_checks_names_an_unknown_study_and_exits_non_zero(world):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="NO-SUCH"):
        call_command("run_edit_checks", "--study", "NO-SUCH")


def test_the_on_save_run_costs_the_same_queries_whatever_the_subject_s_data(
    world, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    visit = visit_done(world.subject_a, day=D(2025, 3, 10), start=D(2025, 3, 8), end=D(2025, 3, 12))
    with CaptureQueriesContext(connection) as few:
        edit_checks_run_for(visit)
    for n in range(5):
        forms.vital_signs_create(user=None, subject=world.subject_a, date=D(2025, 3, 2 + n), weight_kg=70)
        visit_done(
            world.subject_a,
            code=f"C{n + 2}D1",
            day=D(2025, 4, 10 + n),
            start=D(2025, 4, 8),
            end=D(2025, 4, 30),
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        edit_checks_run_for(visit)
