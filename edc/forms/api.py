"""REST endpoints of the case report forms (registered by edc/api/urls.py), one resource per form:

/api/vital-signs/  /api/ecog/  /api/lab-results/  /api/pregnancy-tests/  /api/disease-baseline/
/api/prior-therapies/  /api/medical-history/  /api/concomitant-medications/  /api/history-answers/
/api/radiotherapy-courses/  /api/biomarkers/  /api/survival-follow-ups/  /api/subsequent-therapies/
/api/deaths/  and, read-only, /api/restricted-medication-flags/ (raised by the CM service)

Every one is an AuditedViewSet (scoped reads, versions, history, void), filterable by ?subject=,
?visit=, ?site= (and ?date_after= / ?date_before= on the form's date: `DATE_FIELDS`; a partial date
compares as its text, so "2025-03" is before "2025-03-01"). A create names the
subject (and optionally the visit: default the screening visit); the study and site follow the
subject. Field names follow the case format where the two overlap (labs: test, value, unit, lln,
uln, date; vitals: weight_kg, height_cm).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import django_filters
from django.db import models
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.routers import BaseRouter

from edc.api.fields import StrictDecimalField, StrictPrimaryKeyRelatedField
from edc.api.serializers import StrictModelSerializer
from edc.api.viewsets import AuditedViewSet
from edc.core.fields import PartialDateField
from edc.core.scoping import scope
from edc.core.services import ChangeReason
from edc.forms import services
from edc.forms.fields import EnteredDecimalField
from edc.forms.models import (
    Biomarker,
    ConcomitantMedication,
    Death,
    DiseaseBaseline,
    EcogAssessment,
    FormRecord,
    HistoryAnswers,
    LabResult,
    MedicalHistory,
    PregnancyTest,
    PriorTherapy,
    RadiotherapyCourse,
    RestrictedMedicationFlag,
    SubsequentTherapy,
    SurvivalFollowUp,
    VitalSigns,
)
from edc.subjects.models import Subject
from edc.visits.models import Visit

BASE_FIELDS = ["id", "study", "site", "subject", "visit"]
META_FIELDS = [
    "not_done_reason",
    "not_done_detail",
    "form_version",
    "version",
    "created",
    "updated",
    "voided_at",
    "void_reason",
]
READ_ONLY = ["study", "site", "form_version", "version", "created", "updated", "voided_at", "void_reason"]


class LabValueField(serializers.Field):
    """A lab result: a number, or for urine protein a dipstick reading ("negative", "2+").

    Answered as the text the lab reported ("1.0" stays "1.0"), like every decimal of the API.
    """

    def to_internal_value(self, data: Any) -> Decimal | str:
        if isinstance(data, bool) or not isinstance(data, int | float | str):
            raise serializers.ValidationError(_("A number, or for urine protein a dipstick reading (text)."))
        if isinstance(data, int | float):
            return Decimal(str(data))
        return data

    def to_representation(self, value: Any) -> Any:
        return value or None


class EnteredDecimalSerializerField(serializers.DecimalField):
    """An EnteredDecimalField read and answered with its own digits (70 as "70", 1.0 as "1.0"):
    the places are validated, never padded."""

    def quantize(self, value: Decimal) -> Decimal:
        return value

    def to_representation(self, value: Any) -> Any:
        return None if value is None else format(value, "f")


class FormRecordSerializer(StrictModelSerializer):
    serializer_field_mapping = {
        **StrictModelSerializer.serializer_field_mapping,
        EnteredDecimalField: type(
            "StrictEnteredDecimalField", (EnteredDecimalSerializerField, StrictDecimalField), {}
        ),
    }
    subject = StrictPrimaryKeyRelatedField(queryset=Subject.objects.none())
    visit = StrictPrimaryKeyRelatedField(queryset=Visit.objects.none(), required=False)

    class Meta:
        model: type[models.Model] = FormRecord
        fields: list[str] = []
        validators: list[Any] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            # A user cannot name a subject or visit they do not see.
            self.fields["subject"].queryset = scope(Subject.objects.active(), request.user)  # type: ignore[attr-defined]
            if "visit" in self.fields:
                self.fields["visit"].queryset = scope(Visit.objects.active(), request.user)  # type: ignore[attr-defined]

    def build_standard_field(self, field_name: str, model_field: Any) -> tuple[Any, dict[str, Any]]:
        field_class, kwargs = super().build_standard_field(field_name, model_field)
        if isinstance(model_field, PartialDateField):
            # A partial date is no text field: no length limits (the value is YYYY[-MM[-DD]]).
            kwargs = {
                k: v
                for k, v in kwargs.items()
                if k in ("required", "allow_null", "read_only", "help_text", "label")
            }
        return field_class, kwargs

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            editable = set(self.Meta.model.editable_fields)  # type: ignore[attr-defined]
            for name, field in fields.items():
                if name not in editable:
                    field.read_only = True
        return fields


def _serializer(model: type[FormRecord], derived: tuple[str, ...] = ()) -> type[FormRecordSerializer]:
    data = [f for f in model.editable_fields if f not in ("visit", "not_done_reason", "not_done_detail")]
    fields = [*BASE_FIELDS, *data, *derived, *META_FIELDS]
    # A form without "not done" (the death form) answers the fields and refuses them as input.
    fixed = [name for name in ("not_done_reason", "not_done_detail") if name not in model.editable_fields]
    meta = type(
        "Meta",
        (),
        {
            "model": model,
            "fields": fields,
            "read_only_fields": [*READ_ONLY, *derived, *fixed],
            "validators": [],
        },
    )
    return type(f"{model.__name__}Serializer", (FormRecordSerializer,), {"Meta": meta})


class LabResultSerializer(FormRecordSerializer):
    value = LabValueField(required=False, allow_null=True)

    class Meta:
        model = LabResult
        fields = [
            *BASE_FIELDS,
            "date",
            "test",
            "value",
            "unit",
            "lln",
            "uln",
            "clinically_significant",
            "standard_value",
            "standard_unit",
            "standard_lln",
            "standard_uln",
            "range_indicator",
            *META_FIELDS,
        ]
        read_only_fields = [
            *READ_ONLY,
            "standard_value",
            "standard_unit",
            "standard_lln",
            "standard_uln",
            "range_indicator",
        ]
        validators: list[Any] = []


_RadiotherapyBase = _serializer(RadiotherapyCourse)


class RadiotherapyCourseSerializer(_RadiotherapyBase):  # type: ignore[valid-type,misc]
    # The doses are answered in Gy; entered in Gy (default) or cGy, converted by edc/core/units.py.
    dose_unit = serializers.ChoiceField(choices=["Gy", "cGy"], required=False, write_only=True)

    class Meta(_RadiotherapyBase.Meta):  # type: ignore[name-defined]
        fields = [*_RadiotherapyBase.Meta.fields, "dose_unit"]


SERIALIZERS: dict[type[FormRecord], type[FormRecordSerializer]] = {
    VitalSigns: _serializer(VitalSigns, derived=("bsa_m2",)),
    EcogAssessment: _serializer(EcogAssessment),
    LabResult: LabResultSerializer,
    PregnancyTest: _serializer(PregnancyTest),
    DiseaseBaseline: _serializer(DiseaseBaseline),
    PriorTherapy: _serializer(PriorTherapy),
    MedicalHistory: _serializer(MedicalHistory),
    ConcomitantMedication: _serializer(ConcomitantMedication),
    HistoryAnswers: _serializer(HistoryAnswers),
    RadiotherapyCourse: RadiotherapyCourseSerializer,
    Biomarker: _serializer(Biomarker, derived=("pdl1_cutoff", "pdl1_status")),
    SurvivalFollowUp: _serializer(SurvivalFollowUp),
    SubsequentTherapy: _serializer(SubsequentTherapy),
    Death: _serializer(Death),
}
# The date a form's ?date_after= / ?date_before= filter on.
DATE_FIELDS: dict[type[FormRecord], str] = {
    RadiotherapyCourse: "start_date",
    SurvivalFollowUp: "contact_date",
    SubsequentTherapy: "start_date",
    Death: "death_date",
}


def _filterset(model: type[FormRecord]) -> type[django_filters.FilterSet]:
    attrs: dict[str, Any] = {}
    names = {f.name for f in model._meta.fields}
    day = DATE_FIELDS.get(model, "date")
    if day in names:
        attrs["date_after"] = django_filters.DateFilter(field_name=day, lookup_expr="gte")
        attrs["date_before"] = django_filters.DateFilter(field_name=day, lookup_expr="lte")
    extra = [n for n in ("test", "category", "agent_class", "vital_status", "on_study", "kind") if n in names]
    attrs["Meta"] = type("Meta", (), {"model": model, "fields": ["subject", "visit", "site", *extra]})
    return type(f"{model.__name__}Filter", (django_filters.FilterSet,), attrs)


CREATE: dict[type[FormRecord], Callable[..., FormRecord]] = {
    VitalSigns: services.vital_signs_create,
    EcogAssessment: services.ecog_create,
    LabResult: services.lab_result_create,
    PregnancyTest: services.pregnancy_test_create,
    DiseaseBaseline: services.disease_baseline_create,
    PriorTherapy: services.prior_therapy_create,
    MedicalHistory: services.medical_history_create,
    ConcomitantMedication: services.concomitant_medication_create,
    HistoryAnswers: services.history_answers_create,
    RadiotherapyCourse: services.radiotherapy_course_create,
    Biomarker: services.biomarker_create,
    SurvivalFollowUp: services.survival_follow_up_create,
    SubsequentTherapy: services.subsequent_therapy_create,
    Death: services.death_record,
}


class FormRecordViewSet(AuditedViewSet):
    model: Any = FormRecord  # each form's viewset sets its concrete model

    def create_record(self, data: dict[str, Any]) -> FormRecord:
        return CREATE[self.model](user=self.request.user, **data)

    def update_record(
        self, instance: Any, data: dict[str, Any], reason: ChangeReason, version: int
    ) -> FormRecord:
        if self.model is RadiotherapyCourse:
            unit = data.pop("dose_unit", "Gy")
            for name in ("dose_per_fraction_gy", "total_dose_gy"):
                if name in data:
                    data[name] = services.convert_dose(data[name], unit, name)
        if self.model is Death:
            return services.death_update(
                user=self.request.user, record=instance, reason=reason, version=version, **data
            )
        return services.form_record_update(
            user=self.request.user, record=instance, reason=reason, version=version, **data
        )

    def void_record(self, instance: Any, reason: ChangeReason, version: int) -> FormRecord:
        return services.form_record_void(
            user=self.request.user, record=instance, reason=reason, version=version
        )


RESOURCES: dict[str, type[FormRecord]] = {
    "vital-signs": VitalSigns,
    "ecog": EcogAssessment,
    "lab-results": LabResult,
    "pregnancy-tests": PregnancyTest,
    "disease-baseline": DiseaseBaseline,
    "prior-therapies": PriorTherapy,
    "medical-history": MedicalHistory,
    "concomitant-medications": ConcomitantMedication,
    "history-answers": HistoryAnswers,
    "radiotherapy-courses": RadiotherapyCourse,
    "biomarkers": Biomarker,
    "survival-follow-ups": SurvivalFollowUp,
    "subsequent-therapies": SubsequentTherapy,
    "deaths": Death,
}


def _viewset(model: type[FormRecord]) -> type[FormRecordViewSet]:
    day = DATE_FIELDS.get(model, "date")
    ordering = [f"-{day if day in {f.name for f in model._meta.fields} else 'created'}", "id"]
    return type(
        f"{model.__name__}ViewSet",
        (FormRecordViewSet,),
        {
            "model": model,
            "queryset": model.objects.select_related("site").order_by(*ordering),
            "serializer_class": SERIALIZERS[model],
            "filterset_class": _filterset(model),
        },
    )


VIEWSETS: dict[str, type[AuditedViewSet]] = {prefix: _viewset(model) for prefix, model in RESOURCES.items()}


class RestrictedMedicationFlagSerializer(StrictModelSerializer):
    class Meta:
        model = RestrictedMedicationFlag
        fields = [
            "id",
            "study",
            "site",
            "subject",
            "medication",
            "rule",
            "seed",
            "criterion",
            "category",
            "windows",
            "certain",
            "first_dose",
            "message",
            "version",
            "created",
            "updated",
            "voided_at",
            "void_reason",
        ]
        read_only_fields = fields


class RestrictedMedicationFlagFilter(django_filters.FilterSet):
    class Meta:
        model = RestrictedMedicationFlag
        fields = ["subject", "site", "medication", "rule", "certain"]


class RestrictedMedicationFlagViewSet(AuditedViewSet):
    """The flags the concomitant-medication service raised (read-only: they follow the medications)."""

    http_method_names = ["get", "head", "options"]
    queryset = RestrictedMedicationFlag.objects.select_related("site").order_by("-created", "id")
    serializer_class = RestrictedMedicationFlagSerializer
    filterset_class = RestrictedMedicationFlagFilter


VIEWSETS["restricted-medication-flags"] = RestrictedMedicationFlagViewSet


def register(router: BaseRouter) -> None:
    for prefix, viewset in VIEWSETS.items():
        router.register(prefix, viewset, basename=prefix)
