"""Load trial definitions from YAML (fixtures/forms.yaml, fixtures/studies/*.yaml) into the database.

Two stages, so that a bad file never leaves half a trial behind:

1. `read_definitions(paths)` reads every file with its pydantic model (studies/schema.py: unknown
   keys, missing fields, choices, types, units, rules), then checks what relates objects (codes
   repeated, references to arms, phases, forms and codelists) and runs each object's model `clean()`
   (the cross-field rules the admin and `manage.py check` apply too). Every problem is collected,
   each naming the file, the object ("visits[3] IMG6W") and the field. Nothing is written.
2. `write_definitions(plans)` writes all plans in one transaction, matching existing rows by natural
   key and saving only rows whose values changed, so a second load writes nothing (and adds no
   history rows).

Versions. A registry form is stored per (code, version); the version a file names becomes the
form's current version, which visits expect. A version that is published or already holds data is
never rewritten: changing it is refused until the file gives the change a new version. A load that
changes a study records a StudyVersion (the file's `version` and `effective_date`, or the next
number); it changes no subject's schedule (re-planning is the visits' re-plan service's job).

Objects that are in the database but no longer in a file are NOT deleted: visits, forms or criteria
may already have data pointing at them. The loader reports them as warnings; retiring them is a
deliberate act (admin), not a side effect of editing a fixture.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from edc.consent.models import ConsentVersion
from edc.inputs.errors import InputError, InputErrors, Loc, known_fields, path_text, validate
from edc.inputs.files import read_yaml
from edc.subjects.models import EnrollmentRules
from studies import schema
from studies.models import (
    Arm,
    Codelist,
    CodelistItem,
    EligibilityCriterion,
    Endpoint,
    Form,
    FormDefinition,
    FormItem,
    Intervention,
    Site,
    Study,
    StudyVersion,
    TreatmentPhase,
    VisitDefinition,
)
from studies.validation import parse_dosing_days

STUDY_SECTIONS = schema.STUDY_SECTIONS
FORMS_SECTIONS = schema.FORMS_SECTIONS

# The loader's errors are the input layer's: {"file", "object", "field", "message"}.
DefinitionError = InputErrors


def _error(path: Path | str, obj: str | None, field_name: str | None, message: str) -> InputError:
    return InputError(file=str(path), object=obj or None, field=field_name or None, message=message)


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
    index: int = -1  # position in its section of the file
    source: Any = None  # the object as the file model read it


@dataclass
class FilePlan:
    path: Path
    kind: str  # "study" or "forms"
    study: ObjectPlan | None = None
    sections: dict[str, list[ObjectPlan]] = field(default_factory=dict)
    version: str | None = None  # the study definition version the file states
    effective_date: Any = None
    enrollment: ObjectPlan | None = None  # the `enrollment` block (edc/subjects EnrollmentRules)

    @property
    def name(self) -> str:
        return str(self.path)

    @property
    def protocol_id(self) -> str:
        return self.study.values["protocol_id"] if self.study else ""


# --- reading files -------------------------------------------------------------------------------


def default_paths() -> list[Path]:
    return [Path(settings.EDC_FIXTURES_DIR)]


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
            raise DefinitionError([_error(path, None, None, "no such file or folder")])
    unique: list[Path] = []
    for path in files:
        if path not in unique:
            unique.append(path)
    return unique


def parse_file(path: Path) -> dict[str, Any]:
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise DefinitionError(
            [_error(path, None, None, "expected a mapping with a 'study' or a 'forms' key at the top")]
        )
    return data


def file_kind(path: Path, data: dict[str, Any]) -> str:
    if "study" in data:
        return "study"
    if set(data) & set(FORMS_SECTIONS):
        return "forms"
    raise DefinitionError(
        [_error(path, None, None, "expected a 'study' block or a form registry ('forms', 'codelists')")]
    )


def read_definitions(paths: Iterable[str | Path]) -> list[FilePlan]:
    """Read and check every file; raise DefinitionError listing every problem found."""
    files = collect_files(paths)
    errors: list[InputError] = []
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
        reader = FileReader(path, data, registry)
        plan = reader.read_forms() if kind == "forms" else reader.read_study()
        errors.extend(reader.errors)
        if plan is None:
            if kind == "forms":
                # Even a registry file with errors names its forms: later files are not blamed for it.
                registry.add_raw(data)
            continue
        if kind == "forms":
            # Even a registry file with errors names its forms: later files are not blamed for it.
            registry.add(plan)
        plans.append(plan)
    seen: dict[str, Path] = {}
    for plan in plans:
        if plan.kind == "study" and plan.study is not None:
            pid = plan.protocol_id
            if pid in seen:
                errors.append(
                    _error(plan.path, "study", "protocol_id", f"{pid!r} is also defined in {seen[pid]}")
                )
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
            forms=set(Form.objects.values_list("code", flat=True)),
            codelists=set(Codelist.objects.values_list("code", flat=True)),
        )

    def add_raw(self, data: dict[str, Any]) -> None:
        for section, codes in (("forms", self.forms), ("codelists", self.codelists)):
            items = data.get(section)
            if isinstance(items, list):
                codes |= {i["code"] for i in items if isinstance(i, dict) and isinstance(i.get("code"), str)}

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
    if item.get("version") not in (None, ""):
        return f"{label} {item['version']} {item.get('language', '')}".rstrip()
    return label


def locate(raw: Any, loc: Loc) -> tuple[str | None, str | None]:
    """A pydantic location in a definition file as (object, field): ("visits[2] IMG6W", "kind")."""
    nodes: list[Any] = [raw]
    node = raw
    for part in loc:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            node = None
        nodes.append(node)
    if loc and isinstance(loc[-1], int):
        split = len(loc)
    else:
        split = max((k for k in range(len(loc)) if isinstance(nodes[k], dict)), default=0)
    if split == 0:
        return (str(loc[0]) if loc else None), (path_text(loc[1:]) or None)
    return _object_text(loc[:split], nodes), (path_text(loc[split:]) or None)


def _object_text(loc: Loc, nodes: list[Any]) -> str:
    """("forms", 1, "items", 0) -> "forms[1] DM.items[0] SEX"."""
    parts: list[str] = []
    for i, part in enumerate(loc):
        if isinstance(part, int) and parts:
            parts[-1] = object_label(parts[-1], part, nodes[i + 1])
        else:
            parts.append(str(part))
    return ".".join(parts)


class FileReader:
    """Reads one file with its model, then checks what relates its objects; collects every error."""

    def __init__(self, path: Path, data: dict[str, Any], registry: Registry) -> None:
        self.path = path
        self.data = data
        self.registry = registry
        self.errors: list[InputError] = []

    def error(self, label: str | None, field_name: str | None, message: str) -> None:
        self.errors.append(_error(self.path, label, field_name, message))

    def _validate(self, model: type[Any], sections: Sequence[str]) -> Any:
        parsed, problems = validate(model, self.data)
        for loc, message in problems:
            obj, field_name = locate(self.data, loc)
            if len(loc) == 1 and message.startswith("unknown field"):
                known = known_fields(model, ()) or []
                message = f"unknown section (known: {', '.join(known)})"
            elif len(loc) == 1 and loc[0] in sections and message.startswith("expected a list"):
                message = "must be a list"
            self.error(obj, field_name, message)
        return parsed

    # -- study files --

    def read_study(self) -> FilePlan | None:
        parsed: schema.StudyFile | None = self._validate(schema.StudyFile, STUDY_SECTIONS)
        if parsed is None:
            return None
        plan = FilePlan(path=self.path, kind="study", version=parsed.study.version)
        plan.effective_date = parsed.study.effective_date
        plan.study = self._study(parsed.study)
        if parsed.enrollment is not None:
            plan.enrollment = self._enrollment(parsed.enrollment)
        raw_sections = {name: self.data.get(name) or [] for name in STUDY_SECTIONS}
        for section in STUDY_SECTIONS:
            items = getattr(parsed, section) or []
            model, _noun, key_fields = SECTION_MODELS[section]
            plan.sections[section] = self._objects(section, items, raw_sections[section], model, key_fields)
        arms = {p.values["code"] for p in plan.sections["arms"]}
        phases = {p.values["code"] for p in plan.sections["phases"]}
        for section in ("phases", "interventions", "visits"):
            for obj in plan.sections[section]:
                if obj.refs.get("arm") and obj.refs["arm"] not in arms:
                    self.error(obj.label, "arm", f"no arm {obj.refs['arm']!r} in this file's arms")
                if obj.refs.get("phase") and obj.refs["phase"] not in phases:
                    self.error(obj.label, "phase", f"no phase {obj.refs['phase']!r} in this file's phases")
        visit_codes = {obj.values["code"] for obj in plan.sections["visits"]}
        for obj in plan.sections["visits"]:
            parent = obj.values.get("anchor_visit")
            if parent and parent not in visit_codes:
                self.error(obj.label, "anchor_visit", f"{parent!r} names no visit of this study")
        for obj in plan.sections["visits"]:
            unknown = [code for code in obj.forms or [] if code not in self.registry.forms]
            if unknown:
                self.error(obj.label, "forms", f"form code(s) not in the form registry: {', '.join(unknown)}")
        self._clean(Study, plan.study, exclude=("locked_at",), fields=STUDY_FIELD_NAMES)
        if plan.enrollment is not None:
            for rule in plan.enrollment.values.get("procedures_before_consent") or []:
                unknown = [code for code in rule["forms"] if code not in self.registry.forms]
                if unknown:
                    self.error(
                        "enrollment",
                        "procedures_before_consent",
                        f"form code(s) not in the form registry: {', '.join(unknown)}",
                    )
            self._clean(EnrollmentRules, plan.enrollment, fields=ENROLLMENT_FIELD_NAMES)
        for section in STUDY_SECTIONS:
            model = SECTION_MODELS[section][0]
            for obj in plan.sections[section]:
                self._clean(model, obj)
        return plan

    def _study(self, study: schema.StudyIn) -> ObjectPlan:
        given = study.given()
        given.pop("version", None)
        given.pop("effective_date", None)
        block = given.pop("ae_collection", None)
        values = _model_values(Study, given)
        if block is not None:
            values.update(
                _model_values(
                    Study,
                    {
                        schema.AeCollectionIn.FIELDS[k]: v
                        for k, v in block.given().items()
                        if k in schema.AeCollectionIn.FIELDS
                    },
                )
            )
            nested: dict[str, str] = {}
            if block.assumption:
                nested["ae_collection"] = block.assumption
            nested.update({f"ae_collection.{k}": why for k, why in (block.assumptions or {}).items()})
            if nested:
                values["assumptions"] = {**(values.get("assumptions") or {}), **nested}
        return ObjectPlan(label="study", key={"protocol_id": values["protocol_id"]}, values=values)

    def _enrollment(self, block: schema.EnrollmentIn) -> ObjectPlan:
        given = block.given()
        assumption, reasons = given.pop("assumption", None), given.pop("assumptions", None)
        values = {schema.EnrollmentIn.FIELDS[k]: v for k, v in given.items()}
        if "procedures_before_consent" in values:
            values["procedures_before_consent"] = [
                r.model_dump() for r in values["procedures_before_consent"] or []
            ]
        values = _model_values(EnrollmentRules, values)
        values["assumption"] = assumption or ""
        values["assumptions"] = {
            schema.EnrollmentIn.FIELDS.get(k, k): why for k, why in (reasons or {}).items()
        }
        return ObjectPlan(label="enrollment", key={}, values=values)

    def _objects(
        self,
        section: str,
        items: Sequence[Any],
        raw_items: Sequence[Any],
        model: type[models.Model],
        key_fields: tuple[str, ...],
        prefix: str = "",
    ) -> list[ObjectPlan]:
        plans: list[ObjectPlan] = []
        seen: dict[tuple[Any, ...], int] = {}
        for index, item in enumerate(items):
            raw = raw_items[index] if index < len(raw_items) else {}
            label = prefix + object_label(section, index, raw)
            given = item.given()
            refs = {name: given.pop(name) for name in ("arm", "phase", "codelist") if name in given}
            forms = given.pop("forms", None)
            given.pop("items", None)
            given.pop("published", None)
            if "range" in given:
                low, high = given.pop("range") or (None, None)
                given["range_low"], given["range_high"] = low, high
            values = _model_values(model, given)
            if "order" in {f.name for f in model._meta.fields} and values.get("order") is None:
                values["order"] = index + 1
            key = tuple(values[k] for k in key_fields)
            if key in seen:
                self.error(label, key_fields[-1], f"{'/'.join(map(str, key))} repeats {section}[{seen[key]}]")
                continue
            seen[key] = index
            plans.append(
                ObjectPlan(
                    label=label,
                    key={k: values[k] for k in key_fields},
                    values=values,
                    refs=refs,
                    forms=forms,
                    index=index,
                    source=item,
                )
            )
        return plans

    def _clean(
        self,
        model: type[models.Model],
        obj: ObjectPlan,
        *,
        exclude: tuple[str, ...] = (),
        fields: dict[str, tuple[str, str]] | None = None,
    ) -> None:
        """The model's own rules (field validators and clean()) on the unsaved object."""
        instance = model(**obj.values)
        codelist = obj.refs.get("codelist")
        if codelist:
            # Unsaved stand-in: clean() sees that the item names a codelist. Only a FormItem has a
            # codelist, and `model` is any definition model to the type checker.
            instance.codelist = Codelist(code=codelist)  # type: ignore[attr-defined]
        relations = tuple(f.name for f in model._meta.fields if f.is_relation)
        try:
            instance.full_clean(
                exclude=[*relations, *exclude], validate_unique=False, validate_constraints=False
            )
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                label, where = (fields or {}).get(name, (obj.label, _FILE_FIELD.get(name, name)))
                for message in messages:
                    self.error(label, where, message.rstrip("."))

    # -- the form registry --

    def read_forms(self) -> FilePlan | None:
        parsed: schema.FormsFile | None = self._validate(schema.FormsFile, FORMS_SECTIONS)
        if parsed is None:
            return None
        plan = FilePlan(path=self.path, kind="forms")
        raw_codelists = self.data.get("codelists") or []
        raw_forms = self.data.get("forms") or []
        plan.sections["codelists"] = self._objects(
            "codelists", parsed.codelists or [], raw_codelists, Codelist, ("code",)
        )
        for obj in plan.sections["codelists"]:
            raw_items = (raw_codelists[obj.index] or {}).get("items") or []
            obj.children = self._objects(
                "items", obj.source.items, raw_items, CodelistItem, ("code",), prefix=f"{obj.label}."
            )
        plan.sections["forms"] = self._objects(
            "forms", parsed.forms or [], raw_forms, FormDefinition, ("code",)
        )
        codelists = {p.values["code"] for p in plan.sections["codelists"]} | self.registry.codelists
        for obj in plan.sections["forms"]:
            raw_items = (raw_forms[obj.index] or {}).get("items") or []
            obj.values["published"] = obj.source.published
            obj.values.setdefault("version", obj.source.version)
            obj.children = self._objects(
                "items", obj.source.items, raw_items, FormItem, ("code",), prefix=f"{obj.label}."
            )
            for item in obj.children:
                ref = item.refs.get("codelist")
                if ref and ref not in codelists:
                    self.error(item.label, "codelist", f"no codelist {ref!r} in the registry")
                self._clean(FormItem, item)
            self._clean(FormDefinition, _without(obj, "published"), exclude=("published_at",))
        for obj in plan.sections["codelists"]:
            self._clean(Codelist, obj)
            for item in obj.children:
                self._clean(CodelistItem, item)
        self._check_versions(plan)
        return plan

    def _check_versions(self, plan: FilePlan) -> None:
        """A published version, or one that holds data, is never rewritten in place."""
        for obj in plan.sections["forms"]:
            code, version = obj.values["code"], obj.values["version"]
            stored = (
                FormDefinition.objects.filter(code=code, version=version)
                .prefetch_related("items__codelist")
                .first()
            )
            if stored is None:
                continue
            if stored.is_published and not obj.values["published"]:
                self.error(
                    obj.label, "published", f"version {version} is published and cannot return to draft"
                )
                continue
            changes = form_changes(stored, obj)
            if not changes:
                continue
            why = stored.in_use_by()
            if why:
                self.error(
                    obj.label,
                    "version",
                    f"version {version} is {why} and cannot change ({', '.join(changes)}): "
                    "give the changed form a new version",
                )


def _without(obj: ObjectPlan, *names: str) -> ObjectPlan:
    return ObjectPlan(
        label=obj.label, key=obj.key, values={k: v for k, v in obj.values.items() if k not in names}
    )


# File fields whose model field has another name.
_FILE_FIELD = {"range_low": "range", "range_high": "range"}
STUDY_FIELD_NAMES: dict[str, tuple[str, str]] = {
    model_field: ("study.ae_collection", file_field)
    for file_field, model_field in schema.AeCollectionIn.FIELDS.items()
}
ENROLLMENT_FIELD_NAMES: dict[str, tuple[str, str]] = {
    model_field: ("enrollment", file_field) for file_field, model_field in schema.EnrollmentIn.FIELDS.items()
}


def _model_values(model: type[models.Model], given: dict[str, Any]) -> dict[str, Any]:
    """File values as model values: a null in the file is the field's empty value."""
    values: dict[str, Any] = {}
    for name, value in given.items():
        if value is None:
            model_field = model._meta.get_field(name)
            if getattr(model_field, "null", False):  # a GenericForeignKey has no null
                value = None
            elif isinstance(model_field, models.JSONField):
                value = model_field.get_default()
            else:
                value = ""
        values[name] = value
    return values


def form_changes(stored: FormDefinition, plan: ObjectPlan) -> list[str]:
    """What a registry file changes in a stored form version: field names and item codes."""
    changes = [
        name
        for name, value in plan.values.items()
        if name not in ("code", "version", "published") and not _same(getattr(stored, name), value)
    ]
    stored_items = {item.code: item for item in stored.items.all()}
    planned = {item.values["code"]: item for item in plan.children}
    for code in sorted(set(stored_items) | set(planned)):
        old, new = stored_items.get(code), planned.get(code)
        if old is None or new is None:
            changes.append(f"item {code} {'added' if old is None else 'removed'}")
            continue
        differs = [n for n, v in new.values.items() if n != "code" and not _same(getattr(old, n), v)]
        if (old.codelist.code if old.codelist else None) != new.refs.get("codelist"):
            differs.append("codelist")
        if differs:
            changes.append(f"item {code} {', '.join(differs)}")
    return changes


# --- writing -------------------------------------------------------------------------------------


@dataclass
class FileReport:
    file: str
    kind: str
    study: str = ""
    version: str = ""
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "kind": self.kind,
            "study": self.study,
            "version": self.version,
            "result": "loaded" if self.changed else "no changes",
            "created": self.created,
            "updated": self.updated,
            "warnings": self.warnings,
        }

    def line(self) -> str:
        """One line for the operator: "fixtures/x.yaml: study X version 2: loaded (3 created, 1 updated)"."""
        what = (
            f"study {self.study}" + (f" version {self.version}" if self.version else "")
            if self.kind == "study"
            else "form registry"
        )
        if self.changed:
            counts = f"{len(self.created)} created, {len(self.updated)} updated"
            text = f"{self.file}: {what}: loaded ({counts})"
        else:
            text = f"{self.file}: {what}: no changes"
        if self.warnings:
            text += (
                f"; {len(self.warnings)} warning{'s' if len(self.warnings) != 1 else ''} (-v 2 lists them)"
            )
        return text


def _same(old: Any, new: Any) -> bool:
    if isinstance(old, Decimal) or isinstance(new, Decimal):
        if old is None or new is None:
            return old is new
        return Decimal(old) == Decimal(new)
    return bool(old == new)


@dataclass
class Writer:
    report: FileReport
    reason: str
    user: Any = None

    def save(self, obj: models.Model) -> None:
        obj._change_reason = self.reason  # type: ignore[attr-defined]  # simple-history reads it
        if self.user is not None:
            obj._history_user = self.user  # type: ignore[attr-defined]  # simple-history reads it
        obj.save()

    def upsert(
        self, model: type[models.Model], lookup: dict[str, Any], values: dict[str, Any], label: str
    ) -> tuple[Any, bool]:
        """Create or update one row by natural key; save only when a value differs."""
        obj = model._default_manager.filter(**lookup).first()
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
        self.save(obj)
        if created:
            self.report.created.append(label)
        else:
            self.report.updated.append(f"{label}: {', '.join(changed)}")
        return obj, created

    def create_all(self, model: type[models.Model], rows: Sequence[tuple[dict[str, Any], str]]) -> None:
        """Create the rows of a parent created just now (none can exist yet): one INSERT for the rows
        and one for their history rows, each with the load's reason and user, instead of a look-up
        and two INSERTs per row (a first load of the form registry writes some 600 rows)."""
        if not rows:
            return
        objs = [model(**values) for values, _label in rows]
        model._default_manager.bulk_create(objs)
        model.history.bulk_history_create(  # type: ignore[attr-defined]
            objs, default_user=self.user, default_change_reason=self.reason
        )
        self.report.created.extend(label for _values, label in rows)

    def warn_missing(
        self, noun: str, existing: Iterable[tuple[Any, ...]], kept: set[tuple[Any, ...]]
    ) -> None:
        for key in sorted(set(existing) - kept, key=str):
            name = "/".join(map(str, key))
            self.report.warnings.append(
                f"{noun} {name} is in the database but no longer in the file; not deleted "
                "(data may point to it): retire it in the admin if it is really gone"
            )


def write_definitions(
    plans: Sequence[FilePlan], *, reason: str = "load_studies", user: Any = None
) -> list[FileReport]:
    """Write validated plans in one transaction; return what changed per file."""
    reports: list[FileReport] = []
    with transaction.atomic():
        for plan in plans:
            report = FileReport(file=plan.name, kind=plan.kind)
            writer = Writer(report=report, reason=f"{reason} {plan.path.name}", user=user)
            if plan.kind == "forms":
                _write_forms(plan, writer)
            else:
                _write_study(plan, writer)
            reports.append(report)
    return reports


def _children(
    parent_label: str, items: list[ObjectPlan]
) -> Iterable[tuple[str, str, dict[str, Any], ObjectPlan]]:
    for item in items:
        code = item.values["code"]
        yield code, f"{parent_label}.{code}", {k: v for k, v in item.values.items() if k != "code"}, item


def _write_forms(plan: FilePlan, w: Writer) -> None:
    codelists: dict[str, Codelist] = {c.code: c for c in Codelist.objects.all()}
    for cl in plan.sections.get("codelists", []):
        code = cl.values["code"]
        values = {k: v for k, v in cl.values.items() if k != "code"}
        obj, new_list = w.upsert(Codelist, {"code": code}, values, f"codelist {code}")
        codelists[code] = obj
        children = list(_children(f"codelist {code}", cl.children))
        if new_list:
            w.create_all(
                CodelistItem, [({"codelist": obj, "code": ic, **vals}, lab) for ic, lab, vals, _i in children]
            )
            continue
        existing = {(c,) for c in obj.items.values_list("code", flat=True)}
        for icode, label, values, _item in children:
            w.upsert(CodelistItem, {"codelist": obj, "code": icode}, values, label)
        w.warn_missing(f"codelist {code} item", existing, {(i.values["code"],) for i in cl.children})
    in_file: set[tuple[Any, ...]] = set()
    for form in plan.sections.get("forms", []):
        code, version = form.values["code"], form.values["version"]
        in_file.add((code,))
        form_row, _ = Form.objects.get_or_create(code=code)
        values = {k: v for k, v in form.values.items() if k not in ("code", "version", "published")}
        values["form"] = form_row
        stored = FormDefinition.objects.filter(code=code, version=version).first()
        if form.values["published"] and (stored is None or stored.published_at is None):
            values["published_at"] = timezone.now()
        current = FormDefinition.objects.filter(code=code, is_current=True).exclude(version=version).first()
        if current is not None:
            # The file's version becomes the one visits expect; the previous one stays as it was.
            current.is_current = False
            w.save(current)
            w.report.updated.append(f"form {code}: current version {current.version} -> {version}")
        values["is_current"] = True
        obj, new_form = w.upsert(
            FormDefinition, {"code": code, "version": version}, values, f"form {code} {version}"
        )
        items = list(_children(f"form {code}", form.children))
        for _icode, _label, item_values, item in items:
            ref = item.refs.get("codelist")
            item_values["codelist"] = codelists[ref] if ref else None
        if new_form:
            w.create_all(FormItem, [({"form": obj, "code": ic, **vals}, lab) for ic, lab, vals, _i in items])
            continue
        existing = {(c,) for c in obj.items.values_list("code", flat=True)}
        for icode, label, item_values, _item in items:
            w.upsert(FormItem, {"form": obj, "code": icode}, item_values, label)
        w.warn_missing(f"form {code} item", existing, {(i.values["code"],) for i in form.children})
    if plan.sections.get("forms"):
        all_forms = {(c,) for c in Form.objects.values_list("code", flat=True)}
        w.warn_missing("form", all_forms, in_file)


SECTION_MODELS: dict[str, tuple[type[models.Model], str, tuple[str, ...]]] = {
    "sites": (Site, "site", ("code",)),
    "arms": (Arm, "arm", ("code",)),
    "phases": (TreatmentPhase, "phase", ("code",)),
    "interventions": (Intervention, "intervention", ("code",)),
    "criteria": (EligibilityCriterion, "criterion", ("kind", "number")),
    "visits": (VisitDefinition, "visit", ("code",)),
    "endpoints": (Endpoint, "endpoint", ("code",)),
    "consent_versions": (ConsentVersion, "consent version", ("version", "language")),
}


def _write_study(plan: FilePlan, w: Writer) -> None:
    assert plan.study is not None
    pid = plan.protocol_id
    w.report.study = pid
    study_values = {k: v for k, v in plan.study.values.items() if k != "protocol_id"}
    locked = Study.objects.filter(protocol_id=pid, locked_at__isnull=False).exists()
    study, _ = w.upsert(Study, {"protocol_id": pid}, study_values, f"study {pid}")
    refs: dict[str, dict[str, models.Model]] = {"arm": {}, "phase": {}}
    forms = {f.code: f for f in Form.objects.all()}
    for section in STUDY_SECTIONS:
        model, noun, key_fields = SECTION_MODELS[section]
        model_fields = {f.name for f in model._meta.get_fields()}
        existing = set(model._default_manager.filter(study=study).values_list(*key_fields))
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
            obj, created = w.upsert(model, {"study": study, **key}, values, label)
            if section in ("arms", "phases"):
                refs[noun][obj.code] = obj
            if section == "visits":
                wanted = set(obj_plan.forms or [])
                if wanted != set(obj.forms.values_list("code", flat=True)):
                    obj._change_reason = w.reason
                    obj.forms.set([forms[c] for c in sorted(wanted)])
                    if not created:
                        w.report.updated.append(f"{label}: forms")
        w.warn_missing(noun, existing, kept)
    if plan.enrollment is not None:
        w.upsert(EnrollmentRules, {"study": study}, plan.enrollment.values, f"study {pid} enrollment")
    if locked and w.report.changed:
        # A locked study's data was analysed against this definition; an amendment needs an unlock first.
        raise DefinitionError(
            [_error(plan.path, "study", "protocol_id", f"{pid} is locked; its definition cannot change")]
        )
    _record_version(plan, study, w)


def _record_version(plan: FilePlan, study: Study, w: Writer) -> None:
    """The first load and every amendment become a StudyVersion; an unchanged load records nothing."""
    latest = study.versions.order_by("-loaded_at", "-id").first()
    stated = plan.version
    if not w.report.changed and (stated is None or (latest is not None and latest.number == stated)):
        w.report.version = latest.number if latest else ""
        if latest is not None and stated is not None and latest.effective_date != plan.effective_date:
            latest.effective_date = plan.effective_date
            w.save(latest)
            w.report.updated.append(f"study {study.protocol_id} version {latest.number}: effective_date")
        return
    if stated is not None and study.versions.filter(number=stated).exists():
        raise DefinitionError(
            [
                _error(
                    plan.path,
                    "study",
                    "version",
                    f"the definition changed but version {stated} is already recorded: "
                    "give the amendment a new version (and its effective_date)",
                )
            ]
        )
    number = stated or _next_number(study)
    version = StudyVersion(
        study=study,
        number=number,
        effective_date=plan.effective_date,
        loaded_by=w.user,
        source=plan.path.name,
        changes={"created": list(w.report.created), "updated": list(w.report.updated)},
    )
    w.save(version)
    w.report.version = number


def _next_number(study: Study) -> str:
    taken = set(study.versions.values_list("number", flat=True))
    n = len(taken) + 1
    while str(n) in taken:
        n += 1
    return str(n)


# --- assumptions ---------------------------------------------------------------------------------


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


# Kept for callers that read dosing days outside a file (and the tests of the day syntax).
_dosing_days = parse_dosing_days
