"""RECIST 1.1: measurability, target selection, time-point response and best overall response.

Pure module: no Django. Rules follow ``docs/domain/response-criteria.md`` (vendored) section A; the
inputs are frozen dataclasses (built from the case-file format by ``casefiles.py`` or from the ORM by
a service), protocol parameters (reference date, confirmation interval, minimum SD duration) are
passed in, and every threshold is computed with ``Decimal`` so that boundaries are exact.

Design choices the rules leave open, written down so the SAP can quote them:

* An equivocal new lesion is entered as ``new_lesions="equivocal"`` on a follow-up. It does not make
  that time point PD by itself. When a later follow-up reports ``new_lesions=True`` with only
  equivocal (or not-done) assessments in between, the lesion is taken as confirmed and PD is dated
  from the first follow-up of that equivocal run (A6); a follow-up with ``new_lesions=False`` ends the
  run (the finding resolved). An equivocal finding never confirmed is reported as ``"equivocal"``.
* Target CR is checked before PD: with every non-nodal target at 0 mm and every node under 10 mm
  short axis, small nodal changes are not a reappearance (A8, "Reappearance").
* After a time point with target CR, a target that reappears (a non-nodal target above 0 mm, or a
  node back to >= 10 mm short axis) is target PD (A8: after a definite CR any reappearance is PD).
* A CR/PR is confirmed by a later CR/PR at least ``confirmation_min_interval_days`` after it; NE
  time points in between do not break the confirmation, an SD/PD in between does. CR followed by PR
  is scored as a confirmed PR (the "CR" was residual disease, A8).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

CR = "CR"
PR = "PR"
SD = "SD"
PD = "PD"
NE = "NE"
NON_CR_NON_PD = "NON_CR_NON_PD"

PRESENT = "present"
ABSENT = "absent"
UNEQUIVOCAL_PROGRESSION = "unequivocal_progression"
NOT_EVALUATED = "not_evaluated"
NON_TARGET_STATUSES = (PRESENT, ABSENT, UNEQUIVOCAL_PROGRESSION, NOT_EVALUATED)

EQUIVOCAL = "equivocal"

TOO_SMALL_TO_MEASURE_MM = Decimal(5)
PD_MIN_INCREASE_MM = Decimal(5)
PD_MIN_RATIO = Decimal("1.2")
PR_MAX_RATIO = Decimal("0.7")
NODE_NORMAL_BELOW_MM = Decimal(10)
NODE_MEASURABLE_MIN_SA_MM = Decimal(15)
NON_NODAL_MIN_LD_MM = Decimal(10)
CHEST_XRAY_MIN_LD_MM = Decimal(20)
THIN_SLICE_MAX_MM = Decimal(5)

MAX_TARGETS = 5
MAX_TARGETS_PER_ORGAN = 2
LYMPH_NODE_ORGAN = "lymph_node"
PAIRED_ORGANS = ("lung", "kidney", "ovary")


# ---------------------------------------------------------------------------------------------
# Inputs


@dataclass(frozen=True)
class TargetLesion:
    id: str
    organ: str
    nodal: bool
    diameter_mm: Decimal
    site: str = ""


@dataclass(frozen=True)
class NonTargetLesion:
    id: str
    organ: str
    nodal: bool
    site: str = ""
    description: str = ""


MEASURED = "measured"
TOO_SMALL = "too_small"
FRAGMENTS = "fragments"
MERGED = "merged"
NOT_ASSESSED = "not_assessed"


@dataclass(frozen=True)
class Measurement:
    """One target's value at one follow-up, in one of the five forms the case format allows."""

    kind: str
    value_mm: Decimal | None = None
    fragments_mm: tuple[Decimal, ...] = ()
    merged_into: str | None = None

    @classmethod
    def measured(cls, mm: int | Decimal) -> Measurement:
        return cls(MEASURED, value_mm=Decimal(mm))

    @classmethod
    def too_small(cls) -> Measurement:
        return cls(TOO_SMALL)

    @classmethod
    def fragments(cls, *mm: int | Decimal) -> Measurement:
        return cls(FRAGMENTS, fragments_mm=tuple(Decimal(m) for m in mm))

    @classmethod
    def merged(cls, into: str) -> Measurement:
        return cls(MERGED, merged_into=into)

    @classmethod
    def not_assessed(cls) -> Measurement:
        return cls(NOT_ASSESSED)

    @property
    def counted_mm(self) -> Decimal | None:
        """The value that enters the sum; None when the lesion was not assessed."""
        if self.kind == MEASURED:
            return self.value_mm
        if self.kind == TOO_SMALL:
            return TOO_SMALL_TO_MEASURE_MM
        if self.kind == FRAGMENTS:
            return sum(self.fragments_mm, Decimal(0))
        if self.kind == MERGED:
            # The merged mass is measured on the lesion it merged into.
            return Decimal(0)
        return None


@dataclass(frozen=True)
class FollowUp:
    date: date
    assessment_done: bool = True
    target_measurements: Mapping[str, Measurement] = field(default_factory=dict)
    non_target_status: Mapping[str, str] = field(default_factory=dict)
    # True, False, "equivocal" (see module docstring) or None when the assessment was not done.
    new_lesions: bool | str | None = False


@dataclass(frozen=True)
class ResponseProtocol:
    reference_date: date
    confirmation_min_interval_days: int = 28
    min_sd_duration_days: int = 42


@dataclass(frozen=True)
class ResponseCase:
    protocol: ResponseProtocol
    baseline_date: date
    target_lesions: tuple[TargetLesion, ...]
    non_target_lesions: tuple[NonTargetLesion, ...]
    follow_ups: tuple[FollowUp, ...]
    id: str = ""


# ---------------------------------------------------------------------------------------------
# Arithmetic


def _num(value: Decimal | None) -> int | float | None:
    """JSON-friendly number: integral values as int, others as float."""
    if value is None:
        return None
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def sum_of_diameters(targets: Iterable[TargetLesion]) -> Decimal:
    """Baseline sum: non-nodal longest diameters plus nodal short axes."""
    return sum((t.diameter_mm for t in targets), Decimal(0))


def pct_change(value: Decimal, reference: Decimal) -> Decimal | None:
    """Percent change from ``reference``, one decimal, half up."""
    if reference == 0:
        return None
    pct = (Decimal(value) - Decimal(reference)) * 100 / Decimal(reference)
    return pct.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def meets_pd_threshold(current: Decimal, nadir: Decimal) -> bool:
    """+5 mm and +20 % over the nadir, both inclusive."""
    return current - nadir >= PD_MIN_INCREASE_MM and current >= PD_MIN_RATIO * nadir


def meets_pr_threshold(current: Decimal, baseline: Decimal) -> bool:
    """A fall of at least 30 % from baseline, inclusive."""
    return current <= PR_MAX_RATIO * baseline


# ---------------------------------------------------------------------------------------------
# Target, non-target and overall time-point response


@dataclass(frozen=True)
class TargetEvaluation:
    response: str
    sum_mm: Decimal | None  # None when a target is missing
    measured_sum_mm: Decimal | None  # None when no target was measured at all
    all_disappeared: bool = False


def evaluate_targets(
    targets: Sequence[TargetLesion],
    measurements: Mapping[str, Measurement],
    *,
    baseline_sum: Decimal,
    nadir: Decimal,
    after_cr: bool = False,
) -> TargetEvaluation:
    """Target response (A4) against baseline (shrinkage) and the nadir (growth)."""
    values: dict[str, Decimal | None] = {
        t.id: measurements.get(t.id, Measurement.not_assessed()).counted_mm for t in targets
    }
    measured = [v for v in values.values() if v is not None]
    measured_sum = sum(measured, Decimal(0)) if measured else None
    if len(measured) < len(values):
        # The missing ones can only add to the sum, so PD on the measured ones stands.
        if measured_sum is not None and meets_pd_threshold(measured_sum, nadir):
            return TargetEvaluation(PD, None, measured_sum)
        return TargetEvaluation(NE, None, measured_sum)

    current = measured_sum if measured_sum is not None else Decimal(0)
    # Every target is measured here, so no value is None.
    complete = {key: value for key, value in values.items() if value is not None}
    disappeared = all(
        (complete[t.id] < NODE_NORMAL_BELOW_MM) if t.nodal else (complete[t.id] == 0) for t in targets
    )
    if disappeared:
        return TargetEvaluation(CR, current, current, all_disappeared=True)
    if after_cr:
        # Any reappearance after CR is progression, whatever the size.
        return TargetEvaluation(PD, current, current)
    if meets_pd_threshold(current, nadir):
        return TargetEvaluation(PD, current, current)
    if meets_pr_threshold(current, baseline_sum):
        return TargetEvaluation(PR, current, current)
    return TargetEvaluation(SD, current, current)


def non_target_response(statuses: Iterable[str]) -> str | None:
    """Non-target response (A5); None when the patient has no non-target lesions."""
    statuses = list(statuses)
    if not statuses:
        return None
    if UNEQUIVOCAL_PROGRESSION in statuses:
        return PD
    if NOT_EVALUATED in statuses:
        return NE
    if all(s == ABSENT for s in statuses):
        return CR
    return NON_CR_NON_PD


def overall_response(target: str | None, non_target: str | None, new_lesions: bool) -> str:
    """Time-point response: Table 1 with targets, Table 2 with non-target disease only."""
    if new_lesions:
        return PD
    if target is None:
        if non_target is None:
            return NE
        if non_target == PD:
            return PD
        if non_target == NE:
            return NE
        if non_target == CR:
            return CR
        return NON_CR_NON_PD
    if target == PD or non_target == PD:
        return PD
    if target == NE:
        return NE
    if target == CR:
        return CR if non_target in (CR, None) else PR
    if target == PR:
        return PR
    return SD


# ---------------------------------------------------------------------------------------------
# Best overall response

_RESPONDING = (CR, PR)
_STABLE = (SD, NON_CR_NON_PD)


def _days(later: date, earlier: date) -> int:
    return (later - earlier).days


def confirmed_level(timepoints: Sequence[tuple[date, str]], index: int, min_interval_days: int) -> str | None:
    """CR or PR when the response at ``index`` is confirmed by a later one, else None."""
    first_date, first = timepoints[index]
    if first not in _RESPONDING:
        return None
    for later_date, later in timepoints[index + 1 :]:
        if later == NE:
            continue
        if later not in _RESPONDING:
            return None
        if _days(later_date, first_date) >= min_interval_days:
            return CR if first == CR and later == CR else PR
    return None


def truncate_at_first_pd(timepoints: Sequence[tuple[date, str]]) -> list[tuple[date, str]]:
    kept: list[tuple[date, str]] = []
    for tp in timepoints:
        kept.append(tp)
        if tp[1] == PD:
            break
    return kept


def best_overall_response(
    timepoints: Sequence[tuple[date, str]],
    *,
    reference_date: date,
    min_sd_duration_days: int,
    confirmation_min_interval_days: int | None = None,
    has_targets: bool = True,
) -> str:
    """BOR (A8). ``confirmation_min_interval_days=None`` scores without confirmation.

    Time points after the first PD are ignored. SD (NON_CR_NON_PD without targets) counts only at an
    assessment at least ``min_sd_duration_days`` after the reference date; short of that the BOR is
    PD when PD followed, else NE.
    """
    tps = truncate_at_first_pd(timepoints)
    stable_label = SD if has_targets else NON_CR_NON_PD

    def stable_met(responses: tuple[str, ...]) -> bool:
        return any(r in responses and _days(d, reference_date) >= min_sd_duration_days for d, r in tps)

    if confirmation_min_interval_days is None:
        found = {r for _, r in tps}
        for best in _RESPONDING:
            if best in found:
                return best
        for label in _STABLE:
            if stable_met((label,)):
                return label
    else:
        levels = {confirmed_level(tps, i, confirmation_min_interval_days) for i in range(len(tps))}
        for best in _RESPONDING:
            if best in levels:
                return best
        # An unconfirmed CR/PR still shows the disease did not progress (Table 3: CR/PR then SD).
        if stable_met((*_RESPONDING, *_STABLE)):
            return stable_label
    if any(r == PD for _, r in tps):
        return PD
    return NE


# ---------------------------------------------------------------------------------------------
# Whole case


@dataclass(frozen=True)
class TimepointResult:
    date: date
    target_response: str | None
    non_target_response: str | None
    new_lesions: bool | str | None
    overall_response: str
    sum_of_diameters_mm: Decimal | None = None
    sum_of_measured_targets_mm: Decimal | None = None
    pct_change_from_baseline: Decimal | None = None
    nadir_mm_before_this_assessment: Decimal | None = None
    has_targets: bool = True

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "date": self.date.isoformat(),
            "target_response": self.target_response,
            "non_target_response": self.non_target_response,
            "new_lesions": self.new_lesions,
            "overall_response": self.overall_response,
        }
        if self.has_targets:
            pct = self.pct_change_from_baseline
            out.update(
                {
                    "sum_of_diameters_mm": _num(self.sum_of_diameters_mm),
                    "sum_of_measured_targets_mm": _num(self.sum_of_measured_targets_mm),
                    "pct_change_from_baseline": None if pct is None else float(pct),
                    "nadir_mm_before_this_assessment": _num(self.nadir_mm_before_this_assessment),
                }
            )
        return out


@dataclass(frozen=True)
class ResponseResult:
    baseline_sum_mm: Decimal | None
    timepoints: tuple[TimepointResult, ...]
    best_overall_response_confirmation_required: str
    best_overall_response_no_confirmation: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "baseline_sum_mm": _num(self.baseline_sum_mm),
            "timepoints": [tp.to_dict() for tp in self.timepoints],
            "best_overall_response_confirmation_required": self.best_overall_response_confirmation_required,
            "best_overall_response_no_confirmation": self.best_overall_response_no_confirmation,
        }


def resolve_equivocal_new_lesions(flags: Sequence[bool | str | None]) -> list[bool | str | None]:
    """Date a confirmed equivocal new lesion from the first follow-up that showed it (A6)."""
    resolved = list(flags)
    run_start: int | None = None
    for i, flag in enumerate(flags):
        if flag == EQUIVOCAL:
            if run_start is None:
                run_start = i
        elif flag is True:
            if run_start is not None:
                for j in range(run_start, i):
                    if flags[j] == EQUIVOCAL:
                        resolved[j] = True
            run_start = None
        elif flag is False:
            run_start = None
        # None (assessment not done) neither confirms nor ends the run.
    return resolved


def evaluate_response(case: ResponseCase) -> ResponseResult:
    """Every follow-up's response up to and including the first PD, and both BORs."""
    targets = case.target_lesions
    has_targets = bool(targets)
    baseline_sum = sum_of_diameters(targets) if has_targets else None
    nadir = baseline_sum
    after_cr = False
    new_flags = resolve_equivocal_new_lesions([fu.new_lesions for fu in case.follow_ups])

    results: list[TimepointResult] = []
    for fu, new_flag in zip(case.follow_ups, new_flags, strict=True):
        nadir_before = nadir
        if not fu.assessment_done:
            tp = TimepointResult(
                date=fu.date,
                target_response=NE if has_targets else None,
                non_target_response=NE if case.non_target_lesions else None,
                new_lesions=None,
                overall_response=NE,
                nadir_mm_before_this_assessment=nadir_before,
                has_targets=has_targets,
            )
        else:
            target_eval = None
            if has_targets:
                assert baseline_sum is not None and nadir is not None
                target_eval = evaluate_targets(
                    targets,
                    fu.target_measurements,
                    baseline_sum=baseline_sum,
                    nadir=nadir,
                    after_cr=after_cr,
                )
            nt = non_target_response(
                fu.non_target_status.get(lesion.id, NOT_EVALUATED) for lesion in case.non_target_lesions
            )
            overall = overall_response(
                target_eval.response if target_eval else None, nt, new_lesions=new_flag is True
            )
            sum_mm = target_eval.sum_mm if target_eval else None
            tp = TimepointResult(
                date=fu.date,
                target_response=target_eval.response if target_eval else None,
                non_target_response=nt,
                new_lesions=new_flag,
                overall_response=overall,
                sum_of_diameters_mm=sum_mm,
                sum_of_measured_targets_mm=target_eval.measured_sum_mm if target_eval else None,
                pct_change_from_baseline=(
                    pct_change(sum_mm, baseline_sum)
                    if sum_mm is not None and baseline_sum is not None
                    else None
                ),
                nadir_mm_before_this_assessment=nadir_before,
                has_targets=has_targets,
            )
            if sum_mm is not None and nadir is not None:
                nadir = min(nadir, sum_mm)
            if target_eval is not None and target_eval.response == CR:
                after_cr = True
        results.append(tp)
        if tp.overall_response == PD:
            break

    series = [(tp.date, tp.overall_response) for tp in results]
    protocol = case.protocol
    return ResponseResult(
        baseline_sum_mm=baseline_sum,
        timepoints=tuple(results),
        best_overall_response_confirmation_required=best_overall_response(
            series,
            reference_date=protocol.reference_date,
            min_sd_duration_days=protocol.min_sd_duration_days,
            confirmation_min_interval_days=protocol.confirmation_min_interval_days,
            has_targets=has_targets,
        ),
        best_overall_response_no_confirmation=best_overall_response(
            series,
            reference_date=protocol.reference_date,
            min_sd_duration_days=protocol.min_sd_duration_days,
            has_targets=has_targets,
        ),
    )


# ---------------------------------------------------------------------------------------------
# Measurability (A1)

MEASURABLE = "measurable"
NON_MEASURABLE = "non_measurable"
NON_PATHOLOGICAL = "non_pathological"
NOT_A_LESION = "not_a_lesion"

NODAL = "nodal"
NON_NODAL = "non_nodal"
LESION_KINDS = (NODAL, NON_NODAL)

CT = "CT"
MRI = "MRI"
CHEST_XRAY = "chest_xray"
CLINICAL_CALIPER = "clinical_caliper"
ULTRASOUND = "ultrasound"
MODALITIES = (CT, MRI, CHEST_XRAY, CLINICAL_CALIPER, ULTRASOUND)

SOLID = "solid"
SIMPLE_CYST = "simple_cyst"
CYSTIC_METASTASIS = "cystic_metastasis"
LYTIC_BONE_WITH_SOFT_TISSUE = "lytic_bone_with_soft_tissue"
LYTIC_BONE_WITHOUT_SOFT_TISSUE = "lytic_bone_without_soft_tissue"
BLASTIC_BONE = "blastic_bone"
# Never measurable, whatever their size (A1).
ALWAYS_NON_MEASURABLE = (
    "leptomeningeal",
    "ascites",
    "pleural_effusion",
    "pericardial_effusion",
    "inflammatory_breast",
    "lymphangitic",
    "exam_only_mass",
    LYTIC_BONE_WITHOUT_SOFT_TISSUE,
    BLASTIC_BONE,
)
NATURES = (SOLID, SIMPLE_CYST, CYSTIC_METASTASIS, LYTIC_BONE_WITH_SOFT_TISSUE, *ALWAYS_NON_MEASURABLE)
SIZE_RULE_NATURES = (SOLID, CYSTIC_METASTASIS, LYTIC_BONE_WITH_SOFT_TISSUE)


@dataclass(frozen=True)
class LesionDescription:
    kind: str
    modality: str = CT
    organ: str = ""
    slice_thickness_mm: Decimal | None = None
    longest_diameter_mm: Decimal | None = None
    short_axis_mm: Decimal | None = None
    nature: str = SOLID
    previously_irradiated: bool = False
    progressed_since_local_treatment: bool = False
    caliper_measurable: bool = True
    well_defined_in_aerated_lung: bool = True


def minimum_measurable_ld(modality: str, slice_thickness_mm: Decimal | None) -> Decimal | None:
    """Smallest measurable longest diameter for a non-nodal lesion; None: never measurable."""
    if modality in (CT, MRI):
        if slice_thickness_mm is not None and slice_thickness_mm > THIN_SLICE_MAX_MM:
            return max(NON_NODAL_MIN_LD_MM, 2 * slice_thickness_mm)
        return NON_NODAL_MIN_LD_MM
    if modality == CLINICAL_CALIPER:
        return NON_NODAL_MIN_LD_MM
    if modality == CHEST_XRAY:
        return CHEST_XRAY_MIN_LD_MM
    return None  # ultrasound is not used for measurement


def classify_lesion(lesion: LesionDescription) -> str:
    """Baseline category: measurable, non_measurable, non_pathological or not_a_lesion."""
    if lesion.kind == NODAL:
        sa = lesion.short_axis_mm
        if sa is None or sa < NODE_NORMAL_BELOW_MM:
            return NON_PATHOLOGICAL
        if lesion.previously_irradiated and not lesion.progressed_since_local_treatment:
            return NON_MEASURABLE
        if lesion.modality == ULTRASOUND:
            return NON_MEASURABLE
        return MEASURABLE if sa >= NODE_MEASURABLE_MIN_SA_MM else NON_MEASURABLE

    if lesion.nature == SIMPLE_CYST:
        return NOT_A_LESION
    if lesion.nature not in SIZE_RULE_NATURES:
        return NON_MEASURABLE
    if lesion.previously_irradiated and not lesion.progressed_since_local_treatment:
        return NON_MEASURABLE
    if lesion.modality == CLINICAL_CALIPER and not lesion.caliper_measurable:
        return NON_MEASURABLE
    if lesion.modality == CHEST_XRAY and not lesion.well_defined_in_aerated_lung:
        return NON_MEASURABLE
    minimum = minimum_measurable_ld(lesion.modality, lesion.slice_thickness_mm)
    ld = lesion.longest_diameter_mm
    if minimum is None or ld is None:
        return NON_MEASURABLE
    return MEASURABLE if ld >= minimum else NON_MEASURABLE


# ---------------------------------------------------------------------------------------------
# Target selection (A2)


@dataclass(frozen=True)
class ProposedTarget:
    id: str
    organ: str
    nodal: bool
    diameter_mm: Decimal
    modality: str = CT
    slice_thickness_mm: Decimal | None = None
    nature: str = SOLID
    previously_irradiated: bool = False
    progressed_since_local_treatment: bool = False

    def description(self) -> LesionDescription:
        return LesionDescription(
            kind=NODAL if self.nodal else NON_NODAL,
            modality=self.modality,
            organ=self.organ,
            slice_thickness_mm=self.slice_thickness_mm,
            longest_diameter_mm=None if self.nodal else self.diameter_mm,
            short_axis_mm=self.diameter_mm if self.nodal else None,
            nature=self.nature,
            previously_irradiated=self.previously_irradiated,
            progressed_since_local_treatment=self.progressed_since_local_treatment,
        )


def organ_unit(organ: str, nodal: bool) -> str:
    """The unit of the per-organ limit: all nodes are one organ, paired organs are one organ."""
    if nodal:
        return LYMPH_NODE_ORGAN
    name = organ.strip().lower()
    for side in ("left_", "right_", "left ", "right "):
        if name.startswith(side) and name[len(side) :] in PAIRED_ORGANS:
            return name[len(side) :]
    return name


@dataclass(frozen=True)
class SelectionResult:
    valid: bool
    errors: tuple[str, ...]
    sum_of_diameters_mm: Decimal

    def to_dict(self) -> dict[str, Any]:
        return {"valid": self.valid, "errors": list(self.errors)}


def validate_target_selection(
    targets: Sequence[ProposedTarget],
    *,
    max_targets: int = MAX_TARGETS,
    max_per_organ: int = MAX_TARGETS_PER_ORGAN,
) -> SelectionResult:
    errors: list[str] = []
    if len(targets) > max_targets:
        errors.append(f"{len(targets)} targets: at most {max_targets} in total")
    ids = Counter(t.id for t in targets)
    for lesion_id, n in ids.items():
        if n > 1:
            errors.append(f"target id {lesion_id} used {n} times")
    per_organ = Counter(organ_unit(t.organ, t.nodal) for t in targets)
    for organ, n in per_organ.items():
        if n > max_per_organ:
            errors.append(f"{n} targets in organ {organ}: at most {max_per_organ} per organ")
    for t in targets:
        category = classify_lesion(t.description())
        if category != MEASURABLE:
            errors.append(f"target {t.id} is {category}, not measurable")
    return SelectionResult(
        valid=not errors,
        errors=tuple(errors),
        sum_of_diameters_mm=sum((t.diameter_mm for t in targets), Decimal(0)),
    )
