"""Writes of the case report forms. The admin, the API and `screening_import` call these.

One create service per form (typed, keyword-only), and one update and one void service for every
form row. Each checks, with the same words at every door:

- the user may enter data at the subject's site; the visit is the subject's, not missed or
  cancelled (no visit given: the subject's screening visit);
- dates are not in the future (the site's today); a procedure (vital signs, ECOG, a lab, a
  pregnancy test) is not dated before the patient's consent (docs/journey.md);
- values lie in the registry's plausible range (fixtures/forms.yaml: weight 20-250 kg ...);
- a lab's unit parses and fits its test, and its value in the test's standard unit is derived
  and stored (edc/core/labs.py); the BSA of vital signs is derived by Mosteller;
- "not done" with a reason holds no data; a contradiction inside the row is refused (the models'
  `clean()`).
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.translation import gettext

from edc.consent.selectors import first_consent_date
from edc.core.bsa import mosteller_bsa
from edc.core.labs import LabValue, LabValueError, read_lab
from edc.core.partial_dates import PartialDate
from edc.core.services import ChangeReason, record_save, record_update, record_void
from edc.forms import codes
from edc.forms.models import (
    PROCEDURE_FORMS,
    Biomarker,
    ConcomitantMedication,
    Death,
    DiseaseBaseline,
    EcogAssessment,
    FormRecord,
    HistoryAnswers,
    LabResult,
    MedicalHistory,
    PregnancyTest,
    PriorTherapy,
    RadiotherapyCourse,
    SubsequentTherapy,
    SurvivalFollowUp,
    VitalSigns,
)
from edc.forms.selectors import known_alive_dates, registry_form
from edc.subjects.access import require_write
from edc.visits.models import Visit, VisitStatus

F = TypeVar("F", bound=FormRecord)
BSA_PLACES = Decimal("0.01")


def _visit_for(subject: Any, visit: Visit | None) -> Visit:
    if visit is None:
        from edc.visits.services import screening_visit

        found = screening_visit(subject)
        if found is None:
            raise ValidationError({"visit": [gettext("The subject has no screening visit: name the visit.")]})
        return found
    if visit.subject_id != subject.pk:
        raise ValidationError({"visit": [gettext("The visit is another subject's.")]})
    if visit.is_voided:
        raise ValidationError({"visit": [gettext("The visit is voided.")]})
    if visit.status in (VisitStatus.MISSED, VisitStatus.CANCELLED):
        raise ValidationError(
            {
                "visit": [
                    gettext("The visit was {status}: it holds no forms.").format(
                        status=visit.get_status_display()
                    )
                ]
            }
        )
    return visit


def _derive(record: FormRecord) -> None:
    """Derived items: a lab's standard value and range indicator, the BSA of vital signs.

    The fields are read first (text to dates and numbers), with the errors the model gives.
    """
    relations = [f.name for f in record._meta.concrete_fields if f.is_relation]
    if isinstance(record, LabResult):
        _derive_lab(record)
    record.clean_fields(exclude=relations)
    if isinstance(record, Biomarker):
        _derive_biomarker(record)
    if isinstance(record, VitalSigns):
        if record.height_cm is not None and record.weight_kg is not None and not record.not_done_reason:
            try:
                bsa = mosteller_bsa(height_cm=record.height_cm, weight_kg=record.weight_kg)
            except ValueError as exc:
                raise ValidationError({"weight_kg": [str(exc)]}) from None
            record.bsa_m2 = bsa.quantize(BSA_PLACES, rounding=ROUND_HALF_UP)
        else:
            record.bsa_m2 = None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, bool):
        raise ValidationError({"value": [gettext("A number, or for urine protein a dipstick reading.")]})
    if isinstance(value, int | float):
        return format(Decimal(str(value)), "f")
    return str(value).strip()


def _derive_lab(record: LabResult) -> None:
    """The result as reported, checked (edc/core/labs.py), and its standard-unit values."""
    record.test = (record.test or "").strip().upper()
    record.value = _text(record.value)
    record.unit = (record.unit or "").strip()
    record.standard_value = record.standard_lln = record.standard_uln = None
    record.standard_unit = record.range_indicator = ""
    if record.not_done_reason:
        return
    try:
        lab = read_lab(
            test=record.test,
            value=record.value or None,
            unit=record.unit or None,
            lln=record.lln,
            uln=record.uln,
            date=record.date if isinstance(record.date, dt.date) else None,
        )
    except LabValueError as exc:
        raise ValidationError({exc.field: [exc.message]}) from None
    if lab.is_ordinal:
        record.value = str(lab.value)  # the dipstick code ("++" is stored as "2+")
        return
    standard = lab.standard_value()
    if standard is None:
        return
    record.standard_value = standard
    record.standard_unit = lab.standard_unit or ""
    for bound, target in ((lab.lln, "standard_lln"), (lab.uln, "standard_uln")):
        if bound is not None and lab.unit is not None and lab.standard_unit is not None:
            converted = LabValue(test=lab.test, value=bound, unit=lab.unit).standard_value()
            setattr(record, target, converted)
        elif bound is not None:
            setattr(record, target, bound)
    record.range_indicator = lab.range_indicator() or ""


def _check(record: FormRecord, ranges: dict[str, tuple[Decimal | None, Decimal | None]]) -> None:
    errors: dict[str, list[str]] = {}
    today = record.site.today()
    for field in record._meta.concrete_fields:
        value = getattr(record, field.attname)
        if isinstance(field, models.DateField) and not isinstance(field, models.DateTimeField):
            if isinstance(value, dt.date) and value > today:
                errors.setdefault(field.name, []).append(
                    gettext("{day} is after today at the site ({today}).").format(day=value, today=today)
                )
        elif isinstance(value, PartialDate) and value.earliest() > today:
            errors.setdefault(field.name, []).append(gettext("A date cannot lie in the future."))
    for item, field_name in record.form_item_fields.items():
        if field_name not in record.editable_fields:
            continue  # a derived item (the BSA, a standard value) is what it is
        bounds = ranges.get(item)
        value = getattr(record, field_name, None)
        if bounds is None or value is None or isinstance(value, bool):
            continue
        low, high = bounds
        if (low is not None and value < low) or (high is not None and value > high):
            errors.setdefault(field_name, []).append(
                gettext("{value} is outside the plausible range {low}-{high}.").format(
                    value=value, low=_plain(low), high=_plain(high)
                )
            )
    if record.form_code in PROCEDURE_FORMS and not errors.get("date"):
        consent = first_consent_date(record.subject)
        day = getattr(record, "date", None)
        if consent is None:
            errors.setdefault("subject", []).append(
                gettext("Record the signed informed consent before any screening procedure.")
            )
        elif day is not None and day < consent:
            errors.setdefault("date", []).append(
                gettext("{day} is before the patient's consent on {consent}.").format(
                    day=day, consent=consent
                )
            )
    for name, day in _dates_after_consent(record):
        if errors.get(name):
            continue
        consent = first_consent_date(record.subject)
        if consent is not None and day < consent:
            errors.setdefault(name, []).append(
                gettext("{day} is before the patient's consent on {consent}.").format(
                    day=day, consent=consent
                )
            )
    if errors:
        raise ValidationError(errors)


def _dates_after_consent(record: FormRecord) -> list[tuple[str, dt.date]]:
    """The dates of the after-treatment, radiotherapy and biomarker forms that cannot precede consent,
    each as its latest possible day (a partial date is refused only when wholly before).

    A course of radiotherapy before the study and a PD-L1 or VEGFR-2 result on archival tissue may
    lie before consent; a blood sample (EBV DNA) is a procedure of the study.
    """
    found: list[tuple[str, Any]] = []
    if isinstance(record, RadiotherapyCourse) and record.on_study:
        found.append(("start_date", record.start_date))
    elif isinstance(record, SurvivalFollowUp):
        found.append(("contact_date", record.contact_date))
    elif isinstance(record, SubsequentTherapy):
        found.append(("start_date", record.start_date))
    elif isinstance(record, Death):
        found.append(("death_date", record.death_date))
    elif isinstance(record, Biomarker) and record.test == codes.EBVDNA:
        found.append(("date", record.date))
    days = []
    for name, value in found:
        if isinstance(value, PartialDate):
            days.append((name, value.latest()))
        elif isinstance(value, dt.date):
            days.append((name, value))
    return days


def _derive_biomarker(record: Biomarker) -> None:
    """A PD-L1 result's status by the study's cut-off (codes.PDL1_CUTOFFS), stored with the cut-off.

    No cut-off for the study, or a score of another kind than the cut-off's: no status (the result
    is kept; the study states how it reads PD-L1 before a status is derived).
    """
    record.pdl1_cutoff = None
    record.pdl1_status = ""
    if record.not_done_reason or record.test != codes.PDL1 or record.pdl1_value is None:
        return
    rule = pdl1_cutoff_of(record.study)
    if rule is None or rule["score"] != record.pdl1_score:
        return
    cutoff = Decimal(str(rule["cutoff"]))
    record.pdl1_cutoff = cutoff
    record.pdl1_status = codes.POSITIVE if record.pdl1_value >= cutoff else codes.NEGATIVE


def pdl1_cutoff_of(study: Any) -> dict[str, object] | None:
    """The study's PD-L1 positive cut-off ({"score", "cutoff", "assumption"}), by its seed record."""
    name = (study.seed or "").strip().rsplit("/", 1)[-1]
    return codes.PDL1_CUTOFFS.get(name) if name else None


def _plain(value: Decimal | None) -> str:
    if value is None:
        return ""
    return format(value.normalize(), "f")


@transaction.atomic
def form_record_create(
    *, user: Any, model: type[F], subject: Any, visit: Visit | None = None, **values: Any
) -> F:
    """A new row of any form (the typed services below name each form's items)."""
    require_write(user, subject.site)
    if subject.is_voided:
        raise ValidationError({"subject": [gettext("The subject is voided.")]})
    unknown = sorted(set(values) - set(model.editable_fields))
    if unknown:
        raise ValidationError({name: [gettext("Unknown or derived field.")] for name in unknown})
    values.pop("visit", None)
    record = model(study=subject.study, site=subject.site, subject=subject, visit=_visit_for(subject, visit))
    for name, value in values.items():
        setattr(record, name, value)
    version, ranges = registry_form(model.form_code)
    record.form_version = version
    _derive(record)
    _check(record, ranges)
    saved = record_save(record, user=user)
    _after_write(user, saved)
    return saved


@transaction.atomic
def form_record_update(
    *, user: Any, record: F, reason: ChangeReason | None, version: int | None = None, **changes: Any
) -> F:
    """Correct a form row: only its `editable_fields`; a reason is required for every change."""
    require_write(user, record.site)
    unknown = sorted(set(changes) - set(record.editable_fields))
    if unknown:
        raise ValidationError({name: [gettext("This field cannot be changed.")] for name in unknown})
    if "visit" in changes:
        changes["visit"] = _visit_for(record.subject, changes["visit"])
    for name, value in changes.items():
        setattr(record, name, value)
    _, ranges = registry_form(record.form_code)
    _derive(record)
    _check(record, ranges)
    saved = record_save(record, user=user, reason=reason, version=version)
    _after_write(user, saved)
    return saved


@transaction.atomic
def form_record_void(*, user: Any, record: F, reason: ChangeReason, version: int | None = None) -> F:
    require_write(user, record.site)
    voided = record_void(record, user=user, reason=reason, version=version)
    if isinstance(voided, Death):
        _restore_after_death(user, voided, reason)
    _after_write(user, voided)
    return voided


def _restore_after_death(user: Any, death: Death, reason: ChangeReason) -> None:
    """A death form voided (entered in error): what it ended comes back. The visits it cancelled are
    planned again, the subject returns to the status before the death took them off study, and the
    schedule is re-planned without the death (each change with the void's reason)."""
    from django.conf import settings
    from django.utils import translation

    from edc.subjects.models import Subject
    from edc.subjects.services import subject_off_study_undo
    from edc.visits.services import schedule_rebuild

    # The reason the death wrote, in whichever of the site's languages it was recorded.
    ended: list[str] = []
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            ended.append(gettext("Death on {day}").format(day=death.death_date))
    why = gettext("Death form voided: {reason}").format(reason=reason.text)
    restore = ChangeReason(code=reason.code, text=why)
    cancelled = Visit.objects.active().filter(
        subject_id=death.subject_id, status="cancelled", cancelled_reason__in=ended
    )
    for visit in cancelled.select_related("subject", "study"):
        record_update(visit, user=user, changes={"status": "planned", "cancelled_reason": ""}, reason=restore)
    subject = Subject.objects.select_related("study", "site").get(pk=death.subject_id)
    for text in ended:
        subject = subject_off_study_undo(user=user, subject=subject, why=why, off_study_reason=text)
    schedule_rebuild(user=user, subject=subject, reason=why)


def _after_write(user: Any, record: FormRecord) -> None:
    """What a stored row sets off: a concomitant medication's restricted-medication flags; a lab
    value's AE proposal (the one hook of safety: a lab value entered, corrected or voided proposes,
    updates or withdraws the AE its CTCAE grade proposes, edc/safety/services.py)."""
    if isinstance(record, ConcomitantMedication):
        from edc.forms.restricted import restricted_medication_flags_refresh

        restricted_medication_flags_refresh(user=user, subject=record.subject)
    if isinstance(record, LabResult):
        from edc.safety.services import lab_proposals_refresh

        lab_proposals_refresh(user=user, lab=record)
    # Last, on what the hooks above stored: the edit checks of this record's subject (issue 22).
    from edc.datamanagement.services import edit_checks_run_for

    edit_checks_run_for(record)


# --- one create service per form ---------------------------------------------------------------


def vital_signs_create(
    *,
    user: Any,
    subject: Any,
    date: dt.date,
    visit: Visit | None = None,
    weight_kg: Decimal | None = None,
    height_cm: Decimal | None = None,
    systolic_bp: int | None = None,
    diastolic_bp: int | None = None,
    heart_rate: int | None = None,
    temperature_c: Decimal | None = None,
    not_done_reason: str = "",
    not_done_detail: str = "",
) -> VitalSigns:
    return form_record_create(
        user=user,
        model=VitalSigns,
        subject=subject,
        visit=visit,
        date=date,
        weight_kg=weight_kg,
        height_cm=height_cm,
        systolic_bp=systolic_bp,
        diastolic_bp=diastolic_bp,
        heart_rate=heart_rate,
        temperature_c=temperature_c,
        not_done_reason=not_done_reason,
        not_done_detail=not_done_detail,
    )


def ecog_create(
    *,
    user: Any,
    subject: Any,
    date: dt.date,
    visit: Visit | None = None,
    ecog: int | None = None,
    not_done_reason: str = "",
    not_done_detail: str = "",
) -> EcogAssessment:
    return form_record_create(
        user=user,
        model=EcogAssessment,
        subject=subject,
        visit=visit,
        date=date,
        ecog=ecog,
        not_done_reason=not_done_reason,
        not_done_detail=not_done_detail,
    )


def lab_result_create(
    *,
    user: Any,
    subject: Any,
    date: dt.date,
    test: str,
    visit: Visit | None = None,
    value: Decimal | str | None = None,
    unit: str = "",
    lln: Decimal | None = None,
    uln: Decimal | None = None,
    clinically_significant: bool | None = None,
    not_done_reason: str = "",
    not_done_detail: str = "",
) -> LabResult:
    """One lab result: `value` a number (kept as entered), or for urine protein a dipstick reading."""
    return form_record_create(
        user=user,
        model=LabResult,
        subject=subject,
        visit=visit,
        date=date,
        test=test,
        value=value,
        unit=unit or "",
        lln=lln,
        uln=uln,
        clinically_significant=clinically_significant,
        not_done_reason=not_done_reason,
        not_done_detail=not_done_detail,
    )


def pregnancy_test_create(
    *,
    user: Any,
    subject: Any,
    date: dt.date,
    visit: Visit | None = None,
    result: str = "",
    specimen: str = "",
    not_done_reason: str = "",
    not_done_detail: str = "",
) -> PregnancyTest:
    return form_record_create(
        user=user,
        model=PregnancyTest,
        subject=subject,
        visit=visit,
        date=date,
        result=result,
        specimen=specimen,
        not_done_reason=not_done_reason,
        not_done_detail=not_done_detail,
    )


def disease_baseline_create(
    *, user: Any, subject: Any, visit: Visit | None = None, **items: Any
) -> DiseaseBaseline:
    """The disease baseline: `items` are its fields (DiseaseBaseline.editable_fields)."""
    return form_record_create(user=user, model=DiseaseBaseline, subject=subject, visit=visit, **items)


def prior_therapy_create(
    *, user: Any, subject: Any, visit: Visit | None = None, **items: Any
) -> PriorTherapy:
    """One prior anticancer agent: `items` are PriorTherapy.editable_fields."""
    return form_record_create(user=user, model=PriorTherapy, subject=subject, visit=visit, **items)


def medical_history_create(
    *, user: Any, subject: Any, visit: Visit | None = None, **items: Any
) -> MedicalHistory:
    """One condition: `items` are MedicalHistory.editable_fields."""
    return form_record_create(user=user, model=MedicalHistory, subject=subject, visit=visit, **items)


def concomitant_medication_create(
    *, user: Any, subject: Any, visit: Visit | None = None, **items: Any
) -> ConcomitantMedication:
    """One medication: `items` are ConcomitantMedication.editable_fields."""
    return form_record_create(user=user, model=ConcomitantMedication, subject=subject, visit=visit, **items)


def history_answers_create(
    *, user: Any, subject: Any, visit: Visit | None = None, **answers: Any
) -> HistoryAnswers:
    """The explicit history answers (one row per subject): `answers` are HistoryAnswers.editable_fields."""
    return form_record_create(user=user, model=HistoryAnswers, subject=subject, visit=visit, **answers)


# --- radiotherapy, biomarkers, after treatment (issue 19) ---------------------------------------


def convert_dose(value: Any, unit: str, field: str) -> Decimal | None:
    """A dose in Gy, from Gy or cGy (edc/core/units.py); other units are refused by name."""
    from edc.core.units import UnitError, convert

    if value is None or value == "":
        return None
    try:
        return convert(value, unit or "Gy", "Gy")
    except (UnitError, ValueError, ArithmeticError):
        raise ValidationError(
            {field: [gettext("{value} {unit} is no dose in Gy or cGy.").format(value=value, unit=unit)]}
        ) from None


def radiotherapy_course_create(
    *,
    user: Any,
    subject: Any,
    visit: Visit | None = None,
    dose_unit: str = "Gy",
    **items: Any,
) -> RadiotherapyCourse:
    """One course of radiotherapy: `items` are RadiotherapyCourse.editable_fields; the doses
    (`dose_per_fraction_gy`, `total_dose_gy`) are in `dose_unit` (Gy or cGy), stored in Gy."""
    for name in ("dose_per_fraction_gy", "total_dose_gy"):
        if name in items:
            items[name] = convert_dose(items[name], dose_unit, name)
    return form_record_create(user=user, model=RadiotherapyCourse, subject=subject, visit=visit, **items)


def biomarker_create(
    *,
    user: Any,
    subject: Any,
    date: dt.date,
    test: str,
    visit: Visit | None = None,
    **items: Any,
) -> Biomarker:
    """One biomarker result (`items`: Biomarker.editable_fields); PD-L1's status is derived by the
    study's cut-off."""
    return form_record_create(
        user=user, model=Biomarker, subject=subject, visit=visit, date=date, test=test, **items
    )


def survival_follow_up_create(
    *,
    user: Any,
    subject: Any,
    contact_date: dt.date,
    visit: Visit | None = None,
    method: str = "",
    vital_status: str = "",
    last_known_alive: dt.date | None = None,
    new_therapy: bool | None = None,
    progression: bool | None = None,
    not_done_reason: str = "",
    not_done_detail: str = "",
) -> SurvivalFollowUp:
    """One follow-up contact. A contact that finds the subject dead needs the death form first
    (`death_record`), so the date and cause of death have one store."""
    from edc.forms.selectors import death_of

    if vital_status == codes.DEAD and death_of(subject) is None:
        raise ValidationError(
            {"vital_status": [gettext("Record the death on the death form first (date and cause).")]}
        )
    if vital_status != codes.DEAD and vital_status and not not_done_reason:
        death = death_of(subject)
        if death is not None:
            raise ValidationError(
                {
                    "vital_status": [
                        gettext("The subject's death on {day} is recorded.").format(day=death.death_date)
                    ]
                }
            )
    return form_record_create(
        user=user,
        model=SurvivalFollowUp,
        subject=subject,
        visit=visit,
        contact_date=contact_date,
        method=method,
        vital_status=vital_status,
        last_known_alive=last_known_alive,
        new_therapy=new_therapy,
        progression=progression,
        not_done_reason=not_done_reason,
        not_done_detail=not_done_detail,
    )


def subsequent_therapy_create(
    *, user: Any, subject: Any, visit: Visit | None = None, **items: Any
) -> SubsequentTherapy:
    """One new anticancer therapy after study treatment: `items` are SubsequentTherapy.editable_fields
    (start_date as much as is known, regimen, agent_class, line, end_date)."""
    return form_record_create(user=user, model=SubsequentTherapy, subject=subject, visit=visit, **items)


def _death_visit(subject: Any, day: PartialDate) -> Visit:
    """The visit a death form is filed under when none is named: the subject's last visit done on or
    before the death, else the screening visit."""
    last = (
        Visit.objects.active()
        .filter(subject=subject, status=VisitStatus.DONE, visit_date__lte=day.latest())
        .order_by("-visit_date", "-order", "-id")
        .first()
    )
    return _visit_for(subject, last)


def _check_death(subject: Any, day: PartialDate, *, exclude: int | None = None) -> None:
    from edc.subjects.models import SubjectStatus

    if subject.status == SubjectStatus.SCREEN_FAILED:
        raise ValidationError({"subject": [gettext("A screen failure is no longer followed on the study.")]})
    alive = known_alive_dates([subject.pk]).get(subject.pk)
    if alive is not None and day.latest() < alive[0]:
        raise ValidationError(
            {
                "death_date": [
                    gettext("The subject was known alive on {day} ({source}).").format(
                        day=alive[0], source=alive[1]
                    )
                ]
            }
        )


def _end_schedule(user: Any, subject: Any, death: Death) -> None:
    from edc.subjects.services import subject_off_study
    from edc.visits.services import visits_cancel_after

    why = gettext("Death on {day}").format(day=death.death_date)
    # Planned visits from the first possible day of death on cannot happen: cancelled, never deleted.
    first_day = death.death_date.earliest() - dt.timedelta(days=1)
    visits_cancel_after(user=user, subject=subject, after=first_day, reason=why)
    subject.refresh_from_db()
    subject_off_study(user=user, subject=subject, date=death.death_date.earliest(), reason=why)


@transaction.atomic
def death_record(
    *,
    user: Any,
    subject: Any,
    death_date: PartialDate | dt.date | str,
    cause: str,
    cause_detail: str = "",
    autopsy: str = "",
    visit: Visit | None = None,
) -> Death:
    """Record the subject's death, once: the schedule ends (planned visits from the day of death on
    are cancelled with the reason) and the subject goes off study. Data already entered is kept.

    The date may be partial (YYYY-MM, YYYY); it is not before the last date the subject was known
    alive (follow-up contacts, visits done), nor before consent, nor in the future.
    """
    from edc.forms.selectors import death_of
    from edc.subjects.models import Subject

    require_write(user, subject.site)
    subject = Subject.objects.select_for_update().get(pk=subject.pk)
    existing = death_of(subject)
    if existing is not None:
        raise ValidationError(
            {"subject": [gettext("The death is already recorded ({day}).").format(day=existing.death_date)]}
        )
    try:
        day = PartialDate.parse(death_date)
    except ValueError as exc:
        raise ValidationError({"death_date": [str(exc)]}) from None
    _check_death(subject, day)
    death = form_record_create(
        user=user,
        model=Death,
        subject=subject,
        visit=visit if visit is not None else _death_visit(subject, day),
        death_date=day,
        cause=cause,
        cause_detail=cause_detail,
        autopsy=autopsy,
    )
    _end_schedule(user, subject, death)
    return death


@transaction.atomic
def death_update(
    *, user: Any, record: Death, reason: ChangeReason | None, version: int | None = None, **changes: Any
) -> Death:
    """Correct the death form; a corrected date ends the schedule from the new date."""
    if "death_date" in changes:
        try:
            changes["death_date"] = PartialDate.parse(changes["death_date"])
        except ValueError as exc:
            raise ValidationError({"death_date": [str(exc)]}) from None
        _check_death(record.subject, changes["death_date"])
    updated = form_record_update(user=user, record=record, reason=reason, version=version, **changes)
    if "death_date" in changes:
        _end_schedule(user, updated.subject, updated)
    return updated
