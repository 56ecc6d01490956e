"""Refuse a NUL character in the address before any view or query sees it.

PostgreSQL cannot store or compare text containing NUL: an admin filter such as
`?status=%00` reached the database and answered 500, and a NUL in a path reached the admin's
history views. No valid address of this product contains one, so it is answered 400 here, for
every door (under /api/ the body is the API's error shape, see edc.api.middleware).
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.utils.translation import gettext


def has_nul(request: HttpRequest) -> bool:
    # PATH_INFO arrives percent-decoded; the query string does not ("%00" is the only way to say NUL).
    query = request.META.get("QUERY_STRING", "")
    return "\x00" in request.path or "\x00" in query or "%00" in query


class RejectNulMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if has_nul(request):
            return HttpResponseBadRequest(
                gettext("The address contains a NUL character."), content_type="text/plain; charset=utf-8"
            )
        return self.get_response(request)
