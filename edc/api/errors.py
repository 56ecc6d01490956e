"""One error shape for the whole API.

{"status": 400, "code": "invalid", "detail": "...", "errors": {"field": ["message", ...]}}
400 field errors, 401/403 refused, 404 not found (also for records outside the user's sites),
405 deletion (records are voided), 409 a locked record or a stale version (with `current`: the stored
record, see edc/api/viewsets.py), 413 a body over the upload limit, 428 a change that states no version.
Errors that never reach a DRF view (unknown /api/ paths, NUL in the address, server errors) get the
same shape from edc.api.middleware.ApiErrorShapeMiddleware, built with `error_body`.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from edc.core.exceptions import DeletionRefused, RecordLocked, StaleRecord


def _django_errors(exc: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {
            ("non_field_errors" if field == "__all__" else field): [str(m) for m in messages]
            for field, messages in exc.message_dict.items()
        }
    return {"non_field_errors": [str(m) for m in exc.messages]}


def _flatten(detail: Any) -> dict[str, Any]:
    if isinstance(detail, dict):
        return {key: value for key, value in detail.items()}
    if isinstance(detail, list):
        return {"non_field_errors": detail}
    return {"non_field_errors": [detail]}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        errors = _django_errors(exc)
        return _response(status.HTTP_400_BAD_REQUEST, "invalid", gettext("Invalid input."), errors)
    if isinstance(exc, RecordLocked):
        return _response(status.HTTP_409_CONFLICT, "locked", str(exc))
    if isinstance(exc, StaleRecord):
        return _response(status.HTTP_409_CONFLICT, "stale", str(exc))
    if isinstance(exc, DeletionRefused):
        return _response(status.HTTP_405_METHOD_NOT_ALLOWED, "deletion_refused", str(exc))
    if isinstance(exc, RequestDataTooBig):
        detail = gettext("The request body is larger than the upload limit.")
        return _response(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, "too_large", detail)
    if isinstance(exc, SuspiciousOperation):  # too many fields or files, a malformed request
        return _response(status.HTTP_400_BAD_REQUEST, "bad_request", gettext("Bad request."))
    if isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = _shape(
            response.status_code, "invalid", gettext("Invalid input."), _flatten(exc.detail)
        )
    else:
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else response.data
        code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
        response.data = _shape(response.status_code, str(code), str(detail))
    return response


def error_body(
    status_code: int, code: str, detail: str, errors: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The API's one error shape, for the code paths outside DRF (middleware, lockout responses)."""
    return {"status": status_code, "code": code, "detail": detail, "errors": errors or {}}


def _shape(status_code: int, code: str, detail: str, errors: dict[str, Any] | None = None) -> dict[str, Any]:
    return error_body(status_code, code, detail, errors)


def _response(status_code: int, code: str, detail: str, errors: dict[str, Any] | None = None) -> Response:
    return Response(_shape(status_code, code, detail, errors), status=status_code)


def error_response(
    status_code: int, code: str, detail: str, errors: dict[str, Any] | None = None, **extra: Any
) -> Response:
    """The error shape, for views that answer an error themselves (extra members after the four)."""
    return Response({**_shape(status_code, code, detail, errors), **extra}, status=status_code)
