"""Reads of consent: the versions in effect, a subject's consents, the re-consent list."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from edc.consent.models import ConsentVersion, Reconsent, SignedConsent
from edc.core.scoping import scope
from edc.subjects.models import Subject, SubjectStatus


def site_day(moment: dt.datetime, site: Any) -> dt.date:
    """The calendar day of a timestamp at the site (consent dates are site days)."""
    if moment.tzinfo is None:
        return moment.date()
    return moment.astimezone(zoneinfo.ZoneInfo(site.time_zone)).date()


def versions_in_effect(study: Any, day: dt.date) -> list[ConsentVersion]:
    """The versions a new signature may use on `day`: in their period and not superseded.

    A version is superseded on a day when a later version of the same language has taken effect.
    """
    versions = list(ConsentVersion.objects.filter(study=study).order_by("effective_from", "version"))
    current = []
    for version in versions:
        if not version.in_effect_on(day):
            continue
        later = [
            v
            for v in versions
            if v.language == version.language
            and v.pk != version.pk
            and v.effective_from > version.effective_from
            and v.effective_from <= day
        ]
        if not later:
            current.append(version)
    return current


def subject_consents(subject: Any) -> QuerySet[SignedConsent]:
    return (
        SignedConsent.objects.active()
        .filter(subject=subject)
        .select_related("consent_version")
        .order_by("signed_at")
    )


def first_consent_date(subject: Any) -> dt.date | None:
    first = SignedConsent.objects.active().filter(subject=subject).order_by("signed_at").first()
    return site_day(first.signed_at, subject.site) if first is not None else None


# Which statuses each re-consent scope names.
RECONSENT_STATUSES: dict[str, frozenset[str]] = {
    Reconsent.ALL_ACTIVE: frozenset(
        {SubjectStatus.SCREENING, SubjectStatus.ENROLLED, SubjectStatus.ON_TREATMENT, SubjectStatus.FOLLOW_UP}
    ),
    Reconsent.ON_TREATMENT: frozenset({SubjectStatus.ENROLLED, SubjectStatus.ON_TREATMENT}),
    Reconsent.FOLLOW_UP: frozenset({SubjectStatus.FOLLOW_UP}),
    Reconsent.NEW_ONLY: frozenset(),
}


@dataclass(frozen=True)
class ReconsentDue:
    subject: Subject
    version: ConsentVersion  # the version they must sign
    last_signed: str  # the version they signed last ("" when none)


def reconsent_due(*, study: Any, user: Any, as_of: dt.date | None = None) -> list[ReconsentDue]:
    """Subjects a version in effect names for re-consent who have not signed it yet (their sites only).

    ``as_of`` None: each subject is judged on its own site's today (sites of one study may sit in
    different time zones, so "in effect today" can differ between them).

    Queries: the sites (1, only without ``as_of``), the versions (1 per distinct day), the subjects
    named (1), their consents (1).
    """
    days = {as_of} if as_of is not None else {site.today() for site in study.sites.all()}
    versions_on = {
        day: [v for v in versions_in_effect(study, day) if RECONSENT_STATUSES[v.reconsent]] for day in days
    }
    if not any(versions_on.values()):
        return []
    statuses = set().union(*(RECONSENT_STATUSES[v.reconsent] for vs in versions_on.values() for v in vs))
    subjects = list(
        scope(Subject.objects.active(), user)
        .filter(study=study, status__in=statuses)
        .select_related("site", "study")
        .order_by("site__code", "screening_number")
    )
    signed: dict[Any, list[SignedConsent]] = {}
    for consent in (
        SignedConsent.objects.active()
        .filter(subject__in=[s.pk for s in subjects])
        .select_related("consent_version")
        .order_by("signed_at")
    ):
        signed.setdefault(consent.subject_id, []).append(consent)
    due = []
    for subject in subjects:
        day = as_of if as_of is not None else subject.site.today()
        if day not in versions_on:  # the site's day turned between the two reads
            versions_on[day] = [v for v in versions_in_effect(study, day) if RECONSENT_STATUSES[v.reconsent]]
        theirs = signed.get(subject.pk, [])
        numbers = {c.consent_version.version for c in theirs}
        for version in versions_on[day]:
            if subject.status in RECONSENT_STATUSES[version.reconsent] and version.version not in numbers:
                due.append(
                    ReconsentDue(subject, version, theirs[-1].consent_version.version if theirs else "")
                )
                break
    return due
