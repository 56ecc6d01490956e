"""Reads for eligibility: the criteria, a subject's screening record from the stored forms, the live
checklist, and whether a signed decision is still the data's.

`screening_record(subject, as_of)` reads the stored rows into the same `record.ScreeningRecord` the
case format is read into; `subject_eligibility` evaluates it with the pure engine. So, for a patient
imported by `screening_import`, the checklist is the answer `eligibility_evaluate` gives on the file.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from edc.core.labs import LabValue
from edc.eligibility.eligibility import INCLUSION, Criterion, DiseaseBaseline, PregnancyTest, evaluate
from edc.eligibility.record import (
    ConditionRow,
    LabRow,
    MedicationRow,
    PriorTherapyRow,
    ScreeningRecord,
    Vitals,
    record_json,
)
from studies import selectors as studies_selectors
from studies.models import Study


class StudyNotFound(LookupError):
    pass


def study_lookup(key: str | int) -> Any:
    """The study for a protocol id, registry id or primary key (StudyNotFound when none)."""
    try:
        return studies_selectors.study_lookup(key)
    except Study.DoesNotExist as exc:
        raise StudyNotFound(str(exc) or f"unknown study {key!r}") from None


def criterion_rows(study: Any) -> list[Any]:
    """The study's criteria rows, inclusions first, each kind in the protocol's order."""
    return sorted(study.criteria.all(), key=lambda row: (row.kind != INCLUSION, row.order, row.pk))


def study_criteria(study: Any, rows: Iterable[Any] | None = None) -> list[Criterion]:
    """The study's criteria, inclusions first, each kind in the protocol's order."""
    rows = criterion_rows(study) if rows is None else rows
    return [Criterion(kind=row.kind, number=str(row.number), text=row.text, rule=row.rule) for row in rows]


def criterion_key(row: Any) -> str:
    """How a criterion is named in confirmations: "I3", "E4" (unambiguous when both kinds share numbers)."""
    return f"{'I' if row.kind == INCLUSION else 'E'}{row.number}"


# --- the stored record ---------------------------------------------------------------------------


def _done(model: Any, subject: Any) -> Any:
    return model.objects.active().filter(subject=subject, not_done_reason="")


def _dated(rows: list[Any], as_of: dt.date) -> list[Any]:
    """Rows on or before the first dose, latest last; none: the first after it (shown as too late)."""
    before = [r for r in rows if r.date <= as_of]
    if before:
        return sorted(before, key=lambda r: (r.date, r.created))
    after = sorted((r for r in rows if r.date > as_of), key=lambda r: (r.date, r.created))
    return after[:1]


def _latest_value(rows: list[Any], name: str) -> Any:
    for row in reversed(rows):
        value = getattr(row, name)
        if value is not None:
            return value
    return None


def screening_record(subject: Any, as_of: dt.date) -> ScreeningRecord:
    """The subject's screening forms as the engine reads them, as of the (planned) first dose.

    Queries: one per form (10), the consent (1) and the confirmations (1), whatever the rows.
    """
    from edc.consent.selectors import first_consent_date
    from edc.eligibility.models import EligibilityConfirmation
    from edc.forms.models import (
        ConcomitantMedication,
        EcogAssessment,
        HistoryAnswers,
        LabResult,
        MedicalHistory,
        PriorTherapy,
        VitalSigns,
    )
    from edc.forms.models import (
        DiseaseBaseline as DiseaseRow,
    )
    from edc.forms.models import (
        PregnancyTest as PregnancyRow,
    )

    vitals = _dated(list(_done(VitalSigns, subject)), as_of)
    ecog = _dated(list(_done(EcogAssessment, subject)), as_of)
    pregnancy = _dated(list(_done(PregnancyRow, subject)), as_of)
    test = pregnancy[-1] if pregnancy else None
    labs = [
        LabRow(lab=row.as_value(), clinically_significant=row.clinically_significant)
        for row in _done(LabResult, subject).order_by("created")
    ]
    disease_row = _done(DiseaseRow, subject).first()
    answers = HistoryAnswers.objects.active().filter(subject=subject).first()
    confirmations: dict[str, str] = {}
    unstructured = False
    for confirmation in (
        EligibilityConfirmation.objects.active().filter(subject=subject).select_related("criterion")
    ):
        if confirmation.criterion is None:
            unstructured = True
        else:
            confirmations[criterion_key(confirmation.criterion)] = confirmation.answer
    medication_answers: dict[str, bool] = {}
    window_days = None
    if answers is not None:
        for topic, field in HistoryAnswers.MEDICATION_ANSWERS.items():
            value = getattr(answers, field)
            if value is not None:
                medication_answers[topic] = value
        if answers.medication_window_weeks is not None:
            window_days = answers.medication_window_weeks * 7
    return ScreeningRecord(
        birth_year=subject.birth_date.year if subject.birth_date else None,
        sex=subject.sex or None,
        consent_date=first_consent_date(subject),
        ecog=_latest_value(ecog, "ecog"),
        vitals=Vitals(**{name: _latest_value(vitals, name) for name in Vitals.__dataclass_fields__}),
        labs=tuple(labs),
        pregnancy_test=(
            PregnancyTest(result=test.result, date=test.date, specimen=test.specimen or None)
            if test is not None
            else None
        ),
        disease=_with_lesions(_disease(disease_row) if disease_row is not None else None, subject),
        any_prior_therapy=answers.any_prior_therapy if answers is not None else None,
        prior_therapies=tuple(
            PriorTherapyRow(
                agent_class=row.agent_class,
                agent=row.agent,
                regimen=row.regimen,
                setting=row.setting or None,
                line=row.line,
                start=row.start_date,
                last_dose=row.last_dose_date,
                ongoing=row.ongoing,
                cycles=row.cycles,
                progression=row.progression,
                toxicity_recovered=row.toxicity_recovered,
                toxicity_grade=row.toxicity_grade,
                toxicity_ctcae=row.toxicity_ctcae or None,
            )
            for row in _done(PriorTherapy, subject).order_by("created")
        ),
        any_condition=answers.any_condition if answers is not None else None,
        conditions=tuple(
            ConditionRow(
                category=row.category, term=row.term, onset=row.onset, end=row.end, ongoing=row.ongoing
            )
            for row in _done(MedicalHistory, subject).order_by("created")
        ),
        medication_answers=medication_answers,
        medication_window_days=window_days,
        medications=tuple(
            MedicationRow(
                category=row.category,
                agent=row.agent,
                start=row.start,
                stop=row.stop,
                ongoing=row.ongoing,
                dose=row.dose,
                dose_unit=row.dose_unit,
                route=row.route,
            )
            for row in _done(ConcomitantMedication, subject).order_by("created")
        ),
        confirmations=confirmations,
        confirm_unstructured=unstructured,
    )


def _with_lesions(disease: DiseaseBaseline | None, subject: Any) -> DiseaseBaseline | None:
    """Measurable disease from the baseline lesions once any is recorded (RECIST 1.1 judged by the
    engine at entry, edc/tumors); until then the disease baseline form's own answer."""
    from edc.tumors.selectors import measurable_disease

    measurable = measurable_disease(subject)
    if measurable is None:
        return disease
    return dataclasses.replace(disease or DiseaseBaseline(), measurable=measurable)


def _disease(row: Any) -> DiseaseBaseline:
    return DiseaseBaseline(
        primary_site=row.primary_site or None,
        histology=row.histology or None,
        histology_confirmation=row.histology_confirmation or None,
        setting=row.setting or None,
        measurable=row.measurable,
        hpv_status=row.hpv_status or None,
        hpv_method=row.hpv_method or None,
        diagnosis=row.diagnosis_date,
        surgery=row.surgery,
        surgery_date=row.surgery_date,
        surgery_type=row.surgery_type or None,
        neck_dissection=row.neck_dissection,
        recurrence=row.recurrence,
        recurrence_date=row.recurrence_date,
        recurrence_confirmation=row.recurrence_confirmation or None,
        recurrence_imaging_count=row.recurrence_imaging_count,
        metastasis_excluded=row.metastasis_excluded,
        metastasis_method=row.metastasis_method or None,
    )


def evaluate_record(study: Any, record: ScreeningRecord, as_of: dt.date) -> dict[str, Any]:
    """The engine's answer on a record: the object `eligibility_evaluate` prints for a case."""
    return evaluate(study_criteria(study), record.patient(), as_of).to_dict()


def subject_eligibility(subject: Any, as_of: dt.date) -> dict[str, Any]:
    """The live checklist: per criterion met / not met / needs review with the reason and values."""
    return evaluate_record(subject.study, screening_record(subject, as_of), as_of)


# --- decisions -----------------------------------------------------------------------------------


def criteria_json(study: Any) -> list[dict[str, Any]]:
    return [
        {"kind": row.kind, "number": str(row.number), "text": row.text, "rule": row.rule}
        for row in criterion_rows(study)
    ]


def fingerprint(inputs: Any, criteria: Any) -> str:
    text = json.dumps({"inputs": inputs, "criteria": criteria}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def current_decision(subject: Any) -> Any:
    """The subject's latest signed screening outcome (voided ones do not count), or None."""
    from edc.eligibility.models import EligibilityDecision

    return (
        EligibilityDecision.objects.active()
        .filter(subject=subject)
        .order_by("-decided_at", "-created")
        .first()
    )


@dataclass(frozen=True)
class DecisionState:
    stale: bool
    changed: tuple[str, ...] = ()  # the parts of the data (or "criteria") that changed


def decision_state(decision: Any) -> DecisionState:
    """Whether a signed decision still stands on the stored data: it is stale once they differ."""
    subject = decision.subject
    now = record_json(screening_record(subject, decision.as_of))
    criteria = criteria_json(subject.study)
    if fingerprint(now, criteria) == decision.fingerprint:
        return DecisionState(stale=False)
    changed = [
        key for key in sorted(set(now) | set(decision.inputs)) if now.get(key) != decision.inputs.get(key)
    ]
    if criteria != decision.criteria:
        changed.append("criteria")
    return DecisionState(stale=True, changed=tuple(changed) or ("data",))


def lab_values(subject: Any) -> list[LabValue]:
    """The subject's lab results as the system's one lab value (CTCAE grading and edit checks)."""
    from edc.forms.models import LabResult

    return [row.as_value() for row in _done(LabResult, subject).order_by("date", "created")]
