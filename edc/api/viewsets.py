"""The base of every endpoint on clinical data: scoped reads, service writes, reasons, versions, voiding.

The version contract (docs/audit.md):
- Every record carries `version`; a read answers it in the body and as `ETag: "<version>"`.
- A change (PATCH, PUT) and a void state the version they are based on, as `If-Match: "<version>"`
  or as `version` in the body (both: they must agree). Without one: 428 naming `version`.
- A stale version answers 409 `stale`, with the stored record under `current` and its ETag;
  nothing is written.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, cast

from django.db import models
from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import MethodNotAllowed
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings

from edc.api.errors import error_response
from edc.api.filters import VoidedFilter
from edc.api.permissions import SiteWritePermission
from edc.api.serializers import (
    WRITE_META_KEYS,
    ChangeReasonSerializer,
    HistoryEntrySerializer,
    VoidSerializer,
)
from edc.core.exceptions import StaleRecord
from edc.core.models import AuditedQuerySet, Membership, Role
from edc.core.scoping import scope
from edc.core.selectors import history_for
from edc.core.services import ChangeReason

_ETAG = re.compile(r'\s*"([0-9]{1,10})"\s*', re.ASCII)


def etag(instance: Any) -> str:
    return f'"{instance.version}"'


class VersionRequired(Exception):
    """A change that states no version (HTTP 428)."""


class AuditedReadViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Audited records read (list, retrieve, history), scoped, with the version rules for the writes a
    subclass adds as its own actions (visits: record, miss). No create, change or void is routed, so
    the schema offers none (AuditedViewSet adds them).

    Lists page by cursor in `cursor_ordering` and take updated_since and include_voided; a subclass
    that sets `filter_backends` keeps VoidedFilter in it (else voided records stay in its lists).
    """

    permission_classes = [*viewsets.GenericViewSet.permission_classes, SiteWritePermission]
    # Lists: the default filters (django-filter's filterset_class, updated_since) and include_voided.
    filter_backends: list[Any] = [*api_settings.DEFAULT_FILTER_BACKENDS, VoidedFilter]
    # Cursor pages in the order rows are written (edc/api/pagination.py): stable under inserts.
    cursor_ordering = ("updated", "id")

    def get_queryset(self) -> models.QuerySet:
        queryset = scope(super().get_queryset(), self.request.user)
        user = self.request.user
        if getattr(queryset.model, "identifying_fields", ()) and not user.is_superuser:
            # Whether the reader may see who the person is (any role but sponsor viewer in the
            # record's study), in the page's own query: pseudonymised lists cost no query more.
            queryset = queryset.annotate(
                _edc_identified=models.Exists(
                    Membership.objects.filter(
                        user_id=user.pk,  # type: ignore[misc]  # a signed-in user here
                        is_active=True,
                        study_id=models.OuterRef("study_id"),
                    ).exclude(role=Role.SPONSOR_VIEWER)
                )
            )
        return cast(AuditedQuerySet, queryset)

    def get_serializer_context(self) -> dict[str, Any]:
        context = dict(super().get_serializer_context())
        context["extra_write_keys"] = (
            WRITE_META_KEYS if self.action in ("update", "partial_update") else frozenset()
        )
        return context

    def _record_response(self, instance: Any, status_code: int = status.HTTP_200_OK) -> Response:
        return Response(
            self.get_serializer(instance).data, status=status_code, headers={"ETag": etag(instance)}
        )

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._record_response(self.get_object())

    def http_method_not_allowed(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        # DELETE is not routed (so neither the schema nor `Allow` offers it); it is answered in words.
        if request.method == "DELETE":
            raise MethodNotAllowed(
                "DELETE", detail=gettext("Records are never deleted: POST to .../void/ with a reason.")
            )
        return super().http_method_not_allowed(request, *args, **kwargs)

    # The whole trail of one record as a bare array, newest first: not paged, not filtered (each
    # entry is computed against the row before it; a record's trail is as long as its changes).
    @extend_schema(responses=HistoryEntrySerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def history(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        instance = self.get_object()
        entries = history_for(instance, request.user)
        return Response(HistoryEntrySerializer(entries, many=True).data)

    # --- reasons and versions ---------------------------------------------------------------------

    @staticmethod
    def _reason(data: Mapping[str, Any]) -> ChangeReason:
        # The same rule as the admin form's (ChangeReason.from_input): words required, code optional.
        return ChangeReason.from_input(data.get("change_reason_code"), data.get("change_reason"))

    @staticmethod
    def _based_on_version(request: Request) -> int:
        """The version a change is based on, from If-Match or the body's `version` (400/428 otherwise)."""
        header = request.headers.get("If-Match")
        from_header = None
        if header is not None:
            match = _ETAG.fullmatch(header)
            if not match:
                raise serializers.ValidationError(
                    {"If-Match": [gettext('Send the ETag of the record you read, e.g. If-Match: "3".')]}
                )
            from_header = int(match.group(1))
        body = request.data.get("version") if isinstance(request.data, Mapping) else None
        from_body = None
        if body is not None:
            try:
                from_body = ChangeReasonSerializer().fields["version"].run_validation(body)
            except serializers.ValidationError as exc:
                raise serializers.ValidationError({"version": exc.detail}) from exc
        if from_header is not None and from_body is not None and from_header != from_body:
            raise serializers.ValidationError(
                {"version": [gettext("The body's version and If-Match name different versions.")]}
            )
        version = from_header if from_header is not None else from_body
        if version is None:
            raise VersionRequired()
        return version

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, VersionRequired):
            message = gettext(
                'State the version your change is based on: If-Match: "<version>" or "version" in the body.'
            )
            response = error_response(
                status.HTTP_428_PRECONDITION_REQUIRED,
                "version_required",
                message,
                {"version": [message]},
            )
        elif isinstance(exc, StaleRecord):
            response = error_response(
                status.HTTP_409_CONFLICT, "stale", str(exc), current=self.get_serializer(exc.current).data
            )
            response["ETag"] = etag(exc.current)
        else:
            return super().handle_exception(exc)
        response.exception = True  # as APIView.handle_exception marks its answers
        return response


class AuditedViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, AuditedReadViewSet):
    """Subclasses set `queryset` (with select_related) and implement the *_record writes via services:
    create (POST), change (PUT/PATCH with the version and a reason) and void (POST .../void/)."""

    # Services, one per write; subclasses call their app's services (the admin calls the same ones).
    def create_record(self, data: dict[str, Any]) -> models.Model:
        raise MethodNotAllowed("POST")

    def update_record(
        self, instance: Any, data: dict[str, Any], reason: ChangeReason, version: int
    ) -> models.Model:
        raise MethodNotAllowed("PATCH")

    def void_record(self, instance: Any, reason: ChangeReason, version: int) -> models.Model:
        raise MethodNotAllowed("POST")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self._record_response(
            self.create_record(dict(serializer.validated_data)), status.HTTP_201_CREATED
        )

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        partial = kwargs.pop("partial", False)
        instance = self.get_object()
        version = self._based_on_version(request)
        meta = ChangeReasonSerializer(data=request.data)
        serializer = self.get_serializer(instance, data=request.data, partial=partial)
        meta_valid, record_valid = meta.is_valid(), serializer.is_valid()
        if not (meta_valid and record_valid):
            raise serializers.ValidationError({**dict(serializer.errors), **dict(meta.errors)})
        reason = self._reason(meta.validated_data)
        changed = self.update_record(instance, dict(serializer.validated_data), reason, version)
        return self._record_response(changed)

    @extend_schema(request=VoidSerializer)
    @action(detail=True, methods=["post"])
    def void(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        instance = self.get_object()
        version = self._based_on_version(request)
        meta = VoidSerializer(data=request.data)
        meta.is_valid(raise_exception=True)
        voided = self.void_record(instance, self._reason(meta.validated_data), version)
        return self._record_response(voided)
