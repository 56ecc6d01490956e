"""The admin door: the reason-for-change prompt, no deletion, voiding and scoped changelists."""

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from edc.subjects.models import Subject
from tests.factories import SubjectFactory

pytestmark = pytest.mark.django_db


def _change_url(subject):
    return f"/admin/subjects/subject/{subject.pk}/change/"


def _form(subject, **overrides):
    data = {
        "study": subject.study_id,
        "site": subject.site_id,
        "screening_number": subject.screening_number,
        "initials": subject.initials,
        "sex": subject.sex,
        "birth_date": str(subject.birth_date),
        "change_reason_code": "",
        "change_reason": "",
    }
    data.update(overrides)
    return data


@pytest.fixture
def staff_a(two_sites):
    user = two_sites.user_a
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="subjects"))
    return user


def test_the_admin_is_branded_for_the_product(client, two_sites):
    client.force_login(two_sites.superuser)
    response = client.get("/admin/")
    assert response.status_code == 200
    assert b"Oncology EDC" in response.content


def test_change_form_asks_for_a_reason_and_refuses_a_change_without_one(client, two_sites):
    subject = SubjectFactory(site=two_sites.site_a)
    client.force_login(two_sites.superuser)
    page = client.get(_change_url(subject))
    assert b"Reason for change" in page.content
    response = client.post(_change_url(subject), _form(subject, initials="ZZ"))
    assert response.status_code == 200
    assert "change_reason_code" in response.context["adminform"].form.errors
    assert Subject.objects.get(pk=subject.pk).initials == ""
    assert subject.history.count() == 1


def test_change_with_a_reason_is_saved_with_its_history_row(client, two_sites):
    subject = SubjectFactory(site=two_sites.site_a)
    client.force_login(two_sites.superuser)
    response = client.post(
        _change_url(subject),
        _form(subject, initials="ZZ", change_reason_code="transcription_error", change_reason="typed wrong"),
    )
    assert response.status_code == 302
    newest = Subject.objects.get(pk=subject.pk).history.order_by("-history_date").first()
    assert newest.initials == "ZZ"
    assert newest.history_user == two_sites.superuser
    assert newest.history_reason_code == "transcription_error"
    assert newest.history_change_reason == "typed wrong"


def test_a_locked_record_shows_a_form_error_and_stays_unchanged(client, two_sites):
    subject = SubjectFactory(site=two_sites.site_a)
    Subject._base_manager.filter(pk=subject.pk).update(locked_at=timezone.now())
    client.force_login(two_sites.superuser)
    response = client.post(
        _change_url(subject), _form(subject, initials="ZZ", change_reason_code="other", change_reason="x")
    )
    assert response.status_code == 200
    assert "locked" in str(response.context["adminform"].form.non_field_errors())
    assert Subject.objects.get(pk=subject.pk).initials == ""


def test_void_from_the_change_form_needs_a_reason_and_keeps_the_record(client, two_sites):
    subject = SubjectFactory(site=two_sites.site_a)
    client.force_login(two_sites.superuser)
    response = client.post(_change_url(subject), _form(subject, void_record="on", change_reason_code="other"))
    assert response.status_code == 200
    assert Subject.objects.get(pk=subject.pk).voided_at is None
    response = client.post(
        _change_url(subject),
        _form(subject, void_record="on", change_reason_code="other", change_reason="duplicate"),
    )
    assert response.status_code == 302
    assert Subject.objects.get(pk=subject.pk).voided_at is not None
    assert client.get("/admin/subjects/subject/").context["cl"].result_count == 0
    assert client.get("/admin/subjects/subject/?voided=voided").context["cl"].result_count == 1


def test_there_is_no_delete_in_the_admin(client, two_sites):
    subject = SubjectFactory(site=two_sites.site_a)
    client.force_login(two_sites.superuser)
    assert client.get(f"/admin/subjects/subject/{subject.pk}/delete/").status_code == 403
    assert Subject.objects.filter(pk=subject.pk).exists()


def test_changelist_is_scoped_to_the_users_sites(client, two_sites, staff_a):
    SubjectFactory(site=two_sites.site_a, screening_number="A-777")
    hidden = SubjectFactory(site=two_sites.site_b, screening_number="B-888")
    client.force_login(staff_a)
    listed = [s.screening_number for s in client.get("/admin/subjects/subject/").context["cl"].result_list]
    assert listed == ["A-777"]
    assert client.get(_change_url(hidden)).status_code == 302  # admin redirects a hidden object away


def test_subject_changelist_costs_a_fixed_number_of_queries(
    client, two_sites, staff_a, django_assert_num_queries
):
    client.force_login(staff_a)
    SubjectFactory(site=two_sites.site_a)
    client.get("/admin/subjects/subject/")  # warm caches (content types)
    # session, user, permissions (2), the studies the user administers (the definition admin's
    # sidebar entries), filter choices (studies, sites), count, total count, page
    with django_assert_num_queries(10):
        client.get("/admin/subjects/subject/")
    for _ in range(8):
        SubjectFactory(site=two_sites.site_a)
    with django_assert_num_queries(10):
        assert client.get("/admin/subjects/subject/").context["cl"].result_count == 9


def test_a_coordinator_adds_a_subject_at_their_site_only(client, two_sites, staff_a):
    client.force_login(staff_a)
    page = client.get("/admin/subjects/subject/add/")
    site_choices = [str(choice[0]) for choice in page.context["adminform"].form.fields["site"].choices]
    assert str(two_sites.site_a.pk) in site_choices
    assert str(two_sites.site_b.pk) not in site_choices
    data = {
        "study": two_sites.study.pk,
        "site": two_sites.site_a.pk,
        "screening_number": "A-500",
        "sex": "M",
        "birth_date": "1960",
        "initials": "",
    }
    assert client.post("/admin/subjects/subject/add/", data).status_code == 302
    created = Subject.objects.get(screening_number="A-500")
    assert created.history.get().history_user == staff_a
    refused = client.post(
        "/admin/subjects/subject/add/", {**data, "screening_number": "B-500", "site": two_sites.site_b.pk}
    )
    assert refused.status_code == 200
    assert "site" in refused.context["adminform"].form.errors
    assert not Subject.objects.filter(screening_number="B-500").exists()


def test_a_monitor_cannot_enter_data_through_the_admin(client, two_sites):
    from django.contrib.auth.models import Permission

    two_sites.monitor.user_permissions.add(*Permission.objects.filter(content_type__app_label="subjects"))
    client.force_login(two_sites.monitor)
    data = {
        "study": two_sites.study.pk,
        "site": two_sites.site_a.pk,
        "screening_number": "A-600",
        "sex": "M",
        "birth_date": "1960",
        "initials": "",
    }
    response = client.post("/admin/subjects/subject/add/", data)
    assert response.status_code == 200
    assert "does not allow" in str(response.context["adminform"].form.non_field_errors())
    assert not Subject.objects.filter(screening_number="A-600").exists()
