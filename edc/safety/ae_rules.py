"""Adverse event rules: what one AE record must say to be consistent, whether the study collects it,
and what follows from it (worst grade, SUSAR, treatment-emergent, an AE proposed from a lab grade).

Pure module (no Django): dates are arguments ("today" too), the study's collection period and the
term's grade texts are passed in. Errors are returned, never raised, as ``FieldError(field, code,
message)``, so the service refuses the record with every error at once (the API's 400, the admin's
form errors) and can translate by ``code``. Sources: docs/domain/response-criteria.md C1-C4 (CTCAE
v5.0, NCI attribution scale, ICH E2A seriousness), issue 20 items 1, 2 and 4, docs/definitions.md
(``ae_collection``).

Rules of one record (``validate_ae``):

1. The grade is 1-5 and exists for the term: a grade whose CTCAE cell is "-" (" -", empty or None)
   does not exist (C1); the message names the valid grades.
2. A "<SOC> - Other, specify" term needs the verbatim name of the event.
3. Serious iff at least one ICH E2A criterion (C4): death, life_threatening, hospitalisation (initial
   or prolonged), disability, congenital_anomaly, important_medical_event.
4. Grade 5 iff the outcome is fatal (grade 5 is "death related to the AE", C2), and then the AE is
   serious with the criterion death, and conversely the criterion death means a fatal outcome.
5. A grade-5 AE's date is the date of death: required, on or after onset; its resolution date, when
   given, is that date. Only a grade-5 AE has a date of death.
6. The resolution date is not before onset. Choice (a contradiction inside the record, CDISC AEOUT
   practice): recovered and recovered-with-sequelae need a resolution date; recovering and
   not-recovered (ongoing) have none. No date is after ``today`` when today is given.

Collection period (``classify_collection``), from the study's ``ae_collection``: onset before consent
is medical history, refused with that message. From consent to the day before the first dose the
event is pre-treatment: collected when the study collects AEs from consent, or, for a serious AE, when
it collects SAEs from consent; otherwise refused (a baseline sign or symptom). From the first dose
(the day of the first dose included: onset that day counts as on treatment) to the period's end
(last dose + ``end_days_after_last_dose``, inclusive; for an immune-related AE the later of that and
last dose + ``irae_end_days_after_last_dose``) it is on treatment; after the end it is accepted with
a flag. Without a last dose (still on treatment) or an end the period has not ended.

Derived facts:

- Worst grade (``worst_grade``): the highest grade of the AE's grade history, at the first date it was
  reached.
- SUSAR (``assess_susar``): serious + related to an agent (possible, probable or definite: C3's
  "related") + unexpected for that agent (against the reference safety information). A related agent
  whose expectedness is not yet assessed is listed as pending.
- Treatment-emergent (``treatment_emergence``): the AE is treatment-emergent from the first date on
  or after the first dose at which its grade is above the baseline grade for the term (the grade of
  the baseline sign or symptom recorded at screening, and the AE's own grade before the first dose;
  0 when neither exists). So an AE that appears after the first dose, or a baseline condition that
  worsens in grade after it, is treatment-emergent; one that only continues at its baseline grade is
  not.
- Proposed from a lab grade (``propose_from_lab``): a lab value's CTCAE grade at least one above the
  subject's baseline grade for that test proposes the AE with that term and grade (never creates it).
  A test without a baseline value counts as baseline grade 0 (stated in the reason).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final, Protocol

OUTCOMES: Final = ("recovered", "recovering", "not_recovered", "recovered_with_sequelae", "fatal", "unknown")
FATAL: Final = "fatal"
RESOLVED_OUTCOMES: Final = ("recovered", "recovered_with_sequelae")
ONGOING_OUTCOMES: Final = ("recovering", "not_recovered")
SERIOUSNESS_CRITERIA: Final = (
    "death",
    "life_threatening",
    "hospitalisation",
    "disability",
    "congenital_anomaly",
    "important_medical_event",
)
DEATH: Final = "death"
RELATEDNESS: Final = ("unrelated", "unlikely", "possible", "probable", "definite")
RELATED: Final = frozenset({"possible", "probable", "definite"})
OTHER_SPECIFY_SUFFIX: Final = " - Other, specify"

# collection statuses and categories
ACCEPTED: Final = "accepted"
REFUSED: Final = "refused"
MEDICAL_HISTORY: Final = "medical_history"
BASELINE: Final = "baseline"
PRE_TREATMENT: Final = "pre_treatment"
ON_TREATMENT: Final = "on_treatment"
AFTER_PERIOD: Final = "after_period"
CONSENT: Final = "consent"
FIRST_DOSE: Final = "first_dose"


@dataclass(frozen=True)
class FieldError:
    field: str
    code: str
    message: str


class _TermLike(Protocol):
    @property
    def term(self) -> str: ...
    @property
    def meddra_code(self) -> str: ...
    @property
    def grades(self) -> tuple[str | None, str | None, str | None, str | None, str | None]: ...


def _grade_exists(text: str | None) -> bool:
    # NCI writes " -" for a grade that does not apply to the term.
    return text is not None and text.strip() not in ("", "-")


@dataclass(frozen=True)
class AeTerm:
    """A CTCAE term and its five grade texts (``None`` or "-" where the grade does not exist)."""

    term: str
    grades: tuple[str | None, ...]
    meddra_code: str = ""

    def __post_init__(self) -> None:
        if len(self.grades) != 5:
            raise ValueError(f"{self.term}: a CTCAE term has five grade texts, not {len(self.grades)}")

    @classmethod
    def of(cls, term: _TermLike) -> AeTerm:
        """From the CTCAE engine's ``TermText`` (or anything with term, meddra_code and grades)."""
        return cls(term=term.term, grades=tuple(term.grades), meddra_code=term.meddra_code)

    @property
    def other_specify(self) -> bool:
        return self.term.endswith(OTHER_SPECIFY_SUFFIX)

    def grade_text(self, grade: int) -> str | None:
        if not 1 <= grade <= 5:
            return None
        text = self.grades[grade - 1]
        return text if _grade_exists(text) else None

    @property
    def valid_grades(self) -> tuple[int, ...]:
        return tuple(n for n in range(1, 6) if _grade_exists(self.grades[n - 1]))


def _names(grades: Iterable[int]) -> str:
    return ", ".join(str(g) for g in grades) or "none"


def grade_errors(term: AeTerm, grade: object, field_name: str = "grade") -> list[FieldError]:
    """Rule 1: the grade is a whole number 1-5 that exists for ``term``."""
    if isinstance(grade, bool) or not isinstance(grade, int) or not 1 <= grade <= 5:
        return [FieldError(field_name, "grade_range", f"{grade!r} is not a CTCAE grade (1-5)")]
    if term.grade_text(grade) is None:
        return [
            FieldError(
                field_name,
                "grade_not_available",
                f"grade {grade} does not exist for {term.term}; valid grades: {_names(term.valid_grades)}",
            )
        ]
    return []


# --------------------------------------------------------------------------- one record


@dataclass(frozen=True)
class AeRecord:
    term: AeTerm
    grade: int
    onset: dt.date
    verbatim: str = ""
    resolution: dt.date | None = None
    """None: ongoing."""
    outcome: str = ""
    """One of OUTCOMES; blank: not assessed yet."""
    serious: bool = False
    seriousness: frozenset[str] = field(default_factory=frozenset)
    death_date: dt.date | None = None


def validate_ae(record: AeRecord, *, today: dt.date | None = None) -> tuple[FieldError, ...]:
    """Every contradiction inside one AE record (rules 1-6), rule by rule; empty when consistent."""
    errors = grade_errors(record.term, record.grade)
    grade_ok = not errors
    grade5 = grade_ok and record.grade == 5
    if record.term.other_specify and not record.verbatim.strip():
        errors.append(
            FieldError(
                "verbatim", "verbatim_required", f"{record.term.term} needs the verbatim name of the event"
            )
        )

    unknown = sorted(set(record.seriousness) - set(SERIOUSNESS_CRITERIA))
    if unknown:
        errors.append(
            FieldError(
                "seriousness",
                "unknown_criterion",
                f"not a seriousness criterion: {', '.join(unknown)} "
                f"(one of {', '.join(SERIOUSNESS_CRITERIA)})",
            )
        )
    if record.serious and not record.seriousness:
        errors.append(
            FieldError(
                "seriousness",
                "criterion_required",
                "a serious AE needs at least one seriousness criterion (ICH E2A)",
            )
        )
    if not record.serious and record.seriousness:
        errors.append(
            FieldError(
                "serious",
                "criteria_without_serious",
                "seriousness criteria are given, so the AE is serious: mark it serious or remove them",
            )
        )

    if record.outcome and record.outcome not in OUTCOMES:
        errors.append(
            FieldError("outcome", "invalid_choice", f"{record.outcome!r} is not one of {', '.join(OUTCOMES)}")
        )
    fatal = record.outcome == FATAL
    if grade5 and record.outcome != FATAL:
        errors.append(FieldError("outcome", "grade5_not_fatal", "a grade 5 AE (death) has the outcome fatal"))
    if fatal and grade_ok and not grade5:
        errors.append(
            FieldError("grade", "fatal_not_grade5", "a fatal outcome is grade 5 (death related to the AE)")
        )
    if (grade5 or fatal) and not (record.serious and DEATH in record.seriousness):
        errors.append(
            FieldError(
                "seriousness", "death_criterion_required", "a fatal AE is serious with the criterion death"
            )
        )
    if DEATH in record.seriousness and not fatal:
        errors.append(
            FieldError(
                "seriousness", "death_without_fatal_outcome", "the criterion death needs the outcome fatal"
            )
        )

    if record.resolution is not None and record.resolution < record.onset:
        errors.append(
            FieldError(
                "resolution",
                "resolution_before_onset",
                f"the resolution date {record.resolution} is before the onset date {record.onset}",
            )
        )
    if record.outcome in RESOLVED_OUTCOMES and record.resolution is None:
        errors.append(
            FieldError(
                "resolution", "resolution_required", f"the outcome {record.outcome} needs a resolution date"
            )
        )
    if record.outcome in ONGOING_OUTCOMES and record.resolution is not None:
        errors.append(
            FieldError(
                "resolution",
                "resolution_while_ongoing",
                f"the outcome {record.outcome} means the AE is ongoing: no resolution date",
            )
        )

    if record.grade == 5:
        if record.death_date is None:
            errors.append(
                FieldError("death_date", "death_date_required", "a grade 5 AE needs the date of death")
            )
        elif record.death_date < record.onset:
            errors.append(
                FieldError(
                    "death_date",
                    "death_before_onset",
                    f"the date of death {record.death_date} is before the onset date {record.onset}",
                )
            )
        elif record.resolution is not None and record.resolution != record.death_date:
            errors.append(
                FieldError(
                    "resolution",
                    "grade5_end_is_death",
                    f"a grade 5 AE ends on the date of death {record.death_date}, not {record.resolution}",
                )
            )
    elif record.death_date is not None:
        errors.append(
            FieldError("death_date", "death_date_not_grade5", "only a grade 5 AE has a date of death")
        )

    if today is not None:
        for name in ("onset", "resolution", "death_date"):
            value = getattr(record, name)
            if value is not None and value > today:
                errors.append(FieldError(name, "in_future", f"{value} is in the future (today is {today})"))
    return tuple(errors)


# --------------------------------------------------------------------------- grade history


@dataclass(frozen=True)
class GradeEntry:
    on: dt.date
    grade: int


def worst_grade(history: Iterable[GradeEntry]) -> GradeEntry | None:
    """The highest grade of the history, at the first date it was reached; None for no history."""
    worst: GradeEntry | None = None
    for entry in sorted(history, key=lambda e: e.on):
        if worst is None or entry.grade > worst.grade:
            worst = entry
    return worst


def validate_grade_history(
    term: AeTerm, history: Sequence[GradeEntry], *, onset: dt.date
) -> tuple[FieldError, ...]:
    """Each entry a valid grade for the term, none before onset, one entry per date, the first at onset."""
    errors: list[FieldError] = []
    seen: set[dt.date] = set()
    for index, entry in enumerate(history):
        name = f"grades[{index}]"
        errors.extend(grade_errors(term, entry.grade, f"{name}.grade"))
        if entry.on < onset:
            errors.append(
                FieldError(f"{name}.on", "before_onset", f"{entry.on} is before the onset date {onset}")
            )
        if entry.on in seen:
            errors.append(FieldError(f"{name}.on", "duplicate_date", f"a second grade on {entry.on}"))
        seen.add(entry.on)
    if history and min(e.on for e in history) != onset:
        errors.append(
            FieldError("grades", "first_grade_not_at_onset", f"the first grade is dated at the onset {onset}")
        )
    return tuple(errors)


# --------------------------------------------------------------------------- collection period


@dataclass(frozen=True)
class CollectionPeriod:
    """The study's ``ae_collection`` (Study.ae_collection_* fields)."""

    start: str = CONSENT
    sae_start: str = CONSENT
    end_days_after_last_dose: int | None = None
    irae_end_days_after_last_dose: int | None = None

    def __post_init__(self) -> None:
        for name in ("start", "sae_start"):
            if getattr(self, name) not in (CONSENT, FIRST_DOSE):
                raise ValueError(f"{name}: {getattr(self, name)!r} is not consent or first_dose")
        for name in ("end_days_after_last_dose", "irae_end_days_after_last_dose"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"{name}: must not be negative")


@dataclass(frozen=True)
class CollectionDecision:
    status: str
    """``accepted`` or ``refused``."""
    category: str
    """``medical_history``, ``baseline``, ``pre_treatment``, ``on_treatment`` or ``after_period``."""
    message: str
    period_end: dt.date | None = None

    @property
    def flagged(self) -> bool:
        return self.category == AFTER_PERIOD


def period_end(
    *, last_dose: dt.date | None, period: CollectionPeriod, immune_related: bool = False
) -> dt.date | None:
    """The last day of collection (inclusive), or None while it has not been fixed."""
    if last_dose is None or period.end_days_after_last_dose is None:
        return None
    days = period.end_days_after_last_dose
    if immune_related and period.irae_end_days_after_last_dose is not None:
        days = max(days, period.irae_end_days_after_last_dose)
    return last_dose + dt.timedelta(days=days)


def classify_collection(
    *,
    onset: dt.date,
    serious: bool,
    consent: dt.date,
    first_dose: dt.date | None,
    last_dose: dt.date | None,
    period: CollectionPeriod,
    immune_related: bool = False,
) -> CollectionDecision:
    """Whether the study collects an AE with this onset, and as what."""
    if onset < consent:
        return CollectionDecision(
            REFUSED,
            MEDICAL_HISTORY,
            f"onset {onset} is before informed consent ({consent}): record it as medical history, "
            "not as an adverse event",
        )
    if first_dose is None or onset < first_dose:
        from_consent = period.start == CONSENT or (serious and period.sae_start == CONSENT)
        if from_consent:
            return CollectionDecision(
                ACCEPTED, PRE_TREATMENT, "collected from consent: a pre-treatment event"
            )
        what = "serious AEs" if serious else "non-serious AEs"
        return CollectionDecision(
            REFUSED,
            BASELINE,
            f"onset {onset} is before the first dose and the study collects {what} from the first dose: "
            "record it as a baseline sign or symptom",
        )
    end = period_end(last_dose=last_dose, period=period, immune_related=immune_related)
    if end is not None and onset > end:
        kind = "immune-related AEs" if immune_related and period.irae_end_days_after_last_dose else "AEs"
        return CollectionDecision(
            ACCEPTED,
            AFTER_PERIOD,
            f"onset {onset} is after the collection period for {kind} (to {end}): accepted and flagged",
            end,
        )
    return CollectionDecision(ACCEPTED, ON_TREATMENT, "within the collection period", end)


# --------------------------------------------------------------------------- SUSAR


@dataclass(frozen=True)
class Attribution:
    """Relatedness of the AE to one agent (NCI 5-point scale) and its expectedness (None: not assessed)."""

    agent: str
    relatedness: str
    expected: bool | None = None


def is_related(relatedness: str) -> bool:
    """C3's collapse: possible, probable and definite are "related"."""
    return relatedness in RELATED


def validate_attributions(
    attributions: Sequence[Attribution], *, received: Collection[str]
) -> tuple[FieldError, ...]:
    """One attribution per agent (or radiotherapy) the subject actually received, and no other."""
    errors: list[FieldError] = []
    seen: set[str] = set()
    for index, item in enumerate(attributions):
        name = f"attributions[{index}]"
        if item.relatedness not in RELATEDNESS:
            errors.append(
                FieldError(
                    f"{name}.relatedness",
                    "invalid_choice",
                    f"{item.relatedness!r} is not one of {', '.join(RELATEDNESS)}",
                )
            )
        if item.agent in seen:
            errors.append(FieldError(f"{name}.agent", "duplicate_agent", f"{item.agent} is attributed twice"))
        elif item.agent not in received:
            errors.append(
                FieldError(f"{name}.agent", "agent_not_received", f"the subject did not receive {item.agent}")
            )
        seen.add(item.agent)
    missing = [agent for agent in received if agent not in seen]
    if missing:
        errors.append(
            FieldError("attributions", "attribution_missing", f"attribution missing for {', '.join(missing)}")
        )
    return tuple(errors)


@dataclass(frozen=True)
class SusarAssessment:
    susar: bool
    related: bool
    agents: tuple[str, ...]
    """Agents the event is related to and unexpected for."""
    pending: tuple[str, ...]
    """Agents the event is related to whose expectedness is not assessed yet."""


def assess_susar(*, serious: bool, attributions: Iterable[Attribution]) -> SusarAssessment:
    """A suspected unexpected serious adverse reaction: serious, related and unexpected for an agent."""
    related = [a for a in attributions if is_related(a.relatedness)]
    unexpected = tuple(a.agent for a in related if a.expected is False)
    pending = tuple(a.agent for a in related if a.expected is None)
    return SusarAssessment(
        susar=serious and bool(unexpected),
        related=bool(related),
        agents=unexpected if serious else (),
        pending=pending if serious else (),
    )


# --------------------------------------------------------------------------- treatment-emergent


@dataclass(frozen=True)
class Emergence:
    emergent: bool
    since: dt.date | None
    baseline_grade: int
    reason: str


def treatment_emergence(
    *,
    history: Sequence[GradeEntry],
    first_dose: dt.date | None,
    baseline_grade: int | None,
) -> Emergence:
    """Whether (and from when) an AE is treatment-emergent rather than a baseline condition.

    ``baseline_grade`` is the grade of the baseline sign or symptom of the same term recorded at
    screening (None: none recorded); the AE's own grades before the first dose count as baseline too.
    """
    before = [e.grade for e in history if first_dose is None or e.on < first_dose]
    baseline = max([baseline_grade or 0, *before])
    if first_dose is None:
        return Emergence(False, None, baseline, "no dose given yet")
    for entry in sorted(history, key=lambda e: e.on):
        if entry.on >= first_dose and entry.grade > baseline:
            if baseline == 0:
                reason = f"appeared on {entry.on}, on or after the first dose {first_dose}"
            else:
                reason = f"worsened to grade {entry.grade} on {entry.on}, above the baseline grade {baseline}"
            return Emergence(True, entry.on, baseline, reason)
    return Emergence(False, None, baseline, f"not above the baseline grade {baseline} after the first dose")


# --------------------------------------------------------------------------- AEs proposed from labs


@dataclass(frozen=True)
class LabProposal:
    term: str
    grade: int
    baseline_grade: int
    reason: str


def propose_from_lab(
    *, term: str, lab_grade: int | None, baseline_grade: int | None, test: str = ""
) -> LabProposal | None:
    """The AE a lab grade proposes: at least one grade above the subject's baseline grade for the test."""
    if lab_grade is None or lab_grade < 1:
        return None
    baseline = baseline_grade or 0
    if lab_grade < baseline + 1:
        return None
    label = f"{test} " if test else ""
    unknown = "" if baseline_grade is not None else " (no baseline value)"
    return LabProposal(
        term, lab_grade, baseline, f"{label}grade {lab_grade} is above the baseline grade {baseline}{unknown}"
    )
