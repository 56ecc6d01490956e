"""Restricted medications on trial: each seed's rule as data, and an evaluator that flags a medication
taken inside a rule's time window.

Pure module (no Django); the first dose and every date are arguments. Source: issue 19 item 4 and the
seed records' exclusion criteria (fixtures/records/, quoted verbatim in each rule's ``quote``; the
study files give the same text under ``criteria``).

Rules (``RULES``):

- seed 002, exclusion 3: another investigational drug (a clinical trial of another drug or therapy)
  within 4 weeks before the first dose.
- seed 002, exclusion 4: haematopoietic growth factors (G-CSF, erythropoietin ...) within 1 week
  before the first dose.
- seed 004, exclusion 3: other investigational (research) drugs within 4 weeks before the first dose.
- seed 004, exclusion 10: live or live-attenuated vaccines within 4 weeks before the first dose of
  camrelizumab and at any time on trial (inactivated vaccines are not restricted).
- seed 004, exclusion 14: systemic immunosuppressants within 14 days before the first dose, excluding
  nasal and inhaled corticosteroids and physiological doses of systemic corticosteroids.

How a rule is read:

1. "Within N days (weeks) before the first dose" is inclusive, the one reading of the eligibility
   engine (``edc.core.within.is_within``): a medication last taken N days before the first dose is
   within, N + 1 days before is not; a medication still taken on the day of the first dose (0 days) is
   within. A week is 7 days. The window is [first dose − N, first dose]; a medication is in it when it
   started on or before the first dose and was still taken on or after its first day. Choice: "within
   4 weeks of the first dose" (seed 004 exclusion 10) is read "before" as the issue does; the days
   after the first dose are covered by "while on trial".
2. "At any time on trial" (seed 004 live vaccines): taken on or after the first dose, until the end of
   the subject's time on trial when it is given (``on_trial_until``), else without end.
3. A rule naming an agent's first dose (``anchor_agent``, seed 004: camrelizumab) counts from that
   agent's first dose when the caller gives it (``agent_first_doses``), else from the first dose.
4. Partial dates (``edc.core.partial_dates``): a start or stop known only to the month or year spans
   its earliest to its latest possible day. The flag is ``certain`` when every possible reading is
   inside the window, and raised as possible (``certain=False``, "may be") when only some are:
   nothing is imputed here, so a flag never depends on a guessed day. An unknown start counts as
   "any time before the stop"; a medication neither stopped nor marked ongoing may still be taken.
5. Exemptions are data too (``Exemption``): a corticosteroid given nasally or inhaled, or at a
   physiological dose, is not a systemic immunosuppressant for seed 004 exclusion 14.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from edc.core.partial_dates import PartialDate
from edc.core.within import is_within

SEED_002: Final = "fixtures/records/002_24b7f1f18ab1b4b9.txt"
SEED_004: Final = "fixtures/records/004_NCT06170697_excerpt.txt"
DAYS_PER_UNIT: Final = {"days": 1, "weeks": 7}
BEFORE_FIRST_DOSE: Final = "before_first_dose"
ON_TRIAL: Final = "on_trial"


class Category(StrEnum):
    SYSTEMIC_IMMUNOSUPPRESSANT = "systemic_immunosuppressant"
    LIVE_VACCINE = "live_vaccine"
    HAEMATOPOIETIC_GROWTH_FACTOR = "haematopoietic_growth_factor"
    INVESTIGATIONAL_DRUG = "investigational_drug"


CATEGORY_WORDS: Final = {
    Category.SYSTEMIC_IMMUNOSUPPRESSANT: "systemic immunosuppressant",
    Category.LIVE_VACCINE: "live or live-attenuated vaccine",
    Category.HAEMATOPOIETIC_GROWTH_FACTOR: "haematopoietic growth factor",
    Category.INVESTIGATIONAL_DRUG: "other investigational drug",
}


@dataclass(frozen=True)
class Medication:
    """One concomitant (or prior) medication as the rules need it."""

    name: str
    categories: frozenset[Category]
    start: PartialDate | None
    """None: start unknown."""
    stop: PartialDate | None = None
    ongoing: bool = False
    route: str = ""
    """A code of the ROUTE codelist (INH: inhaled) or NASAL; compared without case."""
    corticosteroid: bool = False
    physiological_dose: bool = False


@dataclass(frozen=True)
class Exemption:
    """Medications a rule does not restrict: every condition given must hold."""

    code: str
    words: str
    corticosteroid: bool = False
    routes: frozenset[str] = frozenset()
    physiological_dose: bool = False

    def applies(self, medication: Medication) -> bool:
        if self.corticosteroid and not medication.corticosteroid:
            return False
        if self.routes and medication.route.strip().upper() not in self.routes:
            return False
        return not (self.physiological_dose and not medication.physiological_dose)


@dataclass(frozen=True)
class RestrictedMedRule:
    code: str
    seed: str
    """The seed record, as ``Study.seed`` names it."""
    criterion: str
    category: Category
    quote: str
    """The seed's words, verbatim."""
    within: int
    within_unit: str
    anchor: str
    """The first dose the window counts back from, in the seed's words."""
    anchor_agent: str | None = None
    any_time_on_trial: bool = False
    exemptions: tuple[Exemption, ...] = ()

    def __post_init__(self) -> None:
        if self.within_unit not in DAYS_PER_UNIT:
            raise ValueError(f"{self.code}: within_unit {self.within_unit!r} is not days or weeks")
        if self.within < 0:
            raise ValueError(f"{self.code}: within must not be negative")

    @property
    def window_days(self) -> int:
        return self.within * DAYS_PER_UNIT[self.within_unit]

    @property
    def seed_number(self) -> str:
        return self.seed.rsplit("/", 1)[-1].split("_", 1)[0]

    @property
    def label(self) -> str:
        return f"seed {self.seed_number}, {self.criterion}"


NASAL_OR_INHALED_CORTICOSTEROID: Final = Exemption(
    code="nasal_or_inhaled_corticosteroid",
    words="nasal and inhaled corticosteroids",
    corticosteroid=True,
    routes=frozenset({"INH", "INHALED", "NASAL"}),
)
PHYSIOLOGICAL_CORTICOSTEROID: Final = Exemption(
    code="physiological_corticosteroid",
    words="physiological doses of systemic corticosteroids",
    corticosteroid=True,
    physiological_dose=True,
)

RULES: Final[tuple[RestrictedMedRule, ...]] = (
    RestrictedMedRule(
        code="002-E3",
        seed=SEED_002,
        criterion="exclusion 3",
        category=Category.INVESTIGATIONAL_DRUG,
        quote=(
            "Patients who have participated or are participating in a clinical trial of another "
            "drug/therapy within 4 weeks prior to the first dose of the study drug."
        ),
        within=4,
        within_unit="weeks",
        anchor="the first dose of the study drug",
    ),
    RestrictedMedRule(
        code="002-E4",
        seed=SEED_002,
        criterion="exclusion 4",
        category=Category.HAEMATOPOIETIC_GROWTH_FACTOR,
        quote=(
            "Patients who have received hematopoietic stimulating factors, such as granulocyte "
            "colony-stimulating factor (G-CSF), erythropoietin, etc., within 1 week prior to the first "
            "dose of the study drug."
        ),
        within=1,
        within_unit="weeks",
        anchor="the first dose of the study drug",
    ),
    RestrictedMedRule(
        code="004-E3",
        seed=SEED_004,
        criterion="exclusion 3",
        category=Category.INVESTIGATIONAL_DRUG,
        quote=(
            "Currently participating in intervention clinical research treatment, or receiving other "
            "research drugs or using research instruments within 4 weeks before the first administration;"
        ),
        within=4,
        within_unit="weeks",
        anchor="the first administration",
    ),
    RestrictedMedRule(
        code="004-E10",
        seed=SEED_004,
        criterion="exclusion 10",
        category=Category.LIVE_VACCINE,
        quote=(
            "Accination with live or live/attenuated viruses within 4 weeks of the first dose of "
            "camrelizumab and while on trial is prohibited except for administration of inactivated vaccines;"
        ),
        within=4,
        within_unit="weeks",
        anchor="the first dose of camrelizumab",
        anchor_agent="camrelizumab",
        any_time_on_trial=True,
    ),
    RestrictedMedRule(
        code="004-E14",
        seed=SEED_004,
        criterion="exclusion 14",
        category=Category.SYSTEMIC_IMMUNOSUPPRESSANT,
        quote=(
            "Used immunosuppressive drugs within 14 days before the first dose of study drug, excluding "
            "nasal and inhaled corticosteroids or physiological doses of systemic corticosteroids;"
        ),
        within=14,
        within_unit="days",
        anchor="the first dose of study drug",
        exemptions=(NASAL_OR_INHALED_CORTICOSTEROID, PHYSIOLOGICAL_CORTICOSTEROID),
    ),
)


def rules_for_seed(seed: str) -> tuple[RestrictedMedRule, ...]:
    """The rules of the study whose ``Study.seed`` is ``seed`` (its path, or just the file name)."""
    name = seed.strip().rsplit("/", 1)[-1]
    return tuple(rule for rule in RULES if rule.seed.rsplit("/", 1)[-1] == name)


# The concomitant-medication form's category codes (codelist CMREASON) as the rules' categories.
# STEROID_PHYS is a corticosteroid at a physiological dose or given nasally/inhaled: exempt by rule.
CM_CATEGORIES: Final[Mapping[str, Category]] = {
    "IMMUNOSUPP": Category.SYSTEMIC_IMMUNOSUPPRESSANT,
    "STEROID_PHYS": Category.SYSTEMIC_IMMUNOSUPPRESSANT,
    "LIVE_VACCINE": Category.LIVE_VACCINE,
    "GROWTH_FACTOR": Category.HAEMATOPOIETIC_GROWTH_FACTOR,
    "INVESTIGATIONAL": Category.INVESTIGATIONAL_DRUG,
}
_INHALED_ROUTES: Final = frozenset({"INH", "INHALED", "NASAL"})


def medication_from_cm(
    *,
    name: str,
    category: str,
    start: str | dt.date | PartialDate | None,
    stop: str | dt.date | PartialDate | None = None,
    ongoing: bool = False,
    route: str = "",
) -> Medication:
    """A Medication from the CM form's items (CMTRT, CMCAT, CMSTDAT, CMENDAT, CMONGO, CMROUTE)."""
    code = category.strip().upper()
    found = CM_CATEGORIES.get(code)
    steroid = code == "STEROID_PHYS"
    return Medication(
        name=name,
        categories=frozenset({found}) if found else frozenset(),
        start=None if start is None else PartialDate.parse(start),
        stop=None if stop is None else PartialDate.parse(stop),
        ongoing=ongoing,
        route=route,
        corticosteroid=steroid,
        physiological_dose=steroid and route.strip().upper() not in _INHALED_ROUTES,
    )


# --------------------------------------------------------------------------- the evaluator


@dataclass(frozen=True)
class RestrictedMedFlag:
    rule: str
    seed: str
    criterion: str
    category: Category
    medication: str
    windows: tuple[str, ...]
    """``before_first_dose`` and/or ``on_trial``."""
    certain: bool
    """False: a partial or missing date makes it possible, not certain."""
    message: str


def _span(medication: Medication) -> tuple[tuple[dt.date, dt.date], tuple[dt.date, dt.date]]:
    """(earliest, latest) possible first day and (earliest, latest) possible last day taken."""
    if medication.ongoing:
        stop = (dt.date.max, dt.date.max)
    elif medication.stop is not None:
        stop = (medication.stop.earliest(), medication.stop.latest())
    else:
        stop = (dt.date.min, dt.date.max)  # not stopped, not said to be ongoing: unknown
    if medication.start is not None:
        start = (medication.start.earliest(), medication.start.latest())
    else:
        start = (dt.date.min, stop[1])
    # The last day taken is never before the first: narrow what the other date rules out.
    stop = (max(stop[0], start[0]), stop[1])
    start = (start[0], min(start[1], stop[1]))
    return start, stop


def _reaches_window(last_day: dt.date, first_dose: dt.date, days: int) -> bool:
    """Whether a medication last taken on ``last_day`` was taken within ``days`` before the first dose."""
    return last_day >= first_dose or is_within((first_dose - last_day).days, days)


def _before_first_dose(medication: Medication, first_dose: dt.date, days: int) -> bool | None:
    """True: certainly within the window; None: possibly; False: not."""
    (start_earliest, start_latest), (stop_earliest, stop_latest) = _span(medication)
    if start_latest <= first_dose and _reaches_window(stop_earliest, first_dose, days):
        return True
    if start_earliest <= first_dose and _reaches_window(stop_latest, first_dose, days):
        return None
    return False


def _on_trial(medication: Medication, first_dose: dt.date, until: dt.date | None) -> bool | None:
    (start_earliest, start_latest), (stop_earliest, stop_latest) = _span(medication)
    end = until or dt.date.max
    if start_latest <= end and stop_earliest >= first_dose:
        return True
    if start_earliest <= end and stop_latest >= first_dose:
        return None
    return False


def _message(rule: RestrictedMedRule, medication: Medication, windows: tuple[str, ...], certain: bool) -> str:
    what = CATEGORY_WORDS[rule.category]
    parts = []
    if BEFORE_FIRST_DOSE in windows:
        parts.append(f"within {rule.within} {rule.within_unit} before {rule.anchor}")
    if ON_TRIAL in windows:
        parts.append("on trial")
    dates = f"{medication.start or 'start unknown'} to "
    dates += "ongoing" if medication.ongoing else str(medication.stop or "stop unknown")
    verb = "taken" if certain else "may have been taken (partial or missing date)"
    return f"{medication.name} ({what}, {dates}) {verb} {' and '.join(parts)}: {rule.label}"


def evaluate_medication(
    medication: Medication,
    *,
    rules: Iterable[RestrictedMedRule],
    first_dose: dt.date,
    agent_first_doses: Mapping[str, dt.date] | None = None,
    on_trial_until: dt.date | None = None,
) -> tuple[RestrictedMedFlag, ...]:
    """The flags ``medication`` raises under ``rules``, one per rule at most."""
    flags = []
    for rule in rules:
        if rule.category not in medication.categories:
            continue
        if any(exemption.applies(medication) for exemption in rule.exemptions):
            continue
        anchor = first_dose
        if rule.anchor_agent and agent_first_doses and rule.anchor_agent in agent_first_doses:
            anchor = agent_first_doses[rule.anchor_agent]
        found: dict[str, bool | None] = {
            BEFORE_FIRST_DOSE: _before_first_dose(medication, anchor, rule.window_days)
        }
        if rule.any_time_on_trial:
            found[ON_TRIAL] = _on_trial(medication, first_dose, on_trial_until)
        windows = tuple(name for name, hit in found.items() if hit is not False)
        if not windows:
            continue
        certain = any(hit is True for hit in found.values())
        flags.append(
            RestrictedMedFlag(
                rule=rule.code,
                seed=rule.seed,
                criterion=rule.criterion,
                category=rule.category,
                medication=medication.name,
                windows=windows,
                certain=certain,
                message=_message(rule, medication, windows, certain),
            )
        )
    return tuple(flags)


def evaluate(
    medications: Iterable[Medication],
    *,
    rules: Iterable[RestrictedMedRule],
    first_dose: dt.date,
    agent_first_doses: Mapping[str, dt.date] | None = None,
    on_trial_until: dt.date | None = None,
) -> tuple[RestrictedMedFlag, ...]:
    """Every flag of every medication, in the order given."""
    rules = tuple(rules)
    return tuple(
        flag
        for medication in medications
        for flag in evaluate_medication(
            medication,
            rules=rules,
            first_dose=first_dose,
            agent_first_doses=agent_first_doses,
            on_trial_until=on_trial_until,
        )
    )
