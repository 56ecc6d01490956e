"""REST endpoints of visits, deviations and the overdue report (registered by edc/api/urls.py).

/api/visits/                       the visits of the subjects the user sees (?subject=, ?status=, ?kind=)
/api/visits/{id}/record/           POST {"visit_date", "out_of_window_reason"[, "reason", "version"]}
/api/visits/{id}/miss/             POST {"reason"[, "version"]}
/api/subjects/{id}/visits/         the subject's whole schedule (cancelled visits included), in order
/api/subjects/{id}/visits/unscheduled/  POST {"visit_date", "reason"[, "name"]}
/api/deviations/                   the protocol deviation log: GET, POST (entered by hand), PATCH, void
/api/deviations/{id}/review/       POST {"decision": "confirm"|"dismiss", "severity", "note"}
/api/reports/overdue-visits/       the overdue report (JSON, or CSV with ?format=csv / Accept: text/csv)
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from collections.abc import Mapping
from typing import Any, cast

import django_filters
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import renderers, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import BaseRouter
from rest_framework.settings import api_settings

from edc.api import fields as strict
from edc.api.fields import StrictPrimaryKeyRelatedField
from edc.api.serializers import StrictModelSerializer
from edc.api.viewsets import AuditedReadViewSet, AuditedViewSet
from edc.core.scoping import scope, visible_sites, visible_studies
from edc.core.services import ChangeReason
from edc.subjects.api import StrictBody, read_body
from edc.subjects.models import Subject
from edc.visits import reports, services
from edc.visits.models import (
    Deviation,
    DeviationCategory,
    DeviationSeverity,
    DeviationStatus,
    Visit,
    VisitStatus,
)
from studies.models import Site, VisitKind


def visit_state(visit: Visit) -> str:
    """Early / on time / late for a done visit; upcoming / due / overdue for a planned one, judged by
    the site's today; empty for a missed or cancelled visit."""
    if visit.status == VisitStatus.DONE:
        return services.visit_timing(visit)
    if visit.status != VisitStatus.PLANNED:
        return ""
    today = visit.site.today()
    if visit.window_end is not None and visit.window_end < today:
        return "overdue"
    if visit.window_start is not None and visit.window_start > today:
        return "upcoming"
    return "due"


class VisitSerializer(StrictModelSerializer):
    timing = serializers.SerializerMethodField(
        help_text="done: early, on_time, late; planned: upcoming, due, overdue (the site's date)"
    )

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
            "timing",
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

    def get_timing(self, visit: Visit) -> str:
        return visit_state(visit)


class ScheduleRowSerializer(serializers.ModelSerializer):
    """A subject's schedule as `schedule_preview` prints it, with the status and visit date."""

    target = serializers.DateField(source="target_date", read_only=True)
    timing = serializers.SerializerMethodField()

    class Meta:
        model = Visit
        fields = [
            "id",
            "code",
            "name",
            "kind",
            "target",
            "window_start",
            "window_end",
            "status",
            "visit_date",
            "timing",
            "missed_reason",
            "cancelled_reason",
            "version",
        ]
        read_only_fields = fields

    def get_timing(self, visit: Visit) -> str:
        return visit_state(visit)


class RecordBody(StrictBody):
    visit_date = strict.StrictDateField()
    out_of_window_reason = strict.StrictCharField(
        required=False, allow_blank=True, default="", max_length=2000
    )
    reason = strict.StrictCharField(
        required=False, allow_blank=True, default="", max_length=2000, help_text="Why, when re-recording."
    )


class MissBody(StrictBody):
    reason = strict.StrictCharField(max_length=2000, allow_blank=True)


class UnscheduledBody(StrictBody):
    visit_date = strict.StrictDateField()
    reason = strict.StrictCharField(max_length=2000, allow_blank=True)
    name = strict.StrictCharField(max_length=200, required=False, allow_blank=True, default="")


class VisitFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=VisitStatus.choices)

    class Meta:
        model = Visit
        fields = ["subject", "site", "status", "kind", "code"]


def _optional_version(view: AuditedReadViewSet, request: Request) -> int | None:
    stated = "If-Match" in request.headers or (
        isinstance(request.data, Mapping) and "version" in request.data
    )
    return view._based_on_version(request) if stated else None


class VisitViewSet(AuditedReadViewSet):
    queryset = Visit.objects.select_related("site", "subject", "study").order_by(
        "subject_id", "target_date", "order", "code"
    )
    serializer_class = VisitSerializer
    filterset_class = VisitFilter

    @extend_schema(request=RecordBody, responses=VisitSerializer)
    @action(detail=True, methods=["post"])
    def record(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The visit took place: its date (the site's); outside the window a reason is required and a
        candidate protocol deviation is raised for review (one per visit)."""
        visit = self.get_object()
        version = _optional_version(self, request)
        body = read_body(RecordBody, request, extra_keys=("version",))
        done = services.visit_record(
            user=request.user,
            visit=visit,
            visit_date=body["visit_date"],
            out_of_window_reason=body["out_of_window_reason"],
            reason=body["reason"],
            version=version,
        )
        return self._record_response(done)

    @extend_schema(request=MissBody, responses=VisitSerializer)
    @action(detail=True, methods=["post"])
    def miss(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The visit did not take place: the reason is required."""
        visit = self.get_object()
        version = _optional_version(self, request)
        body = read_body(MissBody, request, extra_keys=("version",))
        missed = services.visit_miss(user=request.user, visit=visit, reason=body["reason"], version=version)
        return self._record_response(missed)


def _subject(request: Request, value: str) -> Subject:
    try:
        pk = uuid.UUID(str(value))
    except ValueError:
        raise Http404 from None
    return get_object_or_404(scope(Subject.objects.select_related("study", "site"), request.user), pk=pk)


class SubjectVisitsViewSet(viewsets.GenericViewSet):
    """A subject's schedule: every visit, cancelled ones with their status, in schedule order."""

    serializer_class = ScheduleRowSerializer
    pagination_class = None
    filter_backends: list[Any] = []  # the whole schedule: no list filter is offered or read
    queryset = Visit.objects.none()

    @extend_schema(responses=ScheduleRowSerializer(many=True))
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        subject = _subject(request, kwargs["subject_pk"])
        rows = (
            Visit.objects.active()
            .filter(subject=subject)
            .select_related("site")
            .order_by("target_date", "order", "code")
        )
        return Response(ScheduleRowSerializer(rows, many=True).data)

    @extend_schema(request=UnscheduledBody, responses={201: VisitSerializer})
    @action(detail=False, methods=["post"])
    def unscheduled(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """An unscheduled visit, done on its date, with why it took place."""
        subject = _subject(request, kwargs["subject_pk"])
        body = read_body(UnscheduledBody, request)
        visit = services.visit_unscheduled_create(
            user=request.user,
            subject=subject,
            visit_date=body["visit_date"],
            reason=body["reason"],
            name=body["name"],
        )
        return Response(
            VisitSerializer(visit).data,
            status=status.HTTP_201_CREATED,
            headers={"ETag": f'"{visit.version}"'},
        )


# --- deviations ----------------------------------------------------------------------------------


class DeviationSerializer(StrictModelSerializer):
    site = StrictPrimaryKeyRelatedField(queryset=Site.objects.none())
    subject = StrictPrimaryKeyRelatedField(queryset=Subject.objects.none(), required=False, allow_null=True)
    visit = StrictPrimaryKeyRelatedField(queryset=Visit.objects.none(), required=False, allow_null=True)

    class Meta:
        model = Deviation
        fields = [
            "id",
            "study",
            "site",
            "subject",
            "visit",
            "date",
            "category",
            "severity",
            "status",
            "source",
            "description",
            "corrective_action",
            "reported_to_ethics",
            "ethics_reported_date",
            "review_note",
            "reviewed_by",
            "reviewed_at",
            "version",
            "created",
            "updated",
            "voided_at",
            "void_reason",
        ]
        read_only_fields = [
            "id",
            "study",
            "status",
            "source",
            "review_note",
            "reviewed_by",
            "reviewed_at",
            "version",
            "created",
            "updated",
            "voided_at",
            "void_reason",
        ]
        validators: list[Any] = []

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if user is not None:
            # Related fields (StrictPrimaryKeyRelatedField) have a queryset; the stubs type Field.
            cast(Any, fields["site"]).queryset = visible_sites(user)
            cast(Any, fields["subject"]).queryset = scope(Subject.objects.all(), user)
            cast(Any, fields["visit"]).queryset = scope(Visit.objects.all(), user)
        if self.instance is not None:
            for name in ("site", "visit"):
                fields[name].read_only = True
        return fields


class ReviewBody(StrictBody):
    decision = serializers.ChoiceField(choices=["confirm", "dismiss"])
    severity = serializers.ChoiceField(choices=DeviationSeverity.choices, required=False, allow_blank=True)
    note = strict.StrictCharField(required=False, allow_blank=True, default="", max_length=4000)
    corrective_action = strict.StrictCharField(required=False, allow_blank=True, max_length=4000)


class DeviationFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=DeviationStatus.choices)
    category = django_filters.MultipleChoiceFilter(choices=DeviationCategory.choices)

    class Meta:
        model = Deviation
        fields = ["study", "site", "subject", "visit", "status", "category", "severity", "source"]


class DeviationViewSet(AuditedViewSet):
    queryset = Deviation.objects.select_related("site", "subject", "visit", "study").order_by("-date", "id")
    serializer_class = DeviationSerializer
    filterset_class = DeviationFilter

    def create_record(self, data: dict[str, Any]) -> Deviation:
        return services.deviation_create(user=self.request.user, **data)

    def update_record(
        self, instance: Any, data: dict[str, Any], reason: ChangeReason, version: int
    ) -> Deviation:
        return services.deviation_update(
            user=self.request.user, deviation=instance, reason=reason, version=version, **data
        )

    def void_record(self, instance: Any, reason: ChangeReason, version: int) -> Deviation:
        from edc.core.services import record_void
        from edc.subjects.access import require_write

        require_write(self.request.user, instance.site)
        return record_void(instance, user=self.request.user, reason=reason, version=version)

    @extend_schema(request=ReviewBody, responses=DeviationSerializer)
    @action(detail=True, methods=["post"])
    def review(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """A candidate confirmed as major or minor, or dismissed with why."""
        deviation = self.get_object()
        version = _optional_version(self, request)
        body = read_body(ReviewBody, request, extra_keys=("version",))
        reviewed = services.deviation_review(
            user=request.user,
            deviation=deviation,
            decision=body["decision"],
            severity=body.get("severity") or "",
            note=body["note"],
            corrective_action=body.get("corrective_action"),
            version=version,
        )
        return self._record_response(reviewed)


# --- the overdue report --------------------------------------------------------------------------

REPORT_PAGE = 100
REPORT_MAX_PAGE = 1000


class ReportQuery(StrictBody):
    study = serializers.IntegerField(required=False, min_value=1)
    site = serializers.IntegerField(required=False, min_value=1)
    kind = serializers.ChoiceField(choices=VisitKind.choices, required=False)
    as_of = serializers.DateField(required=False)
    min_days_overdue = serializers.IntegerField(required=False, min_value=1, max_value=36500, default=1)
    max_days_overdue = serializers.IntegerField(required=False, min_value=1, max_value=36500)
    due_days = serializers.IntegerField(required=False, min_value=0, max_value=3650, default=0)
    offset = serializers.IntegerField(required=False, min_value=0, max_value=10_000_000, default=0)
    limit = serializers.IntegerField(
        required=False, min_value=1, max_value=REPORT_MAX_PAGE, default=REPORT_PAGE
    )
    format = serializers.ChoiceField(choices=["json", "csv"], required=False)


class OverdueVisitSerializer(serializers.Serializer):
    """One row of the overdue report (the schema's description of it)."""

    visit_id = serializers.UUIDField()
    study = serializers.CharField()
    site = serializers.CharField()
    subject_id = serializers.UUIDField()
    subject = serializers.CharField()
    code = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.CharField()
    target_date = serializers.DateField(allow_null=True)
    window_start = serializers.DateField(allow_null=True)
    window_end = serializers.DateField(allow_null=True)
    as_of = serializers.DateField()
    days_overdue = serializers.IntegerField()
    state = serializers.ChoiceField(choices=[reports.OVERDUE, reports.DUE])


@extend_schema_serializer(many=False)  # one page object, though the action is the viewset's list
class OverdueVisitsPageSerializer(serializers.Serializer):
    results = OverdueVisitSerializer(many=True)
    offset = serializers.IntegerField()
    limit = serializers.IntegerField()
    next_offset = serializers.IntegerField(allow_null=True)


def rows_as_csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(reports.COLUMNS), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in row.items()})
    return out.getvalue()


class CsvRenderer(renderers.BaseRenderer):
    """The report's rows as CSV (?format=csv or Accept: text/csv); errors stay JSON."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> Any:
        if isinstance(data, dict) and "results" in data:
            return rows_as_csv(data["results"]).encode("utf-8")
        return renderers.JSONRenderer().render(data)


class OverdueReportViewSet(viewsets.GenericViewSet):
    """Open visits whose window has closed (as of each site's today, or `as_of`), and with `due_days`
    the visits due in the next days; at the user's sites. One query per page."""

    pagination_class = None
    queryset = Visit.objects.none()
    renderer_classes = [*cast(Any, api_settings).DEFAULT_RENDERER_CLASSES, CsvRenderer]
    schema_error_codes = ("404",)  # ?study= or ?site= naming one the user does not see

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        # An error in CSV would be unreadable: errors answer JSON whatever was asked.
        renderer = getattr(request, "accepted_renderer", None)
        if response.status_code >= 400 and renderer is not None and renderer.format == "csv":
            request.accepted_renderer = renderers.JSONRenderer()
            request.accepted_media_type = "application/json"
        return super().finalize_response(request, response, *args, **kwargs)

    @extend_schema(parameters=[ReportQuery], responses=OverdueVisitsPageSerializer)
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        params = {k: v for k, v in request.query_params.items()}
        query = ReportQuery(data=params, context={"request": request})
        query.is_valid(raise_exception=True)
        q = query.validated_data
        if q.get("max_days_overdue") is not None and q["max_days_overdue"] < q["min_days_overdue"]:
            raise serializers.ValidationError(
                {"max_days_overdue": [gettext("Smaller than min_days_overdue.")]}
            )
        study = site = None
        if q.get("study") is not None:
            study = get_object_or_404(visible_studies(request.user), pk=q["study"])
        if q.get("site") is not None:
            site = get_object_or_404(visible_sites(request.user), pk=q["site"])
        filters = reports.ReportFilters(
            study=study,
            site=site,
            kind=q.get("kind", ""),
            min_days_overdue=q["min_days_overdue"],
            max_days_overdue=q.get("max_days_overdue"),
            as_of=q.get("as_of"),
            due_days=q["due_days"],
        )
        rows, more = reports.overdue_visits(request.user, filters, offset=q["offset"], limit=q["limit"])
        next_offset = q["offset"] + q["limit"] if more else None
        response = Response(
            {"results": rows, "offset": q["offset"], "limit": q["limit"], "next_offset": next_offset}
        )
        if request.accepted_renderer.format == "csv":
            response["Content-Disposition"] = 'attachment; filename="overdue-visits.csv"'
            if next_offset is not None:
                response["X-Next-Offset"] = str(next_offset)
        return response


def register(router: BaseRouter) -> None:
    router.register("visits", VisitViewSet, basename="visit")
    router.register(
        r"subjects/(?P<subject_pk>[^/.]+)/visits", SubjectVisitsViewSet, basename="subject-visits"
    )
    router.register("deviations", DeviationViewSet, basename="deviation")
    router.register("reports/overdue-visits", OverdueReportViewSet, basename="overdue-visits")
