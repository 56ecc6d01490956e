"""The CTCAE dictionary in the admin: read-only, searchable, a fixed number of queries per page."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def loaded(ctcae_terms):
    """The terms load_ctcae stored (tests/safety/conftest.py): the admin lists the same rows."""


def test_terms_are_searchable_by_term_and_code(admin_client, loaded):
    page = admin_client.get("/admin/safety/ctcaeterm/?q=Neutrophil+count").context["cl"]
    assert [t.term for t in page.result_list] == ["Neutrophil count decreased"]
    assert "1, 2, 3, 4" in admin_client.get("/admin/safety/ctcaeterm/?q=Neutrophil+count").content.decode()


def test_the_dictionary_cannot_be_edited_or_deleted_in_the_admin(admin_client, loaded):
    from edc.safety.models import CtcaeTerm

    term = CtcaeTerm.objects.get(term="Anemia")
    assert admin_client.get("/admin/safety/ctcaeterm/add/").status_code == 403
    assert admin_client.get(f"/admin/safety/ctcaeterm/{term.pk}/delete/").status_code == 403
    assert admin_client.post(f"/admin/safety/ctcaeterm/{term.pk}/change/", {"term": "X"}).status_code == 403


def test_the_term_changelist_costs_the_same_queries_on_every_page(
    admin_client, loaded, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    admin_client.get("/admin/safety/ctcaeterm/")
    with CaptureQueriesContext(connection) as ctx:
        admin_client.get("/admin/safety/ctcaeterm/")
    # 100 rows on page 1, 37 on page 9: the count does not grow with the rows shown.
    with django_assert_num_queries(len(ctx.captured_queries)):
        admin_client.get("/admin/safety/ctcaeterm/?p=9")
    assert len(ctx.captured_queries) <= 8
