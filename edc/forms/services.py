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
from edc.core.labs import LabValue, LabValueError, read_lab
from edc.core.partial_dates import PartialDate
from edc.core.services import ChangeReason, record_save, record_void
from edc.forms.models import (
    PROCEDURE_FORMS,
    ConcomitantMedication,
    DiseaseBaseline,
    EcogAssessment,
    FormRecord,
    HistoryAnswers,
    LabResult,
    MedicalHistory,
    PregnancyTest,
    PriorTherapy,
    VitalSigns,
)
from edc.forms.selectors import registry_form
from edc.subjects.access import require_write
from edc.visits.models import Visit, VisitStatus
from studies.models import mosteller_bsa

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
    if errors:
        raise ValidationError(errors)


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
    return _lab_hook(user, record_save(record, user=user))


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
    return _lab_hook(user, record_save(record, user=user, reason=reason, version=version))


@transaction.atomic
def form_record_void(*, user: Any, record: F, reason: ChangeReason, version: int | None = None) -> F:
    require_write(user, record.site)
    return _lab_hook(user, record_void(record, user=user, reason=reason, version=version))


def _lab_hook(user: Any, record: F) -> F:
    # The one hook of safety (issue 20): a lab value entered, corrected or voided proposes, updates
    # or withdraws the AE its CTCAE grade proposes (edc/safety/services.py lab_proposals_refresh).
    if isinstance(record, LabResult):
        from edc.safety.services import lab_proposals_refresh

        lab_proposals_refresh(user=user, lab=record)
    return record


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
