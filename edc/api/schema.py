"""The OpenAPI schema says what the API does, from the code, for every endpoint (drf-spectacular).

`ApiSchema` (REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"]) adds to what drf-spectacular derives:

- the error answers of each operation, all in the one error shape (`Error`): 400 (field errors;
  any operation, since a malformed address or parameter is refused too), 401 on operations that
  need credentials, 403 on writes, 404 where the path names a record, 409 on writes to audited
  records (`locked`; `stale` with the stored record under `current`), 413/415 where a body is
  read, 428 on changes that state no version, 429 everywhere (with `Retry-After`);
- for an AuditedViewSet: the change body (PATCH/PUT) built from the record serializer's editable
  fields plus `change_reason`, `change_reason_code` and `version`; `If-Match` as a header of
  changes and voids; `ETag` on every answer that carries a record; a description per action;
- `additionalProperties: false` on request bodies whose serializer refuses unknown fields
  (`refuses_unknown_fields = True`: StrictModelSerializer and the void and token bodies).

A new AuditedViewSet (with a StrictModelSerializer whose model declares `editable_fields`) gets all of
it without a line of schema code; see docs/api.md.
"""

from __future__ import annotations

import functools
from typing import Any, cast

from django.utils.translation import gettext_lazy as _
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema_field
from rest_framework import permissions, serializers

from edc.api.serializers import ChangeReasonSerializer

CHANGE_ACTIONS = ("update", "partial_update")
VERSIONED_ACTIONS = (*CHANGE_ACTIONS, "void")
RECORD_ACTIONS = ("retrieve", "create", *VERSIONED_ACTIONS)
IF_MATCH_PATTERN = r'^\s*"[0-9]{1,10}"\s*$'


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {
            "oneOf": [
                {"type": "array", "items": {"type": "string"}},
                {"type": "object", "description": _("The errors of a nested value, in the same shape.")},
            ]
        },
        "example": {"change_reason": ["This field is required."]},
    }
)
class FieldErrorsField(serializers.DictField):
    pass


class ErrorSerializer(serializers.Serializer):
    """Every error of the API: {"status", "code", "detail", "errors"}."""

    status = serializers.IntegerField(help_text=_("The HTTP status, repeated."))
    code = serializers.CharField(
        help_text=_(
            "What went wrong, for programs: invalid, not_authenticated, authentication_failed, "
            "permission_denied, not_found, locked, stale, version_required, too_large, "
            "unsupported_media_type, throttled, locked_out, parse_error, bad_request, ..."
        )
    )
    detail = serializers.CharField(help_text=_("What went wrong, for people."))
    # A declared field (the metaclass takes it off the class), not Serializer.errors:
    errors = FieldErrorsField(  # type: ignore[assignment]
        help_text=_(
            "Per field (or `If-Match`, `non_field_errors`, a query parameter): the messages. "
            "Empty when the error is not about a field."
        )
    )

    class Meta:
        ref_name = "Error"


def _error(description: Any) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=str(description))


_ERRORS = {
    "400": _(
        "Invalid input: `errors` names each field, header or parameter and what is wrong with it "
        "(also a malformed address or query, or a malformed If-Match)."
    ),
    "401": _("No credentials, or a token that is invalid, expired or revoked."),
    "403": _("Your role does not allow this write at this site or study."),
    "404": _("No such record among those you may see (a record of another site answers the same)."),
    "409": _(
        "`locked`: the record or a parent (subject, study) is locked. `stale`: the version you sent is "
        "not the stored one; nothing was written, `current` holds the stored record and `ETag` its version."
    ),
    "413": _("The body is larger than the upload limit."),
    "415": _("The body's content type is not one of those documented."),
    "428": _('The change states no version: send If-Match: "<version>" (the ETag you read) or `version`.'),
    "429": _(
        "Too many requests for this token (or address): wait `Retry-After` seconds. On the token "
        "endpoint also a locked account (`locked_out`)."
    ),
}


def _refuses_unknown_fields(serializer: Any) -> bool:
    return bool(getattr(serializer, "refuses_unknown_fields", False))


@functools.cache
def change_serializer(base: type[serializers.Serializer]) -> type[serializers.Serializer]:
    """The body of a change (PATCH, PUT) of `base`'s records, for the schema: the model's
    `editable_fields` that are writable, then `change_reason`, `change_reason_code`, `version`."""
    model = base.Meta.model  # type: ignore[attr-defined]
    editable = tuple(getattr(model, "editable_fields", ()))

    def get_fields(self: serializers.Serializer) -> dict[str, serializers.Field]:
        fields = base.get_fields(self)
        kept = {name: field for name, field in fields.items() if name in editable and not field.read_only}
        return {**kept, **ChangeReasonSerializer().get_fields()}

    name = base.__name__.removesuffix("Serializer") + "ChangeSerializer"
    doc = _("A change: the editable fields, the reason for change and the version it is based on.")
    return type(
        name,
        (base,),
        {
            "get_fields": get_fields,
            "__doc__": str(doc),
            "__module__": base.__module__,
            "always_required": ("change_reason",),
        },
    )


def _null_in_the_model(field: Any) -> bool:
    """Whether the model attribute a serializer field reads can be empty (a nullable column or
    relation on its path), so that the answer carries null there."""
    if isinstance(field, serializers.ManyRelatedField | serializers.ListSerializer):
        return False
    if isinstance(field, serializers.SerializerMethodField) or field.source == "*":
        return False
    model = getattr(getattr(field.parent, "Meta", None), "model", None)
    for attr in getattr(field, "source_attrs", []):
        if model is None:
            return False
        try:
            model_field = model._meta.get_field(attr)
        except Exception:  # a property or method: its type is the field's business
            return False
        if getattr(model_field, "null", False):
            return True
        model = getattr(model_field, "related_model", None)
    return False


def _model_name(view: Any, plural: bool = False) -> str:
    model = getattr(getattr(view, "queryset", None), "model", None)
    if model is None:
        return str(_("record"))
    return str(model._meta.verbose_name_plural if plural else model._meta.verbose_name)


_ACTION_TEXT = {
    "list": _(
        "The %(plural)s your memberships grant, in cursor pages (`next`, `previous`, `results`) in the "
        "order they were last written. Voided records only with `include_voided=true`, or with "
        "`updated_since` (for sync clients, see docs/api.md)."
    ),
    "retrieve": _('One %(name)s, voided or not, with its `version` (and `ETag: "<version>"`).'),
    "create": _(
        "Enter a new %(name)s. The body names no reason and no version. Answers the stored record and "
        "its ETag."
    ),
    "update": _(
        "Change a %(name)s, replacing its editable fields: `change_reason` (words, required; "
        "`change_reason_code` optional) and the version the change is based on, as "
        '`If-Match: "<version>"` or `version` in the body (one of them is required: 428 without). '
        "A field that is not editable is refused by name (400)."
    ),
    "partial_update": _(
        "Change some editable fields of a %(name)s: `change_reason` (words, required; "
        "`change_reason_code` optional) and the version the change is based on, as "
        '`If-Match: "<version>"` or `version` in the body (one of them is required: 428 without). '
        "A field that is not editable is refused by name (400)."
    ),
    "void": _(
        "Void a %(name)s (records are never deleted): a reason and the version, as for a change. "
        "The record stays readable, with `voided_at` and `void_reason`."
    ),
    "history": _(
        "The audit trail of one %(name)s that you may read, newest first, as one array (not paged): "
        "who, when, why, and the old and new value of each changed field."
    ),
}


class ApiSchema(AutoSchema):
    def _audited(self) -> bool:
        from edc.api.viewsets import AuditedViewSet

        return isinstance(self.view, AuditedViewSet)

    def _action(self) -> str | None:
        return getattr(self.view, "action", None)

    def _needs_credentials(self) -> bool:
        return not any(isinstance(p, permissions.AllowAny) for p in self.view.get_permissions())

    # --- descriptions ---------------------------------------------------------------------------

    def get_description(self) -> str:  # type: ignore[override]  # drf-spectacular's own signature
        action = self._action()
        if self._audited() and action in _ACTION_TEXT:
            own = self.view.__class__.__dict__.get("__doc__") or ""
            text = str(_ACTION_TEXT[action]) % {
                "name": _model_name(self.view),
                "plural": _model_name(self.view, plural=True),
            }
            return f"{own.strip()}\n\n{text}".strip()
        return super().get_description()

    # --- bodies ---------------------------------------------------------------------------------

    def get_request_serializer(self) -> Any:
        if self._audited() and self._action() in CHANGE_ACTIONS:
            return change_serializer(cast(Any, self.view).get_serializer_class())
        return super().get_request_serializer()

    def _map_basic_serializer(self, serializer: Any, direction: str) -> dict[str, Any]:
        schema = super()._map_basic_serializer(serializer, direction)
        if not type(serializer).__dict__.get("__doc__"):
            schema.pop("description", None)  # not a base class's docstring (it is about the code)
        if direction == "response":
            # A serializer writes every one of its fields, null or not: all are present in an answer.
            schema["required"] = sorted(schema.get("properties", {}))
            if not schema["required"]:
                del schema["required"]
        if direction == "request":
            properties = schema.get("properties", {})
            always = [name for name in getattr(serializer, "always_required", ()) if name in properties]
            if always:
                schema["required"] = sorted({*schema.get("required", []), *always})
            if _refuses_unknown_fields(serializer):
                schema["additionalProperties"] = False
        return schema

    def _get_serializer_field_meta(self, field: Any, direction: str) -> dict[str, Any]:
        meta = super()._get_serializer_field_meta(field, direction)
        if direction == "response" and not meta.get("nullable") and _null_in_the_model(field):
            meta["nullable"] = True  # DRF writes null for an empty relation, allow_null or not
        return meta

    # --- headers --------------------------------------------------------------------------------

    def get_override_parameters(self) -> list[Any]:
        parameters = list(super().get_override_parameters())
        action = self._action()
        if self._audited() and action in VERSIONED_ACTIONS:
            parameters.append(
                OpenApiParameter(
                    "If-Match",
                    str,
                    OpenApiParameter.HEADER,
                    required=False,
                    pattern=IF_MATCH_PATTERN,
                    description=str(
                        _(
                            'The ETag of the record as you read it, e.g. "3": the version the change is '
                            "based on (or send `version` in the body; both must then agree)."
                        )
                    ),
                )
            )
        if self._audited() and action in RECORD_ACTIONS:
            ok = ["201"] if action == "create" else ["200"]
            etag = {"type": "string", "pattern": r'^"[0-9]+"$', "example": '"3"'}
            parameters.append(
                OpenApiParameter(
                    "ETag",
                    etag,
                    OpenApiParameter.HEADER,
                    required=True,
                    response=ok,
                    description=str(_("The record's version, quoted: send it back as If-Match.")),
                )
            )
            if action in VERSIONED_ACTIONS:
                parameters.append(
                    OpenApiParameter(
                        "ETag",
                        etag,
                        OpenApiParameter.HEADER,
                        required=False,
                        response=["409"],
                        description=str(_("With code `stale`: the stored record's version.")),
                    )
                )
        parameters.append(
            OpenApiParameter(
                "Retry-After",
                {"type": "integer", "minimum": 0},
                OpenApiParameter.HEADER,
                required=True,
                response=["429"],
                description=str(_("Seconds to wait before the next request.")),
            )
        )
        if self._needs_credentials():
            parameters.append(
                OpenApiParameter(
                    "WWW-Authenticate",
                    str,
                    OpenApiParameter.HEADER,
                    required=True,
                    response=["401"],
                    description=str(_("The scheme to send: Token.")),
                )
            )
        return parameters

    # --- responses ------------------------------------------------------------------------------

    def _error_codes(self) -> list[str]:
        action = self._action()
        has_body = self.method in ("POST", "PUT", "PATCH")
        names_record = "{" in self.path
        codes = ["400"]
        if self._needs_credentials():
            codes.append("401")
            if self.method not in permissions.SAFE_METHODS:
                codes.append("403")
        if names_record:
            codes.append("404")
        if self._audited() and action in (*VERSIONED_ACTIONS, "create"):
            codes.append("409")
        if self.method == "POST" and names_record:
            # An action on a record (record a visit, answer a query, enroll, confirm a proposal ...)
            # writes under a record that may be locked, and may state the `version` it read.
            codes.append("409")
        if has_body:
            codes += ["413", "415"]
        if self._audited() and action in VERSIONED_ACTIONS:
            codes.append("428")
        codes.append("429")
        # A view whose query names a row (?study=, ?subject=) answers 404 for one the user does not
        # see, and one whose role rule refuses a read 403: it lists them in `schema_error_codes`.
        codes += [code for code in getattr(self.view, "schema_error_codes", ()) if code not in codes]
        return sorted(set(codes))

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        for code in self._error_codes():
            if code in responses:
                continue
            if code == "409" and self._action() in VERSIONED_ACTIONS:
                responses[code] = self._get_response_for_code(self._conflict_schema(), code)
                responses[code]["description"] = str(_ERRORS[code])
            else:
                responses[code] = self._get_response_for_code(_error(_ERRORS[code]), code)
        return responses

    def _conflict_schema(self) -> dict[str, Any]:
        error = self.resolve_serializer(ErrorSerializer, "response").ref
        record = self.resolve_serializer(cast(Any, self.view).get_serializer_class(), "response").ref
        return {
            "allOf": [
                error,
                {
                    "type": "object",
                    "properties": {
                        "current": {
                            "allOf": [record],
                            "description": str(_("With code `stale`: the stored record.")),
                        }
                    },
                },
            ]
        }
