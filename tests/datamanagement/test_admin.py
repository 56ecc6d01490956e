"""The query dialogue in the admin: the site answers, the monitor closes or re-opens, each step through
the query services (history and events), what a role may not do is neither offered nor done, and a
query of a site the user does not see answers as one that does not exist."""

from __future__ import annotations

import uuid

import pytest

from edc.datamanagement import services
from edc.datamanagement.models import Query, QueryEvent

pytestmark = pytest.mark.django_db


def raised(world, subject=None):
    return services.query_raise(
        user=world.users["monitor"], record=subject or world.subject_a, field="sex", text="Sex per source?"
    )


def respond(client, query, action, text):
    return client.post(
        f"/admin/datamanagement/query/{query.pk}/respond/",
        {"action": action, "text": text, "base_version": Query.objects.get(pk=query.pk).version},
    )


def test_the_site_answers_and_the_monitor_closes_each_step_kept(world, client):
    query = raised(world)
    client.force_login(world.users["coordinator"])
    page = client.get(f"/admin/datamanagement/query/{query.pk}/respond/").content.decode()
    assert "Sex per source?" in page and 'value="answer"' in page and 'value="close"' not in page
    response = respond(client, query, "answer", "Female per the clinic note")
    assert response.status_code == 302
    query.refresh_from_db()
    assert (query.status, query.answer, query.answered_by) == (
        "answered",
        "Female per the clinic note",
        world.users["coordinator"],
    )

    client.force_login(world.users["monitor"])
    page = client.get(f"/admin/datamanagement/query/{query.pk}/respond/").content.decode()
    assert 'value="close"' in page and 'value="reopen"' in page and 'value="answer"' not in page
    assert respond(client, query, "close", "agreed").status_code == 302
    query.refresh_from_db()
    assert (query.status, query.closed_by, query.close_kind) == ("closed", world.users["monitor"], "manual")
    assert list(QueryEvent.objects.filter(query=query).values_list("action", flat=True)) == [
        "raised",
        "answered",
        "closed",
    ]
    assert query.history.count() == 3  # raised, answered, closed: each with who and why


def test_the_monitor_reopens_with_a_reason_and_the_change_page_shows_the_dialogue(world, client):
    query = raised(world)
    services.query_answer(user=world.users["coordinator"], query=query, answer="checked")
    client.force_login(world.users["monitor"])
    refused = respond(client, query, "reopen", " ")
    assert refused.status_code == 200 and "Say why the query is re-opened." in refused.content.decode()
    assert Query.objects.get(pk=query.pk).status == "answered"
    assert respond(client, query, "reopen", "the note says male").status_code == 302
    assert Query.objects.get(pk=query.pk).status == "open"
    page = client.get(f"/admin/datamanagement/query/{query.pk}/change/").content.decode()
    assert "Re-opened" in page and "the note says male" in page and "/respond/" in page


def test_a_role_may_not_do_what_it_is_not_offered(world, client):
    query = raised(world)
    client.force_login(world.users["coordinator"])
    assert respond(client, query, "close", "done").status_code == 403  # coordinators do not close
    junk = respond(client, query, "delete", "done")
    assert junk.status_code == 200 and "Select a valid choice" in junk.content.decode()
    client.force_login(world.users["sponsor"])
    page = client.get(f"/admin/datamanagement/query/{query.pk}/respond/")
    assert page.status_code == 200 and "<form method" not in page.content.decode()
    assert respond(client, query, "answer", "x").status_code == 403
    assert Query.objects.get(pk=query.pk).status == "open"


def test_an_answer_to_a_query_changed_since_it_was_read_is_refused(world, client):
    query = raised(world)
    client.force_login(world.users["coordinator"])
    stale = Query.objects.get(pk=query.pk).version
    services.query_answer(user=world.users["investigator"], query=query, answer="first")
    services.query_reopen(user=world.users["monitor"], query=Query.objects.get(pk=query.pk), text="again")
    response = client.post(
        f"/admin/datamanagement/query/{query.pk}/respond/",
        {"action": "answer", "text": "second", "base_version": stale},
    )
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    assert Query.objects.get(pk=query.pk).answer == "first"


def test_another_sites_query_answers_as_one_that_does_not_exist(world, client):
    query = raised(world, world.subject_b)
    client.force_login(world.users["coordinator"])
    assert client.get(f"/admin/datamanagement/query/{query.pk}/respond/").status_code == 404
    assert client.get(f"/admin/datamanagement/query/{uuid.uuid4()}/respond/").status_code == 404
    assert respond(client, query, "answer", "x").status_code == 404
    assert Query.objects.get(pk=query.pk).status == "open"


# --- raising a manual query from a record's page --------------------------------------------------


def _raise_url(record):
    return f"/admin/datamanagement/query/raise/{record._meta.label_lower}/{record.pk}/"


def test_a_monitor_raises_a_query_on_a_subjects_field_from_its_page(world, client):
    client.force_login(world.users["monitor"])
    page = client.get(f"/admin/subjects/subject/{world.subject_a.pk}/change/").content.decode()
    assert _raise_url(world.subject_a) in page and "Raise a query" in page
    form = client.get(_raise_url(world.subject_a)).content.decode()
    assert '<option value="sex">Sex</option>' in form and 'value="version"' not in form
    response = client.post(
        _raise_url(world.subject_a), {"field": "sex", "text": "Sex differs from the ID card"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/admin/subjects/subject/{world.subject_a.pk}/change/"
    query = Query.objects.get(record_id=world.subject_a.pk)
    assert (query.field, query.text, query.raised_by, query.status) == (
        "sex",
        "Sex differs from the ID card",
        world.users["monitor"],
        "open",
    )
    assert list(QueryEvent.objects.filter(query=query).values_list("action", flat=True)) == ["raised"]


def test_raising_needs_words_and_the_site_does_not_raise(world, client):
    client.force_login(world.users["data_manager"])
    refused = client.post(_raise_url(world.subject_a), {"field": "", "text": " "})
    assert refused.status_code == 200 and "errorlist" in refused.content.decode()
    client.force_login(world.users["coordinator"])
    page = client.get(f"/admin/subjects/subject/{world.subject_a.pk}/change/").content.decode()
    assert _raise_url(world.subject_a) not in page  # the site answers queries, it does not raise them
    assert client.post(_raise_url(world.subject_a), {"text": "x"}).status_code == 403
    assert not Query.objects.exists()


def test_a_record_the_user_does_not_see_or_that_is_no_record_answers_404(world, client):
    client.force_login(world.users["monitor_b"])
    assert client.get(_raise_url(world.subject_a)).status_code == 404
    assert client.post(_raise_url(world.subject_a), {"text": "x"}).status_code == 404
    assert (
        client.get(f"/admin/datamanagement/query/raise/auth.user/{world.users['monitor'].pk}/").status_code
        == 404
    )
    assert (
        client.get(f"/admin/datamanagement/query/raise/subjects.subject/{uuid.uuid4()}/").status_code == 404
    )
    assert not Query.objects.exists()


@pytest.mark.parametrize("status", ["open", "answered", "closed"])
@pytest.mark.parametrize(
    "who",
    ["coordinator", "investigator", "investigator_b", "monitor", "data_manager", "sponsor", "study_admin"],
)
def test_the_steps_offered_are_exactly_those_the_query_services_accept(world, who, status):
    from django.core.exceptions import PermissionDenied, ValidationError
    from django.db import transaction

    from edc.datamanagement.selectors import QUERY_STEPS, query_steps_allowed

    query = raised(world)
    if status != "open":
        query = services.query_answer(user=world.users["coordinator"], query=query, answer="checked")
    if status == "closed":
        query = services.query_close(user=world.users["monitor"], query=query, text="ok")
    user = world.users[who]
    take = {
        "answer": lambda q: services.query_answer(user=user, query=q, answer="words"),
        "close": lambda q: services.query_close(user=user, query=q, text="words"),
        "reopen": lambda q: services.query_reopen(user=user, query=q, text="words"),
    }
    accepted = []
    for step in QUERY_STEPS:
        try:
            with transaction.atomic():
                take[step](Query.objects.get(pk=query.pk))
                transaction.set_rollback(True)
            accepted.append(step)
        except (PermissionDenied, ValidationError):
            pass
    assert query_steps_allowed(user, Query.objects.get(pk=query.pk)) == accepted
    assert status != "open" or (("answer" in accepted) == (who in ("coordinator", "investigator")))


def test_the_query_changelist_costs_a_fixed_number_of_queries(world, client, django_assert_max_num_queries):
    client.force_login(world.users["monitor"])
    raised(world)
    client.get("/admin/datamanagement/query/")
    with django_assert_max_num_queries(12) as few:
        assert "Sex per source?" in client.get("/admin/datamanagement/query/").content.decode()
    for subject in (world.subject_a, world.subject_b) * 3:
        services.query_raise(
            user=world.users["data_manager"], record=subject, field="initials", text="Initials?"
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get("/admin/datamanagement/query/").content.decode()
    assert page.count("/respond/") == 7  # each query links to its dialogue page
