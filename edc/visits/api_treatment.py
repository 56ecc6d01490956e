"""REST endpoints of treatment (registered by edc/api/urls.py).

/api/exposures/                      the doses of the subjects the user sees (?subject=, ?site=,
                                     ?study=, ?visit=, ?intervention=, ?agent_code=, ?cycle=,
                                     ?start_date_after=, ?start_date_before=); POST one dose at a
                                     treatment visit; PATCH a correction with a reason and the
                                     version; void; history. The planned dose, its basis, the cycle
                                     day and the dose role are derived (read-only).
/api/end-of-treatment/               the end-of-treatment forms (read, correct, void, history)
/api/subjects/{id}/end-of-treatment/ GET the subject's end of treatment (404 while on treatment);
                                     POST {"last_dose_date", "reason"[, "eot_date", "reason_detail"]}
                                     with `reason` a code of codelist EOTREAS (PD, TOX, DEATH, ...)

Every write calls edc/visits/treatment.py (the admin calls the same services).
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import BaseRouter
from rest_framework.views import APIView

from edc.api import fields as strict
from edc.api.fields import StrictPrimaryKeyRelatedField
from edc.api.permissions import SiteWritePermission
from edc.api.viewsets import AuditedViewSet, etag
from edc.core.scoping import scope, visible_studies
from edc.core.services import ChangeReason
from edc.forms.api import BASE_FIELDS, META_FIELDS, READ_ONLY, FormRecordSerializer
from edc.subjects.api import StrictBody, read_body
from edc.subjects.models import Subject
from edc.visits import treatment
from edc.visits.exposures import EndOfTreatment, EotReason, Exposure, ExposureAdjustment
from edc.visits.models import Visit
from studies.models import Intervention

DERIVED = [
    "agent_code",
    "phase",
    "planned_dose",
    "dose_unit",
    "cycle_day",
    "dose_role",
    "basis_weight_kg",
    "basis_height_cm",
    "basis_bsa_m2",
    "basis_date",
    "basis_recomputed",
]


class ExposureSerializer(FormRecordSerializer):
    visit = StrictPrimaryKeyRelatedField(queryset=Visit.objects.none())
    intervention = StrictPrimaryKeyRelatedField(queryset=Intervention.objects.none())

    class Meta:
        model = Exposure
        fields = [
            *BASE_FIELDS,
            "intervention",
            "cycle",
            "start_date",
            "end_date",
            "dose_given",
            "route",
            "infusion_minutes",
            "adjustment",
            "adjustment_reason",
            "doses_missed",
            "overdose_reason",
            *DERIVED,
            *META_FIELDS,
        ]
        read_only_fields = [*READ_ONLY, *DERIVED]
        validators: list[Any] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and "intervention" in self.fields:
            field = self.fields["intervention"]
            field.queryset = Intervention.objects.filter(  # type: ignore[attr-defined]
                study__in=visible_studies(request.user).values("id")
            )


class ExposureFilter(django_filters.FilterSet):
    start_date_after = django_filters.DateFilter(field_name="start_date", lookup_expr="gte")
    start_date_before = django_filters.DateFilter(field_name="start_date", lookup_expr="lte")
    adjustment = django_filters.ChoiceFilter(choices=ExposureAdjustment.choices)

    class Meta:
        model = Exposure
        fields = ["subject", "site", "study", "visit", "intervention", "agent_code", "cycle"]


class ExposureViewSet(AuditedViewSet):
    queryset = Exposure.objects.select_related("site").order_by("-start_date", "id")
    serializer_class = ExposureSerializer
    filterset_class = ExposureFilter

    def create_record(self, data: dict[str, Any]) -> Exposure:
        return treatment.exposure_record(user=self.request.user, **data)

    def update_record(
        self, instance: Any, data: dict[str, Any], reason: ChangeReason, version: int
    ) -> Exposure:
        return treatment.exposure_update(
            user=self.request.user, exposure=instance, reason=reason, version=version, **data
        )

    def void_record(self, instance: Any, reason: ChangeReason, version: int) -> Exposure:
        return treatment.exposure_void(
            user=self.request.user, exposure=instance, reason=reason, version=version
        )


class EndOfTreatmentSerializer(FormRecordSerializer):
    visit = StrictPrimaryKeyRelatedField(queryset=Visit.objects.none(), required=False)

    class Meta:
        model = EndOfTreatment
        fields = [*BASE_FIELDS, "eot_date", "last_dose_date", "reason", "reason_detail", *META_FIELDS]
        read_only_fields = [*READ_ONLY, "visit"]
        validators: list[Any] = []


class EndOfTreatmentFilter(django_filters.FilterSet):
    reason = django_filters.ChoiceFilter(choices=EotReason.choices)

    class Meta:
        model = EndOfTreatment
        fields = ["subject", "site", "study"]


class EndOfTreatmentViewSet(AuditedViewSet):
    """Also created at /api/subjects/{id}/end-of-treatment/; corrected here (with a reason and the
    version). Not voided: an end of treatment moved the subject to follow-up and cancelled visits,
    which a void would not undo; its dates and reason are corrected instead."""

    queryset = EndOfTreatment.objects.select_related("site").order_by("-eot_date", "id")
    serializer_class = EndOfTreatmentSerializer
    filterset_class = EndOfTreatmentFilter
    void = None  # type: ignore[assignment]  # no void action on this resource (see above)

    def create_record(self, data: dict[str, Any]) -> EndOfTreatment:
        data.pop("visit", None)
        return treatment.end_of_treatment_record(user=self.request.user, **data)

    def update_record(
        self, instance: Any, data: dict[str, Any], reason: ChangeReason, version: int
    ) -> EndOfTreatment:
        return treatment.end_of_treatment_update(
            user=self.request.user, record=instance, reason=reason, version=version, **data
        )


class EndOfTreatmentBody(StrictBody):
    last_dose_date = strict.StrictDateField()
    reason = strict.StrictChoiceField(choices=EotReason.choices)
    eot_date = strict.StrictDateField(required=False)
    reason_detail = strict.StrictCharField(required=False, allow_blank=True)


class SubjectEndOfTreatmentView(APIView):
    """The end of treatment of one subject: GET it, POST it once."""

    permission_classes = [*APIView.permission_classes, SiteWritePermission]

    def _subject(self, request: Request, pk: Any) -> Subject:
        subject: Subject = get_object_or_404(
            scope(Subject.objects.active().select_related("study", "site"), request.user), pk=pk
        )
        self.check_object_permissions(request, subject)
        return subject

    def _answer(self, request: Request, record: EndOfTreatment, code: int = status.HTTP_200_OK) -> Response:
        data = EndOfTreatmentSerializer(record, context={"request": request}).data
        return Response(data, status=code, headers={"ETag": etag(record)})

    @extend_schema(responses=EndOfTreatmentSerializer)
    def get(self, request: Request, pk: Any) -> Response:
        """The subject's end-of-treatment form; 404 while treatment goes on."""
        subject = self._subject(request, pk)
        record = scope(EndOfTreatment.objects.active(), request.user).filter(subject=subject).first()
        if record is None:
            from django.http import Http404

            raise Http404
        return self._answer(request, record)

    @extend_schema(request=EndOfTreatmentBody, responses={201: EndOfTreatmentSerializer})
    def post(self, request: Request, pk: Any) -> Response:
        """End the subject's treatment: the last dose date and the reason (a code of EOTREAS). The
        remaining treatment visits are cancelled; the end-of-treatment, safety and survival follow-up
        visits are planned; imaging goes on unless the reason is progression (PD)."""
        subject = self._subject(request, pk)
        body = read_body(EndOfTreatmentBody, request)
        record = treatment.end_of_treatment_record(
            user=request.user,
            subject=subject,
            last_dose_date=body["last_dose_date"],
            reason=body["reason"],
            eot_date=body.get("eot_date"),
            reason_detail=body.get("reason_detail", ""),
        )
        return self._answer(request, record, status.HTTP_201_CREATED)


def register(router: BaseRouter) -> None:
    router.register("exposures", ExposureViewSet, basename="exposure")
    router.register("end-of-treatment", EndOfTreatmentViewSet, basename="end-of-treatment")


def _urlpatterns() -> list[Any]:
    from django.urls import path

    return [
        path(
            "subjects/<uuid:pk>/end-of-treatment/",
            SubjectEndOfTreatmentView.as_view(),
            name="subject-end-of-treatment",
        )
    ]


urlpatterns = _urlpatterns()
