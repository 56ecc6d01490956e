"""Who sees and changes trial definitions in the admin (issue 15: the definition admin was unscoped).

A user sees their own studies' definitions; a study administrator of that study or a superuser
changes them, with a reason the history keeps; nobody changes a locked study or deletes a definition.
"""

from __future__ import annotations

import io
import json

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.utils import timezone

from edc.core.models import Role
from studies.models import FormDefinition, Study, VisitDefinition
from tests.factories import MembershipFactory, UserFactory
from tests.studies.conftest import study_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_studies(loaded, write_yaml):
    """SYN-001 (loaded) and SYN-002, a copy of it."""
    data = study_data()
    data["study"]["protocol_id"] = "SYN-002"
    data["study"]["registry_id"] = "NCT00000002"
    call_command("load_studies", str(write_yaml("second.yaml", data)), stdout=io.StringIO())
    return Study.objects.get(protocol_id="SYN-001"), Study.objects.get(protocol_id="SYN-002")


def staff(username: str, study: Study | None = None, role: str = Role.SITE_COORDINATOR, perms: bool = True):
    user = UserFactory(username=username, is_staff=True)
    if perms:
        # Even with every model permission on the definitions, scoping and roles decide.
        user.user_permissions.set(Permission.objects.filter(content_type__app_label="studies"))
    if study is not None:
        MembershipFactory(user=user, study=study, site=None, role=role)
    return user


def visit_of(study: Study, code: str = "IMG6W") -> VisitDefinition:
    return VisitDefinition.objects.get(study=study, code=code)


def change_form(client, visit: VisitDefinition, **changes):
    """The visit's change form as the page posts it, with some fields changed."""
    page = client.get(f"/admin/studies/visitdefinition/{visit.pk}/change/")
    form = page.context["adminform"].form
    data = {}
    for name, bound in form.fields.items():
        value = form.initial.get(name, bound.initial)
        if name == "forms":
            data[name] = [f.pk for f in visit.forms.all()]
        elif value is None:
            data[name] = ""
        elif isinstance(value, bool):
            if value:
                data[name] = "on"
        elif isinstance(value, dict | list):
            data[name] = json.dumps(value)
        else:
            data[name] = value
    data.update(changes)
    return data


def test_a_site_coordinator_lists_only_their_own_study_s_definitions(client, two_studies):
    one, two = two_studies
    client.force_login(staff("coord", one))
    page = client.get("/admin/studies/visitdefinition/")
    shown = {obj.study.protocol_id for obj in page.context["cl"].result_list}
    assert shown == {"SYN-001"}
    assert client.get(f"/admin/studies/visitdefinition/{visit_of(two).pk}/change/").status_code == 302
    assert client.get(f"/admin/studies/study/{two.pk}/change/").status_code == 302
    assert [s.protocol_id for s in client.get("/admin/studies/study/").context["cl"].result_list] == [
        "SYN-001"
    ]


def test_another_study_s_definition_history_is_not_shown(client, two_studies):
    one, two = two_studies
    client.force_login(staff("coord", one))
    visit = visit_of(two)
    assert client.get(f"/admin/studies/visitdefinition/{visit.pk}/history/").status_code == 404
    version = visit.history.first().history_id
    assert client.get(f"/admin/studies/visitdefinition/{visit.pk}/history/{version}/").status_code == 404


def test_a_site_coordinator_reads_but_cannot_change_or_delete_a_definition(client, two_studies):
    one, _ = two_studies
    client.force_login(staff("coord", one))
    visit = visit_of(one)
    page = client.get(f"/admin/studies/visitdefinition/{visit.pk}/change/")
    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
    response = client.post(f"/admin/studies/visitdefinition/{visit.pk}/change/", {"window_after_days": 9})
    assert response.status_code == 403
    assert (
        client.post(f"/admin/studies/visitdefinition/{visit.pk}/delete/", {"post": "yes"}).status_code == 403
    )
    assert VisitDefinition.objects.filter(pk=visit.pk).exists()
    assert visit_of(one).window_after_days == 3


def test_nobody_deletes_a_definition_not_even_a_superuser(client, two_studies):
    one, _ = two_studies
    client.force_login(UserFactory(username="root", is_superuser=True))
    visit = visit_of(one)
    changelist = client.get("/admin/studies/visitdefinition/")
    assert "delete_selected" not in changelist.content.decode()
    assert (
        client.post(f"/admin/studies/visitdefinition/{visit.pk}/delete/", {"post": "yes"}).status_code == 403
    )
    response = client.post(
        "/admin/studies/visitdefinition/",
        {"action": "delete_selected", "_selected_action": [visit.pk], "post": "yes"},
    )
    assert VisitDefinition.objects.filter(pk=visit.pk).exists()
    assert response.status_code in (200, 302)


def test_a_study_administrator_changes_their_study_with_a_reason_the_history_keeps(client, two_studies):
    one, _ = two_studies
    admin = staff("studyadmin", one, role=Role.ADMIN, perms=False)
    client.force_login(admin)
    visit = visit_of(one)
    response = client.post(
        f"/admin/studies/visitdefinition/{visit.pk}/change/",
        change_form(client, visit, window_after_days=5, change_reason="Amendment 2: imaging window +5 days"),
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    visit.refresh_from_db()
    assert visit.window_after_days == 5
    latest = visit.history.first()
    assert (latest.history_user, latest.history_change_reason) == (
        admin,
        "Amendment 2: imaging window +5 days",
    )


def test_a_change_without_a_reason_is_refused(client, two_studies):
    one, _ = two_studies
    client.force_login(staff("studyadmin", one, role=Role.ADMIN))
    visit = visit_of(one)
    response = client.post(
        f"/admin/studies/visitdefinition/{visit.pk}/change/", change_form(client, visit, window_after_days=5)
    )
    assert response.status_code == 200
    assert "change_reason" in response.context["adminform"].form.errors
    assert visit_of(one).window_after_days == 3


def test_the_admin_refuses_what_the_loader_refuses_with_the_same_words(client, two_studies):
    one, _ = two_studies
    client.force_login(staff("studyadmin", one, role=Role.ADMIN))
    visit = visit_of(one)
    response = client.post(
        f"/admin/studies/visitdefinition/{visit.pk}/change/",
        change_form(client, visit, window_before_days=39, change_reason="try"),
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["window_before_days"]
    assert errors == ["window -39/+3 days is as wide as the 42-day interval: occurrences would overlap"]
    assert visit_of(one).window_before_days == 3


def test_a_study_administrator_cannot_change_another_study_nor_add_one(client, two_studies):
    one, two = two_studies
    client.force_login(staff("studyadmin", one, role=Role.ADMIN))
    assert client.get("/admin/studies/study/add/").status_code == 403
    visit = visit_of(two)
    response = client.post(f"/admin/studies/visitdefinition/{visit.pk}/change/", {"window_after_days": 9})
    assert response.status_code == 302  # the admin's "not found": the object is outside the user's studies
    assert visit_of(two).window_after_days == 3


def test_a_locked_study_refuses_every_change_even_a_superuser_s(client, two_studies):
    one, _ = two_studies
    Study.objects.filter(pk=one.pk).update(locked_at=timezone.now())
    for user in (staff("studyadmin", one, role=Role.ADMIN), UserFactory(username="root", is_superuser=True)):
        client.force_login(user)
        visit = visit_of(one)
        page = client.get(f"/admin/studies/visitdefinition/{visit.pk}/change/")
        assert page.context["has_change_permission"] is False
        response = client.post(f"/admin/studies/visitdefinition/{visit.pk}/change/", {"window_after_days": 9})
        assert response.status_code == 403
    assert visit_of(one).window_after_days == 3


def test_a_past_version_page_never_saves(client, two_studies):
    one, _ = two_studies
    client.force_login(UserFactory(username="root", is_superuser=True))
    visit = visit_of(one)
    version = visit.history.first().history_id
    url = f"/admin/studies/visitdefinition/{visit.pk}/history/{version}/"
    assert client.get(url).status_code == 200
    assert client.post(url, {"window_after_days": 9}).status_code == 403
    assert visit_of(one).window_after_days == 3


def test_only_a_superuser_changes_the_shared_form_registry(client, two_studies):
    one, _ = two_studies
    form = FormDefinition.objects.get(code="VS")
    client.force_login(staff("studyadmin", one, role=Role.ADMIN))
    assert (
        client.get(f"/admin/studies/formdefinition/{form.pk}/change/").context["has_change_permission"]
        is False
    )
    client.force_login(UserFactory(username="root", is_superuser=True))
    assert (
        client.get(f"/admin/studies/formdefinition/{form.pk}/change/").context["has_change_permission"]
        is True
    )


def test_the_study_version_list_is_scoped_and_costs_fixed_queries(
    client, two_studies, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    one, _ = two_studies
    client.force_login(staff("coord", one))
    with CaptureQueriesContext(connection) as ctx:
        page = client.get("/admin/studies/studyversion/")
    assert [v.study.protocol_id for v in page.context["cl"].result_list] == ["SYN-001"]
    # More versions of the user's study cost nothing more.
    from studies.models import StudyVersion

    for n in range(2, 6):
        StudyVersion.objects.create(study=one, number=str(n))
    with django_assert_num_queries(len(ctx.captured_queries)):
        page = client.get("/admin/studies/studyversion/")
    assert len(page.context["cl"].result_list) == 5


@pytest.mark.parametrize("tail", ["history/", "history/1/", "history/x1/"])
@pytest.mark.parametrize("object_id", ["abc", "1%00", "99999999999999999999999"])
def test_a_malformed_id_in_a_definition_history_url_is_not_found(client, two_studies, object_id, tail):
    client.force_login(UserFactory(username="root", is_superuser=True))
    # A NUL anywhere in a path is refused by the middleware before any view (400); the rest is 404.
    expected = 400 if "%00" in object_id else 404
    assert client.get(f"/admin/studies/visitdefinition/{object_id}/{tail}").status_code == expected
