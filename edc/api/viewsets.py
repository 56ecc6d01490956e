"""The base of every write endpoint on clinical data: scoped reads, service writes, reasons, voiding."""

from __future__ import annotations

from typing import Any

from django.db import models
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import MethodNotAllowed
from rest_framework.request import Request
from rest_framework.response import Response

from edc.api.permissions import SiteWritePermission
from edc.api.serializers import ChangeReasonSerializer, HistoryEntrySerializer
from edc.core.scoping import scope
from edc.core.selectors import history_for
from edc.core.services import ChangeReason


class AuditedViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Subclasses set `queryset` (with select_related) and implement the *_record writes via services."""

    permission_classes = [*viewsets.GenericViewSet.permission_classes, SiteWritePermission]

    def get_queryset(self) -> models.QuerySet:
        queryset = scope(super().get_queryset(), self.request.user)
        if self.action == "list" and self.request.query_params.get("include_voided") not in {"1", "true"}:
            queryset = queryset.active()
        return queryset

    # Services, one per write; subclasses call their app's services.
    def create_record(self, data: dict[str, Any]) -> models.Model:
        raise MethodNotAllowed("POST")

    def update_record(
        self, instance: models.Model, data: dict[str, Any], reason: ChangeReason
    ) -> models.Model:
        raise MethodNotAllowed("PATCH")

    def void_record(self, instance: models.Model, reason: ChangeReason) -> models.Model:
        raise MethodNotAllowed("POST")

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = self.create_record(dict(serializer.validated_data))

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        partial = kwargs.pop("partial", False)
        instance = self.get_object()
        reason = self._reason(request)
        serializer = self.get_serializer(instance, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        changed = self.update_record(instance, dict(serializer.validated_data), reason)
        return Response(self.get_serializer(changed).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        raise MethodNotAllowed("DELETE", detail="Records are never deleted: POST to .../void/ with a reason.")

    @extend_schema(request=ChangeReasonSerializer)
    @action(detail=True, methods=["post"])
    def void(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        instance = self.get_object()
        voided = self.void_record(instance, self._reason(request))
        return Response(self.get_serializer(voided).data, status=status.HTTP_200_OK)

    @extend_schema(responses=HistoryEntrySerializer(many=True))
    @action(detail=True, methods=["get"])
    def history(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        instance = self.get_object()
        entries = history_for(instance, request.user)
        return Response(HistoryEntrySerializer(entries, many=True).data)

    @staticmethod
    def _reason(request: Request) -> ChangeReason:
        serializer = ChangeReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return ChangeReason(
            code=serializer.validated_data["change_reason_code"],
            text=serializer.validated_data["change_reason"],
        )
