"""The RECIST 1.1 and iRECIST case-file formats (docs/input-files.md), as pydantic models.

Pure module: no Django. Each case model refuses unknown keys (a misspelt ``nature`` is an error, not
a silent "solid") and converts into the engines' frozen dataclasses with ``to_engine()``. Nothing is
guessed: an unknown status, modality or category is an error for that case, naming the field.

One extension of the RECIST format: ``new_lesions`` on a follow-up may also be ``"equivocal"`` (a
possible new lesion not yet certain; see ``recist.py`` for how a later confirmation dates PD back to
the first equivocal scan).
"""

from __future__ import annotations

import datetime as dt
from abc import abstractmethod
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator, WithJsonSchema, model_validator

from edc.inputs.base import (
    Count,
    Flag,
    InputModel,
    IsoDate,
    Label,
    NonEmptyText,
    Text,
    WholeNumber,
    choice_of,
)
from edc.inputs.cases import Section, read_case
from edc.inputs.errors import fail
from edc.tumors import irecist, recist

# --- values -------------------------------------------------------------------------------------


def _mm_problem(value: Any) -> str | None:
    if value is None:
        return "must not be empty"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"must be a length in mm, got {value!r}"
    if value < 0:
        return f"must not be negative, got {value!r}"
    return None


def _mm(value: Any) -> Decimal:
    problem = _mm_problem(value)
    if problem:
        raise fail(problem)
    return Decimal(str(value))


_MM_SCHEMA = {"type": "number", "minimum": 0}  # the API's schema (edc/inputs/openapi.py)
Mm = Annotated[Decimal, BeforeValidator(_mm), WithJsonSchema(_MM_SCHEMA)]

_MEASUREMENT_FORMS = "mm, TOO_SMALL_TO_MEASURE, {fragments_mm: [...]}, {merged_into: id} or null"


def _measurement(value: Any) -> recist.Measurement:
    """One target's value at a follow-up (``merged_into`` is checked against the baseline later)."""
    if value is None:
        return recist.Measurement.not_assessed()
    if value == "TOO_SMALL_TO_MEASURE":
        return recist.Measurement.too_small()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return recist.Measurement(recist.MEASURED, value_mm=_mm(value))
    if isinstance(value, dict) and set(value) == {"fragments_mm"}:
        fragments = value["fragments_mm"]
        if not isinstance(fragments, list) or not fragments:
            raise fail("must be a non-empty list of lengths in mm", at="fragments_mm")
        for i, fragment in enumerate(fragments):
            problem = _mm_problem(fragment)
            if problem:
                raise fail(problem, at=("fragments_mm", i))
        return recist.Measurement(recist.FRAGMENTS, fragments_mm=tuple(Decimal(str(f)) for f in fragments))
    if isinstance(value, dict) and set(value) == {"merged_into"}:
        into = value["merged_into"]
        if not isinstance(into, str) or not into.strip():
            raise fail(f"must name another baseline target, got {into!r}", at="merged_into")
        return recist.Measurement.merged(into)
    if isinstance(value, dict):
        unknown = sorted(set(value) - {"fragments_mm", "merged_into"})
        if unknown:
            raise fail("unknown field (known: fragments_mm, merged_into)", at=str(unknown[0]))
    raise fail(f"unknown measurement {value!r}; expected {_MEASUREMENT_FORMS}")


_MEASUREMENT_SCHEMA = {
    "nullable": True,
    "anyOf": [
        _MM_SCHEMA,
        {"type": "string", "enum": ["TOO_SMALL_TO_MEASURE"]},
        {
            "type": "object",
            "properties": {"fragments_mm": {"type": "array", "items": _MM_SCHEMA, "minItems": 1}},
            "required": ["fragments_mm"],
            "additionalProperties": False,
        },
        {
            "type": "object",
            "properties": {"merged_into": {"type": "string", "pattern": r"\S"}},
            "required": ["merged_into"],
            "additionalProperties": False,
        },
    ],
}
Measure = Annotated[recist.Measurement, BeforeValidator(_measurement), WithJsonSchema(_MEASUREMENT_SCHEMA)]
NonTargetStatus = Annotated[str, choice_of(recist.NON_TARGET_STATUSES)]


def _recist_new_lesions(value: Any) -> bool | str | None:
    if value is None or isinstance(value, bool):
        return value
    if value == recist.EQUIVOCAL:
        return recist.EQUIVOCAL
    raise fail(f"must be true, false or 'equivocal', got {value!r}")


RecistNewLesions = Annotated[
    bool | str | None,
    BeforeValidator(_recist_new_lesions),
    WithJsonSchema(
        {"nullable": True, "anyOf": [{"type": "boolean"}, {"type": "string", "enum": ["equivocal"]}]}
    ),
]


class CaseIn(InputModel):
    """A case of a RECIST or iRECIST file: read into its engine's input by ``to_engine``."""

    @abstractmethod
    def to_engine(self) -> Any:
        """The engine's input for this case (each kind of case says how)."""


# --- lesions at baseline ------------------------------------------------------------------------


class TargetLesionIn(InputModel):
    id: NonEmptyText
    organ: NonEmptyText
    nodal: Flag
    diameter_mm: Mm
    site: Text = ""

    def to_engine(self) -> recist.TargetLesion:
        return recist.TargetLesion(
            id=self.id, organ=self.organ, nodal=self.nodal, diameter_mm=self.diameter_mm, site=self.site
        )


class NonTargetLesionIn(InputModel):
    id: NonEmptyText
    organ: NonEmptyText
    nodal: Flag = False
    site: Text = ""
    description: Text = ""

    def to_engine(self) -> recist.NonTargetLesion:
        return recist.NonTargetLesion(
            id=self.id, organ=self.organ, nodal=self.nodal, site=self.site, description=self.description
        )


class BaselineIn(InputModel):
    date: IsoDate
    target_lesions: list[TargetLesionIn]
    non_target_lesions: list[NonTargetLesionIn] = []
    imaging: Text = ""  # how the baseline was imaged, for the reader ("CT, slice thickness 5 mm")

    @model_validator(mode="after")
    def _lesions(self) -> BaselineIn:
        seen: set[str] = set()
        sections: tuple[tuple[str, Sequence[TargetLesionIn | NonTargetLesionIn]], ...] = (
            ("target_lesions", self.target_lesions),
            ("non_target_lesions", self.non_target_lesions),
        )
        for section, lesions in sections:
            for i, lesion in enumerate(lesions):
                if lesion.id in seen:
                    raise fail(f"duplicate lesion id {lesion.id}", at=(section, i, "id"))
                seen.add(lesion.id)
        if not seen:
            raise fail("has neither target nor non-target lesions")
        return self

    @property
    def target_ids(self) -> set[str]:
        return {t.id for t in self.target_lesions}

    @property
    def non_target_ids(self) -> set[str]:
        return {n.id for n in self.non_target_lesions}


# --- follow-ups ---------------------------------------------------------------------------------


class _FollowUpBase(InputModel):
    date: IsoDate
    assessment_done: Flag = True
    target_measurements_mm: dict[str, Measure] | None = None
    non_target_status: dict[str, NonTargetStatus] | None = None
    study_day_from_reference: WholeNumber | None = None  # for the reader; checked against the date


class RecistFollowUpIn(_FollowUpBase):
    new_lesions: RecistNewLesions = None

    @model_validator(mode="after")
    def _new_lesions_fit_the_assessment(self) -> RecistFollowUpIn:
        if self.assessment_done and self.new_lesions is None:
            raise fail("must be true, false or 'equivocal', got None", at="new_lesions")
        if not self.assessment_done and self.new_lesions is not None:
            raise fail("must be null when the assessment was not done", at="new_lesions")
        return self


class NewLesionIn(InputModel):
    id: NonEmptyText
    organ: NonEmptyText
    nodal: Flag = False
    category: Annotated[str, choice_of(irecist.NEW_LESION_CATEGORIES)]
    diameter_mm: Mm | None = None  # NLT
    status: Annotated[str, choice_of(irecist.NLNT_STATUSES)] | None = None
    increased_since_last: Flag = False  # NLNT

    @model_validator(mode="after")
    def _fields_of_the_category(self) -> NewLesionIn:
        if self.category == irecist.NLT and self.diameter_mm is None:
            raise fail("required field is missing for a new measurable lesion (NLT)", at="diameter_mm")
        if self.category == irecist.NLNT and self.status is None:
            raise fail("required field is missing for a new non-measurable lesion (NLNT)", at="status")
        return self

    def to_engine(self) -> irecist.NewLesion:
        if self.category == irecist.NLT:
            return irecist.NewLesion(
                id=self.id,
                organ=self.organ,
                nodal=self.nodal,
                category=self.category,
                diameter_mm=self.diameter_mm,
            )
        return irecist.NewLesion(
            id=self.id,
            organ=self.organ,
            nodal=self.nodal,
            category=self.category,
            status=self.status or "present",
            increased_since_last=self.increased_since_last,
        )


class IrecistFollowUpIn(_FollowUpBase):
    non_target_increased_since_last: list[NonEmptyText] = []
    new_lesions: list[NewLesionIn] | None = None

    @model_validator(mode="after")
    def _new_lesions_when_done(self) -> IrecistFollowUpIn:
        if self.new_lesions is None and self.assessment_done:
            raise fail("must be a list when the assessment was done", at="new_lesions")
        return self


def _check_follow_up(
    path: tuple[str | int, ...], fu: _FollowUpBase, baseline: BaselineIn, reference_date: dt.date
) -> tuple[dict[str, recist.Measurement], dict[str, str]]:
    """Every baseline lesion accounted for at a done assessment, nothing else; merges resolvable."""
    target_ids, nt_ids = baseline.target_ids, baseline.non_target_ids
    measurements: dict[str, recist.Measurement] = {}
    statuses: dict[str, str] = {}
    if (
        fu.study_day_from_reference is not None
        and fu.study_day_from_reference != (fu.date - reference_date).days
    ):
        raise fail(
            f"says day {fu.study_day_from_reference}, but {fu.date} is day "
            f"{(fu.date - reference_date).days} from the reference date {reference_date}",
            at=(*path, "study_day_from_reference"),
        )
    if fu.assessment_done or fu.target_measurements_mm:
        if fu.target_measurements_mm is None:
            raise fail("required field is missing", at=(*path, "target_measurements_mm"))
        for key in fu.target_measurements_mm:
            if key not in target_ids:
                raise fail("is not a baseline target", at=(*path, "target_measurements_mm", key))
        for target in baseline.target_lesions:
            if target.id not in fu.target_measurements_mm:
                raise fail(
                    "is missing (every baseline target needs a value or null)",
                    at=(*path, "target_measurements_mm", target.id),
                )
            measurements[target.id] = fu.target_measurements_mm[target.id]
        for target_id, m in measurements.items():
            if m.kind != recist.MERGED:
                continue
            where = (*path, "target_measurements_mm", target_id, "merged_into")
            if m.merged_into not in target_ids or m.merged_into == target_id:
                raise fail(f"must name another baseline target, got {m.merged_into!r}", at=where)
            if measurements[m.merged_into].kind in (recist.MERGED, recist.NOT_ASSESSED):
                raise fail(f"{m.merged_into} must carry the measured merged mass", at=where)
    if fu.assessment_done or fu.non_target_status:
        if fu.non_target_status is None:
            raise fail("required field is missing", at=(*path, "non_target_status"))
        for key in fu.non_target_status:
            if key not in nt_ids:
                raise fail("is not a baseline non-target", at=(*path, "non_target_status", key))
        for lesion in baseline.non_target_lesions:
            if lesion.id not in fu.non_target_status:
                raise fail(
                    "is missing (every baseline non-target needs a status)",
                    at=(*path, "non_target_status", lesion.id),
                )
            statuses[lesion.id] = fu.non_target_status[lesion.id]
    return measurements, statuses


def _check_dates(baseline_date: dt.date, follow_ups: Sequence[_FollowUpBase]) -> None:
    previous = baseline_date
    for i, fu in enumerate(follow_ups):
        if fu.date <= previous:
            raise fail(
                f"{fu.date} is not after the previous assessment ({previous})", at=("follow_ups", i, "date")
            )
        previous = fu.date


# --- RECIST 1.1 ---------------------------------------------------------------------------------


class RecistProtocolIn(InputModel):
    reference_date: IsoDate
    confirmation_min_interval_days: Count
    min_sd_duration_days: Count


class ResponseCaseIn(CaseIn):
    id: Label
    protocol: RecistProtocolIn
    baseline: BaselineIn
    follow_ups: list[RecistFollowUpIn]

    @model_validator(mode="after")
    def _consistent(self) -> ResponseCaseIn:
        self._follow_ups()
        _check_dates(self.baseline.date, self.follow_ups)
        return self

    def _follow_ups(self) -> list[tuple[dict[str, recist.Measurement], dict[str, str]]]:
        return [
            _check_follow_up(("follow_ups", i), fu, self.baseline, self.protocol.reference_date)
            for i, fu in enumerate(self.follow_ups)
        ]

    def to_engine(self) -> recist.ResponseCase:
        return recist.ResponseCase(
            protocol=recist.ResponseProtocol(
                reference_date=self.protocol.reference_date,
                confirmation_min_interval_days=self.protocol.confirmation_min_interval_days,
                min_sd_duration_days=self.protocol.min_sd_duration_days,
            ),
            baseline_date=self.baseline.date,
            target_lesions=tuple(t.to_engine() for t in self.baseline.target_lesions),
            non_target_lesions=tuple(n.to_engine() for n in self.baseline.non_target_lesions),
            follow_ups=tuple(
                recist.FollowUp(
                    date=fu.date,
                    assessment_done=fu.assessment_done,
                    target_measurements=measurements,
                    non_target_status=statuses,
                    new_lesions=fu.new_lesions,
                )
                for fu, (measurements, statuses) in zip(self.follow_ups, self._follow_ups(), strict=True)
            ),
            id=self.id,
        )


class LesionIn(InputModel):
    kind: Annotated[str, choice_of(recist.LESION_KINDS)]
    modality: Annotated[str, choice_of(recist.MODALITIES)] = recist.CT
    organ: Text = ""
    slice_thickness_mm: Mm | None = None
    longest_diameter_mm: Mm | None = None
    short_axis_mm: Mm | None = None
    nature: Annotated[str, choice_of(recist.NATURES)] = recist.SOLID
    previously_irradiated: Flag = False
    progressed_since_local_treatment: Flag = False
    caliper_measurable: Flag = True
    well_defined_in_aerated_lung: Flag = True

    @model_validator(mode="after")
    def _sizes_the_rule_needs(self) -> LesionIn:
        if self.kind == recist.NODAL and self.short_axis_mm is None:
            raise fail("is missing for a nodal lesion", at="short_axis_mm")
        if self.kind == recist.NON_NODAL and self.nature in recist.SIZE_RULE_NATURES:
            if self.longest_diameter_mm is None:
                raise fail("is missing for a non-nodal lesion", at="longest_diameter_mm")
            if self.modality in (recist.CT, recist.MRI) and self.slice_thickness_mm is None:
                raise fail("is missing for a CT/MRI lesion", at="slice_thickness_mm")
        return self

    def to_engine(self) -> recist.LesionDescription:
        return recist.LesionDescription(**self.model_dump())


class MeasurabilityCaseIn(CaseIn):
    id: Label
    lesion: LesionIn

    def to_engine(self) -> recist.LesionDescription:
        return self.lesion.to_engine()


class ProposedTargetIn(InputModel):
    id: NonEmptyText
    organ: NonEmptyText
    nodal: Flag
    diameter_mm: Mm
    modality: Annotated[str, choice_of(recist.MODALITIES)] = recist.CT
    slice_thickness_mm: Mm | None = None
    nature: Annotated[str, choice_of(recist.NATURES)] = recist.SOLID
    previously_irradiated: Flag = False
    progressed_since_local_treatment: Flag = False


class TargetSelectionCaseIn(CaseIn):
    id: Label
    proposed_targets: list[ProposedTargetIn]

    def to_engine(self) -> tuple[recist.ProposedTarget, ...]:
        return tuple(recist.ProposedTarget(**t.model_dump()) for t in self.proposed_targets)


# --- iRECIST ------------------------------------------------------------------------------------


def _window(value: Any) -> tuple[int, int]:
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value)
        or value[0] > value[1]
    ):
        raise fail(f"must be [min, max] days, got {value!r}")
    return (value[0], value[1])


class IrecistProtocolIn(InputModel):
    reference_date: IsoDate
    min_sd_duration_days: Count
    iupd_confirmation_window_days: Annotated[
        tuple[int, int],
        BeforeValidator(_window),
        WithJsonSchema(
            {"type": "array", "items": {"type": "integer", "minimum": 0}, "minItems": 2, "maxItems": 2}
        ),
    ] = (28, 56)
    response_confirmation_required: Flag = False
    confirmation_min_interval_days: Count = 28


class IrecistCaseIn(CaseIn):
    id: Label
    protocol: IrecistProtocolIn
    baseline: BaselineIn
    follow_ups: list[IrecistFollowUpIn]

    @model_validator(mode="after")
    def _consistent(self) -> IrecistCaseIn:
        nt_ids = self.baseline.non_target_ids
        baseline_ids = nt_ids | self.baseline.target_ids
        for i, fu in enumerate(self.follow_ups):
            _check_follow_up(("follow_ups", i), fu, self.baseline, self.protocol.reference_date)
            for j, nt_id in enumerate(fu.non_target_increased_since_last):
                if nt_id not in nt_ids:
                    raise fail(
                        f"{nt_id!r} is not a baseline non-target",
                        at=("follow_ups", i, "non_target_increased_since_last", j),
                    )
            seen: set[str] = set()
            for j, lesion in enumerate(fu.new_lesions or []):
                if lesion.id in seen or lesion.id in baseline_ids:
                    raise fail(
                        f"{lesion.id} is used twice or is a baseline lesion",
                        at=("follow_ups", i, "new_lesions", j, "id"),
                    )
                seen.add(lesion.id)
        _check_dates(self.baseline.date, self.follow_ups)
        return self

    def to_engine(self) -> irecist.IrecistCase:
        p = self.protocol
        return irecist.IrecistCase(
            protocol=irecist.IrecistProtocol(
                reference_date=p.reference_date,
                min_sd_duration_days=p.min_sd_duration_days,
                iupd_confirmation_window_days=p.iupd_confirmation_window_days,
                response_confirmation_required=p.response_confirmation_required,
                confirmation_min_interval_days=p.confirmation_min_interval_days,
            ),
            baseline_date=self.baseline.date,
            target_lesions=tuple(t.to_engine() for t in self.baseline.target_lesions),
            non_target_lesions=tuple(n.to_engine() for n in self.baseline.non_target_lesions),
            follow_ups=tuple(
                irecist.IrecistFollowUp(
                    date=fu.date,
                    assessment_done=fu.assessment_done,
                    target_measurements=measurements,
                    non_target_status=statuses,
                    non_target_increased_since_last=frozenset(fu.non_target_increased_since_last),
                    new_lesions=tuple(n.to_engine() for n in fu.new_lesions or []),
                )
                for fu, (measurements, statuses) in zip(
                    self.follow_ups,
                    [
                        _check_follow_up(("follow_ups", i), fu, self.baseline, p.reference_date)
                        for i, fu in enumerate(self.follow_ups)
                    ],
                    strict=True,
                )
            ),
            id=self.id,
        )


# --- the files ----------------------------------------------------------------------------------


def parse(model: type[CaseIn], raw: Any) -> Any:
    """One raw case read into its engine's input, or CaseError naming every bad field."""
    return read_case(model, raw).to_engine()


def _section(name: str, model: type[CaseIn], evaluate: Callable[[Any], Any]) -> Section:
    return Section(name=name, run=lambda raw: evaluate(parse(model, raw)))


RECIST_SECTIONS: tuple[Section, ...] = (
    _section("response_cases", ResponseCaseIn, lambda case: recist.evaluate_response(case).to_dict()),
    _section(
        "measurability_cases",
        MeasurabilityCaseIn,
        lambda lesion: {"category": recist.classify_lesion(lesion)},
    ),
    _section(
        "target_selection_cases",
        TargetSelectionCaseIn,
        lambda targets: recist.validate_target_selection(targets).to_dict(),
    ),
)
IRECIST_SECTIONS: tuple[Section, ...] = (
    _section("cases", IrecistCaseIn, lambda case: irecist.evaluate_irecist(case).to_dict()),
)

CASE_MODELS: Mapping[str, type[CaseIn]] = {
    "response_cases": ResponseCaseIn,
    "measurability_cases": MeasurabilityCaseIn,
    "target_selection_cases": TargetSelectionCaseIn,
    "irecist_cases": IrecistCaseIn,
}
