"""Writes of treatment: doses given (form EX), the end of treatment (form EOT), phase switches.

The admin, the API and commands call these; each re-plans the schedule through
`edc.visits.services.schedule_rebuild` (which writes only the differences) and moves the subject's
status (edc/subjects/services.py: the first dose -> on treatment, the end of treatment -> follow-up).

`exposure_record` derives what the dose row keeps (docs/treatment.md):

- the regimen: an agent with a loading regimen (seed 002 cetuximab 400 mg/m² once, then 250 mg/m²
  weekly) gets the loading regimen for its first dose(s) and the maintenance one after, whichever
  of the agent's regimens the caller names (edc/visits/dosing.py rule 4);
- the body-size basis: the latest vital signs on or before the dose (weight, and the latest height
  for a per-m² dose), recomputed only when the weight moved from the basis of the agent's previous
  dose by the study's threshold (10 % by default; dosing rule 2); each row keeps its basis;
- the planned dose (dosing rule 1, rounded to 0.01 mg for the row), and the overdose check: a dose
  given more than 10 % above it is refused unless `overdose_reason` confirms it (rule 3);
- the cycle (from the visit) and the day of the cycle.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext

from edc.core.services import ChangeReason, record_save
from edc.subjects.access import require_write
from edc.visits import dosing, schedule
from edc.visits.exposures import EndOfTreatment, EotReason, Exposure, ExposureAdjustment, PhaseSwitch
from edc.visits.models import Visit, VisitStatus
from edc.visits.selectors import (
    end_of_treatment,
    first_dose_date,
    study_schedule_params,
    study_visit_specs,
    subject_dates,
)
from studies.models import DoseBasis, Intervention, InterventionKind, TreatmentPhase

DOSE_PLACES = Decimal("0.01")
BSA_PLACES = Decimal("0.0001")
# The unit of the EX form's doses (fixtures/forms.yaml EXDOSE, EXPLANNED).
FORM_DOSE_UNIT = "mg"
TREATMENT_STATUSES = ("enrolled", "on_treatment")
EXPOSURE_VISIT_KINDS = ("treatment", "unscheduled")


def _errors(field: str, message: str) -> ValidationError:
    return ValidationError({field: [message]})


# --------------------------------------------------------------------------- reads for a dose


def regimen_of(intervention: Intervention) -> dosing.Regimen:
    """The intervention's dose parameters as the pure dosing module's Regimen."""
    days = intervention.dosing_days if isinstance(intervention.dosing_days, list) else []
    return dosing.Regimen(
        code=intervention.code,
        agent=intervention.agent,
        dose_amount=intervention.dose_amount,
        dose_unit=intervention.dose_unit,
        dose_basis=intervention.dose_basis,
        dose_per=intervention.dose_per,
        doses_per_day=intervention.doses_per_day,
        dosing_days=tuple(int(d) for d in days),
        cycle_length_days=intervention.cycle_length_days,
        dose_role=intervention.dose_role or "",
    )


def latest_measurement(subject: Any, on: dt.date) -> dosing.Measurement | None:
    """The latest weight of the subject's vital signs on or before `on`, with the latest height
    measured by then (height is measured at screening, weight at every visit). Two queries."""
    from edc.forms.models import VitalSigns

    rows = VitalSigns.objects.active().filter(subject=subject, not_done_reason="", date__lte=on)
    weight = (
        rows.filter(weight_kg__isnull=False).order_by("-date", "-created").values("weight_kg", "date").first()
    )
    if weight is None:
        return None
    height = (
        rows.filter(height_cm__isnull=False)
        .order_by("-date", "-created")
        .values_list("height_cm", flat=True)
        .first()
    )
    return dosing.Measurement(weight_kg=weight["weight_kg"], measured_on=weight["date"], height_cm=height)


def _agent_doses(subject: Any, agent: str, exclude: Exposure | None) -> Any:
    rows = Exposure.objects.active().filter(subject=subject, intervention__agent__iexact=agent)
    if exclude is not None and exclude.pk is not None:
        rows = rows.exclude(pk=exclude.pk)
    return rows


def _before(rows: Any, day: dt.date, record: Exposure) -> Any:
    """The rows dated before `day`, and those of the same day entered before this one."""
    from django.db.models import Q

    same_day = Q(start_date=day)
    if record.pk is not None and record.created is not None:
        same_day &= Q(created__lt=record.created)
    return rows.filter(Q(start_date__lt=day) | same_day)


def previous_basis(subject: Any, record: Exposure) -> dosing.DoseBasis | None:
    """The basis of the agent's previous body-size dose (any of its regimens), or None."""
    rows = _before(_agent_doses(subject, record.intervention.agent, record), record.start_date, record)
    row = (
        rows.filter(basis_weight_kg__isnull=False)
        .order_by("-start_date", "-created")
        .values("intervention__dose_basis", "basis_weight_kg", "basis_height_cm", "basis_date")
        .first()
    )
    if row is None:
        return None
    kind = record.intervention.dose_basis
    if row["intervention__dose_basis"] != kind:
        return None
    if kind == DoseBasis.PER_M2 and row["basis_height_cm"] is None:
        return None
    return dosing.basis_from(
        kind,
        weight_kg=row["basis_weight_kg"],
        height_cm=row["basis_height_cm"],
        measured_on=row["basis_date"],
    )


def _regimen_interventions(intervention: Intervention) -> list[Intervention]:
    """The regimens of the intervention's agent in its phase (a loading and a maintenance one)."""
    rows = Intervention.objects.filter(
        study_id=intervention.study_id,
        agent__iexact=intervention.agent,
        phase_id=intervention.phase_id,
        **({"arm_id": intervention.arm_id} if intervention.arm_id else {"arm__isnull": True}),
    ).order_by("order", "code")
    return list(rows) or [intervention]


def _resolve_regimen(subject: Any, record: Exposure) -> Intervention:
    """Loading or maintenance: the regimen the agent's n-th dose takes (dosing rule 4)."""
    regimens = _regimen_interventions(record.intervention)
    if len(regimens) < 2:
        return record.intervention
    try:
        agent_schedule = dosing.AgentSchedule.of([regimen_of(r) for r in regimens])
    except dosing.DosingError as exc:
        raise _errors("intervention", exc.message) from None
    before = _before(_agent_doses(subject, record.intervention.agent, record), record.start_date, record)
    given = before.exclude(adjustment=ExposureAdjustment.SKIPPED).filter(not_done_reason="").count()
    code = agent_schedule.regimen_for(given + 1).code
    return next(r for r in regimens if r.code == code)


def _cycle_of(visit: Visit) -> int | None:
    """The cycle a treatment visit belongs to: a cycle visit's occurrence, an anchored visit's
    parent's (CETW2D15 -> cycle 2)."""
    if visit.kind != "treatment":
        return None
    if visit.anchor_visit_code:
        parent = (
            Visit.objects.active()
            .filter(subject_id=visit.subject_id, code=visit.anchor_visit_code)
            .values_list("occurrence", flat=True)
            .first()
        )
        return parent
    return visit.occurrence


def _cycle_start(record: Exposure) -> dt.date | None:
    """The first day of the dose's cycle: the cycle visit's first dose, else its date, else the dose
    itself when it is given at the cycle visit."""
    visit = record.visit
    cycle_code = visit.anchor_visit_code or visit.code
    if visit.kind != "treatment":
        return None
    doses = (
        Exposure.objects.active()
        .filter(subject_id=record.subject_id, visit__code=cycle_code, not_done_reason="", dose_given__gt=0)
        .exclude(pk=record.pk)
        .order_by("start_date")
        .values_list("start_date", flat=True)
        .first()
    )
    candidates = [d for d in (doses,) if d is not None]
    if not visit.anchor_visit_code:
        candidates.append(record.start_date)
    if candidates:
        return min(candidates)
    parent = (
        Visit.objects.active()
        .filter(subject_id=record.subject_id, code=cycle_code)
        .values_list("visit_date", "target_date")
        .first()
    )
    if parent is None:
        return None
    return parent[0] or parent[1]


def phase_on(subject: Any, day: dt.date) -> TreatmentPhase | None:
    """The subject's treatment phase on `day`: the latest switch on or before it, else the first
    phase of their arm (entered with the first dose)."""
    switch = (
        PhaseSwitch.objects.active()
        .filter(subject=subject, date__lte=day)
        .select_related("phase")
        .order_by("-date", "-created")
        .first()
    )
    if switch is not None:
        return switch.phase
    phases = TreatmentPhase.objects.filter(study_id=subject.study_id).order_by("order", "code")
    own = [p for p in phases if not subject.arm_id or p.arm_id in (None, subject.arm_id)]
    return own[0] if own else None


# --------------------------------------------------------------------------- exposure


def _check_intervention(subject: Any, intervention: Intervention) -> None:
    if intervention.study_id != subject.study_id:
        raise _errors("intervention", gettext("The intervention belongs to another study."))
    if intervention.kind != InterventionKind.DRUG:
        raise _errors(
            "intervention",
            gettext("{agent} is no drug: record radiotherapy on the radiotherapy form.").format(
                agent=intervention.agent
            ),
        )
    if intervention.dose_amount is None:
        raise _errors(
            "intervention",
            gettext("The protocol states no dose of {agent}: a planned dose cannot be computed.").format(
                agent=intervention.agent
            ),
        )
    if intervention.dose_unit != FORM_DOSE_UNIT:
        raise _errors(
            "intervention",
            gettext("The drug exposure form records doses in mg, not {unit}.").format(
                unit=intervention.dose_unit
            ),
        )
    if intervention.arm_id and subject.arm_id and intervention.arm_id != subject.arm_id:
        raise _errors("intervention", gettext("The intervention belongs to another arm than the subject's."))


def _derive_dose(subject: Any, record: Exposure, *, new: bool) -> None:
    """Everything the row derives: regimen, phase, cycle, day, basis, planned dose; then the checks."""
    errors: dict[str, list[str]] = {}
    if record.visit.kind not in EXPOSURE_VISIT_KINDS:
        errors["visit"] = [
            gettext("Doses are recorded at treatment visits (or unscheduled ones), not at {kind}.").format(
                kind=record.visit.get_kind_display().lower()
            )
        ]
    eot = end_of_treatment(subject)
    if eot is not None and record.start_date > eot.last_dose_date:
        errors["start_date"] = [
            gettext("Treatment ended: the last dose was on {day}.").format(day=eot.last_dose_date)
        ]
    if record.start_date < (subject.enrollment_date or record.start_date):
        errors["start_date"] = [
            gettext("{day} is before the enrollment on {enrolled}.").format(
                day=record.start_date, enrolled=subject.enrollment_date
            )
        ]
    if errors:
        raise ValidationError(errors)
    record.intervention = _resolve_regimen(subject, record)
    intervention = record.intervention
    current = phase_on(subject, record.start_date)
    if intervention.phase_id and current is not None and intervention.phase_id != current.pk:
        raise _errors(
            "intervention",
            gettext("{code} belongs to the phase {phase}; on {day} the subject is in {current}.").format(
                code=intervention.code, phase=intervention.phase, day=record.start_date, current=current
            ),
        )
    record.agent_code = intervention.code
    record.phase_id = intervention.phase_id
    record.dose_unit = intervention.dose_unit
    record.dose_role = intervention.dose_role or ""
    if record.cycle is None:
        record.cycle = _cycle_of(record.visit)
    start = _cycle_start(record)
    day = (record.start_date - start).days + 1 if start is not None else None
    record.cycle_day = day if day is not None and day >= 1 else None

    regimen = regimen_of(intervention)
    study = subject.study
    threshold = study.dose_recalc_weight_change_pct
    try:
        if regimen.body_size:
            decision = dosing.choose_basis(
                regimen=regimen,
                latest=latest_measurement(subject, record.start_date),
                previous=previous_basis(subject, record),
                threshold_pct=threshold if threshold is not None else dosing.DEFAULT_RECALC_THRESHOLD_PCT,
            )
            basis, recomputed = decision.basis, decision.recomputed
        else:
            basis, recomputed = dosing.FLAT_BASIS, False
        planned = dosing.planned_dose(regimen=regimen, basis=basis)
    except dosing.DosingError as exc:
        field = "start_date" if exc.field in ("weight_kg", "height_cm") else "intervention"
        raise _errors(field, exc.message) from None
    record.basis_weight_kg = basis.weight_kg
    record.basis_height_cm = basis.height_cm
    record.basis_bsa_m2 = basis.bsa_m2.quantize(BSA_PLACES, ROUND_HALF_UP) if basis.bsa_m2 else None
    record.basis_date = basis.measured_on
    record.basis_recomputed = recomputed
    record.planned_dose = planned.amount.quantize(DOSE_PLACES, ROUND_HALF_UP)
    given = record.dose_given
    if record.dose_was_given and given is not None and record.planned_dose:
        check = dosing.check_given_dose(
            planned=record.planned_dose, given=given, reason=record.overdose_reason or ""
        )
        if check.needs_confirmation:
            raise _errors(
                "dose_given",
                gettext(
                    "{given} mg is {pct} % above the planned {planned} mg (more than 10 %): confirm it "
                    "with a reason (overdose_reason)."
                ).format(
                    given=_plain(given),
                    pct=_plain(check.difference_pct.quantize(Decimal("0.1"), ROUND_HALF_UP)),
                    planned=_plain(record.planned_dose),
                ),
            )
        if check.status != dosing.CONFIRMED and (record.overdose_reason or "").strip():
            raise _errors(
                "overdose_reason",
                gettext("Only a dose more than 10 % above the planned one takes this confirmation."),
            )


def _plain(value: Decimal) -> str:
    return format(Decimal(value).normalize(), "f")


def _after_dose(*, user: Any, subject: Any, why: str) -> None:
    """The subject on treatment from the first dose; the schedule re-anchored on the actual dates."""
    from edc.subjects.services import subject_treatment_start
    from edc.visits.services import schedule_rebuild

    subject.refresh_from_db()
    first = first_dose_date(subject)
    if subject.status == "enrolled" and first is not None and _has_dose(subject):
        subject = subject_treatment_start(user=user, subject=subject, first_dose_date=first)
    schedule_rebuild(user=user, subject=subject, reason=why)
    _medication_rules_again(user, subject)


def _medication_rules_again(user: Any, subject: Any) -> None:
    # The restricted-medication windows count from the first dose (the planned one until a dose is
    # recorded): a recorded, moved or voided dose can move it, and the flags follow.
    from edc.forms.restricted import restricted_medication_flags_refresh

    restricted_medication_flags_refresh(user=user, subject=subject)


def _has_dose(subject: Any) -> bool:
    from edc.visits.selectors import _given

    return Exposure.objects.filter(_given(), subject=subject).exists()


def _save_exposure(
    *, user: Any, subject: Any, record: Exposure, reason: ChangeReason | None, version: int | None, new: bool
) -> Exposure:
    from edc.forms.selectors import registry_form
    from edc.forms.services import _check, _derive

    _check_intervention(subject, record.intervention)
    record.agent_code = record.intervention.code  # so the fields parse; _derive_dose sets it again
    _derive(record)
    _derive_dose(subject, record, new=new)
    version_code, ranges = registry_form(Exposure.form_code)
    if new:
        record.form_version = version_code
    _check(record, ranges)
    return record_save(record, user=user, reason=reason, version=version)


@transaction.atomic
def exposure_record(
    *,
    user: Any,
    subject: Any,
    visit: Visit,
    intervention: Intervention,
    start_date: dt.date,
    dose_given: Decimal | None = None,
    route: str = "",
    end_date: dt.date | None = None,
    cycle: int | None = None,
    infusion_minutes: int | None = None,
    adjustment: str = ExposureAdjustment.NONE,
    adjustment_reason: str = "",
    doses_missed: int | None = None,
    overdose_reason: str = "",
    not_done_reason: str = "",
    not_done_detail: str = "",
) -> Exposure:
    """Record one dose (or oral course) of an agent at a treatment visit; re-plan the schedule.

    Refused, writing nothing: a visit that is not a treatment (or unscheduled) visit, missed or
    cancelled; an intervention of another study or arm, not a drug, or of a phase the subject is not
    in on that day; a date in the future, before enrollment or after the end of treatment; a body-
    size dose without a weight (and height) in the vital signs; a dose more than 10 % above the
    planned one without `overdose_reason`; an adjustment without its reason.
    """
    from edc.forms.services import _visit_for

    require_write(user, subject.site)
    if subject.status not in TREATMENT_STATUSES:
        raise _errors(
            "subject",
            gettext("A subject who is {status} receives no study treatment.").format(
                status=subject.get_status_display().lower()
            ),
        )
    record = Exposure(
        study=subject.study,
        site=subject.site,
        subject=subject,
        visit=_visit_for(subject, visit),
        intervention=intervention,
        cycle=cycle,
        start_date=start_date,
        end_date=end_date,
        dose_given=dose_given,
        route=route or "",
        infusion_minutes=infusion_minutes,
        adjustment=adjustment or ExposureAdjustment.NONE,
        adjustment_reason=adjustment_reason or "",
        doses_missed=doses_missed,
        overdose_reason=overdose_reason or "",
        not_done_reason=not_done_reason or "",
        not_done_detail=not_done_detail or "",
    )
    saved = _save_exposure(user=user, subject=subject, record=record, reason=None, version=None, new=True)
    _after_dose(
        user=user,
        subject=subject,
        why=gettext("Dose of {code} on {day}").format(code=saved.agent_code, day=saved.start_date),
    )
    return saved


@transaction.atomic
def exposure_update(
    *, user: Any, exposure: Exposure, reason: ChangeReason | None, version: int | None = None, **changes: Any
) -> Exposure:
    """Correct a dose row (its `editable_fields`, with a reason); derived values follow; re-plan."""
    from edc.forms.services import _visit_for

    require_write(user, exposure.site)
    unknown = sorted(set(changes) - set(Exposure.editable_fields))
    if unknown:
        raise ValidationError({name: [gettext("This field cannot be changed.")] for name in unknown})
    subject = exposure.subject
    if "visit" in changes:
        changes["visit"] = _visit_for(subject, changes["visit"])
    if "intervention" in changes and changes["intervention"] != exposure.intervention:
        changes.setdefault("cycle", exposure.cycle)
    for name, value in changes.items():
        if name in ("route", "adjustment_reason", "overdose_reason", "not_done_reason", "not_done_detail"):
            value = value or ""
        setattr(exposure, name, value)
    if "visit" in changes and "cycle" not in changes:
        exposure.cycle = None
    saved = _save_exposure(
        user=user, subject=subject, record=exposure, reason=reason, version=version, new=False
    )
    _after_dose(
        user=user,
        subject=subject,
        why=gettext("Dose of {code} on {day} corrected").format(code=saved.agent_code, day=saved.start_date),
    )
    return saved


@transaction.atomic
def exposure_void(
    *, user: Any, exposure: Exposure, reason: ChangeReason, version: int | None = None
) -> Exposure:
    """Void a dose row entered in error (kept in history); the schedule follows the doses left."""
    from edc.forms.services import form_record_void
    from edc.visits.services import schedule_rebuild

    voided = form_record_void(user=user, record=exposure, reason=reason, version=version)
    schedule_rebuild(user=user, subject=exposure.subject, reason=str(reason))
    _medication_rules_again(user, exposure.subject)
    return voided


# --------------------------------------------------------------------------- end of treatment


def _eot_visit(*, user: Any, subject: Any, dates: schedule.SubjectDates) -> Visit | None:
    """The end-of-treatment visit the EOT form belongs to: the stored one, else the one the engine
    plans from the new dates, created now (the re-plan then finds it in place)."""
    stored = Visit.objects.active().filter(subject=subject, kind="end_of_treatment").order_by("target_date")
    found = stored.exclude(status=VisitStatus.CANCELLED).first()
    if found is not None:
        return found
    study = subject.study
    rows = list(study.visit_definitions.select_related("phase"))
    by_code = {row.code: row for row in rows}
    planned = schedule.plan(study_visit_specs(study, rows=rows), dates, study_schedule_params(study))
    visit = next((v for v in planned if v.kind == "end_of_treatment"), None)
    if visit is None:
        # A study without an end-of-treatment visit: the form goes on the visit of the last dose.
        last = (
            Exposure.objects.active()
            .filter(subject=subject, visit__voided_at__isnull=True)
            .select_related("visit")
            .order_by("-start_date", "-created")
            .first()
        )
        return last.visit if last is not None else None
    return record_save(
        Visit(
            study=study,
            site=subject.site,
            subject=subject,
            definition=by_code.get(visit.definition),
            code=visit.code,
            name=visit.name,
            kind=visit.kind,
            series=visit.series,
            occurrence=visit.occurrence,
            number=visit.number,
            anchor_visit_code=visit.anchor_visit,
            order=visit.order,
            target_date=visit.target,
            window_start=visit.window_start,
            window_end=visit.window_end,
        ),
        user=user,
    )


@transaction.atomic
def end_of_treatment_record(
    *,
    user: Any,
    subject: Any,
    last_dose_date: dt.date,
    reason: str,
    eot_date: dt.date | None = None,
    reason_detail: str = "",
) -> EndOfTreatment:
    """End the subject's study treatment: the EOT form on the end-of-treatment visit, the subject to
    follow-up, the schedule re-planned (treatment visits after the last dose cancelled; the EOT,
    safety and survival follow-up visits planned; imaging goes on unless the reason is progression).

    `reason` is a code of the EOT form's codelist EOTREAS; `eot_date` (the decision) defaults to the
    last dose date. Refused: a reason outside the codelist; a subject not on treatment or whose
    treatment already ended; a last dose date before the first dose, before a dose recorded later,
    or in the future; an EOT date before the last dose.
    """
    from edc.forms.selectors import registry_form
    from edc.forms.services import _check, _derive
    from edc.subjects.services import subject_treatment_end
    from edc.visits.services import schedule_rebuild

    require_write(user, subject.site)
    errors: dict[str, list[str]] = {}
    if reason not in EotReason.values:
        errors["reason"] = [
            gettext("One of the EOTREAS codes: {codes}.").format(codes=", ".join(EotReason.values))
        ]
    if subject.status not in TREATMENT_STATUSES:
        errors["subject"] = [
            gettext("A subject who is {status} is not on treatment.").format(
                status=subject.get_status_display().lower()
            )
        ]
    elif end_of_treatment(subject) is not None:
        errors["subject"] = [gettext("The subject's end of treatment is already recorded.")]
    if errors:
        raise ValidationError(errors)
    eot_date = eot_date or last_dose_date
    _check_eot_dates(subject, last_dose_date=last_dose_date, eot_date=eot_date)
    base = subject_dates(subject)
    dates = schedule.SubjectDates(
        consent=base.consent,
        enrollment=base.enrollment,
        first_dose=base.first_dose,
        last_dose=last_dose_date,
        end_of_treatment=eot_date,
        eot_reason=EndOfTreatment(reason=reason).schedule_reason,
        death=base.death,
        actual=base.actual,
    )
    record = EndOfTreatment(
        study=subject.study,
        site=subject.site,
        subject=subject,
        eot_date=eot_date,
        last_dose_date=last_dose_date,
        reason=reason,
        reason_detail=reason_detail or "",
    )
    _derive(record)
    version_code, ranges = registry_form(EndOfTreatment.form_code)
    record.form_version = version_code
    visit = _eot_visit(user=user, subject=subject, dates=dates)
    if visit is None:
        raise _errors("subject", gettext("No visit to record the end of treatment at."))
    record.visit = visit
    _check(record, ranges)
    saved = record_save(record, user=user)
    why = gettext("End of treatment on {day} (last dose {last}): {reason}").format(
        day=eot_date, last=last_dose_date, reason=EotReason(reason).label
    )
    subject.refresh_from_db()
    moved = subject_treatment_end(user=user, subject=subject, last_dose_date=last_dose_date, reason=why)
    schedule_rebuild(user=user, subject=moved, reason=why)
    return saved


def _check_eot_dates(subject: Any, *, last_dose_date: dt.date, eot_date: dt.date) -> None:
    """The last dose lies between the first dose given and every dose recorded after it."""
    from edc.visits.selectors import _given

    doses = Exposure.objects.filter(_given(), subject=subject)
    first = doses.order_by("start_date").values_list("start_date", flat=True).first()
    if first is None:
        raise _errors(
            "last_dose_date",
            gettext("No dose of study treatment is recorded: record the doses given first."),
        )
    if last_dose_date < first:
        raise _errors(
            "last_dose_date",
            gettext("{day} is before the first dose on {first}.").format(day=last_dose_date, first=first),
        )
    later = doses.filter(start_date__gt=last_dose_date).order_by("start_date").first()
    if later is not None:
        raise _errors(
            "last_dose_date",
            gettext("A dose of {code} is recorded on {day}, after that date.").format(
                code=later.agent_code, day=later.start_date
            ),
        )
    if eot_date < last_dose_date:
        raise _errors("eot_date", gettext("The end of treatment is before the last dose."))


@transaction.atomic
def end_of_treatment_update(
    *,
    user: Any,
    record: EndOfTreatment,
    reason: ChangeReason | None,
    version: int | None = None,
    **changes: Any,
) -> EndOfTreatment:
    """Correct the end of treatment (its dates, reason, specification) with a reason; re-plan.

    A visit the first entry cancelled stays cancelled (a re-plan never brings one back: a person
    re-opens it); the visits the corrected dates plan are created or moved.
    """
    from edc.forms.selectors import registry_form
    from edc.forms.services import _check, _derive
    from edc.visits.services import schedule_rebuild

    require_write(user, record.site)
    unknown = sorted(set(changes) - set(EndOfTreatment.editable_fields))
    if unknown:
        raise ValidationError({name: [gettext("This field cannot be changed.")] for name in unknown})
    if "reason" in changes and changes["reason"] not in EotReason.values:
        raise _errors(
            "reason", gettext("One of the EOTREAS codes: {codes}.").format(codes=", ".join(EotReason.values))
        )
    for name, value in changes.items():
        setattr(record, name, value if value is not None or name != "reason_detail" else "")
    _derive(record)
    _check_eot_dates(record.subject, last_dose_date=record.last_dose_date, eot_date=record.eot_date)
    _, ranges = registry_form(EndOfTreatment.form_code)
    _check(record, ranges)
    saved = record_save(record, user=user, reason=reason, version=version)
    schedule_rebuild(
        user=user,
        subject=record.subject,
        reason=gettext("End of treatment corrected: {why}").format(why=reason or "-"),
    )
    return saved


# --------------------------------------------------------------------------- phases


@transaction.atomic
def treatment_phase_switch(
    *, user: Any, subject: Any, phase_code: str, date: dt.date, trigger: str
) -> PhaseSwitch:
    """The subject enters another treatment phase on `date` for `trigger` (seed 000: camrelizumab
    maintenance after a complete response; the tumor issue passes the response that triggered it).

    From that day only the new phase's interventions are given (exposure_record refuses the others).
    Refused: an unknown phase, the first phase (the first dose enters it), a phase of another arm, a
    phase already entered or not after the current one, an empty trigger, a date before the first
    dose, after the end of treatment or in the future, a subject not on treatment.
    """
    from edc.visits.services import schedule_rebuild

    require_write(user, subject.site)
    if subject.status != "on_treatment":
        raise _errors("subject", gettext("Only a subject on treatment switches treatment phase."))
    if not (trigger or "").strip():
        raise _errors("trigger", gettext("Say what triggered the switch (the phase's entry rule)."))
    phase = TreatmentPhase.objects.filter(study_id=subject.study_id, code=phase_code).first()
    if phase is None:
        raise _errors(
            "phase_code", gettext("The study has no treatment phase {code}.").format(code=phase_code)
        )
    if phase.arm_id and subject.arm_id and phase.arm_id != subject.arm_id:
        raise _errors("phase_code", gettext("The phase belongs to another arm."))
    current = phase_on(subject, date)
    if current is not None and phase.order <= current.order:
        raise _errors(
            "phase_code",
            gettext("On {day} the subject is in {current}: a switch goes to a later phase.").format(
                day=date, current=current
            ),
        )
    if PhaseSwitch.objects.active().filter(subject=subject, phase=phase).exists():
        raise _errors("phase_code", gettext("The subject already entered this phase."))
    if date > subject.site.today():
        raise _errors("date", gettext("{day} is after today at the site.").format(day=date))
    first = first_dose_date(subject)
    if first is None or not _has_dose(subject) or date < first:
        raise _errors("date", gettext("A phase switch follows the first dose."))
    eot = end_of_treatment(subject)
    if eot is not None and date > eot.last_dose_date:
        raise _errors("date", gettext("Treatment ended on {day}.").format(day=eot.last_dose_date))
    saved = record_save(
        PhaseSwitch(
            study=subject.study, site=subject.site, subject=subject, phase=phase, date=date, trigger=trigger
        ),
        user=user,
    )
    schedule_rebuild(
        user=user,
        subject=subject,
        reason=gettext("Phase {phase} from {day}: {trigger}").format(
            phase=phase.code, day=date, trigger=trigger
        ),
    )
    return saved
