"""Reads of the form rows: a subject's procedures, the registry's plausible ranges, and what the
endpoints read from the after-treatment forms (contract C3: death_of, survival_facts, pdl1_status)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID

from edc.core.imputation import impute
from edc.core.partial_dates import PartialDate
from edc.forms import codes
from edc.forms.models import (
    PROCEDURE_FORMS,
    Biomarker,
    Death,
    EcogAssessment,
    LabResult,
    PregnancyTest,
    SubsequentTherapy,
    SurvivalFollowUp,
    VitalSigns,
)

PROCEDURE_MODELS = (VitalSigns, EcogAssessment, LabResult, PregnancyTest)


def first_procedure_before(subject: Any, day: dt.date) -> tuple[str, dt.date] | None:
    """The earliest screening procedure of the subject dated before `day` ((form code, date)), or None.

    A procedure the study lets sites reuse from before consent (EnrollmentRules.
    procedures_before_consent) is not counted; none of these four forms is such one in any seed.
    """
    from edc.subjects.models import enrollment_rules

    reusable = {
        code for rule in enrollment_rules(subject.study).procedures_before_consent for code in rule["forms"]
    }
    found: list[tuple[dt.date, str]] = []
    for model in PROCEDURE_MODELS:
        if model.form_code in reusable:
            continue
        row = (
            model.objects.active()
            .filter(subject=subject, date__lt=day)
            .order_by("date")
            .values_list("date", flat=True)
            .first()
        )
        if row is not None:
            found.append((row, model.form_code))
    if not found:
        return None
    day_found, code = min(found)
    return code, day_found


def registry_form(form_code: str) -> tuple[str, dict[str, tuple[Decimal | None, Decimal | None]]]:
    """The form's current registry version and {item code: (low, high)} plausible ranges (one query)."""
    from studies.models import FormItem

    rows = FormItem.objects.filter(form__code=form_code, form__is_current=True).values_list(
        "form__version", "code", "range_low", "range_high"
    )
    version = ""
    ranges: dict[str, tuple[Decimal | None, Decimal | None]] = {}
    for form_version, code, low, high in rows:
        version = form_version
        if low is not None or high is not None:
            ranges[code] = (low, high)
    return version, ranges


# --- after treatment: death, survival facts, PD-L1 status (contract C3) -------------------------


def death_of(subject: Any) -> Death | None:
    """The subject's death form (one active row at most), or None. One query."""
    return Death.objects.active().filter(subject=subject).first()


# Visits whose day shows the subject alive and assessed on study (a survival follow-up visit is a
# contact: its form says how the subject was, FU's last_known_alive).
ASSESSED_VISIT_KINDS_EXCLUDED = ("survival_follow_up",)


def known_alive_dates(subject_ids: Iterable[UUID]) -> dict[UUID, tuple[dt.date, str]]:
    """Per subject, the last date known alive and where it comes from: follow-up contacts (their
    last-known-alive date; a contact finding the subject alive), visits done. Two queries."""
    from django.db.models import Max

    from edc.visits.models import Visit, VisitStatus

    ids = list(subject_ids)
    found: dict[UUID, tuple[dt.date, str]] = {}

    def offer(subject_id: UUID, day: dt.date | None, source: str) -> None:
        if day is not None and (subject_id not in found or day > found[subject_id][0]):
            found[subject_id] = (day, source)

    for subject_id, last in (
        Visit.objects.active()
        .filter(subject_id__in=ids, status=VisitStatus.DONE, visit_date__isnull=False)
        .values("subject_id")
        .annotate(last=Max("visit_date"))
        .values_list("subject_id", "last")
    ):
        offer(subject_id, last, "visit")
    for subject_id, alive, contact, status in (
        SurvivalFollowUp.objects.active()
        .filter(subject_id__in=ids, not_done_reason="")
        .values_list("subject_id", "last_known_alive", "contact_date", "vital_status")
    ):
        offer(subject_id, alive, "follow-up")
        if status == codes.ALIVE:
            offer(subject_id, contact, "follow-up")
    return found


@dataclass(frozen=True)
class SurvivalFacts:
    """What OS and PFS read from the after-treatment forms for one subject.

    Dates known only in part are imputed by edc/core/imputation.py (missing day: the first of the
    month, never before the floor); `imputed` names the fields that were, `notes` says how, and
    `conflicts` names the fields whose recorded period lies wholly before their floor (a query).
    """

    death_date: dt.date | None
    new_anticancer_therapy_date: dt.date | None
    last_known_alive_date: dt.date | None
    imputed: tuple[str, ...] = ()
    death_date_recorded: str = ""
    new_anticancer_therapy_recorded: str = ""
    death_cause: str = ""
    lost_to_follow_up: bool = False
    notes: tuple[str, ...] = ()
    conflicts: tuple[str, ...] = ()


def survival_facts(subject_ids: Iterable[UUID]) -> dict[UUID, SurvivalFacts]:
    """SurvivalFacts for each subject id given (every id answered). Six queries, whatever the number
    of subjects: deaths, subsequent therapies, follow-up contacts (twice: the dates known alive and
    the last status), visits done (twice: the last day alive, the last assessment on study).

    Floors: the death date is never imputed before the last date known alive; a new anticancer
    therapy's start never before the last visit done on study (the last assessment), survival
    follow-up visits aside.
    """
    from django.db.models import Max

    from edc.visits.models import Visit, VisitStatus

    ids = list(dict.fromkeys(subject_ids))
    alive = known_alive_dates(ids)
    assessed = dict(
        Visit.objects.active()
        .filter(subject_id__in=ids, status=VisitStatus.DONE, visit_date__isnull=False)
        .exclude(kind__in=ASSESSED_VISIT_KINDS_EXCLUDED)
        .values("subject_id")
        .annotate(last=Max("visit_date"))
        .values_list("subject_id", "last")
    )
    deaths = {
        subject_id: (day, cause)
        for subject_id, day, cause in Death.objects.active()
        .filter(subject_id__in=ids)
        .values_list("subject_id", "death_date", "cause")
    }
    therapies: dict[UUID, PartialDate] = {}
    for subject_id, start in (
        SubsequentTherapy.objects.active()
        .filter(subject_id__in=ids, not_done_reason="", start_date__isnull=False)
        .values_list("subject_id", "start_date")
    ):
        # The earliest possible start first (partial dates compare by their earliest day).
        if subject_id not in therapies or start.earliest() < therapies[subject_id].earliest():
            therapies[subject_id] = start
    last_status: dict[UUID, str] = {}
    for subject_id, status in (
        SurvivalFollowUp.objects.active()
        .filter(subject_id__in=ids, not_done_reason="")
        .order_by("subject_id", "contact_date", "created")
        .values_list("subject_id", "vital_status")
    ):
        last_status[subject_id] = status
    result: dict[UUID, SurvivalFacts] = {}
    for subject_id in ids:
        imputed: list[str] = []
        notes: list[str] = []
        conflicts: list[str] = []
        alive_day = alive.get(subject_id, (None, ""))[0]
        death_day = None
        death_recorded = cause = ""
        if subject_id in deaths:
            recorded, cause = deaths[subject_id]
            death = impute(recorded, floor=alive_day, floor_label="the last date known alive")
            death_day, death_recorded = death.date, death.recorded
            if death.imputed:
                imputed.append("death_date")
                notes.append(f"death_date: {death.description}")
            if death.conflict:
                conflicts.append("death_date")
        therapy_day = None
        therapy_recorded = ""
        if subject_id in therapies:
            start = impute(
                therapies[subject_id],
                floor=assessed.get(subject_id),
                floor_label="the last assessment on study",
            )
            therapy_day, therapy_recorded = start.date, start.recorded
            if start.imputed:
                imputed.append("new_anticancer_therapy_date")
                notes.append(f"new_anticancer_therapy_date: {start.description}")
            if start.conflict:
                conflicts.append("new_anticancer_therapy_date")
        result[subject_id] = SurvivalFacts(
            death_date=death_day,
            new_anticancer_therapy_date=therapy_day,
            last_known_alive_date=alive_day,
            imputed=tuple(imputed),
            death_date_recorded=death_recorded,
            new_anticancer_therapy_recorded=therapy_recorded,
            death_cause=cause,
            lost_to_follow_up=last_status.get(subject_id) == codes.LOST,
            notes=tuple(notes),
            conflicts=tuple(conflicts),
        )
    return result


PDL1_WORDS = {codes.POSITIVE: "positive", codes.NEGATIVE: "negative"}


def pdl1_status(subject_ids: Iterable[UUID]) -> dict[UUID, str]:
    """ "positive" / "negative" per subject by the study's cut-off (derived at entry, stored with the
    cut-off used); subjects without a PD-L1 status are absent. A subject's first PD-L1 result with a
    status (the baseline reading) counts. One query."""
    found: dict[UUID, str] = {}
    for subject_id, status in (
        Biomarker.objects.active()
        .filter(subject_id__in=list(subject_ids), test=codes.PDL1, not_done_reason="")
        .exclude(pdl1_status="")
        .order_by("subject_id", "date", "created")
        .values_list("subject_id", "pdl1_status")
    ):
        found.setdefault(subject_id, PDL1_WORDS[status])
    return found


__all__ = [
    "PROCEDURE_FORMS",
    "SurvivalFacts",
    "death_of",
    "first_procedure_before",
    "known_alive_dates",
    "pdl1_status",
    "registry_form",
    "survival_facts",
]
