"""Independent validation of edc/outcomes/stats.py on a published data set.

Freireich EJ, Gehan E, Frei E III, et al. The effect of 6-mercaptopurine on the duration of
steroid-induced remissions in acute leukemia: a model for evaluation of other potentially useful
therapy. Blood 1963;21(6):699-716. The remission durations (weeks) of the 21 patients on 6-MP and the
21 on placebo as listed by Gehan EA. A generalized Wilcoxon test for comparing arbitrarily
singly-censored samples. Biometrika 1965;52:203-223 ("+" = still in remission, censored).

The textbook figures (e.g. Kleinbaum & Klein, Survival Analysis: A Self-Learning Text, ch. 2; Klein &
Moeschberger, Survival Analysis, ch. 4): Kaplan-Meier medians of 23 weeks (6-MP) and 8 weeks
(placebo); for 6-MP the estimates 0.857, 0.807, 0.753, 0.690, 0.628, 0.538, 0.448 at weeks 6, 7, 10,
13, 16, 22, 23 with Greenwood standard errors 0.0764, 0.0869, 0.0963, 0.1068, 0.1141, 0.1282,
0.1346. The 95 % log(-log) pointwise limits below are those R prints for
``survfit(Surv(time, status) ~ 1, conf.type = "log-log")``; lifelines computes them too (checked here).

The endpoints case path is validated on the same data: each patient is a subject whose remission
(CR) starts at the anchor date, relapse is progression and "+" is the last adequate assessment, so
PFS and DoR are the remission durations in days (7 x weeks).
"""

from __future__ import annotations

import datetime as dt
import math

import pytest
from lifelines import KaplanMeierFitter
from lifelines.utils import median_survival_times

from edc.outcomes import casefile, stats

SIX_MP = [
    "6",
    "6",
    "6",
    "6+",
    "7",
    "9+",
    "10",
    "10+",
    "11+",
    "13",
    "16",
    "17+",
    "19+",
    "20+",
    "22",
    "23",
    "25+",
    "32+",
    "32+",
    "34+",
    "35+",
]
PLACEBO = [
    "1",
    "1",
    "2",
    "2",
    "3",
    "4",
    "4",
    "5",
    "5",
    "8",
    "8",
    "8",
    "8",
    "11",
    "11",
    "12",
    "12",
    "15",
    "17",
    "22",
    "23",
]
ANCHOR = dt.date(1960, 1, 4)


def weeks(listing: list[str]) -> list[stats.Observation]:
    return [
        stats.Observation(int(x.rstrip("+")), not x.endswith("+"), f"P{i}") for i, x in enumerate(listing)
    ]


def on(week: int, extra_days: int = 0) -> str:
    return (ANCHOR + dt.timedelta(days=7 * week + extra_days)).isoformat()


def subjects(listing: list[str], *, new_therapy_after_censoring: bool = False, cut_week: int | None = None):
    """The arm as endpoints-case subjects. ``new_therapy_after_censoring``: each censored patient starts
    a new therapy 3 days after the last assessment and relapses 5 weeks later (which PFS must ignore).
    ``cut_week``: a data cut, after which nothing is known (an interim analysis)."""
    out = []
    for i, item in enumerate(listing):
        week, relapsed = int(item.rstrip("+")), not item.endswith("+")
        if cut_week is not None and week > cut_week:
            week, relapsed = cut_week, False
        row = {
            "id": f"P{i:02d}",
            "in_analysis_set": True,
            "anchor_date": ANCHOR.isoformat(),
            "best_response": "CR",
            "first_response_date": ANCHOR.isoformat(),
            "progression_date": on(week) if relapsed else None,
            "last_adequate_assessment_date": on(week),
            "last_known_alive_date": on(week),
        }
        if new_therapy_after_censoring and not relapsed:
            row.update(new_anticancer_therapy_date=on(week, 3), progression_date=on(week + 5))
            row["last_known_alive_date"] = on(week + 5)
        out.append(row)
    return out


def evaluate(rows, landmarks=()):
    return casefile.evaluate({"id": "FREIREICH", "landmarks_days": list(landmarks), "subjects": rows})


# --- the Kaplan-Meier estimate on the published listing -----------------------------------------------


def test_the_kaplan_meier_medians_are_the_published_23_and_8_weeks():
    assert stats.kaplan_meier(weeks(SIX_MP)).median() == 23
    assert stats.kaplan_meier(weeks(PLACEBO)).median() == 8


TEXTBOOK_6MP = [  # week, at risk, events, S(t), Greenwood SE, R log-log lower, upper
    (6, 21, 3, 0.8571, 0.0764, 0.620, 0.952),
    (7, 17, 1, 0.8067, 0.0869, 0.563, 0.923),
    (10, 15, 1, 0.7529, 0.0963, 0.503, 0.889),
    (13, 12, 1, 0.6902, 0.1068, 0.432, 0.849),
    (16, 11, 1, 0.6275, 0.1141, 0.368, 0.805),
    (22, 7, 1, 0.5378, 0.1282, 0.268, 0.747),
    (23, 6, 1, 0.4482, 0.1346, 0.188, 0.680),
]


@pytest.mark.parametrize(("week", "at_risk", "events", "survival", "se", "lower", "upper"), TEXTBOOK_6MP)
def test_the_6mp_curve_matches_the_textbook_table(week, at_risk, events, survival, se, lower, upper):
    step = next(s for s in stats.kaplan_meier(weeks(SIX_MP)).steps if s.time == week)
    assert (step.at_risk, step.events) == (at_risk, events)
    assert float(step.survival) == pytest.approx(survival, abs=5e-5)
    assert float(step.survival) * math.sqrt(float(step.greenwood)) == pytest.approx(se, abs=5e-5)
    assert step.lower == pytest.approx(lower, abs=5e-4)
    assert step.upper == pytest.approx(upper, abs=5e-4)


@pytest.mark.parametrize(("listing", "expected"), [(SIX_MP, (13, None)), (PLACEBO, (4, 11))])
def test_the_median_intervals_invert_the_log_log_band_as_lifelines_does(listing, expected):
    obs = weeks(listing)
    assert stats.kaplan_meier(obs).median_ci() == expected
    fitter = KaplanMeierFitter().fit([o.time for o in obs], [o.event for o in obs])
    lower, upper = median_survival_times(fitter.confidence_interval_).iloc[0]
    assert (lower, None if math.isinf(upper) else upper) == expected


def test_the_placebo_curve_reaches_zero_with_its_last_relapse_and_has_no_interval_there():
    curve = stats.kaplan_meier(weeks(PLACEBO))
    assert curve.survival_at(23) == 0
    assert curve.band_at(23) == (None, None)


# --- the same data through the endpoints case ---------------------------------------------------------


def test_pfs_and_dor_medians_through_the_endpoints_case_are_23_and_8_weeks_in_days():
    six_mp, placebo = evaluate(subjects(SIX_MP)), evaluate(subjects(PLACEBO))
    assert (six_mp["pfs"]["median_days"], six_mp["pfs"]["median_ci"]) == (23 * 7, [13 * 7, None])
    assert (placebo["pfs"]["median_days"], placebo["pfs"]["median_ci"]) == (8 * 7, [4 * 7, 11 * 7])
    assert six_mp["dor"] == six_mp["pfs"]  # remission starts at the anchor: DoR is PFS
    assert (six_mp["pfs"]["n"], six_mp["pfs"]["events"]) == (21, 9)


def test_landmark_rates_are_the_textbook_estimates_with_their_log_log_limits():
    result = evaluate(subjects(SIX_MP), landmarks=[70, 140])
    assert result["pfs"]["landmarks"] == {
        "70": {"rate": 0.7529, "ci": [0.5032, 0.8894], "at_risk": 15},  # week 10
        "140": {"rate": 0.6275, "ci": [0.3675, 0.8049], "at_risk": 8},  # week 20: 20+ and later
    }


def test_pfs_is_censored_at_the_last_adequate_assessment_before_a_new_therapy_not_at_the_later_relapse():
    plain = evaluate(subjects(SIX_MP), landmarks=[140])
    switched = evaluate(subjects(SIX_MP, new_therapy_after_censoring=True), landmarks=[140])
    assert switched["pfs"] == plain["pfs"]
    # Counting the relapses after the new therapy would change the answer (the rule matters here):
    naive = stats.kaplan_meier(
        [stats.Observation(int(x.rstrip("+")) + (5 if x.endswith("+") else 0), True) for x in SIX_MP]
    )
    assert naive.median() != 23


def test_a_data_cut_at_week_20_leaves_the_median_not_reached_and_the_landmark_unchanged():
    cut = evaluate(subjects(SIX_MP, cut_week=20), landmarks=[140])
    full = evaluate(subjects(SIX_MP), landmarks=[140])
    assert cut["pfs"]["median_days"] is None
    assert cut["pfs"]["median_ci"] == [13 * 7, None]
    assert cut["pfs"]["landmarks"] == full["pfs"]["landmarks"]


def test_every_patient_in_remission_gives_an_orr_of_one_with_the_closed_form_exact_lower_bound():
    orr = evaluate(subjects(SIX_MP))["orr"]
    assert orr == {"n": 21, "responders": 21, "rate": 1.0, "ci": [stats.rounded(0.025 ** (1 / 21)), 1.0]}
    assert orr["ci"][0] == 0.8389
