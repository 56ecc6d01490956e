"""CTCAE grading and the CTCAE dictionary in the API (registered by edc/api/urls.py).

POST /api/ctcae/grade/[?version=5.0]   a batch of grading requests (a JSON list, or an object with
                                       ``grading_cases``) -> exactly what `ctcae_grade` prints
GET  /api/ctcae/terms/?search=&version=   the stored terms, searched in term, MedDRA code and SOC

Both read the terms `load_ctcae` stored; the dictionary holds no patient data, so every signed-in
user reads it. Invalid input answers 400 with the input layer's errors keyed by their place in the
body (edc/inputs/api.py); a malformed ``version`` answers 400 naming it, a version without stored
terms 404.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from django.db.models import QuerySet
from django.urls import URLPattern, path
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import filters, mixins, serializers, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.routers import BaseRouter

from edc.inputs.api import CaseFileToolView, tool_schema
from edc.inputs.cases import CaseError, Section, read_case
from edc.inputs.openapi import case_file_schema, model_schema
from edc.safety.casefile import GradingCaseIn
from edc.safety.ctcae import VERSION, CtcaeError, Dictionary, grade
from edc.safety.management.commands.ctcae_grade import _engine_problem, _error_result
from edc.safety.models import CtcaeTerm
from edc.safety.selectors import CtcaeTermsNotLoaded, ctcae_dictionary

_VERSION = re.compile(r"^\d+\.\d+$")

GRADE_REQUEST = case_file_schema(
    {"grading_cases": model_schema(GradingCaseIn)},
    description="CTCAE grading requests: a JSON list, or an object with grading_cases "
    "(docs/domain/case-files.md).",
    bare_list="grading_cases",
)
GRADE_RESPONSE = {
    "type": "object",
    "description": "Case id -> its grade.",
    "additionalProperties": {
        "type": "object",
        "properties": {
            "grade": {"type": "integer", "nullable": True, "minimum": 1, "maximum": 5},
            "criterion": {"type": "string"},
            "reason": {"type": "string"},
        },
        "required": ["grade", "criterion", "reason"],
        "additionalProperties": False,
    },
}
VERSION_PARAMETER = OpenApiParameter(
    "version",
    str,
    description=f"The CTCAE version to grade with (default {VERSION}); its terms must be loaded.",
    required=False,
    pattern=r"^\d+\.\d+$",
)


def grading_section(dictionary: Dictionary) -> Section:
    """The `ctcae_grade` command's section: the same reading, engine and per-case errors."""

    def run(raw: Any) -> dict[str, Any]:
        request = read_case(GradingCaseIn, raw).to_request()
        try:
            return grade(request, dictionary).as_dict()
        except CtcaeError as exc:
            raise CaseError([_engine_problem(exc, request)]) from None

    return Section("grading_cases", run, on_error=_error_result)


def requested_version(request: Request) -> str:
    version = request.query_params.get("version", VERSION)
    if not _VERSION.match(version):
        raise serializers.ValidationError(
            {"version": [gettext("%(version)r is not a CTCAE version such as 5.0.") % {"version": version}]}
        )
    return version


class CtcaeGradeView(CaseFileToolView):
    bare_list = "grading_cases"

    def sections(self, request: Request) -> Sequence[Section]:
        version = requested_version(request)
        try:
            dictionary = ctcae_dictionary(version=version)
        except CtcaeTermsNotLoaded as exc:
            raise NotFound(str(exc)) from None  # a version that is not in the database
        return [grading_section(dictionary)]

    @tool_schema(
        GRADE_REQUEST,
        GRADE_RESPONSE,
        "CTCAE grades for a batch of lab and vital-sign values",
        tags=["ctcae"],
        parameters=[VERSION_PARAMETER],
        not_found="No terms of that CTCAE version are in the database.",
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        return super().post(request, *args, **kwargs)


class CtcaeGradeTextSerializer(serializers.Serializer):
    grade = serializers.IntegerField(min_value=1, max_value=5)
    text = serializers.CharField()


class CtcaeTermSerializer(serializers.ModelSerializer):
    grades = serializers.SerializerMethodField(
        help_text=_("The grades that exist for the term, with their text (a grade NCI marks ' -' is absent).")
    )

    class Meta:
        model = CtcaeTerm
        fields = ["version", "meddra_code", "soc", "term", "grades", "definition", "navigational_note"]
        read_only_fields = fields

    @extend_schema_field(CtcaeGradeTextSerializer(many=True))
    def get_grades(self, term: CtcaeTerm) -> list[dict[str, Any]]:
        return [{"grade": n, "text": term.grade_text(n)} for n in term.allowed_grades()]


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter(
                "version",
                str,
                description=_("Only the terms of this CTCAE version, e.g. 5.0."),
                required=False,
            )
        ],
        # The error answers are the API schema's (edc/api/schema.py), in the one error shape.
        responses={200: CtcaeTermSerializer(many=True)},
    )
)
class CtcaeTermViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The CTCAE dictionary: every stored term, searched in term, MedDRA code and MedDRA SOC."""

    serializer_class = CtcaeTermSerializer
    permission_classes = (IsAuthenticated,)
    filter_backends = [filters.SearchFilter]
    search_fields = ["term", "meddra_code", "soc"]

    def get_queryset(self) -> QuerySet[CtcaeTerm]:
        terms = CtcaeTerm.objects.order_by("version", "term")
        version = self.request.query_params.get("version")
        if version is not None:
            terms = terms.filter(version=version)
        return terms


def register(router: BaseRouter) -> None:
    router.register("ctcae/terms", CtcaeTermViewSet, basename="ctcae-term")
    from edc.safety import api_events

    api_events.register(router)


def _urlpatterns() -> list[URLPattern]:
    from edc.safety import api_events

    return [path("ctcae/grade/", CtcaeGradeView.as_view(), name="ctcae-grade"), *api_events.urlpatterns]


urlpatterns: list[URLPattern] = _urlpatterns()
