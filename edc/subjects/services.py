"""Writes of subject data. Admin, API and commands call these, so every door behaves the same.

Each service is typed: it takes exactly what its step may change. Status and identifiers change only
through their transitions (screening now; enrollment and the rest of the journey in later services),
never through subject_update.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from edc.core.partial_dates import PartialDate
from edc.core.scoping import require_site_write
from edc.core.services import UNSET, ChangeReason, Unset, given, record_save, record_update, record_void
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
        birth_date=str(birth_date),
        initials=initials,
    )
    return record_save(subject, user=user)


@transaction.atomic
def subject_update(
    *,
    user: Any,
    subject: Subject,
    reason: ChangeReason | None,
    version: int | None = None,
    sex: str | Unset = UNSET,
    birth_date: PartialDate | str | Unset = UNSET,
    initials: str | Unset = UNSET,
    site: Site | Unset = UNSET,
) -> Subject:
    """Correct a subject's demographics or move them to another site of the study.

    `version`: the version the change is based on (what the user read). A site move needs the
    right to enter data at both sites.
    """
    require_site_write(user, subject.site)
    if site is not UNSET and site.pk != subject.site_id:
        require_site_write(user, site)
    changes = given(sex=sex, birth_date=birth_date, initials=initials, site=site)
    return record_update(subject, user=user, changes=changes, reason=reason, version=version)


@transaction.atomic
def subject_void(*, user: Any, subject: Subject, reason: ChangeReason, version: int | None = None) -> Subject:
    require_site_write(user, subject.site)
    return record_void(subject, user=user, reason=reason, version=version)
