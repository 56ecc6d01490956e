"""Dosing (edc/visits/dosing.py): planned doses, the weight basis rule, the overdose check, cycle days.

Regimens come from the study files (fixtures/studies/), so seed 000's capecitabine and seed 002's
cetuximab and dalpiciclib are tested as the trial definitions state them.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from edc.visits.dosing import (
    ABOVE_WITHIN_LIMIT,
    AS_PLANNED,
    BELOW_PLANNED,
    CONFIRMED,
    FLAT_BASIS,
    NEEDS_CONFIRMATION,
    AgentSchedule,
    DoseBasis,
    DosingError,
    Measurement,
    Regimen,
    basis_from,
    check_given_dose,
    choose_basis,
    cycle_day,
    daily_amount,
    days_off,
    dose_amount,
    is_dosing_day,
    planned_dose,
    schedules,
)
from studies.models import Intervention
from studies.validation import parse_dosing_days

ROOT = Path(__file__).resolve().parents[2]
STUDY_FILES = {
    "000": "000_cam_bev_cap_hnscc.yaml",
    "002": "002_cet_dalp_hnscc.yaml",
    "004": "004_cam_crt_hnscc.yaml",
}
DAY = dt.date(2025, 3, 3)


def interventions(seed: str) -> list[dict[str, Any]]:
    data = yaml.safe_load((ROOT / "fixtures" / "studies" / STUDY_FILES[seed]).read_text(encoding="utf-8"))
    return list(data["interventions"])


def as_regimen(item: dict[str, Any]) -> Regimen:
    amount = item.get("dose_amount")
    days = item.get("dosing_days")
    return Regimen(
        code=item["code"],
        agent=item["agent"],
        dose_amount=None if amount is None else Decimal(str(amount)),
        dose_unit=item.get("dose_unit", ""),
        dose_basis=item.get("dose_basis", "flat"),
        dose_per=item.get("dose_per", "dose"),
        doses_per_day=item.get("doses_per_day"),
        dosing_days=tuple(parse_dosing_days(days)) if days else (),
        cycle_length_days=item.get("cycle_length_days"),
        dose_role=item.get("dose_role") or "",
    )


def seed_regimen(seed: str, code: str) -> Regimen:
    [item] = [i for i in interventions(seed) if i["code"] == code]
    return as_regimen(item)


def per_m2(height: str, weight: str, on: dt.date = DAY) -> DoseBasis:
    return basis_from("per_m2", weight_kg=Decimal(weight), height_cm=Decimal(height), measured_on=on)


def drug(basis: str = "per_kg", **kwargs: Any) -> Regimen:
    values: dict[str, Any] = {"code": "X", "agent": "x", "dose_amount": Decimal(5), "dose_unit": "mg"}
    values.update(kwargs)
    return Regimen(dose_basis=basis, **values)


# --------------------------------------------------------------------------- planned dose


@pytest.mark.parametrize(
    ("basis", "amount", "dose_per", "per_day", "weight", "height", "dose", "daily", "one"),
    [
        ("flat", "200", "dose", None, None, None, "200", "200", "200"),
        ("flat", "150", "day", 1, "70", "170", "150", "150", "150"),
        ("per_kg", "7.5", "dose", None, "60", None, "450", "450", "450"),
        ("per_kg", "7.5", "dose", None, "72.4", None, "543", "543", "543"),
        ("per_m2", "1250", "dose", 2, "80", "180", "2500", "5000", "2500"),
        ("per_m2", "400", "dose", None, "90", "160", "800", "800", "800"),
        ("per_m2", "1000", "day", 2, "80", "180", "2000", "2000", "1000"),
        ("per_m2", "1000", "day", None, "80", "180", "2000", "2000", None),
    ],
)
def test_the_planned_dose_is_the_amount_times_the_body_size_basis(
    basis, amount, dose_per, per_day, weight, height, dose, daily, one
):
    regimen = drug(basis, dose_amount=Decimal(amount), dose_per=dose_per, doses_per_day=per_day)
    measured = {"weight_kg": weight and Decimal(weight), "height_cm": height and Decimal(height)}
    assert dose_amount(regimen, **measured) == Decimal(dose)
    assert daily_amount(regimen, **measured) == Decimal(daily)
    planned = planned_dose(regimen=regimen, basis=basis_from(basis, **measured))
    assert (planned.amount, planned.per_day) == (Decimal(dose), Decimal(daily))
    assert planned.per_administration == (one and Decimal(one))


def test_seed_000_doses_on_a_180_cm_80_kg_subject():
    # BSA 2 m² exactly; bevacizumab 7.5 mg/kg; capecitabine 1250 mg/m2 twice a day.
    basis = per_m2("180", "80")
    cap = planned_dose(regimen=seed_regimen("000", "CAP"), basis=basis)
    assert (cap.per_administration, cap.per_day, cap.administrations_per_day) == (2500, 5000, 2)
    bev_basis = basis_from("per_kg", weight_kg=Decimal(80), measured_on=DAY)
    assert planned_dose(regimen=seed_regimen("000", "BEV"), basis=bev_basis).amount == 600
    assert planned_dose(regimen=seed_regimen("000", "CAM"), basis=FLAT_BASIS).amount == 200


def test_every_planned_dose_keeps_the_basis_it_used():
    basis = per_m2("170", "70", dt.date(2025, 1, 2))
    planned = planned_dose(regimen=seed_regimen("002", "CET_LOAD"), basis=basis)
    assert planned.basis == basis
    assert (basis.weight_kg, basis.height_cm, basis.measured_on) == (70, 170, dt.date(2025, 1, 2))
    assert planned.amount == 400 * basis.bsa_m2
    assert planned.amount.quantize(Decimal("0.1")) == Decimal("727.2")  # 400 × 1.8181 m²


@pytest.mark.parametrize(
    ("basis", "amount", "measured", "field", "message"),
    [
        ("per_kg", "7.5", {}, "weight_kg", "weight"),
        ("per_m2", "1250", {"weight_kg": Decimal(70)}, "height_cm", "height and weight"),
        ("per_m2", "1250", {"height_cm": Decimal(170)}, "weight_kg", "height and weight"),
        ("flat", None, {}, "dose_amount", "no dose"),
        ("per_kg", "7.5", {"weight_kg": Decimal(0)}, "weight_kg", "positive"),
    ],
)
def test_a_dose_without_what_it_needs_is_refused_naming_the_input(basis, amount, measured, field, message):
    regimen = drug(basis, dose_amount=amount and Decimal(amount))
    with pytest.raises(DosingError, match=message) as caught:
        dose_amount(regimen, **measured)
    assert caught.value.field == field


def test_a_basis_of_another_kind_is_refused():
    with pytest.raises(DosingError, match="per_kg dose cannot use a per_m2 basis"):
        planned_dose(regimen=drug("per_kg"), basis=per_m2("170", "70"))


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"dose_basis": "per_lb"}, "dose_basis"),
        ({"dose_per": "week"}, "dose_per"),
        ({"dose_role": "induction"}, "dose_role"),
        ({"dose_amount": Decimal(0)}, "dose_amount"),
        ({"doses_per_day": 0}, "doses_per_day"),
        ({"dosing_days": (0, 1)}, "dosing_days"),
        ({"dosing_days": (8, 1)}, "dosing_days"),
        ({"dosing_days": (1, 22), "cycle_length_days": 21}, "dosing_days"),
        ({"cycle_length_days": 0}, "cycle_length_days"),
    ],
)
def test_regimen_parameters_that_make_no_sense_are_refused_by_name(kwargs, field):
    values: dict[str, Any] = {"code": "X", "agent": "x", "dose_amount": Decimal(5), "dose_unit": "mg"}
    values.update(kwargs)
    with pytest.raises(DosingError) as caught:
        Regimen(**values)
    assert caught.value.field == field


doses = st.decimals(min_value=Decimal("0.5"), max_value=Decimal(2000), places=2)
sizes = st.decimals(min_value=Decimal(30), max_value=Decimal(220), places=1)


@settings(max_examples=150, deadline=None)
@given(
    amount=doses,
    basis=st.sampled_from(["flat", "per_kg", "per_m2"]),
    per=st.sampled_from(["dose", "day"]),
    per_day=st.none() | st.integers(1, 3),
    weight=sizes,
    height=sizes,
)
def test_the_module_gives_the_same_dose_as_the_study_model(amount, basis, per, per_day, weight, height):
    # Intervention.compute_dose/daily_dose is the logic the wiring switches over to this module.
    fields = {"dose_amount": amount, "dose_per": per, "doses_per_day": per_day}
    model = Intervention(agent="x", dose_unit="mg", dose_basis=basis, **fields)
    regimen = drug(basis, **fields)
    assert dose_amount(regimen, weight_kg=weight, height_cm=height) == model.compute_dose(
        weight_kg=weight, height_cm=height
    )
    assert daily_amount(regimen, weight_kg=weight, height_cm=height) == model.daily_dose(
        weight_kg=weight, height_cm=height
    )


# --------------------------------------------------------------------------- the basis rule


def weighed(kg: str, on: dt.date = DAY, height: str | None = None) -> Measurement:
    return Measurement(weight_kg=Decimal(kg), measured_on=on, height_cm=height and Decimal(height))


def kg_basis(kg: str, on: dt.date = dt.date(2025, 1, 1)) -> DoseBasis:
    return basis_from("per_kg", weight_kg=Decimal(kg), measured_on=on)


def test_the_first_dose_takes_its_basis_from_the_latest_weight():
    decision = choose_basis(regimen=drug("per_kg"), latest=weighed("70"), previous=None)
    assert decision.recomputed
    assert decision.basis == DoseBasis(kind="per_kg", weight_kg=Decimal(70), measured_on=DAY)
    # A previous basis of another kind (another agent's, a flat one) is no basis for this dose.
    again = choose_basis(regimen=drug("per_kg"), latest=weighed("70"), previous=FLAT_BASIS)
    assert again.recomputed and again.basis == decision.basis


@pytest.mark.parametrize(
    ("latest", "recomputed"),
    [
        ("63", True),  # −10 % exactly: "by at least the threshold" recomputes
        ("77", True),  # +10 % exactly
        ("63.007", False),  # −9.99 %
        ("76.993", False),  # +9.99 %
        ("62.9", True),
        ("70", False),
    ],
)
def test_a_weight_change_of_at_least_the_threshold_recomputes_and_less_keeps_the_basis(latest, recomputed):
    decision = choose_basis(regimen=drug("per_kg"), latest=weighed(latest), previous=kg_basis("70"))
    assert decision.recomputed is recomputed
    assert decision.basis.weight_kg == (Decimal(latest) if recomputed else 70)
    assert decision.weight_change_pct == (Decimal(latest) - 70) * 100 / 70


def test_the_threshold_is_the_studys_when_it_sets_one():
    previous = kg_basis("80")
    assert choose_basis(
        regimen=drug("per_kg"), latest=weighed("76"), previous=previous, threshold_pct=5
    ).recomputed
    assert not choose_basis(regimen=drug("per_kg"), latest=weighed("76"), previous=previous).recomputed


def test_the_reference_is_the_basis_in_use_so_slow_drifts_recompute_once_per_threshold():
    regimen, previous = drug("per_kg"), kg_basis("70")
    steps = [("65", False), ("63", True), ("58", False), ("56.7", True)]
    for day, (kg, recomputed) in enumerate(steps, start=1):
        decision = choose_basis(regimen=regimen, latest=weighed(kg, dt.date(2025, 2, day)), previous=previous)
        assert decision.recomputed is recomputed, kg
        previous = decision.basis
    assert previous.weight_kg == Decimal("56.7")


def test_a_per_m2_basis_recomputes_the_bsa_with_the_latest_height_or_else_the_basis_height():
    regimen, previous = seed_regimen("002", "CET_MAINT"), per_m2("180", "80")
    kept_height = choose_basis(regimen=regimen, latest=weighed("72"), previous=previous).basis
    assert (kept_height.height_cm, kept_height.bsa_m2) == (180, Decimal("3.6").sqrt())  # 180 × 72 / 3600
    new_height = choose_basis(regimen=regimen, latest=weighed("72", height="178"), previous=previous).basis
    assert new_height.height_cm == 178
    # Height alone never recomputes: the rule is about weight.
    same = choose_basis(regimen=regimen, latest=weighed("80", height="170"), previous=previous)
    assert not same.recomputed and same.basis == previous


def test_without_a_new_weight_or_with_an_older_one_the_basis_is_kept():
    previous = kg_basis("70", on=dt.date(2025, 3, 1))
    assert choose_basis(regimen=drug("per_kg"), latest=None, previous=previous).basis == previous
    older = choose_basis(regimen=drug("per_kg"), latest=weighed("50", dt.date(2025, 2, 1)), previous=previous)
    assert not older.recomputed and older.basis == previous
    assert "older than the basis" in older.reason


def test_a_flat_dose_has_no_basis_and_needs_no_weight():
    decision = choose_basis(regimen=seed_regimen("000", "CAM"), latest=None, previous=None)
    assert decision.basis == FLAT_BASIS and not decision.recomputed


@pytest.mark.parametrize(
    ("regimen", "latest", "field"),
    [
        (drug("per_kg"), None, "weight_kg"),
        (drug("per_m2"), Measurement(Decimal(70), DAY), "height_cm"),
    ],
)
def test_a_first_body_size_dose_without_the_measurement_is_refused_naming_it(regimen, latest, field):
    with pytest.raises(DosingError) as caught:
        choose_basis(regimen=regimen, latest=latest, previous=None)
    assert caught.value.field == field


@settings(max_examples=300, deadline=None)
@given(basis_kg=sizes, latest_kg=sizes, threshold=st.integers(0, 30))
def test_recomputation_happens_exactly_when_the_change_reaches_the_threshold(basis_kg, latest_kg, threshold):
    decision = choose_basis(
        regimen=drug("per_kg"),
        latest=weighed(str(latest_kg)),
        previous=kg_basis(str(basis_kg)),
        threshold_pct=threshold,
    )
    change = abs(Fraction(latest_kg) - Fraction(basis_kg)) / Fraction(basis_kg) * 100
    assert decision.recomputed is (change >= threshold)
    assert decision.basis.weight_kg == (latest_kg if change >= threshold else basis_kg)


# --------------------------------------------------------------------------- the overdose check


@pytest.mark.parametrize(
    ("given", "reason", "status"),
    [
        ("200", "", AS_PLANNED),
        ("150", "", BELOW_PLANNED),
        ("0", "", BELOW_PLANNED),
        ("210", "", ABOVE_WITHIN_LIMIT),
        ("220", "", ABOVE_WITHIN_LIMIT),  # exactly 10 % above is not "more than 10 %"
        ("220.01", "", NEEDS_CONFIRMATION),
        ("220.01", "   ", NEEDS_CONFIRMATION),  # blank is no reason
        ("300", "vial rounding agreed with the sponsor", CONFIRMED),
    ],
)
def test_a_dose_more_than_10_percent_above_the_planned_one_needs_confirmation_with_a_reason(
    given, reason, status
):
    check = check_given_dose(planned=Decimal(200), given=Decimal(given), reason=reason)
    assert check.status == status
    assert check.needs_confirmation is (status == NEEDS_CONFIRMATION)
    assert check.difference_pct == (Decimal(given) - 200) / 2


def test_the_overdose_message_names_the_doses_and_the_limit():
    check = check_given_dose(planned=Decimal(500), given=Decimal(600))
    assert check.message == "600 is +20 % above the planned 500, more than 10 %: confirm it with a reason"


@pytest.mark.parametrize(
    ("planned", "given", "field"), [("0", "10", "planned"), ("100", "-1", "given"), ("100", "x", "given")]
)
def test_a_dose_check_on_impossible_numbers_is_refused_naming_them(planned, given, field):
    with pytest.raises(DosingError) as caught:
        check_given_dose(planned=planned, given=given)
    assert caught.value.field == field


@settings(max_examples=300, deadline=None)
@given(planned=doses, given=st.decimals(min_value=0, max_value=Decimal(4000), places=2))
def test_confirmation_is_needed_exactly_above_110_percent(planned, given):
    check = check_given_dose(planned=planned, given=given)
    assert check.needs_confirmation is (Fraction(given) > Fraction(planned) * Fraction(11, 10))


# --------------------------------------------------------------------------- days of a cycle


def test_seed_000_capecitabine_is_given_14_days_then_stopped_7():
    cap = seed_regimen("000", "CAP")
    assert [d for d in range(1, 22) if is_dosing_day(cap, d)] == list(range(1, 15))
    assert days_off(cap) == tuple(range(15, 22))
    [schedule] = [s for agent, s in schedules([cap]).items() if agent == "capecitabine"]
    cycle_two = schedule.cycle_plan(2)
    assert [a.day for a in cycle_two] == list(range(1, 15))
    assert {a.administrations for a in cycle_two} == {2}  # twice a day
    assert [a.occurrence for a in cycle_two] == list(range(15, 29))


def test_seed_002_dalpiciclib_is_given_21_of_28_days():
    dalp = seed_regimen("002", "DALP")
    assert is_dosing_day(dalp, 21) and not is_dosing_day(dalp, 22) and not is_dosing_day(dalp, 28)
    assert days_off(dalp) == (22, 23, 24, 25, 26, 27, 28)
    with pytest.raises(DosingError, match="not a day of the 28-day cycle"):
        is_dosing_day(dalp, 29)


def test_seed_002_cetuximab_is_a_400_mg_m2_loading_dose_then_250_mg_m2_weekly():
    cetuximab = schedules([seed_regimen("002", code) for code in ("CET_LOAD", "CET_MAINT", "DALP")])[
        "cetuximab"
    ]
    first = cetuximab.cycle_plan(1)
    assert [(a.day, a.dose_role, a.occurrence) for a in first] == [
        (1, "loading", 1),
        (8, "maintenance", 2),
        (15, "maintenance", 3),
        (22, "maintenance", 4),
    ]
    assert [(a.day, a.regimen_code, a.occurrence) for a in cetuximab.cycle_plan(2)] == [
        (1, "CET_MAINT", 5),
        (8, "CET_MAINT", 6),
        (15, "CET_MAINT", 7),
        (22, "CET_MAINT", 8),
    ]
    basis = per_m2("180", "80")  # 2 m²
    amounts = [planned_dose(regimen=cetuximab.regimen_for(n), basis=basis).amount for n in (1, 2, 3, 9)]
    assert amounts == [800, 500, 500, 500]


def test_the_loading_dose_is_the_agents_first_dose_given_even_when_it_comes_late():
    # Role by occurrence, not by date: a first infusion delayed to day 3 is still the loading dose.
    cetuximab = AgentSchedule.of([seed_regimen("002", "CET_MAINT"), seed_regimen("002", "CET_LOAD")])
    assert cetuximab.regimen_for(1).dose_role == "loading"
    assert cetuximab.regimen_for(2).dose_role == "maintenance"
    with pytest.raises(DosingError, match="occurrence 1"):
        cetuximab.regimen_for(0)


def test_agents_of_one_phase_get_one_schedule_each_without_a_loading_dose_when_none_is_defined():
    combo = [as_regimen(i) for i in interventions("000") if i["phase"] == "COMBO"]
    found = schedules(combo)
    assert list(found) == ["camrelizumab", "bevacizumab", "capecitabine"]
    assert all(s.loading is None and s.regimen_for(1) == s.main for s in found.values())
    assert [a.day for a in found["camrelizumab"].cycle_plan(3)] == [1]


def test_a_one_off_regimen_without_a_cycle_is_planned_in_the_first_cycle_only():
    once = AgentSchedule.of([drug("flat", dose_role="single", dosing_days=(1,))])
    assert [a.day for a in once.cycle_plan(1)] == [1]
    assert once.cycle_plan(2) == ()


@pytest.mark.parametrize(
    ("regimens", "message"),
    [
        ([], "at least one regimen"),
        ([drug(agent="a"), drug(agent="b")], "more than one agent"),
        ([drug(code="A"), drug(code="B")], "exactly one regimen besides the loading one"),
        ([drug(dose_role="loading", code="L")], "exactly one regimen besides the loading one"),
        (
            [drug(dose_role="loading", code="L1"), drug(dose_role="loading", code="L2"), drug()],
            "more than one loading regimen",
        ),
        (
            [drug(dose_role="loading", code="L", cycle_length_days=21, dosing_days=(1,)), drug()],
            "given once, not per cycle",
        ),
        (
            [
                drug(dose_role="loading", code="L", dosing_days=(8,)),
                drug(dosing_days=(1, 8), cycle_length_days=14),
            ],
            "must come first in cycle 1",
        ),
    ],
)
def test_an_agent_schedule_that_is_ambiguous_is_refused(regimens, message):
    with pytest.raises(DosingError, match=message):
        AgentSchedule.of(regimens)


@pytest.mark.parametrize(
    ("on", "day"), [(dt.date(2025, 3, 3), 1), (dt.date(2025, 3, 16), 14), (dt.date(2025, 3, 23), 21)]
)
def test_the_day_of_a_cycle_counts_the_cycles_first_day_as_day_1(on, day):
    assert cycle_day(cycle_start=dt.date(2025, 3, 3), on=on, cycle_length_days=21) == day


@pytest.mark.parametrize("on", [dt.date(2025, 3, 2), dt.date(2025, 3, 24)])
def test_a_date_outside_the_cycle_has_no_day_of_it(on):
    with pytest.raises(DosingError):
        cycle_day(cycle_start=dt.date(2025, 3, 3), on=on, cycle_length_days=21)
