"""The edit-check registry: each automatic query is raised by one small named rule (issue 22).

A rule is a function decorated with `@edit_check("rule_name", models=[...])`. It takes a queryset of
subjects and returns its findings (`Finding`: the record and field in question, and the query text)
for those subjects, with a FIXED number of queries whatever their number (one query per model it
reads, filtered by `subject__in`): the bulk run (`run_edit_checks`) hands it a whole study, the
on-save run (`edit_checks_run_for(record)`) one subject. `models` lists the model labels whose
writes can change the rule's answer: the on-save run evaluates only those rules.

The services (edc/datamanagement/services.py) turn findings into queries: a finding without an open
query raises one, an open query of the rule whose finding is gone is closed (the data was corrected),
a finding whose query a reviewer closed is not raised again. Rules never write.

Add a rule here (or in a module imported below) when its model exists; the rules that wait for later
models are listed in docs/compliance.md.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db.models import DateField, QuerySet
from django.utils.translation import gettext

from edc.forms.models import FormRecord
from edc.visits.models import Visit, VisitStatus


@dataclass(frozen=True)
class Finding:
    """One discrepancy: the record and field it is about, and the query's words."""

    subject_id: Any
    study_id: int
    site_id: int
    record_type: str  # "app_label.model"
    record_id: Any
    field: str
    text: str

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.record_type, str(self.record_id), self.field)


Rule = Callable[[QuerySet], Iterable[Finding]]


@dataclass(frozen=True)
class EditCheck:
    name: str
    models: tuple[str, ...]
    description: str
    run: Rule


REGISTRY: dict[str, EditCheck] = {}


def edit_check(name: str, *, models: Iterable[str], description: str = "") -> Callable[[Rule], Rule]:
    """Register a rule under `name`; `models` are the model labels whose writes it reads."""

    def register(function: Rule) -> Rule:
        if name in REGISTRY:
            raise ValueError(f"Edit check {name!r} is registered twice.")
        REGISTRY[name] = EditCheck(
            name=name,
            models=tuple(label.lower() for label in models),
            description=description or (function.__doc__ or "").strip().splitlines()[0],
            run=function,
        )
        return function

    return register


def checks_for_model(label: str) -> list[EditCheck]:
    return [check for check in REGISTRY.values() if label.lower() in check.models]


def label_of(model: Any) -> str:
    return model._meta.label_lower


def form_models() -> list[type[FormRecord]]:
    """Every concrete form model (edc.forms.models.FormRecord), those of later issues included."""
    return [m for m in apps.get_models() if issubclass(m, FormRecord) and not m._meta.abstract]


def _site_day(moment: dt.datetime, time_zone: str) -> dt.date:
    if moment.tzinfo is None:
        return moment.date()
    return moment.astimezone(zoneinfo.ZoneInfo(time_zone)).date()


# --- the rules ------------------------------------------------------------------------------------


@edit_check(
    "visit_outside_window",
    models=["visits.visit"],
    description="A visit done outside its window with no reason recorded.",
)
def visit_outside_window(subjects: QuerySet) -> Iterable[Finding]:
    """A visit done outside its window with no reason recorded (one query)."""
    rows = (
        Visit.objects.active()
        .filter(subject__in=subjects.values("id"), status=VisitStatus.DONE, out_of_window_reason="")
        .exclude(window_start__isnull=True, window_end__isnull=True)
        .values_list(
            "id", "subject_id", "study_id", "site_id", "code", "visit_date", "window_start", "window_end"
        )
    )
    for pk, subject, study, site, code, day, start, end in rows:
        if day is None or ((start is None or day >= start) and (end is None or day <= end)):
            continue
        yield Finding(
            subject,
            study,
            site,
            "visits.visit",
            pk,
            "visit_date",
            gettext(
                "Visit {code} was done on {day}, outside its window {start} to {end}: correct the date or "
                "record why it was out of window."
            ).format(code=code, day=day, start=start or "…", end=end or "…"),
        )


@edit_check(
    "date_before_consent",
    models=["consent.signedconsent", "visits.visit", *(label_of(m) for m in form_models())],
    description="A procedure or visit dated before the patient's first consent.",
)
def date_before_consent(subjects: QuerySet) -> Iterable[Finding]:
    """A procedure or visit dated before the patient's first consent (one query per form model)."""
    from django.db.models import Min

    from edc.consent.models import SignedConsent

    consented = {
        subject: _site_day(first, zone)
        for subject, zone, first in SignedConsent.objects.active()
        .filter(subject__in=subjects.values("id"))
        .values("subject_id", "site__time_zone")
        .annotate(first=Min("signed_at"))
        .values_list("subject_id", "site__time_zone", "first")
    }
    if not consented:
        return
    # Assumption: the screening visit is dated on the screening date, which may precede consent
    # (the screening log); its procedures are the forms, checked below.
    visits = (
        Visit.objects.active()
        .filter(subject__in=subjects.values("id"), status=VisitStatus.DONE, visit_date__isnull=False)
        .exclude(kind="screening")
        .values_list("id", "subject_id", "study_id", "site_id", "code", "visit_date")
    )
    for pk, subject, study, site, code, day in visits:
        first = consented.get(subject)
        if first is not None and day < first:
            yield Finding(
                subject,
                study,
                site,
                "visits.visit",
                pk,
                "visit_date",
                gettext("Visit {code} is dated {day}, before the first consent on {first}.").format(
                    code=code, day=day, first=first
                ),
            )
    for model in form_models():
        try:
            field = model._meta.get_field("date")  # type: ignore[misc]  # probing: not every form has one
        except Exception:
            continue
        if not isinstance(field, DateField):
            continue
        rows = (
            model.objects.active()
            .filter(subject__in=subjects.values("id"), date__isnull=False)
            .values_list("id", "subject_id", "study_id", "site_id", "date")
        )
        for pk, subject, study, site, day in rows:
            first = consented.get(subject)
            if first is not None and day < first:
                yield Finding(
                    subject,
                    study,
                    site,
                    label_of(model),
                    pk,
                    "date",
                    gettext("{form} is dated {day}, before the first consent on {first}.").format(
                        form=str(model._meta.verbose_name).capitalize(), day=day, first=first
                    ),
                )


@edit_check(
    "stale_eligibility_decision",
    models=[
        "eligibility.eligibilitydecision",
        "eligibility.eligibilityconfirmation",
        "subjects.subject",
        *(label_of(m) for m in form_models()),
    ],
    description="The signed screening decision no longer matches the stored screening data.",
)
def stale_eligibility_decision(subjects: QuerySet) -> Iterable[Finding]:
    """The signed screening decision no longer matches the stored data (stale).

    One query for the latest decisions, then the eligibility engine's read of each subject's
    screening record (a fixed number of queries per subject with a decision: edc/eligibility).
    """
    from edc.eligibility.models import EligibilityDecision
    from edc.eligibility.selectors import decision_state

    latest: dict[Any, Any] = {}
    for decision in (
        EligibilityDecision.objects.active()
        .filter(subject__in=subjects.values("id"))
        .select_related("subject__study", "subject__site", "study", "site")
        .order_by("subject_id", "-decided_at", "-created")
    ):
        latest.setdefault(decision.subject_id, decision)
    for decision in latest.values():
        state = decision_state(decision)
        if state.stale:
            yield Finding(
                decision.subject_id,
                decision.study_id,
                decision.site_id,
                "eligibility.eligibilitydecision",
                decision.pk,
                "outcome",
                gettext(
                    "The screening decision signed on {day} is stale: {changed} changed since. Review the "
                    "eligibility and sign it again."
                ).format(day=f"{decision.decided_at:%Y-%m-%d}", changed=", ".join(state.changed)),
            )


@edit_check(
    "restricted_medication_in_window",
    models=["forms.concomitantmedication", "forms.restrictedmedicationflag", "visits.exposure"],
    description="A concomitant medication inside a restricted-medication rule's window.",
)
def restricted_medication_in_window(subjects: QuerySet) -> Iterable[Finding]:
    """A restricted medication inside its window: the active flags of edc/forms/restricted.py (one query).

    The flag is refreshed whenever the medication changes (forms' after-write hook, which runs before
    the edit checks); a flag the data no longer raises is voided, so its query closes.
    """
    from edc.forms.models import RestrictedMedicationFlag

    rows = (
        RestrictedMedicationFlag.objects.active()
        .filter(subject__in=subjects.values("id"))
        .values_list("subject_id", "study_id", "site_id", "medication_id", "rule", "message", "certain")
    )
    for subject, study, site, medication, rule, message, certain in rows:
        text = message if certain else gettext("Possibly (partial dates): {message}").format(message=message)
        yield Finding(
            subject, study, site, "forms.concomitantmedication", medication, f"restricted:{rule}", text
        )


def _missing_form_rule() -> None:
    """Registered only when edc.forms.status (contract C5, issue h19b) is there."""
    try:
        from edc.forms.status import visit_form_status
    except ImportError:
        return

    @edit_check(
        "missing_expected_form",
        models=["visits.visit", *(label_of(m) for m in form_models())],
        description="A visit marked done lacks a form its definition expects.",
    )
    def missing_expected_form(subjects: QuerySet) -> Iterable[Finding]:
        """A done visit without a form its definition expects (the form status of C5)."""
        visits = list(
            # Only a visit of a definition expects forms (an unscheduled one expects none).
            Visit.objects.active().filter(
                subject__in=subjects.values("id"), status=VisitStatus.DONE, definition__isnull=False
            )
        )
        status = visit_form_status(visits)
        for visit in visits:
            for form in status.get(visit.pk, []):
                if form.state == "missing":
                    yield Finding(
                        visit.subject_id,
                        visit.study_id,
                        visit.site_id,
                        "visits.visit",
                        visit.pk,
                        f"form:{form.code}",
                        gettext("Visit {code} is done but its form {form} is missing.").format(
                            code=visit.code, form=form.name
                        ),
                    )


_missing_form_rule()
