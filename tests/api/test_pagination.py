"""Every list pages by cursor (stable under inserts) and takes updated_since, strictly, in fixed queries."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from edc.core.services import ChangeReason
from edc.subjects import services
from edc.subjects.models import Subject
from studies.models import FormDefinition, Study, VisitDefinition
from tests.factories import StudyFactory, SubjectFactory

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)


def _walk(client, path, **params):
    """Every page from the first, following `next`: the rows' ids in the order served, and the pages."""
    pages = []
    response = client.get(path, params)
    while True:
        assert response.status_code == 200, response.json()
        body = response.json()
        pages.append([row["id"] for row in body["results"]])
        if body["next"] is None:
            return [pk for page in pages for pk in page], pages
        response = client.get(body["next"])


def _subjects(site, n, prefix="S"):
    return [str(SubjectFactory(site=site, screening_number=f"{prefix}-{i:03d}").pk) for i in range(n)]


def test_a_list_page_is_next_previous_and_results_with_no_count(client_for, two_sites):
    _subjects(two_sites.site_a, 3)
    body = client_for(two_sites.user_a).get("/api/subjects/", {"page_size": 2}).json()
    assert set(body) == {"next", "previous", "results"}
    assert len(body["results"]) == 2
    assert body["previous"] is None
    assert "cursor=" in body["next"]


def test_walking_the_next_links_lists_every_row_once_in_the_order_written(client_for, two_sites):
    written = _subjects(two_sites.site_a, 7)
    served, pages = _walk(client_for(two_sites.user_a), "/api/subjects/", page_size=3)
    assert served == written
    assert [len(page) for page in pages] == [3, 3, 1]


def test_rows_inserted_between_two_page_fetches_are_neither_repeated_nor_skipped(client_for, two_sites):
    client = client_for(two_sites.user_a)
    first = _subjects(two_sites.site_a, 5, "OLD")
    page_1 = client.get("/api/subjects/", {"page_size": 2}).json()
    inserted = _subjects(two_sites.site_a, 3, "NEW")  # another site user enters data meanwhile
    served = [row["id"] for row in page_1["results"]]
    rest, _ = _walk(client, page_1["next"].split("testserver")[1].split("?")[0], **_query(page_1["next"]))
    served += rest
    assert served == first + inserted
    assert len(served) == len(set(served))


def test_studies_inserted_between_two_page_fetches_are_neither_repeated_nor_skipped(client_for, two_sites):
    client = client_for(two_sites.superuser)
    for n in range(3):
        StudyFactory(protocol_id=f"P-{n}")
    page_1 = client.get("/api/studies/", {"page_size": 2}).json()
    StudyFactory(protocol_id="A-NEW")  # sorts first by protocol id, last by id: pages follow the id
    rest, _ = _walk(client, "/api/studies/", **_query(page_1["next"]))
    served = [row["protocol_id"] for row in page_1["results"]] + [
        Study.objects.get(pk=pk).protocol_id for pk in rest
    ]
    assert served == list(Study.objects.order_by("id").values_list("protocol_id", flat=True))
    assert served[-1] == "A-NEW"


def _query(url):
    from urllib.parse import parse_qsl, urlsplit

    return dict(parse_qsl(urlsplit(url).query))


def test_a_record_changed_during_the_walk_comes_again_at_the_end_with_its_new_values(client_for, two_sites):
    client = client_for(two_sites.user_a)
    first, _second, third = _subjects(two_sites.site_a, 3)
    page_1 = client.get("/api/subjects/", {"page_size": 2}).json()
    services.subject_update(
        user=two_sites.user_a,
        subject=Subject.objects.get(pk=first),
        initials="NEW",
        reason=ChangeReason("other", "correction"),
    )
    rows = client.get(page_1["next"]).json()["results"]
    assert [row["id"] for row in rows] == [third, first]
    assert rows[1]["initials"] == "NEW"


@pytest.mark.parametrize(
    "cursor",
    [
        "nonsense",
        base64.b64encode(b"p=not-a-time").decode(),
        base64.b64encode(b"o=-1").decode(),
        base64.b64encode(b"p=2026-01-01 00:00:00\x00").decode(),
        base64.b64encode(b"p=99999-01-01").decode(),
        "\u00e9t\u00e9",
    ],
)
def test_a_cursor_that_is_not_one_of_ours_answers_400_naming_it(client_for, two_sites, cursor):
    _subjects(two_sites.site_a, 1)
    response = client_for(two_sites.user_a).get("/api/subjects/", {"cursor": cursor})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["cursor"]


@pytest.mark.parametrize("cursor", ["nonsense", base64.b64encode(b"p=99999999999999999999999").decode()])
def test_a_studies_cursor_that_is_not_one_of_ours_answers_400(client_for, two_sites, cursor):
    response = client_for(two_sites.superuser).get("/api/studies/", {"cursor": cursor})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["cursor"]


@pytest.mark.parametrize("size", ["0", "201", "-1", "two", "1.5", "\u0661"])
def test_a_page_size_outside_1_to_200_answers_400_naming_it(client_for, two_sites, size):
    response = client_for(two_sites.user_a).get("/api/subjects/", {"page_size": size})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["page_size"]


# --- updated_since -----------------------------------------------------------------------------------


def _at(moment, factory):
    with time_machine.travel(moment, tick=False):
        return factory()


def test_updated_since_lists_the_rows_written_at_or_after_the_instant(client_for, two_sites):
    old = _at(T0, lambda: SubjectFactory(site=two_sites.site_a, screening_number="OLD"))
    boundary = _at(
        T0 + dt.timedelta(hours=1), lambda: SubjectFactory(site=two_sites.site_a, screening_number="AT")
    )
    changed = _at(T0, lambda: SubjectFactory(site=two_sites.site_a, screening_number="CHANGED"))
    _at(
        T0 + dt.timedelta(hours=2),
        lambda: services.subject_update(
            user=two_sites.user_a, subject=changed, initials="X", reason=ChangeReason("other", "x")
        ),
    )
    client = client_for(two_sites.user_a)
    listed, _ = _walk(client, "/api/subjects/", updated_since="2026-03-01T09:00:00Z")
    assert listed == [str(boundary.pk), str(changed.pk)]
    # The same instant in another offset; and every row from before.
    assert _walk(client, "/api/subjects/", updated_since="2026-03-01T10:00:00+01:00")[0] == listed
    assert str(old.pk) in _walk(client, "/api/subjects/", updated_since="2026-03-01T07:59:59Z")[0]


def test_updated_since_brings_voided_rows_so_a_sync_client_learns_of_voids(client_for, two_sites):
    kept, voided = _at(
        T0, lambda: (SubjectFactory(site=two_sites.site_a), SubjectFactory(site=two_sites.site_a))
    )
    _at(
        T0 + dt.timedelta(days=1),
        lambda: services.subject_void(
            user=two_sites.user_a, subject=voided, reason=ChangeReason("other", "dup")
        ),
    )
    client = client_for(two_sites.user_a)
    rows = client.get("/api/subjects/", {"updated_since": "2026-03-01T12:00:00Z"}).json()["results"]
    assert [row["id"] for row in rows] == [str(voided.pk)]
    assert rows[0]["void_reason"].endswith("dup")
    assert rows[0]["voided_at"] is not None
    quiet = client.get("/api/subjects/", {"updated_since": "2026-03-01T12:00:00Z", "include_voided": "false"})
    assert quiet.json()["results"] == []
    assert [row["id"] for row in client.get("/api/subjects/").json()["results"]] == [str(kept.pk)]


@pytest.mark.parametrize(
    "since",
    [
        "yesterday",
        "2026-03-01",
        "2026-03-01T08:00:00",  # no offset: which instant?
        "2026-03-01 08:00:00+00:00",
        "2026-13-01T08:00:00Z",
        "2026-03-01T25:00:00Z",
        "9999-12-31T23:59:59-23:59",  # past year 9999 in UTC
        "0001-01-01T00:00:00+01:00",
        "\u0662\u0660\u0662\u0666-03-01T08:00:00Z",
        "",
    ],
)
def test_an_updated_since_that_is_not_a_date_time_with_offset_answers_400_naming_it(
    client_for, two_sites, since
):
    response = client_for(two_sites.user_a).get("/api/subjects/", {"updated_since": since})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["updated_since"]


@pytest.mark.parametrize("value", ["yes", "null", "", "TRUE", "2"])
def test_include_voided_refuses_what_it_cannot_read(client_for, two_sites, value):
    response = client_for(two_sites.user_a).get("/api/subjects/", {"include_voided": value})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["include_voided"]


@pytest.mark.parametrize("value", ["null", "yes", ""])
def test_the_form_filter_active_refuses_what_it_cannot_read(loaded, client_for, two_sites, value):
    # It listed every form for ?active=null (django-filter read it as "no filter"): found by schemathesis.
    response = client_for(two_sites.user_a).get("/api/forms/", {"active": value})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["active"]


def test_the_form_filter_active_reads_true_and_false(loaded, client_for, two_sites):
    retired = FormDefinition.objects.get(code="TU", is_current=True)
    retired.active = False
    retired.save()
    client = client_for(two_sites.user_a)
    codes = {
        value: {f["code"] for f in client.get("/api/forms/", {"active": value}).json()["results"]}
        for value in ("true", "false", "0")
    }
    assert codes == {"true": {"VS", "DM"}, "false": {"TU"}, "0": {"TU"}}


def test_updated_since_lists_a_study_whose_definition_changed(loaded, client_for, superuser):
    study = Study.objects.get(protocol_id="SYN-001")
    untouched = StudyFactory(protocol_id="UNTOUCHED")
    client = client_for(superuser)
    since = "2030-01-01T00:00:00Z"
    assert client.get("/api/studies/", {"updated_since": since}).json()["results"] == []
    with time_machine.travel(dt.datetime(2030, 6, 1, tzinfo=dt.UTC)):
        visit = VisitDefinition.objects.filter(study=study).first()
        visit.window_after_days += 1
        visit.save()  # the definition admin and the loader save so: a history row
    listed = [
        row["protocol_id"] for row in client.get("/api/studies/", {"updated_since": since}).json()["results"]
    ]
    assert listed == ["SYN-001"]
    assert untouched.protocol_id not in listed


def test_updated_since_on_studies_does_not_count_a_site_the_user_is_not_granted(client_for, two_sites):
    with time_machine.travel(dt.datetime(2030, 6, 1, tzinfo=dt.UTC)):
        two_sites.site_b.name = "Renamed"
        two_sites.site_b.save()
    since = {"updated_since": "2030-01-01T00:00:00Z"}
    assert client_for(two_sites.user_a).get("/api/studies/", since).json()["results"] == []
    assert len(client_for(two_sites.user_b).get("/api/studies/", since).json()["results"]) == 1


def test_updated_since_lists_a_form_whose_items_or_codelists_changed(loaded, client_for, superuser):
    client = client_for(superuser)
    since = {"updated_since": "2030-01-01T00:00:00Z"}
    assert client.get("/api/forms/", since).json()["results"] == []
    with time_machine.travel(dt.datetime(2030, 6, 1, tzinfo=dt.UTC)):
        form = FormDefinition.objects.get(code="DM", is_current=True)
        codelist = form.items.exclude(codelist=None).first().codelist
        item = codelist.items.first()
        item.label = "Relabelled"
        item.save()
    assert [f["code"] for f in client.get("/api/forms/", since).json()["results"]] == ["DM"]


# --- query counts --------------------------------------------------------------------------------------


def test_the_subject_list_with_updated_since_costs_one_query(
    client_for, two_sites, django_assert_num_queries
):
    client = client_for(two_sites.user_a)
    _subjects(two_sites.site_a, 2)
    with django_assert_num_queries(1):  # the page and one more row; scoping and the filter are in it
        client.get("/api/subjects/", {"updated_since": "2000-01-01T00:00:00Z"})
    _subjects(two_sites.site_a, 8, "MORE")
    with django_assert_num_queries(1):
        assert (
            len(client.get("/api/subjects/", {"updated_since": "2000-01-01T00:00:00Z"}).json()["results"])
            == 10
        )


@pytest.mark.parametrize("path", ["/api/studies/", "/api/forms/"])
def test_the_definition_lists_with_updated_since_cost_what_they_cost_without(
    loaded, client_for, superuser, django_assert_num_queries, path
):
    client = client_for(superuser)
    with CaptureQueriesContext(connection) as plain:
        client.get(path)
    # The filter is subqueries of the page's query: not one query more.
    with django_assert_num_queries(len(plain.captured_queries)):
        response = client.get(path, {"updated_since": "2000-01-01T00:00:00Z"})
    assert len(response.json()["results"]) == len(client.get(path).json()["results"]) > 0


def test_the_definition_lists_cost_a_fixed_number_of_queries(
    loaded, client_for, superuser, django_assert_num_queries
):
    client = client_for(superuser)
    # The page of studies, then one query per prefetched part: sites, arms, phases, interventions,
    # criteria, visit definitions, their forms, endpoints, the sites the user sees. (11 with numbered
    # pages: their COUNT is gone.)
    with django_assert_num_queries(10):
        client.get("/api/studies/")
    # The page of forms, their items, the items' codelist entries (4 with numbered pages).
    with django_assert_num_queries(3):
        client.get("/api/forms/")
