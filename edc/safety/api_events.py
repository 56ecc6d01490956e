"""Adverse events in the API (registered through edc/safety/api.py):

/api/adverse-events/                       the AE log: list (filters below), create, retrieve, change
                                           (PATCH with the version and a reason), void, history
/api/adverse-events/{id}/grades/           POST a new grade from a date on (the grade history)
/api/adverse-events/{id}/sae-reports/      POST the initial SAE report or a follow-up (the SAE's versions)
/api/ae-proposals/                         AEs proposed from lab values; POST .../confirm/ or .../dismiss/
/api/reports/sae/                          what is due now on the SAE clocks, in each site's time zone
/api/studies/{id}/safety-summary/          the safety tables (JSON, or CSV with ?format=csv)

List filters of /api/adverse-events/: study, site, subject, grade (worst grade), grade_min, serious,
term, soc, related (to any agent), immune_related, susar, onset_after, onset_before. Every queryset
starts from the scoped helpers; every write calls edc/safety/services.py, the admin's services too.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import django_filters
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import BaseRouter
from rest_framework.views import APIView

from edc.api import fields as strict
from edc.api.fields import StrictPrimaryKeyRelatedField
from edc.api.filters import BooleanFilter
from edc.api.serializers import StrictModelSerializer
from edc.api.viewsets import AuditedViewSet, etag
from edc.core.scoping import scope, visible_studies
from edc.core.services import ChangeReason
from edc.safety import sae as clocks
from edc.safety import services
from edc.safety.models import (
    RELATED_CODES,
    SERIOUSNESS_FIELDS,
    ActionTaken,
    AdverseEvent,
    CtcaeTerm,
    LabAeProposal,
    Outcome,
    Relatedness,
    SaeReport,
)
from edc.safety.reports import sae_due_now, safety_summary, summary_csv_rows
from edc.safety.selectors import adverse_events
from edc.subjects.models import Subject
from edc.visits.models import Visit


def _study_pk(value: str) -> int:
    if not (value.isascii() and value.isdigit()) or len(value) > 18:
        from django.http import Http404

        raise Http404
    return int(value)


# --- serializers -----------------------------------------------------------------------------------


class GradeEntrySerializer(serializers.Serializer):
    on = strict.StrictDateField()
    grade = strict.StrictIntegerField(min_value=1, max_value=5)
    text = serializers.CharField(read_only=True, help_text=_("The grade's CTCAE text for the term."))


class AttributionSerializer(serializers.Serializer):
    agent = strict.StrictCharField(max_length=200, help_text=_("The study agent (or radiotherapy) received."))
    relatedness = strict.StrictChoiceField(choices=Relatedness.choices)
    action = strict.StrictChoiceField(choices=ActionTaken.choices, required=False, default=ActionTaken.NONE)
    expected = strict.StrictBooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text=_("Listed in the agent's reference safety information; null: not assessed yet."),
    )


class SaeReportSerializer(serializers.ModelSerializer):
    kind = serializers.SerializerMethodField()

    class Meta:
        model = SaeReport
        fields = ["id", "sequence", "kind", "reported_at", "narrative", "snapshot", "created"]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=["initial", "follow_up"]))
    def get_kind(self, report: SaeReport) -> str:
        return report.kind


class ClockSerializer(serializers.Serializer):
    clock = serializers.CharField()
    due_at = serializers.DateTimeField()
    due_date = serializers.DateField()
    time_zone = serializers.CharField()
    reported_at = serializers.DateTimeField(allow_null=True)
    status = serializers.CharField()


class TermField(strict.StrictCharField):
    """The CTCAE term by its exact name (the study's CTCAE version), as /api/ctcae/terms/ lists them."""


class AdverseEventSerializer(StrictModelSerializer):
    subject = StrictPrimaryKeyRelatedField(queryset=Subject.objects.none())
    visit = StrictPrimaryKeyRelatedField(queryset=Visit.objects.none(), required=False)
    term = TermField(max_length=200, help_text=_("The CTCAE term (or the SOC's 'Other, specify' term)."))
    soc = serializers.CharField(source="ctcae_term.soc", read_only=True)
    ctcae_version = serializers.CharField(source="ctcae_term.version", read_only=True)
    grade = strict.StrictIntegerField(
        min_value=1, max_value=5, write_only=True, required=False, help_text=_("The grade at onset.")
    )
    grades = GradeEntrySerializer(
        many=True, required=False, help_text=_("The grade history; the first at onset.")
    )
    worst_grade = serializers.SerializerMethodField()
    worst_grade_text = serializers.SerializerMethodField()
    serious = strict.StrictBooleanField(required=False)
    seriousness = serializers.ListField(
        child=strict.StrictChoiceField(choices=list(SERIOUSNESS_FIELDS)), required=False
    )
    immune_related = strict.StrictBooleanField(required=False, allow_null=True)
    attributions = AttributionSerializer(many=True, required=False)
    outcome = strict.StrictChoiceField(choices=Outcome.choices)
    ongoing = serializers.SerializerMethodField()
    sae_reports = SaeReportSerializer(many=True, read_only=True)
    sae_clocks = serializers.SerializerMethodField()

    class Meta:
        model = AdverseEvent
        fields = [
            "id", "study", "site", "subject", "visit", "term", "meddra_code", "soc", "ctcae_version",
            "verbatim", "onset", "resolution", "ongoing", "grade", "grades", "worst_grade",
            "worst_grade_text",
            "serious", "seriousness", "site_aware_at", "reported_to_sponsor_at", "immune_related",
            "attributions", "relatedness", "action_taken", "outcome", "treatment_given", "death_date",
            "collection_category", "after_period", "treatment_emergent", "susar", "sponsor_aware_at",
            "susar_initial_reported_at", "susar_full_reported_at", "sae_reports", "sae_clocks",
            "form_version", "version", "created", "updated", "voided_at", "void_reason",
        ]  # fmt: skip
        read_only_fields = [
            "study", "site", "meddra_code", "relatedness", "action_taken", "reported_to_sponsor_at",
            "collection_category", "after_period", "treatment_emergent", "susar", "form_version",
            "version", "created", "updated", "voided_at", "void_reason",
        ]  # fmt: skip
        validators: list[Any] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["subject"].queryset = scope(Subject.objects.active(), request.user)  # type: ignore[attr-defined]
            self.fields["visit"].queryset = scope(Visit.objects.active(), request.user)  # type: ignore[attr-defined]
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            self.fields["subject"].read_only = True
            self.fields["grade"].read_only = True

    def to_representation(self, instance: AdverseEvent) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["term"] = instance.term
        data["serious"] = instance.is_serious
        data["seriousness"] = sorted(instance.seriousness())
        data["immune_related"] = {"Y": True, "N": False}.get(instance.immune_related)
        grades = [g for g in instance.grades.all() if g.voided_at is None]
        data["grades"] = [
            {"on": g.on.isoformat(), "grade": g.grade, "text": instance.ctcae_term.grade_text(g.grade)}
            for g in sorted(grades, key=lambda g: g.on)
        ]
        data["attributions"] = [
            {"agent": a.agent, "relatedness": a.relatedness, "action": a.action, "expected": a.expected}
            for a in instance.attributions.all()
            if a.voided_at is None
        ]
        return data

    @extend_schema_field(serializers.IntegerField(min_value=1, max_value=5))
    def get_worst_grade(self, ae: AdverseEvent) -> int:
        return int(ae.worst_grade)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_worst_grade_text(self, ae: AdverseEvent) -> str | None:
        return ae.worst_grade_text()

    @extend_schema_field(serializers.BooleanField())
    def get_ongoing(self, ae: AdverseEvent) -> bool:
        return ae.resolution is None and ae.outcome != Outcome.FATAL

    @extend_schema_field(ClockSerializer(many=True))
    def get_sae_clocks(self, ae: AdverseEvent) -> list[dict[str, Any]]:
        if not ae.is_serious or ae.site_aware_at is None:
            return []
        found = clocks.sae_clocks(services.sae_clock_input(ae), now=timezone.now())
        return [
            {
                "clock": c.clock,
                "due_at": c.due_at,
                "due_date": c.due_date,
                "time_zone": c.time_zone,
                "reported_at": c.reported_at,
                "status": c.status,
            }
            for c in found
        ]

    def validate_term(self, value: str) -> str:
        return value.strip()


def _term_for(subject: Subject, name: str) -> CtcaeTerm:
    found = CtcaeTerm.objects.filter(version=subject.study.ctcae_version, term=name).first()
    if found is None:
        raise serializers.ValidationError(
            {
                "term": [
                    gettext("{term!r} is no CTCAE v{version} term (search /api/ctcae/terms/).").format(
                        term=name, version=subject.study.ctcae_version
                    )
                ]
            }
        )
    return found


def _service_values(data: dict[str, Any]) -> dict[str, Any]:
    values = dict(data)
    if "grades" in values:
        values["grades"] = [services.GradeIn(g["on"], g["grade"]) for g in values["grades"]]
    if "attributions" in values:
        values["attributions"] = [
            services.AttributionIn(a["agent"], a["relatedness"], a.get("action", "NONE"), a.get("expected"))
            for a in values["attributions"]
        ]
    return values


class AdverseEventFilter(django_filters.FilterSet):
    grade = django_filters.NumberFilter(method="by_grade", label=_("worst grade"))
    grade_min = django_filters.NumberFilter(method="by_grade_min", label=_("worst grade at least"))
    serious = BooleanFilter(method="by_serious")
    term = django_filters.CharFilter(field_name="term", lookup_expr="iexact")
    soc = django_filters.CharFilter(field_name="ctcae_term__soc", lookup_expr="iexact")
    related = BooleanFilter(method="by_related")
    immune_related = BooleanFilter(method="by_immune")
    susar = BooleanFilter(field_name="susar")
    onset_after = django_filters.DateFilter(field_name="onset", lookup_expr="gte")
    onset_before = django_filters.DateFilter(field_name="onset", lookup_expr="lte")

    class Meta:
        model = AdverseEvent
        fields = ["study", "site", "subject"]

    def by_grade(self, queryset: QuerySet, name: str, value: Any) -> QuerySet:
        return queryset.filter(worst_grade=str(int(value)))

    def by_grade_min(self, queryset: QuerySet, name: str, value: Any) -> QuerySet:
        return queryset.filter(worst_grade__in=[str(g) for g in range(max(1, int(value)), 6)])

    def by_serious(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        return queryset if value is None else queryset.filter(serious="Y" if value else "N")

    def by_related(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return queryset
        related = Q(relatedness__in=RELATED_CODES)
        return queryset.filter(related) if value else queryset.exclude(related)

    def by_immune(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        return queryset if value is None else queryset.filter(immune_related="Y" if value else "N")


class GradeAddSerializer(serializers.Serializer):
    on = strict.StrictDateField()
    grade = strict.StrictIntegerField(min_value=1, max_value=5)
    change_reason = strict.StrictCharField()
    change_reason_code = strict.StrictCharField(required=False)
    version = strict.StrictIntegerField(required=False, min_value=1)


class SaeReportInSerializer(serializers.Serializer):
    reported_at = serializers.DateTimeField()
    narrative = strict.StrictCharField(required=False, allow_blank=True, default="")


class AdverseEventViewSet(AuditedViewSet):
    """The AE log of the subjects you see."""

    queryset = adverse_events().order_by("-onset", "id")
    serializer_class = AdverseEventSerializer
    filterset_class = AdverseEventFilter

    def create_record(self, data: dict[str, Any]) -> AdverseEvent:
        subject = data.pop("subject")
        values = _service_values(data)
        values["ctcae_term"] = _term_for(subject, values.pop("term"))
        if "outcome" not in values:
            raise serializers.ValidationError({"outcome": [gettext("Give the outcome.")]})
        return self._reread(services.adverse_event_create(user=self.request.user, subject=subject, **values))

    def update_record(
        self, instance: Any, data: dict[str, Any], reason: ChangeReason, version: int
    ) -> AdverseEvent:
        values = _service_values(data)
        if "term" in values:
            values["ctcae_term"] = _term_for(instance.subject, values.pop("term"))
        changed = services.adverse_event_update(
            user=self.request.user, ae=instance, reason=reason, version=version, **values
        )
        return self._reread(changed)

    def void_record(self, instance: Any, reason: ChangeReason, version: int) -> AdverseEvent:
        return self._reread(
            services.adverse_event_void(user=self.request.user, ae=instance, reason=reason, version=version)
        )

    def _reread(self, ae: AdverseEvent) -> AdverseEvent:
        return adverse_events().get(pk=ae.pk)

    @extend_schema(request=GradeAddSerializer, responses={200: AdverseEventSerializer})
    @action(detail=True, methods=["post"])
    def grades(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        ae = self.get_object()
        body = GradeAddSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        reason = ChangeReason.from_input(data.get("change_reason_code"), data.get("change_reason"))
        changed = services.ae_grade_add(
            user=request.user,
            ae=ae,
            on=data["on"],
            grade=data["grade"],
            reason=reason,
            version=data.get("version"),
        )
        return self._record_response(self._reread(changed))

    @extend_schema(request=SaeReportInSerializer, responses={201: SaeReportSerializer})
    @action(detail=True, methods=["post"], url_path="sae-reports")
    def sae_reports(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        ae = self.get_object()
        body = SaeReportInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        report = services.sae_report_submit(user=request.user, ae=ae, **body.validated_data)
        return Response(SaeReportSerializer(report).data, status=status.HTTP_201_CREATED)


# --- proposals -----------------------------------------------------------------------------------


class LabAeProposalSerializer(serializers.ModelSerializer):
    lab_date = serializers.DateField(source="lab.date", read_only=True)
    lab_test = serializers.CharField(source="lab.test", read_only=True)
    lab_value = serializers.CharField(source="lab.value", read_only=True)
    lab_unit = serializers.CharField(source="lab.unit", read_only=True)
    grade_text = serializers.SerializerMethodField()

    class Meta:
        model = LabAeProposal
        fields = [
            "id", "study", "site", "subject", "lab", "lab_date", "lab_test", "lab_value", "lab_unit",
            "baseline_lab", "term", "grade", "grade_text", "baseline_grade", "reason", "status",
            "decision_reason", "adverse_event", "version", "created", "updated",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_grade_text(self, proposal: LabAeProposal) -> str | None:
        return proposal.ctcae_term.grade_text(proposal.grade)


class ConfirmSerializer(serializers.Serializer):
    outcome = strict.StrictChoiceField(choices=Outcome.choices)
    attributions = AttributionSerializer(many=True, required=False)
    verbatim = strict.StrictCharField(required=False, allow_blank=True)
    resolution = strict.StrictDateField(required=False, allow_null=True)
    serious = strict.StrictBooleanField(required=False)
    seriousness = serializers.ListField(
        child=strict.StrictChoiceField(choices=list(SERIOUSNESS_FIELDS)), required=False
    )
    site_aware_at = serializers.DateTimeField(required=False, allow_null=True)
    immune_related = strict.StrictBooleanField(required=False, allow_null=True)
    treatment_given = strict.StrictCharField(required=False, allow_blank=True)
    version = strict.StrictIntegerField(required=False, min_value=1)

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: [gettext("Unknown field.")] for name in unknown})
        return super().to_internal_value(data)


class DismissSerializer(serializers.Serializer):
    reason = strict.StrictCharField(help_text=_("Why the proposed AE is not recorded."))
    version = strict.StrictIntegerField(required=False, min_value=1)


class ProposalFilter(django_filters.FilterSet):
    class Meta:
        model = LabAeProposal
        fields = ["study", "site", "subject", "status"]


class LabAeProposalViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The proposals queue: AEs a lab value's grade proposes, for the investigator to decide."""

    queryset = LabAeProposal.objects.select_related("lab", "ctcae_term").order_by("-created", "id")
    serializer_class = LabAeProposalSerializer
    filterset_class = ProposalFilter
    cursor_ordering = ("updated", "id")

    def get_queryset(self) -> QuerySet[LabAeProposal]:
        return scope(super().get_queryset(), self.request.user).filter(voided_at__isnull=True)

    @extend_schema(request=ConfirmSerializer, responses={201: AdverseEventSerializer})
    @action(detail=True, methods=["post"])
    def confirm(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        proposal = self.get_object()
        body = ConfirmSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        values = _service_values(dict(body.validated_data))
        version = values.pop("version", None)
        ae = services.ae_proposal_confirm(user=request.user, proposal=proposal, version=version, **values)
        ae = adverse_events().get(pk=ae.pk)
        data = AdverseEventSerializer(ae, context=self.get_serializer_context()).data
        return Response(data, status=status.HTTP_201_CREATED, headers={"ETag": etag(ae)})

    @extend_schema(request=DismissSerializer, responses={200: LabAeProposalSerializer})
    @action(detail=True, methods=["post"])
    def dismiss(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        proposal = self.get_object()
        body = DismissSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        done = services.ae_proposal_dismiss(
            user=request.user,
            proposal=proposal,
            reason=body.validated_data["reason"],
            version=body.validated_data.get("version"),
        )
        return Response(self.get_serializer(done).data, headers={"ETag": etag(done)})


# --- the SAE report -----------------------------------------------------------------------------


class DueItemSerializer(serializers.Serializer):
    adverse_event = serializers.UUIDField()
    subject = serializers.UUIDField()
    subject_label = serializers.CharField()
    site = serializers.IntegerField()
    site_code = serializers.CharField()
    site_time_zone = serializers.CharField()
    term = serializers.CharField()
    worst_grade = serializers.IntegerField()
    susar = serializers.BooleanField()
    clock = serializers.ChoiceField(
        choices=[clocks.SITE_TO_SPONSOR, clocks.SUSAR_INITIAL, clocks.SUSAR_FULL, clocks.SUSAR_REPORT]
    )
    status = serializers.ChoiceField(choices=[clocks.OVERDUE, clocks.DUE_TODAY, clocks.DUE])
    due_at = serializers.DateTimeField()
    due_local = serializers.CharField(help_text=_("The deadline in the site's time zone, with its offset."))
    hours_left = serializers.FloatField(help_text=_("Negative once overdue."))


class SaeDueSerializer(serializers.Serializer):
    as_of = serializers.DateTimeField()
    items = DueItemSerializer(many=True)


class SaeDueView(APIView):
    """What is due now on the SAE clocks (the site's 24 hours, the sponsor's SUSAR days), overdue first,
    each deadline shown in its site's time zone."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(
        parameters=[
            OpenApiParameter("study", int, required=False),
            OpenApiParameter("site", int, required=False),
            OpenApiParameter("as_of", OpenApiTypes.DATETIME, required=False, description=_("Default: now.")),
        ],
        responses={200: SaeDueSerializer},
        tags=["reports"],
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        as_of = timezone.now()
        if "as_of" in params:  # given empty, it is refused (not read as "now")
            try:
                as_of = serializers.DateTimeField().to_internal_value(params["as_of"])
            except serializers.ValidationError as exc:
                raise serializers.ValidationError({"as_of": exc.detail}) from None
        filters: dict[str, int] = {}
        for name in ("study", "site"):
            raw = params.get(name)
            if raw is not None:
                if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
                    raise serializers.ValidationError({name: [gettext("A whole number (the id).")]})
                filters[name] = int(raw)
        items = sae_due_now(user=request.user, now=as_of, **filters)
        return Response(SaeDueSerializer({"as_of": as_of, "items": items}).data)


# --- safety tables ----------------------------------------------------------------------------------


class CsvRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        out = io.StringIO()
        writer = csv.writer(out)
        if isinstance(data, dict) and "tables" in data:
            for row in summary_csv_rows(data):
                writer.writerow(row)
        else:  # an error answer
            writer.writerow(["detail"])
            writer.writerow([data.get("detail", "") if isinstance(data, dict) else str(data)])
        return out.getvalue().encode("utf-8")


class SummaryRowSerializer(serializers.Serializer):
    level = serializers.ChoiceField(choices=["any", "soc", "term"])
    soc = serializers.CharField()
    term = serializers.CharField()
    any_grade = serializers.IntegerField()
    any_grade_pct = serializers.DecimalField(max_digits=5, decimal_places=1, allow_null=True)
    grade_3_or_more = serializers.IntegerField()
    grade_3_or_more_pct = serializers.DecimalField(max_digits=5, decimal_places=1, allow_null=True)
    by_grade = serializers.ListField(child=serializers.IntegerField(), min_length=5, max_length=5)


class SummaryTableSerializer(serializers.Serializer):
    code = serializers.CharField()
    title = serializers.CharField()
    denominator = serializers.IntegerField()
    rows = SummaryRowSerializer(many=True)


class SafetySummarySerializer(serializers.Serializer):
    study = serializers.IntegerField()
    protocol_id = serializers.CharField()
    ctcae_version = serializers.CharField()
    population = serializers.CharField()
    denominator = serializers.IntegerField()
    tables = SummaryTableSerializer(many=True)


class SafetySummaryView(APIView):
    """The study's safety tables: subjects with treatment-emergent AEs by SOC, term and worst grade."""

    permission_classes = (IsAuthenticated,)
    renderer_classes = [JSONRenderer, CsvRenderer]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "format",
                str,
                enum=["json", "csv"],
                required=False,
                description=_("csv: one row per table row."),
            )
        ],
        responses={
            200: OpenApiResponse(
                SafetySummarySerializer, description=_("JSON, or text/csv with ?format=csv.")
            )
        },
        tags=["reports"],
    )
    def get(self, request: Request, study_pk: str) -> Response:
        study = get_object_or_404(visible_studies(request.user), pk=_study_pk(study_pk))
        return Response(SafetySummarySerializer(safety_summary(study=study, user=request.user)).data)


def register(router: BaseRouter) -> None:
    router.register("adverse-events", AdverseEventViewSet, basename="adverse-event")
    router.register("ae-proposals", LabAeProposalViewSet, basename="ae-proposal")


urlpatterns = [
    path("reports/sae/", SaeDueView.as_view(), name="sae-due"),
    path("studies/<str:study_pk>/safety-summary/", SafetySummaryView.as_view(), name="safety-summary"),
]
