"""The base of every clinical model: identity, ownership (study, site), voiding, locks, version, history.

Writes go through edc.core.services (record_save, record_void, record_bulk_create, ...), never straight
to save(): that is where the reason for change is demanded, locks and versions are enforced and the
history row gets its reason. Anything else raises AuditBypassError:

- `save()` (and so `Model.objects.create`, `get_or_create`, `update_or_create`) outside the helpers;
- `QuerySet.update()`, `bulk_update()`, `bulk_create()`, `delete()`, also through the base manager.
"""

from __future__ import annotations

import contextvars
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import Any, ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from edc.core.exceptions import AuditBypassError, DeletionRefused

# Set only while a helper of edc.core.services writes; the guards below refuse every other write.
_write_path_open: contextvars.ContextVar[bool] = contextvars.ContextVar("edc_write_path", default=False)


@contextmanager
def _write_path() -> Iterator[None]:
    """For edc.core.services only: the one place that may save audited rows."""
    token = _write_path_open.set(True)
    try:
        yield
    finally:
        _write_path_open.reset(token)


def _refuse_outside_write_path(what: str) -> None:
    if not _write_path_open.get():
        raise AuditBypassError(
            f"{what} on an audited model would skip the reason for change, the version and the history "
            "row: write through the app's services (edc.core.services underneath)."
        )


class ReasonCode(models.TextChoices):
    TRANSCRIPTION_ERROR = "transcription_error", _("Transcription error")
    SOURCE_UPDATED = "source_updated", _("Source document updated")
    QUERY_RESPONSE = "query_response", _("Query response")
    LATE_ENTRY = "late_entry", _("Late data entry")
    PROTOCOL_AMENDMENT = "protocol_amendment", _("Protocol amendment")
    OTHER = "other", _("Other (explain)")


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

    def update_or_create(self, *args: Any, **kwargs: Any) -> Any:
        raise AuditBypassError("update_or_create() would skip the reason for change; use the services.")

    def bulk_create(self, objs: Any, *args: Any, **kwargs: Any) -> Any:
        _refuse_outside_write_path("bulk_create()")
        return super().bulk_create(objs, *args, **kwargs)


class AuditedModel(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
    # Optimistic concurrency: every write states the version it was based on; a stale one is refused.
    version = models.PositiveIntegerField(
        default=1, editable=False, help_text=_("Raised by one on every change; a stale write is refused.")
    )
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
    # Fields only the core helpers set (voiding, locking, the version): refused in an ordinary change.
    system_fields: ClassVar[tuple[str, ...]] = ("version", "voided_at", "void_reason", "locked_at")
    # Fields fixed once the record exists (its study, its identity).
    fixed_fields: ClassVar[tuple[str, ...]] = ()
    # Fields that identify a person (initials, birth date): withheld from a pseudonymised reader (a
    # sponsor viewer) in the API, the history and the admin (edc.core.scoping.pseudonymised).
    identifying_fields: ClassVar[tuple[str, ...]] = ()

    class Meta:
        abstract = True
        # Django's internals (related access, refresh_from_db, save's UPDATE) use the base manager:
        # it refuses bulk writes like `objects`, so `Model._base_manager.update()` is no side door.
        base_manager_name = "objects"

    def save_base(self, *args: Any, **kwargs: Any) -> None:
        _refuse_outside_write_path("save()")
        super().save_base(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise DeletionRefused("Clinical records are never deleted; void them with a reason.")

    @property
    def is_voided(self) -> bool:
        return self.voided_at is not None

    def iter_locks(self) -> Iterator[str]:
        """Say why the record is locked: itself, then each parent that carries a lock."""
        if self.locked_at is not None:
            yield gettext("this {model} is locked").format(model=self._meta.verbose_name)
        for name in self.lock_parents:
            parent = getattr(self, name, None)
            if parent is not None and getattr(parent, "locked_at", None) is not None:
                yield gettext("its {model} {record} is locked").format(
                    model=parent._meta.verbose_name, record=parent
                )


def _refuse_raw_saves(sender: Any, instance: Any, **kwargs: Any) -> None:
    # loaddata saves through Model.save_base(obj, raw=True), past AuditedModel.save_base.
    if isinstance(instance, AuditedModel):
        _refuse_outside_write_path("save()")


models.signals.pre_save.connect(_refuse_raw_saves, dispatch_uid="edc_audited_raw_saves")


class StudyOwnedModel(AuditedModel):
    study = models.ForeignKey("studies.Study", on_delete=models.PROTECT, related_name="+")

    scope_study_field: ClassVar[str | None] = "study"
    lock_parents: ClassVar[tuple[str, ...]] = ("study",)
    fixed_fields: ClassVar[tuple[str, ...]] = ("study",)

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
            raise ValidationError({"site": _("This site does not take part in the record's study.")})


# --- roles ---------------------------------------------------------------------------------------


class Role(models.TextChoices):
    SITE_COORDINATOR = "site_coordinator", _("Site coordinator")
    INVESTIGATOR = "investigator", _("Investigator")
    MONITOR = "monitor", _("Monitor")
    DATA_MANAGER = "data_manager", _("Data manager")
    SPONSOR_VIEWER = "sponsor_viewer", _("Sponsor viewer")
    ADMIN = "admin", _("Study administrator")


class Capability(StrEnum):
    """What a role allows, at the sites its membership grants (see docs/audit.md, the role table)."""

    READ = "read"  # see the study's records at the membership's sites
    ENTER_DATA = "enter_data"  # create, change and void clinical data there
    ANSWER_QUERIES = "answer_queries"
    SIGN = "sign"  # investigator signatures (data-integrity issue)
    VERIFY = "verify"  # source data verification
    RAISE_QUERIES = "raise_queries"
    LOCK = "lock"  # lock and unlock records
    MANAGE_MEMBERSHIPS = "manage_memberships"  # grant, change and end memberships of the study
    EDIT_DEFINITIONS = "edit_definitions"  # change the trial definition in the admin


C = Capability
ROLE_CAPABILITIES: dict[str, frozenset[Capability]] = {
    Role.SITE_COORDINATOR: frozenset({C.READ, C.ENTER_DATA, C.ANSWER_QUERIES}),
    Role.INVESTIGATOR: frozenset({C.READ, C.ENTER_DATA, C.ANSWER_QUERIES, C.SIGN}),
    Role.MONITOR: frozenset({C.READ, C.VERIFY, C.RAISE_QUERIES}),
    Role.DATA_MANAGER: frozenset({C.READ, C.RAISE_QUERIES, C.LOCK}),
    Role.SPONSOR_VIEWER: frozenset({C.READ}),
    Role.ADMIN: frozenset({C.READ, C.MANAGE_MEMBERSHIPS, C.EDIT_DEFINITIONS}),
}
del C


# Roles that hold a capability, for queries ("role__in").
def roles_with(capability: Capability) -> frozenset[str]:
    return frozenset(role for role, capabilities in ROLE_CAPABILITIES.items() if capability in capabilities)


# Roles that may enter or change subject data; the others read, verify, query or lock.
WRITING_ROLES = roles_with(Capability.ENTER_DATA)
# Roles that cover a whole study: their membership names no site.
STUDY_WIDE_ROLES = frozenset({Role.DATA_MANAGER, Role.ADMIN})


class Membership(models.Model):
    """What a user may see and do: one study, one of its sites or (site empty) all of them, one role.

    Granted and changed through edc.core.services.membership_grant / membership_change only (by a
    superuser or a study administrator of that study); ended by deactivation, never deleted.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="memberships", verbose_name=_("user")
    )
    study = models.ForeignKey(
        "studies.Study", on_delete=models.PROTECT, related_name="memberships", verbose_name=_("study")
    )
    site = models.ForeignKey(
        "studies.Site",
        on_delete=models.PROTECT,
        related_name="memberships",
        null=True,
        blank=True,
        help_text=_("Empty: every site of the study."),
        verbose_name=_("site"),
    )
    role = models.CharField(max_length=32, choices=Role.choices, verbose_name=_("role"))
    is_active = models.BooleanField(default=True, verbose_name=_("active"))
    created = models.DateTimeField(auto_now_add=True, verbose_name=_("created"))
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
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
        where = self.site.code if self.site is not None else "all sites"
        return f"{self.user} · {self.study} · {where} · {self.get_role_display()}"

    def clean(self) -> None:
        if self.site is not None and self.study_id and self.site.study_id != self.study_id:
            raise ValidationError({"site": _("This site does not take part in the study.")})
        if self.site_id and self.role in STUDY_WIDE_ROLES:
            raise ValidationError(
                {
                    "site": _("A {role} covers every site of the study: leave the site empty.").format(
                        role=self.get_role_display().lower()
                    )
                }
            )

    @property
    def capabilities(self) -> frozenset[Capability]:
        return ROLE_CAPABILITIES.get(self.role, frozenset())

    @property
    def can_write(self) -> bool:
        return Capability.ENTER_DATA in self.capabilities
