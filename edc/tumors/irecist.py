"""iRECIST: iUPD, iCPD, the reset of the bar, and the best overall iRECIST response.

Pure module: no Django. Rules follow ``docs/domain/response-criteria.md`` (vendored) section B. The
measurements, thresholds, nadir and target / non-target responses are RECIST 1.1's and come from
``recist.py``; this module adds the state of an unconfirmed progression.

Choices the rules leave to the SAP, written down:

* Confirmation: a scan earlier than ``iupd_confirmation_window_days[0]`` after the iUPD does not count
  toward iCPD, except when it shows an additional new lesion (the RWG exception; the case format does
  not say whether a scan was unscheduled, so any early scan with an additional new lesion counts). A
  scan after the window's upper end still counts: B4 names the next assessment, and the upper end is
  the scheduling target, not a reason to ignore progression.
* The +5 mm target route compares with the SoD at the scan that started the iUPD, so successive
  increases add up (+4 then +2 mm); likewise the NLT sum. "Additional new lesion" means an id not
  seen at or before that scan.
* Reset: while iUPD is pending, a scan whose targets and non-targets (new lesions aside) meet iCR,
  iPR or iSD resets the bar when no new lesion is present, or when new lesions persist but the
  targets have improved in category since the iUPD scan ("new lesion first, then shrinkage": iPR is
  possible). A persisting new lesion with no change in the rest ("PR first, then a new lesion")
  stays iUPD. New lesions present at a reset are accepted; after it, new-lesion progression needs a
  new lesion id not present at the reset, or the NLT sum rising >= 5 mm over its value at the reset.
* A non-target-only patient whose disease is neither CR nor PD is reported as iSD (the case format
  lists iCR, iPR, iSD, iUPD, iCPD and NE only).
* While iUPD is pending, a scan whose targets cannot be evaluated (a target missing) and which does
  not confirm is NE; the iUPD stays pending for the next scan.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from edc.tumors import recist

ICR = "iCR"
IPR = "iPR"
ISD = "iSD"
IUPD = "iUPD"
ICPD = "iCPD"
NE = "NE"

NLT = "NLT"
NLNT = "NLNT"
NEW_LESION_CATEGORIES = (NLT, NLNT)
NLNT_STATUSES = ("present", "absent")

TARGETS = "targets"
NON_TARGETS = "non_targets"
NEW_LESIONS = "new_lesions"

_FROM_RECIST = {
    recist.CR: ICR,
    recist.PR: IPR,
    recist.SD: ISD,
    recist.NON_CR_NON_PD: ISD,
    recist.NE: NE,
}
_TO_RECIST = {ICR: recist.CR, IPR: recist.PR, ISD: recist.SD, IUPD: recist.PD, ICPD: recist.PD, NE: recist.NE}
_RANK = {recist.CR: 3, recist.PR: 2, recist.SD: 1, recist.NON_CR_NON_PD: 1}


def _label(base: str, new_lesion_ids: frozenset[str]) -> str:
    """The i-label of a non-progressing scan; a new lesion still present rules out iCR."""
    if base == recist.CR and new_lesion_ids:
        return IPR
    return _FROM_RECIST[base]


@dataclass(frozen=True)
class NewLesion:
    id: str
    organ: str
    nodal: bool
    category: str
    diameter_mm: Decimal | None = None  # NLT: longest diameter (short axis for nodes); 0 = gone
    status: str = "present"  # NLNT
    increased_since_last: bool = False  # NLNT

    @property
    def present(self) -> bool:
        if self.category == NLT:
            return self.diameter_mm is not None and self.diameter_mm > 0
        return self.status == "present"


@dataclass(frozen=True)
class IrecistFollowUp:
    date: date
    assessment_done: bool = True
    target_measurements: Mapping[str, recist.Measurement] = field(default_factory=dict)
    non_target_status: Mapping[str, str] = field(default_factory=dict)
    non_target_increased_since_last: frozenset[str] = frozenset()
    new_lesions: tuple[NewLesion, ...] = ()

    @property
    def new_lesion_ids(self) -> frozenset[str]:
        return frozenset(nl.id for nl in self.new_lesions if nl.present)

    @property
    def nlt_sum_mm(self) -> Decimal:
        # A present NLT has a diameter (``present`` says so); the check narrows the type.
        return sum(
            (
                nl.diameter_mm
                for nl in self.new_lesions
                if nl.category == NLT and nl.present and nl.diameter_mm is not None
            ),
            Decimal(0),
        )


@dataclass(frozen=True)
class IrecistProtocol:
    reference_date: date
    min_sd_duration_days: int = 42
    iupd_confirmation_window_days: tuple[int, int] = (28, 56)
    response_confirmation_required: bool = False
    confirmation_min_interval_days: int = 28


@dataclass(frozen=True)
class IrecistCase:
    protocol: IrecistProtocol
    baseline_date: date
    target_lesions: tuple[recist.TargetLesion, ...]
    non_target_lesions: tuple[recist.NonTargetLesion, ...]
    follow_ups: tuple[IrecistFollowUp, ...]
    id: str = ""


@dataclass(frozen=True)
class IrecistTimepoint:
    date: date
    target_sum_mm: Decimal | None
    overall_response: str
    # Why: the categories that started the iUPD, or the routes that confirmed iCPD.
    reasons: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "date": self.date.isoformat(),
            "target_sum_mm": recist._num(self.target_sum_mm),
            "overall_response": self.overall_response,
        }


@dataclass(frozen=True)
class IrecistResult:
    baseline_sum_mm: Decimal | None
    timepoints: tuple[IrecistTimepoint, ...]
    best_overall_response_irecist: str
    best_overall_response_recist11_no_confirmation: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "baseline_sum_mm": recist._num(self.baseline_sum_mm),
            "timepoints": [tp.to_dict() for tp in self.timepoints],
            "best_overall_response_irecist": self.best_overall_response_irecist,
            "best_overall_response_recist11_no_confirmation": (
                self.best_overall_response_recist11_no_confirmation
            ),
        }


@dataclass(frozen=True)
class _PendingIupd:
    date: date
    categories: frozenset[str]
    sod_mm: Decimal | None
    nlt_sum_mm: Decimal
    ids_seen: frozenset[str]
    base_response: str  # the RECIST response of targets and non-targets, new lesions aside


def confirmation_routes(
    pending: _PendingIupd,
    fu: IrecistFollowUp,
    *,
    target_eval: recist.TargetEvaluation | None,
    non_target_pd: bool,
    window_start_days: int,
) -> tuple[str, ...]:
    """The B5 routes that confirm the pending iUPD at this scan (empty: not confirmed)."""
    routes: list[str] = []
    additional = fu.new_lesion_ids - pending.ids_seen
    if additional:
        routes.append("additional new lesion " + ", ".join(sorted(additional)))
    if (fu.date - pending.date).days < window_start_days:
        return tuple(routes)
    if pending.sod_mm is not None and target_eval is not None:
        # With a target missing the measured sum is a lower bound, so it can still confirm.
        current = target_eval.sum_mm if target_eval.sum_mm is not None else target_eval.measured_sum_mm
        if current is not None and current - pending.sod_mm >= recist.PD_MIN_INCREASE_MM:
            routes.append("target sum +5 mm over the sum at iUPD")
    if fu.non_target_increased_since_last:
        routes.append("non-target increase " + ", ".join(sorted(fu.non_target_increased_since_last)))
    if fu.nlt_sum_mm - pending.nlt_sum_mm >= recist.PD_MIN_INCREASE_MM:
        routes.append("new-lesion target sum +5 mm")
    grown = sorted(nl.id for nl in fu.new_lesions if nl.category == NLNT and nl.increased_since_last)
    if grown:
        routes.append("new-lesion non-target increase " + ", ".join(grown))
    if TARGETS not in pending.categories and target_eval is not None and target_eval.response == recist.PD:
        routes.append("target PD, a new category")
    if NON_TARGETS not in pending.categories and non_target_pd:
        routes.append("non-target PD, a new category")
    # A new lesion in a category that did not cause the iUPD is an additional one, counted above.
    return tuple(routes)


def evaluate_irecist(case: IrecistCase) -> IrecistResult:
    targets = case.target_lesions
    has_targets = bool(targets)
    baseline_sum = recist.sum_of_diameters(targets) if has_targets else None
    nadir = baseline_sum
    after_cr = False
    pending: _PendingIupd | None = None
    accepted_ids: frozenset[str] = frozenset()
    accepted_nlt_sum = Decimal(0)
    seen_ids: frozenset[str] = frozenset()
    window_start = case.protocol.iupd_confirmation_window_days[0]

    timepoints: list[IrecistTimepoint] = []
    for fu in case.follow_ups:
        if not fu.assessment_done:
            timepoints.append(IrecistTimepoint(fu.date, None, NE))
            continue
        target_eval = None
        if has_targets:
            assert baseline_sum is not None and nadir is not None
            target_eval = recist.evaluate_targets(
                targets, fu.target_measurements, baseline_sum=baseline_sum, nadir=nadir, after_cr=after_cr
            )
        nt = recist.non_target_response(
            fu.non_target_status.get(lesion.id, recist.NOT_EVALUATED) for lesion in case.non_target_lesions
        )
        base = recist.overall_response(target_eval.response if target_eval else None, nt, new_lesions=False)
        sum_mm = target_eval.sum_mm if target_eval else None
        ids_now = fu.new_lesion_ids
        nlt_now = fu.nlt_sum_mm

        if pending is None:
            categories = set()
            if target_eval is not None and target_eval.response == recist.PD:
                categories.add(TARGETS)
            if nt == recist.PD:
                categories.add(NON_TARGETS)
            if ids_now - accepted_ids or nlt_now - accepted_nlt_sum >= recist.PD_MIN_INCREASE_MM:
                categories.add(NEW_LESIONS)
            if categories:
                sod = sum_mm
                if sod is None and target_eval is not None and target_eval.response == recist.PD:
                    sod = target_eval.measured_sum_mm
                pending = _PendingIupd(
                    date=fu.date,
                    categories=frozenset(categories),
                    sod_mm=sod,
                    nlt_sum_mm=nlt_now,
                    ids_seen=seen_ids | ids_now,
                    base_response=base,
                )
                tp = IrecistTimepoint(fu.date, sum_mm, IUPD, tuple(sorted(categories)))
            else:
                tp = IrecistTimepoint(fu.date, sum_mm, _label(base, ids_now))
        else:
            routes = confirmation_routes(
                pending,
                fu,
                target_eval=target_eval,
                non_target_pd=nt == recist.PD,
                window_start_days=window_start,
            )
            if routes:
                tp = IrecistTimepoint(fu.date, sum_mm, ICPD, routes)
            elif base in _RANK and (not ids_now or _RANK[base] > _RANK.get(pending.base_response, 0)):
                pending = None
                accepted_ids, accepted_nlt_sum = ids_now, nlt_now
                tp = IrecistTimepoint(fu.date, sum_mm, _label(base, ids_now), ("reset",))
            elif base == recist.NE:
                tp = IrecistTimepoint(fu.date, sum_mm, NE)
            else:
                tp = IrecistTimepoint(fu.date, sum_mm, IUPD)

        seen_ids = seen_ids | ids_now
        if sum_mm is not None and nadir is not None:
            nadir = min(nadir, sum_mm)
        if target_eval is not None and target_eval.response == recist.CR:
            after_cr = True
        timepoints.append(tp)
        if tp.overall_response == ICPD:
            break

    return IrecistResult(
        baseline_sum_mm=baseline_sum,
        timepoints=tuple(timepoints),
        best_overall_response_irecist=best_overall_response_irecist(
            [(tp.date, tp.overall_response) for tp in timepoints], case.protocol
        ),
        best_overall_response_recist11_no_confirmation=recist11_result(
            case
        ).best_overall_response_no_confirmation,
    )


def best_overall_response_irecist(timepoints: Sequence[tuple[date, str]], protocol: IrecistProtocol) -> str:
    """iBOR (B7): the best of iCR > iPR > iSD over every time point, else iCPD, else iUPD, else NE."""
    found = {r for _, r in timepoints}
    if protocol.response_confirmation_required:
        as_recist = [(d, _TO_RECIST[r]) for d, r in timepoints]
        levels = {
            recist.confirmed_level(as_recist, i, protocol.confirmation_min_interval_days)
            for i in range(len(as_recist))
        }
        for level, label in ((recist.CR, ICR), (recist.PR, IPR)):
            if level in levels:
                return label
        stable: tuple[str, ...] = (ICR, IPR, ISD)
    else:
        for label in (ICR, IPR):
            if label in found:
                return label
        stable = (ISD,)
    if any(
        r in stable and (d - protocol.reference_date).days >= protocol.min_sd_duration_days
        for d, r in timepoints
    ):
        return ISD
    for label in (ICPD, IUPD):
        if label in found:
            return label
    return NE


def recist11_case(case: IrecistCase) -> recist.ResponseCase:
    """The same data read with plain RECIST 1.1: any new lesion is progression."""
    follow_ups = tuple(
        recist.FollowUp(
            date=fu.date,
            assessment_done=fu.assessment_done,
            target_measurements=fu.target_measurements,
            non_target_status=fu.non_target_status,
            new_lesions=bool(fu.new_lesion_ids) if fu.assessment_done else None,
        )
        for fu in case.follow_ups
    )
    return recist.ResponseCase(
        protocol=recist.ResponseProtocol(
            reference_date=case.protocol.reference_date,
            confirmation_min_interval_days=case.protocol.confirmation_min_interval_days,
            min_sd_duration_days=case.protocol.min_sd_duration_days,
        ),
        baseline_date=case.baseline_date,
        target_lesions=case.target_lesions,
        non_target_lesions=case.non_target_lesions,
        follow_ups=follow_ups,
        id=case.id,
    )


def recist11_result(case: IrecistCase) -> recist.ResponseResult:
    return recist.evaluate_response(recist11_case(case))
