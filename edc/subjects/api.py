from __future__ import annotations

from typing import Any

import django_filters
from rest_framework import serializers
from rest_framework.routers import BaseRouter

from edc.api.fields import PartialDateSerializerField, StrictPrimaryKeyRelatedField
from edc.api.serializers import StrictModelSerializer
from edc.api.viewsets import AuditedViewSet
from edc.core.scoping import visible_sites, visible_studies
from edc.core.services import ChangeReason
from edc.subjects import services
from edc.subjects.models import Subject, SubjectStatus
from studies.models import Site, Study


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
            "version",
            "created",
            "updated",
            "voided_at",
            "void_reason",
        ]
        read_only_fields = [
            "subject_identifier",
            "status",
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
        fields = ["study", "site", "status", "sex", "screening_number", "subject_identifier"]


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


def register(router: BaseRouter) -> None:
    router.register("subjects", SubjectViewSet, basename="subject")
