"""The study plots: rendered from the same rows as the endpoints, PNG and SVG, scoped, fixed queries."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image

from edc.outcomes import selectors
from tests.outcomes.conftest import enroll

pytestmark = pytest.mark.django_db
KINDS = selectors.PLOT_KINDS


def get(client, path: str):
    return client.get(path)


def not_blank(png: bytes) -> int:
    image = Image.open(io.BytesIO(png)).convert("RGB")
    return len({colour for _, colour in image.getcolors(maxcolors=1_000_000)})


@pytest.mark.parametrize("kind", KINDS)
def test_each_plot_is_a_png_of_the_expected_size_that_is_not_blank(trial, facts, client_for, kind):
    response = client_for(trial.users["monitor"]).get(f"/api/studies/{trial.study.pk}/plots/{kind}.png")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Cache-Control"] == "private, no-store"
    image = Image.open(io.BytesIO(response.content))
    assert image.format == "PNG"
    assert image.size == ((800, 600) if kind.startswith("km") else (800, 500))
    assert not_blank(response.content) > 20  # axes, bars or curves, labels: far more than a blank page


@pytest.mark.parametrize("kind", KINDS)
def test_each_plot_is_also_an_svg(trial, facts, client_for, kind):
    response = client_for(trial.users["monitor"]).get(f"/api/studies/{trial.study.pk}/plots/{kind}.svg")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert response.content.lstrip().startswith(b"<?xml") and b"<svg" in response.content


def test_the_plots_draw_the_subjects_the_user_may_see(trial, facts, client_for):
    def svg(user, kind):
        return client_for(user).get(f"/api/studies/{trial.study.pk}/plots/{kind}.svg").content.decode()

    for kind in ("waterfall", "swimmer"):
        everyone = svg(trial.users["monitor"], kind)
        assert "A-001" in everyone and "B-001" in everyone
        site_a = svg(trial.users["coordinator_a"], kind)
        assert "A-001" in site_a and "B-001" not in site_a


def test_the_waterfall_draws_each_counted_subject_with_a_best_change(trial, facts):
    built = selectors.study_endpoints_case(trial.study)
    svg = selectors.study_plot(built, "waterfall", "svg").decode()
    for sid in ("A-001", "A-002", "A-003", "B-001"):
        assert sid in svg
    assert "B-002" not in svg  # no measurement: no bar


def test_the_km_plot_shows_the_numbers_at_risk(trial, facts):
    svg = selectors.study_plot(selectors.study_endpoints_case(trial.study), "km-os", "svg").decode()
    assert "Number at risk" in svg and "All subjects (n=5)" in svg


def test_an_unknown_kind_is_404_and_so_is_another_study(trial, facts, client_for):
    client = client_for(trial.users["monitor"])
    response = client.get(f"/api/studies/{trial.study.pk}/plots/pie.png")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert client.get(f"/api/studies/{trial.study.pk}/plots/waterfall.gif").status_code == 404
    outsider = client_for(trial.users["outsider"])
    assert outsider.get(f"/api/studies/{trial.study.pk}/plots/waterfall.png").status_code == 404


def test_an_error_answers_json_whatever_the_accept_header(trial, facts, client_for):
    client = client_for(trial.users["monitor"])
    response = client.get(f"/api/studies/{trial.study.pk}/plots/pie.png", HTTP_ACCEPT="image/png")
    assert response.status_code == 404 and response["Content-Type"] == "application/json"


def test_a_study_without_subjects_draws_no_data_panels(trial, client_for):
    client = client_for(trial.users["outsider"])
    for kind in KINDS:
        response = client.get(f"/api/studies/{trial.other.pk}/plots/{kind}.svg")
        assert response.status_code == 200 and b"No data" in response.content


@pytest.mark.parametrize("kind", KINDS)
def test_each_plot_uses_a_fixed_number_of_queries(trial, facts, client_for, kind):
    client = client_for(trial.users["monitor"])
    path = f"/api/studies/{trial.study.pk}/plots/{kind}.png"

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(path).status_code == 200
        return len(captured.captured_queries)

    before = count()
    for i in range(5):
        enroll(trial.site_a, f"A-1{i:02d}", dt.date(2025, 4, 1))
    assert count() == before
