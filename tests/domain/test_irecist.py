"""iRECIST engine: iUPD, confirmation by every route, staying iUPD, the reset, and iBOR."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edc.tumors import irecist, recist
from edc.tumors.irecist import ICPD, ICR, IPR, ISD, IUPD, NE

REF = date(2023, 2, 6)
D = Decimal


def nl(lesion_id, value, increased=False):
    """New lesion shorthand: an int is an NLT diameter, 'present'/'absent' an NLNT status."""
    if isinstance(value, int):
        return irecist.NewLesion(lesion_id, "liver", False, irecist.NLT, diameter_mm=D(value))
    return irecist.NewLesion(
        lesion_id, "liver", False, irecist.NLNT, status=value, increased_since_last=increased
    )


def run(targets, visits, non_targets=(), window=(28, 56), min_sd=42, confirm=False):
    """visits: (day, {target: mm}, {nt: status}, [nt increased], [new lesions]) or (day, None)."""
    follow_ups = []
    for visit in visits:
        day = visit[0]
        if visit[1] is None:
            follow_ups.append(irecist.IrecistFollowUp(REF + timedelta(days=day), assessment_done=False))
            continue
        _, measures, statuses, increased, new = visit
        follow_ups.append(
            irecist.IrecistFollowUp(
                REF + timedelta(days=day),
                target_measurements={
                    k: recist.Measurement.not_assessed() if v is None else recist.Measurement.measured(v)
                    for k, v in measures.items()
                },
                non_target_status=statuses,
                non_target_increased_since_last=frozenset(increased),
                new_lesions=tuple(new),
            )
        )
    case = irecist.IrecistCase(
        protocol=irecist.IrecistProtocol(REF, min_sd, window, confirm),
        baseline_date=REF - timedelta(days=7),
        target_lesions=tuple(recist.TargetLesion(i, "lung", False, D(mm)) for i, mm in targets.items()),
        non_target_lesions=tuple(recist.NonTargetLesion(n, "bone", False) for n in non_targets),
        follow_ups=tuple(follow_ups),
    )
    return irecist.evaluate_irecist(case)


def responses(result):
    return [tp.overall_response for tp in result.timepoints]


def t(day, sod, new=(), nt=None, increased=()):
    """A visit with one target T1 of ``sod`` mm and optional non-target NT1."""
    return (day, {"T1": sod}, nt or {}, list(increased), list(new))


# --- iUPD ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("visit", "non_targets", "expected"),
    [
        (t(56, 60), (), IUPD),  # +20 %, +10 mm over a nadir of 50
        (t(56, 59), (), ISD),  # +18 %
        (t(56, 50, new=[nl("L1", 12)]), (), IUPD),  # a new measurable lesion
        (t(56, 50, new=[nl("L1", "present")]), (), IUPD),  # a new non-measurable lesion
        (t(56, 50, new=[nl("L1", "absent")]), (), ISD),
        (t(56, 50, nt={"NT1": "unequivocal_progression"}), ("NT1",), IUPD),
        (t(56, 50, nt={"NT1": "present"}), ("NT1",), ISD),
        (t(56, 35), (), IPR),
        (t(56, 0), (), ICR),
        (t(56, 0, nt={"NT1": "present"}), ("NT1",), IPR),
        ((56, {"T1": None}, {}, [], []), (), NE),
        ((56, None), (), NE),
    ],
)
def test_first_time_point_response(visit, non_targets, expected):
    assert responses(run({"T1": 50}, [visit], non_targets=non_targets)) == [expected]


def test_new_lesions_are_kept_apart_from_the_baseline_sum():
    result = run({"T1": 50}, [t(56, 40, new=[nl("L1", 30)])])
    assert result.timepoints[0].target_sum_mm == D(40)
    assert responses(result) == [IUPD]


# --- iCPD by each route ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("second", "non_targets", "expected"),
    [
        (t(112, 66), (), ICPD),  # exactly +5 mm over the SoD at iUPD (61)
        (t(112, 65), (), IUPD),  # +4 mm: not yet
        (t(112, 61), (), IUPD),  # unchanged
        (t(112, 61, nt={"NT1": "present"}, increased=["NT1"]), ("NT1",), ICPD),  # any non-target growth
        (t(112, 61, new=[nl("L1", 12)]), (), ICPD),  # an additional new lesion
        (t(112, 61, new=[nl("L1", "present")]), (), ICPD),
        (t(112, 61, nt={"NT1": "unequivocal_progression"}), ("NT1",), ICPD),  # PD in a new category
    ],
)
def test_iupd_by_targets_is_confirmed_by_each_route(second, non_targets, expected):
    nt = {"NT1": "present"} if non_targets else None
    first = t(56, 61, nt=nt)
    assert responses(run({"T1": 50}, [first, second], non_targets=non_targets)) == [IUPD, expected]


@pytest.mark.parametrize(
    ("second_new", "second_sod", "expected"),
    [
        ([nl("L1", 17)], 50, ICPD),  # NLT sum +5 mm
        ([nl("L1", 16)], 50, IUPD),  # NLT sum +4 mm
        ([nl("L1", 12), nl("L2", 11)], 50, ICPD),  # another new lesion
        ([nl("L1", 12)], 60, ICPD),  # target PD: a new category
        ([nl("L1", 12)], 55, ICPD),  # target sum +5 mm over the SoD at iUPD, even below the PD bar
        ([nl("L1", 12)], 53, IUPD),  # +4 mm
    ],
)
def test_iupd_by_a_new_measurable_lesion_is_confirmed_by_each_route(second_new, second_sod, expected):
    result = run({"T1": 50}, [t(56, 49, new=[nl("L1", 12)]), t(112, second_sod, new=second_new)])
    assert responses(result) == [IUPD, expected]


@pytest.mark.parametrize(("increased", "expected"), [(True, ICPD), (False, IUPD)])
def test_iupd_by_a_new_non_measurable_lesion_is_confirmed_by_its_growth(increased, expected):
    result = run(
        {"T1": 50},
        [t(56, 49, new=[nl("L1", "present")]), t(112, 49, new=[nl("L1", "present", increased=increased)])],
    )
    assert responses(result) == [IUPD, expected]


def test_successive_increases_add_up_to_confirm():
    result = run({"T1": 50}, [t(56, 61), t(112, 65), t(168, 67)])
    assert responses(result) == [IUPD, IUPD, ICPD]
    assert result.best_overall_response_irecist == ICPD


def test_timepoints_stop_at_icpd():
    result = run({"T1": 50}, [t(56, 61), t(112, 70), t(168, 30)])
    assert responses(result) == [IUPD, ICPD]


# --- Confirmation window ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "expected"), [(56 + 27, IUPD), (56 + 28, ICPD), (56 + 56, ICPD), (56 + 70, ICPD)]
)
def test_a_scan_earlier_than_the_window_does_not_confirm(day, expected):
    assert responses(run({"T1": 50}, [t(56, 61), t(day, 75)])) == [IUPD, expected]


def test_an_early_scan_with_an_additional_new_lesion_confirms():
    assert responses(run({"T1": 50}, [t(56, 61), t(70, 61, new=[nl("L1", 15)])])) == [IUPD, ICPD]


def test_an_early_scan_does_not_use_up_the_confirmation():
    assert responses(run({"T1": 50}, [t(56, 61), t(70, 75), t(112, 75)])) == [IUPD, IUPD, ICPD]


def test_the_window_is_a_protocol_parameter():
    assert responses(run({"T1": 50}, [t(56, 61), t(95, 75)], window=(42, 84))) == [IUPD, IUPD]
    assert responses(run({"T1": 50}, [t(56, 61), t(95, 75)], window=(28, 56))) == [IUPD, ICPD]


# --- Not confirmed, and the reset ------------------------------------------------------------


@pytest.mark.parametrize(
    ("second_sod", "expected"),
    [
        (61, IUPD),  # unchanged
        (60, IUPD),  # smaller but still at the PD bar (+20 % and +10 mm over 50)
        (59, ISD),  # under the bar: iSD, reset
        (35, IPR),
        (0, ICR),
    ],
)
def test_unconfirmed_iupd_stays_or_resets(second_sod, expected):
    assert responses(run({"T1": 50}, [t(56, 61), t(112, second_sod)])) == [IUPD, expected]


def test_reset_after_ipr_then_a_new_iupd_must_be_confirmed_again():
    result = run({"T1": 50}, [t(56, 61), t(112, 32), t(168, 40), t(224, 41), t(280, 46)])
    # 40 against the nadir 32: +8 mm and +25 %: a fresh iUPD, confirmed only by +5 mm over 40
    assert responses(result) == [IUPD, IPR, IUPD, IUPD, ICPD]
    assert result.best_overall_response_irecist == IPR


def test_after_a_reset_growth_is_measured_against_the_new_nadir():
    result = run({"T1": 50}, [t(56, 61), t(112, 32), t(168, 38)])
    assert responses(result) == [IUPD, IPR, ISD]  # 38 - 32 = 6 mm but +18.75 %; -24 % from baseline


def test_new_lesion_first_then_shrinkage_gives_ipr():
    result = run({"T1": 50}, [t(56, 48, new=[nl("L1", 12)]), t(112, 30, new=[nl("L1", 12)])])
    assert responses(result) == [IUPD, IPR]


def test_pr_first_then_a_new_lesion_without_further_change_stays_iupd():
    result = run(
        {"T1": 50},
        [t(56, 30), t(112, 30, new=[nl("L1", 12)]), t(168, 30, new=[nl("L1", 12)])],
    )
    assert responses(result) == [IPR, IUPD, IUPD]


def test_complete_shrinkage_with_a_persisting_new_lesion_is_ipr_not_icr():
    result = run({"T1": 50}, [t(56, 48, new=[nl("L1", 12)]), t(112, 0, new=[nl("L1", 12)])])
    assert responses(result) == [IUPD, IPR]


def test_a_new_lesion_that_resolves_resets_the_bar():
    result = run({"T1": 50}, [t(56, 48, new=[nl("L1", "present")]), t(112, 48, new=[nl("L1", "absent")])])
    assert responses(result) == [IUPD, ISD]


def test_new_lesion_accepted_at_a_reset_does_not_restart_iupd_unless_it_grows():
    lesion = nl("L1", 12)
    result = run(
        {"T1": 50},
        [
            t(56, 48, new=[lesion]),
            t(112, 30, new=[lesion]),
            t(168, 30, new=[nl("L1", 14)]),
            t(224, 30, new=[nl("L1", 17)]),
        ],
    )
    assert responses(result) == [IUPD, IPR, IPR, IUPD]


def test_missing_target_while_iupd_is_pending_is_ne_and_keeps_the_iupd_open():
    result = run(
        {"T1": 50, "T2": 20},
        [
            (56, {"T1": 62, "T2": 22}, {}, [], []),
            (112, {"T1": 60, "T2": None}, {}, [], []),
            (168, {"T1": 70, "T2": 22}, {}, [], []),
        ],
    )
    assert responses(result) == [IUPD, NE, ICPD]


# --- iBOR ------------------------------------------------------------------------------------


def test_iupd_followed_only_by_ne_is_iupd():
    result = run({"T1": 50}, [t(56, 61), (112, None), (168, None)])
    assert responses(result) == [IUPD, NE, NE]
    assert result.best_overall_response_irecist == IUPD


def test_patient_never_rescanned_after_iupd_stays_iupd():
    assert run({"T1": 50}, [t(56, 61)]).best_overall_response_irecist == IUPD


@pytest.mark.parametrize(
    ("points", "expected"),
    [
        (((56, ICR), (112, IUPD), (168, ICPD)), ICR),
        (((56, IUPD), (112, IPR)), IPR),
        (((56, IUPD), (112, ICPD)), ICPD),
        (((56, IUPD), (112, IUPD), (168, ICPD)), ICPD),
        (((56, IUPD), (112, NE)), IUPD),
        (((56, ISD), (112, IUPD)), ISD),
        (((41, ISD), (84, IUPD)), IUPD),  # iSD short of the minimum
        (((41, ISD), (84, IUPD), (126, ICPD)), ICPD),
        (((41, ISD),), NE),
        (((42, ISD),), ISD),
        (((56, NE),), NE),
        ((), NE),
        (((56, IPR), (112, ICR)), ICR),
    ],
)
def test_best_overall_irecist_response(points, expected):
    tps = [(REF + timedelta(days=d), r) for d, r in points]
    assert irecist.best_overall_response_irecist(tps, irecist.IrecistProtocol(REF)) == expected


@pytest.mark.parametrize(
    ("points", "expected"),
    [
        (((56, IPR), (84, IPR)), IPR),
        (((56, IPR), (83, IPR)), ISD),
        (((56, ICR), (112, ICR)), ICR),
        (((56, IPR), (84, IUPD)), ISD),
    ],
)
def test_best_overall_irecist_response_with_confirmation_required(points, expected):
    tps = [(REF + timedelta(days=d), r) for d, r in points]
    protocol = irecist.IrecistProtocol(REF, response_confirmation_required=True)
    assert irecist.best_overall_response_irecist(tps, protocol) == expected


def test_recist11_contrast_counts_the_first_iupd_as_pd():
    result = run({"T1": 50}, [t(56, 61), t(112, 32), t(168, 30)])
    assert result.best_overall_response_irecist == IPR
    assert result.best_overall_response_recist11_no_confirmation == recist.PD


def test_recist11_contrast_treats_any_new_lesion_as_pd():
    result = run({"T1": 50}, [t(56, 30), t(112, 30, new=[nl("L1", "present")])])
    assert result.best_overall_response_recist11_no_confirmation == recist.PR
    assert (
        irecist.recist11_result(
            irecist.IrecistCase(
                protocol=irecist.IrecistProtocol(REF),
                baseline_date=REF,
                target_lesions=(recist.TargetLesion("T1", "lung", False, D(50)),),
                non_target_lesions=(),
                follow_ups=(
                    irecist.IrecistFollowUp(
                        REF + timedelta(days=56),
                        target_measurements={"T1": recist.Measurement.measured(30)},
                        new_lesions=(nl("L1", "present"),),
                    ),
                ),
            )
        )
        .timepoints[0]
        .overall_response
        == recist.PD
    )


def test_non_target_only_patient_is_isd_then_iupd_on_unequivocal_progression():
    result = run(
        {},
        [
            (56, {}, {"NT1": "present"}, [], []),
            (112, {}, {"NT1": "unequivocal_progression"}, [], []),
            (168, {}, {"NT1": "unequivocal_progression"}, ["NT1"], []),
        ],
        non_targets=("NT1",),
    )
    assert responses(result) == [ISD, IUPD, ICPD]
    assert result.baseline_sum_mm is None
    assert result.best_overall_response_irecist == ISD


def test_result_dict_has_exactly_the_expected_fields():
    out = run({"T1": 50}, [t(56, 61)]).to_dict()
    assert out == {
        "baseline_sum_mm": 50,
        "timepoints": [{"date": "2023-04-03", "target_sum_mm": 61, "overall_response": IUPD}],
        "best_overall_response_irecist": IUPD,
        "best_overall_response_recist11_no_confirmation": "PD",
    }


# --- Properties ------------------------------------------------------------------------------


@given(sod=st.integers(min_value=10, max_value=200), visits=st.integers(min_value=1, max_value=8))
def test_an_unchanging_sum_without_new_lesions_is_always_isd(sod, visits):
    result = run({"T1": sod}, [t(42 * (k + 1), sod) for k in range(visits)])
    assert set(responses(result)) == {ISD}
    assert result.best_overall_response_irecist == ISD
