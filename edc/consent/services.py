"""Writes of consent: signing a version, correcting or voiding a signature.

Rules (docs/journey.md): a consent is dated in its version's period (never before it takes effect),
not in the future; the subject's first consent is not dated after a screening procedure already
recorded (the protocol's reusable procedures excepted); the patient or a legally acceptable
representative signs.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from edc.consent.models import ConsentVersion, SignedConsent
from edc.consent.selectors import site_day
from edc.core.services import UNSET, ChangeReason, Unset, given, record_save, record_update, record_void
from edc.subjects.access import require_write

# A consent time may run ahead of the server clock by this much (a site's clock, a time zone slip).
CLOCK_SLACK = dt.timedelta(minutes=10)


def consent_version_lookup(*, study: Any, version: str, language: str | None = None) -> ConsentVersion:
    """A study's consent version by its code (and language, when it has more than one)."""
    found = ConsentVersion.objects.filter(study=study, version=version)
    if language:
        found = found.filter(language=language)
    versions = list(found[:2])
    if not versions:
        raise ValidationError(
            {"version": [gettext("The study has no consent version {v!r}.").format(v=version)]}
        )
    if len(versions) > 1:
        raise ValidationError(
            {
                "language": [
                    gettext("Consent version {v} exists in several languages: name one.").format(v=version)
                ]
            }
        )
    return versions[0]


def _check(consent: SignedConsent, *, first: bool) -> None:
    errors: dict[str, list[str]] = {}
    if consent.signed_at is None:
        raise ValidationError({"signed_at": [gettext("Give the date and time consent was signed.")]})
    if timezone.is_naive(consent.signed_at):
        raise ValidationError({"signed_at": [gettext("Give the time with its UTC offset (e.g. +08:00).")]})
    day = site_day(consent.signed_at, consent.site)
    version = consent.consent_version
    if consent.signed_at > timezone.now() + CLOCK_SLACK:
        errors.setdefault("signed_at", []).append(gettext("A consent cannot be signed in the future."))
    if day < version.effective_from:
        errors.setdefault("signed_at", []).append(
            gettext("Version {v} takes effect on {d}: a consent to it cannot be dated {day}.").format(
                v=version.version, d=version.effective_from, day=day
            )
        )
    if version.effective_to is not None and day > version.effective_to:
        errors.setdefault("signed_at", []).append(
            gettext("Version {v} was in effect until {d}.").format(v=version.version, d=version.effective_to)
        )
    if first:
        from edc.forms.selectors import first_procedure_before

        earlier = first_procedure_before(consent.subject, day)
        if earlier is not None:
            errors.setdefault("signed_at", []).append(
                gettext(
                    "A screening procedure is already recorded on {d} ({form}): consent comes before "
                    "every screening procedure."
                ).format(d=earlier[1], form=earlier[0])
            )
    if errors:
        raise ValidationError(errors)


def _is_first(subject: Any, exclude: Any = None) -> bool:
    others = SignedConsent.objects.active().filter(subject=subject)
    if exclude is not None:
        others = others.exclude(pk=exclude)
    return not others.exists()


@transaction.atomic
def consent_sign(
    *,
    user: Any,
    subject: Any,
    version: ConsentVersion,
    signed_at: dt.datetime,
    obtained_by: str,
    patient_signed: bool = True,
    representative_signed: bool = False,
    representative_relationship: str = "",
    witness_signed: bool = False,
    copy_given: bool = True,
    samples_consent: bool | None = None,
) -> SignedConsent:
    """Record a signed informed consent (the first entry of the record: no reason needed)."""
    require_write(user, subject.site)
    if subject.is_voided:
        raise ValidationError({"subject": [gettext("The subject is voided.")]})
    consent = SignedConsent(
        study=subject.study,
        site=subject.site,
        subject=subject,
        consent_version=version,
        signed_at=signed_at,
        obtained_by=obtained_by,
        patient_signed=patient_signed,
        representative_signed=representative_signed,
        representative_relationship=representative_relationship,
        witness_signed=witness_signed,
        copy_given=copy_given,
        samples_consent=samples_consent,
    )
    if version.study_id != subject.study_id:
        raise ValidationError({"version": [gettext("This consent version belongs to another study.")]})
    _check(consent, first=_is_first(subject))
    return _checked(record_save(consent, user=user))


@transaction.atomic
def consent_update(
    *,
    user: Any,
    consent: SignedConsent,
    reason: ChangeReason | None,
    version: int | None = None,
    signed_at: dt.datetime | Unset = UNSET,
    obtained_by: str | Unset = UNSET,
    patient_signed: bool | Unset = UNSET,
    representative_signed: bool | Unset = UNSET,
    representative_relationship: str | Unset = UNSET,
    witness_signed: bool | Unset = UNSET,
    copy_given: bool | Unset = UNSET,
    samples_consent: bool | Unset | None = UNSET,
    consent_version: ConsentVersion | Unset = UNSET,
) -> SignedConsent:
    """Correct a recorded consent (`version`: the record version the change is based on)."""
    require_write(user, consent.site)
    changes = given(
        signed_at=signed_at,
        obtained_by=obtained_by,
        patient_signed=patient_signed,
        representative_signed=representative_signed,
        representative_relationship=representative_relationship,
        witness_signed=witness_signed,
        copy_given=copy_given,
        samples_consent=samples_consent,
    )
    if consent_version is not UNSET:
        changes["consent_version"] = consent_version
    for name, value in changes.items():
        setattr(consent, name, value)
    _check(consent, first=_is_first(consent.subject, exclude=consent.pk))
    return _checked(record_update(consent, user=user, changes={}, reason=reason, version=version))


@transaction.atomic
def consent_void(
    *, user: Any, consent: SignedConsent, reason: ChangeReason, version: int | None = None
) -> SignedConsent:
    require_write(user, consent.site)
    return _checked(record_void(consent, user=user, reason=reason, version=version))


def _checked(consent: SignedConsent) -> SignedConsent:
    """The edit checks of the subject after a consent write (a date before consent, issue 22)."""
    from edc.datamanagement.services import edit_checks_run_for

    edit_checks_run_for(consent)
    return consent
