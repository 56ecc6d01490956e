"""REST endpoints for the trial definitions (registered by edc/api/urls.py). Read-only.

/api/studies/          the studies the user's memberships grant, each with its whole definition
/api/studies/{id}/     one study ({id}: primary key)
/api/forms/            the form registry: the current version of every form (items with codelists)
/api/forms/{code}/     one form by code: its current version, or ?version=1.0 for another one

Both lists page by cursor in `id` order and take `updated_since` (edc/api/filters.py): definitions
have no timestamp column of their own, so "written at or after" is read from their history, which
every load, amendment and admin change writes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.routers import BaseRouter

from edc.api.filters import BooleanFilter
from edc.core.scoping import visible_sites, visible_studies
from studies.models import (
    Arm,
    Codelist,
    CodelistItem,
    EligibilityCriterion,
    Endpoint,
    FormDefinition,
    FormItem,
    Intervention,
    Site,
    Study,
    StudyVersion,
    TreatmentPhase,
    VisitDefinition,
)
from studies.selectors import forms_with_items, studies_with_definition
from studies.serializers import FormDefinitionSerializer, StudySerializer

# The rows of a study's definition, each with its study in `study_id` (their history keeps it).
_STUDY_PARTS = (
    Arm,
    TreatmentPhase,
    Intervention,
    EligibilityCriterion,
    VisitDefinition,
    Endpoint,
    StudyVersion,
)


class StudyViewSet(viewsets.ReadOnlyModelViewSet):
    """The studies your memberships grant, each with its whole definition and the sites you are granted."""

    serializer_class = StudySerializer
    filterset_fields = ("protocol_id", "registry_id", "status")
    queryset = Study.objects.none()  # for the schema; get_queryset scopes

    def get_queryset(self) -> QuerySet[Study]:
        user = self.request.user
        # A user sees only the sites they are granted, in the study detail too (StudySerializer.sites).
        sites = Site.objects.filter(id__in=visible_sites(user).values("id"))
        return (
            studies_with_definition(visible_studies(user))
            .prefetch_related(Prefetch("sites", queryset=sites, to_attr="visible_sites"))
            .order_by("protocol_id")
        )

    def filter_updated_since(self, queryset: QuerySet[Study], since: dt.datetime) -> QuerySet[Study]:
        """Studies with a definition row written at or after `since` (of the sites, only yours)."""
        changed = Q(pk__in=Study.history.filter(history_date__gte=since).values("id"))
        for part in _STUDY_PARTS:
            changed |= Q(pk__in=part.history.filter(history_date__gte=since).values("study_id"))
        sites = Site.history.filter(
            history_date__gte=since, id__in=visible_sites(self.request.user).values("id")
        )
        return queryset.filter(changed | Q(pk__in=sites.values("study_id")))


class FormDefinitionFilter(django_filters.FilterSet):
    active = BooleanFilter()

    class Meta:
        model = FormDefinition
        fields = ["active"]


class FormDefinitionViewSet(viewsets.ReadOnlyModelViewSet):
    """The form registry: the current version of every form, with its items and codelists."""

    serializer_class = FormDefinitionSerializer
    queryset = FormDefinition.objects.none()  # for the schema; get_queryset reads
    lookup_field = "code"
    lookup_value_regex = "[^/]+"
    filterset_class = FormDefinitionFilter

    def get_queryset(self) -> QuerySet[FormDefinition]:
        # The registry is shared by all studies and holds no patient data: every signed-in user reads it.
        return forms_with_items(FormDefinition.objects.filter(is_current=True))

    def filter_updated_since(
        self, queryset: QuerySet[FormDefinition], since: dt.datetime
    ) -> QuerySet[FormDefinition]:
        """Forms whose version, items or the codelists of their items were written at or after `since`."""
        codelists = Codelist.history.filter(history_date__gte=since).values("id")
        codes = CodelistItem.history.filter(history_date__gte=since).values("codelist_id")
        items = FormItem.history.filter(history_date__gte=since).values("form_id")
        by_codelist = FormItem.objects.filter(Q(codelist_id__in=codelists) | Q(codelist_id__in=codes))
        return queryset.filter(
            Q(pk__in=FormDefinition.history.filter(history_date__gte=since).values("id"))
            | Q(pk__in=items)
            | Q(pk__in=by_codelist.values("form_id"))
        )

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
