"""The safety reports: the SAE clocks due now (/api/reports/sae/ and the admin's SAE list) and the
study's safety tables (/api/studies/{id}/safety-summary/ and its admin page). Each reads a fixed
number of queries whatever the number of AEs: the rows once, the rest is the pure modules'
(edc/safety/sae.py, edc/safety/summary.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext

from edc.core.scoping import scope
from edc.safety import sae as clocks
from edc.safety.models import RELATED_CODES, ActionTaken, AdverseEvent
from edc.safety.services import sae_clock_input
from edc.safety.summary import AeFact, Table, tables
from edc.subjects.models import Subject

POPULATION = (
    "Safety population: subjects whose first dose of study treatment is on or before today (the planned "
    "first dose until exposure is recorded)."
)


def serious_events(user: Any, *, study: int | None = None, site: int | None = None) -> list[AdverseEvent]:
    """The serious AEs the user sees with a site awareness time (one query)."""
    rows = scope(AdverseEvent.objects.active(), user).filter(serious="Y", site_aware_at__isnull=False)
    if study is not None:
        rows = rows.filter(study_id=study)
    if site is not None:
        rows = rows.filter(site_id=site)
    return list(rows.select_related("site", "subject").order_by("site_aware_at", "id"))


def sae_due_now(
    *, user: Any, now: dt.datetime, study: int | None = None, site: int | None = None
) -> list[dict[str, Any]]:
    """Every unmet SAE clock as of ``now``, overdue first, each in its site's time zone."""
    events = {str(ae.pk): ae for ae in serious_events(user, study=study, site=site)}
    items = clocks.due_now([sae_clock_input(ae) for ae in events.values()], now=now)
    return [due_row(item, events[item.ref]) for item in items]


def due_row(item: clocks.DueItem, ae: AdverseEvent) -> dict[str, Any]:
    return {
        "adverse_event": ae.pk,
        "subject": ae.subject_id,
        "subject_label": ae.subject.subject_identifier or ae.subject.screening_number,
        "site": ae.site_id,
        "site_code": ae.site.code,
        "site_time_zone": item.site_time_zone,
        "term": ae.verbatim or ae.term if ae.term.endswith("Other, specify") else ae.term,
        "worst_grade": int(ae.worst_grade),
        "susar": ae.susar,
        "clock": item.clock,
        "status": item.status,
        "due_at": item.due_at,
        "due_local": item.due_local.isoformat(),
        "hours_left": round(item.time_left.total_seconds() / 3600, 2),
    }


def safety_population(study: Any, user: Any) -> int:
    """The denominator: the subjects the user sees who received study treatment, that is at least one
    recorded dose (on treatment is the status the first recorded dose sets), one query. A subject
    enrolled but never dosed is not in it, whatever the planned first dose."""
    from edc.subjects.models import SubjectStatus
    from edc.visits.exposures import Exposure

    dosed = Exposure.objects.active().filter(subject_id=OuterRef("pk"), dose_given__gt=0)
    subjects = scope(Subject.objects.active(), user).filter(study=study)
    return subjects.filter(Q(status=SubjectStatus.ON_TREATMENT) | Exists(dosed)).count()


def ae_facts(study: Any, user: Any) -> list[AeFact]:
    """The treatment-emergent AEs of the study the user sees, as the tables read them (one query)."""
    rows = (
        scope(AdverseEvent.objects.active(), user)
        .filter(study=study, treatment_emergent=True)
        .values_list(
            "subject_id", "ctcae_term__soc", "term", "verbatim", "worst_grade", "relatedness", "serious",
            "action_taken", "immune_related",
        )
    )  # fmt: skip
    return [
        AeFact(
            subject=str(subject),
            soc=soc,
            term=term,
            worst_grade=int(grade),
            related=relatedness in RELATED_CODES,
            serious=serious == "Y",
            discontinuation=action == ActionTaken.WITHDRAWN,
            immune_related=immune == "Y",
        )
        for subject, soc, term, _verbatim, grade, relatedness, serious, action, immune in rows
    ]


def _table_dict(table: Table) -> dict[str, Any]:
    return {
        "code": table.code,
        "title": gettext(table.title),
        "denominator": table.denominator,
        "rows": [
            {
                "level": row.level,
                "soc": row.soc,
                "term": row.term,
                "any_grade": row.any_grade,
                "any_grade_pct": row.any_grade_pct,
                "grade_3_or_more": row.grade_3_or_more,
                "grade_3_or_more_pct": row.grade_3_or_more_pct,
                "by_grade": list(row.by_grade),
            }
            for row in table.rows
        ],
    }


def safety_summary(*, study: Any, user: Any) -> dict[str, Any]:
    """The safety tables of the study (two queries: the AEs, the denominator)."""
    denominator = safety_population(study, user)
    found = tables(ae_facts(study, user), denominator=denominator)
    return {
        "study": study.pk,
        "protocol_id": study.protocol_id,
        "ctcae_version": study.ctcae_version,
        "population": gettext(POPULATION),
        "denominator": denominator,
        "tables": [_table_dict(t) for t in found],
    }


CSV_HEADER = [
    "table", "title", "denominator", "level", "soc", "term", "any_grade", "any_grade_pct",
    "grade_3_or_more", "grade_3_or_more_pct", "grade_1", "grade_2", "grade_3", "grade_4", "grade_5",
]  # fmt: skip


def summary_csv_rows(data: dict[str, Any]) -> Iterable[list[Any]]:
    yield CSV_HEADER
    for table in data["tables"]:
        for row in table["rows"]:
            yield [
                table["code"], table["title"], table["denominator"], row["level"], row["soc"], row["term"],
                row["any_grade"], row["any_grade_pct"] if row["any_grade_pct"] is not None else "",
                row["grade_3_or_more"],
                row["grade_3_or_more_pct"] if row["grade_3_or_more_pct"] is not None else "",
                *row["by_grade"],
            ]  # fmt: skip
