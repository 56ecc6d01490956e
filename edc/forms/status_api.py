"""Form status in the API (registered by edc/api/urls.py; the status itself: edc/forms/status.py).

GET /api/visits/{id}/forms/            the visit's expected forms and their states
GET /api/subjects/{id}/forms/          every visit of the subject, each with its forms' states
GET /api/studies/{id}/missing-forms/   per site you see: the forms missing at the visits that took
                                       place (and in progress, complete, not done), by form

Each answers one object (not paged: a subject's visits and a study's sites are bounded), reads only
what the user's memberships grant, and costs a fixed number of queries whatever the number of
visits (pinned in tests/forms/test_status.py).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.urls import re_path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from edc.core.scoping import scope, visible_sites, visible_studies
from edc.forms.door import FormDoorView, scoped_visit
from edc.forms.status import STATES, FormStatus, missing_forms_by_site, state_counts, visit_form_status


class FormStatusSerializer(serializers.Serializer):
    """One form at one visit."""

    code = serializers.CharField(help_text=_("The form's registry code."))
    name = serializers.CharField()
    state = serializers.ChoiceField(choices=list(STATES))
    not_done_reason = serializers.CharField(allow_blank=True)
    not_done_detail = serializers.CharField(allow_blank=True)
    expected = serializers.BooleanField(
        help_text=_("False: rows at a visit whose definition does not name it.")
    )
    rows = serializers.IntegerField(help_text=_("Active rows of the form at the visit."))
    incomplete_items = serializers.ListField(
        child=serializers.CharField(), help_text=_("Required items left empty (in progress).")
    )
    stored = serializers.BooleanField(help_text=_("False: no model stores this form yet."))

    class Meta:
        ref_name = "FormStatus"


class StateCountsSerializer(serializers.Serializer):
    missing = serializers.IntegerField()
    in_progress = serializers.IntegerField()
    complete = serializers.IntegerField()
    not_done = serializers.IntegerField()

    class Meta:
        ref_name = "FormStateCounts"


class VisitFormsSerializer(serializers.Serializer):
    """A visit and the status of its forms."""

    visit = serializers.UUIDField()
    subject = serializers.UUIDField()
    code = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.CharField()
    status = serializers.CharField(help_text=_("The visit's status: planned, done, missed, cancelled."))
    target_date = serializers.DateField(allow_null=True)
    visit_date = serializers.DateField(allow_null=True)
    counts = StateCountsSerializer(help_text=_("The expected forms per state."))
    forms = FormStatusSerializer(many=True)

    class Meta:
        ref_name = "VisitForms"


class SubjectFormsSerializer(serializers.Serializer):
    """Every visit of a subject with its forms' status, in schedule order."""

    subject = serializers.UUIDField()
    counts = StateCountsSerializer(help_text=_("The expected forms of all visits, per state."))
    visits = VisitFormsSerializer(many=True)

    class Meta:
        ref_name = "SubjectForms"


class SiteMissingSerializer(serializers.Serializer):
    site = serializers.IntegerField()
    site_code = serializers.CharField()
    visits = serializers.IntegerField(help_text=_("Visits that took place (status done)."))
    expected = serializers.IntegerField(help_text=_("Forms those visits expect."))
    missing = serializers.IntegerField()
    in_progress = serializers.IntegerField()
    complete = serializers.IntegerField()
    not_done = serializers.IntegerField()
    by_form = serializers.DictField(
        child=serializers.IntegerField(), help_text=_("Missing forms per form code.")
    )

    class Meta:
        ref_name = "SiteMissingForms"


class StudyMissingSerializer(serializers.Serializer):
    """Missing forms per site of a study, for data managers."""

    study = serializers.IntegerField()
    sites = SiteMissingSerializer(many=True)

    class Meta:
        ref_name = "StudyMissingForms"


def _status(status: FormStatus) -> dict[str, Any]:
    return {
        "code": status.code,
        "name": status.name,
        "state": status.state,
        "not_done_reason": status.not_done_reason,
        "not_done_detail": status.not_done_detail,
        "expected": status.expected,
        "rows": status.rows,
        "incomplete_items": list(status.incomplete_items),
        "stored": status.stored,
    }


def visit_shape(visit: Any, statuses: list[FormStatus]) -> dict[str, Any]:
    return {
        "visit": str(visit.pk),
        "subject": str(visit.subject_id),
        "code": visit.code,
        "name": visit.name,
        "kind": visit.kind,
        "status": visit.status,
        "target_date": visit.target_date.isoformat() if visit.target_date else None,
        "visit_date": visit.visit_date.isoformat() if visit.visit_date else None,
        "counts": state_counts(statuses),
        "forms": [_status(s) for s in statuses],
    }


def _id_parameter(what: str, fmt: str = "uuid") -> OpenApiParameter:
    schema: dict[str, Any] = (
        {"type": "string", "format": "uuid"} if fmt == "uuid" else {"type": "integer", "minimum": 1}
    )
    return OpenApiParameter("id", schema, OpenApiParameter.PATH, description=f"The {what}'s id.")


class VisitFormsView(APIView):
    @extend_schema(
        operation_id="visit_forms_status",
        parameters=[_id_parameter("visit")],
        responses={200: VisitFormsSerializer},
        tags=["forms"],
        description="The forms the visit's definition expects, each missing, in progress, complete or "
        "not done (with the reason), then forms entered there that it does not expect.",
    )
    def get(self, request: Request, id: str) -> Response:
        visit = scoped_visit(request, id)
        return Response(visit_shape(visit, visit_form_status([visit])[visit.pk]))


class SubjectFormsView(APIView):
    @extend_schema(
        operation_id="subject_forms_status",
        parameters=[_id_parameter("subject")],
        responses={200: SubjectFormsSerializer},
        tags=["forms"],
        description="Every visit of the subject (not voided) in schedule order with its forms' status.",
    )
    def get(self, request: Request, id: str) -> Response:
        from edc.subjects.models import Subject
        from edc.visits.models import Visit

        try:
            key = uuid.UUID(str(id))
        except ValueError:
            raise NotFound() from None
        subject = scope(Subject.objects.active(), request.user).filter(pk=key).first()
        if subject is None:
            raise NotFound()
        visits = list(Visit.objects.active().filter(subject=subject).order_by("target_date", "order", "code"))
        statuses = visit_form_status(visits)
        every = [s for v in visits for s in statuses[v.pk]]
        return Response(
            {
                "subject": str(subject.pk),
                "counts": state_counts(every),
                "visits": [visit_shape(v, statuses[v.pk]) for v in visits],
            }
        )


class StudyMissingFormsView(APIView):
    @extend_schema(
        operation_id="study_missing_forms",
        parameters=[_id_parameter("study", fmt="integer")],
        responses={200: StudyMissingSerializer},
        tags=["forms"],
        description="For each site of the study that you see: the visits that took place, the forms "
        "they expect, how many are missing, in progress, complete or not done, and the missing ones "
        "per form code. Planned visits (not yet held) and missed or cancelled ones are not counted.",
    )
    def get(self, request: Request, id: str) -> Response:
        from edc.visits.models import Visit

        text = str(id)
        if not text.isdigit() or not 0 < int(text) < 2**63:
            raise NotFound()
        study = visible_studies(request.user).filter(pk=int(text)).first()
        if study is None:
            raise NotFound()
        sites = list(
            visible_sites(request.user).filter(study=study).order_by("code").values_list("id", "code")
        )
        visits = scope(Visit.objects.filter(study=study), request.user)
        found = {row.site_id: row for row in missing_forms_by_site(visits)}
        answer = []
        for site_id, code in sites:
            row = found.get(site_id)
            answer.append(
                {
                    "site": site_id,
                    "site_code": code,
                    "visits": row.visits if row else 0,
                    "expected": row.expected if row else 0,
                    "missing": row.missing if row else 0,
                    "in_progress": row.in_progress if row else 0,
                    "complete": row.complete if row else 0,
                    "not_done": row.not_done if row else 0,
                    "by_form": row.by_form if row else {},
                }
            )
        return Response({"study": study.pk, "sites": answer})


# The form status and the registry's form door (edc/forms/door.py), routed by edc/api/urls.py.
urlpatterns = [
    re_path(r"^visits/(?P<id>[^/]+)/forms/$", VisitFormsView.as_view(), name="visit-forms"),
    re_path(r"^visits/(?P<id>[^/]+)/forms/(?P<code>[^/]+)/$", FormDoorView.as_view(), name="visit-form-door"),
    re_path(r"^subjects/(?P<id>[^/]+)/forms/$", SubjectFormsView.as_view(), name="subject-forms"),
    re_path(
        r"^studies/(?P<id>[^/]+)/missing-forms/$", StudyMissingFormsView.as_view(), name="study-missing-forms"
    ),
]
