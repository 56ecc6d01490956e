"""The admin endpoints page: the same figures as the API, the subjects behind them, the plots; scoped."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from PIL import Image

from tests.outcomes.conftest import enroll

pytestmark = pytest.mark.django_db


def admin_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page(trial) -> str:
    return f"/admin/outcomes/studyendpoints/{trial.study.pk}/change/"


def test_the_page_shows_the_figures_the_subjects_the_rules_and_the_plots(trial, facts):
    response = admin_client(trial.users["monitor"]).get(page(trial))
    assert response.status_code == 200
    html = response.content.decode()
    answer = response.context["answer"]
    assert answer["result"]["orr"]["rate"] == 0.4
    assert "Objective response rate (ORR)" in html and "0.4" in html
    assert "A-001, A-002" in html  # the responders
    assert "registration" in html.lower() and "PDL1" in html
    for kind in ("waterfall", "spider", "swimmer", "km-pfs", "km-os"):
        assert f"/plots/{kind}.svg" in html


def test_the_page_equals_the_api_answer(trial, facts, client_for):
    api = client_for(trial.users["monitor"]).get(f"/api/studies/{trial.study.pk}/endpoints/").json()
    assert admin_client(trial.users["monitor"]).get(page(trial)).context["answer"] == api


def test_a_coordinator_sees_their_sites_subjects_only(trial, facts):
    html = admin_client(trial.users["coordinator_a"]).get(page(trial)).content.decode()
    assert "A-001" in html and "B-001" not in html


def test_another_studys_member_gets_404_and_does_not_see_the_study_listed(trial, facts):
    client = admin_client(trial.users["outsider"])
    assert client.get(page(trial)).status_code == 404
    listing = client.get("/admin/outcomes/studyendpoints/").content.decode()
    assert "END-OTHER" in listing and "END-003" not in listing


def test_the_admin_plot_is_a_png_and_an_unknown_kind_is_404(trial, facts, tmp_path):
    client = admin_client(trial.users["monitor"])
    base = f"/admin/outcomes/studyendpoints/{trial.study.pk}/plots"
    response = client.get(f"{base}/waterfall.png")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    path = tmp_path / "w.png"
    path.write_bytes(response.content)
    assert Image.open(path).size == (800, 500)
    assert client.get(f"{base}/pie.png").status_code == 404
    assert client.get(f"{base}/waterfall.gif").status_code == 404


def test_the_page_has_no_add_change_or_delete(trial, facts):
    client = admin_client(trial.users["superuser"])
    assert client.get("/admin/outcomes/studyendpoints/add/").status_code == 403
    assert client.post(page(trial), {}).status_code == 200  # a POST changes nothing: the same page


def test_the_page_uses_a_fixed_number_of_queries(trial, facts):
    client = admin_client(trial.users["monitor"])

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(page(trial)).status_code == 200
        return len(captured.captured_queries)

    before = count()
    for i in range(5):
        enroll(trial.site_b, f"B-2{i:02d}", dt.date(2025, 4, 1))
    assert count() == before
