"""Efficacy endpoints: ORR, DCR, PFS, OS and DoR with their intervals (pure: no Django, no database).

The rules are those of docs/domain/case-files.md, "Efficacy endpoints case", and docs/endpoints.md:

- Times are whole days from the subject's anchor date; only subjects in the analysis set count.
- ORR (CR + PR) and DCR (CR + PR + SD + NON_CR_NON_PD) with exact Clopper-Pearson intervals.
- PFS: the event is the earlier of progression and death. When a new anticancer therapy starts before
  that event (or there is no event) PFS is censored at the last adequate assessment on or before the
  therapy start (or at the last adequate assessment at all), at day 0 when there is none.
- OS: death, otherwise censored at the last known alive date. DoR, over responders: from the first
  response to the PFS event, censored as PFS is.
- Kaplan-Meier estimates computed in exact rational arithmetic (``Fraction``), so that an estimate of
  exactly one half (11/22) is at or below 0.5; Greenwood's variance; the pointwise interval with the
  log(-log) transform; the median and its interval by inverting that interval; landmark rates.

Inputs are frozen dataclasses; figures keep full precision and are rounded (4 decimals, half up) only
by ``to_dict()``. scipy gives the beta and normal quantiles.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Final

from scipy.stats import beta, norm

RESPONSES: Final = ("CR", "PR", "SD", "NON_CR_NON_PD", "PD", "NE")
RESPONDERS: Final = frozenset({"CR", "PR"})
DISEASE_CONTROL: Final = frozenset({"CR", "PR", "SD", "NON_CR_NON_PD"})
DECIMALS: Final = 4


class EndpointInputError(ValueError):
    """The subject-level data contradict the derivation rules; ``field`` names the subject's field."""

    def __init__(self, subject_id: str, field_name: str | None, message: str) -> None:
        self.subject_id = subject_id
        self.field = field_name
        self.message = message
        super().__init__(
            f"{subject_id}: {field_name}: {message}" if field_name else f"{subject_id}: {message}"
        )


# --- inputs -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubjectOutcome:
    """One enrolled subject's data as the endpoints need them (the case format's subject)."""

    id: str
    in_analysis_set: bool
    anchor_date: dt.date
    best_response: str
    last_known_alive_date: dt.date | None = None
    first_response_date: dt.date | None = None
    progression_date: dt.date | None = None
    death_date: dt.date | None = None
    new_anticancer_therapy_date: dt.date | None = None
    last_adequate_assessment_date: dt.date | None = None
    subgroups: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if self.best_response not in RESPONSES:
            raise EndpointInputError(self.id, "best_response", f"{self.best_response!r} is not a response")

    @property
    def is_responder(self) -> bool:
        return self.best_response in RESPONDERS

    def subgroup(self, name: str) -> str | None:
        return dict(self.subgroups).get(name)


@dataclass(frozen=True)
class EndpointsCase:
    """One analysis of one study: its subjects, the confidence level and the landmark days."""

    subjects: tuple[SubjectOutcome, ...]
    confidence_level: Fraction = Fraction(95, 100)
    landmarks_days: tuple[int, ...] = ()
    id: str = ""

    def __post_init__(self) -> None:
        if not 0 < self.confidence_level < 1:
            raise ValueError(f"confidence_level must be between 0 and 1, got {self.confidence_level}")


@dataclass(frozen=True)
class Observation:
    """One subject's time (whole days) and whether it ends in the event (False: censored)."""

    time: int
    event: bool
    subject_id: str = ""


# --- rounding (only at output) ------------------------------------------------------------------------


def rounded(value: Fraction | float | None, decimals: int = DECIMALS) -> float | None:
    """``value`` rounded half up to ``decimals`` places, from its exact value (None stays None)."""
    if value is None:
        return None
    exact = Fraction(value)
    scale: int = 10**decimals
    return math.floor(exact * scale + Fraction(1, 2)) / scale


def _interval(ci: tuple[float | None, float | None]) -> list[float | None]:
    return [rounded(ci[0]), rounded(ci[1])]


# --- proportions ------------------------------------------------------------------------------------


def clopper_pearson(
    successes: int, n: int, confidence_level: Fraction | float = Fraction(95, 100)
) -> tuple[float | None, float | None]:
    """The exact two-sided interval of a binomial proportion; (None, None) when n is 0.

    With no success the lower bound is 0.0, with all successes the upper bound is 1.0.
    """
    if not 0 <= successes <= n:
        raise ValueError(f"successes must be within 0..n, got {successes} of {n}")
    if n == 0:
        return (None, None)
    alpha = 1 - float(confidence_level)
    lower = 0.0 if successes == 0 else float(beta.ppf(alpha / 2, successes, n - successes + 1))
    upper = 1.0 if successes == n else float(beta.ppf(1 - alpha / 2, successes + 1, n - successes))
    return (lower, upper)


@dataclass(frozen=True)
class Proportion:
    n: int
    responders: int
    rate: Fraction | None
    ci: tuple[float | None, float | None]

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "responders": self.responders,
            "rate": rounded(self.rate),
            "ci": _interval(self.ci),
        }


def proportion(successes: int, n: int, confidence_level: Fraction | float = Fraction(95, 100)) -> Proportion:
    return Proportion(
        n=n,
        responders=successes,
        rate=Fraction(successes, n) if n else None,
        ci=clopper_pearson(successes, n, confidence_level),
    )


# --- Kaplan-Meier -----------------------------------------------------------------------------------


def z_value(confidence_level: Fraction | float) -> float:
    """The two-sided standard normal quantile (1.959964 for 0.95)."""
    return float(norm.ppf(1 - (1 - float(confidence_level)) / 2))


@dataclass(frozen=True)
class Step:
    """The curve at one distinct observed time: counts there and the estimate just after it."""

    time: int
    at_risk: int
    events: int
    censored: int
    survival: Fraction
    greenwood: Fraction | None  # sum of d / (n (n - d)) up to this time; None once the estimate is 0
    lower: float | None
    upper: float | None


def loglog_band(
    survival: Fraction, greenwood: Fraction | None, z: float
) -> tuple[float | None, float | None]:
    """The pointwise interval of S(t) with the log(-log) transform and Greenwood's variance.

    S = 1 (no event yet) gives [1, 1]; S = 0 (nobody left) has no interval: (None, None).
    """
    if survival == 1:
        return (1.0, 1.0)
    if survival == 0 or greenwood is None:
        return (None, None)
    s = float(survival)
    log_s = math.log(s)  # negative
    half_width = z * math.sqrt(float(greenwood)) / abs(log_s)
    return (s ** math.exp(half_width), s ** math.exp(-half_width))


@dataclass(frozen=True)
class Landmark:
    day: int
    rate: Fraction | None
    ci: tuple[float | None, float | None]
    at_risk: int

    def to_dict(self) -> dict[str, Any]:
        return {"rate": rounded(self.rate), "ci": _interval(self.ci), "at_risk": self.at_risk}


@dataclass(frozen=True)
class KaplanMeier:
    """The Kaplan-Meier estimate of a set of observations, one step per distinct time."""

    observations: tuple[Observation, ...]
    steps: tuple[Step, ...]
    confidence_level: Fraction | float

    @property
    def n(self) -> int:
        return len(self.observations)

    @property
    def events(self) -> int:
        return sum(1 for o in self.observations if o.event)

    @property
    def last_time(self) -> int | None:
        return self.steps[-1].time if self.steps else None

    def _step_at(self, day: int) -> Step | None:
        found = None
        for step in self.steps:
            if step.time > day:
                break
            found = step
        return found

    def survival_at(self, day: int) -> Fraction:
        """S(day): the estimate after every event on or before that day (right-continuous)."""
        step = self._step_at(day)
        return Fraction(1) if step is None else step.survival

    def band_at(self, day: int) -> tuple[float | None, float | None]:
        step = self._step_at(day)
        return (1.0, 1.0) if step is None else (step.lower, step.upper)

    def at_risk(self, day: int) -> int:
        """The subjects whose time is at least ``day``."""
        return sum(1 for o in self.observations if o.time >= day)

    def median(self) -> int | None:
        """The smallest time at which the estimate is at or below one half (exactly); None if never."""
        return next((s.time for s in self.steps if s.events and s.survival <= Fraction(1, 2)), None)

    def median_ci(self) -> tuple[int | None, int | None]:
        """The median's interval: the smallest times at which the lower and the upper band reach 0.5."""

        def first(bound: int) -> int | None:
            for s in self.steps:
                value = (s.lower, s.upper)[bound]
                if s.events and value is not None and value <= 0.5:
                    return s.time
            return None

        return (first(0), first(1))

    def landmark(self, day: int) -> Landmark:
        """The estimate at ``day`` with its interval; beyond the last observation it is not estimable
        (rate None) unless the estimate already reached 0."""
        at_risk = self.at_risk(day)
        rate = self.survival_at(day)
        if at_risk == 0 and rate != 0 and self.last_time is not None and day > self.last_time:
            return Landmark(day=day, rate=None, ci=(None, None), at_risk=0)
        return Landmark(day=day, rate=rate, ci=self.band_at(day), at_risk=at_risk)

    def numbers_at_risk(self, days: Iterable[int]) -> list[int]:
        return [self.at_risk(day) for day in days]


def kaplan_meier(
    observations: Iterable[Observation], confidence_level: Fraction | float = Fraction(95, 100)
) -> KaplanMeier:
    """The Kaplan-Meier estimate; an event and a censoring on the same day: the event comes first
    (the censored subject was still at risk of it)."""
    obs = tuple(sorted(observations, key=lambda o: (o.time, not o.event)))
    for o in obs:
        if o.time < 0:
            raise ValueError(f"{o.subject_id or 'an observation'}: time {o.time} is before day 0")
    z = z_value(confidence_level)
    steps: list[Step] = []
    at_risk = len(obs)
    survival = Fraction(1)
    greenwood: Fraction | None = Fraction(0)
    times = sorted({o.time for o in obs})
    by_time: dict[int, list[Observation]] = {t: [] for t in times}
    for o in obs:
        by_time[o.time].append(o)
    for t in times:
        here = by_time[t]
        events = sum(1 for o in here if o.event)
        censored = len(here) - events
        if events:
            survival *= Fraction(at_risk - events, at_risk)
            if greenwood is not None:
                greenwood = (
                    None if at_risk == events else greenwood + Fraction(events, at_risk * (at_risk - events))
                )
        lower, upper = loglog_band(survival, greenwood, z)
        steps.append(Step(t, at_risk, events, censored, survival, greenwood, lower, upper))
        at_risk -= len(here)
    return KaplanMeier(observations=obs, steps=tuple(steps), confidence_level=confidence_level)


@dataclass(frozen=True)
class SurvivalSummary:
    n: int
    events: int
    median_days: int | None
    median_ci: tuple[int | None, int | None]
    landmarks: tuple[Landmark, ...]
    curve: KaplanMeier = field(repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "events": self.events,
            "median_days": self.median_days,
            "median_ci": list(self.median_ci),
            "landmarks": {str(lm.day): lm.to_dict() for lm in self.landmarks},
        }


def survival_summary(
    observations: Iterable[Observation],
    *,
    confidence_level: Fraction | float = Fraction(95, 100),
    landmarks_days: Sequence[int] = (),
) -> SurvivalSummary:
    curve = kaplan_meier(observations, confidence_level)
    return SurvivalSummary(
        n=curve.n,
        events=curve.events,
        median_days=curve.median(),
        median_ci=curve.median_ci(),
        landmarks=tuple(curve.landmark(day) for day in landmarks_days),
        curve=curve,
    )


# --- derivation of the time-to-event endpoints ----------------------------------------------------------


def _days(subject: SubjectOutcome, date: dt.date) -> int:
    return (date - subject.anchor_date).days


def pfs_date(subject: SubjectOutcome) -> tuple[dt.date | None, bool]:
    """The date PFS ends at and whether it is an event; (None, False) is a censoring at day 0.

    The event is the earlier of progression and death, unless a new anticancer therapy started before
    it: then (and without an event) PFS is censored at the last adequate assessment, which must be on
    or before the therapy start.
    """
    candidates = [d for d in (subject.progression_date, subject.death_date) if d is not None]
    event = min(candidates) if candidates else None
    therapy = subject.new_anticancer_therapy_date
    if event is not None and (therapy is None or therapy >= event):
        return event, True
    last = subject.last_adequate_assessment_date
    if last is not None and therapy is not None and last > therapy:
        raise EndpointInputError(
            subject.id,
            "last_adequate_assessment_date",
            f"{last} is after new_anticancer_therapy_date {therapy}: PFS is censored at the last "
            "adequate assessment on or before the therapy start; give that assessment's date",
        )
    return last, False


def pfs_observation(subject: SubjectOutcome) -> Observation:
    date, event = pfs_date(subject)
    return Observation(time=0 if date is None else _days(subject, date), event=event, subject_id=subject.id)


def os_observation(subject: SubjectOutcome) -> Observation:
    if subject.death_date is not None:
        return Observation(time=_days(subject, subject.death_date), event=True, subject_id=subject.id)
    if subject.last_known_alive_date is None:
        raise EndpointInputError(subject.id, "last_known_alive_date", "required when there is no death_date")
    return Observation(time=_days(subject, subject.last_known_alive_date), event=False, subject_id=subject.id)


def dor_observation(subject: SubjectOutcome) -> Observation:
    """From the first response to the PFS event, censored as PFS is (responders only)."""
    if not subject.is_responder or subject.first_response_date is None:
        raise EndpointInputError(subject.id, "first_response_date", "DoR needs a responder's first response")
    date, event = pfs_date(subject)
    end = subject.anchor_date if date is None else date
    time = (end - subject.first_response_date).days
    if time < 0:
        raise EndpointInputError(
            subject.id,
            "first_response_date",
            f"{subject.first_response_date} is after the date DoR ends at ({end})",
        )
    return Observation(time=time, event=event, subject_id=subject.id)


# --- the whole analysis ------------------------------------------------------------------------------


@dataclass(frozen=True)
class EndpointsResult:
    orr: Proportion
    dcr: Proportion
    pfs: SurvivalSummary
    os: SurvivalSummary
    dor: SurvivalSummary
    orr_by_subgroup: Mapping[str, Mapping[str, Proportion]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "orr": self.orr.to_dict(),
            "dcr": self.dcr.to_dict(),
            "pfs": self.pfs.to_dict(),
            "os": self.os.to_dict(),
            "dor": self.dor.to_dict(),
            "orr_by_subgroup": {
                name: {value: p.to_dict() for value, p in values.items()}
                for name, values in self.orr_by_subgroup.items()
            },
        }


def subgroup_orr(
    subjects: Sequence[SubjectOutcome], confidence_level: Fraction | float
) -> dict[str, dict[str, Proportion]]:
    """ORR per value of every subgroup variable (names and values sorted); a subject without a value
    for a variable is not counted in that variable's table."""
    names = sorted({name for s in subjects for name, _ in s.subgroups})
    table: dict[str, dict[str, Proportion]] = {}
    for name in names:
        values = sorted({v for s in subjects if (v := s.subgroup(name)) is not None})
        table[name] = {}
        for value in values:
            members = [s for s in subjects if s.subgroup(name) == value]
            table[name][value] = proportion(
                sum(1 for s in members if s.is_responder), len(members), confidence_level
            )
    return table


def evaluate_endpoints(case: EndpointsCase) -> EndpointsResult:
    """Every endpoint of one analysis, over the subjects in the analysis set."""
    subjects = [s for s in case.subjects if s.in_analysis_set]
    level = case.confidence_level
    n = len(subjects)
    responders = [s for s in subjects if s.is_responder]

    def summary(observations: list[Observation]) -> SurvivalSummary:
        return survival_summary(observations, confidence_level=level, landmarks_days=case.landmarks_days)

    return EndpointsResult(
        orr=proportion(len(responders), n, level),
        dcr=proportion(sum(1 for s in subjects if s.best_response in DISEASE_CONTROL), n, level),
        pfs=summary([pfs_observation(s) for s in subjects]),
        os=summary([os_observation(s) for s in subjects]),
        dor=summary([dor_observation(s) for s in responders]),
        orr_by_subgroup=subgroup_orr(subjects, level),
    )
