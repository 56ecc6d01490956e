"""Every error under /api/ answers the API's error shape, even the ones no DRF view produced.

DRF views already answer {"status","code","detail","errors"} (edc.api.errors). What reaches a
client from elsewhere was Django's HTML: an unknown /api/ path (the URL resolver's 404), a server
error (handler500), a request refused by a middleware (NUL in the address, a bad Host header).
This middleware, outermost, replaces such HTML error pages under /api/ with the shape. Responses
from DRF views are left alone (a browser asking for HTML gets DRF's browsable page of the same data).
"""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext
from rest_framework.response import Response

from edc.api.errors import error_body

API_PREFIX = "/api/"

# Headers a client needs to act on an error; kept when the body is replaced.
_KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")


def _code_and_detail(status_code: int) -> tuple[str, str]:
    known = {
        400: ("bad_request", gettext("Bad request.")),
        403: ("permission_denied", gettext("You do not have permission to perform this action.")),
        404: ("not_found", gettext("Not found.")),
        405: ("method_not_allowed", gettext("Method not allowed.")),
        413: ("too_large", gettext("The request body is larger than the upload limit.")),
        500: ("server_error", gettext("Server error.")),
    }
    if status_code in known:
        return known[status_code]
    try:
        phrase = HTTPStatus(status_code).phrase
    except ValueError:
        phrase = "Error"
    return "error", f"{phrase}."


def _is_json(response: HttpResponse) -> bool:
    return response.get("Content-Type", "").split(";")[0].strip() == "application/json"


def api_error_response(status_code: int, detail: str | None = None) -> JsonResponse:
    code, default_detail = _code_and_detail(status_code)
    return JsonResponse(error_body(status_code, code, detail or default_detail), status=status_code)


def _plain_text(response: HttpResponse) -> str | None:
    """A short plain-text message of a middleware's refusal is worth keeping as the detail."""
    if response.get("Content-Type", "").split(";")[0].strip() != "text/plain" or response.streaming:
        return None
    text = response.content.decode(response.charset or "utf-8", "replace").strip()
    return text if 0 < len(text) <= 500 else None


class ApiErrorShapeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code >= 400
            and request.path_info.startswith(API_PREFIX)
            and not isinstance(response, Response)
            and not _is_json(response)
        ):
            shaped = api_error_response(response.status_code, _plain_text(response))
            for header in _KEPT_HEADERS:
                if header in response:
                    shaped[header] = response[header]
            return shaped
        return response
