"""The safety edit checks through the services: a grade-5 AE and the death form, a death from an AE
(or of unknown cause in the AE period) and the grade-5 AE, an AE proposed from a lab value left
undecided past the limit. Each raises its query, the correction closes it, a second run raises 0."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from edc.core.services import ChangeReason
from edc.datamanagement.checks import LAB_AE_PROPOSAL_LIMIT_DAYS
from edc.datamanagement.models import CloseKind, Query, QueryStatus
from edc.datamanagement.services import edit_checks_run
from edc.forms import services as forms
from edc.safety import services as safety
from edc.safety.models import LabAeProposal, ProposalStatus
from tests.safety.conftest import FIRST_DOSE, load_seed, term, world_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def seed000(ctcae_terms):
    """Seed 000 with its site, investigator and coordinator (tests/safety's world)."""
    return world_for(load_seed("000"))


AWARE = dt.datetime(2025, 3, 20, 2, tzinfo=dt.UTC)
DAY3 = FIRST_DOSE + dt.timedelta(days=3)


def _open(rule, subject):
    return Query.objects.filter(rule=rule, subject=subject, status=QueryStatus.OPEN)


def fatal_ae(world, subject, death_date=DAY3 + dt.timedelta(days=2)):
    return safety.adverse_event_create(
        user=world.investigator,
        subject=subject,
        ctcae_term=term("Pneumonitis"),
        onset=DAY3,
        grade=5,
        outcome="FATAL",
        serious=True,
        seriousness=["death"],
        site_aware_at=AWARE,
        immune_related=True,
        death_date=death_date,
        # No dose recorded yet: the planned arm's agents are the ones to attribute.
        attributions=[
            safety.AttributionIn(agent, "POSSIBLE", "WITHDRAWN")
            for agent in ("camrelizumab", "bevacizumab", "capecitabine")
        ],
    )


def test_a_grade_5_ae_without_a_death_form_raises_a_query_and_recording_the_death_closes_it(seed000):
    subject = seed000.subject()
    ae = fatal_ae(seed000, subject)
    query = _open("grade5_ae_without_death_form", subject).get()
    assert (query.record_type, query.record_id, query.field) == (
        "safety.adverseevent",
        ae.pk,
        "worst_grade",
    )
    assert "Pneumonitis" in query.text and "no death form" in query.text
    assert edit_checks_run(study=seed000.study, rules=["grade5_ae_without_death_form"]).raised == 0
    forms.death_record(
        user=seed000.investigator, subject=subject, death_date=DAY3 + dt.timedelta(days=2), cause="AE"
    )
    query.refresh_from_db()
    assert (query.status, query.close_kind) == (QueryStatus.CLOSED, CloseKind.CORRECTED)
    # The death from the AE has its grade-5 AE: the reverse rule raises nothing.
    assert not Query.objects.filter(rule="death_without_grade5_ae", subject=subject).exists()


def test_a_death_from_an_ae_without_a_grade_5_ae_raises_a_query_and_the_fatal_ae_closes_it(seed000):
    subject = seed000.subject()
    death = forms.death_record(
        user=seed000.investigator, subject=subject, death_date="2025-03-20", cause="AE"
    )
    query = _open("death_without_grade5_ae", subject).get()
    assert (query.record_type, query.record_id, query.field) == ("forms.death", death.pk, "cause")
    assert "2025-03-20" in query.text
    assert edit_checks_run(study=seed000.study).raised == 0
    fatal_ae(seed000, subject, death_date=dt.date(2025, 3, 20))
    query.refresh_from_db()
    assert (query.status, query.close_kind) == (QueryStatus.CLOSED, CloseKind.CORRECTED)


def test_an_unknown_cause_death_in_the_ae_period_raises_a_query_and_a_progression_death_none(
    seed000,
):
    unknown, progressed = seed000.subject(), seed000.subject()
    death = forms.death_record(user=seed000.investigator, subject=unknown, death_date="2025-03", cause="UNK")
    forms.death_record(user=seed000.investigator, subject=progressed, death_date="2025-03-25", cause="PD")
    assert "unknown cause" in _open("death_without_grade5_ae", unknown).get().text
    assert not Query.objects.filter(subject=progressed, rule="death_without_grade5_ae").exists()
    # The cause found (progression) corrects it.
    forms.death_update(
        user=seed000.investigator,
        record=death,
        reason=ChangeReason("source_updated", "hospital letter"),
        cause="PD",
    )
    assert not _open("death_without_grade5_ae", unknown).exists()
    assert edit_checks_run(study=seed000.study).raised == 0


def test_a_death_of_unknown_cause_before_the_collection_period_raises_nothing(seed000):
    # Seed 000 collects serious AEs from consent (2025-03-01): a death dated before it is outside.
    subject = seed000.subject()
    from edc.core.partial_dates import PartialDate
    from edc.datamanagement.checks import _death_in_collection_period

    assert _death_in_collection_period(subject, PartialDate.parse("2025-03"))
    assert not _death_in_collection_period(subject, PartialDate.parse("2025-02-20"))


def test_a_lab_ae_proposal_left_open_past_the_limit_raises_a_query_and_its_decision_closes_it(seed000):
    subject = seed000.subject()
    seed000.lab(subject, DAY3, "PLAT", Decimal(30), "10^9/L")
    proposal = LabAeProposal.objects.get(subject=subject, status=ProposalStatus.OPEN)
    assert edit_checks_run(study=seed000.study, rules=["lab_ae_proposal_undecided"]).raised == 0
    later = proposal.created + dt.timedelta(days=LAB_AE_PROPOSAL_LIMIT_DAYS, hours=1)
    with time_machine.travel(later, tick=False):
        assert edit_checks_run(study=seed000.study, rules=["lab_ae_proposal_undecided"]).raised == 1
        assert edit_checks_run(study=seed000.study, rules=["lab_ae_proposal_undecided"]).raised == 0
        query = _open("lab_ae_proposal_undecided", subject).get()
        assert (query.record_id, query.field) == (proposal.pk, "status")
        assert "still undecided after 7 days" in query.text
        safety.ae_proposal_dismiss(user=seed000.investigator, proposal=proposal, reason="not significant")
    query.refresh_from_db()
    assert (query.status, query.close_kind) == (QueryStatus.CLOSED, CloseKind.CORRECTED)


def test_an_imported_ae_resolved_before_its_onset_raises_a_query_and_the_correction_closes_it(seed000):
    from edc.core.services import record_update

    subject = seed000.subject()
    ae = safety.adverse_event_create(
        user=seed000.investigator,
        subject=subject,
        ctcae_term=term("Nausea"),
        onset=DAY3,
        grade=1,
        outcome="RECOVERING",
        immune_related=False,
        attributions=[
            safety.AttributionIn(agent, "UNRELATED", "NONE")
            for agent in ("camrelizumab", "bevacizumab", "capecitabine")
        ],
    )
    assert not Query.objects.filter(rule="ae_onset_after_resolution").exists()
    # An import through the core write path (not the AE services, which refuse it) stores the
    # contradiction; the bulk run finds it.
    ae = record_update(
        ae,
        user=None,
        changes={"resolution": DAY3 - dt.timedelta(days=2), "outcome": "RECOVERED"},
        reason=ChangeReason("other", "import from the site's legacy system"),
    )
    assert edit_checks_run(study=seed000.study, rules=["ae_onset_after_resolution"]).raised == 1
    query = _open("ae_onset_after_resolution", subject).get()
    assert (query.record_type, query.record_id, query.field) == ("safety.adverseevent", ae.pk, "resolution")
    assert "Nausea" in query.text and "before its onset" in query.text
    assert edit_checks_run(study=seed000.study, rules=["ae_onset_after_resolution"]).raised == 0
    safety.adverse_event_update(
        user=seed000.investigator,
        ae=ae,
        reason=ChangeReason("transcription_error", "resolution date per the source"),
        resolution=DAY3 + dt.timedelta(days=4),
    )
    query.refresh_from_db()
    assert (query.status, query.close_kind) == (QueryStatus.CLOSED, CloseKind.CORRECTED)
