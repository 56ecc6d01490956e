"""Treatment: what each agent was given when (form EX), the end of treatment (form EOT), and the
subject's switches between treatment phases (seed 000: camrelizumab maintenance after a complete
response).

Imported by edc/visits/models.py so that Django sees these models in the visits app. Writes go
through edc/visits/treatment.py (exposure_record, exposure_update, end_of_treatment_record,
treatment_phase_switch), which derive what the rows keep: the planned dose of the intervention on
the body-size basis it used (edc/visits/dosing.py, BSA by Mosteller), the agent code, the cycle.
docs/treatment.md tells how it works.

An exposure row is one administration (an infusion) or, for an oral agent, one course of a cycle
(start and end date: capecitabine days 1-14). The dose given and the planned dose are per
administration, as the protocol states the dose (per day when the intervention's dose is per day).
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from edc.core.models import SiteOwnedModel
from edc.forms.models import FormRecord

__all__ = ["EndOfTreatment", "EotReason", "Exposure", "ExposureAdjustment", "PhaseSwitch", "Route"]


class Route(models.TextChoices):
    """Codelist ROUTE (fixtures/forms.yaml)."""

    IV = "IV", _("Intravenous")
    PO = "PO", _("Oral")
    SC = "SC", _("Subcutaneous")
    IM = "IM", _("Intramuscular")
    INH = "INH", _("Inhaled")
    NAS = "NAS", _("Nasal")
    TOP = "TOP", _("Topical")
    OTHER = "OTHER", _("Other")


class ExposureAdjustment(models.TextChoices):
    """Codelist EXADJ (fixtures/forms.yaml): how this dose departs from the plan."""

    NONE = "NONE", _("As planned")
    DELAYED = "DELAYED", _("Delayed")
    REDUCED = "REDUCED", _("Reduced")
    INTERRUPTED = "INTERRUPTED", _("Interrupted")
    SKIPPED = "SKIPPED", _("Skipped")


class EotReason(models.TextChoices):
    """Codelist EOTREAS (fixtures/forms.yaml)."""

    PD = "PD", _("Disease progression")
    TOX = "TOX", _("Intolerable toxicity")
    DEATH = "DEATH", _("Death")
    WITHDRAWAL = "WITHDRAWAL", _("Subject decision to withdraw")
    MAXDUR = "MAXDUR", _("Maximum treatment duration reached")
    INV = "INV", _("Investigator decision")
    LOST = "LOST", _("Lost to follow-up")
    OTHER = "OTHER", _("Other")


# The EOT form's codes as the schedule engine's reasons (edc/visits/schedule.py EOT_REASONS), the
# same mapping `schedule_preview --eot-reason` applies: only PD stops imaging.
EOT_SCHEDULE_REASON: dict[str, str] = {
    EotReason.PD: "progression",
    EotReason.TOX: "toxicity",
    EotReason.DEATH: "death",
    EotReason.WITHDRAWAL: "withdrawal",
    EotReason.MAXDUR: "completed",
    EotReason.INV: "investigator_decision",
    EotReason.LOST: "lost_to_follow_up",
    EotReason.OTHER: "other",
}


class Exposure(FormRecord):
    intervention = models.ForeignKey(
        "studies.Intervention", on_delete=models.PROTECT, related_name="+", verbose_name=_("intervention")
    )
    phase = models.ForeignKey(
        "studies.TreatmentPhase",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        help_text=_("The intervention's treatment phase, kept on the row to list doses by phase."),
    )
    agent_code = models.CharField(
        max_length=32, editable=False, help_text=_("Derived: the intervention's code (item EXTRT).")
    )
    cycle = models.PositiveIntegerField(null=True, blank=True)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True, help_text=_("An oral course: its last day."))
    dose_given = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    planned_dose = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        editable=False,
        help_text=_("Derived from the intervention on the dose basis below."),
    )
    dose_unit = models.CharField(max_length=20, editable=False, blank=True)
    route = models.CharField(max_length=8, choices=Route.choices, blank=True)
    infusion_minutes = models.PositiveIntegerField(null=True, blank=True)
    adjustment = models.CharField(
        max_length=12, choices=ExposureAdjustment.choices, default=ExposureAdjustment.NONE
    )
    doses_missed = models.PositiveIntegerField(null=True, blank=True)
    adjustment_reason = models.TextField(blank=True)
    overdose_reason = models.TextField(
        blank=True, help_text=_("Confirms a dose more than 10 % above the planned one.")
    )
    cycle_day = models.PositiveIntegerField(
        null=True, blank=True, editable=False, help_text=_("Derived: the day of the cycle of the start date.")
    )
    dose_role = models.CharField(max_length=12, blank=True, editable=False)
    basis_weight_kg = models.DecimalField(
        max_digits=7, decimal_places=3, null=True, blank=True, editable=False
    )
    basis_height_cm = models.DecimalField(
        max_digits=6, decimal_places=2, null=True, blank=True, editable=False
    )
    basis_bsa_m2 = models.DecimalField(max_digits=6, decimal_places=4, null=True, blank=True, editable=False)
    basis_date = models.DateField(null=True, blank=True, editable=False)
    basis_recomputed = models.BooleanField(
        default=False, editable=False, help_text=_("A new basis at this dose (first dose or weight change).")
    )

    form_code: ClassVar[str] = "EX"
    form_item_fields: ClassVar[dict[str, str]] = {
        "EXTRT": "agent_code",
        "EXCYCLE": "cycle",
        "EXSTDAT": "start_date",
        "EXENDAT": "end_date",
        "EXDOSE": "dose_given",
        "EXPLANNED": "planned_dose",
        "EXDOSU": "dose_unit",
        "EXROUTE": "route",
        "EXINFMIN": "infusion_minutes",
        "EXACTION": "adjustment",
        "EXMISSED": "doses_missed",
        "EXREASON": "adjustment_reason",
        "EXOVRSN": "overdose_reason",
        "EXCYDAY": "cycle_day",
        "EXROLE": "dose_role",
        "EXBWT": "basis_weight_kg",
        "EXBHT": "basis_height_cm",
        "EXBSA": "basis_bsa_m2",
        "EXBDAT": "basis_date",
        "EXBNEW": "basis_recomputed",
    }
    # The item EXTRT holds the intervention's code; the key and the phase are the same facts as keys.
    form_exempt_fields: ClassVar[tuple[str, ...]] = ("intervention", "phase")
    form_field_units: ClassVar[dict[str, str]] = {
        "dose_given": "mg",
        "planned_dose": "mg",
        "infusion_minutes": "min",
        "basis_weight_kg": "kg",
        "basis_height_cm": "cm",
        "basis_bsa_m2": "m2",
    }
    answer_fields: ClassVar[tuple[str, ...]] = (
        "dose_given",
        "end_date",
        "route",
        "infusion_minutes",
        "doses_missed",
        "overdose_reason",
    )
    # A "not done" exposure keeps what was planned: the agent, its cycle and day.
    kept_when_not_done: ClassVar[tuple[str, ...]] = ()
    # The registry's form door takes the agent by its code (item EXTRT): door_body finds the study's
    # intervention of that code for the resource, which takes it by id.
    door_fields: ClassVar[tuple[str, ...]] = ("agent_code",)
    door_error_fields: ClassVar[dict[str, str]] = {"intervention": "agent_code"}
    editable_fields: ClassVar[tuple[str, ...]] = (
        "visit",
        "intervention",
        "cycle",
        "start_date",
        "end_date",
        "dose_given",
        "route",
        "infusion_minutes",
        "adjustment",
        "doses_missed",
        "adjustment_reason",
        "overdose_reason",
        "not_done_reason",
        "not_done_detail",
    )

    class Meta:
        ordering = ["subject", "start_date", "created"]
        verbose_name = _("drug exposure")
        verbose_name_plural = _("drug exposures")
        indexes = [
            models.Index(fields=["subject", "start_date"], name="ex_subject_date"),
            models.Index(fields=["study", "start_date"], name="ex_study_date"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="ex_end_after_start",
            ),
        ]

    @classmethod
    def door_body(cls, fields: dict[str, Any], visit: Any) -> dict[str, Any]:
        """The door's fields as the exposure resource's body: the agent code as the intervention."""
        from studies.models import Intervention

        body = dict(fields)
        if "agent_code" in body:
            code = str(body.pop("agent_code")).strip()
            found = Intervention.objects.filter(study_id=visit.study_id, code__iexact=code).first()
            if found is None:
                known = Intervention.objects.filter(study_id=visit.study_id).order_by("order", "code")
                raise ValidationError(
                    {
                        "agent_code": gettext("{code!r} is no intervention of this study ({known}).").format(
                            code=code[:32], known=", ".join(i.code for i in known)
                        )
                    }
                )
            body["intervention"] = found.pk
        return body

    def __str__(self) -> str:
        return f"{self.subject} {self.agent_code} C{self.cycle or '-'} {self.start_date}"

    @property
    def dose_was_given(self) -> bool:
        """A dose reached the patient (not skipped, not "not done", more than nothing)."""
        return (
            not self.not_done_reason
            and self.adjustment != ExposureAdjustment.SKIPPED
            and self.dose_given is not None
            and self.dose_given > 0
        )

    def clean(self) -> None:
        super().clean()
        errors: dict[str, Any] = {}
        if self.end_date and self.start_date and self.end_date < self.start_date:
            errors["end_date"] = gettext("The course ends before it starts.")
        if self.intervention_id and self.study_id and self.intervention.study_id != self.study_id:
            errors["intervention"] = gettext("The intervention belongs to another study.")
        if not self.not_done_reason:
            if self.dose_given is None:
                errors["dose_given"] = gettext("Record the dose given (0 for a skipped dose).")
            elif self.adjustment == ExposureAdjustment.SKIPPED and self.dose_given != 0:
                errors["dose_given"] = gettext("A skipped dose is a dose of 0.")
            elif self.dose_given == 0 and self.adjustment != ExposureAdjustment.SKIPPED:
                errors["adjustment"] = gettext("A dose of 0 is a skipped dose: say so, with the reason.")
            if not self.route and self.adjustment != ExposureAdjustment.SKIPPED:
                errors["route"] = gettext("Record the route.")
        if self.adjustment != ExposureAdjustment.NONE and not self.adjustment_reason.strip():
            errors["adjustment_reason"] = gettext("Say why the dose was {what}.").format(
                what=ExposureAdjustment(self.adjustment).label.lower()
            )
        if errors:
            raise ValidationError(errors)


class EndOfTreatment(FormRecord):
    eot_date = models.DateField(help_text=_("The day treatment was ended (the decision)."))
    last_dose_date = models.DateField()
    reason = models.CharField(max_length=12, choices=EotReason.choices)
    reason_detail = models.TextField(blank=True)

    form_code: ClassVar[str] = "EOT"
    form_item_fields: ClassVar[dict[str, str]] = {
        "EOTDATE": "eot_date",
        "LASTDOSE": "last_dose_date",
        "EOTREAS": "reason",
        "EOTSPEC": "reason_detail",
    }
    answer_fields: ClassVar[tuple[str, ...]] = ()
    editable_fields: ClassVar[tuple[str, ...]] = ("eot_date", "last_dose_date", "reason", "reason_detail")

    class Meta:
        ordering = ["subject", "eot_date"]
        verbose_name = _("end of treatment")
        verbose_name_plural = _("ends of treatment")
        constraints = [
            models.UniqueConstraint(
                fields=["subject"], condition=Q(voided_at__isnull=True), name="eot_one_per_subject"
            ),
            models.CheckConstraint(
                condition=Q(last_dose_date__lte=models.F("eot_date")), name="eot_after_last_dose"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject} EOT {self.last_dose_date} {self.reason}"

    @property
    def schedule_reason(self) -> str:
        return EOT_SCHEDULE_REASON.get(self.reason, "other")

    def clean(self) -> None:
        super().clean()
        errors: dict[str, Any] = {}
        if self.last_dose_date and self.eot_date and self.last_dose_date > self.eot_date:
            errors["last_dose_date"] = gettext("The last dose is after the end of treatment.")
        if self.reason == EotReason.OTHER and not self.reason_detail.strip():
            errors["reason_detail"] = gettext("Specify the reason.")
        if errors:
            raise ValidationError(errors)


class PhaseSwitch(SiteOwnedModel):
    """The subject entered a treatment phase on a date, for a stated trigger (not the first phase:
    that one starts with the first dose)."""

    subject = models.ForeignKey("subjects.Subject", on_delete=models.PROTECT, related_name="+")
    phase = models.ForeignKey("studies.TreatmentPhase", on_delete=models.PROTECT, related_name="+")
    date = models.DateField()
    trigger = models.TextField(help_text=_("What the phase's entry rule was met by (e.g. a confirmed CR)."))

    lock_parents: ClassVar[tuple[str, ...]] = ("subject", "study")
    fixed_fields: ClassVar[tuple[str, ...]] = ("study", "subject")
    editable_fields: ClassVar[tuple[str, ...]] = ("date", "trigger")

    class Meta:
        ordering = ["subject", "date"]
        verbose_name = _("treatment phase switch")
        verbose_name_plural = _("treatment phase switches")
        constraints = [
            models.UniqueConstraint(
                fields=["subject", "phase"], condition=Q(voided_at__isnull=True), name="phase_switch_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject} -> {self.phase} {self.date}"
