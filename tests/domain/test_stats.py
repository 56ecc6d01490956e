"""edc/outcomes/stats.py on plain objects: proportions, Kaplan-Meier, the exact-0.5 median, derivation.

lifelines (KaplanMeierFitter, the same Greenwood variance and log(-log) transform) is the
cross-check of the curve, its interval and the median where no estimate lands exactly on one half.
"""

from __future__ import annotations

import ast
import datetime as dt
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lifelines import KaplanMeierFitter
from scipy.stats import binom

from edc.outcomes import stats
from edc.outcomes.stats import Observation, SubjectOutcome

ROOT = Path(__file__).resolve().parents[2]
D = dt.date.fromisoformat
ANCHOR = D("2024-01-01")


def day(n: int) -> dt.date:
    return ANCHOR + dt.timedelta(days=n)


def subject(**given_fields) -> SubjectOutcome:
    fields = {
        "id": "S1",
        "in_analysis_set": True,
        "anchor_date": ANCHOR,
        "best_response": "SD",
        "last_known_alive_date": day(400),
    }
    fields.update(given_fields)
    return SubjectOutcome(**fields)


def observations(*spec: str) -> list[Observation]:
    """'6' is an event at day 6, '6+' a censoring."""
    return [Observation(int(s.rstrip("+")), not s.endswith("+")) for s in spec]


# --- purity -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("module", ["edc/outcomes/stats.py", "edc/outcomes/plots.py"])
def test_endpoint_engines_import_nothing_from_django(module):
    tree = ast.parse((ROOT / module).read_text())
    names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert not [n for n in names if n.split(".")[0] in {"django", "rest_framework"}]


def test_endpoint_engines_import_without_django_configured():
    code = (
        "import sys, edc.outcomes.stats, edc.outcomes.plots\n"
        "assert 'django.db' not in sys.modules\n"
        "assert 'matplotlib.pyplot' not in sys.modules\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr


# --- Clopper-Pearson -------------------------------------------------------------------------------


def test_clopper_pearson_matches_r_binom_test_for_mendels_peas():
    # R: binom.test(c(682, 243), p = 3/4) -> 95 percent confidence interval 0.7076683 0.7654066
    lower, upper = stats.clopper_pearson(682, 925)
    assert lower == pytest.approx(0.7076683, abs=5e-8)
    assert upper == pytest.approx(0.7654066, abs=5e-8)


def test_clopper_pearson_with_no_success_has_lower_bound_zero_and_the_closed_form_upper_bound():
    lower, upper = stats.clopper_pearson(0, 10)
    assert lower == 0.0
    assert upper == pytest.approx(1 - 0.025 ** (1 / 10), rel=1e-12)  # 0.3084971


def test_clopper_pearson_with_every_success_has_upper_bound_one_and_the_closed_form_lower_bound():
    lower, upper = stats.clopper_pearson(12, 12)
    assert upper == 1.0
    assert lower == pytest.approx(0.025 ** (1 / 12), rel=1e-12)


def test_clopper_pearson_at_another_confidence_level_is_narrower():
    wide = stats.clopper_pearson(5, 25, Fraction(95, 100))
    narrow = stats.clopper_pearson(5, 25, Fraction(90, 100))
    assert narrow[0] > wide[0] and narrow[1] < wide[1]
    # Each bound is the beta quantile that defines it: P(X >= 5 | p = lower) = 0.05 at 90 %.
    assert binom.sf(4, 25, narrow[0]) == pytest.approx(0.05, abs=1e-9)
    assert binom.cdf(5, 25, narrow[1]) == pytest.approx(0.05, abs=1e-9)


def test_a_proportion_of_nobody_has_no_rate_and_no_interval():
    assert stats.proportion(0, 0).to_dict() == {"n": 0, "responders": 0, "rate": None, "ci": [None, None]}


def test_clopper_pearson_refuses_more_successes_than_trials():
    with pytest.raises(ValueError, match="successes"):
        stats.clopper_pearson(3, 2)


# --- rounding ---------------------------------------------------------------------------------------


def test_rates_are_rounded_half_up_from_their_exact_value_only_at_output():
    assert stats.rounded(Fraction(1, 32)) == 0.0313  # 0.03125 exactly: half up
    assert stats.rounded(Fraction(3, 13)) == 0.2308
    assert stats.rounded(0.40704) == 0.407
    assert stats.rounded(None) is None
    assert stats.proportion(1, 32).rate == Fraction(1, 32)  # kept exact inside


# --- Kaplan-Meier -----------------------------------------------------------------------------------


def test_kaplan_meier_counts_an_event_before_a_censoring_on_the_same_day():
    curve = stats.kaplan_meier(observations("5", "5+", "8"))
    first = curve.steps[0]
    assert (first.time, first.at_risk, first.events, first.censored) == (5, 3, 1, 1)
    assert first.survival == Fraction(2, 3)
    assert curve.survival_at(8) == 0


def test_survival_is_exactly_one_half_after_eleven_of_twenty_two_events_and_that_day_is_the_median():
    # 11 single events, then 11 censored: S = 21/22 * 20/21 * ... * 11/12 = 11/22 = 1/2 exactly.
    curve = stats.kaplan_meier(observations(*[str(d) for d in range(1, 12)], *["100+"] * 11))
    assert curve.survival_at(11) == Fraction(1, 2)
    assert curve.median() == 11


@pytest.mark.parametrize("n", [6, 8, 14, 18, 24])
def test_the_median_compares_with_one_half_exactly_where_floating_point_drifts(n):
    # S = 1/2 exactly at day n/2. In floats the n = 24 product is 0.5000000000000001, and lifelines
    # reports no median for n = 6, 8, 14 and 18; the exact rule finds day n/2 every time.
    k = n // 2
    curve = stats.kaplan_meier(observations(*[str(d) for d in range(1, k + 1)], *["100+"] * (n - k)))
    assert curve.survival_at(k) == Fraction(1, 2)
    assert curve.median() == k


def test_lifelines_float_estimate_misses_the_exact_half_that_the_rule_catches():
    # The reason for exact arithmetic: the same data through floating point has no median.
    fitter = KaplanMeierFitter().fit([1, 2, 3, 100, 100, 100], [1, 1, 1, 0, 0, 0])
    assert fitter.median_survival_time_ == np.inf
    assert stats.kaplan_meier(observations("1", "2", "3", "100+", "100+", "100+")).median() == 3


def test_the_median_is_null_when_the_curve_never_reaches_one_half():
    curve = stats.kaplan_meier(observations("3", "10+", "12+", "20+"))
    assert curve.median() is None
    assert curve.median_ci() == (3, None)  # the lower band (0.13) reaches one half, the upper never


def test_the_interval_is_one_before_any_event_and_undefined_once_nobody_is_left():
    curve = stats.kaplan_meier(observations("4+", "7", "9"))
    assert curve.band_at(2) == (1.0, 1.0)
    assert curve.band_at(9) == (None, None)
    assert curve.landmark(9).to_dict() == {"rate": 0.0, "ci": [None, None], "at_risk": 1}


def test_a_landmark_counts_at_risk_the_subjects_whose_time_is_at_least_that_day():
    curve = stats.kaplan_meier(observations("5", "10+", "10", "20+", "30"))
    landmark = curve.landmark(10)
    assert landmark.at_risk == 4  # 10, 10+, 20+ and 30
    assert landmark.rate == Fraction(4, 5) * Fraction(3, 4)  # the event on day 10 counts


def test_a_landmark_beyond_the_last_censored_observation_is_not_estimable():
    curve = stats.kaplan_meier(observations("5", "10+"))
    assert curve.landmark(30).to_dict() == {"rate": None, "ci": [None, None], "at_risk": 0}


def test_a_curve_refuses_a_negative_time():
    with pytest.raises(ValueError, match="before day 0"):
        stats.kaplan_meier([Observation(-1, True, "S9")])


times = st.lists(st.tuples(st.integers(min_value=0, max_value=60), st.booleans()), min_size=1, max_size=40)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(times)
def test_the_curve_and_its_log_log_interval_agree_with_lifelines(data):
    obs = [Observation(t, e) for t, e in data]
    curve = stats.kaplan_meier(obs)
    fitter = KaplanMeierFitter().fit([t for t, _ in data], [e for _, e in data], alpha=0.05)
    survival = fitter.survival_function_["KM_estimate"]
    bands = fitter.confidence_interval_
    for step in curve.steps:
        assert float(step.survival) == pytest.approx(survival.loc[step.time], abs=1e-12)
        if step.lower is not None and 0 < step.survival < 1:
            assert step.lower == pytest.approx(bands.loc[step.time].iloc[0], abs=1e-9)
            assert step.upper == pytest.approx(bands.loc[step.time].iloc[1], abs=1e-9)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(times)
def test_the_median_agrees_with_lifelines_where_no_estimate_is_exactly_one_half(data):
    curve = stats.kaplan_meier([Observation(t, e) for t, e in data])
    if any(s.survival == Fraction(1, 2) for s in curve.steps):
        return  # the exact rule and floating point may part there (tested above)
    fitter = KaplanMeierFitter().fit([t for t, _ in data], [e for _, e in data])
    expected = fitter.median_survival_time_
    assert curve.median() == (None if np.isinf(expected) else int(expected))


# --- PFS, OS and DoR derivation ------------------------------------------------------------------------


def test_pfs_event_is_the_earlier_of_progression_and_death():
    outcome = subject(progression_date=day(90), death_date=day(60), last_adequate_assessment_date=day(42))
    assert stats.pfs_observation(outcome) == Observation(60, True, "S1")


def test_pfs_is_censored_at_the_last_adequate_assessment_when_a_new_therapy_starts_before_progression():
    outcome = subject(
        progression_date=day(120), new_anticancer_therapy_date=day(70), last_adequate_assessment_date=day(56)
    )
    assert stats.pfs_observation(outcome) == Observation(56, False, "S1")


def test_progression_on_the_day_a_new_therapy_starts_is_still_the_pfs_event():
    outcome = subject(
        progression_date=day(70), new_anticancer_therapy_date=day(70), last_adequate_assessment_date=day(70)
    )
    assert stats.pfs_observation(outcome) == Observation(70, True, "S1")


def test_pfs_without_an_event_is_censored_at_the_last_adequate_assessment():
    assert stats.pfs_observation(subject(last_adequate_assessment_date=day(300))) == Observation(
        300, False, "S1"
    )


def test_pfs_without_any_adequate_assessment_is_censored_at_day_zero():
    assert stats.pfs_observation(subject()) == Observation(0, False, "S1")


def test_pfs_refuses_a_last_adequate_assessment_after_the_new_therapy_it_must_censor_before():
    outcome = subject(new_anticancer_therapy_date=day(70), last_adequate_assessment_date=day(84))
    with pytest.raises(stats.EndpointInputError) as error:
        stats.pfs_observation(outcome)
    assert error.value.field == "last_adequate_assessment_date"


def test_os_is_death_or_censored_at_the_last_known_alive_date():
    assert stats.os_observation(subject(death_date=day(200))) == Observation(200, True, "S1")
    assert stats.os_observation(subject()) == Observation(400, False, "S1")


def test_dor_runs_from_the_first_response_to_the_pfs_event_and_is_censored_as_pfs_is():
    progressed = subject(best_response="PR", first_response_date=day(42), progression_date=day(200))
    assert stats.dor_observation(progressed) == Observation(158, True, "S1")
    switched = subject(
        best_response="CR",
        first_response_date=day(42),
        new_anticancer_therapy_date=day(150),
        last_adequate_assessment_date=day(126),
        death_date=day(300),
    )
    assert stats.dor_observation(switched) == Observation(84, False, "S1")


def test_dor_is_only_for_responders():
    with pytest.raises(stats.EndpointInputError):
        stats.dor_observation(subject(best_response="SD"))


def test_an_unknown_best_response_is_refused():
    with pytest.raises(stats.EndpointInputError, match="best_response"):
        subject(best_response="iCR")


# --- a whole analysis -------------------------------------------------------------------------------


def test_only_subjects_in_the_analysis_set_count_and_subgroups_are_tabulated_per_value():
    subjects = (
        subject(
            id="A",
            best_response="PR",
            first_response_date=day(42),
            last_adequate_assessment_date=day(84),
            subgroups=(("PDL1", "positive"),),
        ),
        subject(id="B", best_response="PD", progression_date=day(40), subgroups=(("PDL1", "negative"),)),
        subject(
            id="C", best_response="CR", first_response_date=day(40), in_analysis_set=False
        ),  # no PFS date
        subject(id="D", best_response="SD", subgroups=(("PDL1", "positive"),)),
    )
    result = stats.evaluate_endpoints(stats.EndpointsCase(subjects=subjects)).to_dict()
    assert result["orr"]["n"] == 3 and result["orr"]["responders"] == 1
    assert result["dcr"]["responders"] == 2
    assert result["dor"]["n"] == 1
    assert result["orr_by_subgroup"] == {
        "PDL1": {
            "negative": stats.proportion(0, 1).to_dict(),
            "positive": stats.proportion(1, 2).to_dict(),
        }
    }


def test_no_subgroups_and_no_landmarks_give_empty_objects():
    result = stats.evaluate_endpoints(stats.EndpointsCase(subjects=(subject(),))).to_dict()
    assert result["orr_by_subgroup"] == {}
    assert result["pfs"]["landmarks"] == {}


def test_a_confidence_level_outside_zero_and_one_is_refused():
    with pytest.raises(ValueError, match="confidence_level"):
        stats.EndpointsCase(subjects=(), confidence_level=Fraction(95))
