"""The CTCAE grading request format (docs/input-files.md, "CTCAE v5.0 grading request") as a
pydantic model that converts into ``ctcae.GradingRequest``. Pure: no Django.

A file is a JSON list of cases or an object ``{"grading_cases": [...]}``. Unknown keys are errors
naming the key; numbers may be written as JSON numbers or as numeric text ("1.2"); a urine dipstick
``value`` is text ("2+"). Whether the term, unit and values suffice to grade is the engine's call.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator, WithJsonSchema, model_validator

from edc.core.units import UnitError, to_decimal
from edc.inputs.base import NUMBER_SCHEMA, InputModel, Label, NonEmptyText, choice_of
from edc.inputs.cases import CaseError, read_case
from edc.inputs.errors import fail
from edc.safety.ctcae import GradingRequest

DIPSTICK = ("negative", "trace", "1+", "2+", "3+", "4+")
INTERVENTION_KINDS = ("oral_agent", "insulin", "urgent")


def _number(value: Any) -> Decimal:
    if value is None:
        raise fail("must not be empty")
    try:
        return to_decimal(value)
    except UnitError:
        raise fail(f"is not a number: {value!r}") from None


def _value(value: Any) -> Decimal | str:
    if isinstance(value, str) and value.strip().lower() in DIPSTICK:
        return value.strip().lower()
    return _number(value)


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise fail(f"must be true or false, got {value!r}")
    return value


def _intervention(value: Any) -> bool | str:
    # True/false, or for hyperglycemia the kind of intervention (the engine refuses other words).
    if isinstance(value, bool | str):
        return value
    raise fail(f"must be true, false or one of {', '.join(INTERVENTION_KINDS)}, got {value!r}")


Number = Annotated[Decimal, BeforeValidator(_number), WithJsonSchema(NUMBER_SCHEMA)]
YesNo = Annotated[bool, BeforeValidator(_flag)]


class PercentilesIn(InputModel):
    p90: Number | None = None
    p95: Number | None = None
    p99: Number | None = None


class BloodPressurePercentilesIn(InputModel):
    systolic: PercentilesIn | None = None
    diastolic: PercentilesIn | None = None


class GradingRequestIn(InputModel):
    """One request as code hands it to the engine (no id)."""

    term: NonEmptyText | None = None
    meddra_code: Label | None = None
    value: (
        Annotated[
            Decimal | str,
            BeforeValidator(_value),
            WithJsonSchema({"anyOf": [*NUMBER_SCHEMA["anyOf"], {"type": "string", "enum": list(DIPSTICK)}]}),
        ]
        | None
    ) = None
    unit: NonEmptyText | None = None
    lln: Number | None = None
    uln: Number | None = None
    baseline_value: Number | None = None
    systolic: Number | None = None
    diastolic: Number | None = None
    population: Annotated[str, choice_of(("adult", "pediatric"))] | None = None
    previously_normal: YesNo | None = None
    percentiles: BloodPressurePercentilesIn | None = None
    anc: Number | None = None
    anc_unit: NonEmptyText | None = None
    temperature_c: Number | None = None
    sustained_hours: Number | None = None
    ionized: YesNo | None = None
    upc_ratio: Number | None = None
    symptomatic: YesNo | None = None
    hospitalized: YesNo | None = None
    transfusion_given: YesNo | None = None
    intervention: Annotated[bool | str, BeforeValidator(_intervention)] | None = None
    life_threatening: YesNo | None = None

    @model_validator(mode="after")
    def _names_a_term(self) -> GradingRequestIn:
        if self.term is None and self.meddra_code is None:
            raise fail("required field is missing (or give meddra_code)", at="term")
        return self

    def to_request(self) -> GradingRequest:
        given = self.model_dump(exclude={"id", "percentiles"}, exclude_none=True)
        if self.percentiles is not None:
            given["percentiles"] = {
                side: bands.model_dump(exclude_none=True)
                for side, bands in (
                    ("systolic", self.percentiles.systolic),
                    ("diastolic", self.percentiles.diastolic),
                )
                if bands is not None
            }
        return GradingRequest(**given)


class GradingCaseIn(GradingRequestIn):
    """One case of a grading file: a request with its id."""

    id: Label


class RequestError(ValueError):
    """A grading request that is not well formed; ``problems`` are (field path, message) pairs."""

    def __init__(self, problems: list[tuple[str | None, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"field {f!r}: {m}" if f else m for f, m in problems))


def grading_request(case: Any) -> GradingRequest:
    """One request (an object without ``id``) read into the engine's request, or RequestError."""
    try:
        return read_case(GradingRequestIn, dict(case) if isinstance(case, dict) else case).to_request()
    except CaseError as exc:
        raise RequestError(exc.problems) from None
