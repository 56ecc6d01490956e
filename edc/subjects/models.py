"""Subjects, from screening to off study."""

from __future__ import annotations

from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext

from edc.core.dates import latest_today
from edc.core.fields import PartialDateField
from edc.core.models import SiteOwnedModel
from edc.core.partial_dates import PartialDate, PartialDateError

EARLIEST_BIRTH_YEAR = 1900


def validate_birth_date(value: Any) -> None:
    """A plausible birth date: not before 1900 and not in the future (the field refuses the future)."""
    try:
        birth = PartialDate.parse(value)
    except PartialDateError:
        return  # the field reports the format
    if birth.year < EARLIEST_BIRTH_YEAR:
        raise ValidationError(
            gettext("A birth year before {year} is not plausible.").format(year=EARLIEST_BIRTH_YEAR),
            code="birth_year_too_early",
        )
    # No site is known here: the latest date on earth (the field itself checks the site's date).
    if birth.year > latest_today().year:
        raise ValidationError(gettext("A birth date cannot lie in the future."), code="future_birth_date")


class SubjectStatus(models.TextChoices):
    SCREENING = "screening", "Screening"
    SCREEN_FAILED = "screen_failed", "Screen failed"
    ENROLLED = "enrolled", "Enrolled"
    ON_TREATMENT = "on_treatment", "On treatment"
    FOLLOW_UP = "follow_up", "Follow-up"
    OFF_STUDY = "off_study", "Off study"


class Sex(models.TextChoices):
    MALE = "M", "Male"
    FEMALE = "F", "Female"


class Subject(SiteOwnedModel):
    screening_number = models.CharField(max_length=32)
    subject_identifier = models.CharField(
        max_length=32, blank=True, help_text="Assigned at enrollment; empty while screening."
    )
    status = models.CharField(max_length=20, choices=SubjectStatus.choices, default=SubjectStatus.SCREENING)
    initials = models.CharField(max_length=4, blank=True)
    sex = models.CharField(max_length=1, choices=Sex.choices)
    birth_date = PartialDateField(
        help_text="YYYY, YYYY-MM or YYYY-MM-DD: many patients give only the year of birth.",
        validators=[validate_birth_date],
    )

    lock_parents: ClassVar[tuple[str, ...]] = ("study",)
    # The screening number is the subject's identity; subject_identifier and status change only
    # through their transitions (screening and enrollment services).
    fixed_fields: ClassVar[tuple[str, ...]] = ("study", "screening_number")
    # What a door may change on an existing subject (subject_update's keyword arguments).
    editable_fields: ClassVar[tuple[str, ...]] = ("site", "sex", "birth_date", "initials")
    # The subject record stores the registry's DM (demographics) form (studies/form_stores.py);
    # identifiers and status are set by the enrollment workflow, not entered on the form.
    form_code: ClassVar[str] = "DM"
    form_exempt_fields: ClassVar[tuple[str, ...]] = ("screening_number", "subject_identifier", "status")

    class Meta:
        ordering = ["study__protocol_id", "site__code", "screening_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["study", "screening_number"], name="subject_screening_number_unique"
            ),
            models.UniqueConstraint(
                fields=["study", "subject_identifier"],
                condition=~models.Q(subject_identifier=""),
                name="subject_identifier_unique",
            ),
        ]
        indexes = [models.Index(fields=["site", "status"])]

    def __str__(self) -> str:
        return self.subject_identifier or self.screening_number
