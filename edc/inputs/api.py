"""The API side of the input layer: a case file posted as a JSON body, evaluated like the command does.

A tool view answers exactly the object its command prints (case id -> result). When any case is
invalid, or the body is not a case file, it answers 400 in the API's error shape, with the input
layer's located errors keyed by their place in the body::

    {"status": 400, "code": "invalid", "detail": "Invalid input.",
     "errors": {"response_cases[1].follow_ups[0].date": ["must be a date YYYY-MM-DD, got '2024-13-01'"],
                "extra": ["unknown field (known: response_cases, ...)"]}}

Only authenticated users; the body is JSON (edc.api.parsers.JSONParser: nesting limited) and its
size is bounded by DATA_UPLOAD_MAX_MEMORY_SIZE (413).
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

from django.utils.translation import gettext
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from edc.api.errors import error_response
from edc.api.parsers import JSONParser
from edc.api.schema import ApiSchema, ErrorSerializer
from edc.inputs.cases import Section, case_id_of, evaluate_case_file
from edc.inputs.errors import InputError, InputErrors

BODY = "request body"  # the "file" an API error names

_POSITION = re.compile(r"^[a-z_]+\[\d+\]$")


def tool_schema(
    request: dict[str, Any],
    response: dict[str, Any],
    summary: str,
    *,
    tags: Sequence[str] = ("tools",),
    parameters: Sequence[Any] = (),
    not_found: str | None = None,
) -> Any:
    """The OpenAPI description every case-file tool shares: JSON in, the command's object out."""
    responses = {
        200: OpenApiResponse(response=response, description="What the command prints."),
        # The API's one error shape; `errors` keys each error by its place in the body (case list,
        # position, field). The other error answers (401, 413, 415, 429) are ApiSchema's.
        400: OpenApiResponse(response=ErrorSerializer, description="Invalid input, each error located."),
    }
    if not_found:
        responses[404] = OpenApiResponse(response=ErrorSerializer, description=not_found)
    return extend_schema(
        summary=summary,
        request={"application/json": request},
        responses=responses,
        parameters=list(parameters),
        tags=list(tags),
    )


def error_key(error: InputError, document: Any, sections: Sequence[str], bare_list: str | None) -> str:
    """Where an error is in the posted body: ``response_cases[1].follow_ups[0].date``."""
    where = error.object
    if where is not None and not _POSITION.match(where):
        where = _position_of(where, document, sections) or where
    if where is not None and bare_list is not None and isinstance(document, list):
        where = where.removeprefix(bare_list)
    parts = [p for p in (where, error.field) if p]
    if not parts:
        return "non_field_errors"
    if len(parts) == 2 and not parts[1].startswith("["):
        return f"{parts[0]}.{parts[1]}"
    return "".join(parts)


def _position_of(case_id: str, document: Any, sections: Sequence[str]) -> str | None:
    lists = {sections[0]: document} if isinstance(document, list) else document
    if not isinstance(lists, dict):
        return None
    for name in sections:
        cases = lists.get(name)
        if not isinstance(cases, list):
            continue
        for index, raw in enumerate(cases):
            if case_id_of(raw) == case_id:
                return f"{name}[{index}]"
    return None


def errors_by_place(
    errors: Sequence[InputError], document: Any, sections: Sequence[str], bare_list: str | None = None
) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for error in errors:
        found.setdefault(error_key(error, document, sections, bare_list), []).append(error.message)
    return found


def invalid_input(errors: dict[str, list[str]]) -> Response:
    return error_response(400, "invalid", gettext("Invalid input."), errors)


class CaseFileSchema(ApiSchema):
    """The API's schema, with a tool's body required (a raw schema would leave it optional)."""

    def _get_request_body(self, direction: str = "request") -> dict[str, Any] | None:
        body: dict[str, Any] | None = super()._get_request_body(direction)
        if body is not None:
            body["required"] = True
        return body


class CaseFileToolView(APIView, ABC):
    """POST a case file as the JSON body; the answer is exactly what its command prints."""

    # Subclasses name their sections (`sections`) and, for a bare list body, `bare_list`.

    schema = CaseFileSchema()
    permission_classes = (IsAuthenticated,)
    parser_classes = (JSONParser,)
    bare_list: ClassVar[str | None] = None

    @abstractmethod
    def sections(self, request: Request) -> Sequence[Section]:
        """The case lists this tool reads (may raise ValidationError for a bad query parameter)."""

    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        sections = self.sections(request)
        document = request.data
        names = [s.name for s in sections]
        try:
            outputs, errors = evaluate_case_file(BODY, document, sections, bare_list=self.bare_list)
        except InputErrors as exc:
            return invalid_input(errors_by_place(exc.errors, document, names, self.bare_list))
        if errors:
            return invalid_input(errors_by_place(errors, document, names, self.bare_list))
        return Response(outputs)
