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
