"""Eligibility: a study's criterion rules evaluated on one screened patient, as of the first dose.

Pure: no Django. The rule grammar and the field catalogue are in `rules.py` (contract:
docs/definitions.md, "Eligibility rule grammar"); the case format is in
docs/domain/case-files.md ("Eligibility case").

How a criterion is decided:
- Every rule node is true, false or unknown; `all`, `any` and `not` combine them by Kleene's
  three-valued logic, so a false part of an `all` settles it even when another part is unknown.
  True is `met`, false `not_met`, unknown `needs_review`; the reason names the values compared.
- Missing data, data older than the node's `within` window, an unknown unit, or an age (or a
  Cockcroft-Gault clearance) whose two-year range from the birth year straddles the limit is
  unknown: never a guess.
- An interval whose event is not in the patient's history is false: the case lists the whole
  history, so the event did not happen.
- A `review` node is unknown unless the investigator answered for the criterion (`confirmations`)
  or `confirm_unstructured` is set. The answer is given at the level of the review node: the node
  takes the value that moves the criterion towards the answer, given its polarity under `not`
  (for `confirm_unstructured` the answer is "in the patient's favour": an inclusion met, an
  exclusion not met). A checkable part that the data settles is never overridden by a
  confirmation, and a confirmation does not stand in for missing data: it answers only the parts
  the data cannot. A criterion without a rule takes the answer as it is.
- The outcome is `ineligible` as soon as one inclusion is not met or one exclusion is met,
  `eligible` only when every inclusion is met and every exclusion not met, else `needs_review`.

The screening forms' items that the case format did not carry (disease baseline, prior therapies,
medical history, medications, consent, the pregnancy test's specimen; docs/journey.md) are
"extension" items. One rule applies to them: an extension item that is not recorded (a history
section whose explicit question is unanswered, an empty item of the disease baseline) makes the
rule parts that read it review parts, answered only by the investigator (a confirmation, or
`confirm_unstructured`), never a silent pass. A history section that is recorded states the
patient's whole history of its categories, as the case format's `dates` do: a category without a
row did not happen. Dates known only in part (a partial date: 2019, 2019-05) count as the range of
days they may be, like an age from a birth year: a limit that the range straddles needs review.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from edc.core.labs import LabValue
from edc.core.partial_dates import PartialDate
from edc.core.units import UnitError, convert, normalize_unit, to_decimal
from edc.core.within import is_within as is_within  # "within N" read one way; re-exported from here
from edc.eligibility.rules import (
    CASE_EVENTS,
    CONDITION_EVENT_PREFIX,
    OP_WORDS,
    UPROT_ORDER,
    event_words,
    field_spec,
    format_number,
    parse_interval,
)
from edc.forms import codes

INCLUSION = "inclusion"
EXCLUSION = "exclusion"
MET = "met"
NOT_MET = "not_met"
NEEDS_REVIEW = "needs_review"
ELIGIBLE = "eligible"
INELIGIBLE = "ineligible"

# Cockcroft-Gault: (140 - age) x weight / (72 x serum creatinine mg/dL), x 0.85 for women.
CG_FEMALE_FACTOR = Decimal("0.85")


class ConfirmationError(ValueError):
    """A confirmation key that names no criterion, or two."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"confirmations.{key}: {message}")
        self.key = key


@dataclass(frozen=True)
class Subject:
    birth_year: int | None = None
    sex: str | None = None  # "M" | "F"


# The one lab value of the system (edc/core/labs.py); the engine's former name for it.
LabResult = LabValue


@dataclass(frozen=True)
class PregnancyTest:
    result: str  # negative | positive | not_applicable
    date: date | None = None
    specimen: str | None = None  # URINE | SERUM; extension item (None: not recorded)


@dataclass(frozen=True)
class DiseaseBaseline:
    """The disease baseline form (BD). Every item None is not recorded.

    `surgery` and `recurrence` are the form's explicit answers (was there one?): False means none,
    so the event did not happen; True with its date.
    """

    primary_site: str | None = None
    histology: str | None = None
    histology_confirmation: str | None = None
    setting: str | None = None
    measurable: bool | None = None
    hpv_status: str | None = None
    hpv_method: str | None = None
    diagnosis: PartialDate | None = None
    surgery: bool | None = None
    surgery_date: PartialDate | None = None
    surgery_type: str | None = None
    neck_dissection: bool | None = None
    recurrence: bool | None = None
    recurrence_date: PartialDate | None = None
    recurrence_confirmation: str | None = None
    recurrence_imaging_count: int | None = None
    metastasis_excluded: bool | None = None
    metastasis_method: str | None = None


@dataclass(frozen=True)
class PriorTherapy:
    """One prior anticancer agent (form PT): its class (codes.PRIOR_CLASSES), dates, outcome."""

    agent_class: str
    start: PartialDate | None = None
    last_dose: PartialDate | None = None
    ongoing: bool | None = False
    setting: str | None = None
    cycles: int | None = None
    progression: bool | None = None
    toxicity_recovered: bool | None = None
    toxicity_grade: int | None = None  # the worst toxicity left, in `toxicity_ctcae`'s grading
    toxicity_ctcae: str | None = None


@dataclass(frozen=True)
class PriorTherapies:
    """Form PT with its explicit answer: `answered` means the rows are the whole history."""

    answered: bool = True
    rows: tuple[PriorTherapy, ...] = ()


@dataclass(frozen=True)
class Condition:
    category: str  # codes.CONDITION_CATEGORIES
    onset: PartialDate | None = None
    end: PartialDate | None = None
    ongoing: bool | None = None


@dataclass(frozen=True)
class Conditions:
    answered: bool = True
    rows: tuple[Condition, ...] = ()


@dataclass(frozen=True)
class Medication:
    category: str  # codes.MEDICATION_CATEGORIES
    start: PartialDate | None = None
    stop: PartialDate | None = None
    ongoing: bool | None = None


@dataclass(frozen=True)
class Medications:
    """Form CM with its explicit answers, one per topic (codes.MEDICATION_TOPICS).

    An answered topic without a row: none, over the `window_days` before the first dose the
    answers cover (None: the whole history).
    """

    answered: frozenset[str] = frozenset(codes.MEDICATION_TOPICS)
    window_days: int | None = None
    rows: tuple[Medication, ...] = ()


@dataclass(frozen=True)
class Patient:
    subject: Subject = field(default_factory=Subject)
    ecog: int | None = None
    weight_kg: Decimal | None = None
    height_cm: Decimal | None = None
    labs: tuple[LabValue, ...] = ()
    # Events given as dates (the case format's `dates`, a whole history); the history sections
    # below give the same events from their rows.
    dates: Mapping[str, date | PartialDate] = field(default_factory=dict)
    pregnancy_test: PregnancyTest | None = None
    confirmations: Mapping[str, str] = field(default_factory=dict)  # key -> "met" | "not_met"
    confirm_unstructured: bool = False
    # Extension (docs/journey.md). None: not recorded, except that without a section the events
    # of `dates` keep the case format's reading (an event not listed did not happen).
    consent_date: date | None = None
    disease: DiseaseBaseline | None = None
    prior_therapies: PriorTherapies | None = None
    conditions: Conditions | None = None
    medications: Medications | None = None


@dataclass(frozen=True)
class Criterion:
    kind: str  # inclusion | exclusion
    number: str
    text: str = ""
    rule: Any = None


@dataclass(frozen=True)
class CriterionResult:
    number: str
    kind: str
    status: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"number": self.number, "kind": self.kind, "status": self.status, "reason": self.reason}


@dataclass(frozen=True)
class EligibilityResult:
    outcome: str
    criteria: tuple[CriterionResult, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"outcome": self.outcome, "criteria": [c.to_dict() for c in self.criteria]}


# ---------------------------------------------------------------------------------------------
# Confirmations

_PREFIXED_KEY = re.compile(r"^\s*([IE])\s*[-_ ]?\s*(\S+)\s*$", re.IGNORECASE)


def resolve_confirmations(criteria: Sequence[Criterion], confirmations: Mapping[str, str]) -> dict[int, bool]:
    """Map each confirmation onto the index of its criterion: True for met, False for not met.

    Keys are the numbers the study lists. A study may number inclusions and exclusions both from 1
    (seed 004), so "I3"/"E3" pick the kind and a bare "3" is accepted only when one criterion has it.
    """
    resolved: dict[int, bool] = {}
    for raw_key, answer in confirmations.items():
        key = str(raw_key)
        if answer not in (MET, NOT_MET):
            raise ConfirmationError(key, f"answer must be met or not_met, not {answer!r}")
        matches = [i for i, c in enumerate(criteria) if c.number == key.strip()]
        if not matches:
            prefixed = _PREFIXED_KEY.match(key)
            if prefixed:
                kind = INCLUSION if prefixed.group(1).upper() == "I" else EXCLUSION
                matches = [
                    i for i, c in enumerate(criteria) if c.kind == kind and c.number == prefixed.group(2)
                ]
        if not matches:
            raise ConfirmationError(key, f"no criterion numbered {key!r} in this study")
        if len(matches) > 1:
            raise ConfirmationError(
                key,
                f"ambiguous: both an inclusion and an exclusion are numbered {key!r}; "
                f"write I{key.strip()} or E{key.strip()}",
            )
        index = matches[0]
        if index in resolved:
            raise ConfirmationError(key, f"criterion {key!r} is confirmed twice")
        resolved[index] = answer == MET
    return resolved


# ---------------------------------------------------------------------------------------------
# Three-valued evaluation


@dataclass(frozen=True)
class _Tri:
    value: bool | None
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class _Context:
    patient: Patient
    as_of: date
    kind: str
    answer: bool | None  # the criterion's answer for review parts (True: met), None: unanswered
    answered_by: str


def evaluate(criteria: Sequence[Criterion], patient: Patient, as_of: date) -> EligibilityResult:
    """Evaluate every criterion for `patient` as of the planned first dose `as_of`.

    Raises ConfirmationError for a confirmation key that names no criterion or is ambiguous.
    """
    confirmed = resolve_confirmations(criteria, patient.confirmations)
    results = tuple(
        _evaluate_criterion(criterion, patient, as_of, confirmed.get(index))
        for index, criterion in enumerate(criteria)
    )
    return EligibilityResult(outcome=outcome(results), criteria=results)


def outcome(results: Sequence[CriterionResult]) -> str:
    def against(r: CriterionResult) -> bool:
        return (r.kind == INCLUSION and r.status == NOT_MET) or (r.kind == EXCLUSION and r.status == MET)

    def favour(r: CriterionResult) -> bool:
        return (r.kind == INCLUSION and r.status == MET) or (r.kind == EXCLUSION and r.status == NOT_MET)

    if any(against(r) for r in results):
        return INELIGIBLE
    if all(favour(r) for r in results):
        return ELIGIBLE
    return NEEDS_REVIEW


def _evaluate_criterion(
    criterion: Criterion, patient: Patient, as_of: date, confirmed: bool | None
) -> CriterionResult:
    if confirmed is not None:
        answer: bool | None = confirmed
        answered_by = "the investigator confirmed"
    elif patient.confirm_unstructured:
        answer = criterion.kind == INCLUSION
        answered_by = "confirm_unstructured answers in the patient's favour"
    else:
        answer, answered_by = None, ""

    def result(status: str, reason: str) -> CriterionResult:
        return CriterionResult(criterion.number, criterion.kind, status, reason)

    if criterion.rule is None:
        if answer is None:
            return result(NEEDS_REVIEW, "no checkable rule: the investigator must confirm")
        words = "met" if answer else "not met"
        return result(MET if answer else NOT_MET, f"no checkable rule; {answered_by}: {words}")

    context = _Context(patient, as_of, criterion.kind, answer, answered_by)
    tri = _eval(criterion.rule, context, positive=True)
    status = {True: MET, False: NOT_MET, None: NEEDS_REVIEW}[tri.value]
    reason = "; ".join(dict.fromkeys(tri.reasons))
    if tri.value is None and confirmed is not None:
        reason += (
            "; the investigator's confirmation answers only the parts the data cannot, "
            "not missing or out-of-window data"
        )
    return result(status, reason)


def _eval(node: Mapping[str, Any], context: _Context, positive: bool) -> _Tri:
    if "field" in node:
        return _compare(node, context, positive)
    if "review" in node:
        return _review(node["review"], context, positive)
    if "not" in node:
        inner = _eval(node["not"], context, not positive)
        value = None if inner.value is None else not inner.value
        return _Tri(value, inner.reasons)
    if "all" in node:
        return _combine([_eval(child, context, positive) for child in node["all"]], decisive=False)
    if "any" in node:
        return _combine([_eval(child, context, positive) for child in node["any"]], decisive=True)
    raise ValueError(f"not a rule node: {node!r}")


def _combine(parts: list[_Tri], decisive: bool) -> _Tri:
    """Kleene's all (decisive=False) or any (decisive=True), keeping the reasons that decided it."""
    deciding = [p for p in parts if p.value is decisive]
    if deciding:
        return _Tri(decisive, tuple(r for p in deciding for r in p.reasons))
    unknown = [p for p in parts if p.value is None]
    if unknown:
        return _Tri(None, tuple(r for p in unknown for r in p.reasons))
    return _Tri(not decisive, tuple(r for p in parts for r in p.reasons))


def _review(text: str, context: _Context, positive: bool) -> _Tri:
    if context.answer is None:
        return _Tri(None, (f"investigator to judge: {text}",))
    # The node takes the value that moves the criterion towards the answer; under an odd number
    # of `not`s that is the opposite value.
    value = context.answer if positive else not context.answer
    return _Tri(value, (f"{context.answered_by} ({text})",))


# ---------------------------------------------------------------------------------------------
# Comparisons


@dataclass(frozen=True)
class _Observed:
    candidates: list[Any]  # the values the patient may have: two for an age from a birth year
    unit: str | None  # unit of the candidates; the rule's limits are brought into it
    shown: str  # the values in words for the reason
    ref_bound: Decimal | None = None  # the ULN/LLN a `ref` multiple applies to


class _Unknown(Exception):
    """Data the comparison needs is missing, too old, or in a unit that cannot be read."""


class _False(Exception):
    """The comparison is false whatever the limit (an interval from an event that did not happen)."""


class _NotRecorded(Exception):
    """An extension item not recorded: the part is the investigator's to judge (a review part)."""


class _AbsentWithin(Exception):
    """No event recorded, but the answer covers only the last `days` before the first dose."""

    def __init__(self, message: str, days: int) -> None:
        super().__init__(message)
        self.days = days


def _compare(node: Mapping[str, Any], context: _Context, positive: bool) -> _Tri:
    spec = field_spec(node["field"])
    if spec is None:
        return _Tri(None, (f"unknown field {node['field']!r}",))
    try:
        if spec.kind == "interval":
            observed = _interval(node, context)
        elif spec.extension:
            observed = _extension(node, spec, context)
        elif spec.name == "age":
            observed = _age(node, context)
        elif spec.name == "sex":
            observed = _sex(context)
        elif spec.name == "ecog":
            observed = _ecog(context)
        elif spec.name in ("weight_kg", "height_cm"):
            observed = _vital(spec.name, context)
        elif spec.name == "pregnancy_test":
            observed = _pregnancy(node, context)
        elif spec.name == "CREATCLR":
            observed = _creatinine_clearance(node, context)
        else:
            observed = _lab_value(node, spec.name, spec.kind, context)
        limits = _limits(node, spec.kind, observed)
    except _Unknown as exc:
        return _Tri(None, (str(exc),))
    except _False as exc:
        return _Tri(False, (str(exc),))
    except _NotRecorded as exc:
        return _review(f"{exc} not recorded", context, positive)
    except UnitError as exc:
        return _Tri(None, (f"{spec.label}: {exc}",))

    outcomes = {_apply(node["op"], value, limits, spec.kind) for value in observed.candidates}
    reason = f"{observed.shown}; limit {_limit_words(node)}"
    if len(outcomes) > 1:
        return _Tri(None, (f"{reason}: the range straddles the limit",))
    return _Tri(outcomes.pop(), (reason,))


def _limits(node: Mapping[str, Any], kind: str, observed: _Observed) -> Any:
    """The rule's value(s) in the unit of the observed candidates."""

    def one(item: Any) -> Any:
        if kind in ("code", "ordinal"):
            return item
        number = to_decimal(item)
        if observed.ref_bound is not None:
            # Multiplying the limit by the ULN is exact; dividing the value by it may not be.
            return number * observed.ref_bound
        rule_unit = node.get("unit")
        if rule_unit and observed.unit and normalize_unit(rule_unit) != normalize_unit(observed.unit):
            return convert(number, rule_unit, observed.unit)
        return number

    if node["op"] in ("in", "between"):
        return [one(item) for item in node["value"]]
    return one(node["value"])


def _apply(op: str, observed: Any, limit: Any, kind: str) -> bool:
    if kind == "ordinal":
        rank = UPROT_ORDER.index
        observed = rank(observed)
        limit = [rank(x) for x in limit] if isinstance(limit, list) else rank(limit)
    if op == "<":
        return bool(observed < limit)
    if op == "<=":
        return bool(observed <= limit)
    if op == ">=":
        return bool(observed >= limit)
    if op == ">":
        return bool(observed > limit)
    if op == "==":
        return bool(observed == limit)
    if op == "in":
        return observed in limit
    if op == "between":
        return bool(limit[0] <= observed <= limit[1])
    if op == "within":
        return is_within(observed, limit)
    raise ValueError(f"unknown op {op!r}")


def _limit_words(node: Mapping[str, Any]) -> str:
    op, value, ref = node["op"], node["value"], node.get("ref")
    spec = field_spec(node["field"])
    rule_unit = node.get("unit") or (spec.default_unit if spec else None)
    if ref:
        suffix = f" × {ref}"
    elif node["field"].startswith("interval:"):
        suffix = f" {rule_unit}"
    elif rule_unit:
        suffix = f" × {rule_unit}" if rule_unit.startswith("10^") else f" {rule_unit}"
    else:
        suffix = ""
    if op == "between":
        text = f"between {format_number(value[0])} and {format_number(value[1])}{suffix}"
    elif op == "in":
        text = f"in {{{', '.join(format_number(v) for v in value)}}}{suffix}"
    else:
        text = f"{OP_WORDS[op]} {format_number(value)}{suffix}"
    within = node.get("within")
    if within:
        text += f" within {within['days']} days"
    return text


def show(value: Decimal) -> str:
    """A number for a reason: exact when it has at most two decimals, else rounded to two."""
    rounded = value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if value != rounded:
        return format(rounded, "f")
    if value == value.to_integral_value() or value.as_tuple().exponent >= -2:  # type: ignore[operator]
        # As entered: 1.0 stays 1.0, 100 stays 100.
        return format(value, "f")
    return format(value.normalize(), "f")


def _unit_text(unit: str | None) -> str:
    if not unit:
        return ""
    return f" × {unit}" if unit.startswith("10^") else f" {unit}"


def _age_range(context: _Context) -> tuple[int, int]:
    birth_year = context.patient.subject.birth_year
    if birth_year is None:
        raise _Unknown("no birth year")
    # Born in that year, the patient has had this year's birthday or not yet.
    oldest = context.as_of.year - birth_year
    return oldest - 1, oldest


def _age(node: Mapping[str, Any], context: _Context) -> _Observed:
    low, high = _age_range(context)
    unit = node.get("unit") or "years"
    candidates = [Decimal(low), Decimal(high)]
    if normalize_unit(unit) != "years":
        candidates = [convert(c, "years", unit) for c in candidates]
    born = context.patient.subject.birth_year
    return _Observed(candidates, unit, f"age {low}–{high} (born {born})")


def _sex(context: _Context) -> _Observed:
    sex = context.patient.subject.sex
    if sex is None:
        raise _Unknown("no sex recorded")
    return _Observed([sex], None, f"sex {sex}")


def _ecog(context: _Context) -> _Observed:
    ecog = context.patient.ecog
    if ecog is None:
        raise _Unknown("no ECOG")
    return _Observed([Decimal(ecog)], None, f"ECOG {ecog}")


def _vital(name: str, context: _Context) -> _Observed:
    native, label = ("kg", "weight") if name == "weight_kg" else ("cm", "height")
    value = getattr(context.patient, name)
    if value is None:
        raise _Unknown(f"no {label}")
    return _Observed([value], native, f"{label} {show(value)} {native}")


def _check_within(node: Mapping[str, Any], label: str, dated: date | None, context: _Context) -> None:
    within = node.get("within")
    if not within:
        return
    anchor = str(within["before"]).replace("_", " ")
    if dated is None:
        raise _Unknown(f"{label} has no date; limit {within['days']} days before {anchor}")
    age = (context.as_of - dated).days
    if age < 0:
        raise _Unknown(
            f"{label} dated {dated.isoformat()} is after {anchor}; limit {within['days']} days before"
        )
    if not is_within(age, within["days"]):
        raise _Unknown(
            f"{label} dated {dated.isoformat()} is {age} days before {anchor}; limit {within['days']} days"
        )


def _pregnancy(node: Mapping[str, Any], context: _Context) -> _Observed:
    test = context.patient.pregnancy_test
    if test is None:
        raise _Unknown("no pregnancy test")
    _check_within(node, "pregnancy test", test.date, context)
    dated = f" on {test.date.isoformat()}" if test.date else ""
    return _Observed([test.result], None, f"pregnancy test {test.result}{dated}")


Span = tuple[date, date]  # the first and last day an event may have been on


def _span(value: date | PartialDate) -> Span:
    if isinstance(value, PartialDate):
        return (value.earliest(), value.latest())
    return (value, value)


def _latest(spans: list[Span]) -> Span:
    return (max(s[0] for s in spans), max(s[1] for s in spans))


def _earliest(spans: list[Span]) -> Span:
    return (min(s[0] for s in spans), min(s[1] for s in spans))


def _span_text(span: Span) -> str:
    if span[0] == span[1]:
        return span[0].isoformat()
    return f"{span[0].isoformat()}..{span[1].isoformat()}"


def _event(name: str, context: _Context) -> Span | None:
    """When the event happened (a span of days), or None when it did not happen.

    Raises _NotRecorded when the form that would say is not recorded, _AbsentWithin when the
    medication answers cover only a window before the first dose.
    """
    patient, as_of = context.patient, context.as_of
    if name == "first_dose":
        return (as_of, as_of)
    if name in patient.dates:
        return _span(patient.dates[name])
    if name in ("diagnosis", "surgery", "recurrence"):
        return _disease_event(name, patient.disease)
    if name in ("prior_pd1_first_dose", "prior_pd1_last_dose", "last_anticancer_therapy"):
        return _prior_event(name, patient.prior_therapies, as_of)
    if name in codes.MEDICATION_EVENTS:
        return _medication_event(name, patient.medications, as_of)
    if name.startswith(CONDITION_EVENT_PREFIX):
        return _condition_event(name[len(CONDITION_EVENT_PREFIX) :], patient.conditions, as_of)
    return None


def _disease_event(name: str, disease: DiseaseBaseline | None) -> Span | None:
    if disease is None:
        return None  # the case format's reading: the event is in `dates` or did not happen
    if name == "diagnosis":
        if disease.diagnosis is None:
            raise _NotRecorded("the date of diagnosis")
        return _span(disease.diagnosis)
    happened = disease.surgery if name == "surgery" else disease.recurrence
    when = disease.surgery_date if name == "surgery" else disease.recurrence_date
    if happened is None:
        raise _NotRecorded(f"whether there was a {name}")
    if not happened:
        return None
    if when is None:
        raise _NotRecorded(f"the date of {name}")
    return _span(when)


def _prior_event(name: str, history: PriorTherapies | None, as_of: date) -> Span | None:
    if history is None:
        return None
    if not history.answered:
        raise _NotRecorded("prior anticancer therapy")
    if name == "last_anticancer_therapy":
        rows = list(history.rows)
    else:
        if any(r.agent_class == "UNKNOWN" for r in history.rows):
            raise _NotRecorded("the class of a prior anticancer therapy")
        rows = [r for r in history.rows if r.agent_class == "PD1"]
    if not rows:
        return None
    if name == "prior_pd1_first_dose":
        if any(r.start is None for r in rows):
            raise _NotRecorded("the start of a prior PD-1 therapy")
        return _earliest([_span(r.start) for r in rows if r.start is not None])
    spans = []
    for r in rows:
        if r.ongoing:
            spans.append((as_of, as_of))
        elif r.last_dose is not None:
            spans.append(_span(r.last_dose))
        else:
            raise _NotRecorded("the last dose of a prior anticancer therapy")
    return _latest(spans)


def _medication_event(name: str, meds: Medications | None, as_of: date) -> Span | None:
    topic = codes.MEDICATION_EVENTS[name]
    if meds is None:
        if name in CASE_EVENTS:
            return None  # the case format's reading of `dates`
        raise _NotRecorded(codes.MEDICATION_CATEGORIES[codes.MEDICATION_TOPICS[topic][0]].lower())
    if topic not in meds.answered:
        raise _NotRecorded(f"whether the patient had any {event_words(name).removeprefix('last ')}")
    rows = [m for m in meds.rows if m.category in codes.MEDICATION_TOPICS[topic]]
    if not rows:
        if meds.window_days is not None:
            raise _AbsentWithin(
                f"no {event_words(name).removeprefix('last ')} in the {meds.window_days} days "
                "the answer covers",
                meds.window_days,
            )
        return None
    spans = []
    for m in rows:
        if m.ongoing:
            spans.append((as_of, as_of))
        elif m.stop is not None:
            spans.append(_span(m.stop))
        elif m.start is not None:
            # A single administration (a vaccine), or an end not recorded while not ongoing.
            spans.append(_span(m.start) if m.ongoing is False else (_span(m.start)[0], as_of))
        else:
            raise _NotRecorded(f"the dates of a {event_words(name).removeprefix('last ')}")
    return _latest(spans)


def _condition_rows(category: str, conditions: Conditions | None) -> list[Condition]:
    label = codes.CONDITION_CATEGORIES.get(category, category).split(" (")[0].lower()
    if conditions is None or not conditions.answered:
        raise _NotRecorded(f"the medical history ({label})")
    return [c for c in conditions.rows if c.category == category]


def _condition_event(category: str, conditions: Conditions | None, as_of: date) -> Span | None:
    rows = _condition_rows(category, conditions)
    if not rows:
        return None
    spans = []
    for c in rows:
        last = c.end or c.onset
        if c.ongoing:
            spans.append((as_of, as_of))
        elif last is None:
            raise _NotRecorded(f"the dates of {event_words(CONDITION_EVENT_PREFIX + category)}")
        elif c.ongoing is None:
            spans.append((_span(last)[0], as_of))
        else:
            spans.append(_span(last))
    return _latest(spans)


def _interval(node: Mapping[str, Any], context: _Context) -> _Observed:
    start, end = parse_interval(node["field"])  # type: ignore[misc]
    words = {e: event_words(e) for e in (start, end)}
    spans: dict[str, Span] = {}
    missing = []
    for event in (start, end):
        try:
            found = _event(event, context)
        except _AbsentWithin as absent:
            limit = to_decimal(node["value"])
            unit = node.get("unit") or "days"
            limit_days = limit if normalize_unit(unit) == "days" else convert(limit, unit, "days")
            if node["op"] == "within" and limit_days <= absent.days:
                raise _False(str(absent)) from None
            raise _NotRecorded(f"{words[event]} before the {absent.days} days the answer covers") from None
        if found is None:
            missing.append(event)
        else:
            spans[event] = found
    if missing:
        raise _False(f"no {' and no '.join(words[e] for e in missing)} in the patient's history")
    low = (spans[end][0] - spans[start][1]).days
    high = (spans[end][1] - spans[start][0]).days
    days = f"{low} days" if low == high else f"{low}–{high} days"
    shown = f"{words[start]} {_span_text(spans[start])} to {words[end]} {_span_text(spans[end])}: {days}"
    unit = node.get("unit") or "days"
    if normalize_unit(unit) != "days" and low == high:
        shown += f" = {show(convert(low, 'days', unit))} {unit}"
    candidates = sorted({Decimal(low), Decimal(high)})
    return _Observed(candidates, "days", shown)


# ---------------------------------------------------------------------------------------------
# Extension items


def _yn(value: bool | None) -> str | None:
    return None if value is None else (codes.YES if value else codes.NO)


_DISEASE_ITEMS = {
    "primary_site": "primary_site",
    "histology": "histology",
    "histology_confirmation": "histology_confirmation",
    "disease_setting": "setting",
    "measurable_disease": "measurable",
    "hpv_status": "hpv_status",
    "hpv_method": "hpv_method",
    "surgery_type": "surgery_type",
    "neck_dissection": "neck_dissection",
    "recurrence_confirmation": "recurrence_confirmation",
    "recurrence_imaging_count": "recurrence_imaging_count",
    "metastasis_excluded": "metastasis_excluded",
    "metastasis_method": "metastasis_method",
}


def _extension(node: Mapping[str, Any], spec: Any, context: _Context) -> _Observed:
    patient = context.patient
    label = spec.label
    if spec.source == "disease":
        disease = patient.disease
        value = getattr(disease, _DISEASE_ITEMS[spec.name]) if disease is not None else None
        if value is None:
            raise _NotRecorded(label)
        if isinstance(value, bool):
            value = _yn(value)
        if spec.kind == "integer":
            return _Observed([Decimal(str(value))], None, f"{label} {value}")
        return _Observed([value], None, f"{label} {value}")
    if spec.source == "consent":
        return _consent(patient, label)
    if spec.source == "pregnancy":
        test = patient.pregnancy_test
        if test is None:
            raise _Unknown("no pregnancy test")
        if test.specimen is None:
            raise _NotRecorded(label)
        return _Observed([test.specimen], None, f"{label} {test.specimen}")
    if spec.source == "prior":
        return _prior_item(node, spec, patient.prior_therapies)
    if spec.source == "condition":
        rows = _condition_rows(spec.key, patient.conditions)
        if not rows:
            return _Observed(["NONE"], None, f"no {label} recorded")
        if any(c.ongoing for c in rows):
            return _Observed(["ONGOING"], None, f"{label}: ongoing")
        if any(c.ongoing is None for c in rows):
            return _Observed(["PAST", "ONGOING"], None, f"{label}: recorded, ongoing or not not recorded")
        return _Observed(["PAST"], None, f"{label}: past")
    raise _Unknown(f"unknown field {spec.name!r}")


def _consent(patient: Patient, label: str) -> _Observed:
    if patient.consent_date is None:
        raise _NotRecorded("the date of consent")
    dated = [lab.date for lab in patient.labs if lab.date is not None]
    if patient.pregnancy_test is not None and patient.pregnancy_test.date is not None:
        dated.append(patient.pregnancy_test.date)
    consent = patient.consent_date.isoformat()
    if not dated:
        return _Observed([codes.YES], None, f"consent {consent}, no dated screening procedure")
    first = min(dated)
    answer = codes.YES if patient.consent_date <= first else codes.NO
    return _Observed([answer], None, f"consent {consent}, first screening procedure {first.isoformat()}")


def _prior_item(node: Mapping[str, Any], spec: Any, history: PriorTherapies | None) -> _Observed:
    if history is None or not history.answered:
        raise _NotRecorded("prior anticancer therapy")
    rows = history.rows
    name, key = spec.name, spec.key
    if name == "prior_ongoing":
        if any(r.ongoing is None for r in rows):
            raise _NotRecorded("whether a prior therapy is ongoing")
        answer = _yn(any(r.ongoing for r in rows))
        return _Observed([answer], None, f"{spec.label}: {answer}")
    if name == "prior_toxicity_unrecovered":
        if any(r.toxicity_recovered is False for r in rows):
            return _Observed([codes.YES], None, "a prior therapy's toxicity has not recovered")
        if any(r.toxicity_recovered is None for r in rows):
            raise _NotRecorded("whether the toxicity of a prior therapy has recovered")
        return _Observed([codes.NO], None, "the toxicities of every prior therapy recovered")
    if name.startswith("prior_setting:"):
        if any(r.setting == key for r in rows):
            return _Observed([codes.YES], None, f"{spec.label}: yes")
        if any(r.setting is None for r in rows):
            raise _NotRecorded("the setting of a prior therapy")
        return _Observed([codes.NO], None, f"{spec.label}: no")
    # Families about one class: rows of another class that might be it leave it not recorded.
    if any(r.agent_class == "UNKNOWN" or (r.agent_class == "NON_PD1" and key != "PD1") for r in rows):
        raise _NotRecorded("the class of a prior anticancer therapy")
    mine = [r for r in rows if r.agent_class == key]
    if name.startswith("prior:"):
        answer = codes.YES if mine else codes.NO
        return _Observed([answer], None, f"{spec.label}: {'yes' if mine else 'none'}")
    if name.startswith("prior_cycles:"):
        if any(r.cycles is None for r in mine):
            raise _NotRecorded(f"the cycles of prior {key}")
        total = sum(r.cycles or 0 for r in mine)
        return _Observed([Decimal(total)], None, f"{total} cycles of prior {key}")
    if name.startswith("prior_progression:"):
        if any(r.progression for r in mine):
            return _Observed([codes.YES], None, f"progression on prior {key}")
        if any(r.progression is None for r in mine):
            raise _NotRecorded(f"whether prior {key} ended in progression")
        return _Observed([codes.NO], None, f"no progression recorded on prior {key}")
    # prior_toxicity_grade:<class>
    version = node.get("ctcae")
    grades = []
    for r in mine:
        grade = r.toxicity_grade
        if grade is None and r.toxicity_recovered:
            grade = 0
        if grade is None:
            raise _NotRecorded(f"the residual toxicity grade of prior {key}")
        if version and grade > 0 and r.toxicity_ctcae != version:
            raise _Unknown(
                f"prior {key} toxicity graded by CTCAE {r.toxicity_ctcae or '(version not recorded)'}; "
                f"the criterion reads CTCAE {version}"
            )
        grades.append(grade)
    worst = max(grades, default=0)
    graded = f" (CTCAE {version})" if version else ""
    return _Observed([Decimal(worst)], None, f"worst residual toxicity of prior {key}: grade {worst}{graded}")


def _latest_lab(code: str, context: _Context) -> LabValue:
    labs = [lab for lab in context.patient.labs if lab.test == code]
    # A result after the first dose is not a screening result.
    usable = [lab for lab in labs if lab.date is None or lab.date <= context.as_of]
    if not usable:
        if labs:
            raise _Unknown(f"no {code} result on or before {context.as_of.isoformat()}")
        raise _Unknown(f"no {code} result")
    dated = [lab for lab in usable if lab.date is not None]
    if dated:
        return max(dated, key=lambda lab: lab.date)  # type: ignore[arg-type, return-value]
    return usable[-1]


def _lab_value(node: Mapping[str, Any], code: str, kind: str, context: _Context) -> _Observed:
    lab = _latest_lab(code, context)
    dated = f" on {lab.date.isoformat()}" if lab.date else ""
    _check_within(node, code, lab.date, context)
    if kind == "ordinal":
        if lab.value not in UPROT_ORDER:
            raise _Unknown(f"{code} value {lab.value!r} is not one of {', '.join(UPROT_ORDER)}")
        return _Observed([lab.value], None, f"{code} {lab.value}{dated}")
    if not isinstance(lab.value, Decimal):
        raise _Unknown(f"{code} value {lab.value!r} is not a number")
    value = lab.value
    lab_text = f"{code} {show(value)}{_unit_text(lab.unit)}"
    ref = node.get("ref")
    if ref:
        bound = lab.uln if ref == "ULN" else lab.lln
        if bound is None:
            raise _Unknown(f"{lab_text}{dated} has no {ref}")
        if bound <= 0:
            raise _Unknown(f"{lab_text}{dated}: {ref} {show(bound)} is not positive")
        shown = f"{lab_text}{dated} = {show(value / bound)} × {ref} {show(bound)}"
        return _Observed([value], lab.unit, shown, ref_bound=bound)
    rule_unit = node.get("unit")
    if rule_unit is None:
        return _Observed([value], None, f"{lab_text}{dated}")
    if lab.unit is None:
        raise _Unknown(f"{lab_text}{dated} has no unit")
    try:
        converted = convert(value, lab.unit, rule_unit, analyte=code)
    except UnitError as exc:
        raise _Unknown(f"{code} {show(value)} {lab.unit}: {exc}") from None
    if normalize_unit(lab.unit) != normalize_unit(rule_unit):
        lab_text += f" = {show(converted)}{_unit_text(rule_unit)}"
    return _Observed([converted], rule_unit, f"{lab_text}{dated}")


def _creatinine_clearance(node: Mapping[str, Any], context: _Context) -> _Observed:
    try:
        _latest_lab("CREATCLR", context)
        measured = True
    except _Unknown:
        measured = False
    if measured:
        try:
            return _lab_value(node, "CREATCLR", "number", context)
        except _Unknown as unusable:
            # A measured clearance that is too old or unreadable: a recent creatinine still answers.
            try:
                return _cockcroft_gault(node, context)
            except _Unknown:
                raise unusable from None
    try:
        return _cockcroft_gault(node, context)
    except _Unknown as exc:
        raise _Unknown(f"no CREATCLR result, and no Cockcroft-Gault estimate: {exc}") from None


def _cockcroft_gault(node: Mapping[str, Any], context: _Context) -> _Observed:
    creat = _latest_lab("CREAT", context)
    dated = f" on {creat.date.isoformat()}" if creat.date else ""
    _check_within(node, "CREAT", creat.date, context)
    if creat.unit is None or not isinstance(creat.value, Decimal):
        raise _Unknown("CREAT has no unit or no numeric value")
    try:
        mg_dl = convert(creat.value, creat.unit, "mg/dL", analyte="CREAT")
    except UnitError as exc:
        raise _Unknown(f"CREAT {creat.value} {creat.unit}: {exc}") from None
    if mg_dl <= 0:
        raise _Unknown(f"CREAT {show(mg_dl)} mg/dL is not positive")
    weight = context.patient.weight_kg
    if weight is None:
        raise _Unknown("no weight")
    low, high = _age_range(context)
    sex = context.patient.subject.sex
    # Without a recorded sex both formulas are candidates; agreement still settles the criterion.
    sexes = [sex] if sex in ("M", "F") else ["M", "F"]
    values = sorted(
        {
            (140 - age) * weight * (CG_FEMALE_FACTOR if s == "F" else 1) / (72 * mg_dl)
            for age in (low, high)
            for s in sexes
        }
    )
    creat_text = f"CREAT {show(creat.value)}{_unit_text(creat.unit)}"
    if normalize_unit(creat.unit) != "mg/dL":
        creat_text += f" = {show(mg_dl)} mg/dL"
    span = show(values[0]) if len(values) == 1 else f"{show(values[0])}–{show(values[-1])}"
    shown = (
        f"creatinine clearance {span} mL/min by Cockcroft-Gault (age {low}–{high}, "
        f"weight {show(weight)} kg, sex {sex or 'unknown'}, {creat_text}{dated})"
    )
    return _Observed(list(values), "mL/min", shown)
