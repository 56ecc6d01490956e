"""REST endpoints for the trial definitions (registered by edc/api/urls.py). Read-only.

/api/studies/          the studies the user's memberships grant, each with its whole definition
/api/studies/{id}/     one study ({id}: primary key)
/api/forms/            the form registry: the current version of every form (items with codelists)
/api/forms/{code}/     one form by code: its current version, or ?version=1.0 for another one
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.routers import BaseRouter

from edc.core.scoping import visible_sites, visible_studies
from studies.models import FormDefinition, Site, Study
from studies.selectors import forms_with_items, studies_with_definition
from studies.serializers import FormDefinitionSerializer, StudySerializer


class StudyViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = StudySerializer
    filterset_fields = ("protocol_id", "registry_id", "status")

    def get_queryset(self) -> QuerySet[Study]:
        user = self.request.user
        # A user sees only the sites they are granted, in the study detail too (StudySerializer.sites).
        sites = Site.objects.filter(id__in=visible_sites(user).values("id"))
        return (
            studies_with_definition(visible_studies(user))
            .prefetch_related(Prefetch("sites", queryset=sites, to_attr="visible_sites"))
            .order_by("protocol_id")
        )


class FormDefinitionViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = FormDefinitionSerializer
    lookup_field = "code"
    lookup_value_regex = "[^/]+"
    filterset_fields = ("active",)

    def get_queryset(self) -> QuerySet[FormDefinition]:
        # The registry is shared by all studies and holds no patient data: every signed-in user reads it.
        return forms_with_items(FormDefinition.objects.filter(is_current=True))

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "version", str, description="A version other than the current one, e.g. 1.0.", required=False
            )
        ]
    )
    def retrieve(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        return super().retrieve(request, *args, **kwargs)

    def get_object(self) -> FormDefinition:
        version = self.request.query_params.get("version")
        if version is None:
            return super().get_object()
        if not version.strip() or "\x00" in version:
            raise serializers.ValidationError({"version": [_("Give a version such as 1.0.")]})
        found = forms_with_items(
            FormDefinition.objects.filter(code=self.kwargs["code"], version=version)
        ).first()
        if found is None:
            raise NotFound(
                _("Form %(code)s has no version %(version)s.")
                % {"code": self.kwargs["code"], "version": version}
            )
        return found


def register(router: BaseRouter) -> None:
    """Add this app's viewsets to the API router."""
    router.register("studies", StudyViewSet, basename="study")
    router.register("forms", FormDefinitionViewSet, basename="form")
