"""The live checklist, the investigator's confirmations and signed outcome, and staleness."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from edc.core.services import ChangeReason
from edc.eligibility.models import EligibilityConfirmation, EligibilityDecision
from edc.eligibility.selectors import decision_state
from edc.forms.models import LabResult
from edc.forms.services import ecog_create, form_record_update, lab_result_create
from studies.models import EligibilityCriterion
from tests.factories import MembershipFactory, UserFactory, screen_subject

pytestmark = pytest.mark.django_db
AS_OF = "2025-03-15"


@pytest.fixture
def subject(trial):
    study = trial.study
    EligibilityCriterion.objects.create(
        study=study,
        kind="inclusion",
        number="1",
        text="ECOG 0-1",
        rule={"field": "ecog", "op": "in", "value": [0, 1]},
    )
    EligibilityCriterion.objects.create(
        study=study,
        kind="inclusion",
        number="2",
        text="Expected survival ≥ 12 weeks",
        rule={"review": "survival"},
    )
    EligibilityCriterion.objects.create(
        study=study,
        kind="exclusion",
        number="1",
        text="Anaemia",
        rule={
            "field": "HGB",
            "op": "<",
            "value": 100,
            "unit": "g/L",
            "within": {"days": 14, "before": "first_dose"},
        },
    )
    subject = screen_subject(trial.site_a)
    ecog_create(user=None, subject=subject, date=dt.date(2025, 3, 5), ecog=1)
    lab_result_create(
        user=None, subject=subject, date=dt.date(2025, 3, 10), test="HGB", value=12.0, unit="g/dL"
    )
    return subject


def url(subject, suffix=""):
    return f"/api/subjects/{subject.pk}/eligibility/{suffix}"


def test_the_checklist_answers_per_criterion_with_the_reason_and_values_compared(subject, client_for, trial):
    result = client_for(trial.coordinator).get(url(subject), {"as_of": AS_OF}).json()
    assert result["outcome"] == "needs_review"
    assert result["criteria"] == [
        {"number": "1", "kind": "inclusion", "status": "met", "reason": "ECOG 1; limit in {0, 1}"},
        {
            "number": "2",
            "kind": "inclusion",
            "status": "needs_review",
            "reason": "investigator to judge: survival",
        },
        {
            "number": "1",
            "kind": "exclusion",
            "status": "not_met",
            "reason": "HGB 12.0 g/dL = 120 g/L on 2025-03-10; limit < 100 g/L within 14 days",
        },
    ]


def test_the_checklist_needs_its_as_of_date(subject, client_for, trial):
    client = client_for(trial.coordinator)
    missing = client.get(url(subject))
    assert missing.status_code == 400
    assert "as_of" in missing.json()["errors"]
    bad = client.get(url(subject), {"as_of": "15/03/2025"})
    assert bad.status_code == 400
    assert "as_of" in bad.json()["errors"]


def test_only_an_investigator_signs_the_outcome(subject, client_for, trial):
    response = client_for(trial.coordinator).post(
        url(subject), {"as_of": AS_OF, "confirmations": {"I2": "met"}}, format="json"
    )
    assert response.status_code == 403
    assert not EligibilityDecision.objects.exists()
    assert not EligibilityConfirmation.objects.exists()


def test_an_outcome_that_still_needs_review_is_not_signed(subject, client_for, trial):
    response = client_for(trial.investigator).post(url(subject), {"as_of": AS_OF}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"]["confirmations"] == [
        "Still needs review: I2: investigator to judge: survival"
    ]
    assert not EligibilityDecision.objects.exists()


def test_the_investigator_confirms_and_signs_with_a_snapshot_of_what_was_decided(subject, client_for, trial):
    response = client_for(trial.investigator).post(
        url(subject),
        {"as_of": AS_OF, "confirmations": {"I2": {"answer": "met", "comment": "good performance"}}},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["outcome"], body["as_of"], body["decided_by"]) == ("eligible", AS_OF, "j_investigator")
    decision = EligibilityDecision.objects.get()
    assert decision.result["outcome"] == "eligible"
    assert decision.inputs["ecog"] == 1
    assert decision.inputs["labs"][0]["lab"]["value"] == "12.0"
    assert [c["number"] for c in decision.criteria] == ["1", "2", "1"]
    assert decision.confirmations == {"I2": "met"}
    confirmation = EligibilityConfirmation.objects.get()
    assert (confirmation.key, confirmation.answer, confirmation.comment) == ("I2", "met", "good performance")
    assert confirmation.confirmed_by == trial.investigator
    assert decision_state(decision).stale is False


def test_a_later_correction_makes_the_decision_stale_without_changing_it(subject, client_for, trial):
    client = client_for(trial.investigator)
    client.post(url(subject), {"as_of": AS_OF, "confirmations": {"I2": "met"}}, format="json")
    decision = EligibilityDecision.objects.get()
    assert client.get(url(subject, "decision/")).json()["stale"] is False
    lab = LabResult.objects.get()
    form_record_update(
        user=None, record=lab, reason=ChangeReason("transcription_error", "9.0, not 12.0"), value=9.0
    )
    state = client.get(url(subject, "decision/")).json()
    assert (state["stale"], state["changed"]) == (True, ["labs"])
    assert state["decision"]["outcome"] == "eligible"  # kept as it was signed
    assert EligibilityDecision.objects.get().version == decision.version
    # The checklist shows the data as it is now.
    assert client.get(url(subject), {"as_of": AS_OF}).json()["outcome"] == "ineligible"


def test_a_changed_answer_replaces_the_confirmation_with_a_history_row(subject, trial):
    from edc.eligibility.services import eligibility_confirm

    eligibility_confirm(user=trial.investigator, subject=subject, confirmations={"I2": "met"})
    eligibility_confirm(user=trial.investigator, subject=subject, confirmations={"I2": "not_met"})
    confirmation = EligibilityConfirmation.objects.get()
    assert confirmation.answer == "not_met"
    assert [h.answer for h in confirmation.history.order_by("history_date")] == ["met", "not_met"]


@pytest.mark.parametrize(
    ("confirmations", "words"),
    [
        ({"1": "met"}, "ambiguous"),  # inclusion 1 and exclusion 1
        ({"I9": "met"}, "no criterion numbered"),
        ({"I2": "maybe"}, "met or not_met"),
    ],
)
def test_a_confirmation_naming_no_criterion_or_ambiguous_is_refused(
    subject, client_for, trial, confirmations, words
):
    response = client_for(trial.investigator).post(
        url(subject), {"as_of": AS_OF, "confirmations": confirmations}, format="json"
    )
    assert response.status_code == 400
    assert words in response.json()["errors"]["confirmations"][0]
    assert not EligibilityConfirmation.objects.exists()


def test_an_unknown_key_in_the_body_is_refused_by_name(subject, client_for, trial):
    response = client_for(trial.investigator).post(
        url(subject), {"as_of": AS_OF, "sign": True}, format="json"
    )
    assert response.status_code == 400
    assert "sign" in response.json()["errors"]


def test_another_site_s_investigator_gets_404_for_the_subject(subject, client_for, trial):
    other = UserFactory(username="investigator_b")
    MembershipFactory(user=other, study=trial.study, site=trial.site_b, role="investigator")
    client = client_for(other)
    assert client.get(url(subject), {"as_of": AS_OF}).status_code == 404
    assert client.post(url(subject), {"as_of": AS_OF}, format="json").status_code == 404


def test_the_checklist_costs_a_fixed_number_of_queries(subject, client_for, trial):
    client = client_for(trial.coordinator)

    def queries():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url(subject), {"as_of": AS_OF}).status_code == 200
        return len(ctx.captured_queries)

    few = queries()
    for day in (6, 7, 8):
        ecog_create(user=None, subject=subject, date=dt.date(2025, 3, day), ecog=0)
        lab_result_create(
            user=None, subject=subject, date=dt.date(2025, 3, day), test="PLAT", value=200, unit="10^9/L"
        )
    # The subject (1), one per screening form (9: VS, ECOG, PREG, LB, BD, HX, PT, MH, CM), the
    # confirmations (1), the first consent (1), the criteria (1), the baseline tumour lesions (1,
    # measurable disease, edc/tumors): whatever the number of rows.
    assert queries() == few == 14
