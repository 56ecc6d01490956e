"""The eligibility case format (docs/input-files.md, "Eligibility case") as pydantic models, read into
the dataclasses of `eligibility.py`. Pure: no Django.

The format is extended with the screening forms' items (docs/journey.md, "The case format's
extension"): `disease`, `prior_therapies`, `medical_history`, `medications`, more `vitals`, a lab's
`clinically_significant` and the pregnancy test's `specimen`. A case is read into a
`record.ScreeningRecord`, the same shape the stored forms are read into, and the engine's patient
comes from it; existing files stay valid and mean what they meant.

Unknown keys are errors naming the key. What is well formed but cannot be read is kept and reported
as a warning instead of guessed: a lab in an unknown unit stays in the case (the criteria that read
it need review, naming the unit), a lab test outside the catalogue is ignored (no rule can read it).
An unknown event in `dates` is an error, not a warning: the case lists the whole history, so a
misspelt event would read as "did not happen".
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, model_validator

from edc.core.labs import LabValue
from edc.core.partial_dates import PartialDate, PartialDateError
from edc.core.units import UnitError, normalize_unit, to_decimal
from edc.eligibility.eligibility import DiseaseBaseline, Patient, PregnancyTest
from edc.eligibility.record import (
    CASE_MEDICATION_TOPICS,
    ConditionRow,
    LabRow,
    MedicationRow,
    PriorTherapyRow,
    ScreeningRecord,
    Vitals,
    rows_from_case_dates,
)
from edc.eligibility.rules import CASE_EVENTS, FIELDS, UPROT_ORDER
from edc.forms import codes
from edc.inputs.base import Count, Flag, InputModel, IsoDate, IsoDateTime, Label, Text, one_of
from edc.inputs.cases import CaseError as _CaseProblems
from edc.inputs.cases import read_case
from edc.inputs.errors import fail

PREGNANCY_RESULTS = ("negative", "positive", "not_applicable")
# Dipstick spellings labs print besides the catalogue's.
UPROT_ALIASES = {"neg": "negative", "-": "negative", "+": "1+", "++": "2+", "+++": "3+", "++++": "4+"}
LAB_TESTS = tuple(name for name, spec in FIELDS.items() if spec.lab)
HISTORY_EVENTS = CASE_EVENTS
ANSWERS = ("met", "not_met")


class CaseError(ValueError):
    """A malformed case: names the case and the first bad field (``problems`` holds them all)."""

    def __init__(self, case_id: str, field: str, message: str, problems: list[tuple[str, str]] | None = None):
        super().__init__(f"case {case_id}: {field}: {message}")
        self.case_id = case_id
        self.field = field
        self.message = message
        self.problems = problems or [(field, message)]


@dataclass(frozen=True)
class EligibilityCase:
    id: str
    study: str
    as_of: date
    patient: Patient
    warnings: tuple[str, ...] = ()
    record: ScreeningRecord | None = None


# --- values -------------------------------------------------------------------------------------


def _number(value: Any) -> Decimal:
    if value is None:
        raise fail("must not be empty")
    try:
        return to_decimal(value)
    except UnitError:
        raise fail(f"must be a number, not {value!r}") from None


def _positive(value: Any) -> Decimal:
    number = _number(value)
    if number <= 0:
        raise fail(f"must be positive, not {value!r}")
    return number


def _birth_year(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1880:
        raise fail(f"must be a year no later than as_of, not {value!r}")
    return int(value)


def _ecog(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 5:
        raise fail(f"must be a whole number 0-5, not {value!r}")
    return int(value)


def _study(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str) or not value.strip():
        raise fail("missing (a protocol id, registry id or primary key)")
    return value.strip()


def _lab_value(value: Any) -> Decimal | str:
    """A number, or a dipstick reading (kept as text; the lab says which it must be)."""
    if isinstance(value, str):
        try:
            return to_decimal(value)
        except UnitError:
            return value
    return _number(value)


def _partial_date(value: Any) -> PartialDate:
    if not isinstance(value, str):
        raise fail(f"must be a date YYYY, YYYY-MM or YYYY-MM-DD, not {value!r}")
    try:
        return PartialDate.parse(value)
    except PartialDateError as exc:
        raise fail(str(exc)) from None


def _grade(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 5:
        raise fail(f"must be a CTCAE grade 0-5, not {value!r}")
    return int(value)


def _whole(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise fail(f"must be a whole number above 0, not {value!r}")
    return int(value)


Number = Annotated[Decimal, BeforeValidator(_number)]
PositiveNumber = Annotated[Decimal, BeforeValidator(_positive)]
PartialDateIn = Annotated[PartialDate, BeforeValidator(_partial_date)]
Grade = Annotated[int, BeforeValidator(_grade)]
PositiveWhole = Annotated[int, BeforeValidator(_whole)]


# --- the parts of a case ------------------------------------------------------------------------


class SubjectIn(InputModel):
    birth_year: Annotated[int, BeforeValidator(_birth_year)] | None = None
    sex: one_of(("M", "F")) | None = None  # type: ignore[valid-type]


class VitalsIn(InputModel):
    weight_kg: PositiveNumber | None = None
    height_cm: PositiveNumber | None = None
    # Extension: stored by screening_import, read by no criterion.
    systolic_bp: PositiveWhole | None = None
    diastolic_bp: PositiveWhole | None = None
    heart_rate: PositiveWhole | None = None
    temperature_c: PositiveNumber | None = None


class LabIn(InputModel):
    test: Annotated[str, BeforeValidator(lambda v: _non_empty(v))]
    value: Annotated[Decimal | str, BeforeValidator(_lab_value)] | None = None
    unit: Text | None = None
    lln: Number | None = None
    uln: Number | None = None
    date: IsoDate | None = None
    clinically_significant: Flag | None = None  # extension

    @model_validator(mode="after")
    def _value_fits_the_test(self) -> LabIn:
        code = self.test.upper()
        if code not in LAB_TESTS:
            return self  # a warning, not an error: see to_result
        if self.value is None:
            raise fail("required field is missing", at="value")
        if code == "UPROT":
            text = UPROT_ALIASES.get(str(self.value).strip().lower(), str(self.value).strip().lower())
            if text not in UPROT_ORDER:
                raise fail(f"urine protein must be one of {', '.join(UPROT_ORDER)}", at="value")
            return self
        if isinstance(self.value, str):
            raise fail(f"must be a number, not {self.value!r}", at="value")
        if self.unit is None and code != "INR":
            raise fail(f"missing for {code}", at="unit")
        return self

    def to_result(self, where: str, warnings: list[str]) -> LabValue | None:
        code = self.test.upper()
        if code not in LAB_TESTS:
            warnings.append(
                f"{where}.test: unknown test {self.test!r}, ignored (known: {', '.join(LAB_TESTS)})"
            )
            return None
        if code == "UPROT":
            text = str(self.value).strip().lower()
            return LabValue(test=code, value=UPROT_ALIASES.get(text, text), unit=None, date=self.date)
        if self.unit is not None:
            try:
                normalize_unit(self.unit)
            except UnitError as exc:
                # Kept: the criteria reading this lab need review and say why.
                warnings.append(f"{where}.unit: {exc} ({code})")
        return LabValue(
            test=code,
            value=self.value,
            unit=self.unit,
            lln=self.lln,
            uln=self.uln,
            date=self.date,
        )


def _non_empty(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise fail("required: a test code such as HGB")
    return value.strip()


class PregnancyTestIn(InputModel):
    date: IsoDate | None = None
    result: one_of(PREGNANCY_RESULTS)  # type: ignore[valid-type]
    specimen: one_of(codes.PREGNANCY_SPECIMENS) | None = None  # type: ignore[valid-type]


def _codes(values: dict[str, str]) -> Any:
    return one_of(tuple(values))


class DiseaseIn(InputModel):
    """The disease baseline's items (its dates stay in `dates`: diagnosis, surgery, recurrence)."""

    primary_site: _codes(codes.PRIMARY_SITES) | None = None  # type: ignore[valid-type]
    histology: _codes(codes.HISTOLOGIES) | None = None  # type: ignore[valid-type]
    histology_confirmation: _codes(codes.HISTOLOGY_CONFIRMATION) | None = None  # type: ignore[valid-type]
    setting: _codes(codes.DISEASE_SETTINGS) | None = None  # type: ignore[valid-type]
    measurable: Flag | None = None
    hpv_status: _codes(codes.HPV_STATUS) | None = None  # type: ignore[valid-type]
    hpv_method: _codes(codes.HPV_METHODS) | None = None  # type: ignore[valid-type]
    surgery_type: _codes(codes.SURGERY_TYPES) | None = None  # type: ignore[valid-type]
    neck_dissection: Flag | None = None
    recurrence_confirmation: _codes(codes.RECURRENCE_CONFIRMATION) | None = None  # type: ignore[valid-type]
    recurrence_imaging_count: Count | None = None
    metastasis_excluded: Flag | None = None
    metastasis_method: _codes(codes.METASTASIS_METHODS) | None = None  # type: ignore[valid-type]


class PriorTherapyIn(InputModel):
    agent: Text | None = None
    regimen: Text | None = None
    agent_class: _codes(codes.PRIOR_CLASSES) = Field(alias="class")  # type: ignore[valid-type]
    setting: _codes(codes.PRIOR_SETTINGS) | None = None  # type: ignore[valid-type]
    line: PositiveWhole | None = None
    start: PartialDateIn | None = None
    last_dose: PartialDateIn | None = None
    ongoing: Flag = False
    cycles: Count | None = None
    progression: Flag | None = None
    toxicity_recovered: Flag | None = None
    toxicity_grade: Grade | None = None
    toxicity_ctcae: Label | None = None

    @model_validator(mode="after")
    def _ended_or_ongoing(self) -> PriorTherapyIn:
        if self.ongoing and self.last_dose is not None:
            raise fail("an ongoing therapy has no last dose yet", at="last_dose")
        if self.start is not None and self.last_dose is not None and self.last_dose < self.start:
            raise fail("is before start", at="last_dose")
        return self

    def to_row(self) -> PriorTherapyRow:
        return PriorTherapyRow(
            agent_class=self.agent_class,
            agent=self.agent or "",
            regimen=self.regimen or "",
            setting=self.setting,
            line=self.line,
            start=self.start,
            last_dose=self.last_dose,
            ongoing=self.ongoing,
            cycles=self.cycles,
            progression=self.progression,
            toxicity_recovered=self.toxicity_recovered,
            toxicity_grade=self.toxicity_grade,
            toxicity_ctcae=self.toxicity_ctcae,
        )


class ConditionIn(InputModel):
    condition: Text
    category: _codes(codes.CONDITION_CATEGORIES) = "OTHER"  # type: ignore[valid-type]
    onset: PartialDateIn | None = None
    end: PartialDateIn | None = None
    ongoing: Flag | None = None

    def to_row(self) -> ConditionRow:
        return ConditionRow(
            category=self.category, term=self.condition, onset=self.onset, end=self.end, ongoing=self.ongoing
        )


class MedicationIn(InputModel):
    agent: Text
    category: _codes(codes.MEDICATION_CATEGORIES) = "OTHER"  # type: ignore[valid-type]
    start: PartialDateIn | None = None
    stop: PartialDateIn | None = None
    ongoing: Flag | None = None
    dose: Number | None = None
    dose_unit: Text | None = None
    route: Text | None = None

    @model_validator(mode="after")
    def _stopped_or_ongoing(self) -> MedicationIn:
        if self.ongoing and self.stop is not None:
            raise fail("an ongoing medication has no stop date", at="stop")
        if self.start is not None and self.stop is not None and self.stop < self.start:
            raise fail("is before start", at="stop")
        return self

    def to_row(self) -> MedicationRow:
        return MedicationRow(
            category=self.category,
            agent=self.agent,
            start=self.start,
            stop=self.stop,
            ongoing=self.ongoing,
            dose=self.dose,
            dose_unit=self.dose_unit or "",
            route=self.route or "",
        )


class ConsentIn(InputModel):
    signed_at: IsoDateTime
    version: Label | None = None
    # Extension: read by screening_import (who obtained consent; the version's language).
    obtained_by: Text | None = None
    language: Label | None = None


def _dates(value: Any) -> dict[str, date]:
    if not isinstance(value, dict):
        raise fail("must be an object of event: YYYY-MM-DD")
    out: dict[str, date] = {}
    for event, raw in value.items():
        if event not in HISTORY_EVENTS:
            raise fail(f"unknown event (one of {', '.join(HISTORY_EVENTS)})", at=str(event))
        if raw is None:
            continue
        if not isinstance(raw, str):
            raise fail(f"must be a date YYYY-MM-DD, not {raw!r}", at=str(event))
        try:
            out[event] = date.fromisoformat(raw)
        except ValueError:
            raise fail(f"must be a date YYYY-MM-DD, not {raw!r}", at=str(event)) from None
    return out


def _confirmations(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise fail("must be an object keyed by criterion number")
    for key, answer in value.items():
        if answer not in ANSWERS:
            raise fail(f"must be met or not_met, not {answer!r}", at=str(key))
    return {str(k): v for k, v in value.items()}


class EligibilityCaseIn(InputModel):
    id: Label
    study: Annotated[str, BeforeValidator(_study)]
    site: Label | None = None
    consent: ConsentIn | None = None
    as_of: IsoDate
    subject: SubjectIn = SubjectIn()
    ecog: Annotated[int, BeforeValidator(_ecog)] | None = None
    vitals: VitalsIn = VitalsIn()
    labs: list[LabIn] = []
    dates: Annotated[dict[str, date], BeforeValidator(_dates)] = {}
    pregnancy_test: PregnancyTestIn | None = None
    confirmations: Annotated[dict[str, str], BeforeValidator(_confirmations)] = {}
    confirm_unstructured: Flag = False
    # Extension (docs/journey.md): a section present states the whole history of its categories.
    disease: DiseaseIn | None = None
    prior_therapies: list[PriorTherapyIn] | None = None
    medical_history: list[ConditionIn] | None = None
    medications: list[MedicationIn] | None = None

    @model_validator(mode="before")
    @classmethod
    def _empty_parts(cls, data: Any) -> Any:
        # An empty part written as null reads as left out.
        if isinstance(data, dict):
            return {
                k: v
                for k, v in data.items()
                if not (v is None and k in ("subject", "vitals", "labs", "dates"))
            }
        return data

    @model_validator(mode="after")
    def _birth_year_not_after_as_of(self) -> EligibilityCaseIn:
        year = self.subject.birth_year
        if year is not None and year > self.as_of.year:
            raise fail(f"must be a year no later than as_of, not {year!r}", at=("subject", "birth_year"))
        return self

    @model_validator(mode="after")
    def _one_place_per_event(self) -> EligibilityCaseIn:
        # A history section states its events itself: the same event in `dates` could disagree.
        for section, events in (
            ("prior_therapies", ("prior_pd1_first_dose", "prior_pd1_last_dose", "last_anticancer_therapy")),
            ("medications", ("last_growth_factor", "last_immunosuppressant", "last_live_vaccine")),
        ):
            if getattr(self, section) is None:
                continue
            for event in events:
                if event in self.dates:
                    raise fail(f"the case has {section}: state this event there", at=("dates", event))
        return self

    def to_record(self, warnings: list[str] | None = None) -> ScreeningRecord:
        """The case as the screening forms would store it (docs/journey.md)."""
        warnings = [] if warnings is None else warnings
        labs = [lab.to_result(f"labs[{i}]", warnings) for i, lab in enumerate(self.labs)]
        disease, prior_rows, med_rows = rows_from_case_dates(self.dates)
        if self.disease is not None:
            disease = DiseaseBaseline(
                **{
                    **disease.__dict__,
                    **{
                        k: v
                        for k, v in self.disease.__dict__.items()
                        if k in DiseaseBaseline.__dataclass_fields__
                    },
                }
            )
        medication_answers = dict.fromkeys(CASE_MEDICATION_TOPICS, False)
        if self.medications is not None:
            med_rows = tuple(m.to_row() for m in self.medications)
            medication_answers = dict.fromkeys(codes.MEDICATION_TOPICS, False)
        for row in med_rows:
            for topic, categories in codes.MEDICATION_TOPICS.items():
                if row.category in categories:
                    medication_answers[topic] = True
        if self.prior_therapies is not None:
            prior_rows = tuple(p.to_row() for p in self.prior_therapies)
        conditions = tuple(c.to_row() for c in self.medical_history or ())
        test = self.pregnancy_test
        return ScreeningRecord(
            birth_year=self.subject.birth_year,
            sex=self.subject.sex,
            consent_date=self.consent.signed_at.date() if self.consent is not None else None,
            ecog=self.ecog,
            vitals=Vitals(**self.vitals.__dict__),
            labs=tuple(
                LabRow(lab=lab, clinically_significant=source.clinically_significant)
                for lab, source in zip(labs, self.labs, strict=True)
                if lab is not None
            ),
            pregnancy_test=(
                PregnancyTest(result=test.result, date=test.date, specimen=test.specimen)
                if test is not None
                else None
            ),
            disease=disease,
            any_prior_therapy=bool(prior_rows),
            prior_therapies=prior_rows,
            any_condition=None if self.medical_history is None else bool(conditions),
            conditions=conditions,
            medication_answers=medication_answers,
            medications=med_rows,
            confirmations=dict(self.confirmations),
            confirm_unstructured=self.confirm_unstructured,
        )

    def to_case(self) -> EligibilityCase:
        warnings: list[str] = []
        record = self.to_record(warnings)
        # The record's rows give the engine the same events; `dates` keeps them as the case wrote them.
        patient = replace(record.patient(), dates=dict(self.dates))
        return EligibilityCase(self.id, self.study, self.as_of, patient, tuple(warnings), record)


# --- reading ------------------------------------------------------------------------------------


def case_id_of(raw: Any, index: int) -> str:
    """The case's id for messages, or its position when the id itself is missing."""
    value = raw.get("id") if isinstance(raw, dict) else None
    if isinstance(value, str | int) and not isinstance(value, bool) and str(value).strip():
        return str(value).strip()
    return f"cases[{index}]"


def parse_case(raw: Any, index: int = 0) -> EligibilityCase:
    """One raw case, or CaseError naming the case and its first bad field."""
    case_id = case_id_of(raw, index)
    try:
        model = read_case(EligibilityCaseIn, raw)
    except _CaseProblems as exc:
        problems = [(f or "case", m) for f, m in exc.problems]
        field, message = problems[0]
        raise CaseError(case_id, field, message, problems) from None
    return model.to_case()
