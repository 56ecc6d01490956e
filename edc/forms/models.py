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
    )
}
# The forms whose date is a procedure done on the patient: never before consent.
PROCEDURE_FORMS = ("VS", "ECOG", "LB", "PREG")
