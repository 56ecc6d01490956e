"""`manage.py check` reports inconsistent trial definitions already in the database."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from studies.checks import check_definitions
from studies.models import (
    EligibilityCriterion,
    FormDefinition,
    FormItem,
    Intervention,
    Study,
    VisitDefinition,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def study() -> Study:
    return Study.objects.create(protocol_id="CHK", title="Checks")


def visit(study: Study, **kwargs: Any) -> VisitDefinition:
    values = {"code": "V", "name": "Visit", "kind": "imaging", "anchor": "first_dose", **kwargs}
    return VisitDefinition.objects.create(study=study, **values)


def ids() -> list[str]:
    return sorted(message.id for message in check_definitions())


def test_a_consistent_definition_passes(study):
    visit(study, repeat_interval_days=42, window_before_days=3, window_after_days=3)
    Intervention.objects.create(
        study=study,
        code="BEV",
        agent="bevacizumab",
        dose_amount=Decimal("7.5"),
        dose_unit="mg",
        dose_basis="per_kg",
    )
    EligibilityCriterion.objects.create(
        study=study, kind="inclusion", number="1", text="age", rule={"field": "age", "op": ">=", "value": 18}
    )
    assert ids() == []


@pytest.mark.parametrize("anchor", ["randomisation", "diagnosis", "", "previous_visit"])
def test_a_visit_anchored_on_an_undefined_event_is_reported(study, anchor):
    visit(study, anchor=anchor)
    assert ids() == ["studies.E001"]


@pytest.mark.parametrize(
    ("before", "after", "interval", "reported"),
    [
        (3, 3, 42, False),
        (7, 7, 84, False),
        (10, 10, 21, False),
        (10, 11, 21, True),  # the windows of neighbours touch: 21 days wide on a 21-day interval
        (21, 0, 21, True),
        (30, 30, 42, True),
        (0, 3, 4, False),
        (2, 2, 4, True),
    ],
)
def test_a_window_as_wide_as_its_interval_is_reported(study, before, after, interval, reported):
    visit(study, window_before_days=before, window_after_days=after, repeat_interval_days=interval)
    assert ids() == (["studies.E002"] if reported else [])


def test_a_one_off_visit_may_have_any_window(study):
    visit(study, window_before_days=28, window_after_days=28, repeat_interval_days=None)
    assert ids() == []


@pytest.mark.parametrize(
    ("basis", "amount", "unit", "reported"),
    [
        ("per_kg", "7.5", "", True),
        ("per_m2", "1250", "", True),
        ("flat", "200", "", True),
        ("per_m2", None, "mg", True),
        ("per_kg", "7.5", "mg", False),
        ("flat", None, "", False),  # a dose the protocol does not state
    ],
)
def test_a_dose_without_unit_or_amount_is_reported(study, basis, amount, unit, reported):
    Intervention.objects.create(
        study=study,
        code="X",
        agent="x",
        dose_basis=basis,
        dose_amount=amount and Decimal(amount),
        dose_unit=unit,
    )
    assert ids() == (["studies.E003"] if reported else [])


def test_a_visit_expecting_a_retired_form_is_reported(study):
    form = FormDefinition.objects.create(code="OLD", name="Old form", active=False)
    visit(study).forms.add(form.form)
    messages = check_definitions()
    assert [m.id for m in messages] == ["studies.E004"]
    assert "OLD" in messages[0].msg


@pytest.mark.parametrize(
    "rule",
    [
        {"field": "shoe_size", "op": ">", "value": 40},
        {"field": "HGB", "op": ">=", "value": 100, "unit": "furlongs"},
        {"field": "age", "op": "~", "value": 18},
        {"all": [{"field": "age", "op": ">=", "value": 18}, {"field": "nope", "op": "<", "value": 1}]},
        {"field": "HGB", "op": ">=", "value": 100, "unit": "U/L"},
    ],
)
def test_a_rule_the_grammar_rejects_is_reported(study, rule):
    EligibilityCriterion.objects.create(study=study, kind="inclusion", number="3", text="x", rule=rule)
    messages = check_definitions()
    assert [m.id for m in messages] == ["studies.E005"]
    assert "CHK inclusion criterion 3" in messages[0].msg


def test_a_criterion_without_rule_is_not_reported(study):
    EligibilityCriterion.objects.create(study=study, kind="exclusion", number="1", text="judged", rule=None)
    assert ids() == []


def test_a_choice_item_without_codelist_is_reported():
    form = FormDefinition.objects.create(code="DM", name="Demographics")
    FormItem.objects.create(form=form, code="SEX", label="Sex", data_type="choice")
    assert ids() == ["studies.E006"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("kind", "party"), ("repeat_from", "somewhere"), ("on_end_of_treatment", "maybe")],
)
def test_a_visit_with_an_unknown_choice_is_reported(study, field, value):
    visit(study, **{field: value})
    assert ids() == ["studies.E007"]


def test_several_problems_are_reported_together(study):
    visit(study, code="A", anchor="nowhere")
    visit(study, code="B", window_before_days=30, window_after_days=30, repeat_interval_days=42)
    Intervention.objects.create(study=study, code="X", agent="x", dose_basis="per_m2", dose_amount=Decimal(1))
    assert ids() == ["studies.E001", "studies.E002", "studies.E003"]


def test_manage_py_check_fails_on_an_inconsistent_definition(study):
    visit(study, anchor="nowhere")
    with pytest.raises(SystemCheckError, match=r"studies\.E001"):
        call_command("check", stdout=io.StringIO(), stderr=io.StringIO())


def test_manage_py_check_passes_on_the_real_fixtures():
    call_command("load_studies", stdout=io.StringIO())
    assert check_definitions() == []
    out = io.StringIO()
    call_command("check", stdout=out)
    assert "no issues" in out.getvalue()
