"""Data management (issue 22): queries, source data verification, investigator signatures.

- **Query**: a data clarification attached to one record and (optionally) one of its fields. Raised by
  a monitor or data manager (manual) or by an edit check (`rule` names it, edc/datamanagement/checks.py).
  Status flow open -> answered -> closed, or re-opened (answered or closed -> open); every step is a
  QueryEvent (who, when, the words) and a history row of the query (simple-history).
- **SourceVerification**: a monitor marks a form row (or one field of it) verified against the source,
  at the record's version; a later change clears it (its state is read against the record's history,
  so no write path can skip clearing it) and the clearing change is named.
- **Signature**: an investigator signs a visit, a casebook (a subject) or the screening decision with
  the meaning shown and stored (21 CFR 11.50); the signed records' versions are stored as a manifest,
  so a later change to any of them invalidates the signature visibly.

Writes go through edc/datamanagement/services.py.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from edc.core.models import SiteOwnedModel


class QueryStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ANSWERED = "answered", _("Answered")
    CLOSED = "closed", _("Closed")


class CloseKind(models.TextChoices):
    MANUAL = "manual", _("Closed by a reviewer")
    CORRECTED = "corrected", _("Closed by its edit check: the data was corrected")


class RecordRefMixin(models.Model):
    """A reference to one audited record (any model: form row, visit, subject, consent ...)."""

    subject = models.ForeignKey(
        "subjects.Subject", on_delete=models.PROTECT, related_name="+", verbose_name=_("subject")
    )
    record_type = models.CharField(
        _("record type"), max_length=100, help_text=_('The record\'s model, "app_label.model".')
    )
    record_id = models.UUIDField(_("record"))
    field = models.CharField(_("field"), max_length=100, blank=True, help_text=_("Empty: the whole record."))

    class Meta:
        abstract = True


class Query(RecordRefMixin, SiteOwnedModel):
    rule = models.CharField(
        _("edit check"),
        max_length=64,
        blank=True,
        help_text=_("The edit check that raised it; empty: manual."),
    )
    text = models.TextField(_("query"))
    status = models.CharField(
        _("status"), max_length=12, choices=QueryStatus.choices, default=QueryStatus.OPEN
    )
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("raised by"),
        help_text=_("Empty: raised by an edit check."),
    )
    raised_at = models.DateTimeField(_("raised at"))
    # Ageing counts from here: the raising, or the last re-opening.
    opened_at = models.DateTimeField(_("open since"))
    answer = models.TextField(_("answer"), blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("answered by"),
    )
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("closed by"),
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    close_kind = models.CharField(_("closed how"), max_length=12, choices=CloseKind.choices, blank=True)

    # Queries stay answerable and closable on locked data (they are about the data, not part of it).
    lock_parents: ClassVar[tuple[str, ...]] = ()
    fixed_fields: ClassVar[tuple[str, ...]] = (
        "study",
        "subject",
        "record_type",
        "record_id",
        "field",
        "rule",
    )

    class Meta:
        verbose_name = _("query")
        base_manager_name = "objects"
        verbose_name_plural = _("queries")
        ordering = ["opened_at", "id"]
        indexes = [
            models.Index(fields=["subject", "status"], name="query_subject_status"),
            models.Index(fields=["study", "status", "opened_at"], name="query_study_status"),
            models.Index(fields=["rule", "record_id", "field"], name="query_rule_record"),
        ]
        constraints = [
            # Never two open (or answered) queries of one edit check on one record and field.
            models.UniqueConstraint(
                fields=["rule", "record_type", "record_id", "field"],
                condition=~Q(rule="") & ~Q(status="closed") & Q(voided_at__isnull=True),
                name="query_one_open_per_check",
            ),
        ]

    def __str__(self) -> str:
        where = f"{self.record_type} {self.field}".strip()
        return f"{self.get_status_display()}: {where}: {self.text[:60]}"


class QueryAction(models.TextChoices):
    RAISED = "raised", _("Raised")
    ANSWERED = "answered", _("Answered")
    CLOSED = "closed", _("Closed")
    REOPENED = "reopened", _("Re-opened")


class AppendOnly(Exception):
    """A query event was about to be changed or deleted."""


class QueryEventQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnly("Query events are never changed.")

    def delete(self) -> Any:
        raise AppendOnly("Query events are never deleted.")

    def bulk_update(self, *args: Any, **kwargs: Any) -> Any:
        raise AppendOnly("Query events are never changed.")


class QueryEvent(models.Model):
    """One step of a query's dialogue: who did what when, in their words. Rows are only added."""

    query = models.ForeignKey(Query, on_delete=models.PROTECT, related_name="events")
    action = models.CharField(_("action"), max_length=12, choices=QueryAction.choices)
    text = models.TextField(_("text"), blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
        help_text=_("Empty: the edit check."),
    )
    at = models.DateTimeField(_("at"))

    objects = QueryEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("query event")
        verbose_name_plural = _("query events")
        ordering = ["at", "id"]
        base_manager_name = "objects"

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnly("Query events are never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise AppendOnly("Query events are never deleted.")


class SourceVerification(RecordRefMixin, SiteOwnedModel):
    verified_version = models.PositiveIntegerField(_("verified version"))
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("verified by")
    )
    verified_at = models.DateTimeField(_("verified at"))

    lock_parents: ClassVar[tuple[str, ...]] = ()
    fixed_fields: ClassVar[tuple[str, ...]] = (
        "study",
        "subject",
        "record_type",
        "record_id",
        "field",
        "verified_version",
        "verified_by",
        "verified_at",
    )

    class Meta:
        verbose_name = _("source data verification")
        base_manager_name = "objects"
        verbose_name_plural = _("source data verifications")
        ordering = ["verified_at", "id"]
        indexes = [models.Index(fields=["record_id", "field"], name="sdv_record_field")]

    def __str__(self) -> str:
        return f"SDV {self.record_type} {self.field or '*'} v{self.verified_version}"


class SignatureKind(models.TextChoices):
    VISIT = "visit", _("Visit")
    CASEBOOK = "casebook", _("Casebook")
    SCREENING = "screening", _("Screening decision")


class Signature(RecordRefMixin, SiteOwnedModel):
    kind = models.CharField(_("signed"), max_length=12, choices=SignatureKind.choices)
    meaning = models.TextField(
        _("meaning"), help_text=_("The meaning of the signature, as shown to the signer.")
    )
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("signed by")
    )
    signer_name = models.CharField(_("printed name of the signer"), max_length=300)
    signed_at = models.DateTimeField(_("signed at"))
    # The records signed, each at its version: [[record_type, record_id, version], ...].
    manifest = models.JSONField(_("records signed"))
    fingerprint = models.CharField(_("fingerprint"), max_length=64)
    # The signing session (digest): the first signature of a session asks for user ID and password.
    session_digest = models.CharField(max_length=64, blank=True, editable=False)

    lock_parents: ClassVar[tuple[str, ...]] = ()
    fixed_fields: ClassVar[tuple[str, ...]] = (
        "study",
        "subject",
        "record_type",
        "record_id",
        "kind",
        "meaning",
        "signed_by",
        "signer_name",
        "signed_at",
        "manifest",
        "fingerprint",
        "session_digest",
    )

    class Meta:
        verbose_name = _("signature")
        base_manager_name = "objects"
        verbose_name_plural = _("signatures")
        ordering = ["signed_at", "id"]
        indexes = [models.Index(fields=["signed_by", "session_digest"], name="signature_session")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} signed by {self.signer_name} {self.signed_at:%Y-%m-%d %H:%M}"
