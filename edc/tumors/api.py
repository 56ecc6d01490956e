"""The RECIST 1.1 and iRECIST engines as API tools (registered by edc/api/urls.py).

POST /api/tools/recist/evaluate/    a RECIST case file -> exactly what `recist_evaluate` prints
POST /api/tools/irecist/evaluate/   an iRECIST case file -> exactly what `irecist_evaluate` prints

The body is the case file's JSON (docs/domain/case-files.md); nothing is stored. Invalid input:
400 with the input layer's errors keyed by their place in the body (edc/inputs/api.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.urls import URLPattern, path
from rest_framework.request import Request

from edc.inputs.api import CaseFileToolView, tool_schema
from edc.inputs.cases import Section
from edc.inputs.openapi import case_file_schema, model_schema
from edc.tumors.casefiles import (
    IRECIST_SECTIONS,
    RECIST_SECTIONS,
    IrecistCaseIn,
    MeasurabilityCaseIn,
    ResponseCaseIn,
    TargetSelectionCaseIn,
)

_RESPONSES = ["CR", "PR", "SD", "NON_CR_NON_PD", "PD", "NE"]
_NULLABLE_NUMBER = {"type": "number", "nullable": True}

RECIST_REQUEST = case_file_schema(
    {
        "response_cases": model_schema(ResponseCaseIn),
        "measurability_cases": model_schema(MeasurabilityCaseIn),
        "target_selection_cases": model_schema(TargetSelectionCaseIn),
    },
    description="A RECIST 1.1 case file (docs/domain/case-files.md).",
)
IRECIST_REQUEST = case_file_schema(
    {"cases": model_schema(IrecistCaseIn)},
    description="An iRECIST case file (docs/domain/case-files.md).",
)

_RECIST_TIMEPOINT = {
    "type": "object",
    "properties": {
        "date": {"type": "string", "format": "date"},
        "target_response": {"type": "string", "nullable": True},
        "non_target_response": {"type": "string", "nullable": True},
        "new_lesions": {"nullable": True, "anyOf": [{"type": "boolean"}, {"type": "string"}]},
        "overall_response": {"type": "string"},
        "sum_of_diameters_mm": _NULLABLE_NUMBER,
        "sum_of_measured_targets_mm": _NULLABLE_NUMBER,
        "pct_change_from_baseline": _NULLABLE_NUMBER,
        "nadir_mm_before_this_assessment": _NULLABLE_NUMBER,
    },
    "required": ["date", "target_response", "non_target_response", "new_lesions", "overall_response"],
}
_CASE_ERRORS = {"type": "object", "properties": {"errors": {"type": "array"}}, "required": ["errors"]}
RECIST_RESPONSE = {
    "type": "object",
    "description": "Case id -> its result: a response case's, a lesion's category or a target selection.",
    "additionalProperties": {
        "anyOf": [
            {
                "type": "object",
                "properties": {
                    "baseline_sum_mm": _NULLABLE_NUMBER,
                    "timepoints": {"type": "array", "items": _RECIST_TIMEPOINT},
                    "best_overall_response_confirmation_required": {"type": "string", "enum": _RESPONSES},
                    "best_overall_response_no_confirmation": {"type": "string", "enum": _RESPONSES},
                },
                "required": [
                    "baseline_sum_mm",
                    "timepoints",
                    "best_overall_response_confirmation_required",
                    "best_overall_response_no_confirmation",
                ],
            },
            {
                "type": "object",
                "properties": {
                    "category": {
                        "type": "string",
                        "enum": ["measurable", "non_measurable", "non_pathological", "not_a_lesion"],
                    }
                },
                "required": ["category"],
            },
            {
                "type": "object",
                "properties": {
                    "valid": {"type": "boolean"},
                    "errors": {"type": "array", "items": {"type": "string"}},
                },
                "required": ["valid", "errors"],
            },
        ]
    },
}
IRECIST_RESPONSE = {
    "type": "object",
    "description": "Case id -> its iRECIST result.",
    "additionalProperties": {
        "type": "object",
        "properties": {
            "baseline_sum_mm": _NULLABLE_NUMBER,
            "timepoints": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "date": {"type": "string", "format": "date"},
                        "target_sum_mm": _NULLABLE_NUMBER,
                        "overall_response": {"type": "string"},
                    },
                    "required": ["date", "overall_response"],
                },
            },
            "best_overall_response_irecist": {"type": "string"},
            "best_overall_response_recist11_no_confirmation": {"type": "string"},
        },
        "required": ["baseline_sum_mm", "timepoints", "best_overall_response_irecist"],
    },
}


class RecistEvaluateView(CaseFileToolView):
    def sections(self, request: Request) -> Sequence[Section]:
        return RECIST_SECTIONS

    @tool_schema(RECIST_REQUEST, RECIST_RESPONSE, "RECIST 1.1 responses for a case file")
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        return super().post(request, *args, **kwargs)


class IrecistEvaluateView(CaseFileToolView):
    def sections(self, request: Request) -> Sequence[Section]:
        return IRECIST_SECTIONS

    @tool_schema(IRECIST_REQUEST, IRECIST_RESPONSE, "iRECIST responses for a case file")
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        return super().post(request, *args, **kwargs)


urlpatterns: list[URLPattern] = [
    path("tools/recist/evaluate/", RecistEvaluateView.as_view(), name="tools-recist-evaluate"),
    path("tools/irecist/evaluate/", IrecistEvaluateView.as_view(), name="tools-irecist-evaluate"),
]
