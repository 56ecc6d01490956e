"""Writes of subject data. Admin, API and commands call these, so every door behaves the same."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from edc.core.partial_dates import PartialDate
from edc.core.scoping import require_site_write
from edc.core.services import ChangeReason, record_save, record_update, record_void
from edc.subjects.models import Subject
from studies.models import Site, Study


@transaction.atomic
def subject_screen(
    *,
    user: Any,
    study: Study,
    site: Site,
    screening_number: str,
    sex: str,
    birth_date: PartialDate | str,
    initials: str = "",
) -> Subject:
    """Register a patient at screening (the first entry: no reason for change needed)."""
    require_site_write(user, site)
    subject = Subject(
        study=study,
        site=site,
        screening_number=screening_number,
        sex=sex,
        birth_date=birth_date,
        initials=initials,
    )
    return record_save(subject, user=user)


@transaction.atomic
def subject_update(
    *, user: Any, subject: Subject, changes: dict[str, Any], reason: ChangeReason | None
) -> Subject:
    require_site_write(user, subject.site)
    if "site" in changes:
        require_site_write(user, changes["site"])
    return record_update(subject, user=user, changes=changes, reason=reason)


@transaction.atomic
def subject_void(*, user: Any, subject: Subject, reason: ChangeReason) -> Subject:
    require_site_write(user, subject.site)
    return record_void(subject, user=user, reason=reason)
