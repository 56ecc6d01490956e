"""The investigator's side of eligibility: confirmations of review parts, and the signed decision.

A confirmation answers a criterion's parts that only the investigator can judge (or, as the case
format's `confirm_unstructured`, every such part in the patient's favour); the live checklist
(`GET /api/subjects/{id}/eligibility/`) evaluates with the stored ones. A decision stores what was
decided on which data: the record the engine read, the criteria, the confirmations and the
engine's answer; a later change to that data makes it stale (edc/eligibility/selectors.py compares
the snapshot), never changes it. Writes go through edc/eligibility/services.py.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from edc.core.models import SiteOwnedModel


class Answer(models.TextChoices):
    MET = "met", _("Met")
    NOT_MET = "not_met", _("Not met")


class EligibilityConfirmation(SiteOwnedModel):
    subject = models.ForeignKey("subjects.Subject", on_delete=models.PROTECT, related_name="+")
    criterion = models.ForeignKey(
        "studies.EligibilityCriterion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty: every part only the investigator can judge, in the patient's favour."),
    )
    key = models.CharField(max_length=16, blank=True, help_text=_('The criterion as named: "I3", "E4".'))
    answer = models.CharField(max_length=8, choices=Answer.choices, blank=True)
    comment = models.TextField(blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    confirmed_at = models.DateTimeField()

    lock_parents: ClassVar[tuple[str, ...]] = ("subject", "study")
    fixed_fields: ClassVar[tuple[str, ...]] = ("study", "subject", "criterion")

    class Meta:
        ordering = ["subject", "confirmed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["subject", "criterion"],
                condition=Q(voided_at__isnull=True, criterion__isnull=False),
                name="confirmation_one_per_criterion",
            ),
            models.UniqueConstraint(
                fields=["subject"],
                condition=Q(voided_at__isnull=True, criterion__isnull=True),
                name="confirmation_one_blanket",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject} {self.key or 'unstructured parts'}: {self.answer or 'in favour'}"

    @property
    def is_blanket(self) -> bool:
        return self.criterion_id is None


class DecisionOutcome(models.TextChoices):
    ELIGIBLE = "eligible", _("Eligible")
    INELIGIBLE = "ineligible", _("Ineligible")


class EligibilityDecision(SiteOwnedModel):
    """The screening outcome the investigator signed, with the data it was decided on."""

    subject = models.ForeignKey("subjects.Subject", on_delete=models.PROTECT, related_name="+")
    as_of = models.DateField(help_text=_("The planned first dose the criteria were read against."))
    outcome = models.CharField(max_length=12, choices=DecisionOutcome.choices)
    result = models.JSONField(help_text=_("The engine's answer, per criterion."))
    inputs = models.JSONField(help_text=_("The screening data the engine read."))
    criteria = models.JSONField(blank=True, help_text=_("The criteria and their rules as they were."))
    confirmations = models.JSONField(default=dict, blank=True)
    fingerprint = models.CharField(max_length=64, help_text=_("SHA-256 of the inputs and criteria."))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField()

    lock_parents: ClassVar[tuple[str, ...]] = ("subject", "study")
    fixed_fields: ClassVar[tuple[str, ...]] = (
        "study",
        "subject",
        "as_of",
        "outcome",
        "result",
        "inputs",
        "criteria",
        "confirmations",
        "fingerprint",
        "decided_by",
        "decided_at",
    )
    # The registry's IE form: the signed outcome; the snapshot is no item of it.
    form_code: ClassVar[str] = "IE"
    form_item_fields: ClassVar[dict[str, str]] = {
        "ASOF": "as_of",
        "ELIGIBLE": "outcome",
        "DECIDED_AT": "decided_at",
    }
    form_exempt_fields: ClassVar[tuple[str, ...]] = (
        "subject",
        "result",
        "inputs",
        "criteria",
        "confirmations",
        "fingerprint",
        "decided_by",
    )

    class Meta:
        ordering = ["subject", "decided_at"]
        indexes = [models.Index(fields=["subject", "decided_at"], name="decision_subject_time")]

    def __str__(self) -> str:
        return f"{self.subject} {self.outcome} as of {self.as_of}"
