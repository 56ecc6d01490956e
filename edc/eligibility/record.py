"""A screened patient's data as the screening forms store it, and the engine's Patient built from it.

Pure: no Django. Three readers produce a `ScreeningRecord` and one function turns it into the
engine's `Patient`:

- the case format (`casefile.EligibilityCaseIn.to_record`), the eligibility case of a file;
- the stored forms (`selectors.screening_record`), one subject's rows as of the first dose;
- `screening_import` writes a case's record as rows through the form services, so reading the
  rows back gives the same record, and `/api/subjects/{id}/eligibility/` the same answer as
  `eligibility_evaluate` on the file (tests/eligibility/test_import.py holds them equal).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from edc.core.labs import LabValue
from edc.core.partial_dates import PartialDate
from edc.eligibility.eligibility import (
    Condition,
    Conditions,
    DiseaseBaseline,
    Medication,
    Medications,
    Patient,
    PregnancyTest,
    PriorTherapies,
    PriorTherapy,
    Subject,
)
from edc.forms import codes


@dataclass(frozen=True)
class Vitals:
    weight_kg: Decimal | None = None
    height_cm: Decimal | None = None
    systolic_bp: int | None = None
    diastolic_bp: int | None = None
    heart_rate: int | None = None
    temperature_c: Decimal | None = None


@dataclass(frozen=True)
class LabRow:
    lab: LabValue
    clinically_significant: bool | None = None


@dataclass(frozen=True)
class PriorTherapyRow:
    agent_class: str
    agent: str = ""
    regimen: str = ""
    setting: str | None = None
    line: int | None = None
    start: PartialDate | None = None
    last_dose: PartialDate | None = None
    ongoing: bool | None = False
    cycles: int | None = None
    progression: bool | None = None
    toxicity_recovered: bool | None = None
    toxicity_grade: int | None = None
    toxicity_ctcae: str | None = None

    def engine(self) -> PriorTherapy:
        return PriorTherapy(
            agent_class=self.agent_class,
            start=self.start,
            last_dose=self.last_dose,
            ongoing=self.ongoing,
            setting=self.setting,
            cycles=self.cycles,
            progression=self.progression,
            toxicity_recovered=self.toxicity_recovered,
            toxicity_grade=self.toxicity_grade,
            toxicity_ctcae=self.toxicity_ctcae,
        )


@dataclass(frozen=True)
class ConditionRow:
    category: str
    term: str = ""
    onset: PartialDate | None = None
    end: PartialDate | None = None
    ongoing: bool | None = None


@dataclass(frozen=True)
class MedicationRow:
    category: str
    agent: str = ""
    start: PartialDate | None = None
    stop: PartialDate | None = None
    ongoing: bool | None = None
    dose: Decimal | None = None
    dose_unit: str = ""
    route: str = ""


@dataclass(frozen=True)
class ScreeningRecord:
    """What the screening forms hold for one patient (None: not recorded)."""

    birth_year: int | None = None
    sex: str | None = None
    consent_date: dt.date | None = None
    ecog: int | None = None
    vitals: Vitals = Vitals()
    labs: tuple[LabRow, ...] = ()
    pregnancy_test: PregnancyTest | None = None
    disease: DiseaseBaseline | None = None
    # The explicit answers: None unanswered, True/False "any?"; the rows follow.
    any_prior_therapy: bool | None = None
    prior_therapies: tuple[PriorTherapyRow, ...] = ()
    any_condition: bool | None = None
    conditions: tuple[ConditionRow, ...] = ()
    medication_answers: Mapping[str, bool] = field(default_factory=dict)  # topic -> any?
    medication_window_days: int | None = None  # None: the answers cover the whole history
    medications: tuple[MedicationRow, ...] = ()
    confirmations: Mapping[str, str] = field(default_factory=dict)
    confirm_unstructured: bool = False

    def patient(self) -> Patient:
        """The engine's patient: the record's facts, nothing guessed."""
        return Patient(
            subject=Subject(birth_year=self.birth_year, sex=self.sex),
            ecog=self.ecog,
            weight_kg=self.vitals.weight_kg,
            height_cm=self.vitals.height_cm,
            labs=tuple(row.lab for row in self.labs),
            pregnancy_test=self.pregnancy_test,
            confirmations=dict(self.confirmations),
            confirm_unstructured=self.confirm_unstructured,
            consent_date=self.consent_date,
            # Always a disease baseline (empty when the form is not recorded): its surgery and
            # recurrence answers then say "not recorded" rather than "did not happen".
            disease=self.disease or DiseaseBaseline(),
            prior_therapies=PriorTherapies(
                answered=self.any_prior_therapy is not None,
                rows=tuple(row.engine() for row in self.prior_therapies),
            ),
            conditions=Conditions(
                answered=self.any_condition is not None,
                rows=tuple(
                    Condition(category=c.category, onset=c.onset, end=c.end, ongoing=c.ongoing)
                    for c in self.conditions
                ),
            ),
            medications=Medications(
                answered=frozenset(t for t in self.medication_answers if t in codes.MEDICATION_TOPICS),
                window_days=self.medication_window_days,
                rows=tuple(
                    Medication(category=m.category, start=m.start, stop=m.stop, ongoing=m.ongoing)
                    for m in self.medications
                ),
            ),
        )


def _date(value: dt.date | None) -> PartialDate | None:
    return None if value is None else PartialDate.parse(value)


def rows_from_case_dates(
    dates: Mapping[str, dt.date],
) -> tuple[DiseaseBaseline, tuple[PriorTherapyRow, ...], tuple[MedicationRow, ...]]:
    """The case format's `dates` (a whole history) as the forms store them.

    - diagnosis, surgery, recurrence: the disease baseline's dates, with its answers "was there a
      surgery / a recurrence?" (no date: none, by the whole-history rule);
    - prior_pd1_first_dose / prior_pd1_last_dose: one PD-1 row (without a last dose: still going
      on, since the last dose did not happen); last_anticancer_therapy: one more row of class
      NON_PD1 (by the same rule it was no PD-1 inhibitor), unless it is the PD-1 row's last dose;
    - last_growth_factor, last_immunosuppressant, last_live_vaccine: one medication row each, given
      and stopped that day (the kind of immunosuppressant is not recorded).
    """
    surgery, recurrence = dates.get("surgery"), dates.get("recurrence")
    disease = DiseaseBaseline(
        diagnosis=_date(dates.get("diagnosis")),
        surgery=surgery is not None,
        surgery_date=_date(surgery),
        recurrence=recurrence is not None,
        recurrence_date=_date(recurrence),
    )
    prior: list[PriorTherapyRow] = []
    first, last = dates.get("prior_pd1_first_dose"), dates.get("prior_pd1_last_dose")
    if first is not None or last is not None:
        prior.append(
            PriorTherapyRow(
                agent_class="PD1",
                agent="PD-1 inhibitor",
                start=_date(first),
                last_dose=_date(last),
                # No last dose in a whole history: the therapy has not ended.
                ongoing=last is None,
            )
        )
    other = dates.get("last_anticancer_therapy")
    if other is not None and other != last:
        prior.append(
            PriorTherapyRow(
                agent_class="NON_PD1", agent="anticancer therapy", last_dose=_date(other), ongoing=False
            )
        )
    meds = tuple(
        MedicationRow(
            category=category, agent=agent, start=_date(dates[event]), stop=_date(dates[event]), ongoing=False
        )
        for event, category, agent in (
            ("last_growth_factor", "GROWTH_FACTOR", "haematopoietic growth factor"),
            ("last_immunosuppressant", "IMMUNOSUPP_UNKNOWN", "immunosuppressant"),
            ("last_live_vaccine", "LIVE_VACCINE", "live vaccine"),
        )
        if dates.get(event) is not None
    )
    return disease, tuple(prior), meds


# The medication topics the case format's `dates` state (its whole history covers these only).
CASE_MEDICATION_TOPICS = ("GROWTH_FACTOR", "IMMUNOSUPPRESSANT", "LIVE_VACCINE")


def _plain(value: object) -> object:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.date | PartialDate):
        return value.isoformat()
    if isinstance(value, frozenset | set):
        return sorted(_plain(v) for v in value)  # type: ignore[type-var]
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in sorted(value.items())}
    if hasattr(value, "__dataclass_fields__"):
        return {name: _plain(getattr(value, name)) for name in value.__dataclass_fields__}
    return value


def record_json(record: ScreeningRecord) -> dict[str, object]:
    """The record's data as JSON (a decision's snapshot), without the confirmations (their own part)."""
    data = _plain(record)
    assert isinstance(data, dict)
    data.pop("confirmations", None)
    data.pop("confirm_unstructured", None)
    return data
