"""Restricted medication on trial: each concomitant medication checked against its study's rules
(edc/core/restricted_meds.py, one rule per seed criterion) on entry, and the flags stored.

A flag (RestrictedMedicationFlag) names its rule, seed and criterion, the window it falls in
(before the first dose, on trial), whether it is certain or only possible (a partial date), the
first dose it counted from, and the message. The data-integrity work turns flags into queries.

How the CM form's items are read (the pure module's `medication_from_cm`, plus):
- route NAS (the ROUTE codelist's nasal) is the module's NASAL: a nasal corticosteroid is exempt;
- category IMMUNOSUPP_UNKNOWN (immunosuppressant or corticosteroid, kind not recorded) is read as a
  systemic immunosuppressant whose flag is only possible: the kind decides, and it is not known.

The first dose is `edc.visits.selectors.first_dose_date(subject)` (actual, else planned); before it
exists (screening) nothing is flagged: eligibility reads the same rules then. The rules are
evaluated again for all the subject's medications whenever one changes; a flag the data no longer
raises is voided with the reason, a changed one updated.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.db import transaction
from django.utils.translation import gettext

from edc.core import restricted_meds
from edc.core.restricted_meds import Category, Medication
from edc.core.services import ChangeReason, record_save, record_update, record_void
from edc.forms.models import ConcomitantMedication, RestrictedMedicationFlag

UNKNOWN_KIND = "IMMUNOSUPP_UNKNOWN"
ROUTE_ALIASES = {"NAS": "NASAL"}


def medication_of(row: ConcomitantMedication) -> tuple[Medication, bool]:
    """The pure module's Medication for a CM row, and whether its kind is unknown (flags possible only)."""
    route = ROUTE_ALIASES.get(row.route, row.route)
    unknown = row.category == UNKNOWN_KIND
    medication = restricted_meds.medication_from_cm(
        name=row.agent,
        category="IMMUNOSUPP" if unknown else row.category,
        start=row.start,
        stop=row.stop,
        ongoing=bool(row.ongoing),
        route=route,
    )
    return medication, unknown


def _flags_for(subject: Any, rows: list[ConcomitantMedication]) -> dict[tuple[UUID, str], dict[str, Any]]:
    from edc.forms.selectors import death_of
    from edc.visits.selectors import first_dose_date

    rules = restricted_meds.rules_for_seed(subject.study.seed or "")
    first_dose = first_dose_date(subject)
    if not rules or first_dose is None:
        return {}
    death = death_of(subject)
    on_trial_until = death.death_date.latest() if death is not None else None
    wanted: dict[tuple[UUID, str], dict[str, Any]] = {}
    for row in rows:
        if row.not_done_reason:
            continue
        medication, unknown = medication_of(row)
        for flag in restricted_meds.evaluate_medication(
            medication, rules=rules, first_dose=first_dose, on_trial_until=on_trial_until
        ):
            certain = flag.certain and not (unknown and flag.category == Category.SYSTEMIC_IMMUNOSUPPRESSANT)
            message = flag.message
            if unknown and flag.category == Category.SYSTEMIC_IMMUNOSUPPRESSANT:
                message += " (kind not recorded: exempt if nasal, inhaled or a physiological dose)"
            wanted[(row.pk, flag.rule)] = {
                "seed": flag.seed,
                "criterion": flag.criterion,
                "category": str(flag.category),
                "windows": ",".join(flag.windows),
                "certain": certain,
                "first_dose": first_dose,
                "message": message,
            }
    return wanted


@transaction.atomic
def restricted_medication_flags_refresh(*, user: Any, subject: Any) -> list[RestrictedMedicationFlag]:
    """Evaluate the subject's concomitant medications against their study's rules and store the
    difference: new flags created, changed ones updated, stale ones voided. Returns the active flags."""
    rows = list(ConcomitantMedication.objects.active().filter(subject=subject))
    wanted = _flags_for(subject, rows)
    stored = {
        (flag.medication_id, flag.rule): flag
        for flag in RestrictedMedicationFlag.objects.active().filter(subject=subject)
    }
    why = ChangeReason(code="other", text=gettext("Restricted-medication rules evaluated again"))
    by_id = {row.pk: row for row in rows}
    active: list[RestrictedMedicationFlag] = []
    for key, values in wanted.items():
        current = stored.pop(key, None)
        if current is None:
            flag = RestrictedMedicationFlag(
                study=subject.study,
                site=subject.site,
                subject=subject,
                medication=by_id[key[0]],
                rule=key[1],
                **values,
            )
            active.append(record_save(flag, user=user))
        elif any(getattr(current, name) != value for name, value in values.items()):
            active.append(record_update(current, user=user, changes=values, reason=why))
        else:
            active.append(current)
    for stale in stored.values():
        record_void(
            stale,
            user=user,
            reason=ChangeReason(
                code="other", text=gettext("The medication no longer falls in the rule's window")
            ),
        )
    return active
