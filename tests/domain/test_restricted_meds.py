"""Restricted medications (edc/core/restricted_meds.py): each seed's rule flags at and around its time
boundary (day N in, day N + 1 out), attributed to its seed, with partial dates read as ranges.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from edc.core import within
from edc.core.partial_dates import PartialDate
from edc.core.restricted_meds import (
    BEFORE_FIRST_DOSE,
    ON_TRIAL,
    RULES,
    Category,
    Medication,
    RestrictedMedRule,
    evaluate,
    evaluate_medication,
    medication_from_cm,
    rules_for_seed,
)
from edc.eligibility import eligibility
from edc.eligibility.eligibility import Criterion, Patient

ROOT = Path(__file__).resolve().parents[2]
FIRST = dt.date(2025, 3, 15)
RULE = {rule.code: rule for rule in RULES}


def study(seed_file: str) -> dict:
    return yaml.safe_load((ROOT / "fixtures/studies" / seed_file).read_text(encoding="utf-8"))


def taken(category: Category, last_day: dt.date, *, first_day: dt.date | None = None, **kwargs) -> Medication:
    """A medication taken from first_day (default: last_day) to last_day."""
    start = PartialDate.parse(first_day or last_day)
    return Medication(
        name="drug", categories=frozenset({category}), start=start, stop=PartialDate.parse(last_day), **kwargs
    )


def days_before(n: int) -> dt.date:
    return FIRST - dt.timedelta(days=n)


def flags(medication: Medication, rule: RestrictedMedRule, **kwargs):
    return evaluate_medication(medication, rules=[rule], first_dose=FIRST, **kwargs)


# --------------------------------------------------------------------------- the rules as data


def test_each_rule_quotes_its_seed_verbatim_and_names_its_criterion():
    for rule in RULES:
        record = (ROOT / rule.seed).read_text(encoding="utf-8")
        assert rule.quote in record, rule.code
        kind, number = rule.criterion.split()
        [criterion] = [
            c
            for seed_file in (ROOT / "fixtures/studies").glob(f"{rule.seed_number}_*.yaml")
            for c in study(seed_file.name)["criteria"]
            if (c["kind"], c["number"]) == (kind, number)
        ]
        assert criterion["text"] == rule.quote, rule.code


def test_the_rules_are_those_issue_19_names_with_their_windows():
    assert {(r.code, r.category, r.window_days, r.any_time_on_trial) for r in RULES} == {
        ("002-E3", Category.INVESTIGATIONAL_DRUG, 28, False),
        ("002-E4", Category.HAEMATOPOIETIC_GROWTH_FACTOR, 7, False),
        ("004-E3", Category.INVESTIGATIONAL_DRUG, 28, False),
        ("004-E10", Category.LIVE_VACCINE, 28, True),
        ("004-E14", Category.SYSTEMIC_IMMUNOSUPPRESSANT, 14, False),
    }


def test_a_studys_rules_are_found_by_its_seed():
    seed = study("004_cam_crt_hnscc.yaml")["study"]["seed"]
    assert [r.code for r in rules_for_seed(seed)] == ["004-E3", "004-E10", "004-E14"]
    assert [r.code for r in rules_for_seed("002_24b7f1f18ab1b4b9.txt")] == ["002-E3", "002-E4"]
    assert rules_for_seed(study("000_cam_bev_cap_hnscc.yaml")["study"]["seed"]) == ()


def test_the_restricted_medication_rules_read_within_as_the_eligibility_engine_does():
    assert eligibility.is_within is within.is_within


# --------------------------------------------------------------------------- at and around each boundary

BOUNDARIES = [
    pytest.param(
        "002-E3", Category.INVESTIGATIONAL_DRUG, 28, id="002 E3: another trial's drug within 4 weeks"
    ),
    pytest.param(
        "002-E4", Category.HAEMATOPOIETIC_GROWTH_FACTOR, 7, id="002 E4: growth factor within 1 week"
    ),
    pytest.param("004-E3", Category.INVESTIGATIONAL_DRUG, 28, id="004 E3: research drug within 4 weeks"),
    pytest.param("004-E10", Category.LIVE_VACCINE, 28, id="004 E10: live vaccine within 4 weeks"),
    pytest.param(
        "004-E14", Category.SYSTEMIC_IMMUNOSUPPRESSANT, 14, id="004 E14: immunosuppressant within 14 days"
    ),
]


@pytest.mark.parametrize(("code", "category", "n"), BOUNDARIES)
def test_each_rule_flags_on_day_n_and_not_on_day_n_plus_one(code, category, n):
    rule = RULE[code]
    [flag] = flags(taken(category, days_before(n)), rule)
    assert (flag.rule, flag.seed, flag.windows, flag.certain) == (code, rule.seed, (BEFORE_FIRST_DOSE,), True)
    assert flags(taken(category, days_before(n - 1)), rule)
    assert flags(taken(category, days_before(n + 1)), rule) == ()


# The criteria with a checkable rule (002 E3 and 004 E3 are the investigator's: rule null).
CHECKABLE = [b for b in BOUNDARIES if b.values[0] in ("002-E4", "004-E10", "004-E14")]


@pytest.mark.parametrize(("code", "category", "n"), CHECKABLE)
def test_each_rule_agrees_with_its_eligibility_criterion_at_the_boundary(code, category, n):
    # The study files' exclusion rules give the same answer for the same date.
    rule = RULE[code]
    seed_file = next((ROOT / "fixtures/studies").glob(f"{rule.seed_number}_*.yaml")).name
    number = rule.criterion.split()[1]
    [criterion] = [
        c for c in study(seed_file)["criteria"] if (c["kind"], c["number"]) == ("exclusion", number)
    ]
    event = {
        Category.HAEMATOPOIETIC_GROWTH_FACTOR: "last_growth_factor",
        Category.LIVE_VACCINE: "last_live_vaccine",
        Category.SYSTEMIC_IMMUNOSUPPRESSANT: "last_immunosuppressant",
    }[category]
    for day in (n - 1, n, n + 1):
        patient = Patient(dates={event: days_before(day)}, confirmations={f"E{number}": "met"})
        verdict = eligibility.evaluate(
            [Criterion("exclusion", number, "", criterion["rule"])], patient, FIRST
        )
        excluded = verdict.criteria[0].status == "met"
        assert excluded is bool(flags(taken(category, days_before(day)), rule)), (code, day)


@pytest.mark.parametrize(("code", "category", "n"), BOUNDARIES)
def test_a_medication_still_taken_at_the_first_dose_is_within_however_long_ago_it_started(code, category, n):
    ongoing = Medication(
        "drug", frozenset({category}), start=PartialDate.parse(days_before(400)), ongoing=True
    )
    [flag] = flags(ongoing, RULE[code])
    assert flag.certain and BEFORE_FIRST_DOSE in flag.windows
    stopped_on_the_day = taken(category, FIRST, first_day=days_before(400))
    assert flags(stopped_on_the_day, RULE[code])


@pytest.mark.parametrize(
    ("code", "category", "n"), [b.values for b in BOUNDARIES if b.values[0] != "004-E10"]
)
def test_a_medication_started_after_the_first_dose_is_not_restricted_by_a_before_rule(code, category, n):
    assert (
        flags(
            taken(category, FIRST + dt.timedelta(days=2), first_day=FIRST + dt.timedelta(days=1)), RULE[code]
        )
        == ()
    )


def test_a_medication_of_another_category_is_not_flagged():
    assert flags(taken(Category.LIVE_VACCINE, days_before(3)), RULE["002-E4"]) == ()


# --------------------------------------------------------------------------- seed 004 live vaccines on trial


def test_a_live_vaccine_at_any_time_on_trial_is_flagged_by_seed_004():
    rule = RULE["004-E10"]
    [on_trial] = flags(taken(Category.LIVE_VACCINE, FIRST + dt.timedelta(days=200)), rule)
    assert (on_trial.windows, on_trial.certain) == ((ON_TRIAL,), True)
    assert on_trial.message == (
        "drug (live or live-attenuated vaccine, 2025-10-01 to 2025-10-01) taken on trial: "
        "seed 004, exclusion 10"
    )
    [on_the_day] = flags(taken(Category.LIVE_VACCINE, FIRST), rule)
    assert on_the_day.windows == (BEFORE_FIRST_DOSE, ON_TRIAL)


def test_after_the_subjects_time_on_trial_a_live_vaccine_is_not_flagged():
    rule, off_study = RULE["004-E10"], dt.date(2025, 9, 1)
    assert flags(taken(Category.LIVE_VACCINE, off_study), rule, on_trial_until=off_study)
    assert (
        flags(taken(Category.LIVE_VACCINE, off_study + dt.timedelta(days=1)), rule, on_trial_until=off_study)
        == ()
    )


def test_the_vaccine_window_counts_from_camrelizumabs_first_dose_when_given():
    rule, camrelizumab = RULE["004-E10"], FIRST + dt.timedelta(days=10)
    vaccine = taken(Category.LIVE_VACCINE, days_before(20))  # 30 days before camrelizumab's first dose
    assert flags(vaccine, rule)  # 20 days before the study's first dose
    assert flags(vaccine, rule, agent_first_doses={"camrelizumab": camrelizumab}) == ()
    assert flags(
        taken(Category.LIVE_VACCINE, days_before(18)), rule, agent_first_doses={"camrelizumab": camrelizumab}
    )


# --------------------------------------------------------------------------- seed 004 corticosteroids


@pytest.mark.parametrize(
    ("route", "physiological", "flagged"),
    [
        ("PO", False, True),
        ("IV", False, True),
        ("INH", False, False),
        ("nasal", False, False),
        ("PO", True, False),
    ],
)
def test_nasal_inhaled_and_physiological_corticosteroids_are_not_systemic_immunosuppressants(
    route, physiological, flagged
):
    steroid = taken(
        Category.SYSTEMIC_IMMUNOSUPPRESSANT,
        days_before(3),
        route=route,
        corticosteroid=True,
        physiological_dose=physiological,
    )
    assert bool(flags(steroid, RULE["004-E14"])) is flagged


def test_an_inhaled_drug_that_is_not_a_corticosteroid_is_not_exempt():
    inhaled = taken(Category.SYSTEMIC_IMMUNOSUPPRESSANT, days_before(3), route="INH")
    assert flags(inhaled, RULE["004-E14"])


# --------------------------------------------------------------------------- partial dates


def partial(category: Category, start: str | None, stop: str | None, ongoing: bool = False) -> Medication:
    return Medication(
        "drug",
        frozenset({category}),
        start=start and PartialDate.parse(start),
        stop=stop and PartialDate.parse(stop),
        ongoing=ongoing,
    )


@pytest.mark.parametrize(
    ("start", "stop", "result"),
    [
        ("2025-02", "2025-03", "certain"),  # stopped in March, before or after 1 March: within 14 days
        ("2025-01", "2025-02", None),  # stopped in February: 15 days before at the latest
        ("2025-01", "2025-01", None),  # stopped in January: at least 42 days before
        ("2024", "2025", "possible"),
        ("2025-02-20", None, "possible"),  # neither stopped nor said to be ongoing
        (None, "2025-03-10", "certain"),  # start unknown, stopped 5 days before
        ("2025-03", "2025-03", "possible"),  # started in March: perhaps after the first dose
        ("2025-04", None, None),  # started after the first dose
    ],
)
def test_a_partial_date_flags_for_certain_only_when_every_reading_is_within(start, stop, result):
    found = flags(partial(Category.SYSTEMIC_IMMUNOSUPPRESSANT, start, stop), RULE["004-E14"])
    assert (("certain" if found[0].certain else "possible") if found else None) == result
    if result == "possible":
        assert "may have been taken (partial or missing date)" in found[0].message


def test_the_cm_forms_codes_make_medications_for_the_rules():
    steroid = medication_from_cm(
        name="prednisone", category="STEROID_PHYS", start="2025-03-10", route="PO", ongoing=True
    )
    budesonide = medication_from_cm(
        name="budesonide", category="STEROID_PHYS", start="2025-03", route="INH", ongoing=True
    )
    tacrolimus = medication_from_cm(
        name="tacrolimus", category="IMMUNOSUPP", start="2025-03-01", stop="2025-03-05", route="PO"
    )
    premed = medication_from_cm(name="dexchlorpheniramine", category="PREMED", start="2025-03-14")
    found = evaluate(
        [steroid, budesonide, tacrolimus, premed],
        rules=rules_for_seed(RULE["004-E14"].seed),
        first_dose=FIRST,
    )
    assert [(f.medication, f.rule) for f in found] == [("tacrolimus", "004-E14")]
    assert found[0].message == (
        "tacrolimus (systemic immunosuppressant, 2025-03-01 to 2025-03-05) taken within 14 days before the "
        "first dose of study drug: seed 004, exclusion 14"
    )


@settings(max_examples=300, deadline=None)
@given(
    code=st.sampled_from(sorted(RULE)),
    start_back=st.integers(-30, 120),
    length=st.integers(0, 60),
)
def test_a_complete_course_is_flagged_exactly_when_it_overlaps_the_inclusive_window(code, start_back, length):
    rule = RULE[code]
    first_day = days_before(start_back)
    last_day = first_day + dt.timedelta(days=length)
    found = flags(taken(rule.category, last_day, first_day=first_day), rule)
    before = first_day <= FIRST and (FIRST - last_day).days <= rule.window_days
    on_trial = rule.any_time_on_trial and last_day >= FIRST
    assert bool(found) is (before or on_trial)
    assert all(f.certain for f in found)  # complete dates are never only "possible"
