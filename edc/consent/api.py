"""REST endpoints of informed consent (registered by edc/api/urls.py).

/api/consent-versions/               the versions of the studies the user sees (?study=); read-only
/api/consents/                       signed consents: POST {"subject", "version", "signed_at", ...}
                                     ("version": the consent version's code, e.g. "1.0"; a read
                                     answers the record's own `version` and the `consent_version`)
/api/studies/{id}/reconsent-due/     subjects a version in effect names who have not signed it
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import BaseRouter

from edc.api import fields as strict
from edc.api.fields import StrictPrimaryKeyRelatedField
from edc.api.pagination import ComputedRowsPagination
from edc.api.serializers import StrictModelSerializer
from edc.api.viewsets import AuditedViewSet
from edc.consent import selectors, services
from edc.consent.models import ConsentVersion, SignedConsent
from edc.core.scoping import scope, visible_studies
from edc.core.services import ChangeReason
from edc.subjects.models import Subject


class ConsentVersionSerializer(serializers.ModelSerializer):
    class Meta:
        model = ConsentVersion
        fields = [
            "id",
            "study",
            "version",
            "language",
            "title",
            "approved_on",
            "effective_from",
            "effective_to",
            "reconsent",
            "assumption",
        ]


class ConsentVersionViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = ConsentVersionSerializer
    filterset_fields = ("study", "version", "language")

    def get_queryset(self) -> Any:
        studies = visible_studies(self.request.user).values("id")
        return ConsentVersion.objects.filter(study__in=studies).order_by(
            "study_id", "effective_from", "version"
        )


class SignedConsentSerializer(StrictModelSerializer):
    subject = StrictPrimaryKeyRelatedField(queryset=Subject.objects.none())
    version = strict.StrictCharField(write_only=True, help_text=_("The consent version's code, e.g. 1.0."))
    language = strict.StrictCharField(write_only=True, required=False)
    consent_version = serializers.SerializerMethodField()

    class Meta:
        model = SignedConsent
        fields = [
            "id",
            "study",
            "site",
            "subject",
            "version",
            "language",
            "consent_version",
            "signed_at",
            "obtained_by",
            "patient_signed",
            "representative_signed",
            "representative_relationship",
            "witness_signed",
            "copy_given",
            "samples_consent",
            "created",
            "updated",
            "voided_at",
            "void_reason",
        ]
        read_only_fields = ["study", "site", "created", "updated", "voided_at", "void_reason"]
        validators: list[Any] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["subject"].queryset = scope(Subject.objects.active(), request.user)  # type: ignore[attr-defined]

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            # On a change `version` is the record's version (docs/audit.md); the consent version is
            # not changed (void the signature and record the right one).
            fields.pop("version", None)
            fields.pop("language", None)
            for name, field in fields.items():
                if name not in SignedConsent.editable_fields or name == "version":
                    field.read_only = True
        return fields

    def get_consent_version(self, consent: SignedConsent) -> dict[str, Any]:
        version = consent.consent_version
        return {"id": version.pk, "version": version.version, "language": version.language}

    def to_representation(self, instance: Any) -> Any:
        data = super().to_representation(instance)
        data["version"] = instance.version  # the record's version (docs/audit.md), as every resource
        return data


class SignedConsentFilter(django_filters.FilterSet):
    class Meta:
        model = SignedConsent
        fields = ["subject", "site", "consent_version"]


class SignedConsentViewSet(AuditedViewSet):
    queryset = SignedConsent.objects.select_related("site", "consent_version").order_by(
        "subject_id", "signed_at"
    )
    serializer_class = SignedConsentSerializer
    filterset_class = SignedConsentFilter

    def create_record(self, data: dict[str, Any]) -> SignedConsent:
        subject = data.pop("subject")
        version = services.consent_version_lookup(
            study=subject.study, version=data.pop("version"), language=data.pop("language", None)
        )
        return services.consent_sign(user=self.request.user, subject=subject, version=version, **data)

    def update_record(
        self, instance: Any, data: dict[str, Any], reason: ChangeReason, version: int
    ) -> SignedConsent:
        return services.consent_update(
            user=self.request.user, consent=instance, reason=reason, version=version, **data
        )

    def void_record(self, instance: Any, reason: ChangeReason, version: int) -> SignedConsent:
        return services.consent_void(user=self.request.user, consent=instance, reason=reason, version=version)


class ReconsentDueSerializer(serializers.Serializer):
    """One row of the re-consent list (computed: the schema of what `list` answers)."""

    subject = serializers.UUIDField()
    screening_number = serializers.CharField()
    subject_identifier = serializers.CharField()
    site = serializers.IntegerField()
    status = serializers.CharField()
    last_signed = serializers.CharField()
    due_version = serializers.CharField()
    due_language = serializers.CharField()
    due_since = serializers.DateField()


class ReconsentDueViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The re-consent list of a study: at the user's sites, subjects a version in effect names.

    The rows are computed (versions in effect, who signed what), so they are paged by number.
    """

    pagination_class = ComputedRowsPagination
    serializer_class = ReconsentDueSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter("as_of", str, description="YYYY-MM-DD; default: each subject's site's today")
        ]
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        study = get_object_or_404(visible_studies(request.user), pk=_study_pk(kwargs["study_pk"]))
        raw = request.query_params.get("as_of")
        as_of = None  # by default each subject's site's today
        if raw is not None:
            try:
                as_of = strict.StrictDateField().to_internal_value(raw)
            except serializers.ValidationError as exc:
                raise serializers.ValidationError({"as_of": exc.detail}) from None
        rows = [
            {
                "subject": str(due.subject.pk),
                "screening_number": due.subject.screening_number,
                "subject_identifier": due.subject.subject_identifier,
                "site": due.subject.site_id,
                "status": due.subject.status,
                "last_signed": due.last_signed,
                "due_version": due.version.version,
                "due_language": due.version.language,
                "due_since": due.version.effective_from.isoformat(),
            }
            for due in selectors.reconsent_due(study=study, user=request.user, as_of=as_of)
        ]
        page: list[dict[str, object]] | None = self.paginate_queryset(rows)  # type: ignore[arg-type]
        if page is not None:
            return self.get_paginated_response(page)
        return Response(rows)


def _study_pk(value: str) -> int:
    if not (value.isascii() and value.isdigit()) or len(value) > 18:
        from django.http import Http404

        raise Http404
    return int(value)


def register(router: BaseRouter) -> None:
    router.register("consent-versions", ConsentVersionViewSet, basename="consent-version")
    router.register("consents", SignedConsentViewSet, basename="consent")
    router.register(
        r"studies/(?P<study_pk>[^/.]+)/reconsent-due", ReconsentDueViewSet, basename="reconsent-due"
    )
