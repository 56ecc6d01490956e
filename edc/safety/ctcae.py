"""CTCAE v5.0: the term list parser and the grading engine (pure, no Django).

The NCI workbook gives thresholds as free text, so the numeric rules are
encoded here, term by term, from the text of ``CTCAE_v5.0_clean_copy.csv``
(vendored in ``edc/safety/data/ctcae/``); each result cites the grade cell that
matched (``criterion``).

This module reads no file, database or environment: the caller passes the terms
it grades with (``Dictionary(terms, version=...)``, built by
``edc.safety.selectors.ctcae_dictionary`` from the terms ``load_ctcae`` stored),
and ``parse_ctcae_csv`` parses text it is given. Conventions:

- A ``;`` inside a grade means "or": the grade is the highest grade any of
  whose alternatives is met (value bands and clinical qualifiers alike).
- Bands are read as CTCAE writes them: "<LLN - 1500/mm3" is LLN > v >= 1500,
  "<1500 - 1000/mm3" is 1500 > v >= 1000; ">ULN - 3.0 x ULN" is
  ULN < v <= 3 x ULN. Only grade 1 needs LLN/ULN; higher grades are absolute.
- Values are converted with :mod:`edc.core.units` to the unit of the
  threshold; LLN, ULN and baseline are in the value's unit. Where the CTCAE
  text gives the threshold in several units (anemia in g/dL, g/L and mmol/L)
  the alternative in the value's own unit is used, so no rounding is added.
- A qualifier that is absent counts as "no" (not reported).
- A grade whose cell is " -" is never produced: a final guard turns it into
  ``None`` with the reason.
- Grade 5 (death) is never derived from values.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final

from edc.core.labs import LabValue
from edc.core.units import UnitError, convert, dimension, normalize_unit

VERSION: Final = "5.0"
# Terms and SOCs NCI published per version: a file of a known version must hold exactly these.
EXPECTED_COUNTS: Final[dict[str, tuple[int, int]]] = {"5.0": (837, 26)}
EXPECTED_TERMS: Final = EXPECTED_COUNTS[VERSION][0]
EXPECTED_SOCS: Final = EXPECTED_COUNTS[VERSION][1]
NOT_ENCODED: Final = "grading by value not encoded; grade clinically"

# The CSV header after stripping spaces and NBSPs -> our field name. The change-note column is named
# after the file's own version ("CTCAE v5.0 Change"): _CHANGE_COLUMN.
_COLUMNS: Final[dict[str, str]] = {
    "MedDRA Code": "meddra_code",
    "MedDRA SOC": "soc",
    "CTCAE Term": "term",
    "Grade 1": "grade_1",
    "Grade 2": "grade_2",
    "Grade 3": "grade_3",
    "Grade 4": "grade_4",
    "Grade 5": "grade_5",
    "Definition": "definition",
    "Navigational Note": "navigational_note",
}
_CHANGE_COLUMN: Final = re.compile(r"CTCAE v(\d+(?:\.\d+)*) Change")


class CtcaeFileError(ValueError):
    """The term list is malformed; the message names the file, row and field."""


class CtcaeError(ValueError):
    """One grading request cannot be graded (unknown term, unit or bad field)."""


# --------------------------------------------------------------------------- term list


@dataclass(frozen=True)
class TermText:
    """One CTCAE term as NCI wrote it; a grade that does not exist is ``None``."""

    meddra_code: str
    soc: str
    term: str
    grades: tuple[str | None, str | None, str | None, str | None, str | None]
    definition: str
    navigational_note: str
    change_note: str

    def grade_text(self, grade: int) -> str | None:
        return self.grades[grade - 1]

    def allowed_grades(self) -> tuple[int, ...]:
        return tuple(n for n in range(1, 6) if self.grades[n - 1] is not None)


def _cell(text: str) -> str | None:
    # NCI writes " -" for a grade (or definition) that does not apply.
    return None if text.strip() == "-" else text


def parse_ctcae_csv(text: str, *, source: str = "<csv>", version: str = VERSION) -> list[TermText]:
    """Parse and validate a CTCAE clean-copy CSV of ``version``: the one parser of the term list.

    ``text`` is the file's content (the caller reads it). The change-note column must name the same
    version ("CTCAE v5.0 Change"); for a version NCI's counts are known of (5.0: 837 terms, 26 SOCs)
    the file must hold exactly those.
    """
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise CtcaeFileError(f"{source}: empty file") from None
    names = [h.strip(" \u00a0\ufeff") for h in header]
    change_column = f"CTCAE v{version} Change"
    missing = [col for col in (*_COLUMNS, change_column) if col not in names]
    if change_column in missing:
        other = [m.group(1) for m in map(_CHANGE_COLUMN.fullmatch, names) if m]
        if other:
            raise CtcaeFileError(
                f"{source}: row 1 (header): column 'CTCAE v{other[0]} Change' is of CTCAE v{other[0]}, "
                f"not the v{version} being loaded"
            )
    if missing:
        raise CtcaeFileError(f"{source}: row 1 (header): missing column(s) {', '.join(missing)}")
    index = {_COLUMNS[name]: names.index(name) for name in _COLUMNS}
    index["change_note"] = names.index(change_column)
    terms: list[TermText] = []
    codes: set[str] = set()
    term_names: set[str] = set()
    for row_number, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) < len(names):
            raise CtcaeFileError(f"{source}: row {row_number}: expected {len(names)} fields, got {len(row)}")
        values = {key: row[i] for key, i in index.items()}
        code = values["meddra_code"].strip()
        if not re.fullmatch(r"\d{8}", code):
            raise CtcaeFileError(f"{source}: row {row_number}: field 'MedDRA Code' is not 8 digits: {code!r}")
        if code in codes:
            raise CtcaeFileError(f"{source}: row {row_number}: field 'MedDRA Code' repeats {code}")
        term = values["term"].strip()
        if not term:
            raise CtcaeFileError(f"{source}: row {row_number}: field 'CTCAE Term' is empty")
        if term in term_names:
            raise CtcaeFileError(f"{source}: row {row_number}: field 'CTCAE Term' repeats {term!r}")
        soc = values["soc"].strip()
        if not soc:
            raise CtcaeFileError(f"{source}: row {row_number}: field 'MedDRA SOC' is empty")
        g1, g2, g3, g4, g5 = (_cell(values[f"grade_{n}"]) for n in range(1, 6))
        grades = (g1, g2, g3, g4, g5)
        if all(g is None for g in grades):
            raise CtcaeFileError(f"{source}: row {row_number}: fields 'Grade 1'..'Grade 5' are all ' -'")
        codes.add(code)
        term_names.add(term)
        terms.append(
            TermText(
                meddra_code=code,
                soc=soc,
                term=term,
                grades=grades,
                definition=_cell(values["definition"]) or "",
                navigational_note=values["navigational_note"].strip(),
                change_note=values["change_note"].strip(),
            )
        )
    if not terms:
        raise CtcaeFileError(f"{source}: no terms")
    expected = EXPECTED_COUNTS.get(version)
    if expected is not None:
        expected_terms, expected_socs = expected
        if len(terms) != expected_terms:
            raise CtcaeFileError(
                f"{source}: expected {expected_terms} CTCAE v{version} terms, found {len(terms)}"
            )
        socs = {t.soc for t in terms}
        if len(socs) != expected_socs:
            raise CtcaeFileError(
                f"{source}: field 'MedDRA SOC': expected {expected_socs} SOCs, found {len(socs)}"
            )
    return terms


class Dictionary:
    """The terms of one CTCAE version, by exact name and by MedDRA code.

    Built from the terms the caller passes (from the database in the product, see
    ``edc.safety.selectors.ctcae_dictionary``); it reads nothing itself.
    """

    def __init__(self, terms: Iterable[TermText], *, version: str = VERSION):
        self.version = version
        self.terms = list(terms)
        self.by_term = {t.term: t for t in self.terms}
        self.by_code = {t.meddra_code: t for t in self.terms}

    def lookup(self, term: str | None, meddra_code: str | None) -> TermText:
        by_term = by_code = None
        if term is not None:
            by_term = self.by_term.get(term.strip())
            if by_term is None:
                raise CtcaeError(f"unknown CTCAE v{self.version} term {term!r}")
        if meddra_code is not None:
            by_code = self.by_code.get(str(meddra_code).strip())
            if by_code is None:
                raise CtcaeError(f"unknown CTCAE v{self.version} MedDRA code {meddra_code!r}")
        if by_term and by_code and by_term is not by_code:
            raise CtcaeError(
                f"term {term!r} and MedDRA code {meddra_code!r} name different terms ({by_code.term!r})"
            )
        found = by_term or by_code
        if found is None:
            raise CtcaeError("a term or a meddra_code is required")
        return found


# --------------------------------------------------------------------------- requests


QUALIFIERS: Final = ("symptomatic", "hospitalized", "transfusion_given", "intervention", "life_threatening")


@dataclass(frozen=True)
class GradingRequest:
    term: str | None = None
    meddra_code: str | None = None
    value: Decimal | str | None = None  # text only for a urine dipstick ("2+")
    unit: str | None = None
    lln: Decimal | None = None
    uln: Decimal | None = None
    baseline_value: Decimal | None = None
    systolic: Decimal | None = None
    diastolic: Decimal | None = None
    population: str = "adult"
    previously_normal: bool = True
    # Pediatric BP percentiles (mmHg) for the child's age, sex and height:
    # {"systolic": {"p90":, "p95":, "p99":}, "diastolic": {...}}
    percentiles: Mapping[str, Mapping[str, Decimal]] | None = None
    anc: Decimal | None = None
    anc_unit: str | None = None
    temperature_c: Decimal | None = None
    sustained_hours: Decimal | None = None
    ionized: bool = False  # calcium: ionized rather than corrected serum calcium
    upc_ratio: Decimal | None = None  # pediatric urine protein/creatinine ratio
    symptomatic: bool = False
    hospitalized: bool = False
    transfusion_given: bool = False
    # True, or for hyperglycemia the kind: "oral_agent", "insulin", "urgent".
    intervention: bool | str = False
    life_threatening: bool = False


@dataclass(frozen=True)
class GradeResult:
    grade: int | None
    criterion: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"grade": self.grade, "criterion": self.criterion, "reason": self.reason}


def lab_request(
    term: str, lab: LabValue, baseline: LabValue | None = None, **qualifiers: Any
) -> GradingRequest:
    """A grading request for one stored lab result (the system's one lab value, edc/core/labs.py):
    its value, unit, LLN and ULN, and the patient's baseline of the same test in the same unit."""
    base = None
    if baseline is not None and isinstance(baseline.value, Decimal):
        same_unit = baseline.unit is None or lab.unit is None or baseline.unit == lab.unit
        base = baseline.value if same_unit else baseline.in_unit(lab.unit)  # type: ignore[arg-type]
    return GradingRequest(
        term=term, value=lab.value, unit=lab.unit, lln=lab.lln, uln=lab.uln, baseline_value=base, **qualifiers
    )


def request_from_case(case: Mapping[str, Any]) -> GradingRequest:
    """Build a request from one case of the CTCAE case file; raises CtcaeError naming the field.

    The format is described once, as a pydantic model in ``edc.safety.casefile`` (imported here,
    not at the top: that module builds on this one).
    """
    from edc.safety.casefile import RequestError, grading_request

    try:
        return grading_request(case)
    except RequestError as exc:
        raise CtcaeError(str(exc)) from None


# --------------------------------------------------------------------------- grading helpers


@dataclass(frozen=True)
class _Found:
    """A rule's answer before the dictionary text is attached."""

    grade: int | None
    reason: str


def _fmt(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text


def _max_grade(*found: _Found) -> _Found:
    graded = [f for f in found if f.grade is not None]
    if not graded:
        return found[0]
    best = max(graded, key=lambda f: f.grade or 0)
    return best


def _numeric_value(req: GradingRequest) -> Decimal:
    if req.value is None:
        raise CtcaeError("field 'value' is required")
    if not isinstance(req.value, Decimal):
        raise CtcaeError(f"field 'value' is not a number: {req.value!r}")
    return req.value


def _value_unit(req: GradingRequest) -> str:
    if req.unit is None:
        raise CtcaeError("field 'unit' is required")
    try:
        return normalize_unit(req.unit)
    except UnitError as exc:
        raise CtcaeError(str(exc)) from None


def _to(value: Decimal, unit: str, target: str, analyte: str | None, name: str = "value") -> Decimal:
    try:
        return convert(value, unit, target, analyte=analyte)
    except UnitError as exc:
        raise CtcaeError(f"field {name!r}: {exc}") from None


def _choose_unit(unit: str, options: Iterable[str], analyte: str | None) -> str:
    """Pick the threshold alternative to compare in: the value's own unit when CTCAE gives it."""
    options = list(options)
    if unit in options:
        return unit
    dim = dimension(unit)
    for option in options:
        if dimension(option) == dim:
            return option
    if dim == "equivalent_concentration":
        for option in options:
            if dimension(option) == "substance_concentration":
                return option
    for option in options:
        try:
            convert(1, unit, option, analyte=analyte)
        except UnitError:
            continue
        return option
    raise CtcaeError(
        f"field 'unit': cannot compare {unit!r} with the CTCAE thresholds in {', '.join(options)}"
    )


def _qualifier_grade(req: GradingRequest, mapping: Mapping[str, int]) -> _Found:
    best: _Found = _Found(None, "")
    for name, grade_ in mapping.items():
        if getattr(req, name) and (best.grade is None or grade_ > best.grade):
            best = _Found(grade_, f"{name.replace('_', ' ')}")
    return best


# --------------------------------------------------------------------------- rules


Rule = Callable[[GradingRequest], _Found]


@dataclass(frozen=True)
class Bands:
    """Value bands from one direction: thresholds[k] is the edge between grade k+1 and k+2.

    ``units`` maps each unit CTCAE states to its thresholds in that unit.
    """

    direction: str  # "low": below LLN; "high": above ULN
    units: Mapping[str, tuple[Decimal, ...]]
    analyte: str | None = None
    qualifiers: Mapping[str, int] = field(default_factory=dict)
    symptomatic_upgrade: Mapping[int, int] = field(default_factory=dict)
    # The grade beyond each threshold, where a grade has no value band (hypokalemia's grade 2).
    beyond_grades: tuple[int, ...] | None = None

    def __call__(self, req: GradingRequest) -> _Found:
        if req.value is None and req.unit is None:
            found = _qualifier_grade(req, self.qualifiers)
            if found.grade is None:
                return _Found(None, "no value and no qualifier given")
            return _Found(found.grade, f"{found.reason} (no value given)")
        value = _numeric_value(req)
        unit = _value_unit(req)
        target = _choose_unit(unit, self.units, self.analyte)
        thresholds = self.units[target]
        v = _to(value, unit, target, self.analyte)
        shown = f"{_fmt(value)} {req.unit}" + ("" if target == unit else f" = {_fmt(round(v, 4))} {target}")
        by_value = self._by_value(req, v, unit, target, thresholds, shown)
        if by_value.grade is not None and req.symptomatic and by_value.grade in self.symptomatic_upgrade:
            by_value = _Found(self.symptomatic_upgrade[by_value.grade], by_value.reason + ", symptomatic")
        by_qualifier = _qualifier_grade(req, self.qualifiers)
        if by_qualifier.grade is not None and (by_value.grade is None or by_qualifier.grade > by_value.grade):
            return _Found(by_qualifier.grade, f"{shown}; {by_qualifier.reason}")
        return by_value

    def _by_value(
        self,
        req: GradingRequest,
        v: Decimal,
        unit: str,
        target: str,
        thresholds: tuple[Decimal, ...],
        shown: str,
    ) -> _Found:
        low = self.direction == "low"
        # Beyond the last edge: the highest value grade; walk inward from there.
        for k in range(len(thresholds) - 1, -1, -1):
            edge = thresholds[k]
            beyond = v < edge if low else v > edge
            if beyond:
                sign = "<" if low else ">"
                grade_ = self.beyond_grades[k] if self.beyond_grades else k + 2
                return _Found(grade_, f"{shown} {sign} {_fmt(edge)} {target}")
        limit_name = "LLN" if low else "ULN"
        limit_raw = req.lln if low else req.uln
        if limit_raw is None:
            return _Found(
                None, f"{shown} is within grade 1's range only if beyond {limit_name}; {limit_name} needed"
            )
        limit = _to(limit_raw, unit, target, self.analyte, limit_name.lower())
        abnormal = v < limit if low else v > limit
        if not abnormal:
            word = "below" if low else "above"
            return _Found(None, f"{shown} is not {word} {limit_name} {_fmt(limit_raw)} {req.unit}")
        sign = "<" if low else ">"
        return _Found(1, f"{shown} {sign} {limit_name} {_fmt(limit_raw)} {req.unit}")


def _d(*values: str) -> tuple[Decimal, ...]:
    return tuple(Decimal(v) for v in values)


@dataclass(frozen=True)
class UlnMultiples:
    """Liver tests: multiples of ULN when baseline was normal, of baseline when it was abnormal."""

    uln_edges: tuple[Decimal, ...]  # grade 1 is (ULN, e1]; grade 2 (e1, e2]; ...
    baseline_edges: tuple[Decimal, ...]  # grade 1 from b0 (inclusive unless b0_exclusive); then (b1, b2]...
    baseline_first_exclusive: bool = False
    analyte: str | None = None
    expected_unit: str = "U/L"

    def __call__(self, req: GradingRequest) -> _Found:
        value = _numeric_value(req)
        unit = _value_unit(req)
        try:
            convert(1, unit, self.expected_unit, analyte=self.analyte)
        except UnitError as exc:
            raise CtcaeError(f"field 'unit': {exc}") from None
        if req.uln is None:
            return _Found(None, "ULN needed")
        uln = req.uln
        baseline = req.baseline_value
        abnormal_baseline = baseline is not None and (
            baseline > uln or (req.lln is not None and baseline < req.lln)
        )
        if abnormal_baseline:
            assert baseline is not None
            if baseline <= 0:
                raise CtcaeError("field 'baseline_value' must be positive")
            ratio = value / baseline
            edges = self.baseline_edges
            shown = (
                f"{_fmt(value)} {req.unit} = {_fmt(round(ratio, 3))} x baseline {_fmt(baseline)} (abnormal)"
            )
            for k in range(len(edges) - 1, 0, -1):
                if ratio > edges[k]:
                    return _Found(k + 1, f"{shown} > {_fmt(edges[k])} x baseline")
            first = edges[0]
            met = ratio > first if self.baseline_first_exclusive else ratio >= first
            if met:
                return _Found(
                    1, f"{shown} {'>' if self.baseline_first_exclusive else '>='} {_fmt(first)} x baseline"
                )
            return _Found(None, f"{shown} is below grade 1's {_fmt(first)} x baseline")
        if uln <= 0:
            raise CtcaeError("field 'uln' must be positive")
        ratio = value / uln
        note = "" if baseline is not None else "; no baseline given, graded as normal baseline"
        shown = f"{_fmt(value)} {req.unit} = {_fmt(round(ratio, 3))} x ULN {_fmt(uln)}{note}"
        for k in range(len(self.uln_edges) - 1, -1, -1):
            if ratio > self.uln_edges[k]:
                return _Found(k + 2, f"{shown} > {_fmt(self.uln_edges[k])} x ULN")
        if value > uln:
            return _Found(1, f"{shown} > ULN")
        return _Found(None, f"{shown} is not above ULN")


def _creatinine(req: GradingRequest) -> _Found:
    value = _numeric_value(req)
    unit = _value_unit(req)
    try:
        convert(1, unit, "mg/dL", analyte="CREAT")
    except UnitError as exc:
        raise CtcaeError(f"field 'unit': {exc}") from None
    results: list[_Found] = []
    if req.uln is not None:
        ratio = value / req.uln
        shown = f"{_fmt(value)} {req.unit} = {_fmt(round(ratio, 3))} x ULN {_fmt(req.uln)}"
        for grade_, edge in ((4, "6.0"), (3, "3.0"), (2, "1.5")):
            if ratio > Decimal(edge):
                results.append(_Found(grade_, f"{shown} > {edge} x ULN"))
                break
        else:
            if ratio > 1:
                results.append(_Found(1, f"{shown} > ULN"))
            else:
                results.append(_Found(None, f"{shown} is not above ULN"))
    if req.baseline_value is not None:
        if req.baseline_value <= 0:
            raise CtcaeError("field 'baseline_value' must be positive")
        ratio = value / req.baseline_value
        shown = f"{_fmt(value)} {req.unit} = {_fmt(round(ratio, 3))} x baseline {_fmt(req.baseline_value)}"
        if ratio > 3:
            results.append(_Found(3, f"{shown} > 3.0 x baseline"))
        elif ratio > Decimal("1.5"):
            results.append(_Found(2, f"{shown} > 1.5 x baseline"))
        else:
            results.append(_Found(None, f"{shown} is not above 1.5 x baseline"))
    if not results:
        return _Found(None, "ULN or baseline_value needed")
    best = _max_grade(*results)
    if best.grade is None:
        return _Found(None, "; ".join(r.reason for r in results))
    return best


def _pancreatic_enzyme(req: GradingRequest) -> _Found:
    value = _numeric_value(req)
    unit = _value_unit(req)
    try:
        convert(1, unit, "U/L")
    except UnitError as exc:
        raise CtcaeError(f"field 'unit': {exc}") from None
    if req.uln is None:
        return _Found(None, "ULN needed")
    ratio = value / req.uln
    symptoms = "with signs or symptoms" if req.symptomatic else "asymptomatic"
    shown = f"{_fmt(value)} {req.unit} = {_fmt(round(ratio, 3))} x ULN {_fmt(req.uln)}"
    if ratio > 5:
        return _Found(4 if req.symptomatic else 3, f"{shown} > 5.0 x ULN, {symptoms}")
    if ratio > 2:
        return _Found(3 if req.symptomatic else 2, f"{shown} > 2.0 - 5.0 x ULN, {symptoms}")
    if ratio > Decimal("1.5"):
        return _Found(2, f"{shown} > 1.5 - 2.0 x ULN")
    if ratio > 1:
        return _Found(1, f"{shown} > ULN - 1.5 x ULN")
    return _Found(None, f"{shown} is not above ULN")


def _hypertension(req: GradingRequest) -> _Found:
    by_qualifier = _qualifier_grade(req, {"intervention": 2, "life_threatening": 4})
    if req.systolic is None and req.diastolic is None:
        if by_qualifier.grade is None:
            return _Found(None, "systolic or diastolic (mmHg) needed")
        return by_qualifier
    by_value = _pediatric_bp(req) if req.population == "pediatric" else _adult_bp(req)
    if by_qualifier.grade is not None and (by_value.grade is None or by_qualifier.grade > by_value.grade):
        return _Found(by_qualifier.grade, f"{by_value.reason}; {by_qualifier.reason}")
    return by_value


def _adult_bp(req: GradingRequest) -> _Found:
    grades: list[_Found] = []
    for name, reading, edges in (
        ("systolic", req.systolic, _d("120", "140", "160")),
        ("diastolic", req.diastolic, _d("80", "90", "100")),
    ):
        if reading is None:
            continue
        shown = f"{name} {_fmt(reading)} mmHg"
        if reading >= edges[2]:
            grades.append(_Found(3, f"{shown} >= {_fmt(edges[2])}"))
        elif reading >= edges[1]:
            grades.append(_Found(2, f"{shown} in {_fmt(edges[1])} - {_fmt(edges[2] - 1)}"))
        elif reading >= edges[0]:
            grades.append(_Found(1, f"{shown} in {_fmt(edges[0])} - {_fmt(edges[1] - 1)}"))
        else:
            grades.append(_Found(None, f"{shown} below {_fmt(edges[0])}"))
    best = _max_grade(*grades)
    if best.grade == 2 and not req.previously_normal:
        # The 140-159 / 90-99 band is grade 2 only "if previously WNL"; for known
        # hypertension grade 2 needs a change in medical intervention.
        return _Found(
            None,
            f"{best.reason} in a patient not previously normal: grade 2 needs a change in baseline "
            "medical intervention, recurrence/persistence or a symptomatic increase; grade clinically",
        )
    if best.grade is None:
        return _Found(None, "; ".join(g.reason for g in grades))
    return best


def _pediatric_bp(req: GradingRequest) -> _Found:
    if not req.percentiles:
        return _Found(
            None,
            "pediatric hypertension is graded by BP percentile for age, sex and height: give percentiles "
            "or grade clinically",
        )
    grades: list[_Found] = []
    for name, reading in (("systolic", req.systolic), ("diastolic", req.diastolic)):
        ref = req.percentiles.get(name)
        if reading is None or not ref:
            continue
        missing = [p for p in ("p90", "p95", "p99") if p not in ref]
        if missing:
            raise CtcaeError(f"field 'percentiles.{name}' lacks {', '.join(missing)}")
        shown = f"{name} {_fmt(reading)} mmHg"
        if reading > ref["p99"] + 5:
            grades.append(_Found(3, f"{shown} > 5 mmHg above the 99th percentile {_fmt(ref['p99'])}"))
        elif reading >= ref["p95"]:
            grades.append(_Found(2, f"{shown} between the 95th percentile and 5 mmHg above the 99th"))
        elif reading > ref["p90"]:
            grades.append(_Found(1, f"{shown} > 90th but < 95th percentile"))
        else:
            grades.append(_Found(None, f"{shown} not above the 90th percentile"))
    if not grades:
        return _Found(None, "no BP reading with its percentiles")
    best = _max_grade(*grades)
    if best.grade is None:
        return _Found(None, "; ".join(g.reason for g in grades))
    return best


def _temperature_c(req: GradingRequest) -> tuple[Decimal, str]:
    value = _numeric_value(req)
    unit = _value_unit(req) if req.unit is not None else "C"
    celsius = _to(value, unit, "C", None)
    shown = f"{_fmt(value)} {req.unit or 'C'}" + ("" if unit == "C" else f" = {_fmt(round(celsius, 2))} C")
    return celsius, shown


def _fever(req: GradingRequest) -> _Found:
    celsius, shown = _temperature_c(req)
    if celsius > 40:
        if req.sustained_hours is None:
            return _Found(3, f"{shown} > 40.0 C, duration not given (taken as <= 24 hrs)")
        if req.sustained_hours > 24:
            return _Found(4, f"{shown} > 40.0 C for {_fmt(req.sustained_hours)} hrs > 24 hrs")
        return _Found(3, f"{shown} > 40.0 C for {_fmt(req.sustained_hours)} hrs <= 24 hrs")
    if celsius > 39:
        return _Found(2, f"{shown} in > 39.0 - 40.0 C")
    if celsius >= 38:
        return _Found(1, f"{shown} in 38.0 - 39.0 C")
    return _Found(None, f"{shown} below 38.0 C")


def _qtc(req: GradingRequest) -> _Found:
    value = _numeric_value(req)
    unit = _value_unit(req)
    ms = _to(value, unit, "ms", None)
    shown = f"QTc {_fmt(ms)} ms"
    results = []
    # Integer bands 450-480 / 481-500 / >=501: a fractional value belongs to the band below the next edge.
    if ms >= 501:
        results.append(_Found(3, f"{shown} >= 501 ms"))
    elif ms >= 481:
        results.append(_Found(2, f"{shown} in 481 - 500 ms"))
    elif ms >= 450:
        results.append(_Found(1, f"{shown} in 450 - 480 ms"))
    else:
        results.append(_Found(None, f"{shown} below 450 ms"))
    if req.baseline_value is not None:
        baseline_ms = _to(req.baseline_value, unit, "ms", None, "baseline_value")
        change = ms - baseline_ms
        if change > 60:
            results.append(_Found(3, f"{shown}: {_fmt(change)} ms change from baseline > 60 ms"))
    if req.life_threatening:
        results.append(_Found(4, f"{shown}; life threatening (serious arrhythmia)"))
    best = _max_grade(*results)
    return best if best.grade is not None else results[0]


def _proteinuria(req: GradingRequest) -> _Found:
    if req.population == "pediatric" and req.upc_ratio is not None:
        ratio = req.upc_ratio
        shown = f"urine P/C ratio {_fmt(ratio)}"
        if ratio > Decimal("1.9"):
            return _Found(3, f"{shown} > 1.9")
        if ratio >= Decimal("0.5"):
            return _Found(2, f"{shown} in 0.5 - 1.9")
        return _Found(None, f"{shown} below 0.5 (grade 1 needs a dipstick or 24-hour protein)")
    if isinstance(req.value, str):
        level = req.value
        grade_ = {"1+": 1, "2+": 2, "3+": 2, "4+": 3}.get(level)
        if grade_ is None:
            return _Found(None, f"dipstick {level}: below 1+")
        if grade_ > 1 and req.population == "pediatric":
            return _Found(None, f"dipstick {level}: pediatric grades 2-3 need the urine P/C ratio")
        return _Found(grade_, f"dipstick {level} proteinuria")
    value = _numeric_value(req)
    unit = _value_unit(req)
    grams = _to(value, unit, "g/24h", None)
    shown = f"{_fmt(value)} {req.unit}" + ("" if unit == "g/24h" else f" = {_fmt(grams)} g/24h")
    if req.population == "pediatric" and grams >= 1:
        return _Found(None, f"{shown}: pediatric grades 2-3 need the urine P/C ratio")
    if grams >= Decimal("3.5"):
        return _Found(3, f"{shown} >= 3.5 g/24 hrs")
    if grams >= 1:
        return _Found(2, f"{shown} in 1.0 - <3.5 g/24 hrs")
    if req.uln is None:
        return _Found(None, f"{shown} < 1.0 g/24 hrs: ULN needed for grade 1")
    uln = _to(req.uln, unit, "g/24h", None, "uln")
    if grams >= uln:
        return _Found(1, f"{shown} in >= ULN {_fmt(req.uln)} {req.unit} - <1.0 g/24 hrs")
    return _Found(None, f"{shown} below ULN {_fmt(req.uln)} {req.unit}")


def _febrile_neutropenia(req: GradingRequest) -> _Found:
    if req.anc is None and req.temperature_c is None:
        if req.life_threatening:
            return _Found(4, "life threatening (no ANC or temperature given)")
        return _Found(None, "anc and temperature_c needed")
    if req.anc is None or req.temperature_c is None:
        return _Found(None, "both anc (with anc_unit) and temperature_c needed")
    if req.anc_unit is None:
        raise CtcaeError("field 'anc_unit' is required")
    try:
        anc = convert(req.anc, req.anc_unit, "/mm3")
    except UnitError as exc:
        raise CtcaeError(f"field 'anc_unit': {exc}") from None
    shown = f"ANC {_fmt(anc)}/mm3, temperature {_fmt(req.temperature_c)} C"
    if anc >= 1000:
        return _Found(None, f"{shown}: ANC not < 1000/mm3")
    temp = req.temperature_c
    if temp > Decimal("38.3"):
        met = _Found(3, f"{shown}: ANC < 1000/mm3 with a single temperature > 38.3 C")
    elif temp >= 38:
        if req.sustained_hours is None:
            return _Found(None, f"{shown}: >= 38 C but not > 38.3 C; sustained_hours needed (> 1 hour)")
        if req.sustained_hours > 1:
            met = _Found(3, f"{shown}: ANC < 1000/mm3 with >= 38 C sustained {_fmt(req.sustained_hours)} hrs")
        else:
            return _Found(
                None, f"{shown}: >= 38 C sustained only {_fmt(req.sustained_hours)} hrs (not > 1 hour)"
            )
    else:
        return _Found(None, f"{shown}: temperature below 38 C")
    if req.life_threatening:
        return _Found(4, f"{met.reason}; life threatening")
    return met


_HYPERGLYCEMIA_INTERVENTIONS: Final = {
    True: 2,
    "oral_agent": 2,
    "management_change": 2,
    "workup": 2,
    "insulin": 3,
    "urgent": 4,
}


def _hyperglycemia(req: GradingRequest) -> _Found:
    found: list[_Found] = []
    if req.intervention:
        key = req.intervention
        if key not in _HYPERGLYCEMIA_INTERVENTIONS:
            raise CtcaeError(
                f"field 'intervention' for hyperglycemia must be true or one of "
                f"{', '.join(k for k in _HYPERGLYCEMIA_INTERVENTIONS if isinstance(k, str))}, got {key!r}"
            )
        found.append(_Found(_HYPERGLYCEMIA_INTERVENTIONS[key], f"intervention: {key}"))
    if req.hospitalized:
        found.append(_Found(3, "hospitalized"))
    if req.life_threatening:
        found.append(_Found(4, "life threatening"))
    if found:
        return _max_grade(*found)
    if isinstance(req.value, Decimal):
        ref = req.baseline_value if req.baseline_value is not None else req.uln
        if ref is None:
            return _Found(
                None, "hyperglycemia is graded by intervention; value given without ULN or baseline"
            )
        if req.value > ref:
            what = "baseline" if req.baseline_value is not None else "ULN"
            return _Found(1, f"glucose {_fmt(req.value)} above {what} with no medical intervention")
        return _Found(None, "glucose not above baseline/ULN")
    return _Found(
        None, "hyperglycemia is graded by intervention: give intervention/hospitalized/life_threatening"
    )


def _calcium(direction: str) -> Rule:
    if direction == "low":
        corrected = {"mg/dL": _d("8.0", "7.0", "6.0"), "mmol/L": _d("2.0", "1.75", "1.5")}
        ionized = {"mmol/L": _d("1.0", "0.9", "0.8")}
    else:
        corrected = {"mg/dL": _d("11.5", "12.5", "13.5"), "mmol/L": _d("2.9", "3.1", "3.4")}
        ionized = {"mmol/L": _d("1.5", "1.6", "1.8")}
    qualifiers = {"symptomatic": 2, "hospitalized": 3, "life_threatening": 4}
    corrected_rule = Bands(direction, corrected, "CA", qualifiers)
    ionized_rule = Bands(direction, ionized, "CA", qualifiers)

    def rule(req: GradingRequest) -> _Found:
        if req.ionized:
            found = ionized_rule(req)
            return _Found(found.grade, f"ionized calcium {found.reason}")
        found = corrected_rule(req)
        return _Found(found.grade, f"corrected serum calcium {found.reason}")

    return rule


_LIFE = {"life_threatening": 4}

RULES: Final[dict[str, Rule]] = {
    "Neutrophil count decreased": Bands("low", {"10^9/L": _d("1.5", "1.0", "0.5")}),
    "Platelet count decreased": Bands("low", {"10^9/L": _d("75.0", "50.0", "25.0")}),
    "White blood cell decreased": Bands("low", {"10^9/L": _d("3.0", "2.0", "1.0")}),
    "Lymphocyte count decreased": Bands("low", {"10^9/L": _d("0.8", "0.5", "0.2")}),
    "Anemia": Bands(
        "low",
        {"g/dL": _d("10.0", "8.0"), "mmol/L": _d("6.2", "4.9"), "g/L": _d("100", "80")},
        "HGB",
        {"transfusion_given": 3, "life_threatening": 4},
    ),
    "Alanine aminotransferase increased": UlnMultiples(
        _d("3.0", "5.0", "20.0"), _d("1.5", "3.0", "5.0", "20.0")
    ),
    "Aspartate aminotransferase increased": UlnMultiples(
        _d("3.0", "5.0", "20.0"), _d("1.5", "3.0", "5.0", "20.0")
    ),
    "Alkaline phosphatase increased": UlnMultiples(_d("2.5", "5.0", "20.0"), _d("2.0", "2.5", "5.0", "20.0")),
    "GGT increased": UlnMultiples(_d("2.5", "5.0", "20.0"), _d("2.0", "2.5", "5.0", "20.0")),
    "Blood bilirubin increased": UlnMultiples(
        _d("1.5", "3.0", "10.0"),
        _d("1.0", "1.5", "3.0", "10.0"),
        baseline_first_exclusive=True,
        analyte="BILI",
        expected_unit="mg/dL",
    ),
    "Creatinine increased": _creatinine,
    "Hyponatremia": Bands(
        "low",
        {"mmol/L": _d("130", "125", "120")},
        "SODIUM",
        _LIFE,
        symptomatic_upgrade={2: 3},
    ),
    "Hypernatremia": Bands(
        "high",
        {"mmol/L": _d("150", "155", "160")},
        "SODIUM",
        {"intervention": 2, "hospitalized": 3, "life_threatening": 4},
    ),
    "Hypokalemia": Bands(
        "low",
        {"mmol/L": _d("3.0", "2.5")},
        "K",
        {"intervention": 2, "hospitalized": 3, "life_threatening": 4},
        symptomatic_upgrade={1: 2},
        beyond_grades=(3, 4),
    ),
    "Hyperkalemia": Bands(
        "high",
        {"mmol/L": _d("5.5", "6.0", "7.0")},
        "K",
        {"intervention": 2, "hospitalized": 3, "life_threatening": 4},
    ),
    "Hypomagnesemia": Bands(
        "low", {"mg/dL": _d("1.2", "0.9", "0.7"), "mmol/L": _d("0.5", "0.4", "0.3")}, "MG", _LIFE
    ),
    "Hypocalcemia": _calcium("low"),
    "Hypercalcemia": _calcium("high"),
    "Hypoglycemia": Bands(
        "low", {"mg/dL": _d("55", "40", "30"), "mmol/L": _d("3.0", "2.2", "1.7")}, "GLUC", _LIFE
    ),
    "Hypoalbuminemia": Bands("low", {"g/dL": _d("3", "2"), "g/L": _d("30", "20")}, None, _LIFE),
    "Lipase increased": _pancreatic_enzyme,
    "Serum amylase increased": _pancreatic_enzyme,
    "Hypertension": _hypertension,
    "Fever": _fever,
    "Electrocardiogram QT corrected interval prolonged": _qtc,
    "Proteinuria": _proteinuria,
    "Febrile neutropenia": _febrile_neutropenia,
    "Hyperglycemia": _hyperglycemia,
}


# The value rules are encoded from one version's text; terms of another version are looked up but
# graded clinically until their rules are encoded here.
RULES_BY_VERSION: Final[dict[str, dict[str, Rule]]] = {VERSION: RULES}


# --------------------------------------------------------------------------- entry point


def grade(request: GradingRequest, dictionary: Dictionary) -> GradeResult:
    """Grade one request with the terms of ``dictionary``.

    Raises CtcaeError for an unknown term or unit or a malformed field.
    """
    term = dictionary.lookup(request.term, request.meddra_code)
    rules = RULES_BY_VERSION.get(dictionary.version)
    if rules is None:
        encoded = ", ".join(f"v{v}" for v in RULES_BY_VERSION)
        return GradeResult(
            None,
            "",
            f"grading by value is encoded for CTCAE {encoded} only, not v{dictionary.version}; "
            "grade clinically",
        )
    rule = rules.get(term.term)
    if rule is None:
        return GradeResult(None, "", NOT_ENCODED)
    found = rule(request)
    if found.grade is None:
        return GradeResult(None, "", found.reason)
    text = term.grade_text(found.grade)
    if text is None:
        return GradeResult(None, "", f"grade {found.grade} does not exist for {term.term} ({found.reason})")
    return GradeResult(found.grade, text, found.reason)


def grade_case(case: Mapping[str, Any], dictionary: Dictionary) -> GradeResult:
    return grade(request_from_case(case), dictionary)
