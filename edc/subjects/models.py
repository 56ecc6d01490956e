"""Subjects, from screening to off study; how a study numbers them.

A subject's status changes only through the transition services of edc/subjects/services.py
(screen, screen-fail, re-screen, enroll, withdraw; the visits issue adds the first dose and the end
of treatment): `SubjectStatus.TRANSITIONS` lists which status may follow which.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from edc.core.dates import latest_today
from edc.core.fields import PartialDateField
from edc.core.models import SiteOwnedModel
from edc.core.partial_dates import PartialDate, PartialDateError
from edc.subjects import identifiers
from studies.models import AssumptionFields

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
    SCREENING = "screening", _("Screening")
    SCREEN_FAILED = "screen_failed", _("Screen failed")
    ENROLLED = "enrolled", _("Enrolled")
    ON_TREATMENT = "on_treatment", _("On treatment")
    FOLLOW_UP = "follow_up", _("Follow-up")
    OFF_STUDY = "off_study", _("Off study")


# Which status may follow which (the services refuse any other change).
TRANSITIONS: dict[str, frozenset[str]] = {
    SubjectStatus.SCREENING: frozenset(
        {SubjectStatus.SCREEN_FAILED, SubjectStatus.ENROLLED, SubjectStatus.OFF_STUDY}
    ),
    SubjectStatus.SCREEN_FAILED: frozenset(),
    SubjectStatus.ENROLLED: frozenset(
        {SubjectStatus.ON_TREATMENT, SubjectStatus.FOLLOW_UP, SubjectStatus.OFF_STUDY}
    ),
    SubjectStatus.ON_TREATMENT: frozenset({SubjectStatus.FOLLOW_UP, SubjectStatus.OFF_STUDY}),
    SubjectStatus.FOLLOW_UP: frozenset({SubjectStatus.OFF_STUDY}),
    SubjectStatus.OFF_STUDY: frozenset(),
}
# Statuses of a subject who was enrolled (they count towards the target enrollment).
ENROLLED_STATUSES = frozenset(
    {SubjectStatus.ENROLLED, SubjectStatus.ON_TREATMENT, SubjectStatus.FOLLOW_UP, SubjectStatus.OFF_STUDY}
)


class Sex(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")


class Subject(SiteOwnedModel):
    screening_number = models.CharField(
        max_length=32, help_text=_("Allocated at screening from the study's pattern; never reused.")
    )
    subject_identifier = models.CharField(
        max_length=32, blank=True, help_text=_("Assigned at enrollment; empty while screening.")
    )
    status = models.CharField(max_length=20, choices=SubjectStatus.choices, default=SubjectStatus.SCREENING)
    initials = models.CharField(max_length=4, blank=True)
    sex = models.CharField(max_length=1, choices=Sex.choices)
    birth_date = PartialDateField(
        help_text=_("YYYY, YYYY-MM or YYYY-MM-DD: many patients give only the year of birth."),
        validators=[validate_birth_date],
    )
    screening_date = models.DateField(
        null=True, blank=True, help_text=_("The day the patient was screened (the screening visit).")
    )
    rescreen_of = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="rescreens",
        help_text=_("The earlier screening (a screen failure) this one repeats under a new number."),
    )
    screen_failed_on = models.DateField(null=True, blank=True)
    screen_fail_reason = models.TextField(blank=True)
    screen_fail_criteria = models.JSONField(
        default=list,
        blank=True,
        help_text=_('The criteria that failed, as the study numbers them ("I3", "E4").'),
    )
    enrollment_date = models.DateField(null=True, blank=True)
    planned_first_dose = models.DateField(null=True, blank=True)
    arm = models.ForeignKey("studies.Arm", on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    lock_parents: ClassVar[tuple[str, ...]] = ("study",)
    # The screening number is the subject's identity; subject_identifier and status change only
    # through their transitions (screening and enrollment services).
    fixed_fields: ClassVar[tuple[str, ...]] = ("study", "screening_number", "rescreen_of")
    # What a door may change on an existing subject (subject_update's keyword arguments).
    editable_fields: ClassVar[tuple[str, ...]] = ("site", "sex", "birth_date", "initials")
    # Withheld from a sponsor viewer (pseudonymised data): the birth date is shown as its year only.
    identifying_fields: ClassVar[tuple[str, ...]] = ("initials", "birth_date")
    # The subject record stores the registry's DM (demographics) form (studies/form_stores.py);
    # identifiers, status and the journey's dates are set by the transition services, not entered
    # on the form.
    form_code: ClassVar[str] = "DM"
    form_exempt_fields: ClassVar[tuple[str, ...]] = (
        "screening_number",
        "subject_identifier",
        "status",
        "screening_date",
        "rescreen_of",
        "screen_failed_on",
        "screen_fail_reason",
        "screen_fail_criteria",
        "enrollment_date",
        "planned_first_dose",
        "arm",
    )

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


class IdentifierKind(models.TextChoices):
    SCREENING = "screening", _("Screening number")
    SUBJECT = "subject", _("Subject identifier")
    ENROLLMENT = "enrollment", _("Enrollments (the study-wide lock of the target check)")


class IdentifierSequence(models.Model):
    """The last number drawn for a study (and site): the row is locked while a number is drawn.

    Not clinical data: a counter. A number drawn in a transaction that rolls back is drawn again
    by the next one (it was never stored); a stored one is never drawn again, also after voiding.
    """

    study = models.ForeignKey("studies.Study", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=IdentifierKind.choices)
    scope = models.CharField(max_length=40, blank=True, help_text=_("The site's id, or empty: the study."))
    last_value = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["study", "kind", "scope"]
        constraints = [
            models.UniqueConstraint(fields=["study", "kind", "scope"], name="identifier_sequence_unique")
        ]

    def __str__(self) -> str:
        return f"{self.study_id} {self.kind} {self.scope or '*'}: {self.last_value}"


class EnrollmentRules(AssumptionFields):
    """How a study numbers and admits its subjects: the `enrollment` block of its fixture.

    A study without one uses the defaults below (each is then an assumption of the product).
    """

    study = models.OneToOneField("studies.Study", on_delete=models.PROTECT, related_name="enrollment_rules")
    screening_number_pattern = models.CharField(
        max_length=64, default="{site}-S{seq:04d}", help_text=_("e.g. {site}-S{seq:04d}; counted per study.")
    )
    subject_identifier_pattern = models.CharField(
        max_length=64, default="{site}-{seq:04d}", help_text=_("e.g. 004-{site}-{seq:03d}.")
    )
    identifier_sequence = models.CharField(
        max_length=16,
        choices=[(identifiers.PER_SITE, _("per site")), (identifiers.PER_STUDY, _("per study"))],
        default=identifiers.PER_SITE,
        help_text=_("Whether subject identifiers count per site or across the study."),
    )
    rescreening_allowed = models.BooleanField(default=False)
    max_rescreenings = models.PositiveSmallIntegerField(
        default=1, help_text=_("How many times one person may be re-screened.")
    )
    over_enrollment_allowed = models.BooleanField(
        default=False, help_text=_("Whether enrollment goes on past the target enrollment.")
    )
    # [{"forms": ["TU", "TR"], "within_days": 28, "before": "first_dose"}]: procedures the protocol
    # lets sites reuse from before consent (seed 000: imaging within 28 days before treatment).
    procedures_before_consent = models.JSONField(default=list, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["study__protocol_id"]
        verbose_name_plural = "enrollment rules"

    def __str__(self) -> str:
        return f"{self.study}: enrollment rules"

    def clean(self) -> None:
        errors: dict[str, list[str]] = {}
        for name, sequence in (
            ("screening_number_pattern", identifiers.PER_STUDY),
            ("subject_identifier_pattern", self.identifier_sequence),
        ):
            problems = identifiers.pattern_problems(getattr(self, name), sequence=sequence)
            if problems:
                errors[name] = problems
        rules = self.procedures_before_consent
        if not isinstance(rules, list) or not all(
            isinstance(r, dict)
            and set(r) <= {"forms", "within_days", "before"}
            and isinstance(r.get("forms"), list)
            and all(isinstance(f, str) for f in r["forms"])
            and isinstance(r.get("within_days"), int)
            and r.get("before", "first_dose") == "first_dose"
            for r in rules
        ):
            errors["procedures_before_consent"] = [
                gettext('a list of {"forms": [form codes], "within_days": N, "before": "first_dose"}')
            ]
        if errors:
            raise ValidationError(errors)


def enrollment_rules(study: Any) -> EnrollmentRules:
    """The study's rules, or the defaults (unsaved) when its fixture states none."""
    try:
        return study.enrollment_rules
    except EnrollmentRules.DoesNotExist:
        return EnrollmentRules(study=study)
