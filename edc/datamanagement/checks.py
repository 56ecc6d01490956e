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


# --- rules of issues 18a, 20, 21 and C3 (helper f3) ------------------------------------------------


@edit_check(
    "candidate_deviation_awaiting_review",
    # A visit recorded outside its window raises the candidate (visit_record): its write runs this too.
    models=["visits.deviation", "visits.visit"],
    description="A candidate protocol deviation awaits a person's review.",
)
def candidate_deviation_awaiting_review(subjects: QuerySet) -> Iterable[Finding]:
    """A candidate protocol deviation not yet confirmed or dismissed (one query)."""
    from edc.visits.models import Deviation, DeviationStatus

    rows = (
        Deviation.objects.active()
        .filter(subject__in=subjects.values("id"), status=DeviationStatus.CANDIDATE)
        .values_list("id", "subject_id", "study_id", "site_id", "date", "description")
    )
    for pk, subject, study, site, day, description in rows:
        yield Finding(
            subject,
            study,
            site,
            "visits.deviation",
            pk,
            "status",
            gettext(
                "The candidate protocol deviation of {day} ({description}) awaits review: confirm it as "
                "major or minor, or dismiss it with the reason."
            ).format(day=day, description=description),
        )


def _grade5_subjects(subjects: QuerySet) -> dict[Any, list[Any]]:
    """The subjects' active grade-5 AEs (one query): subject id -> AE ids."""
    from edc.safety.models import AdverseEvent

    found: dict[Any, list[Any]] = {}
    for pk, subject in (
        AdverseEvent.objects.active()
        .filter(subject__in=subjects.values("id"), worst_grade="5")
        .values_list("id", "subject_id")
        .order_by("onset", "created")
    ):
        found.setdefault(subject, []).append(pk)
    return found


@edit_check(
    "grade5_ae_without_death_form",
    models=["safety.adverseevent", "forms.death"],
    description="A grade-5 (fatal) adverse event and no death form for the subject.",
)
def grade5_ae_without_death_form(subjects: QuerySet) -> Iterable[Finding]:
    """A grade-5 AE (death related to the AE, CTCAE) while the subject has no death form (two queries)."""
    from edc.forms.models import Death
    from edc.safety.models import AdverseEvent

    dead = set(
        Death.objects.active().filter(subject__in=subjects.values("id")).values_list("subject_id", flat=True)
    )
    rows = (
        AdverseEvent.objects.active()
        .filter(subject__in=subjects.values("id"), worst_grade="5")
        .exclude(subject__in=dead)
        .values_list("id", "subject_id", "study_id", "site_id", "term", "onset")
    )
    for pk, subject, study, site, term, onset in rows:
        yield Finding(
            subject,
            study,
            site,
            "safety.adverseevent",
            pk,
            "worst_grade",
            gettext(
                "The adverse event {term} (onset {onset}) is grade 5 (fatal) but no death form is recorded: "
                "record the death, or correct the grade."
            ).format(term=term, onset=onset),
        )


@edit_check(
    "ae_onset_after_resolution",
    models=["safety.adverseevent"],
    description="An adverse event whose resolution date is before its onset date.",
)
def ae_onset_after_resolution(subjects: QuerySet) -> Iterable[Finding]:
    """An AE resolved before its onset (one query). The AE services refuse it at entry; this finds
    what came by another door (an import through the core write path, data from before the rule)."""
    from django.db.models import F

    from edc.safety.models import AdverseEvent

    rows = (
        AdverseEvent.objects.active()
        .filter(subject__in=subjects.values("id"), resolution__lt=F("onset"))
        .values_list("id", "subject_id", "study_id", "site_id", "term", "onset", "resolution")
    )
    for pk, subject, study, site, term, onset, resolution in rows:
        yield Finding(
            subject,
            study,
            site,
            "safety.adverseevent",
            pk,
            "resolution",
            gettext(
                "The adverse event {term} resolved on {resolution}, before its onset on {onset}: "
                "correct the onset or the resolution date."
            ).format(term=term, onset=onset, resolution=resolution),
        )


def _death_in_collection_period(subject: Any, death_date: Any) -> bool:
    """Whether the (possibly partial) death date can fall inside the subject's AE collection period.

    The period is edc/safety's (edc/safety/ae_rules.py classify_collection): a death is a serious
    event, so it runs from the SAE collection start (consent or first dose) to the end days after the
    last dose (open while the end is not fixed). Assumption: a partial date counts as inside when any
    day it may stand for is inside (a query is cheaper than a missed fatal AE).
    """
    from edc.consent.selectors import first_consent_date
    from edc.safety import ae_rules
    from edc.visits.selectors import first_dose_date, last_dose_date

    study = subject.study
    consent = first_consent_date(subject)
    if consent is None:
        return False
    period = ae_rules.CollectionPeriod(
        start=study.ae_collection_start,
        sae_start=study.sae_collection_start,
        end_days_after_last_dose=study.ae_collection_end_days_after_last_dose,
        irae_end_days_after_last_dose=study.irae_collection_end_days_after_last_dose,
    )
    start = consent if period.sae_start == ae_rules.CONSENT else first_dose_date(subject)
    if start is None:
        return False
    end = ae_rules.period_end(last_dose=last_dose_date(subject), period=period)
    return death_date.latest() >= start and (end is None or death_date.earliest() <= end)


@edit_check(
    "death_without_grade5_ae",
    models=["safety.adverseevent", "forms.death", "visits.exposure"],
    description="A death from an adverse event (or of unknown cause in the AE period) and no grade-5 AE.",
)
def death_without_grade5_ae(subjects: QuerySet) -> Iterable[Finding]:
    """A death from an adverse event (DTHCAUSE AE), or of unknown cause (UNK) inside the AE collection
    period, while the subject has no grade-5 AE. Disease progression (PD) is not an AE (CTCAE), and
    OTHER names its cause. Two queries, then the period's dates for each unknown-cause death only."""
    from edc.forms.models import Death

    fatal = _grade5_subjects(subjects)
    deaths = (
        Death.objects.active()
        .filter(subject__in=subjects.values("id"), cause__in=("AE", "UNK"))
        .exclude(subject__in=list(fatal))
        .select_related("subject__study")
    )
    for death in deaths:
        if death.cause == "UNK" and not _death_in_collection_period(death.subject, death.death_date):
            continue
        text = (
            gettext(
                "The death on {day} is recorded as caused by an adverse event but no AE is grade 5: grade "
                "the fatal AE 5 (or record it), or correct the cause."
            )
            if death.cause == "AE"
            else gettext(
                "The death on {day} has an unknown cause and falls inside the AE collection period, but no "
                "AE is grade 5: record the fatal AE, or give the cause."
            )
        )
        yield Finding(
            death.subject_id,
            death.study_id,
            death.site_id,
            "forms.death",
            death.pk,
            "cause",
            text.format(day=death.death_date),
        )


@edit_check(
    "investigator_response_mismatch",
    models=["tumors.tumorassessment", "tumors.lesionmeasurement", "tumors.lesion"],
    description="The investigator's tumour response differs from the derived RECIST response.",
)
def investigator_response_mismatch(subjects: QuerySet) -> Iterable[Finding]:
    """An assessment whose investigator response differs from the derived one: the flag and words the
    derivation stores (edc/tumors/services.py subject_response_derive, response_mismatch) (one query)."""
    from edc.tumors.models import TumorAssessment

    rows = (
        TumorAssessment.objects.active()
        .filter(subject__in=subjects.values("id"), response_mismatch=True)
        .values_list("id", "subject_id", "study_id", "site_id", "date", "mismatch_detail")
    )
    for pk, subject, study, site, day, detail in rows:
        yield Finding(
            subject,
            study,
            site,
            "tumors.tumorassessment",
            pk,
            "investigator_overall",
            gettext(
                "The investigator's response of the assessment of {day} differs from the derived RECIST "
                "response ({detail}): correct the measurements or the response, or explain the difference."
            ).format(day=day, detail=detail or "-"),
        )


# Assumption (f3): edc/safety, the study and the seed records state no limit for deciding a lab-based
# AE proposal. 7 days: an investigator is expected to confirm or dismiss it by the next review of the
# subject's labs; a week undecided is taken to mean it was overlooked. Replace by a
# study setting when a protocol names one (docs/compliance.md).
LAB_AE_PROPOSAL_LIMIT_DAYS = 7


@edit_check(
    "lab_ae_proposal_undecided",
    models=["safety.labaeproposal", "forms.labresult"],
    description="An AE proposed from a lab value is still undecided past the limit.",
)
def lab_ae_proposal_undecided(subjects: QuerySet) -> Iterable[Finding]:
    """An open LabAeProposal proposed more than LAB_AE_PROPOSAL_LIMIT_DAYS ago (one query). Time makes it
    due: the bulk run (run_edit_checks) raises it; deciding or withdrawing the proposal closes it."""
    from django.utils import timezone

    from edc.safety.models import LabAeProposal, ProposalStatus

    before = timezone.now() - dt.timedelta(days=LAB_AE_PROPOSAL_LIMIT_DAYS)
    rows = (
        LabAeProposal.objects.active()
        .filter(subject__in=subjects.values("id"), status=ProposalStatus.OPEN, created__lt=before)
        .values_list("id", "subject_id", "study_id", "site_id", "term", "grade", "created")
    )
    for pk, subject, study, site, term, grade, created in rows:
        yield Finding(
            subject,
            study,
            site,
            "safety.labaeproposal",
            pk,
            "status",
            gettext(
                "The AE {term} grade {grade} proposed from a lab value on {day} is still undecided after {n} "
                "days: confirm it as an AE or dismiss it with the reason."
            ).format(term=term, grade=grade, day=f"{created:%Y-%m-%d}", n=LAB_AE_PROPOSAL_LIMIT_DAYS),
        )
