"""REST endpoints of the subject journey (registered by edc/api/urls.py).

/api/subjects/                       screen (POST), list, retrieve, correct, void, history
/api/subjects/{id}/eligibility/      GET ?as_of=YYYY-MM-DD: the live checklist (the engine's answer);
                                     POST {"as_of", "confirmations"}: the investigator signs the outcome
/api/subjects/{id}/eligibility/decision/   GET: the signed outcome and whether it is stale
/api/subjects/{id}/enroll/           POST {"enrollment_date", "planned_first_dose"[, "arm"]}
/api/subjects/{id}/screen-fail/      POST {"reason"[, "failed_criteria", "date"]}
/api/subjects/{id}/rescreen/         POST {["screening_date"]}: a new subject, a new number
/api/subjects/{id}/withdraw/         POST {"date", "scope", "reason"}
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import django_filters
from django.db import transaction
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import BaseRouter

from edc.api import fields as strict
from edc.api.fields import PartialDateSerializerField, StrictPrimaryKeyRelatedField
from edc.api.serializers import StrictModelSerializer, refused_keys
from edc.api.viewsets import AuditedViewSet, etag
from edc.consent.models import WithdrawalScope
from edc.core.scoping import visible_sites, visible_studies
from edc.core.services import ChangeReason
from edc.eligibility import selectors as eligibility_selectors
from edc.eligibility import services as eligibility_services
from edc.subjects import services
from edc.subjects.models import Subject, SubjectStatus
from studies.models import Arm, Site, Study


class StrictBody(serializers.Serializer):
    """An action's body: strict fields; an unknown key is refused by name."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, Mapping):
            raise serializers.ValidationError({"non_field_errors": [gettext("Send a JSON object.")]})
        errors = refused_keys(data, self.fields, frozenset(self.context.get("extra_keys", ())))
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
            raise serializers.ValidationError({**detail, **errors}) from exc
        if errors:
            raise serializers.ValidationError(errors)
        return value


def read_body(serializer_class: type[StrictBody], request: Request, **context: Any) -> dict[str, Any]:
    body = serializer_class(data=request.data, context={"request": request, **context})
    body.is_valid(raise_exception=True)
    return dict(body.validated_data)


class SubjectSerializer(StrictModelSerializer):
    study = StrictPrimaryKeyRelatedField(queryset=Study.objects.none())
    site = StrictPrimaryKeyRelatedField(queryset=Site.objects.none())
    birth_date = PartialDateSerializerField()

    class Meta:
        model = Subject
        fields = [
            "id",
            "study",
            "site",
            "screening_number",
            "subject_identifier",
            "status",
            "initials",
            "sex",
            "birth_date",
            "screening_date",
            "rescreen_of",
            "screen_failed_on",
            "screen_fail_reason",
            "screen_fail_criteria",
            "enrollment_date",
            "planned_first_dose",
            "arm",
            "version",
            "created",
            "updated",
            "voided_at",
            "void_reason",
        ]
        read_only_fields = [
            "screening_number",
            "subject_identifier",
            "status",
            "rescreen_of",
            "screen_failed_on",
            "screen_fail_reason",
            "screen_fail_criteria",
            "enrollment_date",
            "planned_first_dose",
            "arm",
            "version",
            "created",
            "updated",
            "voided_at",
            "void_reason",
        ]
        # Uniqueness is checked by the model's constraints in the service (one place for validation).
        validators: list[Any] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            # Choices are scoped too: a user cannot even name a study or site they do not see.
            self.fields["study"].queryset = visible_studies(request.user)  # type: ignore[attr-defined]
            self.fields["site"].queryset = visible_sites(request.user)  # type: ignore[attr-defined]

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            # What subject_update takes: the rest is fixed or changes through its transition only.
            for name, field in fields.items():
                if name not in Subject.editable_fields:
                    field.read_only = True
        return fields


class SubjectFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=SubjectStatus.choices)

    class Meta:
        model = Subject
        fields = ["study", "site", "status", "sex", "screening_number", "subject_identifier", "rescreen_of"]


class EligibilityBody(StrictBody):
    as_of = strict.StrictDateField(help_text=_("The planned first dose the criteria are read against."))
    confirmations = serializers.DictField(
        required=False,
        help_text=_('{"I3": "met", "E13": {"answer": "not_met", "comment": "..."}}'),
    )
    confirm_unstructured = strict.StrictBooleanField(required=False)


class EnrollBody(StrictBody):
    enrollment_date = strict.StrictDateField()
    planned_first_dose = strict.StrictDateField()
    arm = StrictPrimaryKeyRelatedField(queryset=Arm.objects.none(), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            arms = Arm.objects.filter(study__in=visible_studies(request.user).values("id"))
            self.fields["arm"].queryset = arms  # type: ignore[attr-defined]


class ScreenFailBody(StrictBody):
    reason = strict.StrictCharField()
    failed_criteria = serializers.ListField(child=strict.StrictCharField(), required=False)
    date = strict.StrictDateField(required=False)


class RescreenBody(StrictBody):
    screening_date = strict.StrictDateField(required=False)


class WithdrawBody(StrictBody):
    date = strict.StrictDateField()
    scope = strict.StrictChoiceField(choices=WithdrawalScope.choices)
    reason = strict.StrictCharField(required=False, allow_blank=True, default="")


class DecisionSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    subject = serializers.UUIDField(source="subject_id")
    as_of = serializers.DateField()
    outcome = serializers.CharField()
    result = serializers.JSONField()
    confirmations = serializers.JSONField()
    decided_by = serializers.SerializerMethodField()
    decided_at = serializers.DateTimeField()
    version = serializers.IntegerField()

    def get_decided_by(self, decision: Any) -> str | None:
        return decision.decided_by.get_username() if decision.decided_by_id else None


def _as_of(value: str | None) -> dt.date:
    if value is None:
        raise serializers.ValidationError(
            {"as_of": [gettext("Give as_of=YYYY-MM-DD (the planned first dose).")]}
        )
    try:
        return strict.StrictDateField().to_internal_value(value)
    except serializers.ValidationError as exc:
        raise serializers.ValidationError({"as_of": exc.detail}) from None


class SubjectViewSet(AuditedViewSet):
    queryset = Subject.objects.select_related("study", "site").order_by(
        "study__protocol_id", "screening_number"
    )
    serializer_class = SubjectSerializer
    filterset_class = SubjectFilter

    # The same services as the admin (edc/subjects/admin.py).
    def create_record(self, data: dict[str, Any]) -> Subject:
        return services.subject_screen(user=self.request.user, **data)

    def update_record(
        self, instance: Subject, data: dict[str, Any], reason: ChangeReason, version: int
    ) -> Subject:
        return services.subject_update(
            user=self.request.user, subject=instance, reason=reason, version=version, **data
        )

    def void_record(self, instance: Subject, reason: ChangeReason, version: int) -> Subject:
        return services.subject_void(user=self.request.user, subject=instance, reason=reason, version=version)

    def _optional_version(self, request: Request) -> int | None:
        """A transition honours a version when one is stated (If-Match, "version"); else the current."""
        stated = "If-Match" in request.headers or (
            isinstance(request.data, Mapping) and "version" in request.data
        )
        return self._based_on_version(request) if stated else None

    def _subject_response(self, subject: Subject, code: int = status.HTTP_200_OK) -> Response:
        data = SubjectSerializer(subject, context=self.get_serializer_context()).data
        return Response(data, status=code, headers={"ETag": etag(subject)})

    @extend_schema(
        parameters=[OpenApiParameter("as_of", str, description="YYYY-MM-DD, the planned first dose")],
        request=EligibilityBody,
    )
    @action(detail=True, methods=["get", "post"])
    def eligibility(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """GET: the engine's answer on the stored data as of `as_of`; POST: sign the outcome."""
        subject = self.get_object()
        if request.method == "GET":
            as_of = request.query_params.get("as_of")
            day = _as_of(as_of) if as_of is not None else subject.planned_first_dose or _as_of(None)
            return Response(eligibility_selectors.subject_eligibility(subject, day))
        body = read_body(EligibilityBody, request)
        with transaction.atomic():
            decision = eligibility_services.eligibility_decide(
                user=request.user,
                subject=subject,
                as_of=body["as_of"],
                confirmations=body.get("confirmations") or {},
                confirm_unstructured=body.get("confirm_unstructured"),
            )
        return Response(DecisionSerializer(decision).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        responses=inline_serializer(
            "EligibilityDecisionState",
            {
                "decision": DecisionSerializer(allow_null=True),
                "stale": serializers.BooleanField(allow_null=True),
                "changed": serializers.ListField(child=serializers.CharField()),
            },
        )
    )
    @action(detail=True, methods=["get"], url_path="eligibility/decision")
    def eligibility_decision(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The signed screening outcome, and whether the data changed since (stale)."""
        subject = self.get_object()
        decision = eligibility_selectors.current_decision(subject)
        if decision is None:
            return Response({"decision": None, "stale": None, "changed": []})
        state = eligibility_selectors.decision_state(decision)
        return Response(
            {
                "decision": DecisionSerializer(decision).data,
                "stale": state.stale,
                "changed": list(state.changed),
            }
        )

    @extend_schema(request=EnrollBody, responses=SubjectSerializer)
    @action(detail=True, methods=["post"])
    def enroll(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Enroll a screened subject: `enrollment_date` and `planned_first_dose` (and the arm where the
        study has several). Needs a current signed consent and a signed, eligible, not stale screening
        outcome; answers the subject with its new identifier. Its visits are planned at once."""
        subject = self.get_object()
        version = self._optional_version(request)
        body = read_body(EnrollBody, request, extra_keys=("version",))
        arm = body.get("arm")
        enrolled = services.subject_enroll(
            user=request.user,
            subject=subject,
            enrollment_date=body["enrollment_date"],
            planned_first_dose=body["planned_first_dose"],
            arm=arm,
            version=version,
        )
        return self._subject_response(enrolled)

    @extend_schema(request=ScreenFailBody, responses=SubjectSerializer)
    @action(detail=True, methods=["post"], url_path="screen-fail")
    def screen_fail(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Record a screen failure: the reason and the failing criteria; the subject stays in the
        screening log."""
        subject = self.get_object()
        version = self._optional_version(request)
        body = read_body(ScreenFailBody, request, extra_keys=("version",))
        failed = services.subject_screen_fail(
            user=request.user,
            subject=subject,
            reason=body["reason"],
            failed_criteria=body.get("failed_criteria"),
            date=body.get("date"),
            version=version,
        )
        return self._subject_response(failed)

    @extend_schema(request=RescreenBody, responses={201: SubjectSerializer})
    @action(detail=True, methods=["post"])
    def rescreen(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Screen a screen-failed subject again, where the study allows it: a new subject under a new
        screening number, linked to this one."""
        subject = self.get_object()
        body = read_body(RescreenBody, request)
        new = services.subject_rescreen(
            user=request.user, subject=subject, screening_date=body.get("screening_date")
        )
        return self._subject_response(new, status.HTTP_201_CREATED)

    @extend_schema(request=WithdrawBody, responses=SubjectSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Record a withdrawal of consent: its date and scope (treatment only, all follow-up, data use).
        Future visits stop; nothing is deleted."""
        subject = self.get_object()
        version = self._optional_version(request)
        body = read_body(WithdrawBody, request, extra_keys=("version",))
        services.subject_withdraw(
            user=request.user,
            subject=subject,
            date=body["date"],
            scope=body["scope"],
            reason=body.get("reason", ""),
            version=version,
        )
        subject.refresh_from_db()
        return self._subject_response(subject)


def register(router: BaseRouter) -> None:
    router.register("subjects", SubjectViewSet, basename="subject")
