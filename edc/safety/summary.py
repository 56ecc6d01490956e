"""The safety tables of a study (pure, no Django): subjects with adverse events by MedDRA SOC and
CTCAE term and worst grade, as every safety report shows them.

Rules (ICH E3 section 12.2 practice, issue 20 item 6):

- Counted are **subjects**, not events: a subject with two AEs of one term counts once for the term,
  at the worse grade; once for the SOC; once in the "any AE" row.
- Only treatment-emergent AEs count (an AE that appears, or worsens above its baseline grade, on or
  after the first dose); pre-treatment events are not treatment toxicity.
- The denominator is the safety population: the subjects who received study treatment (``n``);
  percentages are of it, one decimal, half up.
- Tables: ``all`` (every TEAE), ``related`` (related to any agent: possible, probable, definite),
  ``serious``, ``discontinuation`` (an agent withdrawn for the AE), ``immune_related``. Each row gives
  subjects with any grade, with grade >= 3, and by worst grade 1-5.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Final

TABLES: Final = ("all", "related", "serious", "discontinuation", "immune_related")
TABLE_TITLES: Final = {
    "all": "Treatment-emergent adverse events",
    "related": "Treatment-related adverse events",
    "serious": "Serious adverse events",
    "discontinuation": "Adverse events leading to discontinuation of a study agent",
    "immune_related": "Immune-related adverse events",
}


@dataclass(frozen=True)
class AeFact:
    """One treatment-emergent AE as the tables read it."""

    subject: str
    soc: str
    term: str
    worst_grade: int
    related: bool = False
    serious: bool = False
    discontinuation: bool = False
    immune_related: bool = False


@dataclass(frozen=True)
class Row:
    level: str
    """``any``, ``soc`` or ``term``."""
    soc: str
    term: str
    any_grade: int
    grade_3_or_more: int
    by_grade: tuple[int, int, int, int, int]
    any_grade_pct: Decimal | None
    grade_3_or_more_pct: Decimal | None


@dataclass(frozen=True)
class Table:
    code: str
    title: str
    denominator: int
    rows: tuple[Row, ...] = field(default_factory=tuple)


def pct(count: int, denominator: int) -> Decimal | None:
    if denominator <= 0:
        return None
    return (Decimal(count) * 100 / Decimal(denominator)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _row(level: str, soc: str, term: str, worst: dict[str, int], n: int) -> Row:
    by_grade = [0, 0, 0, 0, 0]
    for grade in worst.values():
        by_grade[grade - 1] += 1
    high = sum(by_grade[2:])
    return Row(
        level=level,
        soc=soc,
        term=term,
        any_grade=len(worst),
        grade_3_or_more=high,
        by_grade=(by_grade[0], by_grade[1], by_grade[2], by_grade[3], by_grade[4]),
        any_grade_pct=pct(len(worst), n),
        grade_3_or_more_pct=pct(high, n),
    )


def _keep(worst: dict[str, int], subject: str, grade: int) -> None:
    if grade > worst.get(subject, 0):
        worst[subject] = grade


def table(code: str, facts: Iterable[AeFact], *, denominator: int) -> Table:
    """One table: the "any AE" row, then each SOC (alphabetical) followed by its terms (by subjects
    with any grade, most first, then by name)."""
    if code not in TABLES:
        raise ValueError(f"unknown safety table {code!r}; one of {', '.join(TABLES)}")
    overall: dict[str, int] = {}
    socs: dict[str, dict[str, int]] = {}
    terms: dict[tuple[str, str], dict[str, int]] = {}
    for fact in facts:
        if code != "all" and not getattr(fact, code):
            continue
        _keep(overall, fact.subject, fact.worst_grade)
        _keep(socs.setdefault(fact.soc, {}), fact.subject, fact.worst_grade)
        _keep(terms.setdefault((fact.soc, fact.term), {}), fact.subject, fact.worst_grade)
    rows = [_row("any", "", "", overall, denominator)]
    for soc in sorted(socs):
        rows.append(_row("soc", soc, "", socs[soc], denominator))
        soc_terms = [(term, worst) for (s, term), worst in terms.items() if s == soc]
        for term, worst in sorted(soc_terms, key=lambda item: (-len(item[1]), item[0])):
            rows.append(_row("term", soc, term, worst, denominator))
    return Table(code=code, title=TABLE_TITLES[code], denominator=denominator, rows=tuple(rows))


def tables(facts: Iterable[AeFact], *, denominator: int) -> tuple[Table, ...]:
    facts = list(facts)
    return tuple(table(code, facts, denominator=denominator) for code in TABLES)
