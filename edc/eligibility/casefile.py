"""The eligibility case format (docs/input-files.md, "Eligibility case") as pydantic models, read into
the dataclasses of `eligibility.py`. Pure: no Django.

Unknown keys are errors naming the key. What is well formed but cannot be read is kept and reported
as a warning instead of guessed: a lab in an unknown unit stays in the case (the criteria that read
it need review, naming the unit), a lab test outside the catalogue is ignored (no rule can read it).
An unknown event in `dates` is an error, not a warning: the case lists the whole history, so a
misspelt event would read as "did not happen".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator, model_validator

from edc.core.units import UnitError, normalize_unit, to_decimal
from edc.eligibility.eligibility import LabResult, Patient, PregnancyTest, Subject
from edc.eligibility.rules import EVENTS, FIELDS, UPROT_ORDER
from edc.inputs.base import Flag, InputModel, IsoDate, IsoDateTime, Label, Text, one_of
from edc.inputs.cases import CaseError as _CaseProblems
from edc.inputs.cases import read_case
from edc.inputs.errors import fail

PREGNANCY_RESULTS = ("negative", "positive", "not_applicable")
# Dipstick spellings labs print besides the catalogue's.
UPROT_ALIASES = {"neg": "negative", "-": "negative", "+": "1+", "++": "2+", "+++": "3+", "++++": "4+"}
LAB_TESTS = tuple(name for name, spec in FIELDS.items() if spec.lab)
HISTORY_EVENTS = tuple(event for event in EVENTS if event != "first_dose")
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
    return value


def _ecog(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 5:
        raise fail(f"must be a whole number 0-5, not {value!r}")
    return value


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


Number = Annotated[Decimal, BeforeValidator(_number)]
PositiveNumber = Annotated[Decimal, BeforeValidator(_positive)]


# --- the parts of a case ------------------------------------------------------------------------


class SubjectIn(InputModel):
    birth_year: Annotated[int, BeforeValidator(_birth_year)] | None = None
    sex: one_of(("M", "F")) | None = None  # type: ignore[valid-type]


class VitalsIn(InputModel):
    weight_kg: PositiveNumber | None = None
    height_cm: PositiveNumber | None = None


class LabIn(InputModel):
    test: Annotated[str, BeforeValidator(lambda v: _non_empty(v))]
    value: Annotated[Decimal | str, BeforeValidator(_lab_value)] | None = None
    unit: Text | None = None
    lln: Number | None = None
    uln: Number | None = None
    date: IsoDate | None = None

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

    def to_result(self, where: str, warnings: list[str]) -> LabResult | None:
        code = self.test.upper()
        if code not in LAB_TESTS:
            warnings.append(
                f"{where}.test: unknown test {self.test!r}, ignored (known: {', '.join(LAB_TESTS)})"
            )
            return None
        if code == "UPROT":
            text = str(self.value).strip().lower()
            return LabResult(test=code, value=UPROT_ALIASES.get(text, text), unit=None, date=self.date)
        if self.unit is not None:
            try:
                normalize_unit(self.unit)
            except UnitError as exc:
                # Kept: the criteria reading this lab need review and say why.
                warnings.append(f"{where}.unit: {exc} ({code})")
        return LabResult(
            test=code,
            value=self.value,  # type: ignore[arg-type]
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


class ConsentIn(InputModel):
    signed_at: IsoDateTime
    version: Label | None = None


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

    def to_case(self) -> EligibilityCase:
        warnings: list[str] = []
        labs = [lab.to_result(f"labs[{i}]", warnings) for i, lab in enumerate(self.labs)]
        patient = Patient(
            subject=Subject(birth_year=self.subject.birth_year, sex=self.subject.sex),
            ecog=self.ecog,
            weight_kg=self.vitals.weight_kg,
            height_cm=self.vitals.height_cm,
            labs=tuple(lab for lab in labs if lab is not None),
            dates=dict(self.dates),
            pregnancy_test=(
                PregnancyTest(result=self.pregnancy_test.result, date=self.pregnancy_test.date)
                if self.pregnancy_test is not None
                else None
            ),
            confirmations=dict(self.confirmations),
            confirm_unstructured=self.confirm_unstructured,
        )
        return EligibilityCase(self.id, self.study, self.as_of, patient, tuple(warnings))


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
