"""Form status per visit: which forms a visit expects, and whether each is missing, in progress,
complete or not done (with its reason). Contract C5 (/work/notes/CONTRACTS.md); docs/forms-status-door.md.

What a visit expects is its visit definition's forms (fixtures/studies/*.yaml, `forms:`), each in
its current registry version. Which model stores a form is found through the registry's stores
(studies/form_stores.py: every model declaring `form_code`), so a form model that lands later is
covered without a line here; a form no model stores yet shows as expected and missing.

The states of one expected form at one visit, from its active (not voided) rows:

- ``missing``: no row;
- ``not_done``: every row is marked "not done" with a reason (the form's reason is the first row's);
- ``in_progress``: some row that is not "not done" leaves a required item of the registry empty
  (the item codes are in `FormStatus.incomplete_items`);
- ``complete``: every row fills all the registry's required items (or is itself "not done": a lab
  test not done beside the others done leaves the lab form complete).

Forms with one row per repeat (one lab test, one medication, one prior agent) are judged row by row
the same way: the registry states the items of one row, not how many rows a visit needs.

A visit that did not take place answers its forms without rows as ``not_done`` (missed: reason
``not_done`` with the missed reason; cancelled: ``not_applicable`` with the cancellation reason), so
it never counts as missing. A voided visit expects nothing. Forms entered at a visit that does not
expect them (an adverse event at an imaging visit, a form at an unscheduled visit) are listed after
the expected ones with ``expected=False``.

Forms stored once per subject (DM on the subject record, IC, IE: models without a visit) are
attributed to every visit of the subject that expects them.

Cost: two queries for the visit definitions and the registry, then one per form model, whatever the
number of visits (pinned in tests/forms/test_status.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.db import models
from django.utils.translation import gettext

from studies.form_stores import FormStore, form_stores

MISSING = "missing"
IN_PROGRESS = "in_progress"
COMPLETE = "complete"
NOT_DONE = "not_done"
STATES = (MISSING, IN_PROGRESS, COMPLETE, NOT_DONE)


@dataclass(frozen=True)
class FormStatus:
    code: str
    name: str
    state: str
    not_done_reason: str = ""
    not_done_detail: str = ""
    expected: bool = True  # False: rows at a visit whose definition does not name the form
    rows: int = 0  # active rows of the form at the visit
    incomplete_items: tuple[str, ...] = ()  # required items left empty (in progress)
    stored: bool = True  # False: no model stores this form yet (AE, TU ... until they land)


@dataclass(frozen=True)
class VisitRef:
    """What the status needs of a visit (a Visit row or its values)."""

    id: UUID
    subject_id: UUID
    definition_id: int | None
    status: str
    missed_reason: str = ""
    cancelled_reason: str = ""
    voided: bool = False

    @classmethod
    def of(cls, visit: Any) -> VisitRef:
        if isinstance(visit, VisitRef):
            return visit
        return cls(
            id=visit.id,
            subject_id=visit.subject_id,
            definition_id=visit.definition_id,
            status=visit.status,
            missed_reason=visit.missed_reason or "",
            cancelled_reason=visit.cancelled_reason or "",
            voided=visit.voided_at is not None,
        )


@dataclass(frozen=True)
class _Form:
    code: str
    name: str
    order: int
    required: tuple[str, ...]  # required item codes of the current version


@dataclass(frozen=True)
class RowFacts:
    key: Any  # the visit id, or for a form stored per subject the subject id
    not_done_reason: str
    not_done_detail: str
    empty_required: tuple[str, ...]


def _field_names(model: type[models.Model]) -> set[str]:
    return {f.name for f in model._meta.concrete_fields}


def _is_visit_store(store: FormStore) -> bool:
    return "visit" in _field_names(store.model)


def _subject_key(store: FormStore) -> str | None:
    """The field of a per-subject store that names the subject (the subject record: its key)."""
    if store.model._meta.label == "subjects.Subject":
        return "pk"
    if "subject" in _field_names(store.model):
        return "subject_id"
    return None


def visit_stores() -> list[FormStore]:
    """The form stores whose rows belong to a visit (every FormRecord model)."""
    return [store for store in form_stores() if _is_visit_store(store)]


def _expected(definition_ids: set[int]) -> dict[int, list[str]]:
    from studies.models import VisitDefinition

    if not definition_ids:
        return {}
    through = VisitDefinition.forms.through
    found: dict[int, list[str]] = defaultdict(list)
    rows = through.objects.filter(visitdefinition_id__in=definition_ids).values_list(
        "visitdefinition_id", "form__code"
    )
    for definition_id, code in rows:
        found[definition_id].append(code)
    return found


def _registry() -> dict[str, _Form]:
    """Every current form with its required items (one query: forms left-joined to their items)."""
    from studies.models import FormDefinition

    names: dict[str, tuple[str, int]] = {}
    required: dict[str, list[str]] = defaultdict(list)
    rows = FormDefinition.objects.filter(is_current=True).values_list(
        "code", "name", "order", "items__code", "items__required"
    )
    for code, name, order, item, is_required in rows:
        names[code] = (name, order)
        if item and is_required:
            required[code].append(item)
    return {
        code: _Form(code, name, order, tuple(sorted(required.get(code, ()))))
        for code, (name, order) in names.items()
    }


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def _rows(store: FormStore, form: _Form | None, key_field: str, keys: Any) -> list[RowFacts]:
    """The active rows of one store for the given visits (or subjects): one query."""
    names = _field_names(store.model)
    required = [
        (item, store.field_for(item))
        for item in (form.required if form else ())
        if store.field_for(item) in names
    ]
    not_done = "not_done_reason" in names
    columns = [key_field]
    if not_done:
        columns += ["not_done_reason", "not_done_detail"]
    columns += [field for _item, field in required]
    queryset = store.model._base_manager.filter(**{f"{key_field}__in": keys})
    if "voided_at" in names:
        queryset = queryset.filter(voided_at__isnull=True)
    found: list[RowFacts] = []
    for values in queryset.order_by(key_field, "pk").values_list(*columns):
        offset = 3 if not_done else 1
        reason, detail = (values[1] or "", values[2] or "") if not_done else ("", "")
        empty = tuple(item for (item, _f), v in zip(required, values[offset:], strict=True) if _empty(v))
        found.append(RowFacts(values[0], reason, detail, empty))
    return found


def form_state(code: str, name: str, rows: Sequence[RowFacts], *, expected: bool, stored: bool) -> FormStatus:
    if not rows:
        return FormStatus(code, name, MISSING, expected=expected, stored=stored)
    done = [row for row in rows if not row.not_done_reason]
    if not done:
        first = rows[0]
        return FormStatus(
            code,
            name,
            NOT_DONE,
            first.not_done_reason,
            first.not_done_detail,
            expected=expected,
            rows=len(rows),
        )
    incomplete = sorted({item for row in done for item in row.empty_required})
    state = IN_PROGRESS if incomplete else COMPLETE
    return FormStatus(
        code, name, state, expected=expected, rows=len(rows), incomplete_items=tuple(incomplete)
    )


def _visit_not_held(status: FormStatus, visit: VisitRef) -> FormStatus:
    """A form without rows at a visit that did not take place: not done, for the visit's reason."""
    from edc.visits.models import VisitStatus

    if status.state != MISSING:
        return status
    if visit.status == VisitStatus.MISSED:
        reason, detail = "not_done", gettext("Visit missed: {reason}").format(reason=visit.missed_reason)
    elif visit.status == VisitStatus.CANCELLED:
        reason = "not_applicable"
        detail = gettext("Visit cancelled: {reason}").format(reason=visit.cancelled_reason)
    else:
        return status
    return FormStatus(
        status.code,
        status.name,
        NOT_DONE,
        reason,
        detail.strip(),
        expected=status.expected,
        stored=status.stored,
    )


def visit_form_status(visits: Iterable[Any]) -> dict[Any, list[FormStatus]]:
    """{visit id: [FormStatus ...]} for Visit rows (or VisitRefs): the expected forms in the
    registry's order, then forms with rows the visit does not expect. See the module docstring."""
    refs = [VisitRef.of(visit) for visit in visits]
    return _status(refs, [ref.id for ref in refs], sorted({ref.subject_id for ref in refs}))


def _status(refs: list[VisitRef], visit_keys: Any, subject_keys: Any) -> dict[Any, list[FormStatus]]:
    """The status of `refs`; `visit_keys` and `subject_keys` select their rows (ids, or subqueries)."""
    if not refs:
        return {}
    live = [ref for ref in refs if not ref.voided]
    expected_by_definition = _expected({ref.definition_id for ref in live if ref.definition_id})
    registry = _registry()
    expected_codes = {code for codes in expected_by_definition.values() for code in codes}

    rows: dict[str, dict[Any, list[RowFacts]]] = defaultdict(lambda: defaultdict(list))
    per_subject: set[str] = set()
    stored: set[str] = set()
    for store in form_stores():
        code = store.form_code
        stored.add(code)
        form = registry.get(code)
        if _is_visit_store(store):
            found = _rows(store, form, "visit_id", visit_keys)
        else:
            subject_field = _subject_key(store)
            if subject_field is None or code not in expected_codes:
                continue
            per_subject.add(code)
            found = _rows(store, form, subject_field, subject_keys)
        for row in found:
            rows[code][row.key].append(row)

    def in_registry_order(code: str) -> tuple[int, str]:
        return (registry[code].order, code) if code in registry else (10**9, code)

    answer: dict[Any, list[FormStatus]] = {}
    for ref in refs:
        if ref.voided:
            answer[ref.id] = []
            continue
        codes = expected_by_definition.get(ref.definition_id, []) if ref.definition_id else []
        ordered = sorted(set(codes), key=in_registry_order)
        statuses = []
        for code in ordered:
            row_key = ref.subject_id if code in per_subject else ref.id
            name = registry[code].name if code in registry else code
            status = form_state(code, name, rows[code].get(row_key, []), expected=True, stored=code in stored)
            statuses.append(_visit_not_held(status, ref))
        extra = sorted(
            (code for code, by_key in rows.items() if code not in per_subject and ref.id in by_key),
            key=in_registry_order,
        )
        for code in extra:
            if code in ordered:
                continue
            name = registry[code].name if code in registry else code
            statuses.append(form_state(code, name, rows[code][ref.id], expected=False, stored=True))
        answer[ref.id] = statuses
    return answer


def subject_form_status(visits: Iterable[Any]) -> dict[Any, list[FormStatus]]:
    """The same for one subject's visits (the caller scopes and orders them)."""
    return visit_form_status(visits)


def state_counts(statuses: Iterable[FormStatus]) -> dict[str, int]:
    """{state: number} over the expected forms (the subject and visit pages' summary)."""
    counts = dict.fromkeys(STATES, 0)
    for status in statuses:
        if status.expected:
            counts[status.state] += 1
    return counts


@dataclass(frozen=True)
class SiteMissing:
    site_id: Any
    site_code: str
    visits: int  # visits that took place
    expected: int  # forms those visits expect
    missing: int
    in_progress: int
    complete: int
    not_done: int
    by_form: dict[str, int]  # missing forms per form code


def missing_forms_by_site(visits: models.QuerySet[Any]) -> list[SiteMissing]:
    """Per site, the forms missing (and in progress, complete, not done) at the visits that took
    place, for data managers: `visits` is the scoped queryset of one study's visits. The visits are
    read as values (one query) and their form rows by subquery, so the cost does not grow with the
    number of visits: 3 + one per form model."""
    from edc.visits.models import VisitStatus

    held = visits.filter(status=VisitStatus.DONE, voided_at__isnull=True)
    values = list(
        held.order_by("site__code", "id").values_list(
            "id", "subject_id", "definition_id", "status", "site_id", "site__code"
        )
    )
    refs = [VisitRef(id=v[0], subject_id=v[1], definition_id=v[2], status=v[3]) for v in values]
    sites: dict[int, str] = {}
    site_of: dict[Any, int] = {}
    for v in values:
        sites[v[4]] = v[5]
        site_of[v[0]] = v[4]
    status = _status(refs, held.values("id"), held.values("subject_id"))
    counts: dict[int, dict[str, int]] = {site: dict.fromkeys(STATES, 0) for site in sites}
    visits_at: dict[int, int] = dict.fromkeys(sites, 0)
    by_form: dict[int, dict[str, int]] = {site: defaultdict(int) for site in sites}
    for visit_id, statuses in status.items():
        site = site_of[visit_id]
        visits_at[site] += 1
        for form in statuses:
            if not form.expected:
                continue
            counts[site][form.state] += 1
            if form.state == MISSING:
                by_form[site][form.code] += 1
    return [
        SiteMissing(
            site_id=site,
            site_code=code,
            visits=visits_at[site],
            expected=sum(counts[site].values()),
            missing=counts[site][MISSING],
            in_progress=counts[site][IN_PROGRESS],
            complete=counts[site][COMPLETE],
            not_done=counts[site][NOT_DONE],
            by_form=dict(sorted(by_form[site].items())),
        )
        for site, code in sites.items()
    ]
