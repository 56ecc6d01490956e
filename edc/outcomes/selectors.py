"""A study's efficacy endpoints from its stored data: one endpoints case (docs/domain/case-files.md,
"Efficacy endpoints case") assembled from the records, then the same engine `endpoints_evaluate` runs.

``study_endpoints_case(study, user=...)`` builds one subject row per enrolled subject the user may see
(their sites), in the case format's shape, parsed by the same ``EndpointsCaseIn`` the command reads:

- the study's rules from its endpoint definitions (studies.Endpoint: measure, population, anchor,
  landmark days, subgroup) and ``Study.confirmation_required``;
- the anchor date: the first dose (``edc.visits.selectors.first_dose_date``), the enrollment date, or
  registration, which is the enrollment date (a subject is registered in the trial when enrolled);
- tumor facts from ``edc.tumors.selectors.response_facts`` (best response confirmed or not as the
  study requires, first response, progression, last adequate assessment, time points);
- survival facts from ``edc.forms.selectors.survival_facts`` (death, new anticancer therapy, last known
  alive; imputed dates named) and subgroups from ``pdl1_status``.

A subject whose stored data the rules cannot use (a progression after death, a missing anchor date)
is not counted and is listed in ``issues`` with the field and the reason, never silently dropped.
The number of queries is fixed whatever the number of subjects (tests/outcomes pin it).

``study_endpoints(built)`` evaluates it: the figures exactly as ``endpoints_evaluate`` prints them for
the same case (which is part of the answer, so anyone can rerun it), the subject ids behind every
count, the analysis set and the rules.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from edc.core.scoping import scope
from edc.inputs.cases import CaseError, read_case
from edc.outcomes import stats
from edc.outcomes.casefile import EndpointsCaseIn, SubjectIn
from studies.models import AnalysisPopulation, Endpoint, EndpointAnchor, EndpointMeasure, Study

SURVIVAL_MEASURES = (EndpointMeasure.PFS, EndpointMeasure.OS, EndpointMeasure.DOR)
# When a study states no time-to-event endpoint (seeds 002, 004) the plots still need an anchor.
DEFAULT_ANCHOR = EndpointAnchor.FIRST_DOSE


# --- the study's rules ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class EndpointRules:
    """What the study's endpoint definitions say the analysis is."""

    population: str
    population_stated_by: tuple[str, ...]
    anchor: str
    anchor_stated_by: tuple[str, ...]
    landmarks_days: tuple[int, ...]
    subgroups: tuple[str, ...]
    confirmation_required: bool
    endpoints: tuple[Endpoint, ...]
    problems: tuple[str, ...] = ()

    def describe(self) -> dict[str, Any]:
        """The rules as the answer states them (for people and programs)."""
        anchor_labels = dict(EndpointAnchor.choices)
        return {
            "analysis_set": {
                "population": self.population,
                "label": str(dict(AnalysisPopulation.choices).get(self.population, self.population)),
                "stated_by": list(self.population_stated_by),
            },
            "anchor": {
                "event": self.anchor,
                "label": str(anchor_labels.get(self.anchor, self.anchor)),
                "stated_by": list(self.anchor_stated_by),
                "date": _anchor_source(self.anchor),
            },
            "confirmation_required": self.confirmation_required,
            "landmarks_days": list(self.landmarks_days),
            "subgroups": list(self.subgroups),
            "response": _(
                "Best overall response by RECIST 1.1 derived from the stored measurements%(confirmed)s; "
                "a subject without an evaluable assessment counts as NE (in the denominator, not a "
                "responder)."
            )
            % {
                "confirmed": _(", CR and PR confirmed by a later assessment")
                if self.confirmation_required
                else _(", confirmation not required")
            },
            "orr": _("ORR = (CR + PR) / analysis set, exact Clopper-Pearson 95 % interval."),
            "dcr": _(
                "DCR = (CR + PR + SD + non-CR/non-PD) / analysis set, exact Clopper-Pearson 95 % interval."
            ),
            "pfs": _(
                "PFS from the anchor to progression or death, whichever is first; censored at the last "
                "adequate assessment on or before a new anticancer therapy started before that event, or "
                "at the last adequate assessment without an event (day 0 without one)."
            ),
            "os": _("OS from the anchor to death; censored at the last date known alive."),
            "dor": _("DoR over responders: from the first response to the PFS event, censored as PFS is."),
            "kaplan_meier": _(
                "Kaplan-Meier in exact arithmetic; the median is the first time the estimate is at or "
                "below 0.5 exactly; its interval and landmark intervals by the log(-log) transform with "
                "Greenwood's variance."
            ),
            "problems": list(self.problems),
        }


def _anchor_source(anchor: str) -> str:
    sources: dict[str, str] = {
        EndpointAnchor.FIRST_DOSE: _(
            "the first dose of study treatment (the planned one until a dose is recorded)"
        ),
        EndpointAnchor.ENROLLMENT: _("the enrollment date"),
        EndpointAnchor.REGISTRATION: _(
            "the enrollment date (a subject is registered in the trial when enrolled)"
        ),
    }
    return str(sources.get(anchor, ""))


def endpoint_rules(study: Study, endpoints: Iterable[Endpoint] | None = None) -> EndpointRules:
    """The analysis the study's endpoint definitions describe (one query unless ``endpoints`` given)."""
    rows = tuple(endpoints if endpoints is not None else study.endpoints.order_by("order", "code"))
    efficacy = [e for e in rows if e.measure]
    problems: list[str] = []
    populations = {e.population for e in efficacy if e.population}
    if len(populations) > 1:
        problems.append(
            _("The endpoints name different analysis populations: %(p)s.")
            % {"p": ", ".join(sorted(populations))}
        )
    population = sorted(populations)[0] if populations else AnalysisPopulation.ALL_ENROLLED
    timed = [e for e in efficacy if e.measure in (EndpointMeasure.PFS, EndpointMeasure.OS) and e.anchor]
    anchors = {e.anchor for e in timed}
    if len(anchors) > 1:
        problems.append(_("PFS and OS name different anchors: %(a)s.") % {"a": ", ".join(sorted(anchors))})
    anchor = sorted(anchors)[0] if anchors else DEFAULT_ANCHOR
    landmarks = sorted({day for e in efficacy if e.measure in SURVIVAL_MEASURES for day in e.landmark_days})
    subgroups = sorted({e.subgroup for e in efficacy if e.subgroup})
    for name in subgroups:
        if name not in SUBGROUP_SOURCES:
            problems.append(_("No stored data gives the subgroup %(name)s.") % {"name": name})
    return EndpointRules(
        population=population,
        population_stated_by=tuple(e.code for e in efficacy if e.population == population),
        anchor=anchor,
        anchor_stated_by=tuple(e.code for e in timed if e.anchor == anchor),
        landmarks_days=tuple(landmarks),
        subgroups=tuple(s for s in subgroups if s in SUBGROUP_SOURCES),
        confirmation_required=bool(study.confirmation_required),
        endpoints=rows,
        problems=tuple(problems),
    )


# --- the facts other apps own (contracts C2, C3, C4 in docs/endpoints.md) --------------------------------


def _response_facts(ids: Sequence[Any]) -> Mapping[Any, Any]:
    from edc.tumors.selectors import response_facts

    return response_facts(ids)


def _survival_facts(ids: Sequence[Any]) -> Mapping[Any, Any]:
    from edc.forms.selectors import survival_facts

    return survival_facts(ids)


def _pdl1_status(ids: Sequence[Any]) -> Mapping[Any, str]:
    from edc.forms.selectors import pdl1_status

    return pdl1_status(ids)


# Subgroup name (Endpoint.subgroup) -> the reader of each subject's value.
SUBGROUP_SOURCES: dict[str, Callable[[Sequence[Any]], Mapping[Any, str]]] = {"PDL1": _pdl1_status}


def _dose_dates(subjects: Sequence[Any]) -> dict[Any, tuple[dt.date | None, dt.date | None]]:
    """(first dose, last dose) per subject, as edc.visits.selectors.first_dose_date and last_dose_date
    read them one subject at a time, in two queries for all: the earliest exposure with a dose given
    (the visits' own definition of one, ``_given``) else the planned first dose; the end-of-treatment
    form's last dose date, else None (treatment ongoing). tests/outcomes checks both agree."""
    from django.db.models import Min

    from edc.visits import selectors as visits
    from edc.visits.exposures import EndOfTreatment, Exposure

    ids = [s.pk for s in subjects]
    if not ids:
        return {}
    given = visits._given()
    firsts = dict(
        Exposure.objects.filter(given, subject_id__in=ids)
        .values("subject_id")
        .annotate(first=Min("start_date"))
        .values_list("subject_id", "first")
    )
    lasts: dict[Any, dt.date | None] = {}
    for subject_id, day in (
        EndOfTreatment.objects.active()
        .filter(subject_id__in=ids)
        .order_by("subject_id", "created")
        .values_list("subject_id", "last_dose_date")
    ):
        lasts.setdefault(subject_id, day)
    return {s.pk: (firsts.get(s.pk) or s.planned_first_dose, lasts.get(s.pk)) for s in subjects}


# --- one subject's row ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Issue:
    subject: str
    field: str | None
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"subject": self.subject, "field": self.field, "message": self.message}


@dataclass(frozen=True)
class SubjectTrace:
    """What the row of one subject was built from (the answer's ``subjects``; the plots read it)."""

    pk: Any
    id: str
    site: str
    anchor_date: dt.date | None
    first_dose_date: dt.date | None
    last_dose_date: dt.date | None
    imputed: tuple[str, ...]
    response: Any  # edc.tumors.selectors.ResponseFacts or None
    row: dict[str, Any] | None  # the case row (None: not counted, see issues)
    counted: bool
    today: dt.date  # the site's date (treatment still ongoing runs to it in the swimmer plot)

    def to_dict(self) -> dict[str, Any]:
        response = self.response
        return {
            "id": self.id,
            "site": self.site,
            "counted": self.counted,
            "first_dose_date": _iso(self.first_dose_date),
            "last_dose_date": _iso(self.last_dose_date),
            "imputed": list(self.imputed),
            "best_response_unconfirmed": getattr(response, "best_response_unconfirmed", None),
            "best_pct_change": _number(getattr(response, "best_pct_change", None)),
        }


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day is not None else None


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def _last_adequate_on_or_before(response: Any, day: dt.date, anchor: dt.date) -> dt.date | None:
    found = None
    for point in getattr(response, "timepoints", ()):
        if anchor <= point.date <= day and point.overall_response != "NE":
            found = point.date if found is None or point.date > found else found
    return found


def _subject_row(
    subject: Any,
    *,
    rules: EndpointRules,
    anchor_date: dt.date | None,
    response: Any,
    survival: Any,
    subgroups: Mapping[str, str],
) -> tuple[dict[str, Any] | None, list[Issue], tuple[str, ...]]:
    sid = subject.subject_identifier or subject.screening_number
    issues: list[Issue] = []
    imputed = tuple(getattr(survival, "imputed", ()) or ())
    if anchor_date is None:
        issues.append(Issue(sid, "anchor_date", _("no %(anchor)s date is stored") % {"anchor": rules.anchor}))
        return None, issues, imputed
    best = getattr(response, "best_response", None) or "NE"
    first_response = getattr(response, "first_response_date", None) if best in stats.RESPONDERS else None
    progression = getattr(response, "progression_date", None)
    last_adequate = getattr(response, "last_adequate_assessment_date", None)
    death = getattr(survival, "death_date", None)
    therapy = getattr(survival, "new_anticancer_therapy_date", None)
    alive = getattr(survival, "last_known_alive_date", None)
    # Assessments before the anchor (a baseline scan) are not "after the anchor" (case-files.md).
    if last_adequate is not None and last_adequate < anchor_date:
        last_adequate = None
    # PFS censors at the last adequate assessment on or before the new therapy's start.
    if therapy is not None and last_adequate is not None and last_adequate > therapy:
        last_adequate = _last_adequate_on_or_before(response, therapy, anchor_date)
    if death is None and alive is None:
        # Nothing says when the subject was last known alive: the anchor at least (marked).
        alive = max(d for d in (anchor_date, last_adequate, progression) if d is not None)
        imputed = (*imputed, "last_known_alive_date")
    if death is None and alive is not None and alive < anchor_date:
        alive = anchor_date
        imputed = (*imputed, "last_known_alive_date")
    row: dict[str, Any] = {
        "id": sid,
        "in_analysis_set": rules.population == AnalysisPopulation.ALL_ENROLLED,
        "anchor_date": anchor_date.isoformat(),
        "best_response": best,
        "first_response_date": _iso(first_response),
        "progression_date": _iso(progression),
        "death_date": _iso(death),
        "new_anticancer_therapy_date": _iso(therapy),
        "last_adequate_assessment_date": _iso(last_adequate),
        "last_known_alive_date": _iso(alive),
        "subgroups": dict(subgroups),
    }
    try:
        read_case(SubjectIn, row)
    except CaseError as exc:
        issues.extend(Issue(sid, where, message) for where, message in exc.problems)
        return None, issues, imputed
    return row, issues, imputed


# --- the study's case ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StudyEndpointsCase:
    study: Study
    rules: EndpointRules
    case: EndpointsCaseIn
    subjects: tuple[SubjectTrace, ...]
    issues: tuple[Issue, ...]
    sites: tuple[str, ...]
    raw: dict[str, Any] = field(repr=False)

    @property
    def counted(self) -> tuple[SubjectTrace, ...]:
        return tuple(s for s in self.subjects if s.counted)


def enrolled_subjects(study: Study, user: Any = None) -> QuerySet[Any]:
    """The study's enrolled subjects (not voided) at the user's sites; every site without a user."""
    from edc.subjects.models import ENROLLED_STATUSES, Subject

    queryset: QuerySet[Any] = Subject.objects.filter(
        study=study, status__in=ENROLLED_STATUSES, voided_at__isnull=True
    )
    if user is not None:
        queryset = scope(queryset, user)
    return queryset.select_related("site").order_by("subject_identifier", "screening_number")


def _anchor_date(subject: Any, anchor: str, first_dose: dt.date | None) -> dt.date | None:
    if anchor == EndpointAnchor.FIRST_DOSE:
        return first_dose
    date: dt.date | None = subject.enrollment_date  # enrollment, and registration (see the module doc)
    return date


def study_endpoints_case(
    study: Study, *, user: Any = None, subjects: Iterable[Any] | None = None
) -> StudyEndpointsCase:
    """The study's endpoints case from the stored data of the subjects ``user`` may see."""
    rules = endpoint_rules(study)
    rows = list(subjects if subjects is not None else enrolled_subjects(study, user))
    ids = [s.pk for s in rows]
    responses = _response_facts(ids) if ids else {}
    survival = _survival_facts(ids) if ids else {}
    groups = {name: SUBGROUP_SOURCES[name](ids) if ids else {} for name in rules.subgroups}
    doses = _dose_dates(rows)
    traces: list[SubjectTrace] = []
    issues: list[Issue] = []
    case_rows: list[dict[str, Any]] = []
    for subject in rows:
        first_dose, last_dose = doses[subject.pk]
        anchor = _anchor_date(subject, rules.anchor, first_dose)
        values = {name: found[subject.pk] for name, found in groups.items() if subject.pk in found}
        row, found_issues, imputed = _subject_row(
            subject,
            rules=rules,
            anchor_date=anchor,
            response=responses.get(subject.pk),
            survival=survival.get(subject.pk),
            subgroups=values,
        )
        issues.extend(found_issues)
        if row is not None:
            case_rows.append(row)
        traces.append(
            SubjectTrace(
                pk=subject.pk,
                id=subject.subject_identifier or subject.screening_number,
                site=subject.site.code,
                anchor_date=anchor,
                first_dose_date=first_dose,
                last_dose_date=last_dose,
                imputed=imputed,
                response=responses.get(subject.pk),
                row=row,
                counted=row is not None,
                today=subject.site.today(),
            )
        )
    raw = {
        "id": study.protocol_id,
        "confidence_level": 0.95,
        "landmarks_days": list(rules.landmarks_days),
        "subjects": case_rows,
    }
    return StudyEndpointsCase(
        study=study,
        rules=rules,
        case=read_case(EndpointsCaseIn, raw),
        subjects=tuple(traces),
        issues=tuple(issues),
        sites=tuple(sorted({t.site for t in traces})),
        raw=raw,
    )


# --- the answer ----------------------------------------------------------------------------------------


def _ids(observations: Iterable[stats.Observation], event: bool) -> list[str]:
    return sorted(o.subject_id for o in observations if o.event == event)


def _survival_trace(summary: stats.SurvivalSummary) -> dict[str, list[str]]:
    observations = summary.curve.observations
    return {"events": _ids(observations, True), "censored": _ids(observations, False)}


def study_endpoints(built: StudyEndpointsCase) -> dict[str, Any]:
    """The study's endpoints: ``result`` is what endpoints_evaluate prints for ``case``; ``counted``
    names the subjects behind every count; ``rules`` and ``analysis_set`` say what was computed."""
    engine = built.case.to_engine()
    result = stats.evaluate_endpoints(engine)
    in_set = [s for s in engine.subjects if s.in_analysis_set]
    by_subgroup: dict[str, dict[str, dict[str, list[str]]]] = {}
    for name in built.rules.subgroups:
        by_subgroup[name] = {}
        for value in sorted({v for s in in_set if (v := s.subgroup(name)) is not None}):
            members = [s for s in in_set if s.subgroup(name) == value]
            by_subgroup[name][value] = {
                "n": sorted(s.id for s in members),
                "responders": sorted(s.id for s in members if s.is_responder),
            }
    counted = {
        "orr": {
            "n": sorted(s.id for s in in_set),
            "responders": sorted(s.id for s in in_set if s.is_responder),
        },
        "dcr": {
            "n": sorted(s.id for s in in_set),
            "responders": sorted(s.id for s in in_set if s.best_response in stats.DISEASE_CONTROL),
        },
        "pfs": _survival_trace(result.pfs),
        "os": _survival_trace(result.os),
        "dor": _survival_trace(result.dor),
        "orr_by_subgroup": by_subgroup,
        "best_response": {
            response: sorted(s.id for s in in_set if s.best_response == response)
            for response in stats.RESPONSES
        },
    }
    return {
        "study": {"id": built.study.pk, "protocol_id": built.study.protocol_id},
        "sites": list(built.sites),
        "endpoints": [
            {
                "code": e.code,
                "name": e.name,
                "kind": e.kind,
                "measure": e.measure,
                "anchor": e.anchor,
                "landmark_days": list(e.landmark_days),
                "subgroup": e.subgroup,
            }
            for e in built.rules.endpoints
            if e.measure
        ],
        "rules": built.rules.describe(),
        "analysis_set": {
            "population": built.rules.population,
            "enrolled": len(built.subjects),
            "n": len(in_set),
            "subjects": sorted(s.id for s in in_set),
            "not_counted": sorted({i.subject for i in built.issues}),
        },
        "result": result.to_dict(),
        "counted": counted,
        "subjects": [s.to_dict() for s in built.subjects],
        "issues": [i.to_dict() for i in built.issues],
        "case": built.raw,
    }


# --- the plots ------------------------------------------------------------------------------------------

PLOT_KINDS = ("waterfall", "spider", "swimmer", "km-pfs", "km-os")


def study_plot(built: StudyEndpointsCase, kind: str, fmt: str) -> bytes:
    """One plot of the study's counted subjects (the same rows as the endpoints), as PNG or SVG bytes."""
    from edc.outcomes import plots

    if kind not in PLOT_KINDS:
        raise plots.PlotError(f"unknown plot {kind!r}: one of {', '.join(PLOT_KINDS)}")
    counted = [t for t in built.counted if t.row is not None]
    rows: dict[str, dict[str, Any]] = {t.id: t.row for t in counted if t.row is not None}
    if kind == "waterfall":
        bars = [
            plots.WaterfallBar(t.id, t.response.best_pct_change, rows[t.id]["best_response"])
            for t in counted
            if t.response is not None and t.response.best_pct_change is not None
        ]
        return plots.waterfall(
            bars,
            fmt=fmt,  # type: ignore[arg-type]  # checked by the renderer
            title=_("Best change in the sum of target lesion diameters"),
            y_label=_("Best change from baseline (%)"),
        )
    if kind == "spider":
        lines = []
        for t in counted:
            if t.response is None or t.anchor_date is None:
                continue
            points = tuple(
                plots.SpiderPoint((p.date - t.anchor_date).days, p.pct_change_from_baseline)
                for p in t.response.timepoints
                if p.pct_change_from_baseline is not None and p.date >= t.anchor_date
            )
            lines.append(plots.SpiderLine(t.id, points, rows[t.id]["best_response"]))
        return plots.spider(
            lines,
            fmt=fmt,  # type: ignore[arg-type]
            title=_("Change in the sum of target lesion diameters over time"),
            x_label=_("Days from the anchor (%(anchor)s)") % {"anchor": built.rules.anchor},
            y_label=_("Change from baseline (%)"),
        )
    if kind == "swimmer":
        lanes = []
        for t in counted:
            start = t.first_dose_date
            if start is None:
                continue
            end = t.last_dose_date or t.today
            row = rows[t.id]

            def day(value: str | None, start: dt.date | None = start) -> int | None:
                assert start is not None
                return None if value is None else (dt.date.fromisoformat(value) - start).days

            lanes.append(
                plots.SwimmerLane(
                    t.id,
                    max((end - start).days, 0),
                    ongoing=t.last_dose_date is None,
                    best_response=row["best_response"],
                    response_day=day(row["first_response_date"]),
                    progression_day=day(row["progression_date"]),
                    death_day=day(row["death_date"]),
                )
            )
        return plots.swimmer(
            lanes,
            fmt=fmt,  # type: ignore[arg-type]
            title=_("Time on treatment"),
            x_label=_("Days from the first dose"),
        )
    engine = built.case.to_engine()
    in_set = [s for s in engine.subjects if s.in_analysis_set]
    if kind == "km-pfs":
        observations = tuple(stats.pfs_observation(s) for s in in_set)
        title = _("Progression-free survival")
    else:
        observations = tuple(stats.os_observation(s) for s in in_set)
        title = _("Overall survival")
    return plots.kaplan_meier_plot(
        [plots.SurvivalGroup(_("All subjects"), observations)],
        fmt=fmt,  # type: ignore[arg-type]
        title=title,
        x_label=_("Days from the anchor (%(anchor)s)") % {"anchor": built.rules.anchor},
        y_label=_("Probability"),
    )
