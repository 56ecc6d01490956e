"""The case report forms built at screening and reused at every later visit: one store per fact.

Every form row belongs to a subject and one of their visits (the screening visit for the
screening forms), is audited (edc.core), and may be "not done" with a reason (not done, not
applicable, unknown, refused) instead of a blank that looks like zero. Each model stores its form
of the registry (fixtures/forms.yaml; the check studies.E020-E024 holds them together) and
records the registry version the row was entered in.

These rows are what eligibility reads now (edc/eligibility/selectors.py) and what later visits,
dosing and CTCAE grading read: every lab value is a LabResult row, every weight a VitalSigns row.
Writes go through edc/forms/services.py.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from edc.core.fields import PartialDateField
from edc.core.labs import ORDINAL_TESTS, STANDARD_UNITS, LabValue
from edc.core.models import SiteOwnedModel
from edc.forms import codes
from edc.forms.fields import EnteredDecimalField


def _choices(values: dict[str, str] | tuple[str, ...]) -> list[tuple[str, str]]:
    if isinstance(values, dict):
        return list(values.items())
    return [(value, value) for value in values]


NOT_DONE_CHOICES = _choices(codes.NOT_DONE_REASONS)
ACTIVE = Q(voided_at__isnull=True)


class FormRecord(SiteOwnedModel):
    """The base of every form row: subject, visit, "not done" with a reason, the form version."""

    subject = models.ForeignKey("subjects.Subject", on_delete=models.PROTECT, related_name="+")
    visit = models.ForeignKey("visits.Visit", on_delete=models.PROTECT, related_name="+")
    not_done_reason = models.CharField(
        max_length=16,
        choices=NOT_DONE_CHOICES,
        blank=True,
        help_text=_("Instead of the data: why the form (or this test) was not done."),
    )
    not_done_detail = models.TextField(blank=True)
    form_version = models.CharField(max_length=16, blank=True, editable=False)

    lock_parents: ClassVar[tuple[str, ...]] = ("visit", "subject", "study")
    fixed_fields: ClassVar[tuple[str, ...]] = ("study", "subject")
    form_version_field: ClassVar[str] = "form_version"
    # Each form model declares these (studies/form_stores.py reads them); annotated here for the
    # type checker only, so a model that forgets one is still caught by the registry check.
    form_code: ClassVar[str]
    form_item_fields: ClassVar[dict[str, str]]
    editable_fields: ClassVar[tuple[str, ...]]
    # The data fields a "not done" row leaves empty (each model lists its own).
    answer_fields: ClassVar[tuple[str, ...]] = ()
    # Fields a "not done" row still carries (the date a test was not done, the test code).
    kept_when_not_done: ClassVar[tuple[str, ...]] = ()

    class Meta:
        abstract = True

    def clean(self) -> None:
        super().clean()
        errors: dict[str, Any] = {}
        subject = self.subject if self.subject_id else None
        if subject is not None:
            if self.study_id and subject.study_id != self.study_id:
                errors["subject"] = gettext("The subject belongs to another study.")
            if self.site_id and subject.site_id != self.site_id:
                errors["site"] = gettext("A form row is at its subject's site.")
        if self.visit_id and self.subject_id and self.visit.subject_id != self.subject_id:
            errors["visit"] = gettext("The visit is another subject's.")
        if self.not_done_reason:
            filled = [
                name
                for name in self.answer_fields
                if name not in self.kept_when_not_done and getattr(self, name) not in (None, "", [])
            ]
            for name in filled:
                errors[name] = gettext("A form marked not done holds no data.")
        elif self.not_done_detail.strip():
            errors["not_done_detail"] = gettext("Give the reason it was not done.")
        if errors:
            raise ValidationError(errors)

    @property
    def is_not_done(self) -> bool:
        return bool(self.not_done_reason)


# --- vital signs, ECOG, labs, pregnancy test: the procedures of a visit ------------------------


class VitalSigns(FormRecord):
    date = models.DateField()
    weight_kg = EnteredDecimalField(max_digits=7, decimal_places=3, null=True, blank=True)
    height_cm = EnteredDecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    bsa_m2 = models.DecimalField(
        max_digits=4,
        decimal_places=2,
        null=True,
        blank=True,
        editable=False,
        help_text=_("Derived: Mosteller, √(height cm × weight kg / 3600)."),
    )
    systolic_bp = models.PositiveSmallIntegerField(null=True, blank=True)
    diastolic_bp = models.PositiveSmallIntegerField(null=True, blank=True)
    heart_rate = models.PositiveSmallIntegerField(null=True, blank=True)
    temperature_c = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)

    form_code: ClassVar[str] = "VS"
    form_item_fields: ClassVar[dict[str, str]] = {
        "VSDATE": "date",
        "WEIGHT": "weight_kg",
        "HEIGHT": "height_cm",
        "BSA": "bsa_m2",
        "SYSBP": "systolic_bp",
        "DIABP": "diastolic_bp",
        "PULSE": "heart_rate",
        "TEMP": "temperature_c",
    }
    form_field_units: ClassVar[dict[str, str]] = {
        "weight_kg": "kg",
        "height_cm": "cm",
        "bsa_m2": "m2",
        "systolic_bp": "mmHg",
        "diastolic_bp": "mmHg",
        "heart_rate": "beats/min",
        "temperature_c": "C",
    }
    answer_fields: ClassVar[tuple[str, ...]] = (
        "weight_kg",
        "height_cm",
        "bsa_m2",
        "systolic_bp",
        "diastolic_bp",
        "heart_rate",
        "temperature_c",
    )
    editable_fields: ClassVar[tuple[str, ...]] = (
        "visit",
        "date",
        "weight_kg",
        "height_cm",
        "systolic_bp",
        "diastolic_bp",
        "heart_rate",
        "temperature_c",
        "not_done_reason",
        "not_done_detail",
    )

    class Meta:
        ordering = ["subject", "date", "created"]
        verbose_name = _("vital signs")
        verbose_name_plural = _("vital signs")
        indexes = [models.Index(fields=["subject", "date"], name="vs_subject_date")]

    def __str__(self) -> str:
        return f"{self.subject} VS {self.date}"

    def clean(self) -> None:
        super().clean()
        if not self.not_done_reason and all(getattr(self, n) is None for n in self.answer_fields):
            raise ValidationError(gettext("Record at least one measurement, or mark the form not done."))
        systolic, diastolic = self.systolic_bp, self.diastolic_bp
        if systolic is not None and diastolic is not None and diastolic >= systolic:
            raise ValidationError({"diastolic_bp": gettext("The diastolic pressure is below the systolic.")})


class EcogAssessment(FormRecord):
    date = models.DateField()
    ecog = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(5)]
    )

    form_code: ClassVar[str] = "ECOG"
    form_item_fields: ClassVar[dict[str, str]] = {"ECOGDATE": "date", "ECOG": "ecog"}
    answer_fields: ClassVar[tuple[str, ...]] = ("ecog",)
    editable_fields: ClassVar[tuple[str, ...]] = (
        "visit",
        "date",
        "ecog",
        "not_done_reason",
        "not_done_detail",
    )

    class Meta:
        ordering = ["subject", "date", "created"]
        verbose_name = _("ECOG performance status")
        verbose_name_plural = _("ECOG performance status")
        indexes = [models.Index(fields=["subject", "date"], name="ecog_subject_date")]

    def __str__(self) -> str:
        return f"{self.subject} ECOG {self.ecog} {self.date}"

    def clean(self) -> None:
        super().clean()
        if not self.not_done_reason and self.ecog is None:
            raise ValidationError({"ecog": gettext("Give the ECOG score (0-5), or mark it not done.")})


LAB_TEST_CHOICES = [(code, code) for code in STANDARD_UNITS]
RANGE_INDICATORS = [("LOW", _("Low")), ("NORMAL", _("Normal")), ("HIGH", _("High"))]


class LabResult(FormRecord):
    """The one lab store: the result, unit and normal range as the lab reported them (CDISC's
    original result, kept exactly), and the result and range in the test's standard unit beside them
    (derived, numeric: what queries, CTCAE grading and edit checks compare)."""

    date = models.DateField(help_text=_("The day the sample was taken."))
    test = models.CharField(max_length=16, choices=LAB_TEST_CHOICES, help_text=_("CDISC-style test code."))
    value = models.CharField(
        max_length=24,
        blank=True,
        help_text=_("The result as reported: a number, or for urine protein a dipstick reading."),
    )
    unit = models.CharField(max_length=20, blank=True, help_text=_("The unit as the lab reported it."))
    lln = EnteredDecimalField(max_digits=14, decimal_places=6, null=True, blank=True)
    uln = EnteredDecimalField(max_digits=14, decimal_places=6, null=True, blank=True)
    standard_value = models.DecimalField(
        max_digits=18, decimal_places=4, null=True, blank=True, editable=False
    )
    standard_unit = models.CharField(max_length=20, blank=True, editable=False)
    standard_lln = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True, editable=False)
    standard_uln = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True, editable=False)
    range_indicator = models.CharField(max_length=8, choices=RANGE_INDICATORS, blank=True, editable=False)
    clinically_significant = models.BooleanField(null=True, blank=True)

    form_code: ClassVar[str] = "LB"
    form_item_fields: ClassVar[dict[str, str]] = {
        "LBDATE": "date",
        "LBTESTCD": "test",
        "LBORRES": "value",
        "LBORRESU": "unit",
        "LBORNRLO": "lln",
        "LBORNRHI": "uln",
        "LBSTRESN": "standard_value",
        "LBSTRESU": "standard_unit",
        "LBSTNRLO": "standard_lln",
        "LBSTNRHI": "standard_uln",
        "LBNRIND": "range_indicator",
        "LBCLSIG": "clinically_significant",
    }
    answer_fields: ClassVar[tuple[str, ...]] = (
        "value",
        "unit",
        "lln",
        "uln",
        "standard_value",
        "standard_unit",
        "standard_lln",
        "standard_uln",
        "range_indicator",
        "clinically_significant",
    )
    editable_fields: ClassVar[tuple[str, ...]] = (
        "visit",
        "date",
        "test",
        "value",
        "unit",
        "lln",
        "uln",
        "clinically_significant",
        "not_done_reason",
        "not_done_detail",
    )

    class Meta:
        ordering = ["subject", "date", "test", "created"]
        verbose_name = _("laboratory result")
        indexes = [models.Index(fields=["subject", "test", "date"], name="lab_subject_test_date")]

    def __str__(self) -> str:
        return f"{self.subject} {self.test} {self.value} {self.unit} {self.date}".replace("  ", " ")

    def as_value(self) -> LabValue:
        """The row as the system's one lab value (eligibility, CTCAE grading, edit checks): the
        result as reported, a number (exactly as entered) or a dipstick reading."""
        value: Decimal | str | None = self.value or None
        if value is not None and self.test not in ORDINAL_TESTS:
            value = Decimal(value)
        return LabValue(
            test=self.test,
            value=value,
            unit=self.unit or None,
            lln=self.lln,
            uln=self.uln,
            date=self.date,
        )


class PregnancyTest(FormRecord):
    date = models.DateField()
    specimen = models.CharField(max_length=8, choices=_choices(codes.PREGNANCY_SPECIMENS), blank=True)
    result = models.CharField(
        max_length=16,
        choices=[
            ("negative", _("Negative")),
            ("positive", _("Positive")),
            ("not_applicable", _("Not applicable (not of reproductive potential)")),
        ],
        blank=True,
    )

    form_code: ClassVar[str] = "PREG"
    form_item_fields: ClassVar[dict[str, str]] = {
        "PREGDATE": "date",
        "PREGSPEC": "specimen",
        "PREGRES": "result",
    }
    answer_fields: ClassVar[tuple[str, ...]] = ("specimen", "result")
    editable_fields: ClassVar[tuple[str, ...]] = (
        "visit",
        "date",
        "specimen",
        "result",
        "not_done_reason",
        "not_done_detail",
    )

    class Meta:
        ordering = ["subject", "date", "created"]
        verbose_name = _("pregnancy test")

    def __str__(self) -> str:
        return f"{self.subject} pregnancy test {self.result} {self.date}"

    def clean(self) -> None:
        super().clean()
        if not self.not_done_reason and not self.result:
            raise ValidationError({"result": gettext("Give the result, or mark the test not done.")})
        if self.result == "not_applicable" and self.specimen:
            raise ValidationError({"specimen": gettext("No specimen when no test applies.")})


# --- the disease and the patient's history -----------------------------------------------------


class DiseaseBaseline(FormRecord):
    """One per subject: the cancer being treated, with the explicit surgery and recurrence answers."""

    diagnosis_date = PartialDateField(null=True, blank=True)
    primary_site = models.CharField(max_length=16, choices=_choices(codes.PRIMARY_SITES), blank=True)
    histology = models.CharField(max_length=8, choices=_choices(codes.HISTOLOGIES), blank=True)
    histology_confirmation = models.CharField(
        max_length=12, choices=_choices(codes.HISTOLOGY_CONFIRMATION), blank=True
    )
    setting = models.CharField(max_length=12, choices=_choices(codes.DISEASE_SETTINGS), blank=True)
    measurable = models.BooleanField(null=True, blank=True, help_text=_("Measurable disease by RECIST 1.1."))
    hpv_status = models.CharField(max_length=4, choices=_choices(codes.HPV_STATUS), blank=True)
    hpv_method = models.CharField(max_length=4, choices=_choices(codes.HPV_METHODS), blank=True)
    surgery = models.BooleanField(null=True, blank=True, help_text=_("Was the cancer operated on?"))
    surgery_date = PartialDateField(null=True, blank=True)
    surgery_type = models.CharField(max_length=12, choices=_choices(codes.SURGERY_TYPES), blank=True)
    neck_dissection = models.BooleanField(null=True, blank=True)
    recurrence = models.BooleanField(null=True, blank=True, help_text=_("Has the cancer recurred?"))
    recurrence_date = PartialDateField(null=True, blank=True)
    recurrence_confirmation = models.CharField(
        max_length=12, choices=_choices(codes.RECURRENCE_CONFIRMATION), blank=True
    )
    recurrence_imaging_count = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text=_("How many imaging examinations confirmed the recurrence.")
    )
    metastasis_excluded = models.BooleanField(
        null=True, blank=True, help_text=_("Distant metastasis ruled out.")
    )
    metastasis_method = models.CharField(max_length=8, choices=_choices(codes.METASTASIS_METHODS), blank=True)
    metastasis_sites = models.TextField(blank=True)

    form_code: ClassVar[str] = "BD"
    form_item_fields: ClassVar[dict[str, str]] = {
        "DIAGDATE": "diagnosis_date",
        "PRIMSITE": "primary_site",
        "HISTOLOGY": "histology",
        "HISTCONF": "histology_confirmation",
        "SETTING": "setting",
        "MEASURABLE": "measurable",
        "HPV": "hpv_status",
        "HPVMETH": "hpv_method",
        "SURGERY": "surgery",
        "SURGDATE": "surgery_date",
        "SURGTYPE": "surgery_type",
        "NECKDISS": "neck_dissection",
        "RECUR": "recurrence",
        "RECURDATE": "recurrence_date",
        "RECURCONF": "recurrence_confirmation",
        "RECURIMG": "recurrence_imaging_count",
        "METSEXCL": "metastasis_excluded",
        "METSMETH": "metastasis_method",
        "METSITES": "metastasis_sites",
    }
    answer_fields: ClassVar[tuple[str, ...]] = tuple(form_item_fields.values())
    editable_fields: ClassVar[tuple[str, ...]] = (
        *tuple(form_item_fields.values()),
        "not_done_reason",
        "not_done_detail",
    )

    class Meta:
        ordering = ["subject", "created"]
        verbose_name = _("disease baseline")
        verbose_name_plural = _("disease baselines")
        constraints = [
            models.UniqueConstraint(
                fields=["subject"], condition=ACTIVE, name="disease_baseline_one_per_subject"
            )
        ]

    def __str__(self) -> str:
        return f"{self.subject} disease baseline"

    def clean(self) -> None:
        super().clean()
        errors: dict[str, Any] = {}
        for answer, date, detail in (
            ("surgery", "surgery_date", ("surgery_type", "neck_dissection")),
            ("recurrence", "recurrence_date", ("recurrence_confirmation", "recurrence_imaging_count")),
        ):
            if getattr(self, answer) is False:
                for name in (date, *detail):
                    if getattr(self, name) not in (None, ""):
                        errors[name] = gettext("The form says there was none.")
            elif getattr(self, date) is not None and getattr(self, answer) is None:
                errors[answer] = gettext("A date is given: answer yes.")
        if self.hpv_method and self.hpv_status in ("", "ND"):
            errors["hpv_method"] = gettext("A method needs an HPV result.")
        if self.metastasis_method and self.metastasis_excluded is None:
            errors["metastasis_excluded"] = gettext("Say whether distant metastasis was ruled out.")
        if (
            self.diagnosis_date
            and self.surgery_date
            and self.surgery_date.latest() < self.diagnosis_date.earliest()
        ):
            errors["surgery_date"] = gettext("The surgery is dated before the diagnosis.")
        if (
            self.surgery_date
            and self.recurrence_date
            and self.recurrence_date.latest() < self.surgery_date.earliest()
        ):
            errors["recurrence_date"] = gettext("The recurrence is dated before the surgery.")
        if errors:
            raise ValidationError(errors)


class PriorTherapy(FormRecord):
    """One prior anticancer agent: its regimen, class, line and setting, dates, outcome, toxicity."""

    regimen = models.CharField(max_length=200, blank=True, help_text=_("The regimen the agent was part of."))
    agent = models.CharField(max_length=100, blank=True)
    agent_class = models.CharField(max_length=20, choices=_choices(codes.PRIOR_CLASSES), blank=True)
    setting = models.CharField(max_length=12, choices=_choices(codes.PRIOR_SETTINGS), blank=True)
    line = models.PositiveSmallIntegerField(null=True, blank=True, help_text=_("Line of therapy (1, 2 ...)."))
    start_date = PartialDateField(null=True, blank=True)
    last_dose_date = PartialDateField(null=True, blank=True)
    ongoing = models.BooleanField(null=True, blank=True)
    cycles = models.PositiveSmallIntegerField(null=True, blank=True)
    best_response = models.CharField(
        max_length=4, choices=_choices(("CR", "PR", "SD", "PD", "NE")), blank=True
    )
    progression = models.BooleanField(null=True, blank=True, help_text=_("Progressed on or after it."))
    toxicity_recovered = models.BooleanField(null=True, blank=True)
    toxicity_grade = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MaxValueValidator(5)],
        help_text=_("The worst toxicity left from it (0: none), graded by `toxicity_ctcae`."),
    )
    toxicity_ctcae = models.CharField(
        max_length=8, blank=True, help_text=_("The CTCAE version of the grade (e.g. 4.03, 5.0).")
    )

    form_code: ClassVar[str] = "PT"
    form_item_fields: ClassVar[dict[str, str]] = {
        "PTTRT": "regimen",
        "PTAGENT": "agent",
        "PTCLASS": "agent_class",
        "PTSETTING": "setting",
        "PTLINE": "line",
        "PTSTDAT": "start_date",
        "PTENDAT": "last_dose_date",
        "PTONGO": "ongoing",
        "PTCYCLES": "cycles",
        "PTBESTRESP": "best_response",
        "PTPROG": "progression",
        "PTTOXREC": "toxicity_recovered",
        "PTTOXGR": "toxicity_grade",
        "PTTOXVER": "toxicity_ctcae",
    }
    answer_fields: ClassVar[tuple[str, ...]] = tuple(form_item_fields.values())
    editable_fields: ClassVar[tuple[str, ...]] = (
        *tuple(form_item_fields.values()),
        "not_done_reason",
        "not_done_detail",
    )

    class Meta:
        ordering = ["subject", "start_date", "created"]
        verbose_name = _("prior anticancer therapy")
        verbose_name_plural = _("prior anticancer therapies")

    def __str__(self) -> str:
        return f"{self.subject} {self.agent or self.regimen} ({self.agent_class})"

    def clean(self) -> None:
        super().clean()
        if self.not_done_reason:
            return
        errors: dict[str, Any] = {}
        if not self.agent_class:
            errors["agent_class"] = gettext("Give the agent's class (UNKNOWN when it is not known).")
        if not (self.agent or self.regimen):
            errors["agent"] = gettext("Name the agent or the regimen.")
        if self.ongoing and self.last_dose_date is not None:
            errors["last_dose_date"] = gettext("An ongoing therapy has no last dose yet.")
        if (
            self.start_date
            and self.last_dose_date
            and self.last_dose_date.latest() < self.start_date.earliest()
        ):
            errors["last_dose_date"] = gettext("The last dose is before the start.")
        if self.toxicity_grade is not None and self.toxicity_grade > 0 and not self.toxicity_ctcae:
            errors["toxicity_ctcae"] = gettext("Say which CTCAE version the grade is in.")
        if errors:
            raise ValidationError(errors)


class MedicalHistory(FormRecord):
    term = models.CharField(max_length=200, blank=True, help_text=_("The condition as the record names it."))
    category = models.CharField(max_length=32, choices=_choices(codes.CONDITION_CATEGORIES), blank=True)
    onset = PartialDateField(null=True, blank=True)
    end = PartialDateField(
        null=True, blank=True, help_text=_("When it resolved (a malignancy: the end of its treatment).")
    )
    ongoing = models.BooleanField(null=True, blank=True)
    baseline_grade = models.CharField(max_length=1, choices=_choices(("1", "2", "3", "4", "5")), blank=True)

    form_code: ClassVar[str] = "MH"
    form_item_fields: ClassVar[dict[str, str]] = {
        "MHTERM": "term",
        "MHCAT": "category",
        "MHSTDAT": "onset",
        "MHENDAT": "end",
        "MHONGO": "ongoing",
        "MHGRADE": "baseline_grade",
    }
    answer_fields: ClassVar[tuple[str, ...]] = tuple(form_item_fields.values())
    editable_fields: ClassVar[tuple[str, ...]] = (
        *tuple(form_item_fields.values()),
        "not_done_reason",
        "not_done_detail",
    )

    class Meta:
        ordering = ["subject", "onset", "created"]
        verbose_name = _("medical history")
        verbose_name_plural = _("medical history")

    def __str__(self) -> str:
        return f"{self.subject} {self.term} ({self.category})"

    def clean(self) -> None:
        super().clean()
        if self.not_done_reason:
            return
        errors: dict[str, Any] = {}
        if not self.term.strip():
            errors["term"] = gettext("Name the condition.")
        if not self.category:
            errors["category"] = gettext("Give the category (OTHER when no criterion names it).")
        if self.ongoing and self.end is not None:
            errors["end"] = gettext("An ongoing condition has no end date.")
        if self.onset and self.end and self.end.latest() < self.onset.earliest():
            errors["end"] = gettext("The end is before the onset.")
        if errors:
            raise ValidationError(errors)


ROUTES = ("IV", "PO", "SC", "IM", "INH", "NAS", "TOP", "OTHER")


class ConcomitantMedication(FormRecord):
    agent = models.CharField(max_length=200, blank=True)
    category = models.CharField(max_length=32, choices=_choices(codes.MEDICATION_CATEGORIES), blank=True)
    indication = models.CharField(max_length=200, blank=True)
    dose = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    dose_unit = models.CharField(max_length=20, blank=True)
    route = models.CharField(max_length=8, choices=_choices(ROUTES), blank=True)
    start = PartialDateField(null=True, blank=True)
    stop = PartialDateField(null=True, blank=True)
    ongoing = models.BooleanField(null=True, blank=True)

    form_code: ClassVar[str] = "CM"
    form_item_fields: ClassVar[dict[str, str]] = {
        "CMTRT": "agent",
        "CMCAT": "category",
        "CMINDC": "indication",
        "CMDOSE": "dose",
        "CMDOSU": "dose_unit",
        "CMROUTE": "route",
        "CMSTDAT": "start",
        "CMENDAT": "stop",
        "CMONGO": "ongoing",
    }
    answer_fields: ClassVar[tuple[str, ...]] = tuple(form_item_fields.values())
    editable_fields: ClassVar[tuple[str, ...]] = (
        *tuple(form_item_fields.values()),
        "not_done_reason",
        "not_done_detail",
    )

    class Meta:
        ordering = ["subject", "start", "created"]
        verbose_name = _("concomitant medication")

    def __str__(self) -> str:
        return f"{self.subject} {self.agent} ({self.category})"

    def clean(self) -> None:
        super().clean()
        if self.not_done_reason:
            return
        errors: dict[str, Any] = {}
        if not self.agent.strip():
            errors["agent"] = gettext("Name the medication.")
        if not self.category:
            errors["category"] = gettext("Give the category (OTHER when no criterion names it).")
        if self.ongoing and self.stop is not None:
            errors["stop"] = gettext("An ongoing medication has no stop date.")
        if self.start and self.stop and self.stop.latest() < self.start.earliest():
            errors["stop"] = gettext("The stop is before the start.")
        if self.dose is not None and not self.dose_unit.strip():
            errors["dose_unit"] = gettext("A dose needs its unit.")
        if errors:
            raise ValidationError(errors)


class HistoryAnswers(FormRecord):
    """The explicit answers that make a missing history row mean "none", not "not recorded".

    One per subject. Each answer empty: not asked yet (the eligibility criteria that read that part
    of the history need the investigator). Medication answers cover the `medication_window_weeks`
    before the first dose (empty: the whole history).
    """

    any_prior_therapy = models.BooleanField(
        null=True, blank=True, help_text=_("Any prior anticancer therapy?")
    )
    any_condition = models.BooleanField(
        null=True, blank=True, help_text=_("Any of the medical history categories (autoimmune disease, ...)?")
    )
    any_growth_factor = models.BooleanField(null=True, blank=True)
    any_immunosuppressant = models.BooleanField(null=True, blank=True)
    any_live_vaccine = models.BooleanField(null=True, blank=True)
    any_investigational_drug = models.BooleanField(null=True, blank=True)
    any_transfusion = models.BooleanField(null=True, blank=True)
    medication_window_weeks = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text=_("The medication answers cover this many weeks; empty: ever.")
    )

    form_code: ClassVar[str] = "HX"
    form_item_fields: ClassVar[dict[str, str]] = {
        "PTYN": "any_prior_therapy",
        "MHYN": "any_condition",
        "CMGFYN": "any_growth_factor",
        "CMISYN": "any_immunosuppressant",
        "CMLVYN": "any_live_vaccine",
        "CMIDYN": "any_investigational_drug",
        "CMTFYN": "any_transfusion",
        "CMWINDOW": "medication_window_weeks",
    }
    answer_fields: ClassVar[tuple[str, ...]] = tuple(form_item_fields.values())
    editable_fields: ClassVar[tuple[str, ...]] = (
        *tuple(form_item_fields.values()),
        "not_done_reason",
        "not_done_detail",
    )
    # The medication answer of each topic (codes.MEDICATION_TOPICS).
    MEDICATION_ANSWERS: ClassVar[dict[str, str]] = {
        "GROWTH_FACTOR": "any_growth_factor",
        "IMMUNOSUPPRESSANT": "any_immunosuppressant",
        "LIVE_VACCINE": "any_live_vaccine",
        "INVESTIGATIONAL_DRUG": "any_investigational_drug",
        "TRANSFUSION": "any_transfusion",
    }

    class Meta:
        ordering = ["subject", "created"]
        verbose_name = _("history answers")
        verbose_name_plural = _("history answers")
        constraints = [
            models.UniqueConstraint(
                fields=["subject"], condition=ACTIVE, name="history_answers_one_per_subject"
            )
        ]

    def __str__(self) -> str:
        return f"{self.subject} history answers"


# --- radiotherapy, biomarkers, after treatment (issue 19) --------------------------------------

NY_CHOICES = [(codes.YES, _("Yes")), (codes.NO, _("No"))]


class RadiotherapyCourse(FormRecord):
    """One course of radiotherapy: before the study (screening history) or given on study.

    On study: seed 001's low-dose and stereotactic radiotherapy of selected lesions, seed 004's
    concurrent chemoradiotherapy. The lesions irradiated on study are linked per lesion by the tumor
    forms (TU: TUIRRAD); `target` names the lesions or region as the plan does. Doses are stored in
    Gy (a dose entered in cGy is converted by the service through edc/core/units.py).
    """

    target = models.CharField(max_length=200, blank=True, help_text=_("Lesions or region irradiated."))
    technique = models.CharField(max_length=8, choices=_choices(codes.RT_TECHNIQUES), blank=True)
    on_study = models.BooleanField(
        null=True, blank=True, help_text=_("Given on study (no: radiotherapy before the study).")
    )
    kind = models.CharField(
        max_length=8,
        choices=_choices(codes.RT_KINDS),
        blank=True,
        help_text=_("What the course on study is (low-dose, stereotactic, chemoradiotherapy)."),
    )
    dose_per_fraction_gy = models.DecimalField(max_digits=6, decimal_places=3, null=True, blank=True)
    fractions = models.PositiveSmallIntegerField(null=True, blank=True)
    total_dose_gy = models.DecimalField(max_digits=6, decimal_places=3, null=True, blank=True)
    start_date = PartialDateField(null=True, blank=True)
    end_date = PartialDateField(null=True, blank=True)
    interrupted = models.BooleanField(null=True, blank=True)
    interruption_days = models.PositiveSmallIntegerField(null=True, blank=True)
    interruption_reason = models.TextField(blank=True)

    form_code: ClassVar[str] = "RT"
    form_item_fields: ClassVar[dict[str, str]] = {
        "RTSITE": "target",
        "RTTECH": "technique",
        "RTONSTUDY": "on_study",
        "RTKIND": "kind",
        "RTDOSEFX": "dose_per_fraction_gy",
        "RTFX": "fractions",
        "RTDOSE": "total_dose_gy",
        "RTSTDAT": "start_date",
        "RTENDAT": "end_date",
        "RTINT": "interrupted",
        "RTINTDAYS": "interruption_days",
        "RTINTREAS": "interruption_reason",
    }
    form_field_units: ClassVar[dict[str, str]] = {
        "dose_per_fraction_gy": "Gy",
        "total_dose_gy": "Gy",
    }
    answer_fields: ClassVar[tuple[str, ...]] = tuple(form_item_fields.values())
    editable_fields: ClassVar[tuple[str, ...]] = (
        "visit",
        *tuple(form_item_fields.values()),
        "not_done_reason",
        "not_done_detail",
    )
    # Total = dose per fraction x fractions, to this tolerance (rounded prescriptions).
    TOTAL_TOLERANCE_GY: ClassVar[Decimal] = Decimal("0.05")

    class Meta:
        ordering = ["subject", "start_date", "created"]
        verbose_name = _("radiotherapy course")
        verbose_name_plural = _("radiotherapy courses")
        indexes = [models.Index(fields=["subject", "start_date"], name="rt_subject_start")]

    def __str__(self) -> str:
        return f"{self.subject} RT {self.target} {self.total_dose_gy or ''} Gy".strip()

    def clean(self) -> None:
        super().clean()
        if self.not_done_reason:
            return
        errors: dict[str, Any] = {}
        if not self.target.strip():
            errors["target"] = gettext("Name the lesions or region irradiated.")
        if not self.technique:
            errors["technique"] = gettext("Give the technique (OTHER when none fits).")
        if self.on_study is None:
            errors["on_study"] = gettext("Say whether the course was given on study.")
        elif self.on_study and not self.kind:
            errors["kind"] = gettext(
                "Say what the course on study is (low-dose, stereotactic, chemoradiotherapy)."
            )
        elif not self.on_study and self.kind:
            errors["kind"] = gettext("Only a course given on study has a kind.")
        if self.start_date is None:
            errors["start_date"] = gettext("Give the start date (as much as is known).")
        elif self.on_study and not self.start_date.is_complete:
            errors["start_date"] = gettext("A course given on study has a complete start date.")
        if self.end_date is not None and self.on_study and not self.end_date.is_complete:
            errors["end_date"] = gettext("A course given on study has a complete end date.")
        if self.start_date and self.end_date and self.end_date.latest() < self.start_date.earliest():
            errors["end_date"] = gettext("The end is before the start.")
        if self.total_dose_gy is None:
            errors["total_dose_gy"] = gettext("Give the total dose in Gy.")
        if self.fractions is None:
            errors["fractions"] = gettext("Give the number of fractions.")
        elif self.fractions == 0:
            errors["fractions"] = gettext("At least one fraction.")
        per, count, total = self.dose_per_fraction_gy, self.fractions, self.total_dose_gy
        if (
            per is not None
            and count
            and total is not None
            and "fractions" not in errors
            and abs(per * count - total) > self.TOTAL_TOLERANCE_GY
        ):
            errors["total_dose_gy"] = gettext(
                "{total} Gy is not {per} Gy x {count} fractions ({product} Gy)."
            ).format(total=total, per=per, count=count, product=per * count)
        if self.interrupted:
            if not self.interruption_reason.strip():
                errors["interruption_reason"] = gettext("Give the reason for the interruption.")
        elif self.interruption_days is not None or self.interruption_reason.strip():
            errors["interrupted"] = gettext("Details of an interruption are given: answer yes.")
        if errors:
            raise ValidationError(errors)


class Biomarker(FormRecord):
    """One biomarker result: PD-L1 (CPS or TPS, the assay, positive or negative by the study's
    cut-off), VEGFR-2 expression (seed 003), plasma EBV DNA copies/mL (nasopharyngeal carcinoma).

    HPV / p16 stays on the disease baseline. The PD-L1 status is derived at entry from the study's
    cut-off (codes.PDL1_CUTOFFS) and stored with the cut-off it used, so a later change of cut-off
    never changes a stored reading silently.
    """

    date = models.DateField(help_text=_("The day the sample was taken."))
    test = models.CharField(max_length=8, choices=_choices(codes.BIOMARKER_TESTS))
    assay = models.CharField(
        max_length=100, blank=True, help_text=_("Antibody clone / kit (22C3, SP263 ...).")
    )
    pdl1_score = models.CharField(max_length=4, choices=_choices(codes.PDL1_SCORES), blank=True)
    pdl1_value = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    pdl1_cutoff = models.DecimalField(
        max_digits=6, decimal_places=2, null=True, blank=True, editable=False, help_text=_("Derived.")
    )
    pdl1_status = models.CharField(
        max_length=4, choices=_choices(codes.BIOMARKER_STATUSES), blank=True, editable=False
    )
    vegfr2_status = models.CharField(max_length=4, choices=_choices(codes.BIOMARKER_STATUSES), blank=True)
    vegfr2_percent = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    ebv_dna = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    ebv_undetectable = models.BooleanField(
        null=True, blank=True, help_text=_("Below the assay's limit of detection.")
    )

    form_code: ClassVar[str] = "BM"
    form_item_fields: ClassVar[dict[str, str]] = {
        "BMDATE": "date",
        "BMTEST": "test",
        "BMASSAY": "assay",
        "PDL1SCORE": "pdl1_score",
        "PDL1VAL": "pdl1_value",
        "PDL1CUT": "pdl1_cutoff",
        "PDL1STAT": "pdl1_status",
        "VEGFR2STAT": "vegfr2_status",
        "VEGFR2PCT": "vegfr2_percent",
        "EBVDNA": "ebv_dna",
        "EBVUND": "ebv_undetectable",
    }
    form_field_units: ClassVar[dict[str, str]] = {"vegfr2_percent": "%"}
    answer_fields: ClassVar[tuple[str, ...]] = (
        "assay",
        "pdl1_score",
        "pdl1_value",
        "pdl1_cutoff",
        "pdl1_status",
        "vegfr2_status",
        "vegfr2_percent",
        "ebv_dna",
        "ebv_undetectable",
    )
    editable_fields: ClassVar[tuple[str, ...]] = (
        "visit",
        "date",
        "test",
        "assay",
        "pdl1_score",
        "pdl1_value",
        "vegfr2_status",
        "vegfr2_percent",
        "ebv_dna",
        "ebv_undetectable",
        "not_done_reason",
        "not_done_detail",
    )
    # Which items belong to which test (the others stay empty).
    TEST_FIELDS: ClassVar[dict[str, tuple[str, ...]]] = {
        codes.PDL1: ("assay", "pdl1_score", "pdl1_value"),
        codes.VEGFR2: ("assay", "vegfr2_status", "vegfr2_percent"),
        codes.EBVDNA: ("assay", "ebv_dna", "ebv_undetectable"),
    }

    class Meta:
        ordering = ["subject", "date", "test", "created"]
        verbose_name = _("biomarker result")
        verbose_name_plural = _("biomarker results")
        indexes = [models.Index(fields=["subject", "test", "date"], name="bm_subject_test_date")]

    def __str__(self) -> str:
        return f"{self.subject} {self.test} {self.date}"

    def clean(self) -> None:
        super().clean()
        if self.not_done_reason or not self.test:
            return
        errors: dict[str, Any] = {}
        allowed = set(self.TEST_FIELDS.get(self.test, ()))
        for name in self.editable_fields:
            if name in self.answer_fields and name not in allowed and getattr(self, name) not in (None, ""):
                errors[name] = gettext("Not an item of a {test} result.").format(test=self.test)
        if self.test == codes.PDL1:
            if not self.pdl1_score:
                errors["pdl1_score"] = gettext("Say how PD-L1 was scored (CPS or TPS).")
            if self.pdl1_value is None:
                errors["pdl1_value"] = gettext("Give the PD-L1 score, or mark the test not done.")
            if not self.assay.strip():
                errors["assay"] = gettext("Name the assay (antibody clone or kit).")
        elif self.test == codes.VEGFR2:
            if not self.vegfr2_status and self.vegfr2_percent is None:
                errors["vegfr2_status"] = gettext("Give the VEGFR-2 result, or mark the test not done.")
        elif self.test == codes.EBVDNA:
            if self.ebv_undetectable and self.ebv_dna not in (None, Decimal(0)):
                errors["ebv_dna"] = gettext("An undetectable result has no copy number.")
            elif not self.ebv_undetectable and self.ebv_dna is None:
                errors["ebv_dna"] = gettext("Give the copies/mL, or say it was undetectable.")
        if errors:
            raise ValidationError(errors)


class SurvivalFollowUp(FormRecord):
    """One follow-up contact after treatment: how the subject was reached and their vital status.

    A new anticancer therapy is recorded on its own form (SubsequentTherapy, the one store of its
    start date); a death on the death form (Death), before a contact says "dead".
    """

    contact_date = models.DateField()
    method = models.CharField(max_length=8, choices=_choices(codes.CONTACT_METHODS), blank=True)
    vital_status = models.CharField(max_length=12, choices=_choices(codes.SURVIVAL_STATUSES), blank=True)
    last_known_alive = models.DateField(null=True, blank=True)
    new_therapy = models.BooleanField(
        null=True, blank=True, help_text=_("A new anticancer therapy started since the last contact.")
    )
    progression = models.BooleanField(
        null=True, blank=True, help_text=_("Progression reported since the last contact.")
    )

    form_code: ClassVar[str] = "FU"
    form_item_fields: ClassVar[dict[str, str]] = {
        "FUDATE": "contact_date",
        "FUMETHOD": "method",
        "FUSTAT": "vital_status",
        "LASTALIVE": "last_known_alive",
        "NEWTRT": "new_therapy",
        "PROG": "progression",
    }
    answer_fields: ClassVar[tuple[str, ...]] = (
        "method",
        "vital_status",
        "last_known_alive",
        "new_therapy",
        "progression",
    )
    editable_fields: ClassVar[tuple[str, ...]] = (
        "visit",
        *tuple(form_item_fields.values()),
        "not_done_reason",
        "not_done_detail",
    )

    class Meta:
        ordering = ["subject", "contact_date", "created"]
        verbose_name = _("survival follow-up")
        verbose_name_plural = _("survival follow-up contacts")
        indexes = [models.Index(fields=["subject", "contact_date"], name="fu_subject_date")]

    def __str__(self) -> str:
        return f"{self.subject} FU {self.contact_date} {self.vital_status}"

    @property
    def lost_to_follow_up(self) -> bool:
        return self.vital_status == codes.LOST

    def clean(self) -> None:
        super().clean()
        if self.not_done_reason:
            return
        errors: dict[str, Any] = {}
        if not self.method:
            errors["method"] = gettext("Say how the subject was contacted.")
        if not self.vital_status:
            errors["vital_status"] = gettext("Give the survival status.")
        if self.vital_status in (codes.ALIVE, codes.LOST) and self.last_known_alive is None:
            errors["last_known_alive"] = gettext("Give the last date the subject was known alive.")
        if (
            self.last_known_alive
            and isinstance(self.contact_date, dt.date)
            and self.last_known_alive > self.contact_date
        ):
            errors["last_known_alive"] = gettext("The last date known alive is after the contact.")
        if (
            self.vital_status == codes.ALIVE
            and self.method == "VISIT"
            and self.last_known_alive
            and isinstance(self.contact_date, dt.date)
            and self.last_known_alive != self.contact_date
        ):
            errors["last_known_alive"] = gettext("Seen alive at the clinic: the contact date.")
        if self.new_therapy is None and self.vital_status == codes.ALIVE:
            errors["new_therapy"] = gettext("Say whether a new anticancer therapy started.")
        if errors:
            raise ValidationError(errors)


class SubsequentTherapy(FormRecord):
    """A new anticancer therapy after study treatment: it ends PFS follow-up by censoring."""

    start_date = PartialDateField(null=True, blank=True)
    regimen = models.CharField(max_length=200, blank=True)
    agent_class = models.CharField(max_length=20, choices=_choices(codes.PRIOR_CLASSES), blank=True)
    line = models.PositiveSmallIntegerField(null=True, blank=True, help_text=_("Line of therapy (2, 3 ...)."))
    end_date = PartialDateField(null=True, blank=True)

    form_code: ClassVar[str] = "ST"
    form_item_fields: ClassVar[dict[str, str]] = {
        "STSTDAT": "start_date",
        "STTRT": "regimen",
        "STCLASS": "agent_class",
        "STLINE": "line",
        "STENDAT": "end_date",
    }
    answer_fields: ClassVar[tuple[str, ...]] = tuple(form_item_fields.values())
    editable_fields: ClassVar[tuple[str, ...]] = (
        "visit",
        *tuple(form_item_fields.values()),
        "not_done_reason",
        "not_done_detail",
    )

    class Meta:
        ordering = ["subject", "start_date", "created"]
        verbose_name = _("subsequent anticancer therapy")
        verbose_name_plural = _("subsequent anticancer therapies")
        indexes = [models.Index(fields=["subject", "start_date"], name="st_subject_start")]

    def __str__(self) -> str:
        return f"{self.subject} {self.regimen} from {self.start_date}"

    def clean(self) -> None:
        super().clean()
        if self.not_done_reason:
            return
        errors: dict[str, Any] = {}
        if self.start_date is None:
            errors["start_date"] = gettext("Give the start date (as much as is known).")
        if not self.regimen.strip():
            errors["regimen"] = gettext("Name the regimen.")
        if self.start_date and self.end_date and self.end_date.latest() < self.start_date.earliest():
            errors["end_date"] = gettext("The end is before the start.")
        if errors:
            raise ValidationError(errors)


class Death(FormRecord):
    """The death of a subject: recorded once, through `death_record` (it ends the schedule)."""

    death_date = PartialDateField(help_text=_("YYYY-MM-DD, or YYYY-MM / YYYY when only that is known."))
    cause = models.CharField(max_length=8, choices=_choices(codes.DEATH_CAUSES), blank=True)
    cause_detail = models.TextField(blank=True)
    autopsy = models.CharField(max_length=1, choices=NY_CHOICES, blank=True)

    form_code: ClassVar[str] = "DD"
    form_item_fields: ClassVar[dict[str, str]] = {
        "DTHDAT": "death_date",
        "DTHCAUSE": "cause",
        "DTHSPEC": "cause_detail",
        "AUTOPSY": "autopsy",
    }
    answer_fields: ClassVar[tuple[str, ...]] = tuple(form_item_fields.values())
    # The date is the schedule's end: a correction goes through death_update (it re-cancels).
    editable_fields: ClassVar[tuple[str, ...]] = ("visit", "death_date", "cause", "cause_detail", "autopsy")

    class Meta:
        ordering = ["subject", "created"]
        verbose_name = _("death")
        verbose_name_plural = _("deaths")
        constraints = [
            models.UniqueConstraint(fields=["subject"], condition=ACTIVE, name="death_one_per_subject")
        ]

    def __str__(self) -> str:
        return f"{self.subject} died {self.death_date}"

    def clean(self) -> None:
        super().clean()
        errors: dict[str, Any] = {}
        if self.not_done_reason:
            errors["not_done_reason"] = gettext("A death is recorded or not: the form has no 'not done'.")
        if not self.cause:
            errors["cause"] = gettext("Give the primary cause (UNK when it is not known).")
        if self.cause == "OTHER" and not self.cause_detail.strip():
            errors["cause_detail"] = gettext("Specify the other cause.")
        if errors:
            raise ValidationError(errors)


class RestrictedMedicationFlag(SiteOwnedModel):
    """A concomitant medication inside a restricted-medication rule's window (edc/core/restricted_meds).

    Raised on entry of the medication (and refreshed when it changes); the data-integrity work turns
    flags into queries. `certain` is false when a partial or missing date only makes it possible.
    A flag no longer raised by the data is voided, with the reason, never deleted.
    """

    subject = models.ForeignKey("subjects.Subject", on_delete=models.PROTECT, related_name="+")
    medication = models.ForeignKey(ConcomitantMedication, on_delete=models.PROTECT, related_name="flags")
    rule = models.CharField(max_length=16, help_text=_("The rule's code (002-E4, 004-E14 ...)."))
    seed = models.CharField(max_length=100, help_text=_("The seed record the rule comes from."))
    criterion = models.CharField(max_length=40)
    category = models.CharField(max_length=40)
    windows = models.CharField(max_length=40, help_text=_("before_first_dose and/or on_trial."))
    certain = models.BooleanField()
    first_dose = models.DateField(help_text=_("The first dose the window counted from."))
    message = models.TextField()

    lock_parents: ClassVar[tuple[str, ...]] = ("subject", "study")
    fixed_fields: ClassVar[tuple[str, ...]] = ("study", "subject", "medication", "rule")

    class Meta:
        ordering = ["subject", "medication", "rule"]
        verbose_name = _("restricted medication flag")
        constraints = [
            models.UniqueConstraint(
                fields=["medication", "rule"], condition=ACTIVE, name="restricted_flag_one_per_rule"
            )
        ]

    def __str__(self) -> str:
        return self.message


# Every form model of this app, by its registry code (the API, the admin and the import use it).
FORM_MODELS: dict[str, type[FormRecord]] = {
    model.form_code: model
    for model in (
        VitalSigns,
        EcogAssessment,
        LabResult,
        PregnancyTest,
        DiseaseBaseline,
        PriorTherapy,
        MedicalHistory,
        ConcomitantMedication,
        HistoryAnswers,
        RadiotherapyCourse,
        Biomarker,
        SurvivalFollowUp,
        SubsequentTherapy,
        Death,
    )
}
# The forms whose date is a procedure done on the patient: never before consent.
PROCEDURE_FORMS = ("VS", "ECOG", "LB", "PREG")
