"""The API's documentation pages, served with no internet: Swagger UI at /api/docs/, ReDoc at /api/redoc/.

Both readers come from the installed drf-spectacular-sidecar package (static files of this server),
never from a CDN. The pages carry a Content-Security-Policy that lets the browser load nothing from
another host: the vendored bundles hold links of their own (ReDoc's footer logo, Swagger UI's
validator badge, disabled in SPECTACULAR_SETTINGS), and the policy makes sure none of them is fetched.
Swagger UI's start-up script is served from /api/docs/?script, so no inline script is needed.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework.request import Request
from rest_framework.response import Response

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        # Both readers set inline styles; images are this server's or data: URIs.
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)


class _LocalOnly:
    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        response["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        return response


class SwaggerView(_LocalOnly, SpectacularSwaggerSplitView):
    @extend_schema(exclude=True)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class RedocView(_LocalOnly, SpectacularRedocView):
    # drf-spectacular's own template loads Google's fonts; this one uses the system's.
    template_name = "api/redoc.html"

    @extend_schema(exclude=True)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)
