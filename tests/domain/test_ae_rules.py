"""Adverse event rules (edc/safety/ae_rules.py) on the vendored CTCAE v5.0 term list and the study files.

Grade texts come from NCI's clean copy (edc/safety/data/ctcae/), collection periods from the study
files' ae_collection, so the rules are tested on the terms and periods the product uses.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from edc.safety.ae_rules import (
    ACCEPTED,
    AFTER_PERIOD,
    BASELINE,
    MEDICAL_HISTORY,
    ON_TREATMENT,
    PRE_TREATMENT,
    REFUSED,
    AeRecord,
    AeTerm,
    Attribution,
    CollectionPeriod,
    GradeEntry,
    assess_susar,
    classify_collection,
    is_related,
    period_end,
    propose_from_lab,
    treatment_emergence,
    validate_ae,
    validate_attributions,
    validate_grade_history,
    worst_grade,
)
from edc.safety.ctcae import TermText, parse_ctcae_csv

ROOT = Path(__file__).resolve().parents[2]
D = dt.date


@cache
def ctcae() -> dict[str, TermText]:
    text = (ROOT / "edc/safety/data/ctcae/CTCAE_v5.0_clean_copy.csv").read_text(encoding="utf-8")
    return {t.term: t for t in parse_ctcae_csv(text)}


def term(name: str) -> AeTerm:
    return AeTerm.of(ctcae()[name])


def period(seed_file: str) -> CollectionPeriod:
    data = yaml.safe_load((ROOT / "fixtures/studies" / seed_file).read_text(encoding="utf-8"))
    block = data["study"]["ae_collection"]
    return CollectionPeriod(
        start=block["start"],
        sae_start=block["sae_start"],
        end_days_after_last_dose=block["end_days_after_last_dose"],
        irae_end_days_after_last_dose=block.get("irae_end_days_after_last_dose"),
    )


def record(name: str = "Nausea", grade: int = 2, **kwargs: object) -> AeRecord:
    return AeRecord(term=term(name), grade=grade, onset=D(2025, 3, 10), **kwargs)  # type: ignore[arg-type]


def errors(ae: AeRecord, today: dt.date | None = None) -> list[tuple[str, str]]:
    return [(e.field, e.code) for e in validate_ae(ae, today=today)]


FATAL = {"outcome": "fatal", "serious": True, "seriousness": frozenset({"death"})}


# --------------------------------------------------------------------------- grades of a term


def test_grade_5_does_not_exist_for_neutrophil_count_decreased_and_the_message_names_the_valid_grades():
    [error] = validate_ae(record("Neutrophil count decreased", 5, death_date=D(2025, 3, 12), **FATAL))
    assert (error.field, error.code) == ("grade", "grade_not_available")
    assert error.message == "grade 5 does not exist for Neutrophil count decreased; valid grades: 1, 2, 3, 4"


@pytest.mark.parametrize("grade", [1, 2])
def test_grades_1_and_2_do_not_exist_for_febrile_neutropenia(grade):
    [error] = validate_ae(
        record("Febrile neutropenia", grade, serious=True, seriousness=frozenset({"hospitalisation"}))
    )
    assert error.message == f"grade {grade} does not exist for Febrile neutropenia; valid grades: 3, 4, 5"


@pytest.mark.parametrize("grade", [0, 6, -1, True, "3"])
def test_a_grade_outside_1_to_5_is_refused(grade):
    assert ("grade", "grade_range") in errors(record(grade=grade))


def test_every_terms_valid_grades_are_the_grades_whose_cell_is_not_a_dash():
    for text in ctcae().values():
        assert AeTerm.of(text).valid_grades == text.allowed_grades(), text.term
    assert AeTerm("x", (" -", "Moderate", "-", "", None)).valid_grades == (2,)


@settings(max_examples=200, deadline=None)
@given(name=st.sampled_from(sorted(ctcae())), grade=st.integers(1, 4))
def test_a_grade_is_refused_exactly_when_the_terms_cell_for_it_is_a_dash(name, grade):
    refused = ("grade", "grade_not_available") in errors(record(name, grade, verbatim="as reported"))
    assert refused is (ctcae()[name].grade_text(grade) is None)


def test_an_other_specify_term_needs_the_verbatim_name_of_the_event():
    name = "Cardiac disorders - Other, specify"
    assert ("verbatim", "verbatim_required") in errors(record(name))
    assert ("verbatim", "verbatim_required") in errors(record(name, verbatim="   "))
    assert errors(record(name, verbatim="Takotsubo syndrome")) == []
    assert sum(AeTerm.of(t).other_specify for t in ctcae().values()) == 26  # one per SOC (C1)


# --------------------------------------------------------------------------- seriousness and grade 5


def test_a_serious_ae_needs_a_criterion_and_a_criterion_makes_it_serious():
    assert errors(record(serious=True)) == [("seriousness", "criterion_required")]
    assert errors(record(seriousness=frozenset({"hospitalisation"}))) == [
        ("serious", "criteria_without_serious")
    ]
    assert errors(record(serious=True, seriousness=frozenset({"hospitalisation"}))) == []
    assert errors(record(serious=True, seriousness=frozenset({"bad_luck"}))) == [
        ("seriousness", "unknown_criterion")
    ]


def test_every_ich_e2a_criterion_makes_an_ae_serious():
    for criterion in (
        "life_threatening",
        "hospitalisation",
        "disability",
        "congenital_anomaly",
        "important_medical_event",
    ):
        assert errors(record(serious=True, seriousness=frozenset({criterion}))) == [], criterion


def test_a_grade_5_ae_whose_outcome_is_not_fatal_is_refused():
    ae = record(
        "Sepsis",
        5,
        outcome="recovered",
        resolution=D(2025, 3, 20),
        serious=True,
        seriousness=frozenset({"death"}),
        death_date=D(2025, 3, 20),
    )
    assert ("outcome", "grade5_not_fatal") in errors(ae)


def test_a_fatal_outcome_is_grade_5():
    ae = record("Sepsis", 4, death_date=None, **FATAL)
    assert ("grade", "fatal_not_grade5") in errors(ae)


def test_a_fatal_ae_is_serious_with_the_criterion_death_and_death_means_fatal():
    ae = record(
        "Sepsis",
        5,
        outcome="fatal",
        death_date=D(2025, 3, 14),
        serious=True,
        seriousness=frozenset({"hospitalisation"}),
    )
    assert errors(ae) == [("seriousness", "death_criterion_required")]
    alive = record("Sepsis", 4, serious=True, seriousness=frozenset({"death"}), outcome="recovering")
    assert errors(alive) == [("seriousness", "death_without_fatal_outcome")]


def test_a_grade_5_aes_date_is_the_date_of_death_on_or_after_onset():
    assert errors(record("Sepsis", 5, death_date=D(2025, 3, 10), **FATAL)) == []  # on the onset day
    assert errors(record("Sepsis", 5, **FATAL)) == [("death_date", "death_date_required")]
    assert errors(record("Sepsis", 5, death_date=D(2025, 3, 9), **FATAL)) == [
        ("death_date", "death_before_onset")
    ]
    wrong_end = record("Sepsis", 5, death_date=D(2025, 3, 14), resolution=D(2025, 3, 13), **FATAL)
    assert errors(wrong_end) == [("resolution", "grade5_end_is_death")]
    assert errors(record("Sepsis", 5, death_date=D(2025, 3, 14), resolution=D(2025, 3, 14), **FATAL)) == []


def test_only_a_grade_5_ae_has_a_date_of_death():
    assert errors(record(grade=3, death_date=D(2025, 3, 14))) == [("death_date", "death_date_not_grade5")]


# --------------------------------------------------------------------------- dates and outcome


def test_resolution_before_onset_is_refused_and_on_the_same_day_accepted():
    assert errors(record(resolution=D(2025, 3, 9), outcome="recovered")) == [
        ("resolution", "resolution_before_onset")
    ]
    assert errors(record(resolution=D(2025, 3, 10), outcome="recovered")) == []


@pytest.mark.parametrize(
    ("outcome", "resolution", "error"),
    [
        ("recovered", None, ("resolution", "resolution_required")),
        ("recovered_with_sequelae", None, ("resolution", "resolution_required")),
        ("recovering", D(2025, 3, 20), ("resolution", "resolution_while_ongoing")),
        ("not_recovered", D(2025, 3, 20), ("resolution", "resolution_while_ongoing")),
        ("better", None, ("outcome", "invalid_choice")),
    ],
)
def test_the_outcome_and_the_resolution_date_agree(outcome, resolution, error):
    assert errors(record(outcome=outcome, resolution=resolution)) == [error]


@pytest.mark.parametrize("outcome", ["unknown", "", "not_recovered", "recovering"])
def test_an_ongoing_or_unknown_outcome_needs_no_resolution_date(outcome):
    assert errors(record(outcome=outcome)) == []


def test_dates_after_today_are_refused_when_today_is_given():
    ae = record(resolution=D(2025, 3, 12), outcome="recovered")
    assert errors(ae, today=D(2025, 3, 11)) == [("resolution", "in_future")]
    assert errors(ae, today=D(2025, 3, 12)) == []


def test_every_contradiction_of_a_record_is_reported_at_once():
    ae = record("Cardiac disorders - Other, specify", 5, outcome="recovered", resolution=D(2025, 3, 1))
    assert {field for field, _ in errors(ae)} == {
        "verbatim",
        "outcome",
        "seriousness",
        "resolution",
        "death_date",
    }


# --------------------------------------------------------------------------- collection period

SEED_000 = period("000_cam_bev_cap_hnscc.yaml")  # first dose to last + 30; SAEs from consent; irAEs + 90
SEED_002 = period("002_cet_dalp_hnscc.yaml")  # no irAE window
CONSENT, FIRST, LAST = D(2025, 1, 6), D(2025, 1, 20), D(2025, 6, 2)


def collect(
    onset: dt.date,
    *,
    serious: bool = False,
    immune: bool = False,
    study: CollectionPeriod = SEED_000,
    last: dt.date | None = LAST,
    first: dt.date | None = FIRST,
):
    return classify_collection(
        onset=onset,
        serious=serious,
        consent=CONSENT,
        first_dose=first,
        last_dose=last,
        period=study,
        immune_related=immune,
    )


def test_onset_before_consent_is_medical_history_and_refused_with_that_message():
    result = collect(D(2025, 1, 5), serious=True)
    assert (result.status, result.category) == (REFUSED, MEDICAL_HISTORY)
    assert result.message == (
        "onset 2025-01-05 is before informed consent (2025-01-06): record it as medical history, "
        "not as an adverse event"
    )


def test_between_consent_and_first_dose_serious_aes_are_collected_from_consent_and_others_are_baseline():
    assert (collect(CONSENT, serious=True).status, collect(CONSENT, serious=True).category) == (
        ACCEPTED,
        PRE_TREATMENT,
    )
    day_before = collect(FIRST - dt.timedelta(days=1))
    assert (day_before.status, day_before.category) == (REFUSED, BASELINE)
    assert "record it as a baseline sign or symptom" in day_before.message


def test_a_study_collecting_from_consent_collects_every_pre_treatment_ae():
    from_consent = CollectionPeriod(start="consent", sae_start="consent", end_days_after_last_dose=30)
    assert collect(CONSENT, study=from_consent).category == PRE_TREATMENT
    sae_from_dose = CollectionPeriod(start="first_dose", sae_start="first_dose", end_days_after_last_dose=30)
    assert collect(CONSENT, serious=True, study=sae_from_dose).status == REFUSED


def test_before_any_dose_an_ae_is_pre_treatment():
    assert collect(D(2025, 3, 1), serious=True, first=None, last=None).category == PRE_TREATMENT


@pytest.mark.parametrize(
    ("onset", "immune", "category"),
    [
        (FIRST, False, ON_TREATMENT),  # the day of the first dose is on treatment
        (LAST + dt.timedelta(days=30), False, ON_TREATMENT),  # "30 days after the last dose": day 30 in
        (LAST + dt.timedelta(days=31), False, AFTER_PERIOD),
        (LAST + dt.timedelta(days=31), True, ON_TREATMENT),
        (LAST + dt.timedelta(days=90), True, ON_TREATMENT),
        (LAST + dt.timedelta(days=91), True, AFTER_PERIOD),
    ],
)
def test_seed_000_collects_to_30_days_after_the_last_dose_and_immune_related_aes_to_90(
    onset, immune, category
):
    result = collect(onset, immune=immune)
    assert (result.status, result.category, result.flagged) == (ACCEPTED, category, category == AFTER_PERIOD)


def test_after_the_period_an_ae_is_accepted_with_a_flag_naming_the_end():
    result = collect(LAST + dt.timedelta(days=91), immune=True)
    assert result.period_end == D(2025, 8, 31)
    assert result.message == (
        "onset 2025-09-01 is after the collection period for immune-related AEs (to 2025-08-31): "
        "accepted and flagged"
    )


def test_a_study_without_an_immune_related_window_ends_every_ae_at_30_days():
    assert collect(LAST + dt.timedelta(days=31), immune=True, study=SEED_002).category == AFTER_PERIOD


def test_while_on_treatment_the_period_has_not_ended():
    assert collect(D(2027, 1, 1), last=None).category == ON_TREATMENT
    assert period_end(last_dose=None, period=SEED_000) is None


# --------------------------------------------------------------------------- grade history


def test_the_worst_grade_is_the_highest_at_the_first_date_it_was_reached():
    history = [
        GradeEntry(D(2025, 3, 20), 3),
        GradeEntry(D(2025, 3, 10), 1),
        GradeEntry(D(2025, 4, 1), 3),
        GradeEntry(D(2025, 3, 25), 2),
    ]
    assert worst_grade(history) == GradeEntry(D(2025, 3, 20), 3)
    assert worst_grade([]) is None


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.dates(D(2025, 1, 1), D(2025, 12, 31)), st.integers(1, 5)),
        min_size=1,
        unique_by=lambda x: x[0],
    )
)
def test_the_worst_grade_is_the_maximum_of_the_history(entries):
    history = [GradeEntry(on, grade) for on, grade in entries]
    worst = worst_grade(history)
    assert worst is not None
    assert worst.grade == max(g for _, g in entries)
    assert worst.on == min(on for on, g in entries if g == worst.grade)


def test_a_grade_history_is_checked_entry_by_entry():
    neutropenia = term("Neutrophil count decreased")
    history = [GradeEntry(D(2025, 3, 10), 2), GradeEntry(D(2025, 3, 9), 5), GradeEntry(D(2025, 3, 10), 3)]
    found = {(e.field, e.code) for e in validate_grade_history(neutropenia, history, onset=D(2025, 3, 10))}
    assert found == {
        ("grades[1].grade", "grade_not_available"),
        ("grades[1].on", "before_onset"),
        ("grades[2].on", "duplicate_date"),
        ("grades", "first_grade_not_at_onset"),
    }
    assert validate_grade_history(neutropenia, history[:1], onset=D(2025, 3, 10)) == ()


# --------------------------------------------------------------------------- attribution and SUSAR

SEED_000_AGENTS = ("camrelizumab", "bevacizumab", "capecitabine")


def test_a_serious_related_unexpected_event_is_a_susar():
    found = assess_susar(
        serious=True,
        attributions=[
            Attribution("camrelizumab", "probable", expected=False),
            Attribution("bevacizumab", "unlikely", expected=False),
            Attribution("capecitabine", "possible", expected=True),
        ],
    )
    assert (found.susar, found.agents, found.pending) == (True, ("camrelizumab",), ())


@pytest.mark.parametrize(
    ("serious", "relatedness", "expected", "susar"),
    [
        (True, "possible", False, True),
        (True, "definite", False, True),
        (True, "unlikely", False, False),  # "unlikely" is not related (C3)
        (True, "unrelated", False, False),
        (True, "probable", True, False),  # expected: a serious adverse reaction, not a SUSAR
        (False, "definite", False, False),  # not serious
        (True, "probable", None, False),  # expectedness not assessed yet
    ],
)
def test_susar_needs_serious_related_and_unexpected(serious, relatedness, expected, susar):
    assert (
        assess_susar(serious=serious, attributions=[Attribution("cetuximab", relatedness, expected)]).susar
        is susar
    )


def test_a_related_agent_without_an_expectedness_assessment_is_pending():
    found = assess_susar(serious=True, attributions=[Attribution("cetuximab", "possible")])
    assert (found.susar, found.related, found.pending) == (False, True, ("cetuximab",))


def test_related_means_possible_probable_or_definite():
    assert [is_related(r) for r in ("unrelated", "unlikely", "possible", "probable", "definite")] == [
        False,
        False,
        True,
        True,
        True,
    ]


def test_seed_000s_ae_is_attributed_once_to_each_of_its_three_drugs():
    complete = [Attribution(agent, "unlikely") for agent in SEED_000_AGENTS]
    assert validate_attributions(complete, received=SEED_000_AGENTS) == ()
    found = {
        (e.field, e.code)
        for e in validate_attributions(
            [
                Attribution("camrelizumab", "possible"),
                Attribution("camrelizumab", "unlikely"),
                Attribution("cisplatin", "possible"),
                Attribution("bevacizumab", "likely"),
            ],
            received=SEED_000_AGENTS,
        )
    }
    assert found == {
        ("attributions[1].agent", "duplicate_agent"),
        ("attributions[2].agent", "agent_not_received"),
        ("attributions[3].relatedness", "invalid_choice"),
        ("attributions", "attribution_missing"),
    }


# --------------------------------------------------------------------------- treatment-emergent


def test_an_ae_appearing_after_the_first_dose_is_treatment_emergent():
    found = treatment_emergence(history=[GradeEntry(FIRST, 1)], first_dose=FIRST, baseline_grade=None)
    assert (found.emergent, found.since) == (True, FIRST)


def test_a_baseline_condition_that_does_not_worsen_is_not_treatment_emergent():
    history = [GradeEntry(D(2025, 2, 1), 1), GradeEntry(D(2025, 3, 1), 1)]
    found = treatment_emergence(history=history, first_dose=FIRST, baseline_grade=1)
    assert (found.emergent, found.baseline_grade) == (False, 1)


def test_a_baseline_condition_that_worsens_in_grade_after_the_first_dose_is_treatment_emergent_from_then():
    history = [GradeEntry(D(2025, 2, 1), 1), GradeEntry(D(2025, 3, 1), 2)]
    found = treatment_emergence(history=history, first_dose=FIRST, baseline_grade=1)
    assert (found.emergent, found.since) == (True, D(2025, 3, 1))
    assert found.reason == "worsened to grade 2 on 2025-03-01, above the baseline grade 1"


def test_an_aes_own_grade_before_the_first_dose_is_its_baseline():
    history = [GradeEntry(D(2025, 1, 10), 2), GradeEntry(D(2025, 2, 1), 2), GradeEntry(D(2025, 3, 1), 3)]
    found = treatment_emergence(history=history, first_dose=FIRST, baseline_grade=None)
    assert (found.emergent, found.since, found.baseline_grade) == (True, D(2025, 3, 1), 2)
    assert not treatment_emergence(history=history[:2], first_dose=FIRST, baseline_grade=None).emergent


def test_nothing_is_treatment_emergent_before_a_dose():
    assert not treatment_emergence(
        history=[GradeEntry(D(2025, 1, 10), 3)], first_dose=None, baseline_grade=0
    ).emergent


# --------------------------------------------------------------------------- AEs proposed from lab grades


def test_a_grade_3_lab_value_from_a_grade_0_baseline_proposes_the_ae():
    proposal = propose_from_lab(term="Neutrophil count decreased", lab_grade=3, baseline_grade=0, test="NEUT")
    assert proposal is not None
    assert (proposal.term, proposal.grade, proposal.baseline_grade) == ("Neutrophil count decreased", 3, 0)
    assert proposal.reason == "NEUT grade 3 is above the baseline grade 0"


def test_the_same_value_from_a_grade_3_baseline_proposes_nothing_and_a_grade_4_does():
    assert propose_from_lab(term="Neutrophil count decreased", lab_grade=3, baseline_grade=3) is None
    assert propose_from_lab(term="Neutrophil count decreased", lab_grade=4, baseline_grade=3).grade == 4


def test_without_a_baseline_value_the_baseline_counts_as_grade_0_and_says_so():
    proposal = propose_from_lab(term="Anemia", lab_grade=1, baseline_grade=None)
    assert proposal is not None
    assert proposal.reason == "grade 1 is above the baseline grade 0 (no baseline value)"


@settings(max_examples=200, deadline=None)
@given(lab=st.none() | st.integers(0, 5), baseline=st.none() | st.integers(0, 5))
def test_a_lab_grade_proposes_an_ae_exactly_when_it_is_at_least_one_above_baseline(lab, baseline):
    proposal = propose_from_lab(term="Anemia", lab_grade=lab, baseline_grade=baseline)
    assert (proposal is not None) is (lab is not None and lab >= 1 and lab >= (baseline or 0) + 1)
