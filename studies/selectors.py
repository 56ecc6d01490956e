"""Reads of trial definitions."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from studies.models import (
    Codelist,
    CodelistItem,
    FormDefinition,
    FormItem,
    Intervention,
    Study,
    TreatmentPhase,
    VisitDefinition,
)


def study_lookup(key: str | int) -> Study:
    """The study named by protocol id, registry id (NCT...) or primary key."""
    text = str(key).strip()
    study = Study.objects.filter(protocol_id=text).first()
    if study is None and text:
        study = Study.objects.filter(registry_id__iexact=text).first()
    if study is None and text.isdigit():
        study = Study.objects.filter(pk=int(text)).first()
    if study is None:
        known = ", ".join(Study.objects.values_list("protocol_id", flat=True)) or "none loaded"
        raise Study.DoesNotExist(
            f"No study with protocol id, registry id or id {text!r} (studies: {known}; "
            "load them with manage.py load_studies)."
        )
    return study


def studies_with_definition(queryset: QuerySet[Study] | None = None) -> QuerySet[Study]:
    """Studies with their whole definition prefetched: a fixed number of queries for any count."""
    queryset = Study.objects.all() if queryset is None else queryset
    return queryset.prefetch_related(
        "sites",
        "arms",
        Prefetch("phases", queryset=TreatmentPhase.objects.select_related("arm")),
        Prefetch("interventions", queryset=Intervention.objects.select_related("arm", "phase")),
        "criteria",
        Prefetch(
            "visit_definitions",
            queryset=VisitDefinition.objects.select_related("phase").prefetch_related("forms"),
        ),
        "endpoints",
    )


def forms_with_items(queryset: QuerySet[FormDefinition] | None = None) -> QuerySet[FormDefinition]:
    queryset = FormDefinition.objects.all() if queryset is None else queryset
    return queryset.prefetch_related(
        Prefetch(
            "items",
            queryset=FormItem.objects.select_related("codelist").prefetch_related(
                Prefetch("codelist__items", queryset=CodelistItem.objects.all())
            ),
        )
    )


def codelists_with_items() -> QuerySet[Codelist]:
    return Codelist.objects.prefetch_related("items")
