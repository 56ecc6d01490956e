"""Reads of the safety app: the CTCAE dictionary (the terms ``load_ctcae`` stored, the grading engine's
input), the agents an AE is attributed to, the baseline grades, the AE list and a lab value's grade."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from edc.forms.models import LabResult
from edc.safety import ctcae
from edc.safety.ctcae import VERSION, CtcaeError, Dictionary, TermText, lab_request
from edc.safety.lab_terms import terms_for
from edc.safety.models import (
    AdverseEvent,
    AeAttribution,
    AeGrade,
    BaselineSign,
    CtcaeTerm,
    SaeReport,
)
from studies.models import Intervention


class CtcaeTermsNotLoaded(LookupError):
    """No terms of the requested CTCAE version are in the database."""

    def __init__(self, version: str) -> None:
        message = _("no CTCAE v%(version)s terms in the database: run `python manage.py load_ctcae` first")
        if version != VERSION:
            message += _(" (with --file and --version %(version)s)")
        super().__init__(message % {"version": version})
        self.version = version


def ctcae_terms(*, version: str = VERSION) -> QuerySet[CtcaeTerm]:
    """The stored terms of one version (the admin, the grading and the AE form read these)."""
    return CtcaeTerm.objects.filter(version=version)


def ctcae_versions() -> list[str]:
    """The versions with terms in the database, sorted."""
    return sorted(set(CtcaeTerm.objects.values_list("version", flat=True)))


def term_text(row: CtcaeTerm) -> TermText:
    """One stored term as the pure engine's TermText."""
    return TermText(
        meddra_code=row.meddra_code,
        soc=row.soc,
        term=row.term,
        grades=(row.grade_1, row.grade_2, row.grade_3, row.grade_4, row.grade_5),
        definition=row.definition,
        navigational_note=row.navigational_note,
        change_note=row.change_note,
    )


def ctcae_dictionary(*, version: str = VERSION) -> Dictionary:
    """The grading engine's dictionary of one version, from the database (one query).

    Raises CtcaeTermsNotLoaded when no term of that version is stored.
    """
    terms = [term_text(row) for row in ctcae_terms(version=version).order_by("meddra_code")]
    if not terms:
        raise CtcaeTermsNotLoaded(version)
    return Dictionary(terms, version=version)


# --- adverse events (issue 20) -------------------------------------------------------------------


@dataclass(frozen=True)
class AgentsReceived:
    """The study agents (and radiotherapy) an AE is attributed to, one per agent.

    ``required``: agents that need an attribution. ``choose_one``: groups of agents of which the
    subject received exactly one (seed 004's platinum) while exposure is not recorded: the AE names
    the one given. ``interventions``: one Intervention row per agent (the first by order).
    """

    required: tuple[str, ...]
    choose_one: tuple[tuple[str, ...], ...] = ()
    interventions: dict[str, Intervention] = field(default_factory=dict)
    source: str = "exposure"


def agents_received_for(subject: Any, *, on: dt.date | None = None) -> AgentsReceived:
    """The one place safety reads which agents the subject received.

    With the visits issue's exposure (``edc.visits.selectors.agents_received``, contract C2): the
    distinct agents with a dose given. Until it exists: the subject's arm's interventions (and those
    of no arm), one per agent name, once the first dose is on or before ``on`` (default the site's
    today); agents of a choice group (seed 004's platinum) form one group of which one is named.
    """
    from edc.visits import selectors as visit_selectors

    received = getattr(visit_selectors, "agents_received", None)
    if received is not None:
        rows = list(received(subject))
        by_agent: dict[str, Intervention] = {}
        for row in rows:
            by_agent.setdefault(row.agent, row)
        return AgentsReceived(required=tuple(by_agent), interventions=by_agent, source="exposure")
    first = visit_selectors.first_dose_date(subject)
    day = on or subject.site.today()
    if first is None or first > day:
        return AgentsReceived(required=(), source="arm")
    arm_filter = Q(arm__isnull=True) | Q(arm_id=subject.arm_id) if subject.arm_id else Q()
    interventions = Intervention.objects.filter(arm_filter, study_id=subject.study_id).order_by(
        "order", "code"
    )
    by_agent = {}
    groups: dict[str, list[str]] = {}
    for row in interventions:
        if row.agent in by_agent:
            continue
        by_agent[row.agent] = row
        if row.choice_group:
            groups.setdefault(row.choice_group, []).append(row.agent)
    grouped = {agent for members in groups.values() for agent in members}
    return AgentsReceived(
        required=tuple(agent for agent in by_agent if agent not in grouped),
        choose_one=tuple(tuple(members) for members in groups.values()),
        interventions=by_agent,
        source="arm",
    )


def death_date_of(subject: Any) -> dt.date | None:
    """The complete date of death of the death form (contract C3 ``death_of``), when it exists."""
    from edc.forms import selectors as form_selectors

    death_of = getattr(form_selectors, "death_of", None)
    if death_of is None:
        return None
    death = death_of(subject)
    if death is None:
        return None
    value = getattr(death, "death_date", None) or getattr(death, "date", None)
    if isinstance(value, dt.date):
        return value
    if value is not None and getattr(value, "is_complete", False):
        earliest: dt.date = value.earliest()
        return earliest
    return None


def baseline_grades(subject: Any) -> dict[int, int]:
    """The subject's baseline signs and symptoms: CTCAE term id -> the worst baseline grade."""
    grades: dict[int, int] = {}
    for term_id, grade in (
        BaselineSign.objects.active().filter(subject=subject).values_list("ctcae_term_id", "grade")
    ):
        grades[term_id] = max(grade, grades.get(term_id, 0))
    return grades


def adverse_events() -> QuerySet[AdverseEvent]:
    """Every AE with what a list shows (the caller scopes it)."""
    return AdverseEvent.objects.select_related(
        "study", "site", "subject", "visit", "ctcae_term"
    ).prefetch_related(
        Prefetch("grades", queryset=AeGrade.objects.active().order_by("on")),
        Prefetch("attributions", queryset=AeAttribution.objects.active().order_by("agent")),
        Prefetch("sae_reports", queryset=SaeReport.objects.active().order_by("sequence")),
    )


# --- a lab value's CTCAE grade --------------------------------------------------------------------


@dataclass(frozen=True)
class LabGrade:
    """A lab value graded under one CTCAE term against the subject's baseline of the same test."""

    lab_id: Any
    term: str
    grade: int | None
    text: str
    reason: str
    baseline_lab_id: Any
    baseline_grade: int | None
    """None: no baseline value."""


def _lab_dictionary(study: Any, tests: set[str]) -> Dictionary | None:
    names = {term for test in tests for term in terms_for(test)}
    rows = list(CtcaeTerm.objects.filter(version=study.ctcae_version, term__in=names))
    if not rows:
        return None
    return Dictionary([term_text(row) for row in rows], version=study.ctcae_version)


def lab_baseline(labs: list[LabResult], first_dose: dt.date | None) -> LabResult | None:
    """The baseline value of one test: the last value on or before the first dose (pre-dose, as on the
    first-dose day samples are taken before the dose); None without a first dose or such a value."""
    if first_dose is None:
        return None
    before = [lab for lab in labs if lab.date <= first_dose]
    return before[-1] if before else None


def _grade_one(
    term: str, lab: LabResult, baseline: LabResult | None, dictionary: Dictionary
) -> tuple[Any, ...]:
    try:
        result = ctcae.grade(
            lab_request(term, lab.as_value(), baseline.as_value() if baseline else None), dictionary
        )
    except (CtcaeError, ValueError) as exc:
        return None, "", str(exc)
    return result.grade, result.criterion, result.reason


def lab_grades(subject: Any, *, test: str | None = None) -> dict[Any, list[LabGrade]]:
    """The CTCAE grades of the subject's lab values after the first dose (each against the baseline
    value of its test; the baseline's own grade is graded without a baseline), by lab id.

    Reads the subject's labs (one query) and the terms needed (one query).
    """
    from edc.visits.selectors import first_dose_date

    labs = LabResult.objects.active().filter(subject=subject, not_done_reason="").exclude(value="")
    if test is not None:
        labs = labs.filter(test=test)
    by_test: dict[str, list[LabResult]] = {}
    for lab in labs.order_by("date", "created"):
        by_test.setdefault(lab.test, []).append(lab)
    found: dict[Any, list[LabGrade]] = {}
    dictionary = _lab_dictionary(subject.study, {t for t in by_test if terms_for(t)})
    if dictionary is None:
        return found
    first = first_dose_date(subject)
    for test_code, rows in by_test.items():
        baseline = lab_baseline(rows, first)
        for term in terms_for(test_code):
            if term not in dictionary.by_term:
                continue
            base_grade = None
            if baseline is not None:
                base_grade = _grade_one(term, baseline, None, dictionary)[0] or 0
            for lab in rows:
                if first is None or lab.date <= first:
                    continue
                value, text, reason = _grade_one(term, lab, baseline, dictionary)
                found.setdefault(lab.pk, []).append(
                    LabGrade(
                        lab_id=lab.pk,
                        term=term,
                        grade=value,
                        text=text,
                        reason=reason,
                        baseline_lab_id=baseline.pk if baseline else None,
                        baseline_grade=base_grade,
                    )
                )
    return found
