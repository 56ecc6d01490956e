"""Trial definitions. See docs/definitions.md for the contract with the engines and the fixtures.

Every definition model carries `assumption` (free text: why the object as a whole is ours, not the
protocol's) and `assumptions` ({field: reason}); both blank mean the object is protocol text.
Definitions are audited (simple-history) so that an amendment loaded later can be traced.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from studies.validation import (
    validate_assumptions,
    validate_criterion_rule,
    validate_dose_unit,
    validate_dosing_days,
    validate_item_unit,
    validate_response_criteria,
    validate_text_list,
)
from studies.validation import validate_time_zone as validate_time_zone  # named by migration 0001


def _raise(errors: dict[str, ValidationError]) -> None:
    if errors:
        raise ValidationError(errors)


def _same_study(errors: dict[str, ValidationError], obj: Any, *names: str) -> None:
    """A reference to an arm or phase must stay inside the object's own study."""
    for name in names:
        other = getattr(obj, name, None) if getattr(obj, f"{name}_id", None) else None
        if other is not None and obj.study_id and other.study_id != obj.study_id:
            errors[name] = ValidationError(
                gettext("%(other)s belongs to another study.") % {"other": other}, code="other_study"
            )


class AssumptionFields(models.Model):
    assumption = models.TextField(
        blank=True,
        help_text=_("Why this object is ours; blank: protocol text."),
        verbose_name=_("assumption"),
    )
    assumptions = models.JSONField(
        default=dict,
        blank=True,
        validators=[validate_assumptions],
        help_text=_("{field: reason} for assumed fields."),
        verbose_name=_("assumptions"),
    )

    class Meta:
        abstract = True

    @property
    def is_assumed(self) -> bool:
        return bool(self.assumption or self.assumptions)


# --- choices -------------------------------------------------------------------------------------


class Design(models.TextChoices):
    SINGLE_ARM = "single_arm", _("Single arm")
    NON_RANDOMISED = "non_randomised", _("Non-randomised")
    RANDOMISED = "randomised", _("Randomised")


class StudyStatus(models.TextChoices):
    NOT_YET_RECRUITING = "not_yet_recruiting", _("Not yet recruiting")
    RECRUITING = "recruiting", _("Recruiting")
    ENROLLING_BY_INVITATION = "enrolling_by_invitation", _("Enrolling by invitation")
    ACTIVE = "active", _("Active")
    ACTIVE_NOT_RECRUITING = "active_not_recruiting", _("Active, not recruiting")
    SUSPENDED = "suspended", _("Suspended")
    TERMINATED = "terminated", _("Terminated")
    COMPLETED = "completed", _("Completed")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    UNKNOWN = "unknown", _("Unknown")


class ResponseCriteria(models.TextChoices):
    RECIST11 = "RECIST1.1", _("RECIST 1.1")
    IRECIST = "iRECIST", _("iRECIST")


class CollectionStart(models.TextChoices):
    CONSENT = "consent", _("Informed consent")
    FIRST_DOSE = "first_dose", _("First dose")


class ArmKind(models.TextChoices):
    EXPERIMENTAL = "experimental", _("Experimental")
    ACTIVE_COMPARATOR = "active_comparator", _("Active comparator")
    PLACEBO_COMPARATOR = "placebo_comparator", _("Placebo comparator")
    NO_INTERVENTION = "no_intervention", _("No intervention")
    OTHER = "other", _("Other")


class InterventionKind(models.TextChoices):
    DRUG = "drug", _("Drug")
    RADIOTHERAPY = "radiotherapy", _("Radiotherapy")
    PROCEDURE = "procedure", _("Procedure")


class DoseBasis(models.TextChoices):
    FLAT = "flat", _("Flat dose")
    PER_KG = "per_kg", _("Per kg body weight")
    PER_M2 = "per_m2", _("Per m² body surface area")


class DosePer(models.TextChoices):
    DOSE = "dose", _("Per administration")
    DAY = "day", _("Per day")


class DoseRole(models.TextChoices):
    LOADING = "loading", _("Loading dose")
    MAINTENANCE = "maintenance", _("Maintenance dose")
    SINGLE = "single", _("Single dose")


class CriterionKind(models.TextChoices):
    INCLUSION = "inclusion", _("Inclusion")
    EXCLUSION = "exclusion", _("Exclusion")


class VisitKind(models.TextChoices):
    SCREENING = "screening", _("Screening")
    TREATMENT = "treatment", _("Treatment")
    IMAGING = "imaging", _("Imaging")
    END_OF_TREATMENT = "end_of_treatment", _("End of treatment")
    SAFETY_FOLLOW_UP = "safety_follow_up", _("Safety follow-up")
    SURVIVAL_FOLLOW_UP = "survival_follow_up", _("Survival follow-up")
    UNSCHEDULED = "unscheduled", _("Unscheduled")


class VisitAnchor(models.TextChoices):
    CONSENT = "consent", _("Informed consent")
    ENROLLMENT = "enrollment", _("Enrollment")
    FIRST_DOSE = "first_dose", _("First dose")
    LAST_DOSE = "last_dose", _("Last dose")
    END_OF_TREATMENT = "end_of_treatment", _("End of treatment")


class RepeatFrom(models.TextChoices):
    ANCHOR = "anchor", _("Anchor (targets never shift)")
    PREVIOUS_ACTUAL = "previous_actual", _("Previous occurrence's actual date")


class OnEndOfTreatment(models.TextChoices):
    STOP = "stop", _("Stop")
    CONTINUE_UNLESS_PROGRESSION = "continue_unless_progression", _("Continue unless ended for progression")
    CONTINUE = "continue", _("Continue")


class EndpointKind(models.TextChoices):
    PRIMARY = "primary", _("Primary")
    SECONDARY = "secondary", _("Secondary")
    EXPLORATORY = "exploratory", _("Exploratory")


class EndpointAnchor(models.TextChoices):
    FIRST_DOSE = "first_dose", _("First dose")
    ENROLLMENT = "enrollment", _("Enrollment")
    REGISTRATION = "registration", _("Registration")


class DataType(models.TextChoices):
    TEXT = "text", _("Text")
    INTEGER = "integer", _("Integer")
    DECIMAL = "decimal", _("Decimal")
    DATE = "date", _("Date")
    PARTIAL_DATE = "partial_date", _("Partial date")
    DATETIME = "datetime", _("Date and time")
    BOOLEAN = "boolean", _("Yes/no")
    CHOICE = "choice", _("Choice (codelist)")


# --- managers (natural keys) ---------------------------------------------------------------------


class StudyManager(models.Manager["Study"]):
    def get_by_natural_key(self, protocol_id: str) -> Study:
        return self.get(protocol_id=protocol_id)


class StudyChildManager(models.Manager):
    """Objects unique by (study, code)."""

    def get_by_natural_key(self, protocol_id: str, code: str) -> models.Model:
        return self.get(study__protocol_id=protocol_id, code=code)


class CriterionManager(models.Manager["EligibilityCriterion"]):
    def get_by_natural_key(self, protocol_id: str, kind: str, number: str) -> EligibilityCriterion:
        return self.get(study__protocol_id=protocol_id, kind=kind, number=number)


class FormItemManager(models.Manager["FormItem"]):
    def get_by_natural_key(self, form_code: str, version: str, code: str) -> FormItem:
        return self.get(form__code=form_code, form__version=version, code=code)


class CodelistItemManager(models.Manager["CodelistItem"]):
    def get_by_natural_key(self, codelist_code: str, code: str) -> CodelistItem:
        return self.get(codelist__code=codelist_code, code=code)


class CodeManager(models.Manager):
    def get_by_natural_key(self, code: str) -> models.Model:
        return self.get(code=code)


# --- the study -----------------------------------------------------------------------------------


class Study(AssumptionFields):
    protocol_id = models.CharField(max_length=64, unique=True, verbose_name=_("protocol ID"))
    registry_id = models.CharField(max_length=32, blank=True, verbose_name=_("registry ID"))
    seed = models.CharField(
        max_length=100,
        blank=True,
        help_text=_("The registry record the definition is written from."),
        verbose_name=_("seed"),
    )
    title = models.TextField(verbose_name=_("title"))
    short_title = models.CharField(max_length=200, blank=True, verbose_name=_("short title"))
    phase = models.CharField(max_length=32, blank=True, verbose_name=_("phase"))
    design = models.CharField(max_length=20, choices=Design.choices, blank=True, verbose_name=_("design"))
    condition = models.TextField(blank=True, verbose_name=_("condition"))
    sponsor = models.CharField(max_length=255, blank=True, verbose_name=_("sponsor"))
    target_enrollment = models.PositiveIntegerField(
        null=True, blank=True, verbose_name=_("target enrollment")
    )
    status = models.CharField(
        max_length=32, choices=StudyStatus.choices, blank=True, verbose_name=_("status")
    )
    ctcae_version = models.CharField(max_length=10, default="5.0", verbose_name=_("CTCAE version"))
    response_criteria = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_response_criteria],
        help_text=_('e.g. ["RECIST1.1", "iRECIST"]'),
        verbose_name=_("response criteria"),
    )
    # The confirmation rule the response endpoints use (RECIST 1.1 section 4.3).
    confirmation_required = models.BooleanField(default=False, verbose_name=_("confirmation required"))
    confirmation_min_interval_days = models.PositiveIntegerField(
        default=28, verbose_name=_("minimum confirmation interval (days)")
    )
    min_sd_duration_days = models.PositiveIntegerField(
        null=True, blank=True, verbose_name=_("minimum SD duration (days)")
    )
    max_treatment_days = models.PositiveIntegerField(
        null=True, blank=True, verbose_name=_("maximum treatment (days)")
    )
    schedule_horizon_days = models.PositiveIntegerField(
        null=True, blank=True, verbose_name=_("schedule horizon (days)")
    )
    follow_up_rule = models.TextField(blank=True, verbose_name=_("follow-up rule"))
    enrollment_period_months = models.PositiveIntegerField(
        null=True, blank=True, verbose_name=_("enrollment period (months)")
    )
    study_duration_months = models.PositiveIntegerField(
        null=True, blank=True, verbose_name=_("study duration (months)")
    )
    ae_collection_start = models.CharField(
        max_length=20,
        choices=CollectionStart.choices,
        default=CollectionStart.CONSENT,
        verbose_name=_("AE collection start"),
    )
    ae_collection_end_days_after_last_dose = models.PositiveIntegerField(
        null=True, blank=True, verbose_name=_("AE collection end (days after last dose)")
    )
    sae_collection_start = models.CharField(
        max_length=20,
        choices=CollectionStart.choices,
        default=CollectionStart.CONSENT,
        verbose_name=_("SAE collection start"),
    )
    irae_collection_end_days_after_last_dose = models.PositiveIntegerField(
        null=True, blank=True, verbose_name=_("irAE collection end (days after last dose)")
    )
    dose_recalc_weight_change_pct = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("10"),
        verbose_name=_("dose recalculation on weight change (%)"),
    )
    # Set by the data-lock workflow; a locked study refuses every change to its data.
    locked_at = models.DateTimeField(null=True, blank=True, verbose_name=_("locked at"))
    history = HistoricalRecords()

    objects = StudyManager()

    class Meta:
        verbose_name = _("study")
        ordering = ["protocol_id"]
        verbose_name_plural = _("studies")

    def __str__(self) -> str:
        return self.short_title or self.protocol_id

    def natural_key(self) -> tuple[str]:
        return (self.protocol_id,)

    @property
    def is_locked(self) -> bool:
        return self.locked_at is not None

    @property
    def current_version(self) -> StudyVersion | None:
        """The definition version in force: the last one recorded."""
        return self.versions.order_by("-loaded_at", "-id").first()


class Site(AssumptionFields):
    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="sites", verbose_name=_("study"))
    code = models.CharField(max_length=32, verbose_name=_("code"))
    name = models.CharField(max_length=255, verbose_name=_("name"))
    city = models.CharField(max_length=100, blank=True, verbose_name=_("city"))
    country = models.CharField(max_length=100, blank=True, verbose_name=_("country"))
    time_zone = models.CharField(
        max_length=64, default="Asia/Shanghai", validators=[validate_time_zone], verbose_name=_("time zone")
    )
    history = HistoricalRecords()

    objects = StudyChildManager()

    class Meta:
        verbose_name = _("site")
        verbose_name_plural = _("sites")
        ordering = ["study__protocol_id", "code"]
        constraints = [models.UniqueConstraint(fields=["study", "code"], name="site_code_unique_per_study")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def natural_key(self) -> tuple[str, str]:
        return (self.study.protocol_id, self.code)

    # Django's documented way to declare a natural key's dependencies: an attribute on the method.
    natural_key.dependencies = ["studies.study"]  # type: ignore[attr-defined]

    def today(self, now: dt.datetime | None = None) -> dt.date:
        """The calendar date at the site now: overdue visits and deadlines count in site days."""
        now = now or timezone.now()
        return now.astimezone(zoneinfo.ZoneInfo(self.time_zone)).date()


class Arm(AssumptionFields):
    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="arms", verbose_name=_("study"))
    code = models.CharField(max_length=32, verbose_name=_("code"))
    name = models.CharField(max_length=255, verbose_name=_("name"))
    kind = models.CharField(
        max_length=24, choices=ArmKind.choices, default=ArmKind.EXPERIMENTAL, verbose_name=_("kind")
    )
    description = models.TextField(blank=True, verbose_name=_("description"))
    order = models.PositiveIntegerField(default=0, verbose_name=_("order"))
    history = HistoricalRecords()

    objects = StudyChildManager()

    class Meta:
        verbose_name = _("arm")
        verbose_name_plural = _("arms")
        ordering = ["study__protocol_id", "order", "code"]
        constraints = [models.UniqueConstraint(fields=["study", "code"], name="arm_code_unique_per_study")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def natural_key(self) -> tuple[str, str]:
        return (self.study.protocol_id, self.code)


class TreatmentPhase(AssumptionFields):
    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="phases", verbose_name=_("study"))
    code = models.CharField(max_length=32, verbose_name=_("code"))
    name = models.CharField(max_length=255, verbose_name=_("name"))
    arm = models.ForeignKey(
        Arm, on_delete=models.PROTECT, related_name="phases", null=True, blank=True, verbose_name=_("arm")
    )
    order = models.PositiveIntegerField(default=0, verbose_name=_("order"))
    entry_rule = models.TextField(
        blank=True, help_text=_("When a subject enters this phase, in words."), verbose_name=_("entry rule")
    )
    description = models.TextField(blank=True, verbose_name=_("description"))
    history = HistoricalRecords()

    objects = StudyChildManager()

    class Meta:
        verbose_name = _("treatment phase")
        verbose_name_plural = _("treatment phases")
        ordering = ["study__protocol_id", "order", "code"]
        constraints = [models.UniqueConstraint(fields=["study", "code"], name="phase_code_unique_per_study")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def natural_key(self) -> tuple[str, str]:
        return (self.study.protocol_id, self.code)

    def clean(self) -> None:
        errors: dict[str, ValidationError] = {}
        _same_study(errors, self, "arm")
        _raise(errors)


class Intervention(AssumptionFields):
    study = models.ForeignKey(
        Study, on_delete=models.PROTECT, related_name="interventions", verbose_name=_("study")
    )
    code = models.CharField(max_length=32, verbose_name=_("code"))
    agent = models.CharField(max_length=200, verbose_name=_("agent"))
    aliases = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_text_list],
        help_text=_("Other spellings the record uses."),
        verbose_name=_("aliases"),
    )
    kind = models.CharField(
        max_length=20, choices=InterventionKind.choices, default=InterventionKind.DRUG, verbose_name=_("kind")
    )
    arm = models.ForeignKey(
        Arm,
        on_delete=models.PROTECT,
        related_name="interventions",
        null=True,
        blank=True,
        verbose_name=_("arm"),
    )
    phase = models.ForeignKey(
        TreatmentPhase,
        on_delete=models.PROTECT,
        related_name="interventions",
        null=True,
        blank=True,
        verbose_name=_("phase"),
    )
    dose_amount = models.DecimalField(
        max_digits=12, decimal_places=4, null=True, blank=True, verbose_name=_("dose amount")
    )
    dose_unit = models.CharField(
        max_length=20,
        blank=True,
        validators=[validate_dose_unit],
        help_text=_("Unit of the amount: mg, Gy ..."),
        verbose_name=_("dose unit"),
    )
    dose_basis = models.CharField(
        max_length=10, choices=DoseBasis.choices, default=DoseBasis.FLAT, verbose_name=_("dose basis")
    )
    dose_per = models.CharField(
        max_length=10, choices=DosePer.choices, default=DosePer.DOSE, verbose_name=_("dose per")
    )
    frequency = models.CharField(max_length=100, blank=True, verbose_name=_("frequency"))
    doses_per_day = models.PositiveSmallIntegerField(null=True, blank=True, verbose_name=_("doses per day"))
    route = models.CharField(max_length=20, blank=True, verbose_name=_("route"))
    dosing_days = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_dosing_days],
        help_text=_("Days of the cycle, e.g. [1] or 1..14."),
        verbose_name=_("dosing days"),
    )
    cycle_length_days = models.PositiveIntegerField(
        null=True, blank=True, verbose_name=_("cycle length (days)")
    )
    dose_role = models.CharField(
        max_length=12, choices=DoseRole.choices, blank=True, verbose_name=_("dose role")
    )
    infusion = models.TextField(blank=True, verbose_name=_("infusion"))
    notes = models.TextField(blank=True, verbose_name=_("notes"))
    choice_group = models.CharField(
        max_length=64,
        blank=True,
        help_text=_("Agents sharing a group: the investigator chooses one."),
        verbose_name=_("choice group"),
    )
    order = models.PositiveIntegerField(default=0, verbose_name=_("order"))
    history = HistoricalRecords()

    objects = StudyChildManager()

    class Meta:
        verbose_name = _("intervention")
        verbose_name_plural = _("interventions")
        ordering = ["study__protocol_id", "order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["study", "code"], name="intervention_code_unique_per_study"),
            models.CheckConstraint(
                condition=models.Q(dose_amount__isnull=True) | models.Q(dose_amount__gt=0),
                name="intervention_dose_amount_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agent} ({self.code})"

    def natural_key(self) -> tuple[str, str]:
        return (self.study.protocol_id, self.code)

    def clean(self) -> None:
        """The cross-field rules of a dose: the loader, the admin and `manage.py check` apply these."""
        errors: dict[str, ValidationError] = {}
        body_size = self.dose_basis in (DoseBasis.PER_KG, DoseBasis.PER_M2)
        if (self.dose_amount is not None or body_size) and not self.dose_unit:
            errors["dose_unit"] = ValidationError(
                gettext("a dose amount needs its unit")
                if self.dose_amount is not None
                else gettext("dose_basis %(basis)s needs a dose unit") % {"basis": self.dose_basis},
                code="dose_unit_missing",
            )
        if body_size and self.dose_amount is None:
            errors["dose_amount"] = ValidationError(
                gettext("dose_basis %(basis)s needs a dose amount") % {"basis": self.dose_basis},
                code="dose_amount_missing",
            )
        days = self.dosing_days if isinstance(self.dosing_days, list) else []
        numbers = [d for d in days if isinstance(d, int)]
        if self.cycle_length_days and numbers and max(numbers) > self.cycle_length_days:
            errors["dosing_days"] = ValidationError(
                gettext("day %(day)s is beyond the %(cycle)s-day cycle")
                % {"day": max(numbers), "cycle": self.cycle_length_days},
                code="day_beyond_cycle",
            )
        _same_study(errors, self, "arm", "phase")
        _raise(errors)

    @property
    def dose_label(self) -> str:
        if self.dose_amount is None:
            return ""
        per_basis: dict[str, str] = {DoseBasis.PER_KG: "/kg", DoseBasis.PER_M2: "/m²"}
        unit = per_basis.get(self.dose_basis, "")
        per = "/day" if self.dose_per == DosePer.DAY else ""
        return f"{self.dose_amount.normalize():f} {self.dose_unit}{unit}{per}"

    def compute_dose(self, *, weight_kg: Decimal | None = None, height_cm: Decimal | None = None) -> Decimal:
        """The amount (in dose_unit) per administration, or per day when dose_per is "day".

        Body-size doses need the subject's measurements: per_kg needs weight, per_m2 both (Mosteller).
        Unrounded. The pure dosing module computes it (edc/visits/dosing.py; BSA: edc/core/bsa.py).
        """
        from edc.visits.dosing import dose_amount
        from edc.visits.treatment import regimen_of

        return dose_amount(regimen_of(self), weight_kg=_measured(weight_kg), height_cm=_measured(height_cm))

    def daily_dose(self, *, weight_kg: Decimal | None = None, height_cm: Decimal | None = None) -> Decimal:
        """Total amount per dosing day."""
        from edc.visits.dosing import daily_amount
        from edc.visits.treatment import regimen_of

        return daily_amount(regimen_of(self), weight_kg=_measured(weight_kg), height_cm=_measured(height_cm))


def _measured(value: Decimal | float | None) -> Decimal | None:
    return None if value is None else Decimal(str(value))


# --- the form registry (global, shared by all studies) -------------------------------------------


class Codelist(AssumptionFields):
    code = models.CharField(max_length=32, unique=True, verbose_name=_("code"))
    name = models.CharField(max_length=200, verbose_name=_("name"))
    history = HistoricalRecords()

    objects = CodeManager()

    class Meta:
        verbose_name = _("codelist")
        verbose_name_plural = _("codelists")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def natural_key(self) -> tuple[str]:
        return (self.code,)


class CodelistItem(AssumptionFields):
    codelist = models.ForeignKey(
        Codelist, on_delete=models.CASCADE, related_name="items", verbose_name=_("codelist")
    )
    code = models.CharField(max_length=32, verbose_name=_("code"))
    label = models.CharField(max_length=200, verbose_name=_("label"))
    order = models.PositiveIntegerField(default=0, verbose_name=_("order"))
    history = HistoricalRecords()

    objects = CodelistItemManager()

    class Meta:
        verbose_name = _("codelist item")
        verbose_name_plural = _("codelist items")
        ordering = ["codelist__code", "order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["codelist", "code"], name="codelist_item_code_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.label}"

    def natural_key(self) -> tuple[str, str]:
        return (self.codelist.code, self.code)


class Form(models.Model):
    """A case report form as visits name it (by code); what it asks is in its versions.

    Visit definitions expect a Form, which means its current version: when a form gets a new
    version, every visit that names the form expects the new one, and stored data keeps the version
    it was entered with.
    """

    code = models.CharField(max_length=32, unique=True, verbose_name=_("code"))
    history = HistoricalRecords()

    objects = CodeManager()

    class Meta:
        verbose_name = _("form")
        verbose_name_plural = _("forms")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code

    def natural_key(self) -> tuple[str]:
        return (self.code,)

    @property
    def current(self) -> FormDefinition | None:
        return next((v for v in self.versions.all() if v.is_current), None)


class FormDefinitionManager(models.Manager["FormDefinition"]):
    def get_by_natural_key(self, code: str, version: str | None = None) -> FormDefinition:
        """A version by (code, version); with the code alone, the current version."""
        if version is None:
            return self.get(code=code, is_current=True)
        return self.get(code=code, version=version)

    def current(self) -> models.QuerySet[FormDefinition]:
        return self.filter(is_current=True)


class FormDefinition(AssumptionFields):
    """One version of a form: its name, items and codelists as they were when data was entered.

    A version that data uses (published, or with rows in the model that stores the form, see
    studies/form_stores.py) never changes: a changed form is loaded as a new version.
    """

    form = models.ForeignKey(Form, on_delete=models.PROTECT, related_name="versions", verbose_name=_("form"))
    code = models.CharField(
        max_length=32, help_text=_("The form's code (the same in every version)."), verbose_name=_("code")
    )
    name = models.CharField(max_length=200, verbose_name=_("name"))
    version = models.CharField(max_length=16, default="1.0", verbose_name=_("version"))
    is_current = models.BooleanField(
        default=True,
        help_text=_("The version visits expect and new data is entered in; one per form."),
        verbose_name=_("current"),
    )
    published_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("Set when the version is frozen: it then never changes."),
        verbose_name=_("published at"),
    )
    description = models.TextField(blank=True, verbose_name=_("description"))
    # A retired form stays (collected data points to it) but no visit should expect it any more.
    active = models.BooleanField(default=True, verbose_name=_("active"))
    order = models.PositiveIntegerField(default=0, verbose_name=_("order"))
    history = HistoricalRecords()

    objects = FormDefinitionManager()

    class Meta:
        verbose_name = _("form definition")
        verbose_name_plural = _("form definitions")
        ordering = ["order", "code", "version"]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="form_version_unique"),
            models.UniqueConstraint(
                fields=["code"], condition=models.Q(is_current=True), name="form_one_current_version"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name} (version {self.version})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # The code-level form is found or made from the code, so a version always has its form.
        if self.form_id is None:
            self.form = Form.objects.get_or_create(code=self.code)[0]
        super().save(*args, **kwargs)

    def natural_key(self) -> tuple[str, str]:
        return (self.code, self.version)

    @property
    def is_published(self) -> bool:
        return self.published_at is not None

    def in_use_by(self) -> str | None:
        """Why this version may not change any more (published, or data stored in it), or None."""
        from studies.form_stores import rows_in_version

        if self.published_at is not None:
            return gettext("published on %(date)s") % {"date": self.published_at.date().isoformat()}
        holder = rows_in_version(self)
        if holder:
            return gettext("data is stored in it (%(model)s)") % {"model": holder}
        return None


class FormItem(AssumptionFields):
    form = models.ForeignKey(
        FormDefinition, on_delete=models.CASCADE, related_name="items", verbose_name=_("form")
    )
    code = models.CharField(max_length=32, verbose_name=_("code"))
    label = models.CharField(max_length=255, verbose_name=_("label"))
    data_type = models.CharField(max_length=16, choices=DataType.choices, verbose_name=_("data type"))
    unit = models.CharField(
        max_length=20, blank=True, validators=[validate_item_unit], verbose_name=_("unit")
    )
    codelist = models.ForeignKey(
        Codelist,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("codelist"),
    )
    required = models.BooleanField(default=False, verbose_name=_("required"))
    range_low = models.DecimalField(
        max_digits=14, decimal_places=4, null=True, blank=True, verbose_name=_("lowest value")
    )
    range_high = models.DecimalField(
        max_digits=14, decimal_places=4, null=True, blank=True, verbose_name=_("highest value")
    )
    order = models.PositiveIntegerField(default=0, verbose_name=_("order"))
    history = HistoricalRecords()

    objects = FormItemManager()

    class Meta:
        verbose_name = _("form item")
        verbose_name_plural = _("form items")
        ordering = ["form__order", "form__code", "form__version", "order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["form", "code"], name="form_item_code_unique"),
            models.CheckConstraint(
                condition=models.Q(range_low__isnull=True)
                | models.Q(range_high__isnull=True)
                | models.Q(range_low__lte=models.F("range_high")),
                name="form_item_range_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.form.code}.{self.code}"

    def natural_key(self) -> tuple[str, str, str]:
        return (self.form.code, self.form.version, self.code)

    # Django's documented way to declare a natural key's dependencies: an attribute on the method.
    natural_key.dependencies = ["studies.formdefinition"]  # type: ignore[attr-defined]

    def clean(self) -> None:
        errors: dict[str, ValidationError] = {}
        has_codelist = self.codelist is not None  # also an unsaved one, as the loader checks a file
        if self.data_type == DataType.CHOICE and not has_codelist:
            errors["codelist"] = ValidationError(
                gettext("a choice item needs a codelist"), code="choice_without_codelist"
            )
        if self.data_type != DataType.CHOICE and has_codelist:
            errors["codelist"] = ValidationError(
                gettext("only choice items take a codelist"), code="codelist_on_non_choice"
            )
        numeric = self.data_type in (DataType.INTEGER, DataType.DECIMAL)
        if not numeric and (self.range_low is not None or self.range_high is not None):
            errors["range_low"] = ValidationError(
                gettext("only numeric items take a range"), code="range_on_non_number"
            )
        if self.range_low is not None and self.range_high is not None and self.range_low > self.range_high:
            errors["range_low"] = ValidationError(
                gettext("low %(low)s is above high %(high)s")
                % {"low": self.range_low, "high": self.range_high},
                code="range_upside_down",
            )
        _raise(errors)


# --- criteria, visits, endpoints -----------------------------------------------------------------


class EligibilityCriterion(AssumptionFields):
    study = models.ForeignKey(
        Study, on_delete=models.PROTECT, related_name="criteria", verbose_name=_("study")
    )
    kind = models.CharField(max_length=10, choices=CriterionKind.choices, verbose_name=_("kind"))
    number = models.CharField(
        max_length=10, help_text=_('As the study lists it: "1", "2", ...'), verbose_name=_("number")
    )
    text = models.TextField(help_text=_("Verbatim from the protocol."), verbose_name=_("text"))
    rule = models.JSONField(
        null=True,
        blank=True,
        validators=[validate_criterion_rule],
        help_text=_("docs/definitions.md grammar; null: investigator."),
        verbose_name=_("rule"),
    )
    order = models.PositiveIntegerField(default=0, verbose_name=_("order"))
    history = HistoricalRecords()

    objects = CriterionManager()

    class Meta:
        verbose_name = _("eligibility criterion")
        ordering = ["study__protocol_id", "kind", "order"]
        verbose_name_plural = _("eligibility criteria")
        constraints = [
            models.UniqueConstraint(fields=["study", "kind", "number"], name="criterion_number_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number}"

    def natural_key(self) -> tuple[str, str, str]:
        return (self.study.protocol_id, self.kind, self.number)


class VisitDefinition(AssumptionFields):
    study = models.ForeignKey(
        Study, on_delete=models.PROTECT, related_name="visit_definitions", verbose_name=_("study")
    )
    code = models.CharField(max_length=32, verbose_name=_("code"))
    name = models.CharField(
        max_length=200, help_text=_('"{n}" is replaced by the occurrence number.'), verbose_name=_("name")
    )
    kind = models.CharField(max_length=24, choices=VisitKind.choices, verbose_name=_("kind"))
    series = models.CharField(
        max_length=32, blank=True, help_text=_("Blank: the code."), verbose_name=_("series")
    )
    anchor = models.CharField(max_length=20, choices=VisitAnchor.choices, verbose_name=_("anchor"))
    anchor_visit = models.CharField(
        max_length=32,
        blank=True,
        help_text=_(
            "Code of the visit definition each of whose occurrences anchors this one (days 8, 15, 22 of "
            "each cycle); offsets count from that visit's date. Blank: from the anchor date."
        ),
        verbose_name=_("anchor visit"),
    )
    repeat_from = models.CharField(
        max_length=20, choices=RepeatFrom.choices, default=RepeatFrom.ANCHOR, verbose_name=_("repeat from")
    )
    offset_days = models.IntegerField(default=0, verbose_name=_("offset (days)"))
    window_before_days = models.PositiveIntegerField(default=0, verbose_name=_("window before (days)"))
    window_after_days = models.PositiveIntegerField(default=0, verbose_name=_("window after (days)"))
    repeat_interval_days = models.PositiveIntegerField(
        null=True, blank=True, verbose_name=_("repeat interval (days)")
    )
    repeat_until_day = models.IntegerField(null=True, blank=True, verbose_name=_("repeat until (day)"))
    repeat_count = models.PositiveIntegerField(null=True, blank=True, verbose_name=_("repeat count"))
    on_end_of_treatment = models.CharField(
        max_length=32,
        choices=OnEndOfTreatment.choices,
        default=OnEndOfTreatment.CONTINUE,
        verbose_name=_("on end of treatment"),
    )
    phase = models.ForeignKey(
        TreatmentPhase,
        on_delete=models.PROTECT,
        related_name="visit_definitions",
        null=True,
        blank=True,
        verbose_name=_("phase"),
    )
    forms = models.ManyToManyField(
        Form,
        related_name="visit_definitions",
        blank=True,
        help_text=_("The forms expected (their current versions)."),
        verbose_name=_("forms"),
    )
    order = models.PositiveIntegerField(default=0, verbose_name=_("order"))
    history = HistoricalRecords(m2m_fields=[forms])

    objects = StudyChildManager()

    class Meta:
        verbose_name = _("visit definition")
        verbose_name_plural = _("visit definitions")
        ordering = ["study__protocol_id", "order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["study", "code"], name="visit_code_unique_per_study"),
            models.CheckConstraint(
                condition=models.Q(repeat_interval_days__isnull=True) | models.Q(repeat_interval_days__gt=0),
                name="visit_repeat_interval_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def natural_key(self) -> tuple[str, str]:
        return (self.study.protocol_id, self.code)

    @property
    def series_code(self) -> str:
        return self.series or self.code

    @property
    def form_codes(self) -> list[str]:
        return [form.code for form in self.forms.all()]

    def clean(self) -> None:
        """The cross-field rules of a visit: the loader, the admin and `manage.py check` apply these."""
        errors: dict[str, ValidationError] = {}
        interval = self.repeat_interval_days
        before, after = self.window_before_days or 0, self.window_after_days or 0
        if interval is not None and before + after >= interval:
            errors["window_before_days"] = ValidationError(
                gettext(
                    "window -%(before)s/+%(after)s days is as wide as the %(interval)s-day interval: "
                    "occurrences would overlap"
                )
                % {"before": before, "after": after, "interval": interval},
                code="window_overlap",
            )
        if interval is None and (self.repeat_until_day is not None or self.repeat_count is not None):
            errors["repeat_interval_days"] = ValidationError(
                gettext("repeat_until_day/repeat_count need an interval"), code="repeat_needs_interval"
            )
        if self.repeat_from == RepeatFrom.PREVIOUS_ACTUAL and interval is None:
            errors["repeat_from"] = ValidationError(
                gettext("previous_actual needs repeat_interval_days"), code="repeat_needs_interval"
            )
        _same_study(errors, self, "phase")
        _raise(errors)


class Endpoint(AssumptionFields):
    study = models.ForeignKey(
        Study, on_delete=models.PROTECT, related_name="endpoints", verbose_name=_("study")
    )
    code = models.CharField(max_length=32, verbose_name=_("code"))
    name = models.CharField(max_length=255, verbose_name=_("name"))
    # Blank when the record does not say primary or secondary.
    kind = models.CharField(max_length=12, choices=EndpointKind.choices, blank=True, verbose_name=_("kind"))
    definition = models.TextField(blank=True, verbose_name=_("definition"))
    time_frame = models.TextField(blank=True, verbose_name=_("time frame"))
    analysis_set = models.CharField(max_length=200, blank=True, verbose_name=_("analysis set"))
    # Time-to-event endpoints count from this event; blank for proportions (ORR, DCR).
    anchor = models.CharField(
        max_length=16, choices=EndpointAnchor.choices, blank=True, verbose_name=_("anchor")
    )
    order = models.PositiveIntegerField(default=0, verbose_name=_("order"))
    history = HistoricalRecords()

    objects = StudyChildManager()

    class Meta:
        verbose_name = _("endpoint")
        verbose_name_plural = _("endpoints")
        ordering = ["study__protocol_id", "order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["study", "code"], name="endpoint_code_unique_per_study"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def natural_key(self) -> tuple[str, str]:
        return (self.study.protocol_id, self.code)


# --- amendments ----------------------------------------------------------------------------------


class StudyVersion(models.Model):
    """One version of a study's definition as loaded: the first load, then each amendment.

    Recorded by the loader whenever a load changes the definition. Subjects' schedules do not
    follow by themselves: re-planning them is the visits' re-plan service's decision, per subject.
    """

    study = models.ForeignKey(
        Study, on_delete=models.PROTECT, related_name="versions", verbose_name=_("study")
    )
    number = models.CharField(
        max_length=32,
        help_text=_("The protocol version, e.g. 2.0, or the load count."),
        verbose_name=_("number"),
    )
    effective_date = models.DateField(
        null=True,
        blank=True,
        help_text=_("When the amendment takes effect; empty: the file does not say."),
        verbose_name=_("effective date"),
    )
    loaded_at = models.DateTimeField(default=timezone.now, verbose_name=_("loaded at"))
    loaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("loaded by"),
    )
    source = models.CharField(
        max_length=255,
        blank=True,
        help_text=_("The file the version was loaded from."),
        verbose_name=_("source"),
    )
    changes = models.JSONField(
        default=dict, blank=True, help_text=_("What the load created and changed."), verbose_name=_("changes")
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("study version")
        verbose_name_plural = _("study versions")
        ordering = ["study__protocol_id", "loaded_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["study", "number"], name="study_version_number_unique")
        ]

    def __str__(self) -> str:
        return f"{self.study.protocol_id} version {self.number}"
