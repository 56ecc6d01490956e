"""The admin of the journey: the screening visit's forms as inlines (written by the forms' services),
the consent inline, the live eligibility checklist with the investigator's confirmation, the
enroll and screen-failure pages, the screening log; fixed query counts for the changelists."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from edc.consent.models import SignedConsent
from edc.eligibility.models import EligibilityDecision
from edc.forms.models import EcogAssessment, LabResult
from edc.subjects.models import Subject, SubjectStatus
from edc.visits.models import Visit
from studies.models import EligibilityCriterion
from tests.factories import screen_subject

pytestmark = pytest.mark.django_db

PREFIXES = {
    "vitalsigns": "forms-vitalsigns-visit+",
}


def _management(prefix, total=0, initial=0):
    return {f"{prefix}-TOTAL_FORMS": str(total), f"{prefix}-INITIAL_FORMS": str(initial)}


def _visit_page(client, visit):
    return client.get(f"/admin/visits/visit/{visit.pk}/change/")


def _formset_prefix(page, model):
    for formset in page.context["inline_admin_formsets"]:
        if formset.formset.model is model:
            return formset.formset.prefix
    raise AssertionError(model)


def _visit_post(page, visit, **extra):
    data = {"base_version": visit.version, "change_reason_code": "", "change_reason": ""}
    for formset in page.context["inline_admin_formsets"]:
        fs = formset.formset
        data.update(_management(fs.prefix, total=fs.initial_form_count(), initial=fs.initial_form_count()))
        for index, form in enumerate(fs.initial_forms):
            for name, field in form.fields.items():
                value = form.initial.get(name, field.initial)
                data[f"{fs.prefix}-{index}-{name}"] = "" if value is None else value
    data.update(extra)
    return data


def test_the_screening_visit_page_adds_a_form_row_through_the_forms_services(client, trial):
    subject = screen_subject(trial.site_a)
    visit = Visit.objects.get(subject=subject)
    client.force_login(trial.coordinator)
    page = _visit_page(client, visit)
    assert page.status_code == 200
    prefix = _formset_prefix(page, EcogAssessment)
    data = _visit_post(page, visit)
    data.update(_management(prefix, total=1, initial=0))
    data.update(
        {f"{prefix}-0-date": "2025-03-05", f"{prefix}-0-ecog": "1", f"{prefix}-0-not_done_reason": ""}
    )
    response = client.post(f"/admin/visits/visit/{visit.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    row = EcogAssessment.objects.get()
    assert (row.subject, row.visit, row.ecog, row.history.get().history_user) == (
        subject,
        visit,
        1,
        trial.coordinator,
    )


def test_an_inline_row_the_service_refuses_shows_the_error_and_writes_nothing(client, trial):
    subject = screen_subject(trial.site_a)
    visit = Visit.objects.get(subject=subject)
    client.force_login(trial.coordinator)
    page = _visit_page(client, visit)
    prefix = _formset_prefix(page, LabResult)
    data = _visit_post(page, visit)
    data.update(_management(prefix, total=1, initial=0))
    data.update(
        {
            f"{prefix}-0-date": "2025-03-05",
            f"{prefix}-0-test": "HGB",
            f"{prefix}-0-value": "12",
            f"{prefix}-0-unit": "g/dl/x",
        }
    )
    response = client.post(f"/admin/visits/visit/{visit.pk}/change/", data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.non_field_errors()
    assert any("unit" in error and "g/dl/x" in error for error in errors), errors
    assert not LabResult.objects.exists()


def test_an_inline_correction_takes_the_page_s_reason_and_a_removal_voids(client, trial):
    from edc.forms.services import ecog_create

    subject = screen_subject(trial.site_a)
    visit = Visit.objects.get(subject=subject)
    row = ecog_create(user=None, subject=subject, date=dt.date(2025, 3, 5), ecog=1)
    client.force_login(trial.coordinator)
    page = _visit_page(client, visit)
    prefix = _formset_prefix(page, EcogAssessment)
    data = _visit_post(page, visit, **{f"{prefix}-0-ecog": "2"})
    refused = client.post(f"/admin/visits/visit/{visit.pk}/change/", data)
    assert refused.status_code == 200  # a change needs the reason for change
    assert EcogAssessment.objects.get().ecog == 1
    data.update({"change_reason_code": "transcription_error", "change_reason": "2, not 1"})
    assert client.post(f"/admin/visits/visit/{visit.pk}/change/", data).status_code == 302
    stored = EcogAssessment.objects.get()
    assert (stored.ecog, stored.version) == (2, 2)
    assert stored.history.order_by("-history_date").first().history_change_reason == "2, not 1"
    page = _visit_page(client, visit)
    data = _visit_post(page, visit, **{f"{prefix}-0-DELETE": "on", "change_reason": "wrong patient"})
    assert client.post(f"/admin/visits/visit/{visit.pk}/change/", data).status_code == 302
    assert EcogAssessment.objects.get(pk=row.pk).voided_at is not None  # voided, never deleted


def test_a_monitor_sees_the_visit_page_but_cannot_add_form_rows(client, trial):
    subject = screen_subject(trial.site_a)
    visit = Visit.objects.get(subject=subject)
    client.force_login(trial.monitor)
    page = _visit_page(client, visit)
    assert page.status_code == 200
    assert all(
        not formset.formset.extra and not formset.has_add_permission
        for formset in page.context["inline_admin_formsets"]
    )


def test_the_subject_page_adds_a_consent_inline_through_the_consent_service(client, trial):
    subject = screen_subject(trial.site_a, consented_at=None, screening_date=dt.date(2025, 3, 1))
    client.force_login(trial.coordinator)
    page = client.get(f"/admin/subjects/subject/{subject.pk}/change/")
    prefix = _formset_prefix(page, SignedConsent)
    data = {
        "site": subject.site_id,
        "sex": subject.sex,
        "birth_date": str(subject.birth_date),
        "initials": "",
        "base_version": subject.version,
        **_management(prefix, total=1),
        f"{prefix}-0-consent_version": trial.version.pk,
        f"{prefix}-0-signed_at_0": "2025-03-01",
        f"{prefix}-0-signed_at_1": "09:00:00",
        f"{prefix}-0-obtained_by": "Dr Wang",
        f"{prefix}-0-patient_signed": "on",
        f"{prefix}-0-copy_given": "on",
    }
    response = client.post(f"/admin/subjects/subject/{subject.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    consent = SignedConsent.objects.get()
    assert (consent.subject, consent.consent_version, consent.obtained_by) == (
        subject,
        trial.version,
        "Dr Wang",
    )


def test_the_eligibility_checklist_page_lets_the_investigator_confirm_and_sign(client, trial):
    EligibilityCriterion.objects.create(
        study=trial.study, kind="inclusion", number="1", text="Survival", rule={"review": "survival"}
    )
    subject = screen_subject(trial.site_a)
    url = f"/admin/subjects/subject/{subject.pk}/eligibility/?as_of=2025-03-15"
    client.force_login(trial.coordinator)
    page = client.get(url)
    assert page.status_code == 200
    assert b"investigator to judge: survival" in page.content
    assert client.post(url, {"as_of": "2025-03-15"}).status_code == 403  # a coordinator does not sign
    client.force_login(trial.investigator)
    criterion = EligibilityCriterion.objects.get()
    response = client.post(
        url, {"as_of": "2025-03-15", f"c_{criterion.pk}": "met", f"n_{criterion.pk}": "ok"}
    )
    assert response.status_code == 302
    decision = EligibilityDecision.objects.get()
    assert (decision.outcome, decision.decided_by) == ("eligible", trial.investigator)
    page = client.get(url)
    assert b"Signed outcome: eligible" in page.content


def test_the_enroll_page_enrolls_through_the_service_and_shows_a_refusal(client, trial):
    from tests.subjects.conftest import eligible_subject

    client.force_login(trial.coordinator)
    unsigned = screen_subject(trial.site_a)
    refused = client.post(
        f"/admin/subjects/subject/{unsigned.pk}/enroll/",
        {"enrollment_date": "2025-03-10", "planned_first_dose": "2025-03-15"},
    )
    assert refused.status_code == 200
    assert b"No screening outcome is signed" in refused.content
    subject = eligible_subject(trial.site_a)
    response = client.post(
        f"/admin/subjects/subject/{subject.pk}/enroll/",
        {"enrollment_date": "2025-03-10", "planned_first_dose": "2025-03-15"},
    )
    assert response.status_code == 302
    assert Subject.objects.get(pk=subject.pk).subject_identifier == "01-0001"


def test_the_screen_fail_page_records_the_failure(client, trial):
    subject = screen_subject(trial.site_a)
    client.force_login(trial.coordinator)
    response = client.post(
        f"/admin/subjects/subject/{subject.pk}/screen-fail/", {"reason": "declined", "failed_criteria": "I4"}
    )
    assert response.status_code == 302
    stored = Subject.objects.get(pk=subject.pk)
    assert (stored.status, stored.screen_fail_criteria) == (SubjectStatus.SCREEN_FAILED, ["I4"])


def test_a_monitor_cannot_open_the_enroll_page_and_another_site_s_subject_is_a_404(client, trial):
    subject = screen_subject(trial.site_a)
    elsewhere = screen_subject(trial.site_b)
    client.force_login(trial.monitor)
    assert client.get(f"/admin/subjects/subject/{subject.pk}/enroll/").status_code == 403
    client.force_login(trial.coordinator)
    assert client.get(f"/admin/subjects/subject/{elsewhere.pk}/enroll/").status_code == 404
    assert client.get(f"/admin/subjects/subject/{elsewhere.pk}/eligibility/").status_code == 404
    assert client.get("/admin/subjects/subject/not-a-uuid/eligibility/").status_code == 404


@pytest.mark.parametrize(
    "path", ["/admin/subjects/subject/", "/admin/subjects/subject/screening-log/", "/admin/visits/visit/"]
)
def test_a_changelist_costs_a_fixed_number_of_queries(client, trial, path):
    client.force_login(trial.coordinator)

    def queries():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(path).status_code == 200
        return len(ctx.captured_queries)

    screen_subject(trial.site_a)
    few = queries()
    for _ in range(4):
        screen_subject(trial.site_a)
    assert queries() == few == CHANGELIST_QUERIES[path]


# Session and user (2), the user's grants (1), the list filters' choices (study and site: 2; the
# visits have the site only: 1), the count and the total (2), the user's and groups' permissions of
# the actions column (2), the page (1).
CHANGELIST_QUERIES = {
    "/admin/subjects/subject/": 10,
    "/admin/subjects/subject/screening-log/": 10,
    "/admin/visits/visit/": 9,
}
