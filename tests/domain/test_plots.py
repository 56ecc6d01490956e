"""edc/outcomes/plots.py: each renderer draws a real picture from plain data, in PNG and SVG, the same
bytes every time."""

from __future__ import annotations

import functools
import io
import xml.etree.ElementTree as ET

import pytest
from PIL import Image

from edc.outcomes import plots
from edc.outcomes.stats import Observation

RESPONSES = ["CR", "PR", "SD", "NON_CR_NON_PD", "PD", "NE"]
SVG = "{http://www.w3.org/2000/svg}"


def km_groups():
    six_mp = [
        "6",
        "6",
        "6",
        "6+",
        "7",
        "9+",
        "10",
        "10+",
        "11+",
        "13",
        "16",
        "17+",
        "19+",
        "20+",
        "22",
        "23",
        "25+",
        "32+",
        "32+",
        "34+",
        "35+",
    ]
    placebo = [
        "1",
        "1",
        "2",
        "2",
        "3",
        "4",
        "4",
        "5",
        "5",
        "8",
        "8",
        "8",
        "8",
        "11",
        "11",
        "12",
        "12",
        "15",
        "17",
        "22",
        "23",
    ]

    def obs(listing):
        return tuple(Observation(int(x.rstrip("+")), not x.endswith("+")) for x in listing)

    return [plots.SurvivalGroup("6-MP", obs(six_mp)), plots.SurvivalGroup("Placebo", obs(placebo))]


def waterfall_bars():
    changes = [-100, -72.5, -45, -31, -12, 0, 8, 15, 22.4, 48]
    return [
        plots.WaterfallBar(f"S-{i:02d}", change, RESPONSES[i % len(RESPONSES)])
        for i, change in enumerate(changes)
    ]


def spider_lines():
    return [
        plots.SpiderLine(
            f"S-{i:02d}",
            tuple(plots.SpiderPoint(42 * k, (-12 + 7 * i) * k / 2) for k in range(1, 5)),
            RESPONSES[i % len(RESPONSES)],
        )
        for i in range(6)
    ]


def swimmer_lanes():
    return [
        plots.SwimmerLane("S-01", 420, ongoing=True, best_response="CR", response_day=84),
        plots.SwimmerLane("S-02", 250, best_response="PR", response_day=42, progression_day=240),
        plots.SwimmerLane("S-03", 130, best_response="SD", progression_day=126, death_day=200),
        plots.SwimmerLane("S-04", 60, best_response="PD", progression_day=42),
    ]


RENDERERS = {
    "waterfall": lambda fmt: plots.waterfall(waterfall_bars(), fmt=fmt),
    "spider": lambda fmt: plots.spider(spider_lines(), fmt=fmt),
    "swimmer": lambda fmt: plots.swimmer(swimmer_lanes(), fmt=fmt),
    "km": lambda fmt: plots.kaplan_meier_plot(km_groups(), fmt=fmt, title="Remission", x_label="Weeks"),
}


@functools.cache
def rendered(kind: str, fmt: str) -> bytes:
    """One rendering per kind and format for the whole module (rendering is the slow part)."""
    return RENDERERS[kind](fmt)


def distinct_colours(png: bytes) -> int:
    image = Image.open(io.BytesIO(png)).convert("RGB")
    return len({colour for _, colour in image.getcolors(maxcolors=1_000_000)})


@pytest.mark.parametrize("kind", sorted(RENDERERS))
def test_each_plot_renders_a_png_of_the_expected_size_that_is_not_blank(kind):
    png = rendered(kind, "png")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    image = Image.open(io.BytesIO(png))
    assert image.size == ((800, 600) if kind == "km" else (800, 500))
    assert distinct_colours(png) > 20  # bars, lines, text: far more than a blank page's one colour


@pytest.mark.parametrize("kind", sorted(RENDERERS))
def test_each_plot_renders_an_svg_that_parses(kind):
    root = ET.fromstring(rendered(kind, "svg"))
    assert root.tag == f"{SVG}svg"
    assert len(list(root.iter(f"{SVG}path"))) > 10


@pytest.mark.parametrize("kind", sorted(RENDERERS))
@pytest.mark.parametrize("fmt", plots.FORMATS)
def test_the_same_data_give_the_same_bytes(kind, fmt):
    assert RENDERERS[kind](fmt) == rendered(kind, fmt)


def test_the_svg_embeds_no_date():
    svg = rendered("km", "svg").decode()
    assert "<dc:date>" not in svg


def test_the_waterfall_colours_each_bar_by_its_best_response():
    png = plots.waterfall([plots.WaterfallBar("S-1", -60, "CR"), plots.WaterfallBar("S-2", 30, "PD")])
    colours = {c for _, c in Image.open(io.BytesIO(png)).convert("RGB").getcolors(maxcolors=1_000_000)}
    assert (0x00, 0x72, 0xB2) in colours  # CR
    assert (0xD5, 0x5E, 0x00) in colours  # PD
    assert (0xE6, 0x9F, 0x00) not in colours  # no SD bar


def test_the_waterfall_shows_the_partial_response_and_progression_lines():
    svg = plots.waterfall(waterfall_bars(), fmt="svg").decode()
    assert "-30 %" in svg and "+20 %" in svg


def test_the_kaplan_meier_plot_has_the_numbers_at_risk_under_the_axis():
    svg = plots.kaplan_meier_plot(km_groups(), fmt="svg", risk_times=[0, 10, 20, 30]).decode()
    assert "Number at risk" in svg
    # 6-MP at weeks 0, 10, 20, 30: 21, 15, 8, 4 (placebo: 21, 8, 2, 0)
    texts = [t.text for t in ET.fromstring(svg).iter(f"{SVG}text")]
    for count in ("21", "15", "8", "4", "2", "0"):
        assert count in texts


def test_the_swimmer_marks_ongoing_treatment_and_events():
    svg = plots.swimmer(swimmer_lanes(), fmt="svg").decode()
    for label in ("First response", "Progression", "Death", "Ongoing"):
        assert label in svg


@pytest.mark.parametrize("kind", ["waterfall", "spider", "swimmer", "km"])
def test_a_plot_without_data_says_so_instead_of_failing(kind):
    render = {
        "waterfall": plots.waterfall,
        "spider": plots.spider,
        "swimmer": plots.swimmer,
        "km": plots.kaplan_meier_plot,
    }[kind]
    svg = render([], fmt="svg").decode()
    assert "No data" in svg


def test_an_unknown_format_or_response_is_refused():
    with pytest.raises(plots.PlotError, match="format"):
        plots.waterfall(waterfall_bars(), fmt="gif")  # type: ignore[arg-type]
    with pytest.raises(plots.PlotError, match="best response"):
        plots.waterfall([plots.WaterfallBar("S-1", 10, "iCR")])
