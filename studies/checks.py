"""`manage.py check`: trial definitions in the database that the engines could not use as they stand.

The loader refuses these in fixtures; the checks catch what arrives another way (admin edits, an
older load, a changed rule grammar). They read the database, so they skip quietly when the tables
do not exist yet (before the first migrate).

studies.E001  a visit anchored on an event the schedule does not know
studies.E002  a repeating visit whose window is as wide as its interval (occurrences would overlap)
studies.E003  a dose amount or body-size basis without a unit / amount
studies.E004  a visit expects a form that is not (or no longer) in the form registry
studies.E005  a criterion rule the rule grammar rejects (unknown field, unit, operator)
studies.E006  a choice item of the form registry without a codelist
studies.E007  a visit with an unknown kind, repeat_from or end-of-treatment behaviour
"""

from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage, Error, register
from django.db import DatabaseError

from studies.models import (
    DataType,
    DoseBasis,
    EligibilityCriterion,
    FormItem,
    Intervention,
    OnEndOfTreatment,
    RepeatFrom,
    VisitAnchor,
    VisitDefinition,
    VisitKind,
)


@register("studies")
def check_definitions(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    try:
        return [
            *check_visits(),
            *check_interventions(),
            *check_criteria(),
            *check_form_items(),
        ]
    except DatabaseError:
        # No tables yet (check runs before migrate): nothing to check.
        return []


def _visit_name(visit: VisitDefinition) -> str:
    return f"{visit.study.protocol_id} visit {visit.code}"


def check_visits() -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    visits = VisitDefinition.objects.select_related("study").prefetch_related("forms")
    for visit in visits:
        name = _visit_name(visit)
        if visit.anchor not in VisitAnchor.values:
            errors.append(
                Error(
                    f"{name}: anchored on {visit.anchor!r}, an event the schedule does not know.",
                    hint=f"Use one of {', '.join(VisitAnchor.values)}.",
                    obj=visit,
                    id="studies.E001",
                )
            )
        interval = visit.repeat_interval_days
        if interval is not None and visit.window_before_days + visit.window_after_days >= interval:
            errors.append(
                Error(
                    f"{name}: window -{visit.window_before_days}/+{visit.window_after_days} days is as wide "
                    f"as its {interval}-day interval: occurrences would overlap.",
                    hint="Narrow the window or lengthen the interval.",
                    obj=visit,
                    id="studies.E002",
                )
            )
        retired = [form.code for form in visit.forms.all() if not form.active]
        if retired:
            errors.append(
                Error(
                    f"{name}: expects form(s) {', '.join(retired)}, not active in the form registry.",
                    hint="Reactivate the form or remove it from the visit.",
                    obj=visit,
                    id="studies.E004",
                )
            )
        for field_name, choices in (
            ("kind", VisitKind.values),
            ("repeat_from", RepeatFrom.values),
            ("on_end_of_treatment", OnEndOfTreatment.values),
        ):
            value = getattr(visit, field_name)
            if value not in choices:
                errors.append(
                    Error(
                        f"{name}: {field_name} {value!r} is not one of {', '.join(choices)}.",
                        obj=visit,
                        id="studies.E007",
                    )
                )
    return errors


def check_interventions() -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    for item in Intervention.objects.select_related("study"):
        name = f"{item.study.protocol_id} intervention {item.code}"
        body_size = item.dose_basis in (DoseBasis.PER_KG, DoseBasis.PER_M2)
        if (body_size or item.dose_amount is not None) and not item.dose_unit:
            errors.append(
                Error(
                    f"{name}: dose basis {item.dose_basis} without a dose unit.",
                    hint="Set dose_unit (mg, Gy ...).",
                    obj=item,
                    id="studies.E003",
                )
            )
        if body_size and item.dose_amount is None:
            errors.append(
                Error(
                    f"{name}: dose basis {item.dose_basis} without a dose amount.",
                    obj=item,
                    id="studies.E003",
                )
            )
    return errors


def check_criteria() -> list[CheckMessage]:
    # Imported here: the rule grammar belongs to the eligibility app, which may load after this one.
    from edc.eligibility.rules import validate_rule

    errors: list[CheckMessage] = []
    for criterion in EligibilityCriterion.objects.select_related("study").exclude(rule__isnull=True):
        problems = validate_rule(criterion.rule)
        if problems:
            errors.append(
                Error(
                    f"{criterion.study.protocol_id} {criterion.kind} criterion {criterion.number}: "
                    f"rule is invalid: {'; '.join(problems)}",
                    obj=criterion,
                    id="studies.E005",
                )
            )
    return errors


def check_form_items() -> list[CheckMessage]:
    return [
        Error(
            f"form {item.form.code} item {item.code}: a choice item without a codelist.",
            obj=item,
            id="studies.E006",
        )
        for item in FormItem.objects.select_related("form").filter(
            data_type=DataType.CHOICE, codelist__isnull=True
        )
    ]
