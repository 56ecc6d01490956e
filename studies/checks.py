"""`manage.py check`: trial definitions the engines could not use, and form models that do not match
their registry form.

The definition rules are the models' own (field validators and `clean()`, the same the loader and
the admin apply); the check runs them on every stored definition, so it catches what arrived another
way (an older load, a changed rule grammar). They read the database, so they skip quietly when the
tables do not exist yet (before the first migrate).

studies.E001  a visit anchored on an event the schedule does not know
studies.E002  a repeating visit whose window is as wide as its interval (occurrences would overlap)
studies.E003  a dose amount or body-size basis without a unit / amount
studies.E004  a visit expects a form that is not (or no longer) active in the form registry
studies.E005  a criterion rule the rule grammar rejects (unknown field, unit, operator)
studies.E006  a choice item of the form registry without a codelist
studies.E007  a visit with an unknown kind, repeat_from or end-of-treatment behaviour
studies.E008  any other rule of a definition model
studies.E020  a form-storing model names a form the registry does not have
studies.E021  a form item without a field in the model that stores the form
studies.E022  a model field of a type the item's data type cannot hold (or other choices)
studies.E023  a model field whose unit is not the item's
studies.E024  a data field of the model with no item in its form

E020-E024 compare each model that declares `form_code` (studies/form_stores.py) with its form in
the registry file the repository ships (fixtures/forms.yaml): no database is needed, so the check
holds in CI and before the first migrate.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register
from django.core.exceptions import ValidationError
from django.db import DatabaseError, models

from edc.core.units import UnitError, normalize_unit
from studies.form_stores import FormStore, form_stores
from studies.models import (
    Arm,
    Codelist,
    CodelistItem,
    DataType,
    EligibilityCriterion,
    Endpoint,
    FormDefinition,
    FormItem,
    Intervention,
    Site,
    Study,
    TreatmentPhase,
    VisitDefinition,
)

# (model, field) whose errors have their own id; then error codes raised by clean() and validators.
_ID_BY_FIELD: dict[tuple[type[models.Model], str], str] = {
    (VisitDefinition, "anchor"): "studies.E001",
    (VisitDefinition, "kind"): "studies.E007",
    (VisitDefinition, "repeat_from"): "studies.E007",
    (VisitDefinition, "on_end_of_treatment"): "studies.E007",
}
_ID_BY_CODE = {
    "window_overlap": "studies.E002",
    "dose_unit_missing": "studies.E003",
    "dose_amount_missing": "studies.E003",
    "invalid_rule": "studies.E005",
    "choice_without_codelist": "studies.E006",
}
_HINTS = {
    "studies.E001": "Use one of consent, enrollment, first_dose, last_dose, end_of_treatment.",
    "studies.E002": "Narrow the window or lengthen the interval.",
    "studies.E003": "Set dose_unit (mg, Gy ...) and the amount.",
}

# Each definition model, with what its clean() reads, so the check costs one query per model.
DEFINITIONS: Sequence[tuple[type[models.Model], tuple[str, ...]]] = (
    (Study, ()),
    (Site, ("study",)),
    (Arm, ("study",)),
    (TreatmentPhase, ("study", "arm")),
    (Intervention, ("study", "arm", "phase")),
    (EligibilityCriterion, ("study",)),
    (VisitDefinition, ("study", "phase")),
    (Endpoint, ("study",)),
    (Codelist, ()),
    (CodelistItem, ("codelist",)),
    (FormDefinition, ()),
    (FormItem, ("form", "codelist")),
)


@register("studies")
def check_definitions(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    try:
        return [*check_models(), *check_visit_forms()]
    except DatabaseError:
        # No tables yet (check runs before migrate): nothing to check.
        return []


def _name(obj: models.Model) -> str:
    study = getattr(obj, "study", None)
    noun = obj._meta.verbose_name
    if isinstance(obj, EligibilityCriterion):
        return f"{obj.study.protocol_id} {obj.kind} criterion {obj.number}"
    if isinstance(obj, FormItem):
        return f"form {obj.form.code} {obj.form.version} item {obj.code}"
    code = getattr(obj, "code", None) or getattr(obj, "protocol_id", obj.pk)
    return f"{study.protocol_id} {noun} {code}" if study is not None else f"{noun} {code}"


def problems_of(obj: models.Model) -> list[ValidationError]:
    """The model's own rules on a stored object, as (field, error) ValidationErrors."""
    relations = [f.name for f in obj._meta.fields if f.is_relation]
    try:
        obj.full_clean(exclude=relations, validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        return [ValidationError({name: error}) for name, errors in exc.error_dict.items() for error in errors]
    return []


def check_models() -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    for model, related in DEFINITIONS:
        for obj in (
            model._default_manager.select_related(*related) if related else model._default_manager.all()
        ):
            for problem in problems_of(obj):
                for field_name, errors in problem.error_dict.items():
                    for error in errors:
                        check_id = _ID_BY_FIELD.get((model, field_name)) or _ID_BY_CODE.get(
                            error.code or "", "studies.E008"
                        )
                        text = " ".join(error.messages).rstrip(".")
                        messages.append(
                            Error(
                                f"{_name(obj)}: {field_name}: {text}.",
                                hint=_HINTS.get(check_id),
                                obj=obj,
                                id=check_id,
                            )
                        )
    return messages


def check_visit_forms() -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    visits = VisitDefinition.objects.select_related("study").prefetch_related("forms__versions")
    for visit in visits:
        retired = []
        for form in visit.forms.all():
            current = form.current
            if current is None or not current.active:
                retired.append(form.code)
        if retired:
            errors.append(
                Error(
                    f"{visit.study.protocol_id} visit {visit.code}: expects form(s) {', '.join(retired)}, "
                    "not active in the form registry.",
                    hint="Reactivate the form or remove it from the visit.",
                    obj=visit,
                    id="studies.E004",
                )
            )
    return errors


# --- form models against the registry ---------------------------------------------------------------


@dataclass(frozen=True)
class ItemSpec:
    code: str
    data_type: str
    unit: str = ""
    codes: tuple[str, ...] = ()  # a choice item's codelist codes


@dataclass(frozen=True)
class FormSpec:
    code: str
    version: str
    items: tuple[ItemSpec, ...]


def registry_file() -> Path:
    return Path(settings.EDC_FIXTURES_DIR) / "forms.yaml"


def registry_forms(path: Path | None = None) -> dict[str, FormSpec]:
    """The forms of the registry file, by code (the file's version of each is the current one)."""
    from edc.inputs.errors import validate
    from edc.inputs.files import read_yaml
    from studies.schema import FormsFile

    parsed, _problems = validate(FormsFile, read_yaml(path or registry_file()))
    if parsed is None:
        raise ValueError(f"{path or registry_file()}: not a valid registry (load_studies names the errors)")
    codelists = {c.code: tuple(i.code for i in c.items) for c in parsed.codelists or []}
    return {
        form.code: FormSpec(
            code=form.code,
            version=form.version,
            items=tuple(
                ItemSpec(
                    code=item.code,
                    data_type=item.data_type,
                    unit=item.unit or "",
                    codes=codelists.get(item.codelist or "", ()),
                )
                for item in form.items
            ),
        )
        for form in parsed.forms or []
    }


@register("studies")
def check_form_models(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    stores = form_stores()
    if not stores:
        return []
    try:
        forms = registry_forms()
    except Exception as exc:  # the registry file itself is broken: say so once
        return [Error(str(exc), id="studies.E020")]
    return [message for store in stores for message in compare_store(store, forms)]


# Which Django field classes can hold each registry data type.
_COMPATIBLE: dict[str, tuple[str, ...]] = {
    DataType.TEXT: ("CharField", "TextField"),
    DataType.INTEGER: (
        "IntegerField",
        "SmallIntegerField",
        "BigIntegerField",
        "PositiveIntegerField",
        "PositiveSmallIntegerField",
        "PositiveBigIntegerField",
    ),
    DataType.DECIMAL: ("DecimalField",),
    DataType.DATE: ("DateField",),
    DataType.PARTIAL_DATE: ("PartialDateField",),
    DataType.DATETIME: ("DateTimeField",),
    DataType.BOOLEAN: ("BooleanField",),
    DataType.CHOICE: ("CharField",),
}


_KNOWN_KINDS = {name for names in _COMPATIBLE.values() for name in names}


def _kind(model_field: models.Field[Any, Any]) -> str:
    """The nearest field class the check knows (a DateTimeField is no DateField, a subclass of
    DecimalField is one)."""
    for base in type(model_field).__mro__:
        if base.__name__ in _KNOWN_KINDS:
            return base.__name__
    return type(model_field).__name__


def _unit(text: str) -> str:
    try:
        return normalize_unit(text)
    except UnitError:
        return text


def compare_store(store: FormStore, forms: dict[str, FormSpec]) -> list[CheckMessage]:
    """Every item has a field of a compatible type (and unit), and every data field has an item."""
    label = store.label
    form = forms.get(store.form_code)
    if form is None:
        return [
            Error(
                f"{label} stores form {store.form_code}, which the form registry does not have.",
                hint=f"Add the form to {registry_file().name} or correct form_code.",
                obj=store.model,
                id="studies.E020",
            )
        ]
    where = f"{label} (form {form.code} {form.version})"
    fields = {f.name: f for f in store.data_fields()}
    messages: list[CheckMessage] = []
    used: set[str] = set()
    for item in form.items:
        name = store.field_for(item.code)
        model_field = fields.get(name)
        if model_field is None:
            messages.append(
                Error(
                    f"{where}: item {item.code} has no field {name!r}.",
                    hint="Add the field, or map the item in form_item_fields.",
                    obj=store.model,
                    id="studies.E021",
                )
            )
            continue
        used.add(name)
        kind = _kind(model_field)
        compatible = _COMPATIBLE.get(item.data_type, ())
        if kind not in compatible:
            messages.append(
                Error(
                    f"{where}: item {item.code} is {item.data_type}, but field {name!r} is a {kind}.",
                    obj=store.model,
                    id="studies.E022",
                )
            )
        elif item.data_type == DataType.CHOICE:
            choices = tuple(str(value) for value, _label in (model_field.choices or ()))
            if set(choices) != set(item.codes):
                messages.append(
                    Error(
                        f"{where}: item {item.code} codes {', '.join(item.codes)}; field {name!r} takes "
                        f"{', '.join(choices) or 'any text'}.",
                        obj=store.model,
                        id="studies.E022",
                    )
                )
        field_unit = store.field_units.get(name, "")
        if (item.unit or field_unit) and _unit(item.unit) != _unit(field_unit):
            messages.append(
                Error(
                    f"{where}: item {item.code} is in {item.unit or 'no unit'}, field {name!r} in "
                    f"{field_unit or 'no stated unit'}.",
                    hint="State the field's unit in form_field_units.",
                    obj=store.model,
                    id="studies.E023",
                )
            )
    for name in sorted(set(fields) - used):
        messages.append(
            Error(
                f"{where}: field {name!r} is no item of the form.",
                hint="Add the item to the form (a new version once data uses it), or list the field in "
                "form_exempt_fields with the reason.",
                obj=store.model,
                id="studies.E024",
            )
        )
    return messages


def ids(messages: Iterable[CheckMessage]) -> list[str]:
    return sorted(m.id or "" for m in messages)
