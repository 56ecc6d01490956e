"""The trial-definition files as pydantic models: a study file and the form registry.

docs/input-files.md describes the keys; docs/definitions.md what they mean. Every model refuses
unknown keys naming them. Values are read with the same rules the Django models apply
(studies/validation.py); what relates several fields of one object (a dose amount needs its unit,
a window must be narrower than its interval) is the Django model's `clean()`, which the loader
runs on every object before writing, as the admin and `manage.py check` do.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, ClassVar

from pydantic import BeforeValidator, model_validator

from edc.core.units import normalize_unit
from edc.inputs.base import (
    Count,
    Flag,
    InputModel,
    IsoDate,
    Label,
    Number,
    PositiveInt,
    PositiveNumber,
    WholeNumber,
    choice_of,
    choices_of,
    read_number,
)
from edc.inputs.errors import fail
from studies.models import (
    AnalysisPopulation,
    ArmKind,
    CollectionStart,
    CriterionKind,
    DataType,
    Design,
    DoseBasis,
    DosePer,
    DoseRole,
    EndpointAnchor,
    EndpointKind,
    EndpointMeasure,
    InterventionKind,
    OnEndOfTreatment,
    RepeatFrom,
    ResponseCriteria,
    StudyStatus,
    VisitAnchor,
    VisitKind,
)
from studies.validation import dose_unit_problem, item_unit_problem, parse_dosing_days, rule_problems

STUDY_SECTIONS = (
    "sites",
    "arms",
    "phases",
    "interventions",
    "criteria",
    "visits",
    "endpoints",
    "consent_versions",
)
FORMS_SECTIONS = ("codelists", "forms")


# --- values -------------------------------------------------------------------------------------


def _code(value: Any) -> str:
    if value is None:
        raise fail("must not be empty")
    if not isinstance(value, str):
        raise fail(f"expected text, got {value!r} (quote it in the YAML)")
    if not value.strip():
        raise fail("must not be empty")
    return value.strip()


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise fail(f"expected text, got {value!r} (quote it in the YAML)")
    return value.strip()


def _dose_unit(value: Any) -> str:
    if not isinstance(value, str):
        raise fail(f"expected a unit, got {value!r}")
    problem = dose_unit_problem(value)
    if problem:
        raise fail(problem)
    return normalize_unit(value)


def _item_unit(value: Any) -> str:
    if not isinstance(value, str):
        raise fail(f"expected a unit, got {value!r}")
    problem = item_unit_problem(value)
    if problem:
        raise fail(problem)
    return normalize_unit(value)


def _dosing_days(value: Any) -> list[int]:
    try:
        return parse_dosing_days(value)
    except ValueError as exc:
        raise fail(str(exc)) from None


def _time_zone(value: Any) -> str:
    import zoneinfo

    if not isinstance(value, str):
        raise fail(f"expected a time zone name, got {value!r}")
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise fail(f"unknown time zone {value!r}") from None
    return value


def _rule(value: Any) -> Any:
    problems = rule_problems(value)
    if problems:
        raise fail("; ".join(problems))
    return value


def _range(value: Any) -> tuple[Any, Any]:
    if not isinstance(value, list) or len(value) != 2:
        raise fail("expected [low, high]")
    low, high = (None if v is None else read_number(v) for v in value)
    if low is not None and high is not None and low > high:
        raise fail(f"low {low} is above high {high}")
    return (low, high)


def _text_list(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise fail("expected a list of text")
    return [v.strip() for v in value]


def _form_codes(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise fail("expected a list of form codes")
    if len(set(value)) != len(value):
        raise fail("a form is listed twice")
    return list(value)


def _assumptions(value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in value.items()
    ):
        raise fail("expected {field: reason} with a reason in words for each field")
    return dict(value)


Code = Annotated[str, BeforeValidator(_code)]
FreeText = Annotated[str, BeforeValidator(_text)]
DoseUnit = Annotated[str, BeforeValidator(_dose_unit)]
ItemUnit = Annotated[str, BeforeValidator(_item_unit)]
DosingDays = Annotated[list[int], BeforeValidator(_dosing_days)]
TimeZone = Annotated[str, BeforeValidator(_time_zone)]
Rule = Annotated[Any, BeforeValidator(_rule)]
Range = Annotated[tuple[Any, Any], BeforeValidator(_range)]
TextList = Annotated[list[str], BeforeValidator(_text_list)]
FormCodes = Annotated[list[str], BeforeValidator(_form_codes)]
Reasons = Annotated[dict[str, str], BeforeValidator(_assumptions)]


# --- objects ------------------------------------------------------------------------------------


class Assumed(InputModel):
    """Every definition object may say why it (``assumption``) or a field (``assumptions``) is ours."""

    assumption: FreeText | None = None
    assumptions: Reasons | None = None

    @model_validator(mode="after")
    def _assumptions_name_fields(self) -> Assumed:
        own = set(type(self).model_fields) - {"assumption", "assumptions"}
        unknown = [k for k in self.assumptions or {} if k.split(".")[0] not in own]
        if unknown:
            raise fail(f"names no field of this object: {', '.join(unknown)}", at="assumptions")
        return self

    def given(self) -> dict[str, Any]:
        """The fields the file states (a key left out keeps its value in the database)."""
        return {name: getattr(self, name) for name in self.model_fields_set}


class AeCollectionIn(Assumed):
    start: Annotated[str, choice_of(CollectionStart.values)]
    end_days_after_last_dose: Count | None = None
    sae_start: Annotated[str, choice_of(CollectionStart.values)] = CollectionStart.CONSENT
    irae_end_days_after_last_dose: Count | None = None

    FIELDS: ClassVar[dict[str, str]] = {
        "start": "ae_collection_start",
        "end_days_after_last_dose": "ae_collection_end_days_after_last_dose",
        "sae_start": "sae_collection_start",
        "irae_end_days_after_last_dose": "irae_collection_end_days_after_last_dose",
    }


class StudyIn(Assumed):
    protocol_id: Code
    registry_id: FreeText | None = None
    seed: FreeText | None = None
    title: Annotated[str, BeforeValidator(_code)]
    short_title: FreeText | None = None
    phase: FreeText | None = None
    design: Annotated[str, choice_of(Design.values)] | None = None
    condition: FreeText | None = None
    sponsor: FreeText | None = None
    target_enrollment: Count | None = None
    status: Annotated[str, choice_of(StudyStatus.values)] | None = None
    ctcae_version: Label | None = None
    response_criteria: Annotated[list[str], choices_of(ResponseCriteria.values)] | None = None
    confirmation_required: Flag | None = None
    confirmation_min_interval_days: Count = 28
    min_sd_duration_days: Count | None = None
    max_treatment_days: Count | None = None
    schedule_horizon_days: Count | None = None
    follow_up_rule: FreeText | None = None
    enrollment_period_months: Count | None = None
    study_duration_months: Count | None = None
    ae_collection: AeCollectionIn | None = None
    dose_recalc_weight_change_pct: Number = Decimal(10)
    # The definition version this file states (an amendment gives a new one) and when it applies.
    version: Label | None = None
    effective_date: IsoDate | None = None


class SiteIn(Assumed):
    code: Code
    name: Code
    city: FreeText | None = None
    country: FreeText | None = None
    time_zone: TimeZone | None = None


class ArmIn(Assumed):
    code: Code
    name: Code
    kind: Annotated[str, choice_of(ArmKind.values)] = ArmKind.EXPERIMENTAL
    description: FreeText | None = None
    order: Count | None = None


class PhaseIn(Assumed):
    code: Code
    name: Code
    arm: Code | None = None
    order: Count | None = None
    entry_rule: FreeText | None = None
    description: FreeText | None = None


class InterventionIn(Assumed):
    code: Code
    agent: Code
    aliases: TextList | None = None
    kind: Annotated[str, choice_of(InterventionKind.values)] = InterventionKind.DRUG
    arm: Code | None = None
    phase: Code | None = None
    dose_amount: PositiveNumber | None = None
    dose_unit: DoseUnit | None = None
    dose_basis: Annotated[str, choice_of(DoseBasis.values)] = DoseBasis.FLAT
    dose_per: Annotated[str, choice_of(DosePer.values)] = DosePer.DOSE
    frequency: FreeText | None = None
    doses_per_day: Count | None = None
    route: FreeText | None = None
    dosing_days: DosingDays | None = None
    cycle_length_days: Count | None = None
    dose_role: Annotated[str, choice_of(DoseRole.values)] | None = None
    infusion: FreeText | None = None
    notes: FreeText | None = None
    choice_group: FreeText | None = None
    order: Count | None = None


class CriterionIn(Assumed):
    kind: Annotated[str, choice_of(CriterionKind.values)]
    number: Label
    text: Annotated[str, BeforeValidator(_code)]
    rule: Rule | None = None
    order: Count | None = None


class VisitIn(Assumed):
    code: Code
    name: Code
    kind: Annotated[str, choice_of(VisitKind.values)]
    series: FreeText | None = None
    anchor: Annotated[str, choice_of(VisitAnchor.values)]
    anchor_visit: Code | None = None
    repeat_from: Annotated[str, choice_of(RepeatFrom.values)] = RepeatFrom.ANCHOR
    offset_days: WholeNumber = 0
    window_before_days: Count = 0
    window_after_days: Count = 0
    repeat_interval_days: PositiveInt | None = None
    repeat_until_day: WholeNumber | None = None
    repeat_count: PositiveInt | None = None
    on_end_of_treatment: Annotated[str, choice_of(OnEndOfTreatment.values)] = OnEndOfTreatment.CONTINUE
    phase: Code | None = None
    forms: FormCodes | None = None
    order: Count | None = None


def _landmark_days(value: Any) -> list[int]:
    if not isinstance(value, list):
        raise fail(f"expected a list of days, got {value!r}")
    for i, day in enumerate(value):
        if isinstance(day, bool) or not isinstance(day, int) or day < 1:
            raise fail(f"expected a whole number of days (1 or more), got {day!r}", at=i)
        if day in value[:i]:
            raise fail(f"day {day} is listed twice", at=i)
    return list(value)


class EndpointIn(Assumed):
    code: Code
    name: Code
    kind: Annotated[str, choice_of(EndpointKind.values)] | None = None
    definition: FreeText | None = None
    time_frame: FreeText | None = None
    analysis_set: FreeText | None = None
    anchor: Annotated[str, choice_of(EndpointAnchor.values)] | None = None
    # What edc/outcomes computes (docs/endpoints.md): the measure, over which subjects, when.
    measure: Annotated[str, choice_of(EndpointMeasure.values)] | None = None
    population: Annotated[str, choice_of(AnalysisPopulation.values)] | None = None
    landmark_days: Annotated[list[int], BeforeValidator(_landmark_days)] | None = None
    subgroup: Code | None = None
    order: Count | None = None

    @model_validator(mode="after")
    def _computable(self) -> EndpointIn:
        if self.landmark_days and self.measure not in ("pfs", "os", "dor"):
            raise fail("landmarks belong to a time-to-event measure (pfs, os, dor)", at="landmark_days")
        if self.subgroup and self.measure not in ("orr", "dcr"):
            raise fail("a subgroup is reported for a response rate (orr, dcr)", at="subgroup")
        return self


class ProcedureBeforeConsentIn(InputModel):
    forms: FormCodes
    within_days: Count
    before: Annotated[str, choice_of(("first_dose",))] = "first_dose"


class EnrollmentIn(Assumed):
    """How the study numbers and admits subjects (edc/subjects EnrollmentRules)."""

    screening_number: FreeText | None = None
    subject_identifier: FreeText | None = None
    sequence: Annotated[str, choice_of(("per_site", "per_study"))] | None = None
    rescreening: Flag | None = None
    max_rescreenings: Count | None = None
    over_enrollment: Flag | None = None
    procedures_before_consent: list[ProcedureBeforeConsentIn] | None = None

    FIELDS: ClassVar[dict[str, str]] = {
        "screening_number": "screening_number_pattern",
        "subject_identifier": "subject_identifier_pattern",
        "sequence": "identifier_sequence",
        "rescreening": "rescreening_allowed",
        "max_rescreenings": "max_rescreenings",
        "over_enrollment": "over_enrollment_allowed",
        "procedures_before_consent": "procedures_before_consent",
    }


class ConsentVersionIn(Assumed):
    """One approved version of the informed consent form (edc/consent ConsentVersion)."""

    version: Label
    language: Code = "zh"
    title: FreeText | None = None
    approved_on: IsoDate | None = None
    effective_from: IsoDate
    effective_to: IsoDate | None = None
    reconsent: Annotated[str, choice_of(("all_active", "on_treatment", "follow_up", "new_only"))] = "new_only"
    order: Count | None = None


class StudyFile(InputModel):
    study: StudyIn
    enrollment: EnrollmentIn | None = None
    sites: list[SiteIn] | None = None
    arms: list[ArmIn] | None = None
    phases: list[PhaseIn] | None = None
    interventions: list[InterventionIn] | None = None
    criteria: list[CriterionIn] | None = None
    visits: list[VisitIn] | None = None
    endpoints: list[EndpointIn] | None = None
    consent_versions: list[ConsentVersionIn] | None = None


# --- the form registry --------------------------------------------------------------------------


class CodelistItemIn(Assumed):
    code: Code
    label: Code
    order: Count | None = None


class CodelistIn(Assumed):
    code: Code
    name: Code
    items: list[CodelistItemIn]


class FormItemIn(Assumed):
    code: Code
    label: Code
    data_type: Annotated[str, choice_of(DataType.values)]
    unit: ItemUnit | None = None
    codelist: Code | None = None
    required: Flag | None = None
    range: Range | None = None
    order: Count | None = None


class FormIn(Assumed):
    code: Code
    name: Code
    version: Label = "1.0"
    description: FreeText | None = None
    order: Count | None = None
    # A published version is frozen: it never changes again, even before data is stored in it.
    published: Flag = False
    items: list[FormItemIn]


class FormsFile(InputModel):
    assumption: FreeText | None = None  # why the registry as a whole is ours (no protocol lists forms)
    codelists: list[CodelistIn] | None = None
    forms: list[FormIn] | None = None
