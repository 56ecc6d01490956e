"""Dosing: the planned dose of an intervention, its body-size basis, the overdose check, and the days
of a cycle an agent is given (a loading dose, then maintenance).

Pure module (no Django): inputs and outputs are frozen dataclasses, protocol parameters are passed in.
Sources: issue 18 item 3; docs/definitions.md ("Interventions": the parameters and their meaning);
the seed records through the study files (seed 000 capecitabine "Stop the drug for 1 week after 2 weeks
of treatment"; seed 002 cetuximab "starting dose ... 400 mg/m2", "maintenance dose of 250 mg/m2 ...
administered once weekly", dalpiciclib "150 mg once daily for 21 days, followed by 7 days of
discontinuation ... for a 28-day treatment cycle"). Body surface area: Mosteller, ``edc.core.bsa``.

Rules:

1. **Planned dose** (``planned_dose``, ``dose_amount``, ``daily_amount``). ``dose_amount`` × 1 (flat),
   × weight in kg (``per_kg``), × BSA in m² (``per_m2``). ``dose_per="dose"``: the amount is per
   administration and a day's total is amount × ``doses_per_day`` (1 when not stated);
   ``dose_per="day"``: the amount is the day's total, split into ``doses_per_day`` administrations
   when that is stated (else the size of one administration is not known: ``None``). Unrounded, exact
   Decimal: rounding to a vial or tablet size is the pharmacy's step. ``dose_amount``/``daily_amount``
   equal ``studies.models.Intervention.compute_dose``/``daily_dose`` for the same measurements.
2. **Basis rule** (``choose_basis``). A body-size dose keeps the basis it was computed from (weight,
   height, BSA, the date measured). The first dose takes the latest measurement. Later doses recompute
   only when the latest weight differs from the *basis weight* (the weight of the basis in use, which
   is the baseline weight until the first recomputation) by **at least** the study's threshold
   (``dose_recalc_weight_change_pct``, 10 % by default), up or down: |w − w_basis| × 100 ≥ threshold ×
   w_basis, exactly (a change of exactly 10 % recomputes; 9.99 % does not). Then the new basis is the
   latest weight, with the latest height when one was measured, else the basis height (height alone
   never triggers a recomputation: the rule is about weight). A measurement older than the basis never
   replaces it. Flat doses have no basis.
3. **Overdose check** (``check_given_dose``). A dose given *more than* ``limit_pct`` (10 %) above the
   planned one needs confirmation with a reason: given × 100 > planned × (100 + limit). Exactly 10 %
   above does not. The result is a check (``needs_confirmation``, ``confirmed``, ...), never an
   exception: the service refuses, the admin asks.
4. **Days of a cycle** (``AgentSchedule``). A regimen's ``dosing_days`` are days of its cycle (day 1 =
   the cycle's first day); the other days are off. The regimens of one agent in one phase form its
   schedule: at most one ``dose_role="loading"`` regimen and exactly one other (maintenance, single or
   unmarked). The loading regimen's doses are the agent's first administrations (occurrences 1 .. n,
   n = its number of dosing days, 1 when it lists none), given on its days of cycle 1; every later
   occurrence is maintenance. So the role of a dose follows from how many doses of the agent came
   before it (``regimen_for``), and a planned cycle (``cycle_plan``) numbers occurrences the same way.
   Choice: a loading regimen with a cycle length of its own is refused (a loading dose is given once).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Final

from edc.core.bsa import BsaError, mosteller_bsa

FLAT: Final = "flat"
PER_KG: Final = "per_kg"
PER_M2: Final = "per_m2"
DOSE_BASES: Final = (FLAT, PER_KG, PER_M2)
PER_DOSE: Final = "dose"
PER_DAY: Final = "day"
DOSE_PER: Final = (PER_DOSE, PER_DAY)
LOADING: Final = "loading"
MAINTENANCE: Final = "maintenance"
SINGLE: Final = "single"
DOSE_ROLES: Final = ("", LOADING, MAINTENANCE, SINGLE)

DEFAULT_RECALC_THRESHOLD_PCT: Final = Decimal(10)
DEFAULT_OVERDOSE_LIMIT_PCT: Final = Decimal(10)

# check_given_dose statuses
AS_PLANNED: Final = "as_planned"
BELOW_PLANNED: Final = "below_planned"
ABOVE_WITHIN_LIMIT: Final = "above_within_limit"
NEEDS_CONFIRMATION: Final = "needs_confirmation"
CONFIRMED: Final = "confirmed"


class DosingError(ValueError):
    """Input a dose cannot be computed from; ``field`` names the input (weight_kg, dosing_days ...)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _decimal(field: str, value: Decimal | int | str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        raise DosingError(field, f"{value!r} is not a number")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise DosingError(field, f"{value!r} is not a number") from None
    if not number.is_finite():
        raise DosingError(field, f"{value!r} is not a finite number")
    return number


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class Regimen:
    """One intervention's dose parameters, named as on ``studies.models.Intervention``."""

    code: str
    agent: str
    dose_amount: Decimal | None
    dose_unit: str
    dose_basis: str = FLAT
    dose_per: str = PER_DOSE
    doses_per_day: int | None = None
    dosing_days: tuple[int, ...] = ()
    cycle_length_days: int | None = None
    dose_role: str = ""

    def __post_init__(self) -> None:
        if self.dose_basis not in DOSE_BASES:
            raise DosingError("dose_basis", f"{self.dose_basis!r} is not one of {', '.join(DOSE_BASES)}")
        if self.dose_per not in DOSE_PER:
            raise DosingError("dose_per", f"{self.dose_per!r} is not one of {', '.join(DOSE_PER)}")
        if self.dose_role not in DOSE_ROLES:
            raise DosingError("dose_role", f"{self.dose_role!r} is not one of loading, maintenance, single")
        if self.dose_amount is not None and _decimal("dose_amount", self.dose_amount) <= 0:
            raise DosingError("dose_amount", "must be positive")
        if self.doses_per_day is not None and self.doses_per_day < 1:
            raise DosingError("doses_per_day", "must be at least 1")
        if self.cycle_length_days is not None and self.cycle_length_days < 1:
            raise DosingError("cycle_length_days", "must be at least 1")
        days = tuple(self.dosing_days)
        if any(isinstance(d, bool) or not isinstance(d, int) or d < 1 for d in days):
            raise DosingError("dosing_days", "days of a cycle are whole numbers from 1")
        if list(days) != sorted(set(days)):
            raise DosingError("dosing_days", "days must be listed once each, in order")
        if self.cycle_length_days is not None and days and days[-1] > self.cycle_length_days:
            raise DosingError(
                "dosing_days", f"day {days[-1]} is beyond the {self.cycle_length_days}-day cycle"
            )
        object.__setattr__(self, "dosing_days", days)

    @property
    def body_size(self) -> bool:
        return self.dose_basis in (PER_KG, PER_M2)

    def _amount(self) -> Decimal:
        if self.dose_amount is None:
            raise DosingError("dose_amount", f"{self.agent}: the protocol states no dose")
        return Decimal(self.dose_amount)


@dataclass(frozen=True)
class Measurement:
    """A weight (kg) and, when measured, a height (cm) from the vital signs, with their date."""

    weight_kg: Decimal
    measured_on: dt.date
    height_cm: Decimal | None = None


@dataclass(frozen=True)
class DoseBasis:
    """What a body-size dose was computed from; every dose record keeps it. Flat: all ``None``."""

    kind: str
    weight_kg: Decimal | None = None
    height_cm: Decimal | None = None
    bsa_m2: Decimal | None = None
    measured_on: dt.date | None = None

    @property
    def factor(self) -> Decimal:
        """What the protocol amount is multiplied by: 1, the weight or the BSA."""
        if self.kind == FLAT:
            return Decimal(1)
        value = self.weight_kg if self.kind == PER_KG else self.bsa_m2
        if value is None:
            field = "weight_kg" if self.kind == PER_KG else "bsa_m2"
            raise DosingError(field, f"a {self.kind} basis needs its {field}")
        return value


FLAT_BASIS: Final = DoseBasis(kind=FLAT)


def basis_from(
    kind: str,
    *,
    weight_kg: Decimal | None,
    height_cm: Decimal | None = None,
    measured_on: dt.date | None = None,
) -> DoseBasis:
    """The basis of ``kind`` from a weight (and, for ``per_m2``, a height): BSA by Mosteller."""
    if kind == FLAT:
        return FLAT_BASIS
    if kind not in DOSE_BASES:
        raise DosingError("dose_basis", f"{kind!r} is not one of {', '.join(DOSE_BASES)}")
    if weight_kg is None:
        raise DosingError("weight_kg", f"a {kind} dose needs the weight (no weight recorded)")
    weight = _decimal("weight_kg", weight_kg)
    if weight <= 0:
        raise DosingError("weight_kg", "must be a positive number")
    if kind == PER_KG:
        return DoseBasis(kind=PER_KG, weight_kg=weight, measured_on=measured_on)
    if height_cm is None:
        raise DosingError("height_cm", "a per-m² dose needs the height (no height recorded)")
    height = _decimal("height_cm", height_cm)
    try:
        bsa = mosteller_bsa(height_cm=height, weight_kg=weight)
    except BsaError as error:
        raise DosingError(error.field, error.message) from None
    return DoseBasis(kind=PER_M2, weight_kg=weight, height_cm=height, bsa_m2=bsa, measured_on=measured_on)


# --------------------------------------------------------------------------- rule 1: planned dose


@dataclass(frozen=True)
class PlannedDose:
    regimen_code: str
    agent: str
    unit: str
    amount: Decimal
    """As the protocol states it: per administration, or per day when ``dose_per`` is "day"."""
    per_administration: Decimal | None
    per_day: Decimal
    administrations_per_day: int | None
    dose_role: str
    basis: DoseBasis


def planned_dose(*, regimen: Regimen, basis: DoseBasis) -> PlannedDose:
    """The planned dose of ``regimen`` on ``basis`` (``FLAT_BASIS`` for a flat dose)."""
    if basis.kind != regimen.dose_basis:
        raise DosingError(
            "basis", f"{regimen.agent}: a {regimen.dose_basis} dose cannot use a {basis.kind} basis"
        )
    amount = regimen._amount() * basis.factor
    if regimen.dose_per == PER_DOSE:
        per_administration: Decimal | None = amount
        per_day = amount * (regimen.doses_per_day or 1)
    else:
        per_day = amount
        per_administration = amount / regimen.doses_per_day if regimen.doses_per_day else None
    return PlannedDose(
        regimen_code=regimen.code,
        agent=regimen.agent,
        unit=regimen.dose_unit,
        amount=amount,
        per_administration=per_administration,
        per_day=per_day,
        administrations_per_day=regimen.doses_per_day,
        dose_role=regimen.dose_role,
        basis=basis,
    )


def _direct_basis(regimen: Regimen, weight_kg: Decimal | None, height_cm: Decimal | None) -> DoseBasis:
    regimen._amount()
    if regimen.dose_basis == PER_KG and weight_kg is None:
        raise DosingError("weight_kg", f"{regimen.agent}: a per-kg dose needs the weight")
    if regimen.dose_basis == PER_M2 and (weight_kg is None or height_cm is None):
        raise DosingError(
            "weight_kg" if weight_kg is None else "height_cm",
            f"{regimen.agent}: a per-m² dose needs height and weight",
        )
    return basis_from(regimen.dose_basis, weight_kg=weight_kg, height_cm=height_cm)


def dose_amount(
    regimen: Regimen, *, weight_kg: Decimal | None = None, height_cm: Decimal | None = None
) -> Decimal:
    """The amount per administration (per day when ``dose_per`` is "day"): ``Intervention.compute_dose``."""
    return planned_dose(regimen=regimen, basis=_direct_basis(regimen, weight_kg, height_cm)).amount


def daily_amount(
    regimen: Regimen, *, weight_kg: Decimal | None = None, height_cm: Decimal | None = None
) -> Decimal:
    """The total amount per dosing day: ``Intervention.daily_dose``."""
    return planned_dose(regimen=regimen, basis=_direct_basis(regimen, weight_kg, height_cm)).per_day


# --------------------------------------------------------------------------- rule 2: basis


@dataclass(frozen=True)
class BasisDecision:
    basis: DoseBasis
    recomputed: bool
    weight_change_pct: Decimal | None
    """Signed change of the latest weight from the previous basis weight, in %; None without both."""
    reason: str


def weight_change_pct(*, basis_weight_kg: Decimal, weight_kg: Decimal) -> Decimal:
    """(w − w_basis) / w_basis × 100, signed."""
    return (Decimal(weight_kg) - Decimal(basis_weight_kg)) * 100 / Decimal(basis_weight_kg)


def reaches_threshold(*, basis_weight_kg: Decimal, weight_kg: Decimal, threshold_pct: Decimal) -> bool:
    """Whether the weight changed from the basis weight by at least ``threshold_pct`` (≥, either way)."""
    return abs(Decimal(weight_kg) - Decimal(basis_weight_kg)) * 100 >= Decimal(threshold_pct) * Decimal(
        basis_weight_kg
    )


def choose_basis(
    *,
    regimen: Regimen,
    latest: Measurement | None,
    previous: DoseBasis | None,
    threshold_pct: Decimal = DEFAULT_RECALC_THRESHOLD_PCT,
) -> BasisDecision:
    """The basis of the next dose of ``regimen``: keep ``previous`` unless the weight rule recomputes it.

    ``latest`` is the subject's latest vital signs (weight, height when measured); ``previous`` the
    basis of the agent's previous dose (None for the first dose). ``threshold_pct`` is the study's
    ``dose_recalc_weight_change_pct``.
    """
    threshold = _decimal("threshold_pct", threshold_pct)
    if threshold < 0:
        raise DosingError("threshold_pct", "must not be negative")
    if not regimen.body_size:
        return BasisDecision(FLAT_BASIS, False, None, "flat dose: no body-size basis")
    if previous is None or previous.kind != regimen.dose_basis or previous.weight_kg is None:
        if latest is None:
            raise DosingError(
                "weight_kg", f"{regimen.agent}: no weight recorded for a {regimen.dose_basis} dose"
            )
        basis = basis_from(
            regimen.dose_basis,
            weight_kg=latest.weight_kg,
            height_cm=latest.height_cm,
            measured_on=latest.measured_on,
        )
        return BasisDecision(
            basis, True, None, f"first basis: weight {latest.weight_kg} kg of {latest.measured_on}"
        )
    if latest is None:
        return BasisDecision(previous, False, None, "no new weight: the basis is kept")
    change = weight_change_pct(basis_weight_kg=previous.weight_kg, weight_kg=latest.weight_kg)
    if previous.measured_on is not None and latest.measured_on < previous.measured_on:
        return BasisDecision(
            previous,
            False,
            change,
            f"weight of {latest.measured_on} is older than the basis ({previous.measured_on})",
        )
    words = f"weight {latest.weight_kg} kg is {_pct(change)} from the basis {previous.weight_kg} kg"
    if reaches_threshold(
        basis_weight_kg=previous.weight_kg, weight_kg=latest.weight_kg, threshold_pct=threshold
    ):
        height = latest.height_cm if latest.height_cm is not None else previous.height_cm
        basis = basis_from(
            regimen.dose_basis, weight_kg=latest.weight_kg, height_cm=height, measured_on=latest.measured_on
        )
        return BasisDecision(basis, True, change, f"{words}: at least {threshold} %, recomputed")
    return BasisDecision(previous, False, change, f"{words}: less than {threshold} %, basis kept")


def _pct(value: Decimal) -> str:
    rounded = value.quantize(Decimal("0.01"))
    return f"{'+' if rounded > 0 else ''}{rounded.normalize():f} %"


# --------------------------------------------------------------------------- rule 3: overdose


@dataclass(frozen=True)
class DoseCheck:
    status: str
    planned: Decimal
    given: Decimal
    difference_pct: Decimal
    """(given − planned) / planned × 100, signed."""
    limit_pct: Decimal
    reason: str
    message: str

    @property
    def needs_confirmation(self) -> bool:
        return self.status == NEEDS_CONFIRMATION


def check_given_dose(
    *,
    planned: Decimal,
    given: Decimal,
    reason: str = "",
    limit_pct: Decimal = DEFAULT_OVERDOSE_LIMIT_PCT,
) -> DoseCheck:
    """Compare a dose given with the planned one: more than ``limit_pct`` above needs a reason.

    ``planned`` and ``given`` are in the same unit (convert through ``edc.core.units`` first).
    """
    planned_d, given_d, limit = (
        _decimal("planned", planned),
        _decimal("given", given),
        _decimal("limit_pct", limit_pct),
    )
    if planned_d <= 0:
        raise DosingError("planned", "the planned dose must be positive")
    if given_d < 0:
        raise DosingError("given", "a dose given cannot be negative")
    if limit < 0:
        raise DosingError("limit_pct", "must not be negative")
    difference = (given_d - planned_d) * 100 / planned_d
    reason = reason.strip()
    if given_d * 100 > planned_d * (100 + limit):
        words = f"{given_d} is {_pct(difference)} above the planned {planned_d}, more than {limit} %"
        if reason:
            return DoseCheck(CONFIRMED, planned_d, given_d, difference, limit, reason, f"{words}: confirmed")
        return DoseCheck(
            NEEDS_CONFIRMATION,
            planned_d,
            given_d,
            difference,
            limit,
            "",
            f"{words}: confirm it with a reason",
        )
    if given_d == planned_d:
        status, message = AS_PLANNED, "as planned"
    elif given_d < planned_d:
        status, message = BELOW_PLANNED, f"{given_d} is {_pct(difference)} below the planned {planned_d}"
    else:
        status = ABOVE_WITHIN_LIMIT
        message = f"{given_d} is {_pct(difference)} above the planned {planned_d}, within {limit} %"
    return DoseCheck(status, planned_d, given_d, difference, limit, reason, message)


# --------------------------------------------------------------------------- rule 4: days of a cycle


def cycle_day(*, cycle_start: dt.date, on: dt.date, cycle_length_days: int | None = None) -> int:
    """The day of the cycle ``on`` falls on, the cycle's first day being day 1."""
    day = (on - cycle_start).days + 1
    if day < 1:
        raise DosingError("date", f"{on} is before the cycle's first day {cycle_start}")
    if cycle_length_days is not None and day > cycle_length_days:
        raise DosingError("date", f"{on} is day {day}, after the {cycle_length_days}-day cycle")
    return day


def is_dosing_day(regimen: Regimen, day: int) -> bool:
    """Whether ``regimen`` gives the agent on ``day`` of its cycle."""
    if regimen.cycle_length_days is not None and not 1 <= day <= regimen.cycle_length_days:
        raise DosingError("day", f"day {day} is not a day of the {regimen.cycle_length_days}-day cycle")
    return day in regimen.dosing_days


def days_off(regimen: Regimen) -> tuple[int, ...]:
    """The days of the cycle without the agent (seed 000 capecitabine: 15-21)."""
    if regimen.cycle_length_days is None:
        return ()
    return tuple(d for d in range(1, regimen.cycle_length_days + 1) if d not in regimen.dosing_days)


@dataclass(frozen=True)
class Administration:
    """One planned dosing day of an agent."""

    cycle: int
    day: int
    occurrence: int
    """The agent's n-th dosing day since its first (1-based), counted across cycles."""
    regimen_code: str
    dose_role: str
    administrations: int
    """Administrations that day (capecitabine twice daily: 2)."""


@dataclass(frozen=True)
class AgentSchedule:
    """The regimens of one agent in one phase: an optional loading regimen and its main regimen."""

    agent: str
    main: Regimen
    loading: Regimen | None = None

    @classmethod
    def of(cls, regimens: Iterable[Regimen]) -> AgentSchedule:
        regimens = list(regimens)
        if not regimens:
            raise DosingError("regimens", "an agent's schedule needs at least one regimen")
        agents = {r.agent for r in regimens}
        if len(agents) > 1:
            raise DosingError("regimens", f"regimens of more than one agent: {', '.join(sorted(agents))}")
        loading = [r for r in regimens if r.dose_role == LOADING]
        main = [r for r in regimens if r.dose_role != LOADING]
        if len(loading) > 1:
            raise DosingError("regimens", f"{regimens[0].agent}: more than one loading regimen")
        if len(main) != 1:
            codes = ", ".join(r.code for r in main) or "none"
            raise DosingError(
                "regimens",
                f"{regimens[0].agent}: needs exactly one regimen besides the loading one ({codes})",
            )
        return cls(agent=regimens[0].agent, main=main[0], loading=loading[0] if loading else None)

    def __post_init__(self) -> None:
        load = self.loading
        if load is None:
            return
        if load.cycle_length_days is not None:
            raise DosingError(
                "cycle_length_days", f"{load.code}: a loading dose is given once, not per cycle"
            )
        if self.main.dosing_days and load.dosing_days:
            first = self._cycle_one_days()[: len(load.dosing_days)]
            if first != load.dosing_days:
                raise DosingError("dosing_days", f"{load.code}: the loading doses must come first in cycle 1")

    @property
    def loading_doses(self) -> int:
        if self.loading is None:
            return 0
        return len(self.loading.dosing_days) or 1

    def _cycle_one_days(self) -> tuple[int, ...]:
        loading_days = self.loading.dosing_days if self.loading else ()
        return tuple(sorted(set(self.main.dosing_days) | set(loading_days)))

    def regimen_for(self, occurrence: int) -> Regimen:
        """The regimen of the agent's ``occurrence``-th dose (1-based: how many came before, plus one)."""
        if occurrence < 1:
            raise DosingError("occurrence", "the first dose is occurrence 1")
        if self.loading is not None and occurrence <= self.loading_doses:
            return self.loading
        return self.main

    def cycle_plan(self, cycle: int) -> tuple[Administration, ...]:
        """The agent's planned dosing days in ``cycle`` (1-based), as if every earlier dose was given."""
        if cycle < 1:
            raise DosingError("cycle", "the first cycle is cycle 1")
        if self.main.cycle_length_days is None and cycle > 1:
            return ()  # a regimen without a cycle is given in the first cycle only
        first_cycle = self._cycle_one_days()
        days = first_cycle if cycle == 1 else self.main.dosing_days
        before = 0 if cycle == 1 else len(first_cycle) + (cycle - 2) * len(self.main.dosing_days)
        plan = []
        for index, day in enumerate(days, start=1):
            occurrence = before + index
            regimen = self.regimen_for(occurrence)
            plan.append(
                Administration(
                    cycle=cycle,
                    day=day,
                    occurrence=occurrence,
                    regimen_code=regimen.code,
                    dose_role=regimen.dose_role,
                    administrations=regimen.doses_per_day or 1,
                )
            )
        return tuple(plan)


def schedules(regimens: Sequence[Regimen]) -> dict[str, AgentSchedule]:
    """The regimens of one phase grouped by agent, in the order the agents first appear."""
    by_agent: dict[str, list[Regimen]] = {}
    for regimen in regimens:
        by_agent.setdefault(regimen.agent, []).append(regimen)
    return {agent: AgentSchedule.of(group) for agent, group in by_agent.items()}
