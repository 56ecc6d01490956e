"""The admin door for trial definitions: every model registered, pages readable, rules in words."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext

from edc.core.admin_site import site
from studies.admin import compress_days, visit_repeat, visit_window
from studies.models import EligibilityCriterion, Intervention, Study, VisitDefinition
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

DEFINITION_MODELS = [
    "study",
    "site",
    "arm",
    "treatmentphase",
    "intervention",
    "eligibilitycriterion",
    "visitdefinition",
    "endpoint",
    "formdefinition",
    "formitem",
    "codelist",
    "codelistitem",
]


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="root", is_superuser=True))
    return client


@pytest.mark.parametrize("name", DEFINITION_MODELS)
def test_every_definition_model_is_in_the_admin(name):
    assert apps.get_model("studies", name) in site._registry


@pytest.mark.parametrize("name", DEFINITION_MODELS)
def test_every_changelist_opens(loaded, admin_client, name):
    response = admin_client.get(f"/admin/studies/{name}/")
    assert response.status_code == 200


@pytest.mark.parametrize("name", DEFINITION_MODELS)
def test_every_change_page_and_its_history_open(loaded, admin_client, name):
    obj = apps.get_model("studies", name).objects.first()
    assert admin_client.get(f"/admin/studies/{name}/{obj.pk}/change/").status_code == 200
    assert admin_client.get(f"/admin/studies/{name}/{obj.pk}/history/").status_code == 200


def test_the_study_page_shows_its_whole_definition_inline(loaded, admin_client):
    study = Study.objects.get()
    page = admin_client.get(f"/admin/studies/study/{study.pk}/change/").content.decode()
    for text in (
        "Hospital One",
        "Combination",
        "Maintenance",
        "camrelizumab",
        "7.5 mg/kg",
        "1250 mg/m²",
        "Cycle {n} Day 1",
        "IMG6W",
        "-3/+3 d",
        "every 42 d to day 336",
        "Progression-free survival",
    ):
        assert text in page, text


def test_criteria_show_their_rule_in_words(loaded, admin_client):
    study = Study.objects.get()
    page = admin_client.get(f"/admin/studies/study/{study.pk}/change/").content.decode()
    assert "HGB ≥ 100 g/L" in page
    assert "investigator confirms" in page
    changelist = admin_client.get("/admin/studies/eligibilitycriterion/").content.decode()
    assert "HGB ≥ 100 g/L" in changelist


@pytest.mark.parametrize(
    ("name", "query", "present", "absent"),
    [
        ("intervention", "?q=capecitabine", "capecitabine", "bevacizumab"),
        ("intervention", "?q=Carrilizumab", "camrelizumab", "capecitabine"),
        ("intervention", "?dose_basis__exact=per_kg", "bevacizumab", "capecitabine"),
        ("visitdefinition", "?kind__exact=imaging", "IMG6W", "Cycle {n} Day 1"),
        ("eligibilitycriterion", "?kind__exact=exclusion", "Anything the investigator judges", "Age 18-75"),
        ("intervention", "?source=assumption", "capecitabine", "bevacizumab"),
        ("intervention", "?source=protocol", "bevacizumab", "capecitabine"),
        ("formitem", "?q=WEIGHT", "Weight", "Sex"),
        ("study", "?q=NCT00000001", "SYN-001", "nothing-else"),
    ],
)
def test_changelists_filter_and_search(loaded, admin_client, name, query, present, absent):
    page = admin_client.get(f"/admin/studies/{name}/{query}").content.decode()
    assert present in page
    assert absent not in page


@pytest.mark.parametrize(
    "name",
    [
        "study",
        "site",
        "arm",
        "treatmentphase",
        "endpoint",
        "visitdefinition",
        "intervention",
        "eligibilitycriterion",
        "formdefinition",
    ],
)
def test_a_changelist_costs_the_same_queries_for_one_and_two_studies(
    loaded, admin_client, django_assert_num_queries, synthetic_files, write_yaml, name
):
    import io

    import yaml
    from django.core.management import call_command

    with CaptureQueriesContext(connection) as ctx:
        admin_client.get(f"/admin/studies/{name}/")
    data = yaml.safe_load(synthetic_files[1].read_text())
    data["study"]["protocol_id"] = "SYN-002"
    call_command("load_studies", str(write_yaml("second.yaml", data)), stdout=io.StringIO())
    with django_assert_num_queries(len(ctx.captured_queries)):
        admin_client.get(f"/admin/studies/{name}/")


@pytest.mark.parametrize(
    ("days", "text"),
    [
        ([], ""),
        ([1], "1"),
        (list(range(1, 15)), "1-14"),
        ([1, 8, 15], "1, 8, 15"),
        ([1, 2, 3, 8, 9, 15], "1-3, 8-9, 15"),
        (list(range(1, 22)), "1-21"),
    ],
)
def test_dosing_days_read_as_ranges(days, text):
    assert compress_days(days) == text


@pytest.mark.parametrize(
    ("kwargs", "window", "repeat"),
    [
        ({"window_before_days": 28, "window_after_days": 0}, "-28/+0 d", "once"),
        (
            {
                "window_before_days": 3,
                "window_after_days": 3,
                "repeat_interval_days": 42,
                "repeat_until_day": 336,
            },
            "-3/+3 d",
            "every 42 d to day 336",
        ),
        ({"repeat_interval_days": 90, "repeat_count": 4}, "-0/+0 d", "every 90 d, at most 4"),
    ],
)
def test_visit_windows_and_repeats_read_in_words(kwargs, window, repeat):
    visit = VisitDefinition(**kwargs)
    assert visit_window(visit) == window
    assert visit_repeat(visit) == repeat


def test_an_admin_edit_is_kept_in_the_history(loaded, admin_client):
    criterion = EligibilityCriterion.objects.get(kind="inclusion", number="1")
    before = criterion.history.count()
    criterion.text = "Age 18-70."
    criterion.save()
    assert criterion.history.count() == before + 1
    assert Intervention.history.filter(code="CAP").exists()
