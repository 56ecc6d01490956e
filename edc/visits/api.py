"""REST endpoints of visits (registered by edc/api/urls.py).

/api/visits/   the visits of the subjects the user sees (?subject=, ?status=, ?kind=); read-only
               here: recording, missing and the schedule's own endpoints come with the visits issue.
"""

from __future__ import annotations

from typing import Any

import django_filters
from rest_framework.routers import BaseRouter

from edc.api.serializers import StrictModelSerializer
from edc.api.viewsets import AuditedViewSet
from edc.visits.models import Visit, VisitStatus


class VisitSerializer(StrictModelSerializer):
    class Meta:
        model = Visit
        fields = [
            "id",
            "study",
            "site",
            "subject",
            "definition",
            "code",
            "name",
            "kind",
            "series",
            "occurrence",
            "number",
            "anchor_visit_code",
            "target_date",
            "window_start",
            "window_end",
            "status",
            "visit_date",
            "out_of_window_reason",
            "missed_reason",
            "cancelled_reason",
            "version",
            "created",
            "updated",
            "voided_at",
            "void_reason",
        ]
        read_only_fields = fields
        validators: list[Any] = []


class VisitFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=VisitStatus.choices)

    class Meta:
        model = Visit
        fields = ["subject", "site", "status", "kind", "code"]


class VisitViewSet(AuditedViewSet):
    queryset = Visit.objects.select_related("site").order_by("subject_id", "target_date", "order", "code")
    serializer_class = VisitSerializer
    filterset_class = VisitFilter


def register(router: BaseRouter) -> None:
    router.register("visits", VisitViewSet, basename="visit")
