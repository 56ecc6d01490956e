"""The visit schedule: planned visits with target dates and windows from a study's visit definitions.

Pure: no Django. The semantics of every definition field are fixed in docs/definitions.md; this module
implements them. Choices this module makes where the contract is silent are marked "Choice:" below.

Rules, in the order ``plan`` applies them:

1. A definition whose anchor date is unknown is not planned. ``unscheduled`` definitions never are.
2. Occurrence k (0-based) of a repeating definition targets ``anchor + offset + k * interval``
   (``repeat_from="anchor"``), or the previous occurrence's actual date (when known, else its target)
   plus the interval (``repeat_from="previous_actual"``: a delayed cycle re-anchors the next ones).
   A definition expands while the occurrence's offset from its anchor is <= ``repeat_until_day``, while
   there are fewer than ``repeat_count`` occurrences, and while the target is on or before the horizon.
3. Definitions sharing a ``series`` form one sequence: the series switches to a later definition at
   that definition's first target (an earlier definition's occurrences on or after it are dropped), and
   ``{n}`` numbers the sequence continuously (seed 000: IMG12W's first scan is Imaging 9).
4. Events cut tails: ``stop`` definitions (and every ``treatment`` visit) have no occurrence after the
   last dose or at/after ``max_treatment_days`` from the first dose; ``continue_unless_progression``
   ones have none after the end of treatment when it ended for progression; nothing is planned after
   death, and no occurrence of a repeating series after the horizon (one-off visits such as the end of
   treatment and the safety follow-up are planned whenever their anchor is known).
5. Windows are [target - before, target + after], inclusive. Where two adjacent windows of one series
   would overlap, both are clipped at the midpoint between the targets: the earlier window keeps the
   midpoint day itself (when the gap is even), the later one starts the day after. Only a window that
   crosses the midpoint is clipped, so a window always contains its target.
6. A definition with ``anchor_visit`` is planned after the others, once per planned occurrence of that
   definition (its "parent", e.g. each cycle): occurrence k targets the parent's date (its actual date
   when known, else its target) + offset + k * interval (``repeat_from="previous_actual"``: the previous
   occurrence's actual date + interval), so the visits follow a delayed parent. An occurrence on or
   after the next parent's date is not planned (that day belongs to the next parent visit), and its
   window stays strictly between the two parents' dates. ``repeat_until_day`` still counts from the
   definition's ``anchor`` date (the parent's own anchor). Occurrences are coded
   ``<code><parent number>D<day>`` (``CETW2D15``: day 15 of cycle 2, the parent's date being day 1), and
   ``{cycle}`` / ``{day}`` in the name give the parent's number and that day.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

KINDS = (
    "screening",
    "treatment",
    "imaging",
    "end_of_treatment",
    "safety_follow_up",
    "survival_follow_up",
    "unscheduled",
)
ANCHORS = ("consent", "enrollment", "first_dose", "last_dose", "end_of_treatment")
REPEAT_FROM = ("anchor", "previous_actual")
ON_END_OF_TREATMENT = ("stop", "continue_unless_progression", "continue")

# Choice: only radiological/clinical progression recorded as "progression" stops imaging; every other
# reason keeps imaging on schedule so that progression-free survival stays measurable.
EOT_PROGRESSION = "progression"
EOT_REASONS = (
    EOT_PROGRESSION,
    "toxicity",
    "withdrawal",
    "investigator_decision",
    "completed",
    "death",
    "lost_to_follow_up",
    "other",
)


@dataclass(frozen=True)
class VisitDefinitionSpec:
    code: str
    name: str
    kind: str
    series: str = ""
    anchor: str = "first_dose"
    repeat_from: str = "anchor"
    offset_days: int = 0
    window_before_days: int = 0
    window_after_days: int = 0
    repeat_interval_days: int | None = None
    repeat_until_day: int | None = None
    repeat_count: int | None = None
    on_end_of_treatment: str = "continue"
    phase: str = ""
    order: int = 0
    anchor_visit: str = ""  # code of the definition each of whose occurrences anchors this one (rule 6)

    @property
    def series_key(self) -> str:
        return self.series or self.code

    @property
    def repeats(self) -> bool:
        return self.repeat_interval_days is not None


@dataclass(frozen=True)
class ScheduleParams:
    """Protocol-level limits.

    ``horizon`` is an explicit last plannable date; when it is None the horizon is ``horizon_days``
    counted from the first dose; when both are None (or the first dose is unknown) there is none.
    """

    max_treatment_days: int | None = None
    horizon_days: int | None = None
    horizon: dt.date | None = None

    def horizon_date(self, first_dose: dt.date | None) -> dt.date | None:
        if self.horizon is not None:
            return self.horizon
        if self.horizon_days is not None and first_dose is not None:
            return first_dose + dt.timedelta(days=self.horizon_days)
        return None


@dataclass(frozen=True)
class SubjectDates:
    """A subject's anchor dates; ``actual`` maps occurrence codes (``CYCLE3``) to the visit's date."""

    consent: dt.date | None = None
    enrollment: dt.date | None = None
    first_dose: dt.date | None = None
    last_dose: dt.date | None = None
    end_of_treatment: dt.date | None = None
    eot_reason: str | None = None
    death: dt.date | None = None
    actual: Mapping[str, dt.date] = field(default_factory=dict)

    def anchor_date(self, anchor: str) -> dt.date | None:
        if anchor not in ANCHORS:
            raise ValueError(f"unknown anchor {anchor!r}")
        value: dt.date | None = getattr(self, anchor)
        return value

    @property
    def treatment_end(self) -> dt.date | None:
        """The date treatment ended: the end-of-treatment date, else the last dose."""
        return self.end_of_treatment or self.last_dose

    @property
    def ended_for_progression(self) -> bool:
        return self.eot_reason == EOT_PROGRESSION and self.treatment_end is not None


@dataclass(frozen=True)
class PlannedVisit:
    code: str
    name: str
    kind: str
    series: str
    definition: str
    occurrence: int  # 1-based within the definition (the number in ``code``)
    number: int  # 1-based within the series (the ``{n}`` in ``name``)
    target: dt.date
    window_start: dt.date
    window_end: dt.date
    phase: str = ""
    order: int = 0
    anchor_visit: str = ""  # the occurrence code of the parent visit (rule 6), e.g. "CYCLE2"

    def contains(self, day: dt.date) -> bool:
        return self.window_start <= day <= self.window_end


class UnboundedScheduleError(ValueError):
    """A series has no end (no until day, no count) and there is no horizon to stop it."""


def validate_definitions(defs: Iterable[VisitDefinitionSpec]) -> list[str]:
    """Problems in a set of visit definitions, in words; empty when the set is usable."""
    defs = list(defs)
    problems: list[str] = []
    seen: set[str] = set()
    for d in defs:
        where = f"visit {d.code!r}"
        if d.code in seen:
            problems.append(f"{where}: code is used twice")
        seen.add(d.code)
        if d.kind not in KINDS:
            problems.append(f"{where}: unknown kind {d.kind!r}")
        if d.anchor not in ANCHORS:
            problems.append(f"{where}: unknown anchor {d.anchor!r}")
        if d.repeat_from not in REPEAT_FROM:
            problems.append(f"{where}: unknown repeat_from {d.repeat_from!r}")
        if d.on_end_of_treatment not in ON_END_OF_TREATMENT:
            problems.append(f"{where}: unknown on_end_of_treatment {d.on_end_of_treatment!r}")
        if d.window_before_days < 0 or d.window_after_days < 0:
            problems.append(f"{where}: a window side is negative")
        if d.repeat_interval_days is None:
            if d.repeat_until_day is not None or d.repeat_count is not None:
                problems.append(f"{where}: repeat_until_day/repeat_count without repeat_interval_days")
            continue
        if d.repeat_interval_days <= 0:
            problems.append(f"{where}: repeat_interval_days must be positive")
            continue
        width = d.window_before_days + d.window_after_days + 1
        if width > d.repeat_interval_days:
            problems.append(
                f"{where}: window of {width} days (-{d.window_before_days}/+{d.window_after_days}) is wider "
                f"than its interval of {d.repeat_interval_days} days, so consecutive windows would overlap"
            )
        if d.repeat_count is not None and d.repeat_count <= 0:
            problems.append(f"{where}: repeat_count must be positive")
        # An anchored definition's offset counts from its parent, its until day from the anchor date.
        if d.repeat_until_day is not None and d.repeat_until_day < d.offset_days and not d.anchor_visit:
            problems.append(
                f"{where}: repeat_until_day {d.repeat_until_day} is before offset {d.offset_days}"
            )
    problems.extend(_anchored_problems(defs))

    by_series: dict[str, list[VisitDefinitionSpec]] = {}
    for d in defs:
        by_series.setdefault(d.series_key, []).append(d)
    for key, members in by_series.items():
        if len(members) < 2:
            continue
        if len({m.kind for m in members}) > 1:
            problems.append(f"series {key!r}: definitions of different kinds")
        if len({m.anchor for m in members}) > 1:
            problems.append(f"series {key!r}: definitions count from different anchors")
            continue
        members = sorted(members, key=lambda m: (m.offset_days, m.order))
        for earlier, later in itertools.pairwise(members):
            if earlier.repeats and earlier.repeat_until_day is None and earlier.repeat_count is None:
                problems.append(
                    f"series {key!r}: {earlier.code!r} repeats without end, so {later.code!r} never starts"
                )
            last = _last_offset(earlier)
            if last is not None and last >= later.offset_days:
                problems.append(
                    f"series {key!r}: {earlier.code!r} reaches day {last}, not before {later.code!r} "
                    f"starts on day {later.offset_days}"
                )
            elif last is not None and (
                last + earlier.window_after_days >= later.offset_days - later.window_before_days
            ):
                problems.append(
                    f"series {key!r}: the window of {earlier.code!r} on day {last} overlaps the window of "
                    f"{later.code!r} on day {later.offset_days}"
                )
    return problems


def _anchored_problems(defs: list[VisitDefinitionSpec]) -> list[str]:
    """Problems of definitions anchored on another definition's occurrences (rule 6)."""
    problems: list[str] = []
    by_code = {d.code: d for d in defs}
    for d in defs:
        if not d.anchor_visit:
            continue
        where = f"visit {d.code!r}"
        parent = by_code.get(d.anchor_visit)
        if parent is None:
            problems.append(
                f"{where}: anchor_visit {d.anchor_visit!r} names no visit definition of the study"
            )
            continue
        if parent.code == d.code:
            problems.append(f"{where}: anchor_visit names the visit itself")
            continue
        if parent.anchor_visit:
            problems.append(
                f"{where}: anchor_visit {parent.code!r} is itself anchored on a visit; one level only"
            )
        if d.anchor != parent.anchor:
            problems.append(
                f"{where}: anchor {d.anchor!r} is not the anchor {parent.anchor!r} of its anchor_visit "
                f"{parent.code!r}"
            )
        if d.series and d.series != d.code:
            problems.append(
                f"{where}: a visit anchored on another visit forms its own series; leave series blank"
            )
        if d.offset_days - d.window_before_days < 1:
            problems.append(
                f"{where}: its window opens on or before the day of {parent.code!r} (offset {d.offset_days}, "
                f"window before {d.window_before_days}); it must fall after it"
            )
        last = _last_offset_in_parent(d)
        if (
            parent.repeats
            and last is not None
            and last + d.window_after_days >= (parent.repeat_interval_days or 0)
        ):
            problems.append(
                f"{where}: reaches day {last + d.window_after_days} after each {parent.code!r}, not "
                f"before the next one {parent.repeat_interval_days} days later"
            )
    return problems


def _last_offset_in_parent(d: VisitDefinitionSpec) -> int | None:
    """An anchored definition's last offset from its parent's date, when its own fields fix it."""
    if not d.repeats:
        return d.offset_days
    if d.repeat_count is None:
        return None
    return d.offset_days + (d.repeat_count - 1) * (d.repeat_interval_days or 0)


def _last_offset(d: VisitDefinitionSpec) -> int | None:
    """The offset of a definition's last occurrence when fixed by its own fields (not by dates)."""
    if not d.repeats:
        return d.offset_days
    interval = d.repeat_interval_days or 0
    candidates = []
    if d.repeat_until_day is not None:
        candidates.append(d.offset_days + (d.repeat_until_day - d.offset_days) // interval * interval)
    if d.repeat_count is not None:
        candidates.append(d.offset_days + (d.repeat_count - 1) * interval)
    return min(candidates) if candidates else None


@dataclass(frozen=True)
class _Occurrence:
    spec: VisitDefinitionSpec
    index: int  # 1-based within the definition
    target: dt.date


def _expand(spec: VisitDefinitionSpec, dates: SubjectDates, horizon: dt.date | None) -> list[_Occurrence]:
    anchor = dates.anchor_date(spec.anchor)
    if anchor is None:
        return []
    first = anchor + dt.timedelta(days=spec.offset_days)
    # The horizon bounds series only: a one-off visit (end of treatment, the safety follow-up 30 days
    # after a last dose near the two-year limit) is an obligation that the study horizon does not lift.
    if horizon is not None and first > horizon and spec.repeats:
        return []
    out = [_Occurrence(spec, 1, first)]
    if not spec.repeats:
        return out
    interval = spec.repeat_interval_days or 0
    if interval <= 0:
        raise ValueError(f"visit {spec.code!r}: repeat_interval_days must be positive")
    if spec.repeat_until_day is None and spec.repeat_count is None and horizon is None:
        raise UnboundedScheduleError(
            f"visit {spec.code!r} repeats without end and no schedule horizon is known"
        )
    step = dt.timedelta(days=interval)
    while True:
        if spec.repeat_count is not None and len(out) >= spec.repeat_count:
            break
        prev = out[-1]
        if spec.repeat_from == "previous_actual":
            base = dates.actual.get(f"{spec.code}{prev.index}", prev.target)
            target = base + step
        else:
            target = first + step * len(out)
        if spec.repeat_until_day is not None and (target - anchor).days > spec.repeat_until_day:
            break
        if horizon is not None and target > horizon:
            break
        out.append(_Occurrence(spec, prev.index + 1, target))
    return out


def _cutoff(spec: VisitDefinitionSpec, dates: SubjectDates, params: ScheduleParams) -> dt.date | None:
    """The last date an occurrence of this definition may target, from the subject's events."""
    limits: list[dt.date] = []
    if dates.death is not None:
        limits.append(dates.death)
    is_treatment = spec.kind == "treatment" or spec.on_end_of_treatment == "stop"
    if is_treatment:
        if dates.treatment_end is not None:
            # The last dose is when treatment stopped; the EOT date is only the fallback.
            limits.append(dates.last_dose or dates.treatment_end)
        if params.max_treatment_days is not None and dates.first_dose is not None:
            limits.append(dates.first_dose + dt.timedelta(days=params.max_treatment_days - 1))
    elif spec.on_end_of_treatment == "continue_unless_progression" and dates.ended_for_progression:
        assert dates.treatment_end is not None
        limits.append(dates.treatment_end)
    return min(limits) if limits else None


def _name(spec: VisitDefinitionSpec, number: int, cycle: int | None = None, day: int | None = None) -> str:
    name = spec.name
    if cycle is not None and day is not None and ("{cycle}" in name or "{day}" in name):
        return name.replace("{cycle}", str(cycle)).replace("{day}", str(day)).replace("{n}", str(number))
    if "{n}" in name:
        return name.replace("{n}", str(number))
    # Choice: a repeating definition without {n} still gets its number, so occurrences stay distinct.
    return f"{name} {number}" if spec.repeats or cycle is not None else name


def _clip(visits: list[PlannedVisit]) -> list[PlannedVisit]:
    out = list(visits)
    for i in range(1, len(out)):
        a, b = out[i - 1], out[i]
        gap = (b.target - a.target).days
        if gap <= 0 or a.window_end < b.window_start:
            continue
        midpoint = a.target + dt.timedelta(days=gap // 2)
        out[i - 1] = replace(a, window_end=min(a.window_end, midpoint))
        out[i] = replace(b, window_start=max(b.window_start, midpoint + dt.timedelta(days=1)))
    return out


def plan(
    definitions: Sequence[VisitDefinitionSpec], dates: SubjectDates, params: ScheduleParams
) -> list[PlannedVisit]:
    """The planned visits for a subject, sorted by target date then definition order."""
    horizon = params.horizon_date(dates.first_dose)
    by_series: dict[str, list[VisitDefinitionSpec]] = {}
    anchored: list[VisitDefinitionSpec] = []
    for spec in definitions:
        if spec.kind == "unscheduled":
            continue
        if spec.anchor_visit:
            anchored.append(spec)
            continue
        by_series.setdefault(spec.series_key, []).append(spec)

    planned: list[PlannedVisit] = []
    for key, members in by_series.items():
        expanded = [(spec, _expand(spec, dates, horizon)) for spec in members]
        expanded = [(spec, occ) for spec, occ in expanded if occ]
        expanded.sort(key=lambda pair: (pair[1][0].target, pair[0].order, pair[0].code))
        sequence: list[_Occurrence] = []
        for i, (_spec, occ) in enumerate(expanded):
            if i + 1 < len(expanded):
                switch = expanded[i + 1][1][0].target
                occ = [o for o in occ if o.target < switch]
            sequence.extend(occ)

        visits: list[PlannedVisit] = []
        for number, o in enumerate(sequence, start=1):
            cutoff = _cutoff(o.spec, dates, params)
            if cutoff is not None and o.target > cutoff:
                continue
            code = f"{o.spec.code}{o.index}" if o.spec.repeats else o.spec.code
            visits.append(
                PlannedVisit(
                    code=code,
                    name=_name(o.spec, number),
                    kind=o.spec.kind,
                    series=key,
                    definition=o.spec.code,
                    occurrence=o.index,
                    number=number,
                    target=o.target,
                    window_start=o.target - dt.timedelta(days=o.spec.window_before_days),
                    window_end=o.target + dt.timedelta(days=o.spec.window_after_days),
                    phase=o.spec.phase,
                    order=o.spec.order,
                )
            )
        planned.extend(_clip(visits))

    # Rule 6: after every other definition, so that the parents' occurrences are known.
    parents_planned = list(planned)
    for spec in anchored:
        planned.extend(_plan_anchored(spec, parents_planned, dates, params, horizon))

    planned.sort(key=lambda v: (v.target, v.order, v.code))
    return planned


def _plan_anchored(
    spec: VisitDefinitionSpec,
    planned: Sequence[PlannedVisit],
    dates: SubjectDates,
    params: ScheduleParams,
    horizon: dt.date | None,
) -> list[PlannedVisit]:
    """The occurrences of a definition anchored on each planned occurrence of another (rule 6)."""
    anchor = dates.anchor_date(spec.anchor)
    if anchor is None:
        return []
    parents = sorted((v for v in planned if v.definition == spec.anchor_visit), key=lambda v: v.target)
    starts = [dates.actual.get(p.code, p.target) for p in parents]
    interval = dt.timedelta(days=spec.repeat_interval_days or 0)
    cutoff = _cutoff(spec, dates, params)
    visits: list[PlannedVisit] = []
    for i, parent in enumerate(parents):
        start = starts[i]
        next_start = starts[i + 1] if i + 1 < len(starts) else None
        unbounded = spec.repeat_until_day is None and horizon is None and cutoff is None
        if spec.repeats and spec.repeat_count is None and next_start is None and unbounded:
            raise UnboundedScheduleError(
                f"visit {spec.code!r} repeats after the last {spec.anchor_visit!r} without end and no "
                "schedule horizon is known"
            )
        k = 0
        previous: tuple[str, dt.date] | None = None
        while spec.repeat_count is None or k < spec.repeat_count:
            if k > 0 and not spec.repeats:
                break
            day = spec.offset_days + k * (spec.repeat_interval_days or 0) + 1
            if spec.repeat_from == "previous_actual" and previous is not None:
                target = dates.actual.get(previous[0], previous[1]) + interval
            else:
                target = start + dt.timedelta(days=day - 1)
            if next_start is not None and target >= next_start:
                break
            if spec.repeat_until_day is not None and (target - anchor).days > spec.repeat_until_day:
                break
            if horizon is not None and target > horizon:
                break
            if cutoff is not None and target > cutoff:
                break
            code = f"{spec.code}{parent.number}D{day}"
            window_start = max(
                target - dt.timedelta(days=spec.window_before_days), start + dt.timedelta(days=1)
            )
            window_end = target + dt.timedelta(days=spec.window_after_days)
            if next_start is not None:
                window_end = min(window_end, next_start - dt.timedelta(days=1))
            number = len(visits) + 1
            visits.append(
                PlannedVisit(
                    code=code,
                    name=_name(spec, number, cycle=parent.number, day=day),
                    kind=spec.kind,
                    series=spec.series_key,
                    definition=spec.code,
                    occurrence=number,
                    number=number,
                    target=target,
                    window_start=window_start,
                    window_end=window_end,
                    phase=spec.phase,
                    order=spec.order,
                    anchor_visit=parent.code,
                )
            )
            previous = (code, target)
            k += 1
    return _clip(visits)
