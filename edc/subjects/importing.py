"""`screening_import`: screening logs in the eligibility case format, stored through the services.

Each case becomes a subject at its site, screened on the day of its consent, with the consent it
states, its vitals and ECOG (dated the day of consent: the format gives them no date), its lab rows,
pregnancy test, disease baseline, prior therapies, medical history and medications, the explicit
history answers its whole-history rule implies (docs/journey.md), and the investigator's
confirmations as confirmations. Every row goes through the same services as the admin and the API,
so every rule of theirs applies (a lab needs a known unit and a date, no procedure before consent).
The file is imported all or nothing.
"""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext

from edc.consent import services as consent_services
from edc.consent.selectors import versions_in_effect
from edc.eligibility import services as eligibility_services
from edc.eligibility.casefile import EligibilityCaseIn
from edc.eligibility.record import ScreeningRecord
from edc.eligibility.selectors import StudyNotFound, study_lookup
from edc.forms import services as forms
from edc.forms.models import HistoryAnswers
from edc.inputs.cases import CaseError, read_case
from edc.subjects import services as subjects
from edc.subjects.models import Subject


def _located(where: str, call: Callable[[], Any]) -> Any:
    """Run a service; its refusal becomes the case's error at `where` (labs[2].unit, consent ...)."""
    try:
        return call()
    except ValidationError as exc:
        problems: list[tuple[str | None, str]] = []
        if hasattr(exc, "error_dict"):
            for field, messages in exc.message_dict.items():
                name = where if field in ("__all__",) else (f"{where}.{field}" if where else field)
                problems.extend((name, message) for message in messages)
        else:
            problems.extend((where or None, message) for message in exc.messages)
        raise CaseError(problems) from None
    except PermissionDenied as exc:
        raise CaseError.at(where or None, str(exc)) from None


def _site(study: Any, code: str | None) -> Any:
    sites = list(study.sites.all())
    if code is None:
        if len(sites) != 1:
            raise CaseError.at("site", gettext("the study has several sites: give the site code"))
        return sites[0]
    for site in sites:
        if site.code == code:
            return site
    raise CaseError.at(
        "site", gettext("no site {code!r} in study {study}").format(code=code, study=study.protocol_id)
    )


def _signed_at(moment: dt.datetime, site: Any) -> dt.datetime:
    if moment.tzinfo is None:
        # A time without an offset is the site's local time.
        return moment.replace(tzinfo=zoneinfo.ZoneInfo(site.time_zone))
    return moment


def import_case(raw: Any, *, user: Any, source: str) -> Subject:
    """Store one case; raises CaseError naming the case's fields. Call inside a transaction."""
    model = read_case(EligibilityCaseIn, raw)
    case = model.to_case()
    if case.warnings:
        raise CaseError(
            [(w.split(":", 1)[0], "cannot be stored: " + w.split(":", 1)[-1].strip()) for w in case.warnings]
        )
    record = case.record
    assert record is not None
    try:
        study = study_lookup(case.study)
    except StudyNotFound as exc:
        raise CaseError.at("study", str(exc)) from None
    site = _site(study, model.site)
    if model.consent is None:
        raise CaseError.at("consent", gettext("required to import: the signed consent (signed_at)"))
    signed_at = _signed_at(model.consent.signed_at, site)
    day = signed_at.astimezone(zoneinfo.ZoneInfo(site.time_zone)).date()
    if day > case.as_of:
        raise CaseError.at("consent.signed_at", gettext("is after the planned first dose (as_of)"))
    version = _consent_version(study, model, day)
    obtained_by = model.consent.obtained_by
    if record.sex is None:
        raise CaseError.at("subject.sex", gettext("required to import"))
    if record.birth_year is None:
        raise CaseError.at("subject.birth_year", gettext("required to import"))
    sex = record.sex  # narrowed above; a lambda does not see the narrowing
    subject = _located(
        "subject",
        lambda: subjects.subject_screen(
            user=user,
            study=study,
            site=site,
            sex=sex,
            birth_date=str(record.birth_year),
            screening_date=day,
        ),
    )
    _located(
        "consent",
        lambda: consent_services.consent_sign(
            user=user,
            subject=subject,
            version=version,
            signed_at=signed_at,
            obtained_by=obtained_by or gettext("not recorded (imported from {file})").format(file=source),
        ),
    )
    _store_record(record, subject=subject, user=user, day=day)
    return subject


def _consent_version(study: Any, model: EligibilityCaseIn, day: dt.date) -> Any:
    consent = model.consent
    assert consent is not None
    if consent.version is not None:
        named = consent.version
        return _located(
            "consent.version",
            lambda: consent_services.consent_version_lookup(
                study=study, version=named, language=consent.language
            ),
        )
    current = [v for v in versions_in_effect(study, day) if consent.language in (None, v.language)]
    if len(current) != 1:
        raise CaseError.at(
            "consent.version",
            gettext("{n} consent versions were in effect on {day}: name the version").format(
                n=len(current), day=day
            ),
        )
    return current[0]


def _store_record(record: ScreeningRecord, *, subject: Subject, user: Any, day: dt.date) -> None:
    vitals = record.vitals
    if any(getattr(vitals, name) is not None for name in vitals.__dataclass_fields__):
        _located(
            "vitals",
            lambda: forms.vital_signs_create(user=user, subject=subject, date=day, **vitals.__dict__),
        )
    if record.ecog is not None:
        _located("ecog", lambda: forms.ecog_create(user=user, subject=subject, date=day, ecog=record.ecog))
    for index, row in enumerate(record.labs):
        lab = row.lab
        where = f"labs[{index}]"
        if lab.date is None:
            raise CaseError.at(f"{where}.date", gettext("required to store a lab result"))
        _located(
            where,
            functools.partial(
                forms.lab_result_create,
                user=user,
                subject=subject,
                date=lab.date,
                test=lab.test,
                value=lab.value,
                unit=lab.unit or "",
                lln=lab.lln,
                uln=lab.uln,
                clinically_significant=row.clinically_significant,
            ),
        )
    test = record.pregnancy_test
    if test is not None:
        if test.date is None:
            raise CaseError.at("pregnancy_test.date", gettext("required to store the test"))
        _located(
            "pregnancy_test",
            functools.partial(
                forms.pregnancy_test_create,
                user=user,
                subject=subject,
                date=test.date,
                result=test.result,
                specimen=test.specimen or "",
            ),
        )
    disease = record.disease
    if disease is not None:
        items: dict[str, Any] = {
            "diagnosis_date": disease.diagnosis,
            "primary_site": disease.primary_site or "",
            "histology": disease.histology or "",
            "histology_confirmation": disease.histology_confirmation or "",
            "setting": disease.setting or "",
            "measurable": disease.measurable,
            "hpv_status": disease.hpv_status or "",
            "hpv_method": disease.hpv_method or "",
            "surgery": disease.surgery,
            "surgery_date": disease.surgery_date,
            "surgery_type": disease.surgery_type or "",
            "neck_dissection": disease.neck_dissection,
            "recurrence": disease.recurrence,
            "recurrence_date": disease.recurrence_date,
            "recurrence_confirmation": disease.recurrence_confirmation or "",
            "recurrence_imaging_count": disease.recurrence_imaging_count,
            "metastasis_excluded": disease.metastasis_excluded,
            "metastasis_method": disease.metastasis_method or "",
        }
        _located("disease", lambda: forms.disease_baseline_create(user=user, subject=subject, **items))
    for index, therapy in enumerate(record.prior_therapies):
        _located(
            f"prior_therapies[{index}]",
            functools.partial(
                forms.prior_therapy_create,
                user=user,
                subject=subject,
                regimen=therapy.regimen,
                agent=therapy.agent,
                agent_class=therapy.agent_class,
                setting=therapy.setting or "",
                line=therapy.line,
                start_date=therapy.start,
                last_dose_date=therapy.last_dose,
                ongoing=therapy.ongoing,
                cycles=therapy.cycles,
                progression=therapy.progression,
                toxicity_recovered=therapy.toxicity_recovered,
                toxicity_grade=therapy.toxicity_grade,
                toxicity_ctcae=therapy.toxicity_ctcae or "",
            ),
        )
    for index, condition in enumerate(record.conditions):
        _located(
            f"medical_history[{index}]",
            functools.partial(
                forms.medical_history_create,
                user=user,
                subject=subject,
                term=condition.term,
                category=condition.category,
                onset=condition.onset,
                end=condition.end,
                ongoing=condition.ongoing,
            ),
        )
    for index, medication in enumerate(record.medications):
        _located(
            f"medications[{index}]",
            functools.partial(
                forms.concomitant_medication_create,
                user=user,
                subject=subject,
                agent=medication.agent,
                category=medication.category,
                start=medication.start,
                stop=medication.stop,
                ongoing=medication.ongoing,
                dose=medication.dose,
                dose_unit=medication.dose_unit,
                route=medication.route,
            ),
        )
    answers: dict[str, Any] = {
        "any_prior_therapy": record.any_prior_therapy,
        "any_condition": record.any_condition,
        **{
            field: record.medication_answers.get(topic)
            for topic, field in HistoryAnswers.MEDICATION_ANSWERS.items()
        },
        "medication_window_weeks": None
        if record.medication_window_days is None
        else record.medication_window_days // 7,
    }
    _located("history", lambda: forms.history_answers_create(user=user, subject=subject, **answers))
    if record.confirmations or record.confirm_unstructured:
        _located(
            "confirmations",
            lambda: eligibility_services.eligibility_confirm(
                user=user,
                subject=subject,
                confirmations=dict(record.confirmations),
                confirm_unstructured=True if record.confirm_unstructured else None,
                comment=gettext("imported with the screening log"),
            ),
        )
