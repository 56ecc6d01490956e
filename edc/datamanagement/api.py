"""REST endpoints of data management (registered by edc/api/urls.py).

/api/queries/                      list (?subject= ?status= ?rule= ?site=; ageing), retrieve, raise (POST)
/api/queries/{id}/answer/          POST {"answer"}: the site answers
/api/queries/{id}/close/           POST {["text"]}: a monitor or data manager closes
/api/queries/{id}/reopen/          POST {"text"}: re-open an answered or closed query
/api/queries/{id}/history/         the query's audit trail
/api/sdv/                          list (?subject=), retrieve, mark (POST {"record_type", "record_id"})
/api/signatures/                   list (?subject=), retrieve, sign (POST {"kind", "record_id", "password"})
/api/signatures/meaning/?kind=     the meaning the signer is shown before signing (21 CFR 11.50)
/api/data-locks/                   POST {"action": "lock"|"unlock", "record_type", "record_id", "reason"}
/api/audit-trail/?subject= | ?study=   the audit trail as CSV, streamed
"""

from __future__ import annotations

import uuid
from typing import Any

import django_filters
from django.core.exceptions import PermissionDenied
from django.http import Http404, StreamingHttpResponse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from edc.accounts.services import request_source
from edc.api import fields as strict
from edc.api.errors import error_response
from edc.api.filters import VoidedFilter
from edc.api.schema import _ERRORS, ErrorSerializer
from edc.api.serializers import HistoryEntrySerializer
from edc.core.exceptions import StaleRecord
from edc.core.models import Role
from edc.core.scoping import scope, visible_studies
from edc.core.selectors import history_for
from edc.datamanagement import services
from edc.datamanagement.models import (
    CloseKind,
    Query,
    QueryStatus,
    Signature,
    SignatureKind,
    SourceVerification,
)
from edc.datamanagement.selectors import (
    query_age_days,
    record_field_label,
    rule_description,
    sdv_states,
    signature_state,
    visible_queries,
)
from edc.subjects.api import StrictBody, read_body
from edc.subjects.models import Subject


def _username(user: Any) -> str | None:
    return user.get_username() if user is not None else None


class QueryEventSerializer(serializers.Serializer):
    action = serializers.CharField()
    text = serializers.CharField(allow_blank=True)
    by = serializers.CharField(allow_null=True, help_text=_("Username; null: the edit check."))
    at = serializers.DateTimeField()


class QuerySerializer(serializers.ModelSerializer):
    subject = serializers.UUIDField(source="subject_id", read_only=True)
    study = serializers.IntegerField(source="study_id", read_only=True)
    site = serializers.IntegerField(source="site_id", read_only=True)
    field_label = serializers.SerializerMethodField()
    rule_description = serializers.SerializerMethodField()
    age_days = serializers.SerializerMethodField()
    raised_by = serializers.SerializerMethodField()
    answered_by = serializers.SerializerMethodField()
    closed_by = serializers.SerializerMethodField()
    events = serializers.SerializerMethodField()
    # Empty until the query is closed: the schema says so ("" besides the kinds).
    close_kind = serializers.ChoiceField(choices=CloseKind.choices, allow_blank=True, read_only=True)

    class Meta:
        model = Query
        fields = [
            "id",
            "study",
            "site",
            "subject",
            "record_type",
            "record_id",
            "field",
            "field_label",
            "rule",
            "rule_description",
            "text",
            "status",
            "age_days",
            "raised_by",
            "raised_at",
            "opened_at",
            "answer",
            "answered_by",
            "answered_at",
            "closed_by",
            "closed_at",
            "close_kind",
            "events",
            "version",
        ]
        read_only_fields = fields

    def get_field_label(self, query: Query) -> str:
        return record_field_label(query.record_type, query.field)

    def get_rule_description(self, query: Query) -> str:
        return rule_description(query.rule) if query.rule else ""

    def get_age_days(self, query: Query) -> int:
        return query_age_days(query)

    def get_raised_by(self, query: Query) -> str | None:
        return _username(query.raised_by)

    def get_answered_by(self, query: Query) -> str | None:
        return _username(query.answered_by)

    def get_closed_by(self, query: Query) -> str | None:
        return _username(query.closed_by)

    @extend_schema_field(QueryEventSerializer(many=True))
    def get_events(self, query: Query) -> list[dict[str, Any]]:
        return [
            {"action": e.action, "text": e.text, "by": _username(e.by), "at": e.at}
            for e in query.events.all()
        ]


class QueryFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=QueryStatus.choices)
    subject = django_filters.UUIDFilter(field_name="subject_id")

    class Meta:
        model = Query
        fields = ["subject", "study", "site", "status", "rule", "record_id"]


class RaiseBody(StrictBody):
    record_type = strict.StrictCharField(help_text=_('The record\'s model, e.g. "forms.vitalsigns".'))
    record_id = serializers.UUIDField()
    field = strict.StrictCharField(required=False, allow_blank=True, default="")
    text = strict.StrictCharField()


class AnswerBody(StrictBody):
    answer = strict.StrictCharField()
    version = strict.StrictIntegerField(required=False, min_value=1)


class CloseBody(StrictBody):
    text = strict.StrictCharField(required=False, allow_blank=True, default="")
    version = strict.StrictIntegerField(required=False, min_value=1)


class ReopenBody(StrictBody):
    text = strict.StrictCharField()
    version = strict.StrictIntegerField(required=False, min_value=1)


def _record(request: Request, record_type: str, record_id: Any) -> Any:
    """The record a body names, as the user sees it: a hidden one is answered like a missing one."""
    model = services.record_model(record_type)
    found = scope(model._default_manager.all(), request.user).filter(pk=record_id).first()
    if found is None:
        raise serializers.ValidationError({"record_id": [gettext("No such record.")]})
    return found


class _Stale:
    """409 with the current values for a stale version (as AuditedViewSet answers)."""

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, StaleRecord):
            response = error_response(
                status.HTTP_409_CONFLICT,
                "stale",
                str(exc),
                current=self.get_serializer(exc.current).data,  # type: ignore[attr-defined]
            )
            response.exception = True
            return response
        return super().handle_exception(exc)  # type: ignore[misc]


class QueryViewSet(_Stale, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Queries (data clarifications) with their dialogue and ageing, scoped to the user's sites."""

    serializer_class = QuerySerializer
    filterset_class = QueryFilter
    filter_backends = [*api_settings.DEFAULT_FILTER_BACKENDS, VoidedFilter]  # type: ignore[list-item]  # DRF settings are untyped
    cursor_ordering = ("updated", "id")

    def get_queryset(self) -> Any:
        return visible_queries(self.request.user).prefetch_related("events__by")

    def _answer(self, query: Query, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=query.pk)
        return Response(self.get_serializer(fresh).data, status=code, headers={"ETag": f'"{fresh.version}"'})

    @extend_schema(
        request=RaiseBody,
        responses={
            201: QuerySerializer,
            409: OpenApiResponse(ErrorSerializer, description=str(_ERRORS["409"])),
        },
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Raise a manual query on a record (and one of its fields): monitors and data managers."""
        body = read_body(RaiseBody, request)
        record = _record(request, body["record_type"], body["record_id"])
        query = services.query_raise(user=request.user, record=record, text=body["text"], field=body["field"])
        return self._answer(query, status.HTTP_201_CREATED)

    @extend_schema(request=AnswerBody, responses=QuerySerializer)
    @action(detail=True, methods=["post"])
    def answer(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        query = self.get_object()
        body = read_body(AnswerBody, request)
        return self._answer(
            services.query_answer(
                user=request.user, query=query, answer=body["answer"], version=body.get("version")
            )
        )

    @extend_schema(request=CloseBody, responses=QuerySerializer)
    @action(detail=True, methods=["post"])
    def close(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        query = self.get_object()
        body = read_body(CloseBody, request)
        return self._answer(
            services.query_close(
                user=request.user, query=query, text=body["text"], version=body.get("version")
            )
        )

    @extend_schema(request=ReopenBody, responses=QuerySerializer)
    @action(detail=True, methods=["post"])
    def reopen(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        query = self.get_object()
        body = read_body(ReopenBody, request)
        return self._answer(
            services.query_reopen(
                user=request.user, query=query, text=body["text"], version=body.get("version")
            )
        )

    @extend_schema(responses=HistoryEntrySerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def history(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(HistoryEntrySerializer(history_for(self.get_object(), request.user), many=True).data)


# --- SDV -------------------------------------------------------------------------------------------


class ClearedBySerializer(serializers.Serializer):
    version = serializers.IntegerField()
    at = serializers.DateTimeField()
    user = serializers.CharField(allow_null=True)
    reason = serializers.CharField(allow_blank=True)


class SdvSerializer(serializers.ModelSerializer):
    subject = serializers.UUIDField(source="subject_id", read_only=True)
    site = serializers.IntegerField(source="site_id", read_only=True)
    verified_by = serializers.SerializerMethodField()
    state = serializers.SerializerMethodField(help_text=_("verified, or cleared by a later change"))
    cleared_by = serializers.SerializerMethodField(help_text=_("The change that cleared it (null: none)."))

    class Meta:
        model = SourceVerification
        fields = [
            "id",
            "site",
            "subject",
            "record_type",
            "record_id",
            "field",
            "verified_version",
            "verified_by",
            "verified_at",
            "state",
            "cleared_by",
        ]
        read_only_fields = fields

    def _state(self, mark: SourceVerification) -> Any:
        states = self.context.setdefault("sdv_states", {})
        if mark.pk not in states:
            states.update(sdv_states([mark]))
        return states[mark.pk]

    def get_verified_by(self, mark: SourceVerification) -> str | None:
        return _username(mark.verified_by)

    def get_state(self, mark: SourceVerification) -> str:
        return self._state(mark).state

    @extend_schema_field(ClearedBySerializer(allow_null=True))
    def get_cleared_by(self, mark: SourceVerification) -> Any:
        return self._state(mark).cleared_by


class SdvBody(StrictBody):
    record_type = strict.StrictCharField()
    record_id = serializers.UUIDField()
    field = strict.StrictCharField(required=False, allow_blank=True, default="")


class SubjectFilter(django_filters.FilterSet):
    subject = django_filters.UUIDFilter(field_name="subject_id")
    record_id = django_filters.UUIDFilter(field_name="record_id")


class SdvViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Source data verification marks; a later change to the record (or field) clears one visibly."""

    serializer_class = SdvSerializer
    filterset_class = SubjectFilter
    cursor_ordering = ("updated", "id")

    def get_queryset(self) -> Any:
        return scope(SourceVerification.objects.active(), self.request.user).select_related("verified_by")

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        marks = list(page or [])
        context = {**self.get_serializer_context(), "sdv_states": sdv_states(marks)}
        return self.get_paginated_response(SdvSerializer(marks, many=True, context=context).data)

    @extend_schema(
        request=SdvBody,
        responses={
            201: SdvSerializer,
            409: OpenApiResponse(ErrorSerializer, description=str(_ERRORS["409"])),
        },
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Mark a record (or one field) verified against the source, at its current version."""
        body = read_body(SdvBody, request)
        record = _record(request, body["record_type"], body["record_id"])
        mark = services.sdv_mark(user=request.user, record=record, field=body["field"])
        return Response(self.get_serializer(mark).data, status=status.HTTP_201_CREATED)


# --- signatures ------------------------------------------------------------------------------------


class SignatureSerializer(serializers.ModelSerializer):
    subject = serializers.UUIDField(source="subject_id", read_only=True)
    site = serializers.IntegerField(source="site_id", read_only=True)
    signed_by = serializers.SerializerMethodField()
    state = serializers.SerializerMethodField(help_text=_("valid, or invalidated by a later change"))
    changed = serializers.SerializerMethodField(help_text=_("The signed records changed since."))

    class Meta:
        model = Signature
        fields = [
            "id",
            "site",
            "subject",
            "kind",
            "record_type",
            "record_id",
            "meaning",
            "signed_by",
            "signer_name",
            "signed_at",
            "manifest",
            "state",
            "changed",
        ]
        read_only_fields = fields

    def _state(self, signature: Signature) -> Any:
        states = self.context.setdefault("signature_states", {})
        if signature.pk not in states:
            states[signature.pk] = signature_state(signature)
        return states[signature.pk]

    def get_signed_by(self, signature: Signature) -> str | None:
        return _username(signature.signed_by)

    def get_state(self, signature: Signature) -> str:
        return self._state(signature).state

    def get_changed(self, signature: Signature) -> list[str]:
        return list(self._state(signature).changed)


class SignBody(StrictBody):
    kind = strict.StrictChoiceField(choices=SignatureKind.choices)
    record_id = serializers.UUIDField(
        help_text=_("The visit, the subject (casebook) or the screening decision.")
    )
    password = strict.StrictCharField(help_text=_("Your password: every signature re-authenticates."))
    username = strict.StrictCharField(
        required=False, help_text=_("Your user ID: required at the first signature of a session.")
    )


def _session_key(request: Request) -> str:
    session = getattr(request._request, "session", None)
    if session is not None and session.session_key:
        return "session:" + session.session_key
    auth = request.auth
    digest = getattr(auth, "key_digest", None)
    if digest:
        return "token:" + str(digest)
    return ""


class SignatureViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Investigator signatures with their meaning; a later change to signed data invalidates one."""

    serializer_class = SignatureSerializer
    filterset_class = SubjectFilter
    cursor_ordering = ("updated", "id")

    def get_queryset(self) -> Any:
        return scope(Signature.objects.active(), self.request.user).select_related("signed_by")

    @extend_schema(
        request=SignBody,
        responses={
            201: SignatureSerializer,
            409: OpenApiResponse(ErrorSerializer, description=str(_ERRORS["409"])),
        },
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Sign, re-entering the password (and the user ID at the first signature of a session)."""
        body = read_body(SignBody, request)
        model = services.signature_target(body["kind"], body["record_id"])
        record = _record(request, model._meta.label_lower, body["record_id"])
        signature = services.signature_sign(
            user=request.user,
            kind=body["kind"],
            record=record,
            password=body["password"],
            username=body.get("username"),
            session_key=_session_key(request),
            source=request_source(request),
        )
        return Response(self.get_serializer(signature).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[OpenApiParameter("kind", str, enum=SignatureKind.values, required=True)],
        responses=inline_serializer(
            "SignatureMeaning",
            {
                "kind": serializers.CharField(),
                "meaning": serializers.CharField(),
                "username_required": serializers.BooleanField(),
            },
        ),
    )
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def meaning(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The meaning shown before signing, and whether the user ID must be entered too."""
        kind = request.query_params.get("kind", "")
        if kind not in SignatureKind.values:
            raise serializers.ValidationError({"kind": [gettext("One of: visit, casebook, screening.")]})
        return Response(
            {
                "kind": kind,
                "meaning": services.meaning_of(kind),
                "username_required": services.signing_needs_username(request.user, _session_key(request)),
            }
        )


# --- locks -----------------------------------------------------------------------------------------


class LockBody(StrictBody):
    action = strict.StrictChoiceField(choices=[("lock", "lock"), ("unlock", "unlock")])
    record_type = strict.StrictCharField(
        help_text=_('"studies.study", "subjects.subject", "visits.visit" or a form\'s model.')
    )
    record_id = strict.StrictCharField(help_text=_("The record's id (a study's number)."))
    reason = strict.StrictCharField(required=False, allow_blank=True, default="")


class LockAnswer(serializers.Serializer):
    record_type = serializers.CharField()
    record_id = serializers.CharField()
    locked = serializers.BooleanField()
    locked_at = serializers.DateTimeField(allow_null=True)


class DataLockView(APIView):
    """Lock or unlock a form row, a visit, a subject or a study (data managers; unlock needs a reason)."""

    @extend_schema(
        request=LockBody,
        responses={
            200: LockAnswer,
            # Locking a record whose subject or study is already locked is refused as for any write.
            409: OpenApiResponse(ErrorSerializer, description=str(_ERRORS["409"])),
        },
    )
    def post(self, request: Request) -> Response:
        from studies.models import Study

        body = read_body(LockBody, request)
        if body["record_type"] == "studies.study":
            key = body["record_id"]
            if not (key.isascii() and key.isdigit()) or int(key) > 2**31:
                raise serializers.ValidationError({"record_id": [gettext("No such record.")]})
            record: Any = visible_studies(request.user).filter(pk=int(key)).first()
            if record is None:
                raise serializers.ValidationError({"record_id": [gettext("No such record.")]})
        else:
            try:
                pk = uuid.UUID(body["record_id"])
            except ValueError:
                raise serializers.ValidationError({"record_id": [gettext("No such record.")]}) from None
            record = _record(request, body["record_type"], pk)
        if body["action"] == "lock":
            record = services.data_lock(user=request.user, record=record, reason=body["reason"])
        else:
            record = services.data_unlock(user=request.user, record=record, reason=body["reason"])
        label = "studies.study" if isinstance(record, Study) else record._meta.label_lower
        return Response(
            {
                "record_type": label,
                "record_id": str(record.pk),
                "locked": record.locked_at is not None,
                "locked_at": record.locked_at,
            }
        )


# --- the audit-trail export ------------------------------------------------------------------------

EXPORT_ROLES = frozenset(
    {Role.ADMIN, Role.DATA_MANAGER, Role.MONITOR, Role.INVESTIGATOR, Role.SITE_COORDINATOR}
)
STUDY_EXPORT_ROLES = frozenset({Role.ADMIN, Role.DATA_MANAGER})


def may_export(user: Any, study: Any, *, whole_study: bool) -> bool:
    """Inspectors' export: a subject's trail for the study staff who see it (not sponsor viewers,
    who read pseudonymised data); the study's whole trail for its data managers and administrators."""
    if user.is_superuser:
        return True
    from edc.core.models import Membership

    roles = set(
        Membership.objects.filter(user_id=user.pk, study=study, is_active=True).values_list("role", flat=True)
    )
    return bool(roles & (STUDY_EXPORT_ROLES if whole_study else EXPORT_ROLES))


class AuditTrailView(APIView):
    """The audit trail as CSV (streamed): ?subject=<id> for one subject, ?study=<id> for a study."""

    schema_error_codes = ("403", "404")  # a role that does not export; a subject or study not seen

    @extend_schema(
        parameters=[
            OpenApiParameter("subject", OpenApiTypes.UUID, required=False),
            OpenApiParameter("study", OpenApiTypes.INT, required=False),
        ],
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description=_("The CSV."))},
    )
    def get(self, request: Request) -> Any:
        from edc.datamanagement.export import audit_trail_csv

        subject_key, study_key = request.query_params.get("subject"), request.query_params.get("study")
        if bool(subject_key) == bool(study_key):
            raise serializers.ValidationError(
                {"subject": [gettext("Name a subject or a study (one of them).")]}
            )
        subject = None
        if subject_key:
            try:
                pk = uuid.UUID(subject_key)
            except ValueError:
                raise Http404 from None
            subject = scope(Subject.objects.all(), request.user).filter(pk=pk).select_related("study").first()
            if subject is None:
                raise Http404
            study = subject.study
        else:
            key = study_key or ""
            if not (key.isascii() and key.isdigit()) or int(key) > 2**31:
                raise Http404
            study = visible_studies(request.user).filter(pk=int(key)).first()
            if study is None:
                raise Http404
        if not may_export(request.user, study, whole_study=subject is None):
            raise PermissionDenied(gettext("Your role does not export the audit trail."))
        name = f"audit-trail-{subject.screening_number if subject else study.protocol_id}.csv"
        response = StreamingHttpResponse(
            audit_trail_csv(request.user, study=study, subject=subject),
            content_type="text/csv; charset=utf-8",
        )
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


def register(router: Any) -> None:
    router.register("queries", QueryViewSet, basename="query")
    router.register("sdv", SdvViewSet, basename="sdv")
    router.register("signatures", SignatureViewSet, basename="signature")


def urlpatterns_() -> list[Any]:
    from django.urls import path

    return [
        path("data-locks/", DataLockView.as_view(), name="data-locks"),
        path("audit-trail/", AuditTrailView.as_view(), name="audit-trail"),
    ]
