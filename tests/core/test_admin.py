"""The admin door: the same services as the API, roles for permissions, reasons, versions, history."""

import pytest
from django.utils import timezone

from edc.core.models import Role
from edc.core.services import ChangeReason, record_lock
from edc.subjects import services
from edc.subjects.models import Subject
from tests.factories import MembershipFactory, SiteFactory, SubjectFactory, UserFactory

pytestmark = pytest.mark.django_db


def _change_url(subject):
    return f"/admin/subjects/subject/{subject.pk}/change/"


def _form(subject, **overrides):
    data = {
        "site": subject.site_id,
        "initials": subject.initials,
        "sex": subject.sex,
        "birth_date": str(subject.birth_date),
        "change_reason_code": "",
        "change_reason": "",
        "base_version": subject.version,
    }
    data.update(overrides)
    return data


def _errors(response):
    form = response.context["adminform"].form
    return {field: " ".join(messages) for field, messages in form.errors.items()}


def _fresh(subject):
    return Subject.objects.get(pk=subject.pk)


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
    assert "reason for change is required" in _errors(response)["change_reason"]
    assert response.context["adminform"].form["initials"].value() == "ZZ"  # the input is kept
    assert _fresh(subject).initials == ""
    assert subject.history.count() == 1


def test_a_reason_code_without_words_is_refused_as_in_the_api(client, two_sites):
    # The admin took a code alone where the API asks for the explanation.
    subject = SubjectFactory(site=two_sites.site_a)
    client.force_login(two_sites.superuser)
    response = client.post(
        _change_url(subject), _form(subject, initials="ZZ", change_reason_code="transcription_error")
    )
    assert response.status_code == 200
    assert "change_reason" in _errors(response)
    assert _fresh(subject).initials == ""


def test_change_with_a_reason_is_saved_with_its_history_row(client, two_sites):
    subject = SubjectFactory(site=two_sites.site_a)
    client.force_login(two_sites.user_a)
    response = client.post(
        _change_url(subject),
        _form(subject, initials="ZZ", change_reason_code="transcription_error", change_reason="typed wrong"),
    )
    assert response.status_code == 302
    stored = _fresh(subject)
    newest = stored.history.order_by("-history_date").first()
    assert (stored.initials, stored.version) == ("ZZ", 2)
    assert newest.history_user == two_sites.user_a
    assert newest.history_reason_code == "transcription_error"
    assert newest.history_change_reason == "typed wrong"


def test_a_stale_form_is_refused_with_a_clear_message_and_the_first_change_survives(client, two_sites):
    subject = SubjectFactory(site=two_sites.site_a)
    stale = _form(subject, initials="XX", change_reason="my correction")  # the page as user A read it
    services.subject_update(
        user=two_sites.superuser,
        subject=_fresh(subject),
        initials="AB",
        reason=ChangeReason("other", "the other user's correction"),
    )
    client.force_login(two_sites.user_a)
    response = client.post(_change_url(subject), stale)
    assert response.status_code == 200
    assert "changed by someone else" in _errors(response)["__all__"]
    stored = _fresh(subject)
    assert (stored.initials, stored.version, stored.history.count()) == ("AB", 2, 2)


def test_a_locked_record_shows_a_form_error_and_stays_unchanged(client, two_sites):
    subject = record_lock(SubjectFactory(site=two_sites.site_a), user=two_sites.superuser)
    client.force_login(two_sites.superuser)
    response = client.post(
        _change_url(subject), _form(subject, initials="ZZ", change_reason_code="other", change_reason="x")
    )
    assert response.status_code == 200
    assert "locked" in _errors(response)["__all__"]
    assert _fresh(subject).initials == ""


def test_void_from_the_change_form_needs_a_reason_and_keeps_the_record(client, two_sites):
    subject = SubjectFactory(site=two_sites.site_a)
    client.force_login(two_sites.superuser)
    response = client.post(_change_url(subject), _form(subject, void_record="on", change_reason_code="other"))
    assert response.status_code == 200
    assert _fresh(subject).voided_at is None
    response = client.post(
        _change_url(subject),
        _form(subject, void_record="on", change_reason_code="other", change_reason="duplicate"),
    )
    assert response.status_code == 302
    assert _fresh(subject).voided_at is not None
    assert client.get("/admin/subjects/subject/").context["cl"].result_count == 0
    assert client.get("/admin/subjects/subject/?voided=voided").context["cl"].result_count == 1


def test_there_is_no_delete_in_the_admin(client, two_sites):
    subject = SubjectFactory(site=two_sites.site_a)
    client.force_login(two_sites.superuser)
    assert client.get(f"/admin/subjects/subject/{subject.pk}/delete/").status_code == 403
    assert Subject.objects.filter(pk=subject.pk).exists()


def test_changelist_is_scoped_to_the_users_sites(client, two_sites):
    SubjectFactory(site=two_sites.site_a, screening_number="A-777")
    hidden = SubjectFactory(site=two_sites.site_b, screening_number="B-888")
    client.force_login(two_sites.user_a)
    listed = [s.screening_number for s in client.get("/admin/subjects/subject/").context["cl"].result_list]
    assert listed == ["A-777"]
    assert client.get(_change_url(hidden)).status_code == 302  # admin redirects a hidden object away


def test_subject_changelist_costs_a_fixed_number_of_queries(client, two_sites, django_assert_num_queries):
    client.force_login(two_sites.user_a)
    SubjectFactory(site=two_sites.site_a)
    client.get("/admin/subjects/subject/")  # warm caches (content types)
    # session, user, the user's memberships (once per request: roles for the menu, administered
    # studies for the definition admin's entries), Django permissions (2: the menu entries of apps on
    # model permissions), filter choices (studies, sites), count, total count, page
    with django_assert_num_queries(10):
        client.get("/admin/subjects/subject/")
    for _ in range(8):
        SubjectFactory(site=two_sites.site_a)
    with django_assert_num_queries(10):
        assert client.get("/admin/subjects/subject/").context["cl"].result_count == 9


def test_a_coordinator_adds_a_subject_at_their_site_only(client, two_sites):
    client.force_login(two_sites.user_a)
    page = client.get("/admin/subjects/subject/add/")
    site_choices = [str(choice[0]) for choice in page.context["adminform"].form.fields["site"].choices]
    assert str(two_sites.site_a.pk) in site_choices
    assert str(two_sites.site_b.pk) not in site_choices
    data = {
        "study": two_sites.study.pk,
        "site": two_sites.site_a.pk,
        "sex": "M",
        "birth_date": "1960",
        "initials": "",
    }
    assert client.post("/admin/subjects/subject/add/", data).status_code == 302
    created = Subject.objects.get()  # the screening number is drawn by the service
    assert created.history.get().history_user == two_sites.user_a
    refused = client.post("/admin/subjects/subject/add/", {**data, "site": two_sites.site_b.pk})
    assert refused.status_code == 200
    assert "site" in _errors(refused)
    assert Subject.objects.count() == 1


def test_a_service_refusal_on_add_is_shown_on_the_form_with_the_input_kept(client, two_sites):
    SubjectFactory(site=two_sites.site_a, screening_number="A-1")
    client.force_login(two_sites.user_a)
    data = {"study": two_sites.study.pk, "site": two_sites.site_a.pk, "sex": "M", "initials": "QZ"}
    response = client.post("/admin/subjects/subject/add/", {**data, "birth_date": "1850"})
    assert response.status_code == 200
    assert "1900" in _errors(response)["birth_date"]
    assert response.context["adminform"].form["initials"].value() == "QZ"
    assert Subject.objects.count() == 1


@pytest.mark.parametrize("birth_date", ["١٩٦١", "１９６１", "1800", "2999"])
def test_the_admin_refuses_implausible_and_non_ascii_birth_dates(client, two_sites, birth_date):
    subject = SubjectFactory(site=two_sites.site_a)
    client.force_login(two_sites.user_a)
    response = client.post(
        _change_url(subject), _form(subject, birth_date=birth_date, change_reason="source seen")
    )
    assert response.status_code == 200
    assert "birth_date" in _errors(response)
    assert str(_fresh(subject).birth_date) == "1961-05"


@pytest.mark.parametrize("role", [Role.MONITOR, Role.DATA_MANAGER, Role.SPONSOR_VIEWER])
def test_readers_see_records_in_the_admin_but_cannot_add_or_change_them(client, two_sites, role):
    reader = UserFactory(username=f"reader_{role}")
    MembershipFactory(user=reader, study=two_sites.study, site=None, role=role)
    subject = SubjectFactory(site=two_sites.site_a)
    client.force_login(reader)
    assert client.get("/admin/subjects/subject/").context["cl"].result_count == 1
    page = client.get(_change_url(subject))
    assert page.status_code == 200
    assert b'name="initials"' not in page.content  # a view-only page
    assert client.get("/admin/subjects/subject/add/").status_code == 403
    assert (
        client.post(_change_url(subject), _form(subject, initials="ZZ", change_reason="x")).status_code == 403
    )
    assert _fresh(subject).initials == ""


def test_a_reader_of_site_b_cannot_move_its_subject_to_their_own_site(client, two_sites):
    # The admin checked the new site only; the service needs write rights at both sites.
    user = UserFactory(username="writes_a_reads_b")
    MembershipFactory(user=user, study=two_sites.study, site=two_sites.site_a, role=Role.SITE_COORDINATOR)
    MembershipFactory(user=user, study=two_sites.study, site=two_sites.site_b, role=Role.MONITOR)
    subject = SubjectFactory(site=two_sites.site_b)
    client.force_login(user)
    response = client.post(
        _change_url(subject), _form(subject, site=two_sites.site_a.pk, change_reason="moved")
    )
    assert response.status_code == 403
    assert _fresh(subject).site == two_sites.site_b


def test_the_admin_moves_a_subject_through_the_service(client, two_sites):
    investigator = UserFactory(username="all_sites_investigator")
    MembershipFactory(user=investigator, study=two_sites.study, site=None, role=Role.INVESTIGATOR)
    subject = SubjectFactory(site=two_sites.site_b)
    client.force_login(investigator)
    response = client.post(
        _change_url(subject), _form(subject, site=two_sites.site_a.pk, change_reason="patient moved")
    )
    assert response.status_code == 302
    stored = _fresh(subject)
    assert (stored.site, stored.version) == (two_sites.site_a, 2)
    assert stored.history.first().history_user == investigator


def test_the_study_and_screening_number_are_read_only_on_an_existing_subject(client, two_sites):
    subject = SubjectFactory(site=two_sites.site_a, screening_number="A-9")
    other = SiteFactory(code="Z")
    client.force_login(two_sites.superuser)
    response = client.post(
        _change_url(subject),
        _form(subject, study=other.study_id, screening_number="A-10", initials="QQ", change_reason="typo"),
    )
    assert response.status_code == 302
    stored = _fresh(subject)
    assert (stored.study_id, stored.screening_number, stored.initials) == (two_sites.study.pk, "A-9", "QQ")


# --- history pages ---------------------------------------------------------------------------------


def _history(subject):
    return f"/admin/subjects/subject/{subject.pk}/history/"


def _version(subject, history_id=None):
    history_id = history_id or subject.history.first().history_id
    return f"/admin/subjects/subject/{subject.pk}/history/{history_id}/"


def test_a_user_reads_the_history_pages_of_their_records(client, two_sites):
    subject = SubjectFactory(site=two_sites.site_a)
    client.force_login(two_sites.user_a)
    assert client.get(_history(subject)).status_code == 200
    page = client.get(_version(subject))
    assert page.status_code == 200
    assert b'name="initials"' not in page.content  # read-only: values shown, no inputs
    assert b'name="_save"' not in page.content


def test_history_pages_of_another_sites_or_studys_record_are_not_found(client, two_sites):
    other_study = SubjectFactory(site=SiteFactory(code="Z"))
    site_b = SubjectFactory(site=two_sites.site_b)
    client.force_login(two_sites.user_a)
    for hidden in (site_b, other_study):
        assert client.get(_history(hidden)).status_code == 404
        assert client.get(_version(hidden)).status_code == 404


def test_a_post_to_a_history_version_page_is_refused_and_changes_nothing(client, two_sites):
    # POSTing the version form saved it: a site-B subject was moved into site A this way.
    subject = SubjectFactory(site=two_sites.site_b)
    client.force_login(two_sites.superuser)
    response = client.post(_version(subject), _form(subject, site=two_sites.site_a.pk, change_reason="x"))
    assert response.status_code == 405
    assert _fresh(subject).site == two_sites.site_b
    assert subject.history.count() == 1


@pytest.mark.parametrize(
    "path",
    [
        "not-a-uuid/history/",
        "not-a-uuid/history/1/",
        "{pk}/history/abc/",
        "{pk}/history/99999999999999999999/",
        "{pk}/history/%D9%A1/",  # an Arabic-Indic digit one
        "{pk}/history/999999/",
    ],
)
def test_malformed_or_unknown_ids_in_history_urls_are_not_found(client, two_sites, path):
    subject = SubjectFactory(site=two_sites.site_a)
    client.force_login(two_sites.superuser)
    assert client.get("/admin/subjects/subject/" + path.format(pk=subject.pk)).status_code == 404


@pytest.mark.parametrize(
    "query", ["?status=%00", "?q=A%00", "?site__id__exact=%00", "?voided=%00", "?%00=1", "?o=%00"]
)
def test_a_nul_in_an_admin_filter_or_search_answers_400(client, two_sites, query):
    SubjectFactory(site=two_sites.site_a)
    client.force_login(two_sites.superuser)
    assert client.get("/admin/subjects/subject/" + query).status_code == 400


def test_after_a_move_the_new_site_reads_history_only_from_the_move(client, two_sites):
    subject = SubjectFactory(site=two_sites.site_b, initials="BB")
    mover = UserFactory(username="mover", is_superuser=True)
    services.subject_update(
        user=mover, subject=_fresh(subject), initials="BC", reason=ChangeReason("other", "b")
    )
    services.subject_update(
        user=mover, subject=_fresh(subject), site=two_sites.site_a, reason=ChangeReason("other", "moved")
    )
    client.force_login(two_sites.user_a)
    page = client.get(_history(subject))
    assert page.status_code == 200
    shown = [row.history_change_reason for row in page.context["page_obj"].object_list]
    assert shown == ["moved"]


# --- memberships -----------------------------------------------------------------------------------


@pytest.fixture
def study_admin(two_sites):
    user = UserFactory(username="study_admin")
    MembershipFactory(user=user, study=two_sites.study, site=None, role=Role.ADMIN)
    return user


def test_a_site_coordinator_cannot_see_or_grant_memberships(client, two_sites):
    from django.contrib.auth.models import Permission

    two_sites.user_a.user_permissions.add(*Permission.objects.filter(content_type__app_label="core"))
    client.force_login(two_sites.user_a)
    assert client.get("/admin/core/membership/").status_code == 403
    response = client.post(
        "/admin/core/membership/add/",
        {
            "user": two_sites.user_a.pk,
            "study": SiteFactory(code="Z").study_id,
            "role": "admin",
            "is_active": "on",
        },
    )
    assert response.status_code == 403
    assert two_sites.user_a.memberships.count() == 1


def test_a_study_administrator_manages_only_their_studys_memberships(client, two_sites, study_admin):
    other = SiteFactory(code="Z")
    MembershipFactory(user=UserFactory(username="elsewhere"), study=other.study, site=other)
    client.force_login(study_admin)
    listed = client.get("/admin/core/membership/").context["cl"].result_list
    assert {m.study_id for m in listed} == {two_sites.study.pk}
    # They cannot grant themselves (or anyone) a role in a study they do not administer.
    response = client.post(
        "/admin/core/membership/add/",
        {"user": study_admin.pk, "study": other.study_id, "role": "admin", "is_active": "on"},
    )
    assert response.status_code == 200
    assert "study" in _errors(response)
    assert not study_admin.memberships.filter(study=other.study).exists()
    newcomer = UserFactory(username="newcomer")
    response = client.post(
        "/admin/core/membership/add/",
        {
            "user": newcomer.pk,
            "study": two_sites.study.pk,
            "site": two_sites.site_b.pk,
            "role": "investigator",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    granted = newcomer.memberships.get()
    assert (granted.site, granted.role, granted.history.get().history_user) == (
        two_sites.site_b,
        "investigator",
        study_admin,
    )


def test_memberships_are_ended_not_deleted(client, two_sites, study_admin):
    membership = two_sites.user_a.memberships.get()
    client.force_login(study_admin)
    url = f"/admin/core/membership/{membership.pk}/change/"
    assert client.get(f"/admin/core/membership/{membership.pk}/delete/").status_code == 403
    response = client.post(url, {"site": two_sites.site_a.pk, "role": "site_coordinator"})  # is_active off
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.is_active is False
    assert membership.history.count() == 2


def test_a_data_manager_covers_every_site(client, two_sites, study_admin):
    client.force_login(study_admin)
    response = client.post(
        "/admin/core/membership/add/",
        {
            "user": UserFactory(username="dm").pk,
            "study": two_sites.study.pk,
            "site": two_sites.site_a.pk,
            "role": "data_manager",
            "is_active": "on",
        },
    )
    assert response.status_code == 200
    assert "every site" in _errors(response)["site"]


def test_membership_history_pages_are_scoped_and_read_only(client, two_sites, study_admin):
    other = SiteFactory(code="Z")
    hidden = MembershipFactory(user=UserFactory(username="elsewhere"), study=other.study, site=other)
    mine = two_sites.user_a.memberships.get()
    client.force_login(study_admin)
    assert client.get(f"/admin/core/membership/{mine.pk}/history/").status_code == 200
    assert client.get(f"/admin/core/membership/{hidden.pk}/history/").status_code == 404
    version = mine.history.first().history_id
    url = f"/admin/core/membership/{mine.pk}/history/{version}/"
    assert client.get(url).status_code == 200
    assert client.post(url, {"role": "admin"}).status_code == 405
    assert (
        client.get(
            f"/admin/core/membership/{hidden.pk}/history/{hidden.history.first().history_id}/"
        ).status_code
        == 404
    )
    assert client.get("/admin/core/membership/abc/history/").status_code == 404


def test_the_membership_changelist_costs_a_fixed_number_of_queries(
    client, two_sites, study_admin, django_assert_num_queries
):
    client.force_login(study_admin)
    client.get("/admin/core/membership/")
    # session, user, the user's roles, Django permissions (2), study filter choices, count, total
    # count, page
    with django_assert_num_queries(9):
        client.get("/admin/core/membership/")
    for n in range(5):
        MembershipFactory(user=UserFactory(username=f"m{n}"), study=two_sites.study, site=two_sites.site_a)
    with django_assert_num_queries(9):
        assert client.get("/admin/core/membership/").context["cl"].result_count == 9


def test_a_timestamp_is_never_edited_in_the_admin(client, two_sites):
    subject = SubjectFactory(site=two_sites.site_a)
    client.force_login(two_sites.superuser)
    client.post(
        _change_url(subject),
        _form(subject, voided_at=timezone.now().isoformat(), initials="Q", change_reason="x"),
    )
    assert _fresh(subject).voided_at is None
