"""The efficacy endpoints engine as an API tool (registered by edc/api/urls.py).

POST /api/tools/endpoints/evaluate/        an endpoints case file -> exactly what `endpoints_evaluate` prints
GET  /api/studies/{id}/endpoints/          the same computation on the study's stored data (selectors.py)
GET  /api/studies/{id}/plots/{kind}.png    waterfall, spider, swimmer, km-pfs, km-os (and .svg)

The tool reads nothing from the database. The study endpoints and plots count the enrolled subjects at
the user's sites only (edc/core/scoping.py); a study the user is not a member of answers 404.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from edc.core.scoping import visible_studies
from edc.inputs.api import CaseFileToolView, tool_schema
from edc.inputs.cases import Section
from edc.inputs.openapi import case_file_schema, model_schema
from edc.outcomes import selectors
from edc.outcomes.casefile import ENDPOINTS_SECTIONS, EndpointsCaseIn

ENDPOINTS_REQUEST = case_file_schema(
    {"cases": model_schema(EndpointsCaseIn)},
    description="An efficacy endpoints case file (docs/domain/case-files.md, docs/endpoints.md).",
)

_BOUND = {"type": "number", "nullable": True, "minimum": 0, "maximum": 1}
_DAY = {"type": "integer", "nullable": True, "minimum": 0}
_PROPORTION = {
    "type": "object",
    "properties": {
        "n": {"type": "integer", "minimum": 0},
        "responders": {"type": "integer", "minimum": 0},
        "rate": _BOUND,
        "ci": {"type": "array", "items": _BOUND, "minItems": 2, "maxItems": 2},
    },
    "required": ["n", "responders", "rate", "ci"],
    "additionalProperties": False,
}
_SURVIVAL = {
    "type": "object",
    "properties": {
        "n": {"type": "integer", "minimum": 0},
        "events": {"type": "integer", "minimum": 0},
        "median_days": _DAY,
        "median_ci": {"type": "array", "items": _DAY, "minItems": 2, "maxItems": 2},
        "landmarks": {
            "type": "object",
            "description": "Landmark day -> the estimate there.",
            "additionalProperties": {
                "type": "object",
                "properties": {
                    "rate": _BOUND,
                    "ci": {"type": "array", "items": _BOUND, "minItems": 2, "maxItems": 2},
                    "at_risk": {"type": "integer", "minimum": 0},
                },
                "required": ["rate", "ci", "at_risk"],
                "additionalProperties": False,
            },
        },
    },
    "required": ["n", "events", "median_days", "median_ci", "landmarks"],
    "additionalProperties": False,
}
ENDPOINTS_RESULT = {
    "type": "object",
    "properties": {
        "orr": _PROPORTION,
        "dcr": _PROPORTION,
        "pfs": _SURVIVAL,
        "os": _SURVIVAL,
        "dor": _SURVIVAL,
        "orr_by_subgroup": {
            "type": "object",
            "description": "Subgroup name -> value -> ORR.",
            "additionalProperties": {"type": "object", "additionalProperties": _PROPORTION},
        },
    },
    "required": ["orr", "dcr", "pfs", "os", "dor", "orr_by_subgroup"],
    "additionalProperties": False,
}
ENDPOINTS_RESPONSE = {
    "type": "object",
    "description": "Case id -> its endpoints.",
    "additionalProperties": ENDPOINTS_RESULT,
}


class EndpointsEvaluateView(CaseFileToolView):
    def sections(self, request: Request) -> Sequence[Section]:
        return ENDPOINTS_SECTIONS

    @tool_schema(ENDPOINTS_REQUEST, ENDPOINTS_RESPONSE, "Efficacy endpoints for a case file")
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        return super().post(request, *args, **kwargs)


_IDS = {"type": "array", "items": {"type": "string"}}
_TRACE_PROPORTION = {
    "type": "object",
    "properties": {"n": _IDS, "responders": _IDS},
    "required": ["n", "responders"],
}
_TRACE_SURVIVAL = {
    "type": "object",
    "properties": {"events": _IDS, "censored": _IDS},
    "required": ["events", "censored"],
}
_DATE = {"type": "string", "format": "date", "nullable": True}
STUDY_ENDPOINTS_RESPONSE = {
    "type": "object",
    "description": "The study's endpoints over the enrolled subjects at your sites.",
    "properties": {
        "study": {
            "type": "object",
            "properties": {"id": {"type": "integer"}, "protocol_id": {"type": "string"}},
            "required": ["id", "protocol_id"],
        },
        "sites": {**_IDS, "description": "The codes of the sites whose subjects are counted."},
        "endpoints": {
            "type": "array",
            "description": "The study's efficacy endpoints (its definition).",
            "items": {
                "type": "object",
                "properties": {
                    "code": {"type": "string"},
                    "name": {"type": "string"},
                    "kind": {"type": "string"},
                    "measure": {"type": "string", "enum": ["orr", "dcr", "dor", "pfs", "os"]},
                    "anchor": {"type": "string"},
                    "landmark_days": {"type": "array", "items": {"type": "integer"}},
                    "subgroup": {"type": "string"},
                },
            },
        },
        "rules": {"type": "object", "description": "The analysis set, anchor and derivation rules, stated."},
        "analysis_set": {
            "type": "object",
            "properties": {
                "population": {"type": "string"},
                "enrolled": {"type": "integer", "minimum": 0},
                "n": {"type": "integer", "minimum": 0},
                "subjects": _IDS,
                "not_counted": {
                    **_IDS,
                    "description": "Subjects whose data the rules cannot use (see issues).",
                },
            },
            "required": ["population", "enrolled", "n", "subjects", "not_counted"],
        },
        "result": {**ENDPOINTS_RESULT, "description": "Exactly what endpoints_evaluate prints for `case`."},
        "counted": {
            "type": "object",
            "description": "The subject ids behind every count of `result`.",
            "properties": {
                "orr": _TRACE_PROPORTION,
                "dcr": _TRACE_PROPORTION,
                "pfs": _TRACE_SURVIVAL,
                "os": _TRACE_SURVIVAL,
                "dor": _TRACE_SURVIVAL,
                "orr_by_subgroup": {
                    "type": "object",
                    "additionalProperties": {"type": "object", "additionalProperties": _TRACE_PROPORTION},
                },
                "best_response": {"type": "object", "additionalProperties": _IDS},
            },
        },
        "subjects": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "id": {"type": "string"},
                    "site": {"type": "string"},
                    "counted": {"type": "boolean"},
                    "first_dose_date": _DATE,
                    "last_dose_date": _DATE,
                    "imputed": {**_IDS, "description": "The fields of this subject's row that are imputed."},
                    "best_response_unconfirmed": {"type": "string", "nullable": True},
                    "best_pct_change": {"type": "number", "nullable": True},
                },
            },
        },
        "issues": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "subject": {"type": "string"},
                    "field": {"type": "string", "nullable": True},
                    "message": {"type": "string"},
                },
            },
        },
        "case": {
            **model_schema(EndpointsCaseIn),
            "description": "The endpoints case the figures come from: POST it to the tool to rerun them.",
        },
    },
    "required": [
        "study",
        "sites",
        "endpoints",
        "rules",
        "analysis_set",
        "result",
        "counted",
        "subjects",
        "issues",
        "case",
    ],
}
_STUDY_PARAMETER = OpenApiParameter(
    "study_pk", int, OpenApiParameter.PATH, description="The study's id (GET /api/studies/)."
)
_KIND_PARAMETER = OpenApiParameter(
    "kind", str, OpenApiParameter.PATH, enum=list(selectors.PLOT_KINDS), description="Which plot."
)


def _study(request: Request, study_pk: int) -> Any:
    return get_object_or_404(visible_studies(request.user), pk=study_pk)


class StudyEndpointsView(APIView):
    """ORR, DCR (exact intervals), PFS, OS, DoR (Kaplan-Meier) and the subgroups the study asks for,
    computed on the stored data of the study's enrolled subjects at your sites, with the subject ids
    behind every figure, the analysis set and the rules, and the endpoints case they come from."""

    renderer_classes = [JSONRenderer]

    @extend_schema(
        parameters=[_STUDY_PARAMETER],
        responses={200: OpenApiResponse(STUDY_ENDPOINTS_RESPONSE, description="The study's endpoints.")},
        summary="A study's efficacy endpoints on its stored data",
    )
    def get(self, request: Request, study_pk: int) -> Response:
        built = selectors.study_endpoints_case(_study(request, study_pk), user=request.user)
        return Response(selectors.study_endpoints(built))


class _PlotView(APIView):
    fmt = "png"
    content_type = "image/png"
    # Errors answer JSON in the API's error shape whatever the Accept header asks for (the plot
    # itself is a plain HttpResponse of the image's bytes).
    renderer_classes = [JSONRenderer]

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        return (JSONRenderer(), JSONRenderer.media_type)

    def get(self, request: Request, study_pk: int, kind: str) -> HttpResponse:
        if kind not in selectors.PLOT_KINDS:
            raise NotFound(
                _("No plot %(kind)s: one of %(kinds)s.")
                % {"kind": kind, "kinds": ", ".join(selectors.PLOT_KINDS)}
            )
        built = selectors.study_endpoints_case(_study(request, study_pk), user=request.user)
        image = selectors.study_plot(built, kind, self.fmt)
        response = HttpResponse(image, content_type=self.content_type)
        response["Cache-Control"] = "private, no-store"  # patient data: never kept by a shared cache
        return response


def _plot_schema(content_type: str) -> Any:
    return extend_schema(
        parameters=[_STUDY_PARAMETER, _KIND_PARAMETER],
        responses={
            (200, content_type): OpenApiResponse(
                OpenApiTypes.BINARY, description=f"The plot as {content_type}."
            )
        },
        summary=f"A plot of a study's efficacy data ({content_type})",
    )


class StudyPlotPngView(_PlotView):
    """A plot of the study's enrolled subjects at your sites: waterfall of the best % change in the sum
    of diameters, spider of % change over time, swimmer of time on treatment, Kaplan-Meier of PFS or
    OS with censoring marks and numbers at risk."""

    fmt = "png"
    content_type = "image/png"

    @_plot_schema("image/png")
    def get(self, request: Request, study_pk: int, kind: str) -> HttpResponse:
        return super().get(request, study_pk, kind)


class StudyPlotSvgView(_PlotView):
    """The same plots as SVG."""

    fmt = "svg"
    content_type = "image/svg+xml"

    @_plot_schema("image/svg+xml")
    def get(self, request: Request, study_pk: int, kind: str) -> HttpResponse:
        return super().get(request, study_pk, kind)


urlpatterns: list[URLPattern] = [
    path("tools/endpoints/evaluate/", EndpointsEvaluateView.as_view(), name="tools-endpoints-evaluate"),
    path("studies/<int:study_pk>/endpoints/", StudyEndpointsView.as_view(), name="study-endpoints"),
    path("studies/<int:study_pk>/plots/<str:kind>.png", StudyPlotPngView.as_view(), name="study-plot-png"),
    path("studies/<int:study_pk>/plots/<str:kind>.svg", StudyPlotSvgView.as_view(), name="study-plot-svg"),
]
