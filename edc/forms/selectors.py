"""Reads of the form rows: a subject's procedures, the registry's plausible ranges."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from edc.forms.models import PROCEDURE_FORMS, EcogAssessment, LabResult, PregnancyTest, VitalSigns

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


__all__ = ["PROCEDURE_FORMS", "first_procedure_before", "registry_form"]
