"""The efficacy endpoints case format (docs/domain/case-files.md, "Efficacy endpoints case") as
pydantic models of the input layer (docs/input-files.md), converting into ``stats.EndpointsCase``.
Pure: no Django.

A file is ``{"cases": [...]}``. Unknown keys are errors naming the key, at every level; dates are
``YYYY-MM-DD``. The dates that are "null when none" may also be left out. What the derivation rules
cannot use is refused at entry, naming the field: a date before the anchor date, a progression or a
last adequate assessment after death, a first response date on a subject who did not respond (or
none on one who did), a last adequate assessment after the new anticancer therapy that PFS is
censored at (the rule censors at the last adequate assessment on or before the therapy start, so the
case must give that one).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, WithJsonSchema, model_validator

from edc.inputs.base import Count, Flag, InputModel, IsoDate, Label, NonEmptyText
from edc.inputs.cases import CaseError, Section, read_case
from edc.inputs.errors import fail
from edc.outcomes import stats

# The dates of a subject, in the order the format lists them.
_DATES = (
    "anchor_date",
    "first_response_date",
    "progression_date",
    "death_date",
    "new_anticancer_therapy_date",
    "last_adequate_assessment_date",
    "last_known_alive_date",
)


def _response(value: Any) -> str:
    if value not in stats.RESPONSES:
        raise fail(f"{value!r} is not one of {', '.join(stats.RESPONSES)}")
    return str(value)


def _subgroups(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise fail(f"expected an object of subgroup name to value, got {value!r}")
    for name, group in value.items():
        if not name.strip():
            raise fail("a subgroup name must not be empty", at=name)
        if not isinstance(group, str) or not group.strip():
            raise fail(f"expected the subgroup's value as non-empty text, got {group!r}", at=name)
    return {name: group.strip() for name, group in value.items()}


def _landmarks(value: Any) -> list[int]:
    if not isinstance(value, list):
        raise fail(f"expected a list of days, got {value!r}")
    seen: set[int] = set()
    for i, day in enumerate(value):
        if isinstance(day, bool) or not isinstance(day, int) or day < 0:
            raise fail(f"expected a whole number of days (0 or more), got {day!r}", at=i)
        if day in seen:
            raise fail(f"day {day} is listed twice", at=i)
        seen.add(day)
    return list(value)


Response = Annotated[Literal["CR", "PR", "SD", "NON_CR_NON_PD", "PD", "NE"], BeforeValidator(_response)]
_SUBGROUPS_SCHEMA = {
    "type": "object",
    "nullable": True,
    "additionalProperties": {"type": "string", "pattern": r"\S"},
    "description": 'Subgroup name -> this subject\'s value, e.g. {"PDL1": "positive"}.',
}
Subgroups = Annotated[dict[str, str], BeforeValidator(_subgroups), WithJsonSchema(_SUBGROUPS_SCHEMA)]
Landmarks = Annotated[list[Count], BeforeValidator(_landmarks)]


class SubjectIn(InputModel):
    id: NonEmptyText
    in_analysis_set: Flag
    anchor_date: IsoDate
    best_response: Response
    first_response_date: IsoDate | None = None
    progression_date: IsoDate | None = None
    death_date: IsoDate | None = None
    new_anticancer_therapy_date: IsoDate | None = None
    last_adequate_assessment_date: IsoDate | None = None
    last_known_alive_date: IsoDate | None = None
    subgroups: Subgroups = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> SubjectIn:
        for name in _DATES[1:]:
            date: dt.date | None = getattr(self, name)
            if date is not None and date < self.anchor_date:
                raise fail(f"{date} is before anchor_date {self.anchor_date}", at=name)
        responder = self.best_response in stats.RESPONDERS
        if responder and self.first_response_date is None:
            raise fail(f"required for a best response of {self.best_response}", at="first_response_date")
        if not responder and self.first_response_date is not None:
            raise fail(
                f"must be null: the best response is {self.best_response}, not CR or PR",
                at="first_response_date",
            )
        if self.death_date is None and self.last_known_alive_date is None:
            raise fail("required when there is no death_date", at="last_known_alive_date")
        if self.death_date is not None:
            for name in ("progression_date", "last_adequate_assessment_date", "last_known_alive_date"):
                date = getattr(self, name)
                if date is not None and date > self.death_date:
                    raise fail(f"{date} is after death_date {self.death_date}", at=name)
        first, progression = self.first_response_date, self.progression_date
        if first is not None and progression is not None and first > progression:
            raise fail(f"{first} is after progression_date {progression}", at="first_response_date")
        outcome = self.to_engine()
        for derive in (stats.pfs_observation, stats.dor_observation if responder else None):
            if derive is None:
                continue
            try:
                derive(outcome)
            except stats.EndpointInputError as exc:
                raise fail(exc.message, at=exc.field or ()) from None
        return self

    def to_engine(self) -> stats.SubjectOutcome:
        return stats.SubjectOutcome(
            id=self.id,
            in_analysis_set=self.in_analysis_set,
            anchor_date=self.anchor_date,
            best_response=self.best_response,
            last_known_alive_date=self.last_known_alive_date,
            first_response_date=self.first_response_date,
            progression_date=self.progression_date,
            death_date=self.death_date,
            new_anticancer_therapy_date=self.new_anticancer_therapy_date,
            last_adequate_assessment_date=self.last_adequate_assessment_date,
            subgroups=tuple(sorted(self.subgroups.items())),
        )


def _level(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise fail(f"expected a number between 0 and 1, got {value!r}")
    try:
        number = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except InvalidOperation:  # text that is no number at all (schemathesis found the 500)
        raise fail(f"expected a number between 0 and 1, got {value!r}") from None
    if not number.is_finite() or not 0 < number < 1:
        raise fail(f"must be between 0 and 1 (0.95 for 95 %), got {value!r}")
    return number


ConfidenceLevel = Annotated[Decimal, BeforeValidator(_level)]


class EndpointsCaseIn(InputModel):
    id: Label
    confidence_level: ConfidenceLevel = Decimal("0.95")
    landmarks_days: Landmarks = Field(default_factory=list)
    subjects: list[SubjectIn]

    @model_validator(mode="after")
    def _unique_subjects(self) -> EndpointsCaseIn:
        seen: set[str] = set()
        for i, subject in enumerate(self.subjects):
            if subject.id in seen:
                raise fail(f"duplicate subject id {subject.id!r}", at=("subjects", i, "id"))
            seen.add(subject.id)
        return self

    def to_engine(self) -> stats.EndpointsCase:
        return stats.EndpointsCase(
            subjects=tuple(s.to_engine() for s in self.subjects),
            confidence_level=Fraction(self.confidence_level),
            landmarks_days=tuple(self.landmarks_days),
            id=self.id,
        )


def evaluate(raw: Any) -> dict[str, Any]:
    """One raw case (annotation keys allowed) to the object the format's output describes."""
    case = read_case(EndpointsCaseIn, raw).to_engine()
    try:
        return stats.evaluate_endpoints(case).to_dict()
    except stats.EndpointInputError as exc:  # the model's checks should have caught it first
        raise CaseError.at(None, str(exc)) from None


ENDPOINTS_SECTIONS: tuple[Section, ...] = (Section("cases", evaluate),)
