"""Writes of the safety app: loading a CTCAE term list into the dictionary table; adverse events with
their grade history and attributions, SAE reports, baseline signs, AEs proposed from lab values."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from edc.consent.selectors import first_consent_date
from edc.core.exceptions import ReasonRequired, StaleRecord
from edc.core.models import Capability, ReasonCode
from edc.core.scoping import has_capability
from edc.core.services import ChangeReason, record_save, record_void
from edc.datamanagement.services import edit_checks_run_for
from edc.forms.models import LabResult
from edc.forms.selectors import registry_form
from edc.safety import ae_rules as rules
from edc.safety.ctcae import TermText
from edc.safety.lab_terms import terms_for
from edc.safety.models import (
    RULE_OUTCOMES,
    SERIOUSNESS_FIELDS,
    ActionTaken,
    AdverseEvent,
    AeAttribution,
    AeGrade,
    BaselineSign,
    CtcaeTerm,
    LabAeProposal,
    ProposalStatus,
    Relatedness,
    SaeReport,
)
from edc.safety.sae import SaeClockInput
from edc.safety.selectors import (
    AgentsReceived,
    LabGrade,
    agents_received_for,
    baseline_grades,
    death_date_of,
    lab_grades,
    term_text,
)
from edc.subjects.access import require_write
from edc.visits.models import Visit, VisitStatus
from edc.visits.selectors import first_dose_date, last_dose_date

_FIELDS = (
    "soc",
    "term",
    "grade_1",
    "grade_2",
    "grade_3",
    "grade_4",
    "grade_5",
    "definition",
    "navigational_note",
    "change_note",
)


@dataclass(frozen=True)
class CtcaeLoad:
    created: int
    updated: int
    unchanged: int
    not_in_file: list[str]  # MedDRA codes stored for the version but absent from the file


def _values(term: TermText) -> dict[str, Any]:
    return {
        "soc": term.soc,
        "term": term.term,
        **{f"grade_{n}": term.grades[n - 1] for n in range(1, 6)},
        "definition": term.definition,
        "navigational_note": term.navigational_note,
        "change_note": term.change_note,
    }


@transaction.atomic
def ctcae_terms_load(*, terms: Sequence[TermText], version: str) -> CtcaeLoad:
    """Store the terms of one CTCAE version; idempotent (a second load changes nothing).

    Terms of other versions are untouched. Terms are never deleted (adverse events may point at
    them): a code stored for the version but no longer in the file is reported in ``not_in_file``.
    """
    created = updated = unchanged = 0
    existing = {t.meddra_code: t for t in CtcaeTerm.objects.filter(version=version)}
    incoming = {t.meddra_code for t in terms}
    stale = sorted(code for code in existing if code not in incoming)
    new_rows = []
    for term in terms:
        values = _values(term)
        row = existing.get(term.meddra_code)
        if row is None:
            new_rows.append(CtcaeTerm(version=version, meddra_code=term.meddra_code, **values))
            created += 1
        elif any(getattr(row, name) != values[name] for name in _FIELDS):
            for name in _FIELDS:
                setattr(row, name, values[name])
            row.save()
            updated += 1
        else:
            unchanged += 1
    CtcaeTerm.objects.bulk_create(new_rows)
    return CtcaeLoad(created=created, updated=updated, unchanged=unchanged, not_in_file=stale)


# --- adverse events (issue 20) -------------------------------------------------------------------
#
# One service per write; the API, the admin and the proposals call them. Every rule of one record is
# edc/safety/ae_rules.py's (validate_ae, validate_grade_history, classify_collection,
# validate_attributions, assess_susar, treatment_emergence): this module gathers the facts the rules
# need (consent, first and last dose, the agents received, the baseline grade, the site's today) and
# refuses with every error at once, keyed by field.

RELATEDNESS_ORDER = [r.value for r in Relatedness]
# Strongest first: the action the AE row summarises (AEACN) is the strongest over the agents.
ACTION_STRENGTH = ["WITHDRAWN", "INTERRUPTED", "REDUCED", "DELAYED", "NONE", "NA"]
SERIOUS_CODES = {"Y": True, "N": False}


@dataclass(frozen=True)
class AttributionIn:
    """The AE's relatedness to one agent, the action taken with it, and its expectedness."""

    agent: str
    relatedness: str
    action: str = ActionTaken.NONE
    expected: bool | None = None


@dataclass(frozen=True)
class GradeIn:
    on: dt.date
    grade: int


def _messages(errors: Sequence[rules.FieldError]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for error in errors:
        found.setdefault(error.field, []).append(_translated(error))
    return found


def _translated(error: rules.FieldError) -> str:
    # The pure rules speak English; the messages a site reads most are translated by code.
    known = {
        "verbatim_required": gettext("An 'Other, specify' term needs the verbatim name of the event."),
        "grade5_not_fatal": gettext("A grade 5 AE (death) has the outcome fatal."),
        "fatal_not_grade5": gettext("A fatal outcome is grade 5 (death related to the AE)."),
        "criterion_required": gettext("A serious AE needs at least one seriousness criterion (ICH E2A)."),
        "death_date_required": gettext("A grade 5 AE needs the date of death."),
    }
    return known.get(error.code, error.message)


def _grade_message(term: CtcaeTerm, value: int, field_name: str = "grade") -> dict[str, list[str]] | None:
    if value in term.allowed_grades():
        return None
    valid = ", ".join(f"{n} ({term.grade_text(n)})" for n in term.allowed_grades())
    return {
        field_name: [
            gettext("Grade {grade} does not exist for {term}; valid grades: {valid}.").format(
                grade=value, term=term.term, valid=valid
            )
        ]
    }


def _ae_visit(subject: Any, onset: dt.date, visit: Visit | None) -> Visit:
    """The visit an AE is filed under: the one named, else the last visit done on or before onset,
    else the screening visit (the AE log belongs to the subject; see the model's comment)."""
    if visit is not None:
        if visit.subject_id != subject.pk or visit.is_voided:
            raise ValidationError({"visit": [gettext("The visit is another subject's.")]})
        return visit
    done = (
        Visit.objects.active()
        .filter(subject=subject, status=VisitStatus.DONE, visit_date__lte=onset)
        .order_by("-visit_date", "-order")
        .first()
    )
    if done is not None:
        return done
    from edc.visits.services import screening_visit

    found = screening_visit(subject)
    if found is None:
        raise ValidationError({"visit": [gettext("The subject has no screening visit: name the visit.")]})
    return found


def _period(study: Any) -> rules.CollectionPeriod:
    return rules.CollectionPeriod(
        start=study.ae_collection_start,
        sae_start=study.sae_collection_start,
        end_days_after_last_dose=study.ae_collection_end_days_after_last_dose,
        irae_end_days_after_last_dose=study.irae_collection_end_days_after_last_dose,
    )


def study_asks_immune_related(study: Any) -> bool:
    """Whether the study asks the immune-related flag: the trials of PD-1 and PD-1/CTLA-4 antibodies,
    the studies whose definition sets an immune-related AE window (docs/safety.md)."""
    return study.irae_collection_end_days_after_last_dose is not None


def _attribution_errors(
    attributions: Sequence[AttributionIn], received: AgentsReceived
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    named = {a.agent for a in attributions}
    wanted = list(received.required)
    for group in received.choose_one:
        chosen = [agent for agent in group if agent in named]
        if len(chosen) == 1:
            wanted.append(chosen[0])
        else:
            errors.setdefault("attributions", []).append(
                gettext("Attribute the AE to the one of {agents} the subject received.").format(
                    agents=", ".join(group)
                )
            )
            wanted.extend(chosen)
    items = [rules.Attribution(a.agent, a.relatedness.lower(), a.expected) for a in attributions]
    for error in rules.validate_attributions(items, received=wanted):
        errors.setdefault(error.field, []).append(error.message)
    for index, item in enumerate(attributions):
        if item.action not in ActionTaken.values:
            errors.setdefault(f"attributions[{index}].action", []).append(
                gettext("{value!r} is not one of {choices}.").format(
                    value=item.action, choices=", ".join(ActionTaken.values)
                )
            )
        if item.relatedness not in Relatedness.values:
            errors.setdefault(f"attributions[{index}].relatedness", []).append(
                gettext("{value!r} is not one of {choices}.").format(
                    value=item.relatedness, choices=", ".join(Relatedness.values)
                )
            )
    return errors


@dataclass
class _Assessed:
    worst: rules.GradeEntry
    decision: rules.CollectionDecision
    emergent: rules.Emergence
    susar: rules.SusarAssessment
    received: AgentsReceived


def _assess(ae: AdverseEvent, history: Sequence[GradeIn], attributions: Sequence[AttributionIn]) -> _Assessed:
    """Every rule on the AE as it would be stored; raises ValidationError with every error."""
    subject, study = ae.subject, ae.study
    term = ae.ctcae_term
    errors: dict[str, list[str]] = {}
    if term.version != study.ctcae_version:
        errors["ctcae_term"] = [
            gettext("The study grades by CTCAE v{study}; {term} is a v{version} term.").format(
                study=study.ctcae_version, term=term.term, version=term.version
            )
        ]
    if not history:
        errors["grade"] = [gettext("Give the grade at onset.")]
        raise ValidationError(errors)
    ae_term = rules.AeTerm.of(term_text(term))
    entries = [rules.GradeEntry(g.on, g.grade) for g in history]
    for index, entry in enumerate(history):
        problem = _grade_message(
            term, entry.grade, "grade" if len(history) == 1 else f"grades[{index}].grade"
        )
        if problem:
            for key, value in problem.items():
                errors.setdefault(key, []).extend(value)
    for error in rules.validate_grade_history(ae_term, entries, onset=ae.onset):
        if error.code not in ("grade_range", "grade_not_available"):
            errors.setdefault(error.field, []).append(error.message)
    worst = rules.worst_grade(entries)
    assert worst is not None
    today = ae.site.today()
    record = rules.AeRecord(
        term=ae_term,
        grade=worst.grade,
        onset=ae.onset,
        verbatim=ae.verbatim,
        resolution=ae.resolution,
        outcome=RULE_OUTCOMES.get(ae.outcome, ae.outcome),
        serious=ae.is_serious,
        seriousness=ae.seriousness(),
        death_date=ae.death_date,
    )
    for error in rules.validate_ae(record, today=today):
        if error.code in ("grade_range", "grade_not_available"):
            continue  # said above with the grades' text
        field_name = {"seriousness": "serious"}.get(error.field, error.field)
        errors.setdefault(field_name, []).append(_translated(error))
    if not ae.outcome:
        errors.setdefault("outcome", []).append(gettext("Give the outcome."))
    now = timezone.now()
    for name in ("site_aware_at", "sponsor_aware_at", "susar_initial_reported_at", "susar_full_reported_at"):
        value = getattr(ae, name)
        if value is not None and value > now:
            errors.setdefault(name, []).append(gettext("This time is in the future."))
    if ae.is_serious and ae.site_aware_at is None:
        errors.setdefault("site_aware_at", []).append(
            gettext("A serious AE records when the site became aware of it (the 24-hour clock runs from it).")
        )
    asks = study_asks_immune_related(study)
    if asks and ae.immune_related not in ("Y", "N"):
        errors.setdefault("immune_related", []).append(
            gettext("Say whether the AE is immune-related (asked in this study's PD-1 trial).")
        )
    if not asks and ae.immune_related == "Y":
        errors.setdefault("immune_related", []).append(
            gettext("This study gives no immune-checkpoint antibody: the flag is not asked.")
        )
    consent = first_consent_date(subject)
    decision = rules.CollectionDecision(rules.ACCEPTED, rules.ON_TREATMENT, "")
    if consent is None:
        errors.setdefault("subject", []).append(
            gettext("The subject has no signed consent: nothing is collected.")
        )
    else:
        decision = rules.classify_collection(
            onset=ae.onset,
            serious=ae.is_serious,
            consent=consent,
            first_dose=first_dose_date(subject),
            last_dose=last_dose_date(subject),
            period=_period(study),
            immune_related=ae.immune_related == "Y",
        )
        if decision.status == rules.REFUSED:
            if decision.category == rules.MEDICAL_HISTORY:
                message = gettext(
                    "Onset {onset} is before informed consent ({consent}): record it as medical history, "
                    "not as an adverse event."
                ).format(onset=ae.onset, consent=consent)
            else:
                message = gettext(
                    "Onset {onset} is before the first dose and this study collects these AEs from the first "
                    "dose: record it as a baseline sign or symptom."
                ).format(onset=ae.onset)
            errors.setdefault("onset", []).append(message)
    received = agents_received_for(subject, on=max(ae.onset, today))
    if decision.category == rules.PRE_TREATMENT:
        received = AgentsReceived(required=(), source=received.source)
    for key, value in _attribution_errors(attributions, received).items():
        errors.setdefault(key, []).extend(value)
    if errors:
        raise ValidationError(errors)
    baseline = baseline_grades(subject).get(term.pk)
    emergent = rules.treatment_emergence(
        history=entries, first_dose=first_dose_date(subject), baseline_grade=baseline
    )
    susar = rules.assess_susar(
        serious=ae.is_serious,
        attributions=[rules.Attribution(a.agent, a.relatedness.lower(), a.expected) for a in attributions],
    )
    return _Assessed(worst, decision, emergent, susar, received)


def _apply_derived(ae: AdverseEvent, assessed: _Assessed, attributions: Sequence[AttributionIn]) -> None:
    ae.term = ae.ctcae_term.term
    ae.meddra_code = ae.ctcae_term.meddra_code
    ae.worst_grade = str(assessed.worst.grade)
    ae.collection_category = assessed.decision.category
    ae.after_period = assessed.decision.flagged
    ae.treatment_emergent = assessed.emergent.emergent
    ae.susar = assessed.susar.susar
    ordered = sorted(attributions, key=lambda a: a.agent)
    ae.attribution_summary = "; ".join(f"{a.agent}={a.relatedness}/{a.action}" for a in ordered)
    if ordered:
        ae.relatedness = max((a.relatedness for a in ordered), key=RELATEDNESS_ORDER.index)
        ae.action_taken = min((a.action for a in ordered), key=ACTION_STRENGTH.index)
    else:
        ae.relatedness = Relatedness.UNRELATED  # nothing received yet: no study agent to relate it to
        ae.action_taken = ActionTaken.NA


def _sync_children(
    *,
    user: Any,
    ae: AdverseEvent,
    history: Sequence[GradeIn],
    attributions: Sequence[AttributionIn],
    received: AgentsReceived,
    reason: ChangeReason | None,
) -> None:
    """The AE's grade history and attributions as given: new rows created, changed rows saved with
    the reason, rows no longer given voided (their history stays)."""
    change = reason or ChangeReason(ReasonCode.OTHER, gettext("adverse event updated"))
    grades = {g.on: g for g in AeGrade.objects.active().filter(adverse_event=ae)}
    for entry in history:
        row = grades.pop(entry.on, None)
        if row is None:
            record_save(
                AeGrade(study=ae.study, site=ae.site, adverse_event=ae, on=entry.on, grade=entry.grade),
                user=user,
            )
        elif row.grade != entry.grade:
            row.grade = entry.grade
            record_save(row, user=user, reason=change)
    for row in grades.values():
        record_void(row, user=user, reason=change)
    stored = {a.agent: a for a in AeAttribution.objects.active().filter(adverse_event=ae)}
    for item in attributions:
        row = stored.pop(item.agent, None)
        values = {"relatedness": item.relatedness, "action": item.action, "expected": item.expected}
        if row is None:
            record_save(
                AeAttribution(
                    study=ae.study,
                    site=ae.site,
                    adverse_event=ae,
                    agent=item.agent,
                    intervention=received.interventions.get(item.agent),
                    **values,
                ),
                user=user,
            )
        elif any(getattr(row, k) != v for k, v in values.items()):
            for key, value in values.items():
                setattr(row, key, value)
            record_save(row, user=user, reason=change)
    for row in stored.values():
        record_void(row, user=user, reason=change)


def _criteria_fields(serious: bool, seriousness: Iterable[str]) -> dict[str, Any]:
    criteria = set(seriousness)
    unknown = sorted(criteria - set(SERIOUSNESS_FIELDS))
    if unknown:
        raise ValidationError(
            {
                "seriousness": [
                    gettext("Not a seriousness criterion: {names} (one of {known}).").format(
                        names=", ".join(unknown), known=", ".join(SERIOUSNESS_FIELDS)
                    )
                ]
            }
        )
    values: dict[str, Any] = {field: name in criteria for name, field in SERIOUSNESS_FIELDS.items()}
    values["serious"] = "Y" if serious else "N"
    return values


def _immune(value: bool | str | None) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        return value
    return "Y" if value else "N"


@transaction.atomic
def adverse_event_create(
    *,
    user: Any,
    subject: Any,
    ctcae_term: CtcaeTerm,
    onset: dt.date,
    outcome: str,
    grade: int | None = None,
    grades: Sequence[GradeIn] | None = None,
    attributions: Sequence[AttributionIn] = (),
    verbatim: str = "",
    resolution: dt.date | None = None,
    serious: bool = False,
    seriousness: Iterable[str] = (),
    site_aware_at: dt.datetime | None = None,
    immune_related: bool | str | None = None,
    treatment_given: str = "",
    death_date: dt.date | None = None,
    visit: Visit | None = None,
    sponsor_aware_at: dt.datetime | None = None,
    susar_initial_reported_at: dt.datetime | None = None,
    susar_full_reported_at: dt.datetime | None = None,
) -> AdverseEvent:
    """Record an AE: the grade at onset (``grade``) or its grade history (``grades``, the first at
    onset), one attribution per agent received. A grade 5 AE without a date of death takes the death
    form's date (contract C3) when it has a complete one."""
    require_write(user, subject.site)
    if subject.is_voided:
        raise ValidationError({"subject": [gettext("The subject is voided.")]})
    history = list(grades) if grades else ([GradeIn(onset, grade)] if grade is not None else [])
    if death_date is None and any(g.grade == 5 for g in history):
        death_date = death_date_of(subject)
    ae = AdverseEvent(
        study=subject.study,
        site=subject.site,
        subject=subject,
        visit=_ae_visit(subject, onset, visit),
        ctcae_term=ctcae_term,
        onset=onset,
        resolution=resolution,
        verbatim=(verbatim or "").strip(),
        outcome=outcome,
        site_aware_at=site_aware_at,
        immune_related=_immune(immune_related),
        treatment_given=treatment_given or "",
        death_date=death_date,
        sponsor_aware_at=sponsor_aware_at,
        susar_initial_reported_at=susar_initial_reported_at,
        susar_full_reported_at=susar_full_reported_at,
        **_criteria_fields(serious, seriousness),
    )
    ae.form_version = registry_form(AdverseEvent.form_code)[0]
    assessed = _assess(ae, history, attributions)
    _apply_derived(ae, assessed, attributions)
    record_save(ae, user=user)
    _sync_children(
        user=user, ae=ae, history=history, attributions=attributions, received=assessed.received, reason=None
    )
    edit_checks_run_for(ae)  # grade 5 vs the death form (issue 22)
    return ae


def current_grades(ae: AdverseEvent) -> list[GradeIn]:
    return [GradeIn(g.on, g.grade) for g in AeGrade.objects.active().filter(adverse_event=ae).order_by("on")]


def current_attributions(ae: AdverseEvent) -> list[AttributionIn]:
    return [
        AttributionIn(a.agent, a.relatedness, a.action, a.expected)
        for a in AeAttribution.objects.active().filter(adverse_event=ae).order_by("agent")
    ]


AE_CHANGEABLE = frozenset(
    {
        "ctcae_term",
        "verbatim",
        "onset",
        "resolution",
        "outcome",
        "site_aware_at",
        "immune_related",
        "treatment_given",
        "death_date",
        "visit",
        "sponsor_aware_at",
        "susar_initial_reported_at",
        "susar_full_reported_at",
    }
)


@transaction.atomic
def adverse_event_update(
    *,
    user: Any,
    ae: AdverseEvent,
    reason: ChangeReason | None,
    version: int | None = None,
    grades: Sequence[GradeIn] | None = None,
    attributions: Sequence[AttributionIn] | None = None,
    serious: bool | None = None,
    seriousness: Iterable[str] | None = None,
    **changes: Any,
) -> AdverseEvent:
    """Change an AE (a follow-up, a correction): ``grades`` and ``attributions`` are the whole new
    lists (entries not given are voided, their history kept); every rule is checked again."""
    require_write(user, ae.site)
    unknown = sorted(set(changes) - AE_CHANGEABLE)
    if unknown:
        raise ValidationError({name: [gettext("This field cannot be changed.")] for name in unknown})
    ae = AdverseEvent.objects.select_related("subject", "study", "site", "ctcae_term").get(pk=ae.pk)
    if ae.is_voided:
        raise ValidationError(gettext("A voided record cannot be changed."))
    based_on = ae.version if version is None else version
    if "immune_related" in changes:
        changes["immune_related"] = _immune(changes["immune_related"])
    if "visit" in changes:
        changes["visit"] = _ae_visit(ae.subject, changes.get("onset", ae.onset), changes["visit"])
    for name, value in changes.items():
        setattr(ae, name, value)
    if serious is not None or seriousness is not None:
        criteria = ae.seriousness() if seriousness is None else seriousness
        for name, value in _criteria_fields(ae.is_serious if serious is None else serious, criteria).items():
            setattr(ae, name, value)
    history = list(grades) if grades is not None else current_grades(ae)
    items = list(attributions) if attributions is not None else current_attributions(ae)
    assessed = _assess(ae, history, items)
    _apply_derived(ae, assessed, items)
    children_changed = history != current_grades(ae) or items != current_attributions(ae)
    if children_changed and reason is None:
        raise ReasonRequired()
    ae.version = based_on
    record_save(ae, user=user, reason=reason, version=based_on)
    if children_changed:
        _sync_children(
            user=user, ae=ae, history=history, attributions=items, received=assessed.received, reason=reason
        )
    edit_checks_run_for(ae)  # grade 5 vs the death form (issue 22)
    return ae


@transaction.atomic
def ae_grade_add(
    *, user: Any, ae: AdverseEvent, on: dt.date, grade: int, reason: ChangeReason, version: int | None = None
) -> AdverseEvent:
    """A new grade from a date on (a worsening or an improvement): added to the grade history."""
    history = [g for g in current_grades(ae) if g.on != on] + [GradeIn(on, grade)]
    return adverse_event_update(
        user=user, ae=ae, reason=reason, version=version, grades=sorted(history, key=lambda g: g.on)
    )


@transaction.atomic
def adverse_event_void(
    *, user: Any, ae: AdverseEvent, reason: ChangeReason, version: int | None = None
) -> AdverseEvent:
    require_write(user, ae.site)
    return record_void(ae, user=user, reason=reason, version=version)


@transaction.atomic
def baseline_sign_create(
    *, user: Any, subject: Any, ctcae_term: CtcaeTerm, grade: int, date: dt.date, visit: Visit | None = None
) -> BaselineSign:
    """A sign or symptom present at screening (the screening visit unless named), with its grade."""
    require_write(user, subject.site)
    problem = _grade_message(ctcae_term, grade)
    if problem:
        raise ValidationError(problem)
    first = first_dose_date(subject)
    if first is not None and date > first:
        raise ValidationError(
            {
                "date": [
                    gettext("A baseline sign is assessed on or before the first dose ({first}).").format(
                        first=first
                    )
                ]
            }
        )
    from edc.forms.services import _visit_for

    row = BaselineSign(
        study=subject.study,
        site=subject.site,
        subject=subject,
        visit=_visit_for(subject, visit),
        ctcae_term=ctcae_term,
        term=ctcae_term.term,
        grade=grade,
        date=date,
        form_version=registry_form(BaselineSign.form_code)[0],
    )
    return record_save(row, user=user)


# --- SAE reports -----------------------------------------------------------------------------------


def _snapshot(ae: AdverseEvent) -> dict[str, Any]:
    return {
        "term": ae.term,
        "verbatim": ae.verbatim,
        "onset": ae.onset.isoformat(),
        "resolution": ae.resolution.isoformat() if ae.resolution else None,
        "worst_grade": int(ae.worst_grade),
        "grades": [{"on": g.on.isoformat(), "grade": g.grade} for g in current_grades(ae)],
        "seriousness": sorted(ae.seriousness()),
        "outcome": ae.outcome,
        "attributions": [
            {"agent": a.agent, "relatedness": a.relatedness, "action": a.action, "expected": a.expected}
            for a in current_attributions(ae)
        ],
        "susar": ae.susar,
        "ae_version": ae.version,
    }


@transaction.atomic
def sae_report_submit(
    *, user: Any, ae: AdverseEvent, reported_at: dt.datetime, narrative: str = ""
) -> SaeReport:
    """The site's report of a serious AE to the sponsor: the first is the initial report (it stops the
    24-hour clock), each later one a follow-up; each keeps the AE as it stood (the SAE's versions)."""
    require_write(user, ae.site)
    ae = AdverseEvent.objects.select_for_update().get(pk=ae.pk)
    errors: dict[str, list[str]] = {}
    if not ae.is_serious:
        errors["adverse_event"] = [gettext("Only a serious AE is reported on the SAE clock.")]
    if reported_at.tzinfo is None:
        errors["reported_at"] = [gettext("Give the time with its time zone.")]
    elif reported_at > timezone.now():
        errors["reported_at"] = [gettext("This time is in the future.")]
    elif ae.site_aware_at is not None and reported_at < ae.site_aware_at:
        errors["reported_at"] = [gettext("The report cannot precede the site's awareness of the event.")]
    previous = SaeReport.objects.active().filter(adverse_event=ae).order_by("-sequence").first()
    if previous is not None and not errors and reported_at < previous.reported_at:
        errors["reported_at"] = [
            gettext("A follow-up comes after the previous report ({at}).").format(at=previous.reported_at)
        ]
    if errors:
        raise ValidationError(errors)
    sequence = 0 if previous is None else previous.sequence + 1
    report = record_save(
        SaeReport(
            study=ae.study,
            site=ae.site,
            adverse_event=ae,
            sequence=sequence,
            reported_at=reported_at,
            narrative=narrative,
            snapshot=_snapshot(ae),
        ),
        user=user,
    )
    if sequence == 0:
        ae.reported_to_sponsor_at = reported_at
        record_save(ae, user=user, reason=ChangeReason(ReasonCode.OTHER, gettext("initial SAE report sent")))
    return report


def sae_clock_input(ae: AdverseEvent) -> SaeClockInput:
    """One SAE as the pure clock's input. Assumption (edc/safety/sae.py wiring): the definitions hold no
    sponsor time zone; the sponsor's calendar days are counted in the site's time zone (every seed
    trial runs in Asia/Shanghai)."""
    assert ae.site_aware_at is not None
    tz = ae.site.time_zone
    return SaeClockInput(
        ref=str(ae.pk),
        site_time_zone=tz,
        site_aware_at=ae.site_aware_at,
        reported_to_sponsor_at=ae.reported_to_sponsor_at,
        susar=ae.susar,
        fatal_or_life_threatening=ae.serious_death or ae.serious_life_threatening,
        sponsor_time_zone=tz,
        sponsor_aware_at=ae.sponsor_aware_at,
        susar_initial_reported_at=ae.susar_initial_reported_at,
        susar_full_reported_at=ae.susar_full_reported_at,
    )


# --- AEs proposed from lab values --------------------------------------------------------------------


def _require_investigator(user: Any, site: Any) -> None:
    if user is not None and not has_capability(user, Capability.SIGN, site=site):
        raise PermissionDenied(
            gettext("Only an investigator of site {site} confirms or dismisses a proposed AE.").format(
                site=site.code
            )
        )


@transaction.atomic
def lab_proposals_refresh(*, user: Any, lab: Any) -> list[LabAeProposal]:
    """After a lab value is entered, corrected or voided: propose the AE each value of the test grades
    to (at least one grade above the subject's baseline grade of the test), update an open proposal
    whose value was corrected, withdraw one that no longer holds. Decided proposals stay as decided;
    a corrected value that grades differently is proposed anew. Never creates an AE. Returns the open
    proposals of the test."""
    if not isinstance(lab, LabResult) or not terms_for(lab.test):
        return []
    subject = lab.subject
    graded = lab_grades(subject, test=lab.test)
    wanted: dict[tuple[Any, str], tuple[LabGrade, rules.LabProposal]] = {}
    for found in graded.values():
        for item in found:
            proposal = rules.propose_from_lab(
                term=item.term, lab_grade=item.grade, baseline_grade=item.baseline_grade, test=lab.test
            )
            if proposal is not None:
                wanted[(item.lab_id, item.term)] = (item, proposal)
    terms = {
        row.term: row
        for row in CtcaeTerm.objects.filter(
            version=subject.study.ctcae_version, term__in={t for _, t in wanted}
        )
    }
    existing = list(
        LabAeProposal.objects.active().filter(subject=subject, lab__test=lab.test).select_related("lab")
    )
    change = ChangeReason(ReasonCode.SOURCE_UPDATED, gettext("the lab value was corrected"))
    open_rows: list[LabAeProposal] = []
    for row in existing:
        if row.status != ProposalStatus.OPEN:
            continue
        hit = wanted.get((row.lab_id, row.term))
        if hit is None:
            row.status = ProposalStatus.WITHDRAWN
            row.decision_reason = gettext("The lab value no longer grades above the baseline grade.")
            record_save(row, user=user, reason=change)
            continue
        item, proposal = hit
        if (row.grade, row.baseline_grade, row.baseline_lab_id) != (
            proposal.grade,
            proposal.baseline_grade,
            item.baseline_lab_id,
        ):
            row.grade, row.baseline_grade, row.reason = (
                proposal.grade,
                proposal.baseline_grade,
                proposal.reason,
            )
            row.baseline_lab_id = item.baseline_lab_id
            record_save(row, user=user, reason=change)
        open_rows.append(row)
    for (lab_id, term), (item, proposal) in wanted.items():
        same = [r for r in existing if r.lab_id == lab_id and r.term == term]
        if any(r.status == ProposalStatus.OPEN for r in same):
            continue
        if any(
            r.grade == proposal.grade
            for r in same
            if r.status in (ProposalStatus.CONFIRMED, ProposalStatus.DISMISSED)
        ):
            continue  # decided at this grade already
        open_rows.append(
            record_save(
                LabAeProposal(
                    study=subject.study,
                    site=subject.site,
                    subject=subject,
                    lab_id=lab_id,
                    baseline_lab_id=item.baseline_lab_id,
                    ctcae_term=terms[term],
                    term=term,
                    grade=proposal.grade,
                    baseline_grade=proposal.baseline_grade,
                    reason=proposal.reason,
                ),
                user=user,
            )
        )
    return open_rows


def _open_proposal(proposal: LabAeProposal, version: int | None) -> LabAeProposal:
    current = (
        LabAeProposal.objects.select_for_update()
        .select_related("subject", "lab", "ctcae_term", "site")
        .get(pk=proposal.pk)
    )
    if version is not None and version != current.version:
        raise StaleRecord(current, version)
    if current.status != ProposalStatus.OPEN:
        raise ValidationError(
            {
                "status": [
                    gettext("The proposal is {status}: only an open one is decided.").format(
                        status=current.get_status_display()
                    )
                ]
            }
        )
    return current


@transaction.atomic
def ae_proposal_confirm(
    *, user: Any, proposal: LabAeProposal, outcome: str, version: int | None = None, **ae_fields: Any
) -> AdverseEvent:
    """The investigator confirms the proposed AE: it is created with the proposal's term and grade from
    the lab's date (its grade history's first entry) and the investigator's assessment (``ae_fields``:
    attributions, seriousness, immune-related ...)."""
    current = _open_proposal(proposal, version)
    _require_investigator(user, current.site)
    for name in ("ctcae_term", "onset", "grade", "grades", "subject"):
        if name in ae_fields:
            raise ValidationError({name: [gettext("Set by the proposal.")]})
    ae = adverse_event_create(
        user=user,
        subject=current.subject,
        ctcae_term=current.ctcae_term,
        onset=current.lab.date,
        grade=current.grade,
        outcome=outcome,
        **ae_fields,
    )
    current.status = ProposalStatus.CONFIRMED
    current.adverse_event = ae
    current.decision_reason = gettext("confirmed as an adverse event")
    record_save(current, user=user, reason=ChangeReason(ReasonCode.OTHER, gettext("proposal confirmed")))
    edit_checks_run_for(current)  # the decided proposal closes its "undecided" query (issue 22)
    return ae


@transaction.atomic
def ae_proposal_dismiss(
    *, user: Any, proposal: LabAeProposal, reason: str, version: int | None = None
) -> LabAeProposal:
    """The investigator dismisses the proposal, saying why (not clinically significant, recorded ...)."""
    current = _open_proposal(proposal, version)
    _require_investigator(user, current.site)
    if not (reason or "").strip():
        raise ValidationError({"reason": [gettext("Say why the proposed AE is dismissed.")]})
    current.status = ProposalStatus.DISMISSED
    current.decision_reason = reason.strip()
    saved = record_save(current, user=user, reason=ChangeReason(ReasonCode.OTHER, reason.strip()))
    edit_checks_run_for(saved)  # the decided proposal closes its "undecided" query (issue 22)
    return saved
