"""Writes of subject data. Admin, API and commands call these, so every door behaves the same.

Each service is typed: it takes exactly what its step may change. Status and identifiers change only
through their transitions, never through subject_update:

- `subject_screen`: a person becomes a subject; the screening number is drawn from the study's
  pattern; the screening visit is created (the screening forms belong to it);
- `subject_screen_fail`: screening ends in failure, with the reason and the failing criteria;
- `subject_rescreen`: a screen failure screened again under a new number, linked to the first;
- `subject_enroll`: requires a current signed consent and a signed eligible screening outcome that
  is not stale; draws the subject identifier, sets the arm and dates, plans the visits;
- `subject_withdraw`: a withdrawal of consent with its date and scope; future visits stop.

Numbers are drawn from a counter row locked for the transaction (SELECT ... FOR UPDATE): two
concurrent screenings at one study wait for each other and never draw the same number.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext

from edc.core.partial_dates import PartialDate
from edc.core.services import (
    UNSET,
    ChangeReason,
    Unset,
    given,
    record_save,
    record_update,
    record_void,
)
from edc.subjects import identifiers
from edc.subjects.access import require_write
from edc.subjects.models import (
    ENROLLED_STATUSES,
    TRANSITIONS,
    IdentifierKind,
    IdentifierSequence,
    Subject,
    SubjectStatus,
    enrollment_rules,
)
from studies.models import Arm, Site, Study


def draw_number(*, study: Study, kind: str, scope: str = "") -> int:
    """The next number of a study's sequence, its counter row locked until the transaction ends."""
    IdentifierSequence.objects.bulk_create(
        [IdentifierSequence(study=study, kind=kind, scope=scope)], ignore_conflicts=True
    )
    counter = IdentifierSequence.objects.select_for_update().get(study=study, kind=kind, scope=scope)
    counter.last_value += 1
    counter.save(update_fields=["last_value"])
    return counter.last_value


def _reason(text: str) -> ChangeReason:
    return ChangeReason(code="other", text=text)


def _transition(
    subject: Subject, *, user: Any, to: str, changes: dict[str, Any], why: str, version: int | None
) -> Subject:
    if to not in TRANSITIONS.get(subject.status, frozenset()):
        raise ValidationError(
            {
                "status": [
                    gettext("A subject who is {status} cannot become {to}.").format(
                        status=subject.get_status_display().lower(), to=SubjectStatus(to).label.lower()
                    )
                ]
            }
        )
    return record_update(
        subject, user=user, changes={"status": to, **changes}, reason=_reason(why), version=version
    )


def _check_screening_date(site: Site, day: dt.date) -> None:
    if day > site.today():
        raise ValidationError({"screening_date": [gettext("The screening date is after today at the site.")]})


@transaction.atomic
def subject_screen(
    *,
    user: Any,
    study: Study,
    site: Site,
    sex: str,
    birth_date: PartialDate | str,
    initials: str = "",
    screening_date: dt.date | None = None,
    rescreen_of: Subject | None = None,
) -> Subject:
    """Register a patient at screening (the first entry: no reason for change needed).

    The screening number comes from the study's pattern; the screening visit is created with it.
    """
    from edc.visits.services import screening_visit_create

    require_write(user, site)
    if site.study_id != study.pk:
        raise ValidationError({"site": [gettext("This site does not take part in the study.")]})
    day = screening_date or site.today()
    _check_screening_date(site, day)
    subject = Subject(
        study=study,
        site=site,
        screening_number="-",  # drawn below, once the row is known to be valid
        sex=sex,
        birth_date=str(birth_date),
        initials=initials,
        screening_date=day,
        rescreen_of=rescreen_of,
    )
    subject.full_clean(exclude=["screening_number"], validate_unique=False, validate_constraints=False)
    rules = enrollment_rules(study)
    number = draw_number(study=study, kind=IdentifierKind.SCREENING)
    try:
        subject.screening_number = identifiers.format_identifier(
            rules.screening_number_pattern, protocol=study.protocol_id, site=site.code, seq=number
        )
    except ValueError as exc:
        raise ValidationError({"screening_number": [str(exc)]}) from None
    record_save(subject, user=user)
    screening_visit_create(user=user, subject=subject)
    return subject


def _child_models() -> list[type[Any]]:
    from edc.consent.models import SignedConsent, Withdrawal
    from edc.eligibility.models import EligibilityConfirmation, EligibilityDecision
    from edc.forms.models import FORM_MODELS
    from edc.visits.models import Visit

    return [
        Visit,
        SignedConsent,
        Withdrawal,
        EligibilityConfirmation,
        EligibilityDecision,
        *FORM_MODELS.values(),
    ]


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
    right to enter data at both sites, and takes the subject's visits and forms with it.
    """
    require_write(user, subject.site)
    moving = site is not UNSET and site.pk != subject.site_id
    if moving:
        require_write(user, site)
    changes = given(sex=sex, birth_date=birth_date, initials=initials, site=site)
    updated = record_update(subject, user=user, changes=changes, reason=reason, version=version)
    if moving and reason is not None:
        for model in _child_models():
            for row in model.objects.filter(subject=updated).exclude(site=updated.site):
                row.subject = updated
                record_update(row, user=user, changes={"site": updated.site}, reason=reason)
    return updated


@transaction.atomic
def subject_void(*, user: Any, subject: Subject, reason: ChangeReason, version: int | None = None) -> Subject:
    require_write(user, subject.site)
    return record_void(subject, user=user, reason=reason, version=version)


@transaction.atomic
def subject_screen_fail(
    *,
    user: Any,
    subject: Subject,
    reason: str,
    failed_criteria: list[str] | None = None,
    date: dt.date | None = None,
    version: int | None = None,
) -> Subject:
    """End screening in failure. The failing criteria default to those of the signed ineligible outcome."""
    from edc.eligibility.selectors import current_decision

    require_write(user, subject.site)
    if not reason.strip():
        raise ValidationError({"reason": [gettext("Say why screening failed.")]})
    day = date or subject.site.today()
    if day > subject.site.today():
        raise ValidationError({"date": [gettext("The date is after today at the site.")]})
    if subject.screening_date and day < subject.screening_date:
        raise ValidationError({"date": [gettext("The date is before the screening date.")]})
    criteria = list(failed_criteria or [])
    if failed_criteria is None:
        decision = current_decision(subject)
        if decision is not None and decision.outcome == "ineligible":
            criteria = [
                f"{'I' if c['kind'] == 'inclusion' else 'E'}{c['number']}"
                for c in decision.result["criteria"]
                if (c["kind"] == "inclusion" and c["status"] == "not_met")
                or (c["kind"] == "exclusion" and c["status"] == "met")
            ]
    return _transition(
        subject,
        user=user,
        to=SubjectStatus.SCREEN_FAILED,
        changes={
            "screen_failed_on": day,
            "screen_fail_reason": reason.strip(),
            "screen_fail_criteria": criteria,
        },
        why=gettext("Screen failure: {reason}").format(reason=reason.strip()),
        version=version,
    )


def _screenings(subject: Subject) -> int:
    """How many times the person was re-screened before (the chain of rescreen_of)."""
    count, current = 0, subject
    while current.rescreen_of_id is not None:
        count += 1
        current = current.rescreen_of  # type: ignore[assignment]
    return count


@transaction.atomic
def subject_rescreen(*, user: Any, subject: Subject, screening_date: dt.date | None = None) -> Subject:
    """Screen a screen failure again, where the study allows it: a new subject, a new number."""
    rules = enrollment_rules(subject.study)
    require_write(user, subject.site)
    if subject.status != SubjectStatus.SCREEN_FAILED:
        raise ValidationError({"status": [gettext("Only a screen failure is re-screened.")]})
    if not rules.rescreening_allowed:
        raise ValidationError({"status": [gettext("The study does not allow re-screening.")]})
    if subject.rescreens.filter(voided_at__isnull=True).exists():
        raise ValidationError({"status": [gettext("This screening was already repeated.")]})
    if _screenings(subject) + 1 > rules.max_rescreenings:
        raise ValidationError(
            {"status": [gettext("The study allows {n} re-screening(s).").format(n=rules.max_rescreenings)]}
        )
    return subject_screen(
        user=user,
        study=subject.study,
        site=subject.site,
        sex=subject.sex,
        birth_date=subject.birth_date,
        initials=subject.initials,
        screening_date=screening_date,
        rescreen_of=subject,
    )


def enrollment_refusals(
    subject: Subject, *, enrollment_date: dt.date, planned_first_dose: dt.date, arm: Arm | None
) -> dict[str, list[str]]:
    """Every reason the subject cannot be enrolled on these dates (empty: they can)."""
    from edc.consent.selectors import subject_consents, versions_in_effect
    from edc.eligibility.selectors import current_decision, decision_state

    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if subject.status != SubjectStatus.SCREENING:
        add(
            "status",
            gettext("Only a subject in screening is enrolled (this one is {s}).").format(
                s=subject.get_status_display().lower()
            ),
        )
    today = subject.site.today()
    if enrollment_date > today:
        add("enrollment_date", gettext("The enrollment date is after today at the site."))
    if subject.screening_date and enrollment_date < subject.screening_date:
        add("enrollment_date", gettext("The enrollment date is before the screening date."))
    if planned_first_dose < enrollment_date:
        add("planned_first_dose", gettext("The first dose is planned before enrollment."))
    current = {v.pk for v in versions_in_effect(subject.study, enrollment_date)}
    consents = list(subject_consents(subject))
    if not consents:
        add("consent", gettext("The subject has no signed informed consent."))
    elif not any(c.consent_version_id in current for c in consents):
        signed = ", ".join(sorted({c.consent_version.version for c in consents}))
        add(
            "consent",
            gettext(
                "The consent signed (version {signed}) is not a version in effect on {day}: re-consent first."
            ).format(signed=signed, day=enrollment_date),
        )
    decision = current_decision(subject)
    if decision is None:
        add("eligibility", gettext("No screening outcome is signed."))
    elif decision.outcome != "eligible":
        add("eligibility", gettext("The signed screening outcome is ineligible."))
    else:
        state = decision_state(decision)
        if state.stale:
            add(
                "eligibility",
                gettext("The signed screening outcome is stale: {what} changed since it was signed.").format(
                    what=", ".join(state.changed)
                ),
            )
        if decision.as_of != planned_first_dose:
            add(
                "planned_first_dose",
                gettext("Eligibility was decided as of {as_of}; the first dose is planned on {day}.").format(
                    as_of=decision.as_of, day=planned_first_dose
                ),
            )
    arms = list(subject.study.arms.all())
    if arm is not None and arm.study_id != subject.study_id:
        add("arm", gettext("This arm belongs to another study."))
    elif arm is None and len(arms) > 1:
        add("arm", gettext("The study has several arms: name the arm."))
    return errors


@transaction.atomic
def subject_enroll(
    *,
    user: Any,
    subject: Subject,
    enrollment_date: dt.date,
    planned_first_dose: dt.date,
    arm: Arm | None = None,
    version: int | None = None,
) -> Subject:
    """Enroll a screened subject: the identifier, the arm, the dates, the planned visits.

    Refused, writing nothing, without a current signed consent, without a signed eligible outcome
    that is not stale, or at the study's target enrollment unless it allows over-enrollment. The
    study-wide enrollment counter is locked first, so concurrent enrollments are counted one by one.
    """
    from edc.visits.services import schedule_rebuild

    require_write(user, subject.site)
    study = subject.study
    draw_number(study=study, kind=IdentifierKind.ENROLLMENT)  # the study-wide lock of the target check
    subject = Subject.objects.select_related("study", "site").get(pk=subject.pk)
    errors = enrollment_refusals(
        subject, enrollment_date=enrollment_date, planned_first_dose=planned_first_dose, arm=arm
    )
    rules = enrollment_rules(study)
    if study.target_enrollment is not None and not rules.over_enrollment_allowed:
        enrolled = Subject.objects.active().filter(study=study, status__in=ENROLLED_STATUSES).count()
        if enrolled >= study.target_enrollment:
            errors.setdefault("status", []).append(
                gettext("The study has reached its target enrollment of {n}.").format(
                    n=study.target_enrollment
                )
            )
    if errors:
        raise ValidationError(errors)
    arms = list(study.arms.all())
    arm = arm or (arms[0] if arms else None)
    scope = str(subject.site_id) if rules.identifier_sequence == identifiers.PER_SITE else ""
    number = draw_number(study=study, kind=IdentifierKind.SUBJECT, scope=scope)
    try:
        identifier = identifiers.format_identifier(
            rules.subject_identifier_pattern, protocol=study.protocol_id, site=subject.site.code, seq=number
        )
    except ValueError as exc:
        raise ValidationError({"subject_identifier": [str(exc)]}) from None
    enrolled_subject = _transition(
        subject,
        user=user,
        to=SubjectStatus.ENROLLED,
        changes={
            "subject_identifier": identifier,
            "enrollment_date": enrollment_date,
            "planned_first_dose": planned_first_dose,
            "arm": arm,
        },
        why=gettext("Enrolled on {day} as {identifier}").format(day=enrollment_date, identifier=identifier),
        version=version,
    )
    schedule_rebuild(user=user, subject=enrolled_subject, reason=gettext("Enrollment"))
    return enrolled_subject


@transaction.atomic
def subject_withdraw(
    *, user: Any, subject: Subject, date: dt.date, scope: str, reason: str = "", version: int | None = None
) -> Any:
    """Record a withdrawal of consent: its date and scope; future visits stop, nothing is deleted.

    Scope `treatment`: study treatment stops (the subject goes to follow-up; treatment visits after
    the date are cancelled); `follow_up` and `data_use`: every planned visit after the date is
    cancelled and the subject is off study.
    """
    from edc.consent.models import Withdrawal, WithdrawalScope
    from edc.visits.services import visits_cancel_after

    require_write(user, subject.site)
    if scope not in WithdrawalScope.values:
        raise ValidationError(
            {"scope": [gettext("One of {scopes}.").format(scopes=", ".join(WithdrawalScope.values))]}
        )
    if date > subject.site.today():
        raise ValidationError({"date": [gettext("The date is after today at the site.")]})
    if subject.screening_date and date < subject.screening_date:
        raise ValidationError({"date": [gettext("The date is before the screening date.")]})
    if subject.status in (SubjectStatus.SCREEN_FAILED, SubjectStatus.OFF_STUDY):
        raise ValidationError({"status": [gettext("The subject is no longer on the study.")]})
    treatment_only = scope == WithdrawalScope.TREATMENT and subject.status in (
        SubjectStatus.ENROLLED,
        SubjectStatus.ON_TREATMENT,
    )
    if scope == WithdrawalScope.TREATMENT and subject.status == SubjectStatus.FOLLOW_UP:
        raise ValidationError({"scope": [gettext("The subject's treatment has already ended.")]})
    to = SubjectStatus.FOLLOW_UP if treatment_only else SubjectStatus.OFF_STUDY
    words = reason.strip() or WithdrawalScope(scope).label
    withdrawal = record_save(
        Withdrawal(
            study=subject.study, site=subject.site, subject=subject, date=date, scope=scope, reason=reason
        ),
        user=user,
    )
    why = gettext("Withdrawal of consent ({scope}) on {day}: {words}").format(
        scope=scope, day=date, words=words
    )
    _transition(subject, user=user, to=to, changes={}, why=why, version=version)
    visits_cancel_after(user=user, subject=subject, after=date, reason=why, treatment_only=treatment_only)
    return withdrawal


@transaction.atomic
def subject_off_study(
    *, user: Any, subject: Subject, date: dt.date, reason: str, version: int | None = None
) -> Subject:
    """Move the subject off study (death, end of follow-up): the status transition only.

    The caller ends the schedule (edc.forms.services.death_record cancels the visits after the
    date). A subject already off study stays so (a death learned after the end of follow-up).
    """
    require_write(user, subject.site)
    if not reason.strip():
        raise ValidationError({"reason": [gettext("Say why the subject goes off study.")]})
    if subject.status == SubjectStatus.OFF_STUDY:
        return subject
    why = gettext("Off study on {day}: {reason}").format(day=date, reason=reason.strip())
    return _transition(subject, user=user, to=SubjectStatus.OFF_STUDY, changes={}, why=why, version=version)


@transaction.atomic
def subject_off_study_undo(*, user: Any, subject: Subject, why: str, off_study_reason: str) -> Subject:
    """Undo an off-study transition recorded in error (a death form voided): the status goes back to
    the one before it, read from the subject's history. Only the transition whose reason names
    `off_study_reason` is undone: a subject taken off study for another reason stays off study."""
    require_write(user, subject.site)
    if subject.status != SubjectStatus.OFF_STUDY:
        return subject
    rows = subject.history.order_by("-history_date", "-history_id").only("status", "history_change_reason")
    went_off = None  # the oldest of the newest run of off-study rows: the transition itself
    for row in rows:
        if row.status == SubjectStatus.OFF_STUDY:
            went_off = row
            continue
        if went_off is None or off_study_reason not in (went_off.history_change_reason or ""):
            return subject  # off study for another reason
        return record_update(subject, user=user, changes={"status": row.status}, reason=_reason(why))
    return subject


@transaction.atomic
def subject_treatment_start(
    *, user: Any, subject: Subject, first_dose_date: dt.date, version: int | None = None
) -> Subject:
    """The first dose of study treatment was given: the subject is on treatment (edc/visits/treatment.py
    calls this when the first dose is recorded)."""
    require_write(user, subject.site)
    why = gettext("First dose of study treatment on {day}").format(day=first_dose_date)
    return _transition(
        subject, user=user, to=SubjectStatus.ON_TREATMENT, changes={}, why=why, version=version
    )


@transaction.atomic
def subject_treatment_end(
    *, user: Any, subject: Subject, last_dose_date: dt.date, reason: str, version: int | None = None
) -> Subject:
    """Study treatment ended (the end-of-treatment form): the subject goes to follow-up."""
    require_write(user, subject.site)
    why = reason.strip() or gettext("End of treatment, last dose on {day}").format(day=last_dose_date)
    return _transition(subject, user=user, to=SubjectStatus.FOLLOW_UP, changes={}, why=why, version=version)
