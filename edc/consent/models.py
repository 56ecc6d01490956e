"""Informed consent: the versions a study's ethics committee approved, and each signature.

`ConsentVersion` is part of the trial definition (the `consent_versions` section of a study's
fixture, written by the loader); `SignedConsent` is clinical data (audited, site-owned) and stores
the registry's IC form; `Withdrawal` records a withdrawal of consent with its date and scope.
Writes go through edc/consent/services.py (and edc/subjects/services.subject_withdraw).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from edc.core.models import SiteOwnedModel
from studies.models import AssumptionFields


class Reconsent(models.TextChoices):
    """Who must sign a version when it takes effect."""

    ALL_ACTIVE = "all_active", _("All active subjects (screening to follow-up)")
    ON_TREATMENT = "on_treatment", _("Subjects enrolled or on treatment")
    FOLLOW_UP = "follow_up", _("Subjects in follow-up")
    NEW_ONLY = "new_only", _("New subjects only")


class ConsentVersionManager(models.Manager["ConsentVersion"]):
    def get_by_natural_key(self, protocol_id: str, version: str, language: str) -> ConsentVersion:
        return self.get(study__protocol_id=protocol_id, version=version, language=language)


class ConsentVersion(AssumptionFields):
    study = models.ForeignKey("studies.Study", on_delete=models.PROTECT, related_name="consent_versions")
    version = models.CharField(max_length=16, help_text=_("The version as the approved document names it."))
    language = models.CharField(max_length=16, default="zh", help_text=_("e.g. zh, en."))
    title = models.CharField(max_length=200, blank=True)
    approved_on = models.DateField(null=True, blank=True, help_text=_("Ethics committee approval."))
    effective_from = models.DateField(help_text=_("No consent to this version is dated before this day."))
    effective_to = models.DateField(
        null=True, blank=True, help_text=_("The last day it may be signed; empty: until superseded.")
    )
    reconsent = models.CharField(
        max_length=16,
        choices=Reconsent.choices,
        default=Reconsent.NEW_ONLY,
        help_text=_("Who must sign this version when it takes effect."),
    )
    order = models.PositiveIntegerField(default=0)
    history = HistoricalRecords()

    objects = ConsentVersionManager()

    class Meta:
        ordering = ["study__protocol_id", "effective_from", "version", "language"]
        constraints = [
            models.UniqueConstraint(fields=["study", "version", "language"], name="consent_version_unique"),
            models.CheckConstraint(
                condition=models.Q(effective_to__isnull=True)
                | models.Q(effective_to__gte=models.F("effective_from")),
                name="consent_version_period_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.study.protocol_id} consent {self.version} ({self.language})"

    def natural_key(self) -> tuple[str, str, str]:
        return (self.study.protocol_id, self.version, self.language)

    def in_effect_on(self, day: dt.date) -> bool:
        return self.effective_from <= day and (self.effective_to is None or day <= self.effective_to)

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        if self.effective_to and self.effective_from and self.effective_to < self.effective_from:
            errors["effective_to"] = gettext("The version ends before it takes effect.")
        if self.approved_on and self.effective_from and self.effective_from < self.approved_on:
            errors["effective_from"] = gettext("A version takes effect on or after its approval.")
        if errors:
            raise ValidationError(errors)


class SignedConsent(SiteOwnedModel):
    subject = models.ForeignKey("subjects.Subject", on_delete=models.PROTECT, related_name="+")
    consent_version = models.ForeignKey(ConsentVersion, on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField(help_text=_("Date and time the patient (or representative) signed."))
    obtained_by = models.CharField(max_length=100, help_text=_("The staff member who obtained consent."))
    patient_signed = models.BooleanField(default=True)
    representative_signed = models.BooleanField(
        default=False, help_text=_("A legally acceptable representative signed.")
    )
    representative_relationship = models.CharField(max_length=100, blank=True)
    witness_signed = models.BooleanField(default=False, help_text=_("An impartial witness signed."))
    copy_given = models.BooleanField(default=True, help_text=_("The patient was given a signed copy."))
    samples_consent = models.BooleanField(
        null=True, blank=True, help_text=_("Consent to tissue or biomarker samples.")
    )

    lock_parents: ClassVar[tuple[str, ...]] = ("subject", "study")
    fixed_fields: ClassVar[tuple[str, ...]] = ("study", "subject")
    editable_fields: ClassVar[tuple[str, ...]] = (
        "signed_at",
        "obtained_by",
        "patient_signed",
        "representative_signed",
        "representative_relationship",
        "witness_signed",
        "copy_given",
        "samples_consent",
    )
    # The registry's IC form; the version is a reference to the study's consent versions.
    form_code: ClassVar[str] = "IC"
    form_item_fields: ClassVar[dict[str, str]] = {
        "SIGNED_AT": "signed_at",
        "OBTAINED_BY": "obtained_by",
        "PATIENT_SIGNED": "patient_signed",
        "LAR_SIGNED": "representative_signed",
        "LAR_RELATION": "representative_relationship",
        "WITNESS_SIGNED": "witness_signed",
        "COPY_GIVEN": "copy_given",
        "SAMPLES_CONSENT": "samples_consent",
    }
    form_exempt_fields: ClassVar[tuple[str, ...]] = ("subject", "consent_version")

    class Meta:
        ordering = ["subject", "signed_at"]
        verbose_name = _("signed consent")

    def __str__(self) -> str:
        return f"{self.subject} consent {self.consent_version.version} {self.signed_at:%Y-%m-%d}"

    def clean(self) -> None:
        super().clean()
        errors: dict[str, Any] = {}
        if self.subject_id and self.study_id and self.subject.study_id != self.study_id:
            errors["subject"] = gettext("The subject belongs to another study.")
        if self.subject_id and self.site_id and self.subject.site_id != self.site_id:
            errors["site"] = gettext("A consent is at its subject's site.")
        if self.consent_version_id and self.study_id and self.consent_version.study_id != self.study_id:
            errors["consent_version"] = gettext("This consent version belongs to another study.")
        if not (self.patient_signed or self.representative_signed):
            errors["patient_signed"] = gettext("The patient or a legally acceptable representative signs.")
        if self.representative_signed and not self.representative_relationship.strip():
            errors["representative_relationship"] = gettext("Say how the representative is related.")
        if errors:
            raise ValidationError(errors)


class WithdrawalScope(models.TextChoices):
    TREATMENT = "treatment", _("Study treatment only (follow-up goes on)")
    FOLLOW_UP = "follow_up", _("All follow-up (no further visits)")
    DATA_USE = "data_use", _("Follow-up and any further use of data")


class Withdrawal(SiteOwnedModel):
    """A withdrawal of consent: nothing is deleted, future visits stop as the scope says."""

    subject = models.ForeignKey("subjects.Subject", on_delete=models.PROTECT, related_name="+")
    date = models.DateField()
    scope = models.CharField(max_length=12, choices=WithdrawalScope.choices)
    reason = models.TextField(blank=True)

    lock_parents: ClassVar[tuple[str, ...]] = ("subject", "study")
    fixed_fields: ClassVar[tuple[str, ...]] = ("study", "subject")

    class Meta:
        ordering = ["subject", "date"]

    def __str__(self) -> str:
        return f"{self.subject} withdrew ({self.scope}) {self.date}"
