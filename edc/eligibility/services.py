"""Writes of eligibility: the investigator's confirmations and the signed screening outcome."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from edc.core.services import ChangeReason, record_save, record_update, record_void
from edc.eligibility.eligibility import ConfirmationError, resolve_confirmations
from edc.eligibility.models import Answer, EligibilityConfirmation, EligibilityDecision
from edc.eligibility.record import record_json
from edc.eligibility.selectors import (
    criteria_json,
    criterion_key,
    criterion_rows,
    evaluate_record,
    fingerprint,
    screening_record,
    study_criteria,
)
from edc.subjects.access import require_sign
from edc.subjects.models import SubjectStatus

# A confirmation is "met" / "not_met", or {"answer": ..., "comment": ...}.
ConfirmationInput = str | Mapping[str, str]


def _answer_and_comment(key: str, value: ConfirmationInput) -> tuple[str, str]:
    if isinstance(value, str):
        return value, ""
    if isinstance(value, Mapping) and set(value) <= {"answer", "comment"} and "answer" in value:
        comment = value.get("comment", "")
        if not isinstance(comment, str):
            raise ValidationError({"confirmations": [f"{key}: the comment is text"]})
        return str(value["answer"]), comment
    raise ValidationError({"confirmations": [f'{key}: met, not_met or {{"answer", "comment"}}']})


@transaction.atomic
def eligibility_confirm(
    *,
    user: Any,
    subject: Any,
    confirmations: Mapping[str, ConfirmationInput],
    confirm_unstructured: bool | None = None,
    comment: str = "",
) -> list[EligibilityConfirmation]:
    """Record the investigator's answers to the parts only they can judge (who and when are kept).

    Keys name criteria as the study numbers them ("3", or "I3" / "E3" where both kinds share a
    number); a changed answer replaces the stored one with a history row. `confirm_unstructured`
    answers every such part in the patient's favour (the case format's flag).
    """
    require_sign(user, subject.site)
    if subject.status != SubjectStatus.SCREENING:
        raise ValidationError(
            {"status": [gettext("Eligibility is confirmed while the subject is in screening.")]}
        )
    rows = criterion_rows(subject.study)
    parsed = {str(key): _answer_and_comment(str(key), value) for key, value in confirmations.items()}
    criteria = study_criteria(subject.study, rows)
    try:
        # All at once first: a key naming no criterion, an ambiguous one, a criterion named twice.
        resolve_confirmations(criteria, {k: a for k, (a, _) in parsed.items()})
    except ConfirmationError as exc:
        raise ValidationError({"confirmations": [str(exc).removeprefix("confirmations.")]}) from None
    stored = {
        c.criterion_id: c
        for c in EligibilityConfirmation.objects.active().filter(subject=subject).select_related("criterion")
    }
    now = timezone.now()
    written: list[EligibilityConfirmation] = []
    for key, (answer, note) in parsed.items():
        index = resolve_confirmations(criteria, {key: answer}).popitem()[0]
        row = rows[index]
        written.append(
            _store(user, subject, stored.get(row.pk), row, criterion_key(row), answer, note or comment, now)
        )
    if confirm_unstructured is not None:
        current = stored.get(None)
        if confirm_unstructured:
            written.append(_store(user, subject, current, None, "", "", comment, now))
        elif current is not None:
            record_void(
                current,
                user=user,
                reason=ChangeReason(code="other", text=gettext("The blanket confirmation is withdrawn.")),
            )
    return written


def _store(
    user: Any, subject: Any, current: Any, row: Any, key: str, answer: str, comment: str, now: dt.datetime
) -> EligibilityConfirmation:
    confirmed_by = user if user is not None and user.is_authenticated else None
    if current is None:
        return record_save(
            EligibilityConfirmation(
                study=subject.study,
                site=subject.site,
                subject=subject,
                criterion=row,
                key=key,
                answer=answer,
                comment=comment,
                confirmed_by=confirmed_by,
                confirmed_at=now,
            ),
            user=user,
        )
    if current.answer == answer and current.comment == comment:
        return current
    return record_update(
        current,
        user=user,
        changes={"answer": answer, "comment": comment, "confirmed_by": confirmed_by, "confirmed_at": now},
        reason=ChangeReason(
            code="other", text=gettext("The investigator answered again: {a}").format(a=answer or "in favour")
        ),
    )


@transaction.atomic
def eligibility_decide(
    *,
    user: Any,
    subject: Any,
    as_of: dt.date,
    confirmations: Mapping[str, ConfirmationInput] | None = None,
    confirm_unstructured: bool | None = None,
) -> EligibilityDecision:
    """Sign the screening outcome as of the planned first dose, with a snapshot of what it rests on.

    The confirmations given are stored first (eligibility_confirm). An outcome that still needs
    review is refused, naming the criteria left: the investigator confirms them, or the data is
    completed, before signing.
    """
    require_sign(user, subject.site)
    if subject.status != SubjectStatus.SCREENING:
        raise ValidationError(
            {"status": [gettext("The screening outcome is signed while the subject is in screening.")]}
        )
    if as_of < (subject.screening_date or as_of):
        raise ValidationError({"as_of": [gettext("The planned first dose is before the screening date.")]})
    if confirmations or confirm_unstructured is not None:
        eligibility_confirm(
            user=user,
            subject=subject,
            confirmations=confirmations or {},
            confirm_unstructured=confirm_unstructured,
        )
    record = screening_record(subject, as_of)
    result = evaluate_record(subject.study, record, as_of)
    if result["outcome"] == "needs_review":
        open_ = [
            f"{'I' if c['kind'] == 'inclusion' else 'E'}{c['number']}: {c['reason']}"
            for c in result["criteria"]
            if c["status"] == "needs_review"
        ]
        raise ValidationError({"confirmations": [gettext("Still needs review: ") + "; ".join(open_)]})
    inputs = record_json(record)
    criteria = criteria_json(subject.study)
    decision = EligibilityDecision(
        study=subject.study,
        site=subject.site,
        subject=subject,
        as_of=as_of,
        outcome=result["outcome"],
        result=result,
        inputs=inputs,
        criteria=criteria,
        confirmations={**record.confirmations, **({"*": "in favour"} if record.confirm_unstructured else {})},
        fingerprint=fingerprint(inputs, criteria),
        decided_by=user if user is not None and user.is_authenticated else None,
        decided_at=timezone.now(),
    )
    decision = record_save(decision, user=user)
    from edc.datamanagement.services import edit_checks_run_for

    edit_checks_run_for(decision)  # a new decision closes the stale one's query (issue 22)
    return decision


__all__ = ["Answer", "eligibility_confirm", "eligibility_decide"]
