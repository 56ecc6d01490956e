"""Doses through `exposure_record`: the planned dose from the intervention (flat, mg/kg, mg/m² by
Mosteller), the basis each dose keeps, recomputation only past the study's weight threshold, the
overdose refusal, seed 002's cetuximab loading then maintenance dose, the days of a cycle."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from edc.core.bsa import mosteller_bsa
from edc.forms.services import vital_signs_create
from edc.visits.exposures import Exposure
from edc.visits.selectors import agents_received, first_dose_date
from edc.visits.treatment import exposure_record
from tests.visits.treatment_support import (
    FIRST_DOSE,
    SEED_000,
    SEED_002,
    enrolled,
    intervention,
    studies,  # noqa: F401
    visit,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("studies")]


def dose(subject, code, *, protocol=SEED_000, visit_code="CYCLE1", day=FIRST_DOSE, given, route="IV", **kw):
    return exposure_record(
        user=None,
        subject=subject,
        visit=visit(subject, visit_code),
        intervention=intervention(protocol, code),
        start_date=day,
        dose_given=Decimal(given),
        route=route,
        **kw,
    )


def test_a_flat_dose_is_planned_as_the_protocol_states_it_without_a_basis():
    subject = enrolled(SEED_000)
    row = dose(subject, "CAM", given="200")
    assert (row.planned_dose, row.dose_unit, row.agent_code, row.cycle, row.cycle_day) == (
        Decimal("200.00"),
        "mg",
        "CAM",
        1,
        1,
    )
    assert (row.basis_weight_kg, row.basis_bsa_m2, row.basis_recomputed) == (None, None, False)
    assert row.phase.code == "COMBO"
    assert row.form_version == "1.0"


def test_a_per_kg_dose_is_the_amount_times_the_latest_weight():
    subject = enrolled(SEED_000, weight="64.5")
    row = dose(subject, "BEV", given="483.75")
    # 7.5 mg/kg x 64.5 kg
    assert row.planned_dose == Decimal("483.75")
    assert (row.basis_weight_kg, row.basis_date, row.basis_recomputed) == (
        Decimal("64.500"),
        dt.date(2025, 3, 1),
        True,
    )


def test_a_per_m2_dose_uses_mosteller_on_the_latest_weight_and_height():
    subject = enrolled(SEED_000, weight="70", height="170")
    row = dose(subject, "CAP", given="2300", route="PO", end_date=FIRST_DOSE + dt.timedelta(days=13))
    bsa = mosteller_bsa(height_cm=170, weight_kg=70)  # 1.81812...
    assert str(bsa)[:6] == "1.8181"
    assert row.basis_bsa_m2 == Decimal("1.8181")
    # 1250 mg/m2 per administration (twice daily) on the unrounded BSA
    assert row.planned_dose == (Decimal(1250) * bsa).quantize(Decimal("0.01"))
    assert row.planned_dose == Decimal("2272.65")
    assert row.cycle_day == 1


def test_a_body_size_dose_without_a_weight_is_refused_by_name():
    subject = enrolled(SEED_000, weight=None)
    with pytest.raises(ValidationError) as caught:
        dose(subject, "BEV", given="500")
    assert "start_date" in caught.value.message_dict
    assert "weight" in caught.value.message_dict["start_date"][0]
    assert not Exposure.objects.filter(subject=subject).exists()


def test_the_basis_is_kept_below_the_weight_threshold_and_recomputed_at_it():
    subject = enrolled(SEED_000, weight="70")
    first = dose(subject, "BEV", given="525")
    assert first.planned_dose == Decimal("525.00")
    # 9.9 % less at cycle 2: the basis of cycle 1 is kept
    vital_signs_create(user=None, subject=subject, date=dt.date(2025, 4, 5), weight_kg=Decimal("63.07"))
    second = dose(subject, "BEV", visit_code="CYCLE2", day=dt.date(2025, 4, 5), given="525")
    assert (second.basis_weight_kg, second.basis_recomputed, second.planned_dose) == (
        Decimal("70.000"),
        False,
        Decimal("525.00"),
    )
    # exactly 10 % less than the basis at cycle 3: recomputed on 63 kg
    vital_signs_create(user=None, subject=subject, date=dt.date(2025, 4, 26), weight_kg=Decimal("63"))
    third = dose(subject, "BEV", visit_code="CYCLE3", day=dt.date(2025, 4, 26), given="472.5")
    assert (third.basis_weight_kg, third.basis_recomputed, third.planned_dose) == (
        Decimal("63.000"),
        True,
        Decimal("472.50"),
    )
    # each dose keeps the basis it used
    second.refresh_from_db()
    assert second.basis_weight_kg == Decimal("70.000")


def test_a_dose_more_than_10_percent_above_the_planned_one_is_refused_without_a_reason():
    subject = enrolled(SEED_000)
    with pytest.raises(ValidationError) as caught:
        dose(subject, "CAM", given="220.01")
    assert "dose_given" in caught.value.message_dict
    assert "overdose_reason" in caught.value.message_dict["dose_given"][0]
    assert not Exposure.objects.filter(subject=subject).exists()
    row = dose(subject, "CAM", given="220.01", overdose_reason="Vial sharing per pharmacy, PI agreed")
    assert row.overdose_reason.startswith("Vial sharing")


def test_exactly_10_percent_above_needs_no_confirmation_and_a_confirmation_without_overdose_is_refused():
    subject = enrolled(SEED_000)
    with pytest.raises(ValidationError) as caught:
        dose(subject, "CAM", given="200", overdose_reason="not needed")
    assert "overdose_reason" in caught.value.message_dict
    row = dose(subject, "CAM", given="220")
    assert row.dose_given == Decimal("220.00")


def test_seed_002_cetuximab_takes_the_loading_dose_first_then_the_maintenance_dose():
    subject = enrolled(SEED_002, weight="64", height="169")
    bsa = mosteller_bsa(height_cm=169, weight_kg=64)
    # the caller names either regimen of the agent: the first dose is the loading one
    first = dose(subject, "CET_MAINT", protocol=SEED_002, given="680")
    assert (first.intervention.code, first.dose_role) == ("CET_LOAD", "loading")
    assert first.planned_dose == (Decimal(400) * bsa).quantize(Decimal("0.01"))
    week2 = dose(
        subject,
        "CET_LOAD",
        protocol=SEED_002,
        visit_code="CETW1D8",
        day=FIRST_DOSE + dt.timedelta(days=7),
        given="425",
    )
    assert (week2.intervention.code, week2.dose_role, week2.cycle, week2.cycle_day) == (
        "CET_MAINT",
        "maintenance",
        1,
        8,
    )
    assert week2.planned_dose == (Decimal(250) * bsa).quantize(Decimal("0.01"))
    # the maintenance dose keeps the loading dose's basis (no new weight)
    assert (week2.basis_bsa_m2, week2.basis_recomputed) == (first.basis_bsa_m2, False)
    # dalpiciclib 150 mg once daily, days 1-21 of 28, one course per cycle
    dalp = dose(
        subject,
        "DALP",
        protocol=SEED_002,
        given="150",
        route="PO",
        end_date=FIRST_DOSE + dt.timedelta(days=20),
    )
    assert dalp.planned_dose == Decimal("150.00")
    # one agent, however many regimens and rows
    assert [i.code for i in agents_received(subject)] == ["CET_LOAD", "DALP"]


def test_a_skipped_dose_is_zero_with_its_reason_and_does_not_count_as_given():
    subject = enrolled(SEED_000)
    with pytest.raises(ValidationError) as caught:
        dose(subject, "CAM", given="0")
    assert "adjustment" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        dose(subject, "CAM", given="0", adjustment="SKIPPED")
    assert "adjustment_reason" in caught.value.message_dict
    dose(subject, "CAM", given="0", adjustment="SKIPPED", adjustment_reason="Grade 3 rash", route="")
    assert agents_received(subject) == []
    assert first_dose_date(subject) == FIRST_DOSE  # still the planned one
    subject.refresh_from_db()
    assert subject.status == "enrolled"


def test_a_reduced_dose_keeps_the_planned_dose_and_the_reason():
    subject = enrolled(SEED_000, weight="80")
    row = dose(subject, "BEV", given="450", adjustment="REDUCED", adjustment_reason="Proteinuria 2+")
    assert (row.planned_dose, row.dose_given, row.adjustment) == (
        Decimal("600.00"),
        Decimal("450.00"),
        "REDUCED",
    )


def test_an_intervention_without_a_dose_or_of_another_study_is_refused():
    subject = enrolled(SEED_000)
    with pytest.raises(ValidationError) as caught:
        exposure_record(
            user=None,
            subject=subject,
            visit=visit(subject, "CYCLE1"),
            intervention=intervention(SEED_002, "DALP"),
            start_date=FIRST_DOSE,
            dose_given=Decimal(150),
            route="PO",
        )
    assert "intervention" in caught.value.message_dict


def test_doses_are_recorded_at_treatment_visits_only():
    subject = enrolled(SEED_000)
    with pytest.raises(ValidationError) as caught:
        dose(subject, "CAM", visit_code="IMG6W1", day=dt.date(2025, 4, 26), given="200")
    assert "visit" in caught.value.message_dict
