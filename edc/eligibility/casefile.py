"""The eligibility case format (../shared/domain/case-files.md, "Eligibility case") read into
the dataclasses of `eligibility.py`. Pure: no Django.

A malformed case raises CaseError naming the case and the field. What is not malformed but cannot
be read is kept and reported as a warning instead of guessed: a lab in an unknown unit stays in
the case (the criteria that read it need review, naming the unit), a lab test outside the
catalogue is ignored (no rule can read it). An unknown event in `dates` is an error, not a
warning: the case lists the whole history, so a misspelt event would read as "did not happen".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from edc.core.units import UnitError, normalize_unit, to_decimal
from edc.eligibility.eligibility import LabResult, Patient, PregnancyTest, Subject
from edc.eligibility.rules import EVENTS, FIELDS, UPROT_ORDER

PREGNANCY_RESULTS = ("negative", "positive", "not_applicable")
CASE_KEYS = {
    "id",
    "study",
    "as_of",
    "subject",
    "ecog",
    "vitals",
    "labs",
    "dates",
    "pregnancy_test",
    "confirmations",
    "confirm_unstructured",
    "description",
    "comment",
    "notes",
}
# Dipstick spellings labs print besides the catalogue's.
UPROT_ALIASES = {"neg": "negative", "-": "negative", "+": "1+", "++": "2+", "+++": "3+", "++++": "4+"}
LAB_TESTS = tuple(name for name, spec in FIELDS.items() if spec.lab)


class CaseError(ValueError):
    def __init__(self, case_id: str, field: str, message: str) -> None:
        super().__init__(f"case {case_id}: {field}: {message}")
        self.case_id = case_id
        self.field = field
        self.message = message


@dataclass(frozen=True)
class EligibilityCase:
    id: str
    study: str
    as_of: date
    patient: Patient
    warnings: tuple[str, ...] = ()


def case_id_of(raw: Any, index: int) -> str:
    """The case's id for messages, or its position when the id itself is missing."""
    if isinstance(raw, dict) and isinstance(raw.get("id"), (str, int)) and not isinstance(raw["id"], bool):
        return str(raw["id"])
    return f"cases[{index}]"


def parse_cases(document: Any) -> list[Any]:
    """The raw case objects of a file: `{"cases": [...]}` (a bare list is accepted too)."""
    if isinstance(document, dict) and isinstance(document.get("cases"), list):
        return document["cases"]
    if isinstance(document, list):
        return document
    raise CaseError("-", "cases", 'the file must be an object {"cases": [...]}')


def parse_case(raw: Any, index: int = 0) -> EligibilityCase:
    case_id = case_id_of(raw, index)

    def fail(field: str, message: str) -> CaseError:
        return CaseError(case_id, field, message)

    if not isinstance(raw, dict):
        raise fail("case", "must be an object")
    if "id" not in raw:
        raise fail("id", "missing")
    if not isinstance(raw["id"], (str, int)) or isinstance(raw["id"], bool) or str(raw["id"]) == "":
        raise fail("id", "must be a non-empty string")
    unknown = sorted(set(raw) - CASE_KEYS)
    if unknown:
        raise fail(unknown[0], "unknown field")
    study = raw.get("study")
    if isinstance(study, int) and not isinstance(study, bool):
        study = str(study)
    if not isinstance(study, str) or not study.strip():
        raise fail("study", "missing (a protocol id, registry id or primary key)")
    as_of = _date(raw.get("as_of"), "as_of", fail, required=True)
    warnings: list[str] = []

    subject_raw = raw.get("subject") or {}
    if not isinstance(subject_raw, dict):
        raise fail("subject", "must be an object")
    _no_extra(subject_raw, {"birth_year", "sex"}, "subject", fail)
    birth_year = subject_raw.get("birth_year")
    if birth_year is not None and (not _is_int(birth_year) or not 1880 <= birth_year <= as_of.year):
        raise fail("subject.birth_year", f"must be a year no later than as_of, not {birth_year!r}")
    sex = subject_raw.get("sex")
    if sex is not None and sex not in ("M", "F"):
        raise fail("subject.sex", f"must be M or F, not {sex!r}")

    ecog = raw.get("ecog")
    if ecog is not None and (not _is_int(ecog) or not 0 <= ecog <= 5):
        raise fail("ecog", f"must be a whole number 0-5, not {ecog!r}")

    vitals = raw.get("vitals") or {}
    if not isinstance(vitals, dict):
        raise fail("vitals", "must be an object")
    _no_extra(vitals, {"weight_kg", "height_cm"}, "vitals", fail)
    weight = _number(vitals.get("weight_kg"), "vitals.weight_kg", fail, positive=True)
    height = _number(vitals.get("height_cm"), "vitals.height_cm", fail, positive=True)

    labs_raw = raw.get("labs") or []
    if not isinstance(labs_raw, list):
        raise fail("labs", "must be a list")
    labs = []
    for i, lab_raw in enumerate(labs_raw):
        lab = _lab(lab_raw, f"labs[{i}]", fail, warnings)
        if lab is not None:
            labs.append(lab)

    dates_raw = raw.get("dates") or {}
    if not isinstance(dates_raw, dict):
        raise fail("dates", "must be an object")
    dates: dict[str, date] = {}
    for event, value in dates_raw.items():
        if event not in EVENTS or event == "first_dose":
            raise fail(f"dates.{event}", f"unknown event (one of {', '.join(EVENTS[:-1])})")
        parsed = _date(value, f"dates.{event}", fail, required=False)
        if parsed is not None:
            dates[event] = parsed

    pregnancy = None
    pregnancy_raw = raw.get("pregnancy_test")
    if pregnancy_raw is not None:
        if not isinstance(pregnancy_raw, dict):
            raise fail("pregnancy_test", "must be an object {date, result}")
        _no_extra(pregnancy_raw, {"date", "result"}, "pregnancy_test", fail)
        result = pregnancy_raw.get("result")
        if result not in PREGNANCY_RESULTS:
            choices = ", ".join(PREGNANCY_RESULTS)
            raise fail("pregnancy_test.result", f"must be one of {choices}, not {result!r}")
        pregnancy = PregnancyTest(
            result=result, date=_date(pregnancy_raw.get("date"), "pregnancy_test.date", fail, required=False)
        )

    confirmations_raw = raw.get("confirmations") or {}
    if not isinstance(confirmations_raw, dict):
        raise fail("confirmations", "must be an object keyed by criterion number")
    for key, answer in confirmations_raw.items():
        if answer not in ("met", "not_met"):
            raise fail(f"confirmations.{key}", f"must be met or not_met, not {answer!r}")

    confirm_unstructured = raw.get("confirm_unstructured", False)
    if not isinstance(confirm_unstructured, bool):
        raise fail("confirm_unstructured", "must be true or false")

    patient = Patient(
        subject=Subject(birth_year=birth_year, sex=sex),
        ecog=ecog,
        weight_kg=weight,
        height_cm=height,
        labs=tuple(labs),
        dates=dates,
        pregnancy_test=pregnancy,
        confirmations={str(k): v for k, v in confirmations_raw.items()},
        confirm_unstructured=confirm_unstructured,
    )
    return EligibilityCase(case_id, study.strip(), as_of, patient, tuple(warnings))


def _lab(raw: Any, where: str, fail: Any, warnings: list[str]) -> LabResult | None:
    if not isinstance(raw, dict):
        raise fail(where, "must be an object {test, value, unit, lln, uln, date}")
    _no_extra(raw, {"test", "value", "unit", "lln", "uln", "date"}, where, fail)
    test = raw.get("test")
    if not isinstance(test, str) or not test.strip():
        raise fail(f"{where}.test", "missing")
    test = test.strip().upper()
    if test not in LAB_TESTS:
        known = ", ".join(LAB_TESTS)
        warnings.append(f"{where}.test: unknown test {raw['test']!r}, ignored (known: {known})")
        return None
    lab_date = _date(raw.get("date"), f"{where}.date", fail, required=False)
    if "value" not in raw or raw["value"] is None:
        raise fail(f"{where}.value", "missing")
    if test == "UPROT":
        text = str(raw["value"]).strip().lower()
        text = UPROT_ALIASES.get(text, text)
        if text not in UPROT_ORDER:
            raise fail(f"{where}.value", f"urine protein must be one of {', '.join(UPROT_ORDER)}")
        return LabResult(test=test, value=text, unit=None, date=lab_date)
    value = _number(raw["value"], f"{where}.value", fail)
    unit = raw.get("unit")
    if unit is not None and not isinstance(unit, str):
        raise fail(f"{where}.unit", "must be text")
    if unit is None and test != "INR":
        raise fail(f"{where}.unit", f"missing for {test}")
    if unit is not None:
        try:
            normalize_unit(unit)
        except UnitError as exc:
            # Kept: the criteria reading this lab need review and say why.
            warnings.append(f"{where}.unit: {exc} ({test})")
    return LabResult(
        test=test,
        value=value,  # type: ignore[arg-type]
        unit=unit,
        lln=_number(raw.get("lln"), f"{where}.lln", fail),
        uln=_number(raw.get("uln"), f"{where}.uln", fail),
        date=lab_date,
    )


def _no_extra(raw: dict, allowed: set[str], where: str, fail: Any) -> None:
    extra = sorted(str(k) for k in raw if k not in allowed)
    if extra:
        raise fail(f"{where}.{extra[0]}", "unknown field")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value: Any, where: str, fail: Any, positive: bool = False) -> Decimal | None:
    if value is None:
        return None
    try:
        number = to_decimal(value)
    except UnitError:
        raise fail(where, f"must be a number, not {value!r}") from None
    if positive and number <= 0:
        raise fail(where, f"must be positive, not {value!r}")
    return number


def _date(value: Any, where: str, fail: Any, required: bool) -> date | None:
    if value is None:
        if required:
            raise fail(where, "missing (YYYY-MM-DD)")
        return None
    if not isinstance(value, str):
        raise fail(where, f"must be a date YYYY-MM-DD, not {value!r}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise fail(where, f"must be a date YYYY-MM-DD, not {value!r}") from None
