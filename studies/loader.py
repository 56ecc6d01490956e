"""Load trial definitions from YAML (fixtures/forms.yaml, fixtures/studies/*.yaml) into the database.

Two stages, so that a bad file never leaves half a trial behind:

1. `read_definitions(paths)` parses and validates every file completely (unknown keys, missing
   fields, choices, types, units, rules, references) and returns plans; every problem is collected,
   each naming the file, the object ("visits[3] IMG6W") and the field. Nothing is written.
2. `write_definitions(plans)` writes all plans in one transaction, matching existing rows by natural
   key and saving only rows whose values changed, so a second load writes nothing (and adds no
   history rows).

Objects that are in the database but no longer in a file are NOT deleted: visits, forms or criteria
may already have data pointing at them. The loader reports them as warnings; retiring them is a
deliberate act (admin), not a side effect of editing a fixture.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction

from edc.core.units import UnitError, dimension, normalize_unit
from edc.eligibility.rules import validate_rule
from studies.models import (
    Arm,
    ArmKind,
    Codelist,
    CodelistItem,
    CollectionStart,
    CriterionKind,
    DataType,
    Design,
    DoseBasis,
    DosePer,
    DoseRole,
    EligibilityCriterion,
    Endpoint,
    EndpointAnchor,
    EndpointKind,
    FormDefinition,
    FormItem,
    Intervention,
    InterventionKind,
    OnEndOfTreatment,
    RepeatFrom,
    ResponseCriteria,
    Site,
    Study,
    StudyStatus,
    TreatmentPhase,
    VisitAnchor,
    VisitDefinition,
    VisitKind,
)

STUDY_SECTIONS = ("sites", "arms", "phases", "interventions", "criteria", "visits", "endpoints")
FORMS_SECTIONS = ("codelists", "forms")


class DefinitionError(Exception):
    """One or more problems in definition files; `errors` holds one message per problem."""

    def __init__(self, errors: Sequence[str]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(self.errors))


# --- field specifications ------------------------------------------------------------------------


@dataclass(frozen=True)
class F:
    """How one YAML key is read. `kind` names a reader in _READERS; `to` the model field."""

    kind: str
    required: bool = False
    choices: tuple[str, ...] = ()
    to: str | None = None
    nullable: bool = True


def _choices(tc: type[models.TextChoices]) -> tuple[str, ...]:
    return tuple(tc.values)


ASSUMPTION_KEYS = {"assumption": F("text"), "assumptions": F("assumptions")}

STUDY_FIELDS: dict[str, F] = {
    "protocol_id": F("str", required=True),
    "registry_id": F("str"),
    "seed": F("str"),
    "title": F("text", required=True),
    "short_title": F("str"),
    "phase": F("str"),
    "design": F("choice", choices=_choices(Design)),
    "condition": F("text"),
    "sponsor": F("str"),
    "target_enrollment": F("uint"),
    "status": F("choice", choices=_choices(StudyStatus)),
    "ctcae_version": F("version"),
    "response_criteria": F("choice_list", choices=_choices(ResponseCriteria)),
    "confirmation_required": F("bool"),
    "confirmation_min_interval_days": F("uint", nullable=False),
    "min_sd_duration_days": F("uint"),
    "max_treatment_days": F("uint"),
    "schedule_horizon_days": F("uint"),
    "follow_up_rule": F("text"),
    "enrollment_period_months": F("uint"),
    "study_duration_months": F("uint"),
    "ae_collection": F("ae_collection"),
    "dose_recalc_weight_change_pct": F("decimal", nullable=False),
    **ASSUMPTION_KEYS,
}

AE_COLLECTION_FIELDS: dict[str, F] = {
    "start": F("choice", choices=_choices(CollectionStart), to="ae_collection_start", nullable=False),
    "end_days_after_last_dose": F("uint", to="ae_collection_end_days_after_last_dose"),
    "sae_start": F("choice", choices=_choices(CollectionStart), to="sae_collection_start", nullable=False),
    "irae_end_days_after_last_dose": F("uint", to="irae_collection_end_days_after_last_dose"),
}

SITE_FIELDS = {
    "code": F("str", required=True),
    "name": F("str", required=True),
    "city": F("str"),
    "country": F("str"),
    "time_zone": F("time_zone"),
    **ASSUMPTION_KEYS,
}
ARM_FIELDS = {
    "code": F("str", required=True),
    "name": F("str", required=True),
    "kind": F("choice", choices=_choices(ArmKind), nullable=False),
    "description": F("text"),
    "order": F("uint"),
    **ASSUMPTION_KEYS,
}
PHASE_FIELDS = {
    "code": F("str", required=True),
    "name": F("str", required=True),
    "arm": F("arm"),
    "order": F("uint"),
    "entry_rule": F("text"),
    "description": F("text"),
    **ASSUMPTION_KEYS,
}
INTERVENTION_FIELDS = {
    "code": F("str", required=True),
    "agent": F("str", required=True),
    "aliases": F("str_list"),
    "kind": F("choice", choices=_choices(InterventionKind), nullable=False),
    "arm": F("arm"),
    "phase": F("phase"),
    "dose_amount": F("positive_decimal"),
    "dose_unit": F("dose_unit"),
    "dose_basis": F("choice", choices=_choices(DoseBasis), nullable=False),
    "dose_per": F("choice", choices=_choices(DosePer), nullable=False),
    "frequency": F("str"),
    "doses_per_day": F("uint"),
    "route": F("str"),
    "dosing_days": F("dosing_days"),
    "cycle_length_days": F("uint"),
    "dose_role": F("choice", choices=_choices(DoseRole)),
    "infusion": F("text"),
    "notes": F("text"),
    "choice_group": F("str"),
    "order": F("uint"),
    **ASSUMPTION_KEYS,
}
CRITERION_FIELDS = {
    "kind": F("choice", required=True, choices=_choices(CriterionKind), nullable=False),
    "number": F("version", required=True),
    "text": F("text", required=True),
    "rule": F("rule"),
    "order": F("uint"),
    **ASSUMPTION_KEYS,
}
VISIT_FIELDS = {
    "code": F("str", required=True),
    "name": F("str", required=True),
    "kind": F("choice", required=True, choices=_choices(VisitKind), nullable=False),
    "series": F("str"),
    "anchor": F("choice", required=True, choices=_choices(VisitAnchor), nullable=False),
    "anchor_visit": F("str"),
    "repeat_from": F("choice", choices=_choices(RepeatFrom), nullable=False),
    "offset_days": F("int", nullable=False),
    "window_before_days": F("uint", nullable=False),
    "window_after_days": F("uint", nullable=False),
    "repeat_interval_days": F("positive_int"),
    "repeat_until_day": F("int"),
    "repeat_count": F("positive_int"),
    "on_end_of_treatment": F("choice", choices=_choices(OnEndOfTreatment), nullable=False),
    "phase": F("phase"),
    "forms": F("form_codes"),
    "order": F("uint"),
    **ASSUMPTION_KEYS,
}
ENDPOINT_FIELDS = {
    "code": F("str", required=True),
    "name": F("str", required=True),
    "kind": F("choice", choices=_choices(EndpointKind)),
    "definition": F("text"),
    "time_frame": F("text"),
    "analysis_set": F("str"),
    "anchor": F("choice", choices=_choices(EndpointAnchor)),
    "order": F("uint"),
    **ASSUMPTION_KEYS,
}
CODELIST_FIELDS = {
    "code": F("str", required=True),
    "name": F("str", required=True),
    "items": F("list", required=True),
    **ASSUMPTION_KEYS,
}
CODELIST_ITEM_FIELDS = {
    "code": F("str", required=True),
    "label": F("str", required=True),
    "order": F("uint"),
    **ASSUMPTION_KEYS,
}
FORM_FIELDS = {
    "code": F("str", required=True),
    "name": F("str", required=True),
    "version": F("version"),
    "description": F("text"),
    "order": F("uint"),
    "items": F("list", required=True),
    **ASSUMPTION_KEYS,
}
FORM_ITEM_FIELDS = {
    "code": F("str", required=True),
    "label": F("str", required=True),
    "data_type": F("choice", required=True, choices=_choices(DataType), nullable=False),
    "unit": F("item_unit"),
    "codelist": F("codelist"),
    "required": F("bool"),
    "range": F("range"),
    "order": F("uint"),
    **ASSUMPTION_KEYS,
}


# --- plans ---------------------------------------------------------------------------------------


@dataclass
class ObjectPlan:
    """One object to write: its natural key (within its parent), its field values and references."""

    label: str
    key: dict[str, Any]
    values: dict[str, Any]
    refs: dict[str, str | None] = field(default_factory=dict)  # field -> code of arm/phase/codelist
    forms: list[str] | None = None
    children: list[ObjectPlan] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass
class FilePlan:
    path: Path
    kind: str  # "study" or "forms"
    study: ObjectPlan | None = None
    sections: dict[str, list[ObjectPlan]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return str(self.path)

    @property
    def protocol_id(self) -> str:
        return self.study.values["protocol_id"] if self.study else ""


# --- reading files -------------------------------------------------------------------------------


def default_paths() -> list[Path]:
    root = Path(settings.EDC_FIXTURES_DIR)
    return [root]


def collect_files(paths: Iterable[str | Path]) -> list[Path]:
    """Every YAML file named or inside a named folder, in a stable order (the registry first)."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file()))
        elif path.is_file():
            files.append(path)
        else:
            raise DefinitionError([f"{path}: no such file or folder"])
    unique: list[Path] = []
    for path in files:
        if path not in unique:
            unique.append(path)
    return unique


def parse_file(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise DefinitionError([f"{path}:{where}: not valid YAML: {exc}"]) from exc
    except OSError as exc:
        raise DefinitionError([f"{path}: cannot read: {exc}"]) from exc
    if not isinstance(data, dict):
        raise DefinitionError([f"{path}: expected a mapping with a 'study' or a 'forms' key at the top"])
    return data


def file_kind(path: Path, data: dict[str, Any]) -> str:
    if "study" in data:
        return "study"
    if set(data) & set(FORMS_SECTIONS):
        return "forms"
    raise DefinitionError([f"{path}: expected a 'study' block or a form registry ('forms', 'codelists')"])


def read_definitions(paths: Iterable[str | Path]) -> list[FilePlan]:
    """Parse and validate every file; raise DefinitionError listing every problem found."""
    files = collect_files(paths)
    errors: list[str] = []
    parsed: list[tuple[Path, str, dict[str, Any]]] = []
    for path in files:
        try:
            data = parse_file(path)
            parsed.append((path, file_kind(path, data), data))
        except DefinitionError as exc:
            errors.extend(exc.errors)
    # Registry files first: study files are checked against the forms they define.
    parsed.sort(key=lambda item: item[1] != "forms")
    plans: list[FilePlan] = []
    registry = Registry.from_db()
    for path, kind, data in parsed:
        reader = FileReader(path, registry)
        plan = reader.read_forms(data) if kind == "forms" else reader.read_study(data)
        errors.extend(reader.errors)
        if kind == "forms":
            # Even a registry file with errors names its forms: later files are not blamed for it.
            registry.add(plan)
        plans.append(plan)
    seen: dict[str, Path] = {}
    for plan in plans:
        if plan.kind == "study" and plan.study is not None:
            pid = plan.protocol_id
            if pid in seen:
                errors.append(f"{plan.name}: study: protocol_id: {pid!r} is also defined in {seen[pid]}")
            seen[pid] = plan.path
    if errors:
        raise DefinitionError(errors)
    return plans


@dataclass
class Registry:
    """Form and codelist codes a study or form file may refer to: the database's and this run's."""

    forms: set[str]
    codelists: set[str]

    @classmethod
    def from_db(cls) -> Registry:
        return cls(
            forms=set(FormDefinition.objects.values_list("code", flat=True)),
            codelists=set(Codelist.objects.values_list("code", flat=True)),
        )

    def add(self, plan: FilePlan) -> None:
        self.forms |= {p.values["code"] for p in plan.sections.get("forms", [])}
        self.codelists |= {p.values["code"] for p in plan.sections.get("codelists", [])}


def object_label(section: str, index: int, item: Any) -> str:
    """How messages name an object: "visits[3] IMG6W", "criteria[4] inclusion 5"."""
    label = f"{section}[{index}]"
    if not isinstance(item, dict):
        return label
    if item.get("code") not in (None, ""):
        return f"{label} {item['code']}"
    if item.get("number") not in (None, ""):
        return f"{label} {item.get('kind', '')} {item['number']}".replace("  ", " ")
    return label


_DAYS_PART = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$")


class FileReader:
    """Validates one file's objects field by field, collecting every error."""

    def __init__(self, path: Path, registry: Registry) -> None:
        self.path = path
        self.registry = registry
        self.errors: list[str] = []
        self.arms: set[str] = set()
        self.phases: set[str] = set()
        self.codelists: set[str] = set()

    def error(self, label: str, field_name: str | None, message: str) -> None:
        where = f"{label}: {field_name}" if field_name else label
        self.errors.append(f"{self.path}: {where}: {message}")

    # -- top level --

    def read_study(self, data: dict[str, Any]) -> FilePlan:
        plan = FilePlan(path=self.path, kind="study")
        for key in data:
            if key != "study" and key not in STUDY_SECTIONS:
                self.error(str(key), None, f"unknown section (known: study, {', '.join(STUDY_SECTIONS)})")
        block = data.get("study")
        if not isinstance(block, dict):
            self.error("study", None, "must be a mapping of the study's fields")
            return plan
        values = self.read_object("study", block, STUDY_FIELDS)
        plan.study = ObjectPlan(label="study", key={"protocol_id": values.get("protocol_id")}, values=values)
        # Arms and phases first: the other sections refer to them by code.
        plan.sections["sites"] = self.read_section(data, "sites", SITE_FIELDS, ("code",))
        plan.sections["arms"] = self.read_section(data, "arms", ARM_FIELDS, ("code",))
        self.arms = {p.values["code"] for p in plan.sections["arms"] if "code" in p.values}
        plan.sections["phases"] = self.read_section(data, "phases", PHASE_FIELDS, ("code",))
        self.phases = {p.values["code"] for p in plan.sections["phases"] if "code" in p.values}
        plan.sections["interventions"] = self.read_section(
            data, "interventions", INTERVENTION_FIELDS, ("code",)
        )
        plan.sections["criteria"] = self.read_section(data, "criteria", CRITERION_FIELDS, ("kind", "number"))
        plan.sections["visits"] = self.read_section(data, "visits", VISIT_FIELDS, ("code",))
        plan.sections["endpoints"] = self.read_section(data, "endpoints", ENDPOINT_FIELDS, ("code",))
        for obj in plan.sections["interventions"]:
            self.check_intervention(obj)
        for obj in plan.sections["visits"]:
            self.check_visit(obj)
        codes = {obj.values.get("code") for obj in plan.sections["visits"]}
        for obj in plan.sections["visits"]:
            parent = obj.values.get("anchor_visit")
            if parent and parent not in codes:
                self.error(obj.label, "anchor_visit", f"{parent!r} names no visit of this study")
        return plan

    def read_forms(self, data: dict[str, Any]) -> FilePlan:
        plan = FilePlan(path=self.path, kind="forms")
        for key in data:
            # A top-level `assumption` says why the registry as a whole is ours (no protocol lists forms).
            if key not in FORMS_SECTIONS and key != "assumption":
                self.error(str(key), None, f"unknown section (known: {', '.join(FORMS_SECTIONS)})")
        plan.sections["codelists"] = self.read_section(data, "codelists", CODELIST_FIELDS, ("code",))
        self.codelists = {p.values["code"] for p in plan.sections["codelists"] if "code" in p.values}
        for codelist in plan.sections["codelists"]:
            codelist.children = self.read_children(codelist, "items", CODELIST_ITEM_FIELDS)
        plan.sections["forms"] = self.read_section(data, "forms", FORM_FIELDS, ("code",))
        for form in plan.sections["forms"]:
            form.children = self.read_children(form, "items", FORM_ITEM_FIELDS)
            for item in form.children:
                self.check_form_item(item)
        return plan

    def read_section(
        self,
        data: dict[str, Any],
        section: str,
        spec: dict[str, F],
        key_fields: tuple[str, ...],
        prefix: str = "",
    ) -> list[ObjectPlan]:
        raw = data.get(section)
        if raw is None:
            return []
        if not isinstance(raw, list):
            self.error(prefix + section, None, "must be a list")
            return []
        plans: list[ObjectPlan] = []
        seen: dict[tuple[Any, ...], int] = {}
        for index, item in enumerate(raw):
            label = prefix + object_label(section, index, item)
            if not isinstance(item, dict):
                self.error(label, None, "must be a mapping")
                continue
            values = self.read_object(label, item, spec)
            if "order" in spec:
                values.setdefault("order", index + 1)
            if any(k not in values for k in key_fields):
                continue
            key = tuple(values[k] for k in key_fields)
            if key in seen:
                self.error(label, key_fields[-1], f"{'/'.join(map(str, key))} repeats {section}[{seen[key]}]")
                continue
            seen[key] = index
            refs = {name: values.pop(name) for name in ("arm", "phase", "codelist") if name in values}
            forms = values.pop("forms", None)
            key = {k: values[k] for k in key_fields}
            plans.append(ObjectPlan(label=label, key=key, values=values, refs=refs, forms=forms, raw=item))
        return plans

    def read_children(self, parent: ObjectPlan, section: str, spec: dict[str, F]) -> list[ObjectPlan]:
        parent.values.pop(section, None)
        return self.read_section(parent.raw, section, spec, ("code",), prefix=f"{parent.label}.")

    def read_object(self, label: str, raw: dict[str, Any], spec: dict[str, F]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        nested: dict[str, str] = {}  # assumptions marked inside a nested block (ae_collection)
        for key in raw:
            if key not in spec:
                self.error(label, str(key), f"unknown field (known: {', '.join(sorted(spec))})")
        for name, fspec in spec.items():
            if name not in raw:
                if fspec.required:
                    self.error(label, name, "required field is missing")
                continue
            value = raw[name]
            if value is None and fspec.kind != "rule" and (fspec.required or not fspec.nullable):
                self.error(label, name, "must not be empty")
                continue
            try:
                result = self.convert(label, name, fspec, value)
            except ValueError as exc:
                self.error(label, name, str(exc))
                continue
            if fspec.kind == "ae_collection":
                nested_reasons = result.pop("assumptions", {}) or {}
                nested_reason = result.pop("assumption", "")
                if nested_reason:
                    nested_reasons = {"": nested_reason, **nested_reasons}
                values.update(result)
                nested.update({f"{name}.{sub}".rstrip("."): why for sub, why in nested_reasons.items()})
            elif fspec.kind == "list":
                values[name] = value
            else:
                values[fspec.to or name] = result
        if nested:
            values["assumptions"] = {**(values.get("assumptions") or {}), **nested}
        unknown = [
            k
            for k in (raw.get("assumptions") or {})
            if isinstance(raw.get("assumptions"), dict) and k not in spec and k.split(".")[0] not in spec
        ]
        if unknown:
            self.error(label, "assumptions", f"names no field of this object: {', '.join(map(str, unknown))}")
        return values

    # -- value readers --

    def convert(self, label: str, name: str, fspec: F, value: Any) -> Any:
        kind = fspec.kind
        if value is None:
            return _EMPTY.get(kind)
        if kind in ("str", "text"):
            if not isinstance(value, str):
                raise ValueError(f"expected text, got {value!r} (quote it in the YAML)")
            return value.strip()
        if kind == "version":
            if isinstance(value, bool) or not isinstance(value, str | int | float):
                raise ValueError(f"expected text, got {value!r}")
            return str(value).strip()
        if kind in ("int", "uint", "positive_int"):
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"expected a whole number, got {value!r}")
            if kind == "uint" and value < 0:
                raise ValueError(f"must be 0 or more, got {value}")
            if kind == "positive_int" and value <= 0:
                raise ValueError(f"must be more than 0, got {value}")
            return value
        if kind in ("decimal", "positive_decimal"):
            number = _decimal(value)
            if kind == "positive_decimal" and number <= 0:
                raise ValueError(f"must be more than 0, got {value}")
            return number
        if kind == "bool":
            if not isinstance(value, bool):
                raise ValueError(f"expected true or false, got {value!r}")
            return value
        if kind == "choice":
            if value not in fspec.choices:
                raise ValueError(f"{value!r} is not one of {', '.join(fspec.choices)}")
            return value
        if kind == "choice_list":
            if not isinstance(value, list):
                raise ValueError("expected a list")
            bad = [v for v in value if v not in fspec.choices]
            if bad:
                raise ValueError(f"{', '.join(map(repr, bad))} not among {', '.join(fspec.choices)}")
            return value
        if kind == "str_list":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ValueError("expected a list of text")
            return value
        if kind == "list":
            if not isinstance(value, list):
                raise ValueError("expected a list")
            return value
        if kind == "assumptions":
            if not isinstance(value, dict) or not all(
                isinstance(v, str) and v.strip() for v in value.values()
            ):
                raise ValueError("expected {field: reason} with a reason in words for each field")
            return value
        if kind == "time_zone":
            if not isinstance(value, str):
                raise ValueError(f"expected a time zone name, got {value!r}")
            try:
                zoneinfo.ZoneInfo(value)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
                raise ValueError(f"unknown time zone {value!r}") from exc
            return value
        if kind in ("dose_unit", "item_unit"):
            return _unit(value, dose=kind == "dose_unit")
        if kind == "dosing_days":
            return _dosing_days(value)
        if kind == "range":
            if not isinstance(value, list) or len(value) != 2:
                raise ValueError("expected [low, high]")
            low, high = (None if v is None else _decimal(v) for v in value)
            if low is not None and high is not None and low > high:
                raise ValueError(f"low {low} is above high {high}")
            return (low, high)
        if kind == "rule":
            problems = validate_rule(value)
            if problems:
                raise ValueError("; ".join(problems))
            return value
        if kind == "arm":
            if value not in self.arms:
                raise ValueError(f"no arm {value!r} in this file's arms")
            return value
        if kind == "phase":
            if value not in self.phases:
                raise ValueError(f"no phase {value!r} in this file's phases")
            return value
        if kind == "codelist":
            if value not in self.codelists and value not in self.registry.codelists:
                raise ValueError(f"no codelist {value!r} in the registry")
            return value
        if kind == "form_codes":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ValueError("expected a list of form codes")
            unknown = [v for v in value if v not in self.registry.forms]
            if unknown:
                raise ValueError(f"form code(s) not in the form registry: {', '.join(unknown)}")
            if len(set(value)) != len(value):
                raise ValueError("a form is listed twice")
            return value
        if kind == "ae_collection":
            if not isinstance(value, dict):
                raise ValueError("expected a mapping (start, end_days_after_last_dose, sae_start, ...)")
            return self.read_object(f"{label}.{name}", value, {**AE_COLLECTION_FIELDS, **ASSUMPTION_KEYS})
        raise AssertionError(f"no reader for {kind}")

    # -- cross-field checks --

    def check_intervention(self, obj: ObjectPlan) -> None:
        v = obj.values
        basis = v.get("dose_basis", DoseBasis.FLAT)
        # An unreadable unit is already reported; only a missing one is reported here.
        if v.get("dose_amount") is not None and obj.raw.get("dose_unit") in (None, ""):
            self.error(obj.label, "dose_unit", "a dose amount needs its unit")
        if basis != DoseBasis.FLAT and v.get("dose_amount") is None:
            self.error(obj.label, "dose_amount", f"dose_basis {basis} needs a dose amount")
        days, cycle = v.get("dosing_days") or [], v.get("cycle_length_days")
        if cycle and any(day > cycle for day in days):
            self.error(obj.label, "dosing_days", f"day {max(days)} is beyond the {cycle}-day cycle")

    def check_visit(self, obj: ObjectPlan) -> None:
        v = obj.values
        interval = v.get("repeat_interval_days")
        before, after = v.get("window_before_days", 0) or 0, v.get("window_after_days", 0) or 0
        if interval is not None and before + after >= interval:
            self.error(
                obj.label,
                "window_before_days",
                f"window -{before}/+{after} days is as wide as the {interval}-day interval: "
                "occurrences would overlap",
            )
        if interval is None and (v.get("repeat_until_day") is not None or v.get("repeat_count") is not None):
            self.error(obj.label, "repeat_interval_days", "repeat_until_day/repeat_count need an interval")
        if v.get("repeat_from") == RepeatFrom.PREVIOUS_ACTUAL and interval is None:
            self.error(obj.label, "repeat_from", "previous_actual needs repeat_interval_days")

    def check_form_item(self, obj: ObjectPlan) -> None:
        v = obj.values
        if v.get("data_type") == DataType.CHOICE and not obj.refs.get("codelist"):
            self.error(obj.label, "codelist", "a choice item needs a codelist")
        if v.get("data_type") != DataType.CHOICE and obj.refs.get("codelist"):
            self.error(obj.label, "codelist", "only choice items take a codelist")
        if any(x is not None for x in v.get("range") or ()) and v.get("data_type") not in (
            DataType.INTEGER,
            DataType.DECIMAL,
        ):
            self.error(obj.label, "range", "only numeric items take a range")
        low, high = v.pop("range", (None, None)) or (None, None)
        v["range_low"], v["range_high"] = low, high


_EMPTY: dict[str, Any] = {
    "str": "",
    "text": "",
    "version": "",
    "str_list": [],
    "choice_list": [],
    "dosing_days": [],
    "dose_unit": "",
    "item_unit": "",
    "assumptions": {},
    "choice": "",
    "range": (None, None),
}


def _decimal(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"expected a number, got {value!r}")
    try:
        # str() first: 7.5 from YAML must stay 7.5, not its binary approximation.
        number = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise ValueError(f"expected a number, got {value!r}") from exc
    if not number.is_finite():
        raise ValueError(f"expected a finite number, got {value!r}")
    return number


def _unit(value: Any, *, dose: bool) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a unit, got {value!r}")
    try:
        unit = normalize_unit(value)
    except UnitError as exc:
        raise ValueError(f"unknown unit {value!r} ({exc})") from exc
    if dose and dimension(unit) in ("dose_per_mass", "dose_per_area"):
        raise ValueError(f"{value!r}: give the amount's unit (mg) here and the body-size basis in dose_basis")
    return unit


def _dosing_days(value: Any) -> list[int]:
    """[1], 1, "1-14", "1,8,15" or ["1-14", 22] -> sorted day numbers."""
    parts: list[Any] = value if isinstance(value, list) else [value]
    days: set[int] = set()
    for part in parts:
        if isinstance(part, bool):
            raise ValueError(f"expected day numbers, got {part!r}")
        if isinstance(part, int):
            if part < 1:
                raise ValueError(f"day {part}: cycle days count from 1")
            days.add(part)
            continue
        if not isinstance(part, str):
            raise ValueError(f"expected day numbers or ranges like '1-14', got {part!r}")
        for piece in part.split(","):
            match = _DAYS_PART.match(piece)
            if not match:
                raise ValueError(f"cannot read days {piece.strip()!r} (write 1-14 or 1,8,15)")
            low = int(match.group(1))
            high = int(match.group(2) or low)
            if low < 1 or high < low:
                raise ValueError(f"days {piece.strip()!r}: expected a rising range from day 1 on")
            days.update(range(low, high + 1))
    return sorted(days)


# --- writing -------------------------------------------------------------------------------------


@dataclass
class FileReport:
    file: str
    kind: str
    study: str = ""
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        changed = bool(self.created or self.updated)
        return {
            "file": self.file,
            "kind": self.kind,
            "study": self.study,
            "result": "loaded" if changed else "no changes",
            "created": self.created,
            "updated": self.updated,
            "warnings": self.warnings,
        }


def _same(old: Any, new: Any) -> bool:
    if isinstance(old, Decimal) or isinstance(new, Decimal):
        if old is None or new is None:
            return old is new
        return Decimal(old) == Decimal(new)
    return old == new


def _upsert(
    model: type[models.Model],
    lookup: dict[str, Any],
    values: dict[str, Any],
    label: str,
    report: FileReport,
    reason: str,
) -> tuple[models.Model, bool]:
    """Create or update one row by natural key; save only when a value differs. Returns (obj, created)."""
    obj = model.objects.filter(**lookup).first()
    created = obj is None
    if obj is None:
        obj = model(**lookup, **values)
        changed = list(values)
    else:
        changed = [name for name, value in values.items() if not _same(getattr(obj, name), value)]
        for name in changed:
            setattr(obj, name, values[name])
    if not changed and not created:
        return obj, False
    try:
        obj.full_clean(validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        raise DefinitionError(
            [f"{report.file}: {label}: {name}: {' '.join(msgs)}" for name, msgs in exc.message_dict.items()]
        ) from exc
    obj._change_reason = reason  # type: ignore[attr-defined]
    obj.save()
    if created:
        report.created.append(label)
    else:
        report.updated.append(f"{label}: {', '.join(changed)}")
    return obj, created


def _warn_missing(
    report: FileReport, noun: str, existing: Iterable[tuple[Any, ...]], kept: set[tuple[Any, ...]]
) -> None:
    for key in sorted(set(existing) - kept, key=str):
        name = "/".join(map(str, key))
        report.warnings.append(
            f"{noun} {name} is in the database but no longer in the file; not deleted "
            "(data may point to it): retire it in the admin if it is really gone"
        )


def write_definitions(plans: Sequence[FilePlan], *, reason: str = "load_studies") -> list[FileReport]:
    """Write validated plans in one transaction; return what changed per file."""
    reports: list[FileReport] = []
    with transaction.atomic():
        for plan in plans:
            report = FileReport(file=plan.name, kind=plan.kind)
            why = f"{reason} {plan.path.name}"
            if plan.kind == "forms":
                _write_forms(plan, report, why)
            else:
                _write_study(plan, report, why)
            reports.append(report)
    return reports


def _children(
    parent_label: str, items: list[ObjectPlan], exclude: tuple[str, ...] = ("code",)
) -> Iterable[tuple[str, str, dict[str, Any], ObjectPlan]]:
    for item in items:
        code = item.values["code"]
        yield code, f"{parent_label}.{code}", {k: v for k, v in item.values.items() if k not in exclude}, item


def _write_forms(plan: FilePlan, report: FileReport, reason: str) -> None:
    codelists: dict[str, Codelist] = {c.code: c for c in Codelist.objects.all()}
    for cl in plan.sections.get("codelists", []):
        code = cl.values["code"]
        values = {k: v for k, v in cl.values.items() if k != "code"}
        obj, _ = _upsert(Codelist, {"code": code}, values, f"codelist {code}", report, reason)
        codelists[code] = obj
        existing = {(c,) for c in obj.items.values_list("code", flat=True)}
        for icode, label, values, _item in _children(f"codelist {code}", cl.children):
            _upsert(CodelistItem, {"codelist": obj, "code": icode}, values, label, report, reason)
        _warn_missing(report, f"codelist {code} item", existing, {(i.values["code"],) for i in cl.children})
    in_file: set[tuple[Any, ...]] = set()
    for form in plan.sections.get("forms", []):
        code = form.values["code"]
        in_file.add((code,))
        values = {k: v for k, v in form.values.items() if k != "code"}
        obj, _ = _upsert(FormDefinition, {"code": code}, values, f"form {code}", report, reason)
        existing = {(c,) for c in obj.items.values_list("code", flat=True)}
        for icode, label, values, item in _children(f"form {code}", form.children):
            ref = item.refs.get("codelist")
            values["codelist"] = codelists[ref] if ref else None
            _upsert(FormItem, {"form": obj, "code": icode}, values, label, report, reason)
        _warn_missing(report, f"form {code} item", existing, {(i.values["code"],) for i in form.children})
    if plan.sections.get("forms"):
        all_forms = {(c,) for c in FormDefinition.objects.values_list("code", flat=True)}
        _warn_missing(report, "form", all_forms, in_file)


SECTION_MODELS: dict[str, tuple[type[models.Model], str, tuple[str, ...]]] = {
    "sites": (Site, "site", ("code",)),
    "arms": (Arm, "arm", ("code",)),
    "phases": (TreatmentPhase, "phase", ("code",)),
    "interventions": (Intervention, "intervention", ("code",)),
    "criteria": (EligibilityCriterion, "criterion", ("kind", "number")),
    "visits": (VisitDefinition, "visit", ("code",)),
    "endpoints": (Endpoint, "endpoint", ("code",)),
}


def _write_study(plan: FilePlan, report: FileReport, reason: str) -> None:
    assert plan.study is not None
    pid = plan.protocol_id
    report.study = pid
    study_values = {k: v for k, v in plan.study.values.items() if k != "protocol_id"}
    locked = Study.objects.filter(protocol_id=pid, locked_at__isnull=False).exists()
    study, _ = _upsert(Study, {"protocol_id": pid}, study_values, f"study {pid}", report, reason)
    refs: dict[str, dict[str, models.Model]] = {"arm": {}, "phase": {}}
    forms = {f.code: f for f in FormDefinition.objects.all()}
    for section in STUDY_SECTIONS:
        model, noun, key_fields = SECTION_MODELS[section]
        model_fields = {f.name for f in model._meta.get_fields()}
        existing = set(model.objects.filter(study=study).values_list(*key_fields))
        kept: set[tuple[Any, ...]] = set()
        for obj_plan in plan.sections.get(section, []):
            key = {k: obj_plan.values[k] for k in key_fields}
            kept.add(tuple(key.values()))
            values = {k: v for k, v in obj_plan.values.items() if k not in key_fields}
            # A reference left out of the file is cleared, so the database follows the file.
            for ref in ("arm", "phase"):
                if ref in model_fields:
                    code = obj_plan.refs.get(ref)
                    values[ref] = refs[ref][code] if code else None
            label = f"{noun} {' '.join(map(str, key.values()))}"
            obj, created = _upsert(model, {"study": study, **key}, values, label, report, reason)
            if section in ("arms", "phases"):
                refs[noun][obj.code] = obj
            if section == "visits":
                wanted = set(obj_plan.forms or [])
                if wanted != set(obj.forms.values_list("code", flat=True)):
                    obj._change_reason = reason  # type: ignore[attr-defined]
                    obj.forms.set([forms[c] for c in sorted(wanted)])
                    if not created:
                        report.updated.append(f"{label}: forms")
        _warn_missing(report, noun, existing, kept)
    if locked and (report.created or report.updated):
        # A locked study's data was analysed against this definition; an amendment needs an unlock first.
        raise DefinitionError(
            [f"{plan.name}: study: protocol_id: {pid} is locked; its definition cannot change"]
        )


def list_assumptions(paths: Iterable[str | Path]) -> list[dict[str, Any]]:
    """Every marked assumption in the files (parsed, not validated, not loaded)."""
    rows: list[dict[str, Any]] = []
    for path in collect_files(paths):
        data = parse_file(path)
        rows.extend(_walk_assumptions(path, data))
    return rows


def _walk_assumptions(path: Path, data: dict[str, Any]) -> list[dict[str, Any]]:
    study = data.get("study") if isinstance(data.get("study"), dict) else {}
    study_id = str(study.get("protocol_id", "")) if study else ""
    rows: list[dict[str, Any]] = []

    def row(label: str, field_name: str | None, reason: Any) -> dict[str, Any]:
        return {"file": str(path), "study": study_id, "object": label, "field": field_name, "reason": reason}

    def note(label: str, obj: Any) -> None:
        if not isinstance(obj, dict):
            return
        if obj.get("assumption"):
            rows.append(row(label, None, obj["assumption"]))
        fields = obj.get("assumptions")
        if isinstance(fields, dict):
            rows.extend(row(label, name, why) for name, why in fields.items())
        for key, value in obj.items():
            if isinstance(value, dict) and key not in ("assumptions", "rule"):
                note(f"{label}.{key}", value)
            elif isinstance(value, list) and key != "rule":
                walk_list(f"{label}.{key}", value)

    def walk_list(label: str, items: list[Any]) -> None:
        for index, item in enumerate(items):
            if isinstance(item, dict):
                head, _, section = label.rpartition(".")
                note((f"{head}." if head else "") + object_label(section, index, item), item)

    if isinstance(data.get("assumption"), str):
        rows.append(row("(file)", None, data["assumption"]))
    for key, value in data.items():
        if isinstance(value, dict):
            note(str(key), value)
        elif isinstance(value, list):
            walk_list(str(key), value)
    return rows
