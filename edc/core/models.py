"""The base of every clinical model: identity, ownership (study, site), voiding, locks and history.

Writes go through edc.core.services (record_save, record_void), never straight to save(): that is
where the reason for change is demanded, locks are enforced and the history row gets its reason.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any, ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from simple_history.models import HistoricalRecords

from edc.core.exceptions import AuditBypassError, DeletionRefused


class ReasonCode(models.TextChoices):
    TRANSCRIPTION_ERROR = "transcription_error", "Transcription error"
    SOURCE_UPDATED = "source_updated", "Source document updated"
    QUERY_RESPONSE = "query_response", "Query response"
    LATE_ENTRY = "late_entry", "Late data entry"
    PROTOCOL_AMENDMENT = "protocol_amendment", "Protocol amendment"
    OTHER = "other", "Other (explain)"


class HistoricalAuditFields(models.Model):
    """Extra columns on every historical row: the coded reason (the free text is history_change_reason)."""

    history_reason_code = models.CharField(max_length=32, blank=True)

    class Meta:
        abstract = True


class AuditedQuerySet(models.QuerySet):
    def active(self) -> AuditedQuerySet:
        """Working lists: voided records stay readable in history and exports but leave the lists."""
        return self.filter(voided_at__isnull=True)

    def voided(self) -> AuditedQuerySet:
        return self.filter(voided_at__isnull=False)

    def delete(self) -> Any:
        raise DeletionRefused("Clinical records are never deleted; void them with a reason.")

    def update(self, **kwargs: Any) -> Any:
        raise AuditBypassError("QuerySet.update() would skip history; write through edc.core.services.")

    def bulk_update(self, *args: Any, **kwargs: Any) -> Any:
        raise AuditBypassError("bulk_update() would skip history; write through edc.core.services.")


class AuditedModel(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
    voided_at = models.DateTimeField(null=True, blank=True, editable=False)
    void_reason = models.TextField(blank=True, editable=False)
    # Set by the lock workflow (data-integrity); a locked record refuses every change.
    locked_at = models.DateTimeField(null=True, blank=True, editable=False)

    history = HistoricalRecords(inherit=True, bases=[HistoricalAuditFields])
    objects = AuditedQuerySet.as_manager()

    # Where the scoping helper finds the owning study and site (a path of related fields).
    scope_study_field: ClassVar[str | None] = None
    scope_site_field: ClassVar[str | None] = None
    # Parents whose lock also locks this record, nearest first (e.g. ("visit", "subject", "study")).
    lock_parents: ClassVar[tuple[str, ...]] = ()

    class Meta:
        abstract = True

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise DeletionRefused("Clinical records are never deleted; void them with a reason.")

    @property
    def is_voided(self) -> bool:
        return self.voided_at is not None

    def iter_locks(self) -> Iterator[str]:
        """Say why the record is locked: itself, then each parent that carries a lock."""
        if self.locked_at is not None:
            yield f"this {self._meta.verbose_name} is locked"
        for name in self.lock_parents:
            parent = getattr(self, name, None)
            if parent is not None and getattr(parent, "locked_at", None) is not None:
                yield f"its {parent._meta.verbose_name} {parent} is locked"


class StudyOwnedModel(AuditedModel):
    study = models.ForeignKey("studies.Study", on_delete=models.PROTECT, related_name="+")

    scope_study_field: ClassVar[str | None] = "study"
    lock_parents: ClassVar[tuple[str, ...]] = ("study",)

    class Meta:
        abstract = True


class SiteOwnedModel(StudyOwnedModel):
    """Subject data: belongs to a study and to one of its sites."""

    site = models.ForeignKey("studies.Site", on_delete=models.PROTECT, related_name="+")

    scope_site_field: ClassVar[str | None] = "site"

    class Meta:
        abstract = True

    def clean(self) -> None:
        super().clean()
        if self.site_id and self.study_id and self.site.study_id != self.study_id:
            raise ValidationError({"site": "This site does not take part in the record's study."})


class Role(models.TextChoices):
    SITE_COORDINATOR = "site_coordinator", "Site coordinator"
    INVESTIGATOR = "investigator", "Investigator"
    MONITOR = "monitor", "Monitor"
    DATA_MANAGER = "data_manager", "Data manager"
    SPONSOR_VIEWER = "sponsor_viewer", "Sponsor viewer"
    ADMIN = "admin", "Study administrator"


# Roles that may enter or change subject data; the others read (monitors raise queries later).
WRITING_ROLES = frozenset({Role.SITE_COORDINATOR, Role.INVESTIGATOR, Role.DATA_MANAGER, Role.ADMIN})


class Membership(models.Model):
    """What a user may see: one study, and one of its sites or (site empty) all of them."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    study = models.ForeignKey("studies.Study", on_delete=models.PROTECT, related_name="memberships")
    site = models.ForeignKey(
        "studies.Site",
        on_delete=models.PROTECT,
        related_name="memberships",
        null=True,
        blank=True,
        help_text="Empty: every site of the study.",
    )
    role = models.CharField(max_length=32, choices=Role.choices)
    is_active = models.BooleanField(default=True)
    created = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["user__username", "study__protocol_id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "study", "site"], name="membership_unique"),
            models.UniqueConstraint(
                fields=["user", "study"],
                condition=models.Q(site__isnull=True),
                name="membership_unique_all_sites",
            ),
        ]

    def __str__(self) -> str:
        where = self.site.code if self.site_id else "all sites"
        return f"{self.user} · {self.study} · {where} · {self.get_role_display()}"

    def clean(self) -> None:
        if self.site_id and self.study_id and self.site.study_id != self.study_id:
            raise ValidationError({"site": "This site does not take part in the study."})

    @property
    def can_write(self) -> bool:
        return self.role in WRITING_ROLES
