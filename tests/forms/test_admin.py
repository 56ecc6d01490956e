"""The admin doors of issue 19's forms: the death form on the subject page (through death_record:
the subject goes off study), the after-treatment forms as visit-page inlines (the forms' services)."""

from __future__ import annotations

import datetime as dt

import pytest

from edc.consent.models import SignedConsent
from edc.forms.models import Death, SurvivalFollowUp
from edc.subjects.models import Subject, SubjectStatus
from edc.visits.models import Visit
from tests.factories import screen_subject
from tests.visits.test_admin import _formset_prefix, _management, _visit_page, _visit_post

pytestmark = pytest.mark.django_db


def _subject_post(page, subject, **extra):
    data = {
        "site": subject.site_id,
        "sex": subject.sex,
        "birth_date": str(subject.birth_date),
        "initials": "",
        "base_version": subject.version,
    }
    for formset in page.context["inline_admin_formsets"]:
        fs = formset.formset
        data.update(_management(fs.prefix, total=fs.initial_form_count(), initial=fs.initial_form_count()))
        for index, form in enumerate(fs.initial_forms):
            for name, field in form.fields.items():
                value = form.initial.get(name, field.initial)
                data[f"{fs.prefix}-{index}-{name}"] = "" if value is None else value
    data.update(extra)
    return data


def _unconsented(trial):
    # No consent row: the page's consent inline then has no row to resubmit.
    return screen_subject(trial.site_a, consented_at=None, screening_date=dt.date(2025, 3, 1))


def test_the_subject_page_records_a_death_through_death_record(client, trial):
    subject = _unconsented(trial)
    client.force_login(trial.coordinator)
    page = client.get(f"/admin/subjects/subject/{subject.pk}/change/")
    assert page.status_code == 200
    prefix = _formset_prefix(page, Death)
    data = _subject_post(page, subject)
    data.update(_management(prefix, total=1))
    data.update({f"{prefix}-0-death_date": "2025-03", f"{prefix}-0-cause": "PD", f"{prefix}-0-autopsy": "N"})
    response = client.post(f"/admin/subjects/subject/{subject.pk}/change/", data)
    assert response.status_code == 302, [
        (fs.formset.prefix, fs.formset.errors, fs.formset.non_form_errors())
        for fs in response.context["inline_admin_formsets"]
    ]
    death = Death.objects.get()
    assert (death.subject, str(death.death_date), death.history.get().history_user) == (
        subject,
        "2025-03",
        trial.coordinator,
    )
    assert Subject.objects.get(pk=subject.pk).status == SubjectStatus.OFF_STUDY
    assert not SignedConsent.objects.filter(subject=subject).exists()  # the consent inline untouched


def test_a_death_the_service_refuses_shows_the_error_on_the_subject_page(client, trial):
    subject = _unconsented(trial)
    client.force_login(trial.coordinator)
    page = client.get(f"/admin/subjects/subject/{subject.pk}/change/")
    prefix = _formset_prefix(page, Death)
    data = _subject_post(page, subject)
    data.update(_management(prefix, total=1))
    data.update({f"{prefix}-0-death_date": "2025-02-01", f"{prefix}-0-cause": "PD"})
    response = client.post(f"/admin/subjects/subject/{subject.pk}/change/", data)
    assert response.status_code == 200
    assert "known alive on 2025-03-01" in response.content.decode()
    assert not Death.objects.exists()


def test_the_visit_page_adds_a_follow_up_contact_through_the_forms_services(client, trial):
    subject = screen_subject(trial.site_a)
    visit = Visit.objects.get(subject=subject)
    client.force_login(trial.coordinator)
    page = _visit_page(client, visit)
    prefix = _formset_prefix(page, SurvivalFollowUp)
    data = _visit_post(page, visit)
    data.update(_management(prefix, total=1))
    data.update(
        {
            f"{prefix}-0-contact_date": "2025-03-05",
            f"{prefix}-0-method": "PHONE",
            f"{prefix}-0-vital_status": "LOST",
            f"{prefix}-0-last_known_alive": "2025-03-04",
        }
    )
    response = client.post(f"/admin/visits/visit/{visit.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    row = SurvivalFollowUp.objects.get()
    assert (row.visit, row.vital_status, row.history.get().history_user) == (visit, "LOST", trial.coordinator)
