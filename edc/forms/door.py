"""The form door driven by the registry: GET|POST /api/visits/{id}/forms/{code}/.

Any registered form is entered as `{"items": {item code: value}}` (plus `not_done_reason` and
`not_done_detail` for a form not done), read from metadata alone (GET /api/forms/{code}/), so an eCRF
front end, a mobile app or an import can render and submit every form without knowing its model.
docs/forms-status-door.md tells the whole story; in short:

1. the registry validates (the form's current version): unknown item codes are refused by name,
   derived items (a BSA, a lab's standard value) are read-only, each value has its item's type
   (text, integer, decimal, date, partial date, date and time, yes/no, a code of the item's
   codelist), a number lies in the item's plausible range, and every required item is there (a form
   not done needs only the items it keeps, such as its date or the lab test). A number with a unit
   other than the item's, `{"value": 176, "unit": "lb"}`, is converted through edc/core/units.py.
   Errors are keyed by item code;
2. the items become the model's fields (FormStore.field_for) and are written by that form's own
   API resource, i.e. its serializer and its service (the per-form resource found on the API
   router), so the door and the per-form resource can never disagree; a form with a store but no
   resource is written through edc.forms.services.form_record_create. Errors of the serializer and
   the service come back keyed by item code too;
3. the stored row is answered in the same shape, with its `state` (complete, in_progress,
   not_done: edc/forms/status.py). GET lists the visit's active rows of the form in that shape.

Forms stored once per subject (DM on the subject record, IC, IE) are read here, and written by their
own doors (subjects, consents, eligibility): POST answers 405 naming it. A form no model stores yet
(until its issue lands) reads as no rows and refuses a POST the same way.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import MethodNotAllowed, NotFound, PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from edc.api.parsers import JSONParser
from edc.api.schema import ErrorSerializer
from edc.core.partial_dates import PartialDate, PartialDateError
from edc.core.scoping import can_write_site, scope
from edc.core.units import UnitError, convert
from edc.forms import codes
from edc.forms.status import COMPLETE, IN_PROGRESS, NOT_DONE, STATES, RowFacts, form_state
from studies.form_stores import FormStore, form_stores

BODY_KEYS = frozenset({"items", "not_done_reason", "not_done_detail"})
_INTEGER = re.compile(r"-?[0-9]+", re.ASCII)
_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?", re.ASCII)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
_CODE = re.compile(r"[A-Za-z0-9_\-]{1,32}", re.ASCII)
MAX_TEXT = 10_000  # no item of the registry holds more; longer text is refused before any column


# --- the registry's view of one form -------------------------------------------------------------


@dataclass(frozen=True)
class ItemSpec:
    code: str
    label: str
    data_type: str
    unit: str
    codes: tuple[str, ...]
    codelist: str
    required: bool
    low: Decimal | None
    high: Decimal | None


@dataclass(frozen=True)
class FormSpec:
    code: str
    name: str
    version: str
    items: tuple[ItemSpec, ...]

    def item(self, code: str) -> ItemSpec | None:
        return next((item for item in self.items if item.code == code), None)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(item.code for item in self.items if item.required)


def form_spec(code: str) -> FormSpec | None:
    """The form's current registry version with its items and codelists (three queries), or None."""
    from studies.selectors import forms_with_items

    if not isinstance(code, str) or not _CODE.fullmatch(code):
        return None
    from studies.models import FormDefinition

    found = forms_with_items(FormDefinition.objects.filter(code=code, is_current=True)).first()
    if found is None:
        return None
    items = tuple(
        ItemSpec(
            code=item.code,
            label=item.label,
            data_type=item.data_type,
            unit=item.unit or "",
            codes=tuple(c.code for c in item.codelist.items.all()) if item.codelist else (),
            codelist=item.codelist.code if item.codelist else "",
            required=item.required,
            low=item.range_low,
            high=item.range_high,
        )
        for item in found.items.all()
    )
    return FormSpec(found.code, found.name, found.version, items)


def store_for(code: str) -> FormStore | None:
    """The model that stores the form: one with a visit first (a FormRecord), else a per-subject one."""
    stores = [store for store in form_stores() if store.form_code == code]
    with_visit = [s for s in stores if "visit" in {f.name for f in s.model._meta.concrete_fields}]
    found = with_visit or stores
    return found[0] if found else None


def has_visit(store: FormStore) -> bool:
    return "visit" in {f.name for f in store.model._meta.concrete_fields}


def resource_for(model: type[models.Model]) -> Any:
    """The per-form API resource (viewset class) registered on the API router for the model, or None."""
    from edc.api.urls import router
    from edc.api.viewsets import AuditedViewSet

    for _prefix, viewset, _basename in router.registry:
        queryset = getattr(viewset, "queryset", None)
        if (
            queryset is not None
            and queryset.model is model
            and issubclass(viewset, AuditedViewSet)
            and viewset.create_record is not AuditedViewSet.create_record
        ):
            return viewset
    return None


# --- reading items by the registry ---------------------------------------------------------------


class ItemErrors(Exception):
    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(errors)
        self.errors = errors


def _plain(value: Decimal | None) -> str:
    return "" if value is None else format(value.normalize(), "f")


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return None
        return Decimal(str(value))
    if isinstance(value, str) and _DECIMAL.fullmatch(value.strip()):
        try:
            return Decimal(value.strip())
        except InvalidOperation:
            return None
    return None


def _field(store: FormStore, name: str) -> models.Field[Any, Any] | None:
    try:
        field = store.model._meta.get_field(name)
    except Exception:  # no such field: the system check E021 says so
        return None
    return field if isinstance(field, models.Field) else None


def _with_unit(item: ItemSpec, value: Any) -> tuple[Any, list[str]]:
    """`{"value": n, "unit": u}` in the item's unit (edc/core/units.py); a plain value as it is."""
    if not isinstance(value, Mapping):
        return value, []
    if not item.unit:
        return None, [gettext("A value, not an object: this item has no unit.")]
    unknown = sorted(set(value) - {"value", "unit"})
    if unknown:
        return None, [
            gettext("Only value and unit: {keys} unknown.").format(keys=", ".join(map(str, unknown)))
        ]
    unit, number = value.get("unit"), _number(value.get("value"))
    if not isinstance(unit, str) or not unit.strip() or "\x00" in unit:
        return None, [gettext("Give the unit as text, e.g. {unit}.").format(unit=item.unit)]
    if number is None:
        return None, [gettext("The value is a number (digits 0-9, a point for decimals).")]
    try:
        return convert(number, unit.strip(), item.unit), []
    except UnitError as exc:
        return None, [
            gettext("{unit} cannot be read as {item_unit}: {reason}").format(
                unit=unit.strip(), item_unit=item.unit, reason=exc
            )
        ]


def _typed(item: ItemSpec, store: FormStore, field_name: str, value: Any) -> tuple[Any, list[str]]:
    """The item's value as the model field takes it, or the messages that refuse it."""
    value, errors = _with_unit(item, value)
    if errors or value is None:
        return None, errors
    kind = item.data_type
    if isinstance(value, str) and "\x00" in value:
        return None, [gettext("Text cannot contain the NUL character.")]
    if kind == "text":
        if not isinstance(value, str):
            return None, [gettext("Text is expected.")]
        if len(value) > MAX_TEXT:
            return None, [gettext("At most {n} characters.").format(n=MAX_TEXT)]
        return value, []
    if kind == "choice":
        if not isinstance(value, str) or value not in item.codes:
            return None, [
                gettext("{value} is not a code of {codelist}: one of {codes}.").format(
                    value=_shown(value), codelist=item.codelist, codes=", ".join(item.codes)
                )
            ]
        return value, []
    if kind == "boolean":
        if not isinstance(value, bool):
            return None, [gettext("true or false.")]
        return value, []
    if kind in ("integer", "decimal"):
        number = value if isinstance(value, Decimal) else _number(value)
        if number is None or (
            kind == "integer" and isinstance(value, str) and not _INTEGER.fullmatch(value.strip())
        ):
            return None, [gettext("A number is expected (digits 0-9, a point for decimals).")]
        field = _field(store, field_name)
        if kind == "integer":
            if number != number.to_integral_value():
                return None, [gettext("A whole number is expected ({value}).").format(value=_plain(number))]
            number = number.quantize(Decimal(1))
        elif isinstance(field, models.DecimalField) and isinstance(value, Decimal):
            # A converted value is rounded to the places the field keeps.
            number = number.quantize(Decimal(1).scaleb(-field.decimal_places), rounding=ROUND_HALF_UP)
        if (item.low is not None and number < item.low) or (item.high is not None and number > item.high):
            return None, [
                gettext("{value} is outside the plausible range {low}-{high}{unit}.").format(
                    value=_plain(number),
                    low=_plain(item.low),
                    high=_plain(item.high),
                    unit=f" {item.unit}" if item.unit else "",
                )
            ]
        return (int(number) if kind == "integer" else number), []
    if kind == "date":
        if not isinstance(value, str) or not _DATE.fullmatch(value):
            return None, [gettext("A date is YYYY-MM-DD.")]
        try:
            return dt.date.fromisoformat(value), []
        except ValueError:
            return None, [gettext("{value} is no calendar date.").format(value=value)]
    if kind == "partial_date":
        if not isinstance(value, str):
            return None, [gettext("A partial date is text: YYYY, YYYY-MM or YYYY-MM-DD.")]
        try:
            return PartialDate.parse(value), []
        except PartialDateError as exc:
            return None, [str(exc)]
    if kind == "datetime":
        if not isinstance(value, str) or len(value) > 40:
            return None, [
                gettext("A date and time is ISO 8601 with its offset, e.g. 2025-03-01T09:00:00+08:00.")
            ]
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None:
            return None, [
                gettext("A date and time is ISO 8601 with its offset, e.g. 2025-03-01T09:00:00+08:00.")
            ]
        return moment, []
    return None, [gettext("The registry gives this item no type the door reads.")]


def _shown(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    return repr(text[:40])


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


@dataclass(frozen=True)
class Entry:
    """A body read by the registry: the model's field values, and "not done"."""

    fields: dict[str, Any]
    not_done_reason: str
    not_done_detail: str


def read_entry(spec: FormSpec, store: FormStore, body: Any) -> Entry:
    """The body `{"items": {...}, "not_done_reason", "not_done_detail"}` validated by the registry.
    Raises ItemErrors keyed by item code (and by the body's own keys)."""
    if not isinstance(body, Mapping):
        raise ItemErrors({"non_field_errors": [gettext('A JSON object: {"items": {item code: value}}.')]})
    errors: dict[str, list[str]] = {}
    for key in body:
        if key not in BODY_KEYS:
            errors[str(key)] = [gettext("Unknown field.")]
    items = body.get("items", {})
    if items is None:
        items = {}
    if not isinstance(items, Mapping):
        errors["items"] = [gettext("An object of item code: value.")]
        items = {}
    reason = body.get("not_done_reason", "")
    reason = "" if reason is None else reason
    if not isinstance(reason, str) or (reason and reason not in codes.NOT_DONE_REASONS):
        errors["not_done_reason"] = [
            gettext("One of {codes}, or empty.").format(codes=", ".join(codes.NOT_DONE_REASONS))
        ]
        reason = ""
    detail = body.get("not_done_detail", "")
    detail = "" if detail is None else detail
    if not isinstance(detail, str) or "\x00" in detail or len(detail) > MAX_TEXT:
        errors["not_done_detail"] = [gettext("Text is expected (no NUL character).")]
        detail = ""
    elif detail.strip() and not reason and "not_done_reason" not in errors:
        errors["not_done_detail"] = [gettext("Give the reason it was not done.")]

    model = store.model
    # door_fields: items the door takes that the resource names otherwise (model.door_body translates).
    editable = set(getattr(model, "editable_fields", ())) | set(getattr(model, "door_fields", ()))
    answers = set(getattr(model, "answer_fields", ())) - set(getattr(model, "kept_when_not_done", ()))
    fields: dict[str, Any] = {}
    for code, value in items.items():
        item = spec.item(code) if isinstance(code, str) else None
        if item is None:
            errors[str(code)] = [
                gettext("Unknown item of form {form} {version}.").format(form=spec.code, version=spec.version)
            ]
            continue
        name = store.field_for(code)
        if name not in editable:
            errors[code] = [gettext("Derived by the system: read-only.")]
            continue
        if reason and name in answers and not _empty(value):
            errors[code] = [gettext("A form marked not done holds no data.")]
            continue
        typed, problems = _typed(item, store, name, value)
        if problems:
            errors[code] = problems
            continue
        fields[name] = typed
    for item in spec.items:
        name = store.field_for(item.code)
        if "not_done_reason" in errors:
            break  # whether the data are asked depends on the reason: name that first
        if not item.required or item.code in errors or name not in editable:
            continue
        if reason and name in answers:
            continue  # not done: the form's data are not asked
        if _empty(fields.get(name)):
            errors[item.code] = [gettext("Required.")]
    if errors:
        raise ItemErrors(errors)
    return Entry(fields, reason, detail)


# --- writing and answering -----------------------------------------------------------------------


def _json(value: Any) -> Any:
    """A model value as JSON (decimals as text, like every decimal of the API)."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, PartialDate):
        return str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def _item_errors(spec: FormSpec, store: FormStore, errors: Mapping[str, Any]) -> dict[str, Any]:
    """Errors keyed by field (a serializer's, a service's) keyed by item code where a field is one."""
    by_field = {store.field_for(item.code): item.code for item in spec.items}
    renamed = getattr(store.model, "door_error_fields", {})  # the resource's key -> the model field
    found: dict[str, Any] = {}
    for key, messages in errors.items():
        name = "non_field_errors" if key == "__all__" else str(key)
        base = name.split("[", 1)[0]  # "attributions[0].agent": the resource's nested rows
        name = renamed.get(base, name)
        code = by_field.get(name, name)
        listed = messages if isinstance(messages, list) else [messages]
        found.setdefault(code, []).extend(str(m) for m in listed)
    return found


def door_write(*, request: Request, visit: Any, spec: FormSpec, store: FormStore, entry: Entry) -> Any:
    """Store the entry through the form's own resource (serializer, then its create service)."""
    data: dict[str, Any] = dict(entry.fields)
    if entry.not_done_reason:  # named only when given: a resource may take no "not done"
        data.update(not_done_reason=entry.not_done_reason, not_done_detail=entry.not_done_detail)
    viewset = resource_for(store.model)
    if viewset is None:  # the view refuses first; a caller of this function gets the same refusal
        raise MethodNotAllowed("POST")
    try:
        view = viewset()
        view.request = request
        view.format_kwarg = None
        view.action = "create"
        view.kwargs = {}
        view.args = ()
        view.headers = {}
        translate = getattr(store.model, "door_body", None)
        if translate is not None:  # a resource whose body differs from the registry's items
            data = translate(data, visit)
        body = {key: _json(value) for key, value in data.items()}
        body.update(subject=str(visit.subject_id), visit=str(visit.pk))
        serializer = view.get_serializer(data=body)
        if not serializer.is_valid():
            raise ItemErrors(_item_errors(spec, store, serializer.errors))
        return view.create_record(dict(serializer.validated_data))
    except DjangoValidationError as exc:
        messages = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        raise ItemErrors(_item_errors(spec, store, messages)) from None
    except serializers.ValidationError as exc:
        detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        raise ItemErrors(_item_errors(spec, store, detail)) from None


def row_facts(spec: FormSpec, store: FormStore, row: Any) -> RowFacts:
    names = {f.name for f in store.model._meta.concrete_fields}
    empty = tuple(
        sorted(
            code
            for code in spec.required
            if store.field_for(code) in names and _empty(getattr(row, store.field_for(code)))
        )
    )
    return RowFacts(
        key=row.pk,
        not_done_reason=getattr(row, "not_done_reason", "") or "",
        not_done_detail=getattr(row, "not_done_detail", "") or "",
        empty_required=empty,
    )


def row_shape(spec: FormSpec, store: FormStore, row: Any) -> dict[str, Any]:
    """One stored row as the door answers it: its items by code, its state, its record facts."""
    facts = row_facts(spec, store, row)
    state = NOT_DONE if facts.not_done_reason else (IN_PROGRESS if facts.empty_required else COMPLETE)
    names = {f.name for f in store.model._meta.concrete_fields}
    items = {
        item.code: _json(getattr(row, store.field_for(item.code)))
        for item in spec.items
        if store.field_for(item.code) in names
    }
    is_subject = store.model._meta.label == "subjects.Subject"
    return {
        "id": str(row.pk),
        "form": spec.code,
        "form_version": getattr(row, "form_version", "") or spec.version,
        "subject": str(row.pk if is_subject else row.subject_id),
        "visit": str(row.visit_id) if "visit" in names else None,
        "site": row.site_id,
        "version": row.version,
        "state": state,
        "items": items,
        "not_done_reason": facts.not_done_reason,
        "not_done_detail": facts.not_done_detail,
        "created": _json(row.created),
        "updated": _json(row.updated),
    }


def visit_rows(store: FormStore, visit: Any) -> list[Any]:
    """The visit's active rows of the form (a per-subject form: the subject's), oldest first."""
    model = store.model
    names = {f.name for f in model._meta.concrete_fields}
    if "visit" in names:
        queryset = model._default_manager.filter(visit_id=visit.pk)
    elif model._meta.label == "subjects.Subject":
        queryset = model._default_manager.filter(pk=visit.subject_id)
    elif "subject" in names:
        queryset = model._default_manager.filter(subject_id=visit.subject_id)
    else:
        return []
    if "voided_at" in names:
        queryset = queryset.filter(voided_at__isnull=True)
    return list(queryset.order_by("created", "pk"))


# --- the view ------------------------------------------------------------------------------------


class FormDoorBodySerializer(serializers.Serializer):
    """A form entry: its items by registry item code, or "not done" with a reason."""

    refuses_unknown_fields = True

    items = serializers.DictField(
        child=serializers.JSONField(),
        required=False,
        help_text=_(
            "Item code -> value, typed as the registry says (text, integer, decimal, date, partial "
            'date, date and time, true/false, a codelist code); a number with another unit as {"value": '
            '176, "unit": "lb"}. Unknown codes and derived items are refused by name.'
        ),
    )
    not_done_reason = serializers.ChoiceField(
        choices=["", *codes.NOT_DONE_REASONS], required=False, help_text=_("Instead of the data: why not.")
    )
    not_done_detail = serializers.CharField(required=False, allow_blank=True)

    class Meta:
        ref_name = "FormEntry"


class FormRowSerializer(serializers.Serializer):
    """One stored row of a form, in the registry's item codes."""

    id = serializers.UUIDField()
    form = serializers.CharField()
    form_version = serializers.CharField()
    subject = serializers.UUIDField()
    visit = serializers.UUIDField(
        allow_null=True, help_text=_("Null for a form stored per subject (DM, IC, IE).")
    )
    site = serializers.IntegerField()
    version = serializers.IntegerField(
        help_text=_("The record's version (send it as If-Match to its resource).")
    )
    state = serializers.ChoiceField(choices=[COMPLETE, IN_PROGRESS, NOT_DONE])
    items = serializers.DictField(child=serializers.JSONField(allow_null=True))
    not_done_reason = serializers.CharField(allow_blank=True)
    not_done_detail = serializers.CharField(allow_blank=True)
    created = serializers.DateTimeField()
    updated = serializers.DateTimeField()

    class Meta:
        ref_name = "FormRow"


class FormRowsSerializer(serializers.Serializer):
    """A visit's rows of one form, with the form's status there."""

    form = serializers.CharField()
    name = serializers.CharField()
    form_version = serializers.CharField()
    visit = serializers.UUIDField()
    state = serializers.ChoiceField(choices=list(STATES))
    stored = serializers.BooleanField(help_text=_("False: no model stores this form yet."))
    writable = serializers.BooleanField(help_text=_("Whether POST to this door stores the form."))
    rows = FormRowSerializer(many=True)

    class Meta:
        ref_name = "FormRows"


VISIT_ID = OpenApiParameter(
    "id", {"type": "string", "format": "uuid"}, OpenApiParameter.PATH, description="The visit's id."
)
FORM_CODE = OpenApiParameter(
    "code",
    {"type": "string", "pattern": r"^[A-Za-z0-9_\-]{1,32}$"},
    OpenApiParameter.PATH,
    description="The form's registry code (GET /api/forms/).",
)


ROW_ETAG = OpenApiParameter(
    "ETag",
    {"type": "string", "pattern": r'^"[0-9]+"$', "example": '"1"'},
    OpenApiParameter.HEADER,
    required=True,
    response=["201"],
    description="The stored row's version, quoted: send it as If-Match to the form's own resource.",
)


def scoped_visit(request: Request, pk: str) -> Any:
    """The visit among those the user sees (404 otherwise, also for a malformed id)."""
    from edc.visits.models import Visit

    try:
        key = uuid.UUID(str(pk))
    except ValueError:
        raise NotFound() from None
    found = (
        scope(Visit.objects.active(), request.user)
        .select_related("subject", "site", "study")
        .filter(pk=key)
        .first()
    )
    if found is None:
        raise NotFound()
    return found


def not_writable(store: FormStore | None) -> str:
    """Why POST cannot store the form, or "" (it needs a visit store with its own API resource)."""
    if store is None:
        return gettext("no model stores it yet.")
    if not has_visit(store):
        return gettext("it is stored per subject; enter it through its own resource.")
    viewset = resource_for(store.model)
    if viewset is None:
        return gettext("its model has no API resource yet (the door writes through the form's own resource).")
    field = viewset.serializer_class().fields.get("visit")
    if field is None or field.read_only:
        # Rows of a parent record (a lesion measurement inside its tumour assessment): the
        # resource takes them by that parent, not by a visit.
        return gettext("its rows are entered inside their parent record, through its own resource.")
    return ""


def _form(code: str) -> FormSpec:
    spec = form_spec(code)
    if spec is None:
        raise NotFound(gettext("The registry has no form {code}.").format(code=str(code)[:32]))
    return spec


class FormDoorView(APIView):
    """A visit's rows of one registry form (GET), or a new row of it (POST), in item codes."""

    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="visit_form_rows",
        parameters=[VISIT_ID, FORM_CODE],
        responses={200: FormRowsSerializer},
        tags=["forms"],
        description=(
            "The visit's active rows of the form in the registry's item codes, each with its state, "
            "and the form's status at the visit (edc/forms/status.py)."
        ),
    )
    def get(self, request: Request, id: str, code: str) -> Response:
        visit = scoped_visit(request, id)
        spec = _form(code)
        store = store_for(spec.code)
        rows = visit_rows(store, visit) if store is not None else []
        facts = [row_facts(spec, store, row) for row in rows] if store is not None else []
        summary = form_state(spec.code, spec.name, facts, expected=True, stored=store is not None)
        return Response(
            {
                "form": spec.code,
                "name": spec.name,
                "form_version": spec.version,
                "visit": str(visit.pk),
                "state": summary.state,
                "stored": store is not None,
                "writable": not not_writable(store),
                "rows": [row_shape(spec, store, row) for row in rows] if store is not None else [],
            }
        )

    @extend_schema(
        operation_id="visit_form_enter",
        parameters=[VISIT_ID, FORM_CODE, ROW_ETAG],
        request=FormDoorBodySerializer,
        responses={
            201: FormRowSerializer,
            405: OpenApiResponse(
                ErrorSerializer,
                description="The form is stored per subject (DM, IC, IE: use its own resource) or by no "
                "model yet.",
            ),
            409: OpenApiResponse(
                ErrorSerializer, description="`locked`: the visit, the subject or the study is locked."
            ),
        },
        tags=["forms"],
        description=(
            "Enter a row of the form at the visit: validated by the registry (types, units, codelists, "
            "ranges, required items; errors keyed by item code), stored by the form's own resource and "
            "service, answered in the same shape with its ETag."
        ),
    )
    def post(self, request: Request, id: str, code: str) -> Response:
        visit = scoped_visit(request, id)
        spec = _form(code)
        store = store_for(spec.code)
        why = not_writable(store)
        if why or store is None:
            raise MethodNotAllowed(
                "POST",
                detail=gettext("Form {code} is not entered here: {why}").format(code=spec.code, why=why),
            )
        if not can_write_site(request.user, visit.site):
            raise PermissionDenied(
                gettext("Your role does not allow entering or changing data at site {site}.").format(
                    site=visit.site.code
                )
            )
        try:
            entry = read_entry(spec, store, request.data)
            row = door_write(request=request, visit=visit, spec=spec, store=store, entry=entry)
        except ItemErrors as exc:
            raise serializers.ValidationError(exc.errors) from None
        return Response(
            row_shape(spec, store, row), status=status.HTTP_201_CREATED, headers={"ETag": f'"{row.version}"'}
        )

    def get_view_name(self) -> str:
        return "Form door"
