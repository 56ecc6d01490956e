"""The answer to a login attempt on a locked account (django-axes' AXES_LOCKOUT_CALLABLE).

429 on both doors: under /api/ in the API's error shape with Retry-After, in the admin as a page.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext

from edc.api.errors import error_body
from edc.api.middleware import API_PREFIX

STATUS = 429


def lockout_minutes() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)


def lockout_message() -> str:
    return gettext(
        "Too many failed login attempts: this account is locked for up to %(minutes)d minutes. "
        "Try again later or ask an administrator."
    ) % {"minutes": lockout_minutes()}


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: Any = None
) -> HttpResponse:
    retry_after = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    if request.path_info.startswith(API_PREFIX):
        response: HttpResponse = JsonResponse(
            error_body(STATUS, "locked_out", lockout_message()), status=STATUS
        )
    else:
        from edc.core.admin_site import site

        context = {
            **site.each_context(request),
            "is_nav_sidebar_enabled": False,
            "title": gettext("Account locked"),
            "message": lockout_message(),
        }
        response = render(request, "accounts/locked_out.html", context, status=STATUS)
    response["Retry-After"] = retry_after
    return response
