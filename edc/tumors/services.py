"""Writes of the tumour forms and the derivation of the responses (docs/tumors.md).

Every door (admin, API) calls these. Lesions are judged by the RECIST 1.1 engine at entry
(edc/tumors/recist.py: measurability, at most 5 targets and 2 per organ, all nodes one organ), the
baseline scan must lie in the study's window before treatment, and every write of a lesion, an
assessment or a measurement ends with ``subject_response_derive``: the engines (recist.py,
irecist.py, never re-implemented here) are run on the subject's whole stored data and every
assessment whose derived values change is saved with a history row naming the change that caused it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext

from edc.core.models import ReasonCode
from edc.core.services import ChangeReason, record_save, record_void
from edc.datamanagement.services import edit_checks_run_for
from edc.forms.models import FormRecord
from edc.forms.selectors import registry_form
from edc.forms.services import _check, _derive, _visit_for
from edc.subjects.access import require_write
from edc.tumors import irecist, recist
from edc.tumors.models import (
    ENGINE_MODALITY,
    Criteria,
    ImagingMethod,
    Lesion,
    LesionCategory,
    LesionMeasurement,
    LesionState,
    OnStudyIrradiation,
    Response,
    TargetState,
    TumorAssessment,
    YesNo,
    engine_label,
    response_code,
)
from edc.visits.models import Visit

logger = logging.getLogger(__name__)

# RECIST 1.1 (A1): "Baseline imaging should be as close to treatment start as possible, no more
# than 4 weeks before." A study's own rule (EnrollmentRules.procedures_before_consent naming TU, seed
# 000: 28 days before the first dose) takes its place.
RECIST_BASELINE_WINDOW_DAYS = 28
DERIVED_REASON = "Derived responses recomputed (RECIST 1.1 / iRECIST)"


# --- study facts -----------------------------------------------------------------------------------


def baseline_window(study: Any) -> tuple[int, str]:
    """(days, anchor) the baseline scan must lie within before: the study's TU rule, else RECIST's."""
    rules = getattr(study, "enrollment_rules", None)
    for rule in (getattr(rules, "procedures_before_consent", None) or []) if rules else []:
        if "TU" in (rule.get("forms") or []) and rule.get("within_days") is not None:
            return int(rule["within_days"]), str(rule.get("before") or "first_dose")
    return RECIST_BASELINE_WINDOW_DAYS, "first_dose"


def _anchor_date(subject: Any, anchor: str) -> dt.date | None:
    if anchor == "enrollment":
        return subject.enrollment_date
    from edc.visits.selectors import first_dose_date

    return first_dose_date(subject)


def reference_date(subject: Any, baseline_date: dt.date | None) -> dt.date | None:
    """The start the minimum SD duration counts from: the first dose (imaging visits count from
    it), else the enrollment, else the baseline scan."""
    from edc.visits.selectors import first_dose_date

    return first_dose_date(subject) or subject.enrollment_date or baseline_date


def irecist_applies(study: Any) -> bool:
    return Criteria.IRECIST.value in (study.response_criteria or [])


# --- lesions ---------------------------------------------------------------------------------------


def _description(lesion: Lesion) -> recist.LesionDescription:
    return recist.LesionDescription(
        kind=recist.NODAL if lesion.is_nodal else recist.NON_NODAL,
        modality=ENGINE_MODALITY[ImagingMethod(lesion.method)],
        organ=lesion.organ,
        slice_thickness_mm=lesion.slice_thickness_mm,
        longest_diameter_mm=None if lesion.is_nodal else lesion.diameter_mm,
        short_axis_mm=lesion.diameter_mm if lesion.is_nodal else None,
        nature=lesion.nature,
        previously_irradiated=lesion.irradiated_before_study == YesNo.YES,
        progressed_since_local_treatment=lesion.progressed_since_irradiation == YesNo.YES,
    )


def _proposed(lesion: Lesion) -> recist.ProposedTarget:
    return recist.ProposedTarget(
        id=lesion.code,
        organ=lesion.organ,
        nodal=lesion.is_nodal,
        diameter_mm=lesion.diameter_mm or Decimal(0),
        modality=ENGINE_MODALITY[ImagingMethod(lesion.method)],
        slice_thickness_mm=lesion.slice_thickness_mm,
        nature=lesion.nature,
        previously_irradiated=lesion.irradiated_before_study == YesNo.YES,
        progressed_since_local_treatment=lesion.progressed_since_irradiation == YesNo.YES,
    )


def _category_label(category: str) -> str:
    return {
        recist.MEASURABLE: gettext("measurable"),
        recist.NON_MEASURABLE: gettext("not measurable"),
        recist.NON_PATHOLOGICAL: gettext("a non-pathological node (short axis under 10 mm)"),
        recist.NOT_A_LESION: gettext("not a lesion (simple cyst)"),
    }.get(category, category)


def _validate_lesion(lesion: Lesion) -> None:
    """The engine's judgement at entry, with errors on the fields a person corrects."""
    errors: dict[str, list[str]] = {}

    def add(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    lesion.code = (lesion.code or "").strip().upper()
    lesion.organ = (lesion.organ or "").strip().lower()
    lesion.irradiated_on_study = (
        YesNo.NO if lesion.on_study_irradiation in ("", OnStudyIrradiation.NONE) else YesNo.YES
    )
    if lesion.not_done_reason:
        raise ValidationError({"not_done_reason": [gettext("A lesion is recorded or not at all.")]})
    if lesion.irradiated_before_study != YesNo.YES and lesion.progressed_since_irradiation:
        add("progressed_since_irradiation", gettext("Only for a lesion irradiated before the study."))
    course = lesion.radiotherapy_course if lesion.radiotherapy_course_id else None
    if course is not None:
        if course.subject_id != lesion.subject_id or course.is_voided:
            add("radiotherapy_course", gettext("The radiotherapy course is not this subject's."))
        elif not course.on_study:
            add(
                "radiotherapy_course",
                gettext("Only an on-study radiotherapy course irradiates a lesion on study."),
            )
        if lesion.on_study_irradiation in ("", OnStudyIrradiation.NONE):
            add(
                "on_study_irradiation",
                gettext("A lesion linked to an on-study radiotherapy course was irradiated on study."),
            )
    if lesion.category == LesionCategory.NEW:
        if not lesion.new_measurable:
            add("new_measurable", gettext("Say whether the new lesion is measurable (iRECIST NLT) or not."))
    elif lesion.new_measurable:
        add("new_measurable", gettext("Only for a new lesion."))
    ct_or_mri = lesion.method in (ImagingMethod.CT, ImagingMethod.MRI)
    if ct_or_mri and lesion.category == LesionCategory.TARGET and lesion.slice_thickness_mm is None:
        add("slice_thickness_mm", gettext("A CT or MRI target needs the slice thickness (RECIST 1.1 A1)."))
    if lesion.category == LesionCategory.TARGET and lesion.diameter_mm is None:
        add(
            "diameter_mm",
            gettext("A target needs its baseline diameter (short axis for a node)."),
        )
    if errors:
        raise ValidationError(errors)

    description = _description(lesion)
    if lesion.diameter_mm is not None or lesion.nature not in recist.SIZE_RULE_NATURES:
        category = recist.classify_lesion(description)
    else:
        category = recist.NON_MEASURABLE
    lesion.measurability = category
    if lesion.category == LesionCategory.TARGET and category != recist.MEASURABLE:
        add(
            "diameter_mm" if lesion.nature in recist.SIZE_RULE_NATURES else "nature",
            gettext("A target must be measurable by RECIST 1.1; this lesion is {category}.").format(
                category=_category_label(category)
            ),
        )
    if category in (recist.NON_PATHOLOGICAL, recist.NOT_A_LESION) and lesion.category != LesionCategory.NEW:
        add(
            "diameter_mm" if category == recist.NON_PATHOLOGICAL else "nature",
            gettext("This is {category}: not recorded as a lesion.").format(
                category=_category_label(category)
            ),
        )
    if (
        lesion.category == LesionCategory.NEW
        and lesion.new_measurable == YesNo.YES
        and category != recist.MEASURABLE
    ):
        add(
            "new_measurable",
            gettext(
                "A measurable new lesion (NLT) must meet RECIST 1.1 measurability; this one is {category}."
            ).format(category=_category_label(category)),
        )
    if errors:
        raise ValidationError(errors)

    others = Lesion.objects.active().filter(subject_id=lesion.subject_id).exclude(pk=lesion.pk)
    if others.filter(code=lesion.code).exists():
        raise ValidationError(
            {"code": [gettext("The subject already has a lesion {code}.").format(code=lesion.code)]}
        )
    if lesion.category == LesionCategory.TARGET:
        targets = [_proposed(t) for t in others.filter(category=LesionCategory.TARGET)]
        targets.append(_proposed(lesion))
        selection = recist.validate_target_selection(targets)
        if not selection.valid:
            raise ValidationError(
                {
                    "category": [
                        gettext("Target selection (RECIST 1.1 A2): {errors}.").format(
                            errors="; ".join(selection.errors)
                        )
                    ]
                }
            )
    if lesion.is_baseline:
        _validate_baseline_date(lesion)
    else:
        baseline = others.filter(category__in=(LesionCategory.TARGET, LesionCategory.NON_TARGET))
        latest = max((b.date for b in baseline), default=None)
        if latest is not None and lesion.date <= latest:
            raise ValidationError(
                {
                    "date": [
                        gettext("A new lesion is found after the baseline scan ({day}).").format(day=latest)
                    ]
                }
            )


def _validate_baseline_date(lesion: Lesion) -> None:
    subject = lesion.subject
    days, anchor = baseline_window(subject.study)
    start = _anchor_date(subject, anchor)
    if start is None:
        return  # checked again when the anchor is known: any later write re-runs this
    if lesion.date > start or (start - lesion.date).days > days:
        what = gettext("the first dose") if anchor == "first_dose" else gettext("enrollment")
        raise ValidationError(
            {
                "date": [
                    gettext(
                        "The baseline scan ({day}) must lie within {days} days before {what} ({start})."
                    ).format(day=lesion.date, days=days, what=what, start=start)
                ]
            }
        )


@transaction.atomic
def lesion_create(
    *,
    user: Any,
    subject: Any,
    code: str,
    category: str,
    location: str,
    organ: str,
    nodal: str,
    method: str,
    date: dt.date,
    visit: Visit | None = None,
    slice_thickness_mm: Decimal | None = None,
    diameter_mm: Decimal | None = None,
    nature: str = recist.SOLID,
    irradiated_before_study: str = YesNo.NO,
    progressed_since_irradiation: str = "",
    on_study_irradiation: str = OnStudyIrradiation.NONE,
    new_measurable: str = "",
    radiotherapy_course: Any = None,
) -> Lesion:
    """A lesion: a baseline target / non-target (screening visit) or a new lesion (its imaging visit)."""
    require_write(user, subject.site)
    record = Lesion(study=subject.study, site=subject.site, subject=subject)
    values = {
        "code": code,
        "category": category,
        "location": location,
        "organ": organ,
        "nodal": nodal,
        "method": method,
        "date": date,
        "slice_thickness_mm": slice_thickness_mm,
        "diameter_mm": diameter_mm,
        "nature": nature,
        "irradiated_before_study": irradiated_before_study,
        "progressed_since_irradiation": progressed_since_irradiation,
        "on_study_irradiation": on_study_irradiation,
        "new_measurable": new_measurable,
        "radiotherapy_course": radiotherapy_course,
    }
    for name, value in values.items():
        setattr(record, name, value)
    record.visit = _visit_for(subject, visit)
    _prepare(record, _validate_lesion)
    saved = record_save(record, user=user)
    subject_response_derive(user=user, subject=subject, reason=None, trigger=f"lesion {saved.code} added")
    return saved


def _prepare(record: FormRecord, validate: Any) -> None:
    if subject_is_voided(record.subject):
        raise ValidationError({"subject": [gettext("The subject is voided.")]})
    version, ranges = registry_form(record.form_code)
    if not record.form_version:
        record.form_version = version
    _derive(record)
    _check(record, ranges)
    validate(record)


def subject_is_voided(subject: Any) -> bool:
    return bool(subject.is_voided)


@transaction.atomic
def lesion_update(
    *, user: Any, lesion: Lesion, reason: ChangeReason | None, version: int | None = None, **changes: Any
) -> Lesion:
    """Correct a lesion; every derived response of the subject is recomputed with history."""
    require_write(user, lesion.site)
    unknown = sorted(set(changes) - set(Lesion.editable_fields))
    if unknown:
        raise ValidationError({name: [gettext("This field cannot be changed.")] for name in unknown})
    measured = LesionMeasurement.objects.active().filter(lesion=lesion).exists()
    if measured and "code" in changes and str(changes["code"]).strip().upper() != lesion.code:
        raise ValidationError({"code": [gettext("The lesion id is fixed once it has measurements.")]})
    if measured and "category" in changes and changes["category"] != lesion.category:
        raise ValidationError(
            {"category": [gettext("The category is fixed once the lesion has measurements.")]}
        )
    if "visit" in changes:
        changes["visit"] = _visit_for(lesion.subject, changes["visit"])
    for name, value in changes.items():
        setattr(lesion, name, value)
    _prepare(lesion, _validate_lesion)
    saved = record_save(lesion, user=user, reason=reason, version=version)
    subject_response_derive(
        user=user, subject=saved.subject, reason=reason, trigger=f"lesion {saved.code} corrected"
    )
    return saved


@transaction.atomic
def lesion_void(*, user: Any, lesion: Lesion, reason: ChangeReason, version: int | None = None) -> Lesion:
    require_write(user, lesion.site)
    if LesionMeasurement.objects.active().filter(lesion=lesion).exists():
        raise ValidationError(gettext("Void the lesion's measurements first."), code="has_measurements")
    voided = record_void(lesion, user=user, reason=reason, version=version)
    subject_response_derive(
        user=user, subject=voided.subject, reason=reason, trigger=f"lesion {voided.code} voided"
    )
    return voided


# --- assessments and measurements -----------------------------------------------------------------


def _validate_assessment(assessment: TumorAssessment) -> None:
    errors: dict[str, list[str]] = {}
    visit = assessment.visit
    if visit.kind == "screening":
        errors.setdefault("visit", []).append(
            gettext(
                "The baseline is the lesions themselves; an assessment belongs to a follow-up imaging visit."
            )
        )
    others = (
        TumorAssessment.objects.active().filter(subject_id=assessment.subject_id).exclude(pk=assessment.pk)
    )
    if others.filter(visit=visit).exists():
        errors.setdefault("visit", []).append(gettext("The visit already has a tumour assessment."))
    if others.filter(date=assessment.date).exists():
        errors.setdefault("date", []).append(gettext("The subject already has an assessment on this date."))
    baseline = Lesion.objects.active().filter(
        subject_id=assessment.subject_id, category__in=(LesionCategory.TARGET, LesionCategory.NON_TARGET)
    )
    latest = max((b.date for b in baseline), default=None)
    if latest is None:
        errors.setdefault("subject", []).append(gettext("Record the baseline lesions first."))
    elif assessment.date <= latest:
        errors.setdefault("date", []).append(
            gettext("{day} is not after the baseline scan ({baseline}).").format(
                day=assessment.date, baseline=latest
            )
        )
    if not assessment.not_done_reason:
        if not assessment.investigator_overall:
            errors.setdefault("investigator_overall", []).append(
                gettext("The investigator's overall response.")
            )
        if not assessment.investigator_new_lesions:
            errors.setdefault("investigator_new_lesions", []).append(
                gettext("Say whether there is a new lesion.")
            )
    if assessment.beyond_iupd == YesNo.YES:
        if assessment.beyond_iupd_date is None:
            errors.setdefault("beyond_iupd_date", []).append(gettext("The date of the decision."))
        if not assessment.beyond_iupd_reason.strip():
            errors.setdefault("beyond_iupd_reason", []).append(
                gettext("The reason for treating beyond iUPD.")
            )
        if assessment.beyond_iupd_date is not None and assessment.beyond_iupd_date < assessment.date:
            errors.setdefault("beyond_iupd_date", []).append(gettext("The decision follows the scan."))
    elif assessment.beyond_iupd_date is not None or assessment.beyond_iupd_reason.strip():
        errors.setdefault("beyond_iupd", []).append(
            gettext("Date and reason only with treatment beyond iUPD.")
        )
    if errors:
        raise ValidationError(errors)


def _fragments(text: str) -> tuple[Decimal, ...]:
    parts = [p.strip() for p in (text or "").replace(";", ",").split(",") if p.strip()]
    values = []
    for part in parts:
        try:
            value = Decimal(part)
        except InvalidOperation:
            raise ValidationError(
                {"fragments_mm": [gettext("{part!r} is no length in mm.").format(part=part)]}
            ) from None
        if value < 0 or value > 500:
            raise ValidationError(
                {"fragments_mm": [gettext("{part} mm is outside 0-500.").format(part=part)]}
            )
        values.append(value)
    return tuple(values)


def _validate_measurement(row: LesionMeasurement) -> None:
    errors: dict[str, list[str]] = {}

    def add(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    lesion, assessment = row.lesion, row.assessment
    if lesion.subject_id != assessment.subject_id or lesion.is_voided:
        raise ValidationError({"lesion": [gettext("The lesion is not one of the assessment's subject.")]})
    if assessment.not_done_reason:
        raise ValidationError(
            {"assessment": [gettext("The assessment was not done: it holds no measurements.")]}
        )
    row.subject, row.visit, row.study, row.site = (
        assessment.subject,
        assessment.visit,
        assessment.study,
        assessment.site,
    )
    row.lesion_code, row.date = lesion.code, assessment.date
    row.merged_into = (row.merged_into or "").strip().upper()
    if lesion.category == LesionCategory.TARGET:
        state = row.target_state
        if not state:
            add(
                "target_state",
                gettext("A target's state: measured, too small, disappeared, split, merged or not assessed."),
            )
        if row.state or row.increased_since_last:
            add("state", gettext("A target has a measurement, not a state."))
        if state == TargetState.MEASURED and row.diameter_mm is None:
            add("diameter_mm", gettext("The measured diameter."))
        if state != TargetState.MEASURED and row.diameter_mm is not None:
            add("diameter_mm", gettext("A diameter only for a measured target."))
        if state == TargetState.SPLIT:
            if not _fragments(row.fragments_mm):
                add("fragments_mm", gettext("The diameters of the fragments."))
        elif row.fragments_mm:
            add("fragments_mm", gettext("Fragments only for a split target."))
        if state == TargetState.MERGED:
            into = Lesion.objects.active().filter(
                subject_id=lesion.subject_id, code=row.merged_into, category=LesionCategory.TARGET
            )
            if not row.merged_into or row.merged_into == lesion.code or not into.exists():
                add("merged_into", gettext("Name the other target that carries the merged mass."))
        elif row.merged_into:
            add("merged_into", gettext("Only for a merged target."))
    else:
        if row.target_state or row.fragments_mm or row.merged_into:
            add("target_state", gettext("Only targets have a target state."))
        if not row.state:
            add("state", gettext("The lesion's state."))
        if lesion.category == LesionCategory.NON_TARGET:
            if row.state == LesionState.EQUIVOCAL:
                add(
                    "state",
                    gettext(
                        "A baseline non-target is present, absent, unequivocally progressed or not evaluable."
                    ),
                )
            if row.diameter_mm is not None:
                add("diameter_mm", gettext("Non-targets are not measured."))
        else:
            if lesion.date > assessment.date:
                add("lesion", gettext("The new lesion was identified after this scan."))
            if row.state == LesionState.NOT_EVALUATED:
                add("state", gettext("A new lesion is present, equivocal, progressed or absent."))
            measurable = lesion.new_measurable == YesNo.YES
            if (
                measurable
                and row.state in (LesionState.PRESENT, LesionState.UNEQUIVOCAL_PROGRESSION)
                and row.diameter_mm is None
            ):
                add("diameter_mm", gettext("A measurable new lesion (NLT) present: its diameter."))
            if not measurable and row.diameter_mm is not None:
                add("diameter_mm", gettext("A non-measurable new lesion (NLNT) has no diameter."))
            if measurable and row.increased_since_last:
                add("increased_since_last", gettext("An NLT grows by its diameter, not by this answer."))
    if errors:
        raise ValidationError(errors)


def _measurement_record(assessment: TumorAssessment, values: Mapping[str, Any]) -> LesionMeasurement:
    data = dict(values)
    lesion = data.pop("lesion", None)
    if isinstance(lesion, str):
        found = (
            Lesion.objects.active()
            .filter(subject_id=assessment.subject_id, code=lesion.strip().upper())
            .first()
        )
        if found is None:
            raise ValidationError(
                {"lesion": [gettext("The subject has no lesion {code}.").format(code=lesion)]}
            )
        lesion = found
    if not isinstance(lesion, Lesion):
        raise ValidationError({"lesion": [gettext("Name the lesion.")]})
    unknown = sorted(set(data) - set(LesionMeasurement.editable_fields))
    if unknown:
        raise ValidationError({name: [gettext("Unknown or derived field.")] for name in unknown})
    row = LesionMeasurement(assessment=assessment, lesion=lesion)
    row.method = lesion.method
    for name, value in data.items():
        setattr(row, name, "" if value is None and name not in ("diameter_mm",) else value)
    return row


def _save_measurement(row: LesionMeasurement, *, user: Any) -> LesionMeasurement:
    row.subject, row.visit, row.study, row.site = (
        row.assessment.subject,
        row.assessment.visit,
        row.assessment.study,
        row.assessment.site,
    )
    _prepare(row, _validate_measurement)
    if (
        LesionMeasurement.objects.active()
        .filter(assessment=row.assessment, lesion=row.lesion)
        .exclude(pk=row.pk)
        .exists()
    ):
        raise ValidationError(
            {
                "lesion": [
                    gettext("{code} is already recorded at this assessment.").format(code=row.lesion.code)
                ]
            }
        )
    return record_save(row, user=user)


@transaction.atomic
def assessment_create(
    *,
    user: Any,
    subject: Any,
    visit: Visit,
    date: dt.date,
    criteria: str = Criteria.RECIST11,
    investigator_target: str = "",
    investigator_non_target: str = "",
    investigator_new_lesions: str = "",
    investigator_overall: str = "",
    investigator_irecist: str = "",
    beyond_iupd: str = "",
    beyond_iupd_date: dt.date | None = None,
    beyond_iupd_reason: str = "",
    not_done_reason: str = "",
    not_done_detail: str = "",
    measurements: Sequence[Mapping[str, Any]] = (),
) -> TumorAssessment:
    """A follow-up assessment with its measurements (each: lesion (code or Lesion) and the TR items)."""
    require_write(user, subject.site)
    record = TumorAssessment(study=subject.study, site=subject.site, subject=subject)
    for name, value in {
        "date": date,
        "criteria": criteria,
        "investigator_target": investigator_target,
        "investigator_non_target": investigator_non_target,
        "investigator_new_lesions": investigator_new_lesions,
        "investigator_overall": investigator_overall,
        "investigator_irecist": investigator_irecist,
        "beyond_iupd": beyond_iupd,
        "beyond_iupd_date": beyond_iupd_date,
        "beyond_iupd_reason": beyond_iupd_reason,
        "not_done_reason": not_done_reason,
        "not_done_detail": not_done_detail,
    }.items():
        setattr(record, name, value if value is not None or name == "beyond_iupd_date" else "")
    record.visit = _visit_for(subject, visit)
    _prepare(record, _validate_assessment)
    saved = record_save(record, user=user)
    for i, values in enumerate(measurements):
        try:
            _save_measurement(_measurement_record(saved, values), user=user)
        except ValidationError as exc:
            raise ValidationError(
                {f"measurements[{i}].{k}": v for k, v in exc.message_dict.items()}
            ) from None
    subject_response_derive(user=user, subject=subject, reason=None, trigger=f"assessment of {date} added")
    saved.refresh_from_db()
    _check_beyond_iupd(saved)
    edit_checks_run_for(saved)  # investigator vs derived response (issue 22)
    return saved


def _check_beyond_iupd(assessment: TumorAssessment) -> None:
    if assessment.beyond_iupd == YesNo.YES and assessment.irecist_response != Response.IUPD:
        raise ValidationError(
            {
                "beyond_iupd": [
                    gettext(
                        "Treatment beyond iUPD is decided at an iUPD; this assessment is {response}."
                    ).format(response=assessment.irecist_response or gettext("not assessed by iRECIST"))
                ]
            }
        )


@transaction.atomic
def assessment_update(
    *,
    user: Any,
    assessment: TumorAssessment,
    reason: ChangeReason | None,
    version: int | None = None,
    **changes: Any,
) -> TumorAssessment:
    require_write(user, assessment.site)
    unknown = sorted(set(changes) - set(TumorAssessment.editable_fields))
    if unknown:
        raise ValidationError({name: [gettext("This field cannot be changed.")] for name in unknown})
    if "visit" in changes:
        changes["visit"] = _visit_for(assessment.subject, changes["visit"])
    for name, value in changes.items():
        setattr(assessment, name, value)
    if (
        assessment.not_done_reason
        and LesionMeasurement.objects.active().filter(assessment=assessment).exists()
    ):
        raise ValidationError(
            {"not_done_reason": [gettext("Void the measurements of an assessment not done.")]}
        )
    _prepare(assessment, _validate_assessment)
    saved = record_save(assessment, user=user, reason=reason, version=version)
    # The measurements follow their assessment's date and visit (the registry's TRDATE).
    for row in LesionMeasurement.objects.active().filter(assessment=saved).select_related("lesion"):
        if row.date != saved.date or row.visit_id != saved.visit_id:
            _resave(row, saved, user=user, reason=reason)
    subject_response_derive(
        user=user, subject=saved.subject, reason=reason, trigger=f"assessment of {saved.date} corrected"
    )
    saved.refresh_from_db()
    _check_beyond_iupd(saved)
    edit_checks_run_for(saved)  # investigator vs derived response (issue 22)
    return saved


def _resave(
    row: LesionMeasurement, assessment: TumorAssessment, *, user: Any, reason: ChangeReason | None
) -> None:
    row.date, row.visit = assessment.date, assessment.visit
    record_save(row, user=user, reason=reason or _derived_reason(None, "assessment corrected"))


@transaction.atomic
def assessment_void(
    *, user: Any, assessment: TumorAssessment, reason: ChangeReason, version: int | None = None
) -> TumorAssessment:
    """Void an assessment with its measurements; the later derived responses are recomputed."""
    require_write(user, assessment.site)
    for row in LesionMeasurement.objects.active().filter(assessment=assessment):
        record_void(row, user=user, reason=reason)
    voided = record_void(assessment, user=user, reason=reason, version=version)
    subject_response_derive(
        user=user, subject=voided.subject, reason=reason, trigger=f"assessment of {voided.date} voided"
    )
    edit_checks_run_for(voided)  # investigator vs derived response (issue 22)
    return voided


@transaction.atomic
def measurement_create(
    *, user: Any, assessment: TumorAssessment, lesion: Lesion | str, **items: Any
) -> LesionMeasurement:
    require_write(user, assessment.site)
    saved = _save_measurement(_measurement_record(assessment, {"lesion": lesion, **items}), user=user)
    subject_response_derive(
        user=user,
        subject=assessment.subject,
        reason=None,
        trigger=f"{saved.lesion_code} at {assessment.date} added",
    )
    edit_checks_run_for(saved)  # investigator vs derived response (issue 22)
    return saved


@transaction.atomic
def measurement_update(
    *,
    user: Any,
    measurement: LesionMeasurement,
    reason: ChangeReason | None,
    version: int | None = None,
    **changes: Any,
) -> LesionMeasurement:
    """Correct a measurement: every derived response of the subject is recomputed, with history."""
    require_write(user, measurement.site)
    unknown = sorted(set(changes) - set(LesionMeasurement.editable_fields))
    if unknown:
        raise ValidationError({name: [gettext("This field cannot be changed.")] for name in unknown})
    for name, value in changes.items():
        setattr(measurement, name, "" if value is None and name != "diameter_mm" else value)
    _prepare(measurement, _validate_measurement)
    saved = record_save(measurement, user=user, reason=reason, version=version)
    subject_response_derive(
        user=user,
        subject=saved.subject,
        reason=reason,
        trigger=f"{saved.lesion_code} at {saved.date} corrected",
    )
    edit_checks_run_for(saved)  # investigator vs derived response (issue 22)
    return saved


@transaction.atomic
def measurement_void(
    *, user: Any, measurement: LesionMeasurement, reason: ChangeReason, version: int | None = None
) -> LesionMeasurement:
    require_write(user, measurement.site)
    voided = record_void(measurement, user=user, reason=reason, version=version)
    subject_response_derive(
        user=user,
        subject=voided.subject,
        reason=reason,
        trigger=f"{voided.lesion_code} at {voided.date} voided",
    )
    edit_checks_run_for(voided)  # investigator vs derived response (issue 22)
    return voided


# --- the derivation ------------------------------------------------------------------------------


def _measurement(row: LesionMeasurement | None) -> recist.Measurement:
    if row is None:
        return recist.Measurement.not_assessed()
    state = row.target_state
    if state == TargetState.MEASURED and row.diameter_mm is not None:
        return recist.Measurement.measured(row.diameter_mm)
    if state == TargetState.DISAPPEARED:
        return recist.Measurement.measured(0)
    if state == TargetState.TOO_SMALL:
        return recist.Measurement.too_small()
    if state == TargetState.SPLIT:
        return recist.Measurement.fragments(*_fragments(row.fragments_mm))
    if state == TargetState.MERGED:
        return recist.Measurement.merged(row.merged_into)
    return recist.Measurement.not_assessed()


_NON_TARGET: dict[str, str] = {
    LesionState.PRESENT: recist.PRESENT,
    LesionState.ABSENT: recist.ABSENT,
    LesionState.UNEQUIVOCAL_PROGRESSION: recist.UNEQUIVOCAL_PROGRESSION,
    LesionState.NOT_EVALUATED: recist.NOT_EVALUATED,
}
_UNEQUIVOCAL = (LesionState.PRESENT, LesionState.UNEQUIVOCAL_PROGRESSION)


def new_lesion_flags(
    rows_by_assessment: Sequence[Sequence[LesionMeasurement]], done: Sequence[bool]
) -> tuple[list[bool | str | None], list[str]]:
    """The RECIST ``new_lesions`` of each follow-up, resolved per lesion id, and the stored label.

    An equivocal lesion later seen unequivocally (the same lesion id, with no scan in between that
    found it absent) dates the progression from the scan that first showed it (A6). Only that
    lesion's confirmation backdates: another lesion appearing later is progression at its own scan,
    so the equivocal scans before it are given to the engine as "no new lesion" (the engine's own
    run rule would otherwise date that progression back too) and stored as EQUIVOCAL.
    """
    n = len(rows_by_assessment)
    flags: list[bool | str | None] = []
    labels: list[str] = []
    for rows, is_done in zip(rows_by_assessment, done, strict=True):
        if not is_done:
            flags.append(None)
            labels.append("")
            continue
        states = [r.state for r in rows if r.lesion.category == LesionCategory.NEW]
        if any(s in _UNEQUIVOCAL for s in states):
            flags.append(True)
            labels.append(YesNo.YES)
        elif LesionState.EQUIVOCAL in states:
            flags.append(recist.EQUIVOCAL)
            labels.append(LesionState.EQUIVOCAL)
        else:
            flags.append(False)
            labels.append(YesNo.NO)
    # Per lesion: an equivocal run confirmed later by the same lesion.
    confirmed: set[int] = set()
    history: dict[str, list[tuple[int, str]]] = {}
    for i, rows in enumerate(rows_by_assessment):
        for r in rows:
            if r.lesion.category == LesionCategory.NEW:
                history.setdefault(r.lesion.code, []).append((i, r.state))
    for entries in history.values():
        run: list[int] = []
        for i, state in entries:
            if state == LesionState.EQUIVOCAL:
                run.append(i)
            elif state in _UNEQUIVOCAL:
                confirmed.update(run)
                run = []
            else:
                run = []
    for i in confirmed:
        flags[i] = True
        labels[i] = YesNo.YES
    # What is left equivocal must not be dated back by another lesion's appearance.
    resolved = recist.resolve_equivocal_new_lesions(flags)
    for i in range(n):
        if flags[i] == recist.EQUIVOCAL and resolved[i] is True:
            flags[i] = False
    return flags, labels


def _irecist_new_lesions(rows: Sequence[LesionMeasurement]) -> tuple[irecist.NewLesion, ...]:
    """iRECIST's new lesions at a scan. An equivocal finding is not (yet) a new lesion here: B2 counts
    new lesions seen; an equivocal one enters when a later scan shows it (assumption, docs/tumors.md)."""
    out = []
    for r in rows:
        lesion = r.lesion
        if lesion.category != LesionCategory.NEW or r.state == LesionState.EQUIVOCAL:
            continue
        present = r.state in _UNEQUIVOCAL
        if lesion.new_measurable == YesNo.YES:
            out.append(
                irecist.NewLesion(
                    id=lesion.code,
                    organ=lesion.organ,
                    nodal=lesion.is_nodal,
                    category=irecist.NLT,
                    diameter_mm=(r.diameter_mm or Decimal(0)) if present else Decimal(0),
                )
            )
        else:
            out.append(
                irecist.NewLesion(
                    id=lesion.code,
                    organ=lesion.organ,
                    nodal=lesion.is_nodal,
                    category=irecist.NLNT,
                    status="present" if present else "absent",
                    increased_since_last=r.increased_since_last == YesNo.YES,
                )
            )
    return tuple(out)


def _target(lesion: Lesion) -> recist.TargetLesion:
    return recist.TargetLesion(
        id=lesion.code,
        organ=lesion.organ,
        nodal=lesion.is_nodal,
        diameter_mm=lesion.diameter_mm or Decimal(0),
        site=lesion.location,
    )


def _non_target(lesion: Lesion) -> recist.NonTargetLesion:
    return recist.NonTargetLesion(
        id=lesion.code, organ=lesion.organ, nodal=lesion.is_nodal, site=lesion.location
    )


def build_cases(
    study: Any,
    lesions: Sequence[Lesion],
    assessments: Sequence[TumorAssessment],
    rows: Iterable[LesionMeasurement],
    reference: dt.date | None,
) -> tuple[recist.ResponseCase, irecist.IrecistCase, list[str]] | None:
    """The subject's stored data as the engines' inputs (None: no baseline lesion yet)."""
    targets = [lesion for lesion in lesions if lesion.category == LesionCategory.TARGET]
    non_targets = [lesion for lesion in lesions if lesion.category == LesionCategory.NON_TARGET]
    if not targets and not non_targets:
        return None
    baseline_date = max(lesion.date for lesion in (*targets, *non_targets))
    by_assessment: dict[Any, list[LesionMeasurement]] = {a.pk: [] for a in assessments}
    for row in rows:
        if row.assessment_id in by_assessment:
            by_assessment[row.assessment_id].append(row)
    grouped = [by_assessment[a.pk] for a in assessments]
    done = [not a.not_done_reason for a in assessments]
    flags, labels = new_lesion_flags(grouped, done)
    follow_ups = []
    i_follow_ups = []
    for a, a_rows, is_done, flag in zip(assessments, grouped, done, flags, strict=True):
        by_lesion = {r.lesion_id: r for r in a_rows}
        measurements = {t.code: _measurement(by_lesion.get(t.pk)) for t in targets} if is_done else {}
        statuses = (
            {
                n.code: _NON_TARGET.get(by_lesion[n.pk].state, recist.NOT_EVALUATED)
                if n.pk in by_lesion
                else recist.NOT_EVALUATED
                for n in non_targets
            }
            if is_done
            else {}
        )
        follow_ups.append(
            recist.FollowUp(
                date=a.date,
                assessment_done=is_done,
                target_measurements=measurements,
                non_target_status=statuses,
                new_lesions=flag,
            )
        )
        i_follow_ups.append(
            irecist.IrecistFollowUp(
                date=a.date,
                assessment_done=is_done,
                target_measurements=measurements,
                non_target_status=statuses,
                non_target_increased_since_last=frozenset(
                    n.code
                    for n in non_targets
                    if n.pk in by_lesion and by_lesion[n.pk].increased_since_last == YesNo.YES
                ),
                new_lesions=_irecist_new_lesions(a_rows) if is_done else (),
            )
        )
    ref = reference or baseline_date
    case = recist.ResponseCase(
        protocol=recist.ResponseProtocol(
            reference_date=ref,
            confirmation_min_interval_days=study.confirmation_min_interval_days,
            min_sd_duration_days=study.min_sd_duration_days if study.min_sd_duration_days is not None else 42,
        ),
        baseline_date=baseline_date,
        target_lesions=tuple(_target(t) for t in targets),
        non_target_lesions=tuple(_non_target(n) for n in non_targets),
        follow_ups=tuple(follow_ups),
    )
    icase = irecist.IrecistCase(
        protocol=irecist.IrecistProtocol(
            reference_date=ref,
            min_sd_duration_days=case.protocol.min_sd_duration_days,
            response_confirmation_required=bool(study.confirmation_required),
            confirmation_min_interval_days=study.confirmation_min_interval_days,
        ),
        baseline_date=baseline_date,
        target_lesions=case.target_lesions,
        non_target_lesions=case.non_target_lesions,
        follow_ups=tuple(i_follow_ups),
    )
    return case, icase, labels


def _subset_case(case: recist.ResponseCase, keep: set[str]) -> recist.ResponseCase:
    """The same follow-ups over a subset of the baseline lesions (new lesions count in every subset)."""
    return recist.ResponseCase(
        protocol=case.protocol,
        baseline_date=case.baseline_date,
        target_lesions=tuple(t for t in case.target_lesions if t.id in keep),
        non_target_lesions=tuple(n for n in case.non_target_lesions if n.id in keep),
        follow_ups=tuple(
            recist.FollowUp(
                date=fu.date,
                assessment_done=fu.assessment_done,
                # A merge into a lesion outside the subset counts its mass there: 0 here.
                target_measurements={
                    k: (
                        recist.Measurement.measured(0)
                        if m.kind == recist.MERGED and m.merged_into not in keep
                        else m
                    )
                    for k, m in fu.target_measurements.items()
                    if k in keep
                },
                non_target_status={k: v for k, v in fu.non_target_status.items() if k in keep},
                new_lesions=fu.new_lesions,
            )
            for fu in case.follow_ups
        ),
    )


def _pct(value: Decimal | None, reference: Decimal | None) -> Decimal | None:
    if value is None or reference is None:
        return None
    return recist.pct_change(value, reference)


def derived_values(
    study: Any,
    assessments: Sequence[TumorAssessment],
    built: tuple[recist.ResponseCase, irecist.IrecistCase, list[str]] | None,
    irradiated: set[str],
) -> list[dict[str, Any]]:
    """The derived fields of each assessment, in order (pure: the engines on the built cases)."""
    blank: dict[str, Any] = {
        name: TumorAssessment._meta.get_field(name).get_default()  # type: ignore[union-attr]
        for name in TumorAssessment.derived_fields
    }
    out = [dict(blank) for _ in assessments]
    if built is None:
        return out
    case, icase, labels = built
    result = recist.evaluate_response(case)
    series = [(tp.date, tp.overall_response) for tp in result.timepoints]
    has_targets = bool(case.target_lesions)
    p = case.protocol
    subsets: dict[str, recist.ResponseResult] = {}
    if irradiated:
        all_ids = {t.id for t in case.target_lesions} | {n.id for n in case.non_target_lesions}
        for name, keep in (("irradiated", irradiated & all_ids), ("non_irradiated", all_ids - irradiated)):
            if keep:
                subsets[name] = recist.evaluate_response(_subset_case(case, keep))
    iresult = irecist.evaluate_irecist(icase) if irecist_applies(study) else None
    for i, values in enumerate(out):
        values["new_lesions"] = labels[i]
        if i < len(result.timepoints):
            tp = result.timepoints[i]
            prefix = series[: i + 1]
            values.update(
                sum_mm=tp.sum_of_diameters_mm,
                measured_sum_mm=tp.sum_of_measured_targets_mm,
                pct_change_from_baseline=tp.pct_change_from_baseline,
                nadir_before_mm=tp.nadir_mm_before_this_assessment,
                pct_change_from_nadir=_pct(tp.sum_of_diameters_mm, tp.nadir_mm_before_this_assessment)
                if tp.nadir_mm_before_this_assessment
                else None,
                target_response=response_code(tp.target_response),
                non_target_response=response_code(tp.non_target_response),
                overall_response=response_code(tp.overall_response),
                best_response_confirmed_to_date=response_code(
                    recist.best_overall_response(
                        prefix,
                        reference_date=p.reference_date,
                        min_sd_duration_days=p.min_sd_duration_days,
                        confirmation_min_interval_days=p.confirmation_min_interval_days,
                        has_targets=has_targets,
                    )
                ),
                best_response_unconfirmed_to_date=response_code(
                    recist.best_overall_response(
                        prefix,
                        reference_date=p.reference_date,
                        min_sd_duration_days=p.min_sd_duration_days,
                        has_targets=has_targets,
                    )
                ),
            )
            if tp.new_lesions is True:
                values["new_lesions"] = YesNo.YES
        else:
            values["after_progression"] = True
            values["best_response_confirmed_to_date"] = out[i - 1]["best_response_confirmed_to_date"]
            values["best_response_unconfirmed_to_date"] = out[i - 1]["best_response_unconfirmed_to_date"]
        if subsets:
            values["subset_responses"] = {
                name: response_code(r.timepoints[i].overall_response)
                if i < len(r.timepoints)
                else "after_progression"
                for name, r in subsets.items()
            }
        if iresult is not None and i < len(iresult.timepoints):
            itp = iresult.timepoints[i]
            values["irecist_response"] = itp.overall_response
            values["irecist_reasons"] = "; ".join(itp.reasons)
            values["best_irecist_response_to_date"] = irecist.best_overall_response_irecist(
                [(t.date, t.overall_response) for t in iresult.timepoints[: i + 1]], icase.protocol
            )
            if values["after_progression"]:
                # Beyond RECIST progression the sum is still what iRECIST reads (spider plots too).
                values["sum_mm"] = itp.target_sum_mm
        elif iresult is not None and i > 0:
            values["best_irecist_response_to_date"] = out[i - 1]["best_irecist_response_to_date"]
        values.update(_mismatch(assessments[i], values))
    return out


def _mismatch(a: TumorAssessment, values: Mapping[str, Any]) -> dict[str, Any]:
    """The investigator's own response beside the derived one (the data-integrity checks raise it)."""
    if a.not_done_reason or values.get("after_progression"):
        return {"response_mismatch": False, "mismatch_detail": ""}
    pairs = [
        ("target", a.investigator_target, values["target_response"]),
        ("non-target", a.investigator_non_target, values["non_target_response"]),
        ("overall", a.investigator_overall, values["overall_response"]),
        ("iRECIST", a.investigator_irecist, values["irecist_response"]),
    ]
    parts = [
        f"{name}: investigator {given}, derived {derived or '-'}"
        for name, given, derived in pairs
        if given and given != derived
    ]
    derived_new = YesNo.YES if values["new_lesions"] == YesNo.YES else YesNo.NO
    if a.investigator_new_lesions and a.investigator_new_lesions != derived_new:
        parts.append(
            f"new lesion: investigator {a.investigator_new_lesions}, derived {values['new_lesions']}"
        )
    return {"response_mismatch": bool(parts), "mismatch_detail": "; ".join(parts)}


def _derived_reason(reason: ChangeReason | None, trigger: str) -> ChangeReason:
    text = f"{DERIVED_REASON} after: {trigger}"
    if reason is not None and reason.text:
        text = f"{text} ({reason.text})"
    return ChangeReason(code=reason.code if reason is not None else ReasonCode.OTHER, text=text)


@transaction.atomic
def subject_response_derive(
    *, user: Any, subject: Any, reason: ChangeReason | None = None, trigger: str = "recomputation"
) -> list[TumorAssessment]:
    """Run the engines on the subject's stored data; save each assessment whose derived values
    changed (one history row each, the reason naming the trigger). Returns the changed ones."""
    lesions = list(Lesion.objects.active().filter(subject=subject).order_by("category", "code"))
    assessments = list(TumorAssessment.objects.active().filter(subject=subject).order_by("date", "created"))
    rows = list(LesionMeasurement.objects.active().filter(subject=subject).select_related("lesion"))
    built = build_cases(subject.study, lesions, assessments, rows, reference_date(subject, None))
    irradiated = {
        lesion.code
        for lesion in lesions
        if lesion.is_baseline and lesion.on_study_irradiation not in ("", OnStudyIrradiation.NONE)
    }
    values = derived_values(subject.study, assessments, built, irradiated)
    changed: list[TumorAssessment] = []
    had_cr = any(a.overall_response == Response.CR for a in assessments)
    why = _derived_reason(reason, trigger)
    for assessment, new in zip(assessments, values, strict=True):
        diff = {name: value for name, value in new.items() if getattr(assessment, name) != value}
        if not diff:
            continue
        for name, value in diff.items():
            setattr(assessment, name, value)
        changed.append(record_save(assessment, user=user, reason=why))
    if not had_cr:
        first_cr = next((a for a in assessments if a.overall_response == Response.CR), None)
        if first_cr is not None:
            maintenance_after_complete_response(user=user, subject=subject, assessment=first_cr)
    return changed


def maintenance_after_complete_response(*, user: Any, subject: Any, assessment: TumorAssessment) -> bool:
    """Seed 000: "After reaching CR, patients entered the maintenance treatment period". The call
    point into the visits issue's ``treatment_phase_switch`` (CONTRACTS C2), for a study whose arm
    has a phase entered on a complete response. Returns whether the switch was asked for."""
    phase = _phase_entered_on_cr(subject)
    if phase is None:
        return False
    from edc.visits.treatment import treatment_phase_switch

    if subject.status != "on_treatment":
        return False
    try:
        # A savepoint: a switch the visits service refuses (already in maintenance, a CR dated after
        # the end of treatment ...) leaves the assessment saved; the refusal is logged.
        with transaction.atomic():
            treatment_phase_switch(
                user=user,
                subject=subject,
                phase_code=phase,
                date=assessment.date,
                trigger=f"complete response (RECIST 1.1) at the assessment of {assessment.date}",
            )
    except ValidationError as exc:
        logger.info("maintenance switch refused for subject %s: %s", subject.pk, exc)
        return False
    return True


def _phase_entered_on_cr(subject: Any) -> str | None:
    from studies.models import TreatmentPhase

    rows = TreatmentPhase.objects.filter(study_id=subject.study_id).values_list("code", "entry_rule")
    for code, rule in rows:
        text = (rule or "").lower()
        if "complete response" in text or "(cr)" in text:
            return str(code)
    return None


def engine_response(code: str) -> str:
    return engine_label(code)
