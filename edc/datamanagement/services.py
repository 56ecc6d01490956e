"""Writes of data management: queries, edit-check runs, SDV, signatures, locks (issue 22).

Roles (edc.core.models.ROLE_CAPABILITIES) decide who may do what, at the record's site:
- raise, close and re-open a query: RAISE_QUERIES (monitor, data manager);
- answer a query: ANSWER_QUERIES (site coordinator, investigator);
- verify source data: VERIFY (monitor); sign: SIGN (investigator); lock and unlock: LOCK (data manager).
Superusers may do everything. Every write leaves a history row (who, when, why) through edc.core.services.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext

from edc.core.models import AuditedModel, Capability, ReasonCode
from edc.core.scoping import has_capability
from edc.core.services import ChangeReason, record_bulk_create, record_lock, record_unlock, record_update
from edc.datamanagement.models import (
    CloseKind,
    Query,
    QueryAction,
    QueryEvent,
    QueryStatus,
    Signature,
    SignatureKind,
    SourceVerification,
)
from edc.subjects.models import Subject

# --- records a query, an SDV mark or a signature points at ------------------------------------------


def record_model(record_type: str) -> type[AuditedModel]:
    """The audited model named "app_label.model" (a ValidationError naming record_type otherwise)."""
    try:
        model = apps.get_model(record_type)
    except (LookupError, ValueError):
        model = None
    if model is None or not issubclass(model, AuditedModel) or model._meta.app_label == "datamanagement":
        raise ValidationError({"record_type": [gettext("No such kind of record.")]})
    return model


def subject_of(record: Any) -> Subject:
    if isinstance(record, Subject):
        return record
    subject = getattr(record, "subject", None)
    if not isinstance(subject, Subject):
        raise ValidationError({"record_type": [gettext("This kind of record belongs to no subject.")]})
    return subject


def _require(user: Any, capability: Capability, site: Any, message: str) -> None:
    if user is not None and not has_capability(user, capability, site=site):
        raise PermissionDenied(message.format(site=site.code))


def _check_field(record: Any, field: str) -> None:
    if field and field not in {f.name for f in record._meta.concrete_fields}:
        raise ValidationError({"field": [gettext("The record has no field {name!r}.").format(name=field)]})


def _step(query: Query, action: str, text: str, user: Any, at: dt.datetime) -> None:
    QueryEvent.objects.create(
        query=query, action=action, text=text, by=user if user is not None else None, at=at
    )


def _why(action: str, text: str) -> ChangeReason:
    return ChangeReason(code=ReasonCode.QUERY_RESPONSE, text=f"{action}: {text}"[:2000] or action)


# --- queries ---------------------------------------------------------------------------------------


@transaction.atomic
def query_raise(*, user: Any, record: Any, text: str, field: str = "") -> Query:
    """A manual query by a monitor or data manager on a record (and one of its fields)."""
    subject = subject_of(record)
    _require(
        user,
        Capability.RAISE_QUERIES,
        subject.site,
        gettext("Your role does not raise queries at site {site}."),
    )
    if not text.strip():
        raise ValidationError({"text": [gettext("Say what needs clarifying.")]})
    _check_field(record, field)
    now = timezone.now()
    query = Query(
        study=subject.study,
        site=subject.site,
        subject=subject,
        record_type=record._meta.label_lower,
        record_id=record.pk,
        field=field,
        text=text.strip(),
        raised_by=user,
        raised_at=now,
        opened_at=now,
    )
    query = record_bulk_create([query], user=user)[0]
    _step(query, QueryAction.RAISED, query.text, user, now)
    return query


def _transition(
    query: Query, *, user: Any, version: int | None, changes: dict[str, Any], why: ChangeReason
) -> Query:
    return record_update(query, user=user, changes=changes, reason=why, version=version)


@transaction.atomic
def query_answer(*, user: Any, query: Query, answer: str, version: int | None = None) -> Query:
    """The site answers an open query (coordinator or investigator of the query's site)."""
    _require(
        user,
        Capability.ANSWER_QUERIES,
        query.site,
        gettext("Your role does not answer queries at site {site}."),
    )
    if query.status != QueryStatus.OPEN:
        raise ValidationError({"status": [gettext("Only an open query is answered.")]})
    if not answer.strip():
        raise ValidationError({"answer": [gettext("Give the answer in words.")]})
    now = timezone.now()
    query = _transition(
        query,
        user=user,
        version=version,
        changes={
            "status": QueryStatus.ANSWERED,
            "answer": answer.strip(),
            "answered_by": user,
            "answered_at": now,
        },
        why=_why("answered", answer.strip()),
    )
    _step(query, QueryAction.ANSWERED, answer.strip(), user, now)
    return query


@transaction.atomic
def query_close(*, user: Any, query: Query, text: str = "", version: int | None = None) -> Query:
    """A monitor or data manager closes a query (open or answered)."""
    _require(
        user,
        Capability.RAISE_QUERIES,
        query.site,
        gettext("Your role does not close queries at site {site}."),
    )
    if query.status == QueryStatus.CLOSED:
        raise ValidationError({"status": [gettext("The query is already closed.")]})
    now = timezone.now()
    words = text.strip() or gettext("closed")
    query = _transition(
        query,
        user=user,
        version=version,
        changes={
            "status": QueryStatus.CLOSED,
            "closed_by": user,
            "closed_at": now,
            "close_kind": CloseKind.MANUAL,
        },
        why=_why("closed", words),
    )
    _step(query, QueryAction.CLOSED, words, user, now)
    return query


@transaction.atomic
def query_reopen(*, user: Any, query: Query, text: str, version: int | None = None) -> Query:
    """Re-open an answered or closed query, saying why (the answer did not resolve it)."""
    _require(
        user,
        Capability.RAISE_QUERIES,
        query.site,
        gettext("Your role does not re-open queries at site {site}."),
    )
    if query.status == QueryStatus.OPEN:
        raise ValidationError({"status": [gettext("The query is open already.")]})
    if not text.strip():
        raise ValidationError({"text": [gettext("Say why the query is re-opened.")]})
    if (
        query.rule
        and Query.objects.active()
        .filter(rule=query.rule, record_type=query.record_type, record_id=query.record_id, field=query.field)
        .exclude(status=QueryStatus.CLOSED)
        .exclude(pk=query.pk)
        .exists()
    ):
        raise ValidationError({"status": [gettext("Its edit check has raised a newer open query.")]})
    now = timezone.now()
    query = _transition(
        query,
        user=user,
        version=version,
        changes={
            "status": QueryStatus.OPEN,
            "opened_at": now,
            "closed_by": None,
            "closed_at": None,
            "close_kind": "",
        },
        why=_why("re-opened", text.strip()),
    )
    _step(query, QueryAction.REOPENED, text.strip(), user, now)
    return query


# --- edit checks -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckRun:
    raised: int
    closed: int
    open: int

    def as_dict(self) -> dict[str, int]:
        return {"raised": self.raised, "closed": self.closed, "open": self.open}


def _sync(subjects: models.QuerySet, checks: Iterable[Any], *, user: Any = None) -> CheckRun:
    """Findings of `checks` on `subjects` -> queries: raise the new, close the corrected, never duplicate."""
    from edc.datamanagement.checks import Finding

    checks = list(checks)
    names = [check.name for check in checks]
    if not names:
        return CheckRun(0, 0, 0)
    found: dict[tuple[str, tuple[str, str, str]], Finding] = {}
    for check in checks:
        for finding in check.run(subjects):
            found.setdefault((check.name, finding.key), finding)
    existing = Query.objects.active().filter(rule__in=names, subject__in=subjects.values("id"))
    # Per key, what the last query of the rule says: open/answered (stay), closed by a person (stay
    # closed: a reviewer accepted it), closed by its check (the data broke again: raise anew).
    last: dict[tuple[str, tuple[str, str, str]], Query] = {}
    for query in existing.order_by("raised_at", "created"):
        last[(query.rule, (query.record_type, str(query.record_id), query.field))] = query
    now = timezone.now()
    wanted = [
        (rule, f)
        for (rule, key), f in found.items()
        if (rule, key) not in last
        or (
            last[(rule, key)].status == QueryStatus.CLOSED
            and last[(rule, key)].close_kind == CloseKind.CORRECTED
        )
    ]
    # The owners as instances (two queries whatever the number): record_bulk_create validates each
    # row without looking its relations up again.
    owners = {
        s.pk: s
        for s in Subject.objects.filter(pk__in={f.subject_id for _, f in wanted}).select_related(
            "study", "site"
        )
    }
    new = [
        Query(
            study=owners[f.subject_id].study,
            site=owners[f.subject_id].site,
            subject=owners[f.subject_id],
            record_type=f.record_type,
            record_id=f.record_id,
            field=f.field,
            rule=rule,
            text=f.text,
            raised_at=now,
            opened_at=now,
        )
        for rule, f in wanted
    ]
    raised = record_bulk_create(new, user=None) if new else []
    if raised:
        QueryEvent.objects.bulk_create(
            [QueryEvent(query=q, action=QueryAction.RAISED, text=q.text, at=now) for q in raised]
        )
    closed = 0
    for key, query in last.items():
        if query.status != QueryStatus.CLOSED and key not in found:
            words = gettext("The edit check no longer finds the discrepancy: the data was corrected.")
            record_update(
                query,
                user=None,
                changes={"status": QueryStatus.CLOSED, "closed_at": now, "close_kind": CloseKind.CORRECTED},
                reason=_why("closed", words),
            )
            _step(query, QueryAction.CLOSED, words, None, now)
            closed += 1
    still_open = existing.exclude(status=QueryStatus.CLOSED).count()
    return CheckRun(raised=len(raised), closed=closed, open=still_open)


@transaction.atomic
def edit_checks_run(
    *, study: Any, rules: Iterable[str] | None = None, subjects: models.QuerySet | None = None
) -> CheckRun:
    """The bulk run over a study (or some of its subjects): `python manage.py run_edit_checks`."""
    from edc.datamanagement.checks import REGISTRY

    chosen = list(REGISTRY) if rules is None else list(rules)
    unknown = [name for name in chosen if name not in REGISTRY]
    if unknown:
        raise ValidationError(
            {"rule": [gettext("Unknown edit check: {names}.").format(names=", ".join(unknown))]}
        )
    scope = subjects if subjects is not None else Subject.objects.filter(study=study)
    return _sync(scope.filter(voided_at__isnull=True), [REGISTRY[name] for name in chosen])


def edit_checks_run_for(record: Any) -> CheckRun:
    """The on-save run: the services call it after writing `record`.

    Runs the rules that read the record's model, for the record's subject only (a fixed number of
    queries per rule), and raises or closes their queries. A record of no subject checks nothing.
    """
    from edc.datamanagement.checks import checks_for_model

    checks = checks_for_model(record._meta.label_lower)
    try:
        subject = subject_of(record)
    except ValidationError:
        return CheckRun(0, 0, 0)
    if not checks:
        return CheckRun(0, 0, 0)
    with transaction.atomic():
        return _sync(Subject.objects.filter(pk=subject.pk), checks)


# --- source data verification ----------------------------------------------------------------------


@transaction.atomic
def sdv_mark(*, user: Any, record: Any, field: str = "") -> SourceVerification:
    """A monitor marks a record (or one field) verified against the source, at its current version."""
    subject = subject_of(record)
    _require(
        user,
        Capability.VERIFY,
        subject.site,
        gettext("Your role does not verify source data at site {site}."),
    )
    _check_field(record, field)
    if record.is_voided:
        raise ValidationError({"record_id": [gettext("A voided record is not verified.")]})
    mark = SourceVerification(
        study=subject.study,
        site=subject.site,
        subject=subject,
        record_type=record._meta.label_lower,
        record_id=record.pk,
        field=field,
        verified_version=record.version,
        verified_by=user,
        verified_at=timezone.now(),
    )
    return record_bulk_create([mark], user=user)[0]


# --- signatures (21 CFR 11.50, 11.100, 11.200) ------------------------------------------------------

MEANINGS = {
    SignatureKind.VISIT: (
        "I, the investigator, have reviewed the data of this visit and confirm that they are accurate, "
        "complete and attributable to the source documents."
    ),
    SignatureKind.CASEBOOK: (
        "I, the investigator, have reviewed this subject's casebook and confirm that the data are "
        "accurate, complete and attributable to the source documents."
    ),
    SignatureKind.SCREENING: (
        "I, the investigator, have reviewed the screening data and approve this eligibility decision."
    ),
}


def meaning_of(kind: str) -> str:
    return gettext(MEANINGS[SignatureKind(kind)])


def _rows(model: type[models.Model], **filters: Any) -> list[tuple[str, str, int]]:
    return [
        (model._meta.label_lower, str(pk), version)
        for pk, version in model._default_manager.filter(**filters).values_list("id", "version")
    ]


def signature_manifest(kind: str, record: Any) -> list[tuple[str, str, int]]:
    """What a signature covers, each record at its version (voided rows too: voiding is a change)."""
    from edc.consent.models import SignedConsent
    from edc.datamanagement.checks import form_models
    from edc.visits.models import Visit

    if kind == SignatureKind.SCREENING:
        return [(record._meta.label_lower, str(record.pk), record.version)]
    if kind == SignatureKind.VISIT:
        rows = [(record._meta.label_lower, str(record.pk), record.version)]
        for model in form_models():
            rows += _rows(model, visit=record)
        return sorted(rows)
    subject = record
    rows = [(subject._meta.label_lower, str(subject.pk), subject.version)]
    rows += _rows(Visit, subject=subject) + _rows(SignedConsent, subject=subject)
    for model in form_models():
        rows += _rows(model, subject=subject)
    return sorted(rows)


def fingerprint_of(manifest: list[Any], extra: str = "") -> str:
    text = json.dumps([list(row) for row in manifest], sort_keys=True) + extra
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _screening_extra(decision: Any) -> str:
    # The decision row never changes (fixed fields); its data can: a stale decision is a change.
    from edc.eligibility.selectors import decision_state

    return "stale" if decision.is_voided or decision_state(decision).stale else ""


def signature_target(kind: str, record_id: Any) -> type[models.Model]:
    from edc.eligibility.models import EligibilityDecision
    from edc.visits.models import Visit

    return {
        SignatureKind.VISIT: Visit,
        SignatureKind.CASEBOOK: Subject,
        SignatureKind.SCREENING: EligibilityDecision,
    }[SignatureKind(kind)]


def _digest(session_key: str) -> str:
    return hashlib.sha256(session_key.encode("utf-8")).hexdigest() if session_key else ""


def signing_needs_username(user: Any, session_key: str) -> bool:
    """11.200(a)(1)(i): the first signing of a session asks for user ID and password, later ones the
    password only. A door with no session (a script) asks for both every time."""
    if not session_key:
        return True
    return not Signature.objects.filter(signed_by=user, session_digest=_digest(session_key)).exists()


def signature_sign(
    *,
    user: Any,
    kind: str,
    record: Any,
    password: str,
    username: str | None = None,
    session_key: str = "",
    source: dict[str, Any] | None = None,
) -> Signature:
    """The investigator signs a visit, a casebook or the screening decision, re-authenticating.

    A wrong password or another user's ID is refused and kept as an account event (door, address
    and user agent from ``source``, as the login events have them). The event is written before
    the signing's transaction, so the refusal does not roll it back."""
    subject = subject_of(record)
    _require(user, Capability.SIGN, subject.site, gettext("Only an investigator of site {site} signs."))
    errors: dict[str, list[str]] = {}
    first = signing_needs_username(user, session_key)
    someone_else = bool(username) and username != user.get_username()
    if first and not username:
        errors["username"] = [gettext("The first signature of a session needs your user ID and password.")]
    elif someone_else:
        errors["username"] = [gettext("Sign with your own user ID.")]
    wrong_password = bool(password) and not user.check_password(password)
    if not password or wrong_password:
        errors["password"] = [gettext("The password is not correct.")]
    if errors:
        # An authentication that failed (a wrong password, another user's ID), not a form left
        # incomplete (the right password without the ID, nothing typed): kept as an account event.
        if wrong_password or someone_else:
            _signature_failed(user, username or "", source)
        raise ValidationError(errors)
    return _signature_write(user=user, kind=kind, record=record, subject=subject, session_key=session_key)


def _signature_failed(user: Any, typed_username: str, source: dict[str, Any] | None) -> None:
    from edc.accounts.models import AccountEventKind, Door
    from edc.accounts.services import account_event_record

    where = {"door": Door.API, "ip_address": None, "user_agent": "", **(source or {})}
    account_event_record(
        kind=AccountEventKind.SIGNATURE_FAILED,
        user=user,
        # The user ID as typed when it names someone else: the trail shows whose ID was tried.
        username=typed_username if typed_username and typed_username != user.get_username() else "",
        now=timezone.now(),
        **where,
    )


@transaction.atomic
def _signature_write(*, user: Any, kind: str, record: Any, subject: Any, session_key: str) -> Signature:
    if record.is_voided:
        raise ValidationError({"record_id": [gettext("A voided record is not signed.")]})
    if kind == SignatureKind.SCREENING and _screening_extra(record):
        raise ValidationError(
            {"record_id": [gettext("The screening decision is stale: decide again first.")]}
        )
    manifest = signature_manifest(kind, record)
    extra = ""
    signature = Signature(
        study=subject.study,
        site=subject.site,
        subject=subject,
        record_type=record._meta.label_lower,
        record_id=record.pk,
        kind=kind,
        meaning=meaning_of(kind),
        signed_by=user,
        signer_name=user.get_full_name() or user.get_username(),
        signed_at=timezone.now(),
        manifest=[list(row) for row in manifest],
        fingerprint=fingerprint_of(manifest, extra),
        session_digest=_digest(session_key),
    )
    return record_bulk_create([signature], user=user)[0]


# --- locking ---------------------------------------------------------------------------------------


def _require_lock(user: Any, study: Any) -> None:
    if user is not None and not has_capability(user, Capability.LOCK, study=study):
        raise PermissionDenied(
            gettext("Only a data manager of {study} locks and unlocks data.").format(study=study)
        )


@transaction.atomic
def data_lock(*, user: Any, record: Any, reason: str = "") -> Any:
    """Lock a form row, a visit, a subject (its data with it) or a whole study. Locked data refuses
    every change (edc.core.services); the lock is a history row with who, when and why."""
    why = ChangeReason(code=ReasonCode.OTHER, text=reason.strip() or gettext("Locked by data management."))
    from studies.models import Study

    if isinstance(record, Study):
        _require_lock(user, record)
        if record.locked_at is not None:
            raise ValidationError(gettext("The study is already locked."))
        return _study_set_lock(record, user=user, locked_at=timezone.now(), reason=why.text)
    _require_lock(user, record.study)
    return record_lock(record, user=user, reason=why)


@transaction.atomic
def data_unlock(*, user: Any, record: Any, reason: str) -> Any:
    """Unlock, always with a reason in words."""
    from studies.models import Study

    if not reason.strip():
        raise ValidationError({"reason": [gettext("Say why the data are unlocked.")]})
    if isinstance(record, Study):
        _require_lock(user, record)
        if record.locked_at is None:
            raise ValidationError(gettext("The study is not locked."))
        return _study_set_lock(record, user=user, locked_at=None, reason=reason.strip())
    _require_lock(user, record.study)
    return record_unlock(record, user=user, reason=ChangeReason(code=ReasonCode.OTHER, text=reason.strip()))


def _study_set_lock(study: Any, *, user: Any, locked_at: dt.datetime | None, reason: str) -> Any:
    # Studies are trial definitions (not audited clinical rows): their history row carries who and why.
    study.locked_at = locked_at
    study._history_user = user  # simple-history reads it
    study._change_reason = reason  # simple-history reads it
    study.save(update_fields=["locked_at"])
    return study
