"""The efficacy endpoints engine as an API tool (registered by edc/api/urls.py).

POST /api/tools/endpoints/evaluate/   an endpoints case file -> exactly what `endpoints_evaluate` prints

Nothing is stored or read from the database. The study endpoints on stored data
(`/api/studies/{id}/endpoints/`, the plots) come with the lesions and follow-up records.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.urls import URLPattern, path
from rest_framework.request import Request

from edc.inputs.api import CaseFileToolView, tool_schema
from edc.inputs.cases import Section
from edc.inputs.openapi import case_file_schema, model_schema
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


urlpatterns: list[URLPattern] = [
    path("tools/endpoints/evaluate/", EndpointsEvaluateView.as_view(), name="tools-endpoints-evaluate"),
]
