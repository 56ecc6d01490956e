"""Visits: the screening visit from screening on, the planned schedule from enrollment on.

A visit is one occurrence of a study's visit definition (the definition is empty for an
unscheduled visit): its code and name as the schedule engine (edc/visits/schedule.py) gives them,
its target date and window, and what happened (planned, done on a date, missed with a reason,
cancelled when that part of the schedule ended). The forms of a visit belong to it (edc/forms).
Writes go through edc/visits/services.py.

The overdue report (visits whose window has closed, neither done nor missed) is one query on
(status, window_end) with the site or study: the partial indexes below hold exactly the open
visits, so the report reads only them, whatever the size of the schedule.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from edc.core.models import SiteOwnedModel
from studies.models import VisitKind


class VisitStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    DONE = "done", _("Done")
    MISSED = "missed", _("Missed")
    CANCELLED = "cancelled", _("Cancelled")


OPEN = Q(status=VisitStatus.PLANNED, voided_at__isnull=True)


class Visit(SiteOwnedModel):
    subject = models.ForeignKey("subjects.Subject", on_delete=models.PROTECT, related_name="visits")
    definition = models.ForeignKey(
        "studies.VisitDefinition",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty for an unscheduled visit."),
    )
    code = models.CharField(max_length=40, help_text=_("The occurrence code: SCR, CYCLE3, CETW2D15 ..."))
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=24, choices=VisitKind.choices)
    series = models.CharField(max_length=32, blank=True)
    occurrence = models.PositiveIntegerField(default=1, help_text=_("1-based within its definition."))
    number = models.PositiveIntegerField(default=1, help_text=_("1-based within its series ({n})."))
    anchor_visit_code = models.CharField(
        max_length=40,
        blank=True,
        help_text=_("For a visit planned per occurrence of another: that one's code."),
    )
    order = models.PositiveIntegerField(default=0, help_text=_("The definition's order (ties of one day)."))
    target_date = models.DateField(null=True, blank=True)
    window_start = models.DateField(null=True, blank=True)
    window_end = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=12, choices=VisitStatus.choices, default=VisitStatus.PLANNED)
    visit_date = models.DateField(null=True, blank=True)
    out_of_window_reason = models.TextField(blank=True)
    missed_reason = models.TextField(blank=True)
    cancelled_reason = models.TextField(blank=True)

    lock_parents: ClassVar[tuple[str, ...]] = ("subject", "study")
    fixed_fields: ClassVar[tuple[str, ...]] = ("study", "subject", "code")
    editable_fields: ClassVar[tuple[str, ...]] = ("visit_date", "out_of_window_reason", "missed_reason")

    class Meta:
        ordering = ["subject", "target_date", "order", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["subject", "code"], condition=Q(voided_at__isnull=True), name="visit_code_unique"
            ),
            models.CheckConstraint(
                condition=~Q(status=VisitStatus.DONE) | Q(visit_date__isnull=False),
                name="visit_done_has_date",
            ),
            models.CheckConstraint(
                condition=Q(window_start__isnull=True)
                | Q(window_end__isnull=True)
                | Q(window_start__lte=models.F("window_end")),
                name="visit_window_ordered",
            ),
        ]
        indexes = [
            # The overdue report: open visits by the day their window closes, per site or study.
            models.Index(fields=["window_end", "site"], condition=OPEN, name="visit_open_by_site"),
            models.Index(fields=["study", "window_end"], condition=OPEN, name="visit_open_by_study"),
            models.Index(fields=["subject", "target_date"], name="visit_subject_target"),
        ]

    def __str__(self) -> str:
        return f"{self.subject} {self.code}"

    def clean(self) -> None:
        super().clean()
        errors: dict[str, Any] = {}
        subject = self.subject if self.subject_id else None
        if subject is not None:
            if self.study_id and subject.study_id != self.study_id:
                errors["subject"] = gettext("The subject belongs to another study.")
            if self.site_id and subject.site_id != self.site_id:
                errors["site"] = gettext("A visit is at its subject's site.")
        if self.definition is not None and self.study_id and self.definition.study_id != self.study_id:
            errors["definition"] = gettext("The visit definition belongs to another study.")
        if self.status == VisitStatus.DONE and self.visit_date is None:
            errors["visit_date"] = gettext("A visit that took place has its date.")
        if self.status == VisitStatus.MISSED and not self.missed_reason.strip():
            errors["missed_reason"] = gettext("Say why the visit was missed.")
        start, end, target = self.window_start, self.window_end, self.target_date
        if start and end and start > end:
            errors["window_start"] = gettext("The window opens after it closes.")
        elif target and start and end and not start <= target <= end:
            errors["target_date"] = gettext("The target date lies outside its window.")
        if errors:
            raise ValidationError(errors)

    @property
    def is_open(self) -> bool:
        return self.status == VisitStatus.PLANNED and self.voided_at is None


# The treatment models (forms EX and EOT, phase switches) live in their own module; imported here
# so that Django registers them with the visits app.
from edc.visits.exposures import *  # noqa: E402, F403
