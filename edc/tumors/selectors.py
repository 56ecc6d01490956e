"""Reads of the tumour data for other apps (CONTRACTS C4): the stored, derived responses.

``response_facts(subject_ids)`` reads what the derivation service stored with each assessment
(edc/tumors/services.py), so the endpoints (edc/outcomes) and the plots count exactly the responses
the site sees on its forms. Two queries whatever the number of subjects.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from edc.tumors import recist
from edc.tumors.models import Lesion, LesionCategory, TumorAssessment, engine_label


@dataclass(frozen=True)
class TimepointFact:
    date: dt.date
    sum_mm: Decimal | None
    pct_change_from_baseline: Decimal | None
    overall_response: str  # the engine's labels: CR PR SD NON_CR_NON_PD PD NE


@dataclass(frozen=True)
class ResponseFacts:
    # Confirmed or not as the study's endpoint requires (Study.confirmation_required).
    best_response: str
    best_response_unconfirmed: str
    # The first CR/PR that counts (with confirmation required: the first one later confirmed).
    first_response_date: dt.date | None
    progression_date: dt.date | None
    # The last assessment with an evaluable response (not NE), up to the progression.
    last_adequate_assessment_date: dt.date | None
    baseline_sum_mm: Decimal | None
    best_pct_change: Decimal | None  # the smallest % change from baseline (the waterfall's bar)
    timepoints: tuple[TimepointFact, ...]
    confirmation_required: bool = False


_EVALUABLE = (recist.CR, recist.PR, recist.SD, recist.NON_CR_NON_PD, recist.PD)


def _facts(
    assessments: list[Any], baseline_sum: Decimal | None, *, confirmation_required: bool, interval: int
) -> ResponseFacts:
    points = tuple(
        TimepointFact(
            date=a.date,
            sum_mm=a.sum_mm,
            pct_change_from_baseline=a.pct_change_from_baseline,
            overall_response=engine_label(a.overall_response),
        )
        for a in assessments
        if a.overall_response and not a.after_progression
    )
    series = [(p.date, p.overall_response) for p in points]
    first_response = None
    for i, (day, response) in enumerate(series):
        if response not in (recist.CR, recist.PR):
            continue
        if not confirmation_required or recist.confirmed_level(series, i, interval) is not None:
            first_response = day
            break
    progression = next((p.date for p in points if p.overall_response == recist.PD), None)
    adequate = [p.date for p in points if p.overall_response in _EVALUABLE]
    changes = [p.pct_change_from_baseline for p in points if p.pct_change_from_baseline is not None]
    last = assessments[-1] if assessments else None
    confirmed = engine_label(last.best_response_confirmed_to_date) if last else recist.NE
    unconfirmed = engine_label(last.best_response_unconfirmed_to_date) if last else recist.NE
    return ResponseFacts(
        best_response=(confirmed if confirmation_required else unconfirmed) or recist.NE,
        best_response_unconfirmed=unconfirmed or recist.NE,
        first_response_date=first_response,
        progression_date=progression,
        last_adequate_assessment_date=adequate[-1] if adequate else None,
        baseline_sum_mm=baseline_sum,
        best_pct_change=min(changes) if changes else None,
        timepoints=points,
        confirmation_required=confirmation_required,
    )


def response_facts(subject_ids: Iterable[Any]) -> dict[Any, ResponseFacts]:
    """Each subject's response facts (subjects without a lesion or assessment: BOR NE). Two queries."""
    ids = list(subject_ids)
    if not ids:
        return {}
    sums: dict[Any, Decimal] = defaultdict(Decimal)
    has_targets: set[Any] = set()
    for subject_id, diameter in (
        Lesion.objects.active()
        .filter(subject_id__in=ids, category=LesionCategory.TARGET, not_done_reason="")
        .values_list("subject_id", "diameter_mm")
    ):
        has_targets.add(subject_id)
        sums[subject_id] += diameter or Decimal(0)
    by_subject: dict[Any, list[Any]] = defaultdict(list)
    studies: dict[Any, Any] = {}
    rows = (
        TumorAssessment.objects.active()
        .filter(subject_id__in=ids)
        .select_related("study")
        .order_by("subject_id", "date", "created")
    )
    for row in rows:
        by_subject[row.subject_id].append(row)
        studies[row.subject_id] = row.study
    out: dict[Any, ResponseFacts] = {}
    for subject_id in ids:
        study = studies.get(subject_id)
        out[subject_id] = _facts(
            by_subject.get(subject_id, []),
            sums[subject_id] if subject_id in has_targets else None,
            confirmation_required=bool(study and study.confirmation_required),
            interval=study.confirmation_min_interval_days if study else 28,
        )
    return out


def baseline_lesions(subject: Any) -> list[Lesion]:
    """The subject's baseline lesions (targets and non-targets), in code order."""
    return list(
        Lesion.objects.active()
        .filter(subject=subject, category__in=(LesionCategory.TARGET, LesionCategory.NON_TARGET))
        .order_by("category", "code")
    )


def measurable_disease(subject: Any) -> bool | None:
    """RECIST 1.1 measurable disease at baseline from the stored lesions: a target judged measurable
    by the engine (None: no baseline lesion recorded yet, the answer is the disease baseline form's)."""
    lesions = baseline_lesions(subject)
    if not lesions:
        return None
    return any(
        lesion.category == LesionCategory.TARGET and lesion.measurability == recist.MEASURABLE
        for lesion in lesions
    )
