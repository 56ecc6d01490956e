"""The plots oncologists read, as pure renderers: plain data in (frozen dataclasses), PNG or SVG bytes out.

- ``waterfall``: best % change in the sum of diameters per subject, coloured by best response, with
  the -30 % (partial response) and +20 % (progression) lines;
- ``spider``: % change from baseline over time, one line per subject;
- ``swimmer``: time on treatment per subject, with response and progression markers and an arrow for
  treatment still ongoing;
- ``kaplan_meier_plot``: Kaplan-Meier curves (PFS or OS) with censoring marks, the pointwise interval
  and the numbers at risk under the axis.

No Django, no database: a selector fetches what a study's plot needs and hands these dataclasses over.
matplotlib draws on its Agg canvas (no display, no pyplot state); the output is deterministic: the SVG
embeds no date and its ids come from a fixed salt, the PNG no software stamp, and the fonts are the
DejaVu fonts matplotlib ships. Titles and labels are arguments (English by default) so that a door can
pass translated text.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any, Final, Literal

import matplotlib
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from edc.outcomes.stats import Observation, kaplan_meier

Format = Literal["png", "svg"]
FORMATS: Final = ("png", "svg")

# Okabe-Ito colours (readable with colour-vision deficiencies), one per best overall response.
RESPONSE_COLOURS: Final = {
    "CR": "#0072B2",
    "PR": "#56B4E9",
    "SD": "#E69F00",
    "NON_CR_NON_PD": "#F0E442",
    "PD": "#D55E00",
    "NE": "#999999",
}
RESPONSE_LABELS: Final = {
    "CR": "CR",
    "PR": "PR",
    "SD": "SD",
    "NON_CR_NON_PD": "Non-CR/non-PD",
    "PD": "PD",
    "NE": "NE",
}
GROUP_COLOURS: Final = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")
PR_THRESHOLD: Final = -30
PD_THRESHOLD: Final = 20

_RC: Final[dict[Any, Any]] = {
    "svg.hashsalt": "edc-outcomes-plots",
    "svg.fonttype": "none",
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


class PlotError(ValueError):
    """A plot cannot be drawn from the data given (an unknown format or response)."""


# --- inputs -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WaterfallBar:
    subject_id: str
    best_pct_change: float | Decimal
    best_response: str


@dataclass(frozen=True)
class SpiderPoint:
    day: int
    pct_change: float | Decimal


@dataclass(frozen=True)
class SpiderLine:
    subject_id: str
    points: tuple[SpiderPoint, ...]
    best_response: str


@dataclass(frozen=True)
class SwimmerLane:
    """One subject's lane: days on treatment from its anchor, and the days of its events."""

    subject_id: str
    days_on_treatment: int
    ongoing: bool = False
    best_response: str = "NE"
    response_day: int | None = None
    progression_day: int | None = None
    death_day: int | None = None


@dataclass(frozen=True)
class SurvivalGroup:
    """One curve of a Kaplan-Meier plot: a label (an arm, a subgroup, "All") and its observations."""

    label: str
    observations: tuple[Observation, ...]


# --- helpers ----------------------------------------------------------------------------------------


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise PlotError(f"unknown format {fmt!r}: one of {', '.join(FORMATS)}")


def _colour(response: str) -> str:
    if response not in RESPONSE_COLOURS:
        raise PlotError(f"unknown best response {response!r}: one of {', '.join(RESPONSE_COLOURS)}")
    return RESPONSE_COLOURS[response]


def _figure(size: tuple[float, float]) -> Figure:
    figure = Figure(figsize=size, dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _render(figure: Figure, fmt: Format) -> bytes:
    buffer = io.BytesIO()
    metadata = {"Date": None} if fmt == "svg" else {"Software": None}
    figure.savefig(buffer, format=fmt, metadata=metadata)
    return buffer.getvalue()


def _no_data(figure: Figure, title: str) -> None:
    axes = figure.add_subplot()
    axes.set_title(title)
    axes.text(0.5, 0.5, "No data", ha="center", va="center", transform=axes.transAxes, color="#555555")
    axes.set_axis_off()


def _response_legend(axes: Axes, responses: Sequence[str]) -> None:
    shown = [r for r in RESPONSE_COLOURS if r in set(responses)]
    handles = [Patch(color=RESPONSE_COLOURS[r], label=RESPONSE_LABELS[r]) for r in shown]
    axes.legend(
        handles=handles, title="Best response", loc="upper left", bbox_to_anchor=(1.06, 1), frameon=False
    )


def _threshold_lines(axes: Axes) -> None:
    for value, label in ((PD_THRESHOLD, "+20 %"), (PR_THRESHOLD, "-30 %")):
        axes.axhline(value, color="#444444", linestyle="--", linewidth=0.8)
        axes.annotate(
            label,
            xy=(1, value),
            xycoords=("axes fraction", "data"),
            xytext=(2, 0),
            textcoords="offset points",
            va="center",
            fontsize=8,
            color="#444444",
        )
    axes.axhline(0, color="#000000", linewidth=0.6)


# --- the plots --------------------------------------------------------------------------------------


def waterfall(
    bars: Sequence[WaterfallBar],
    *,
    fmt: Format = "png",
    title: str = "Best change in the sum of target lesion diameters",
    y_label: str = "Best change from baseline (%)",
    size: tuple[float, float] = (8, 5),
) -> bytes:
    """One bar per subject, largest increase first, coloured by best overall response."""
    _check_format(fmt)
    with matplotlib.rc_context(_RC):
        figure = _figure(size)
        if not bars:
            _no_data(figure, title)
            return _render(figure, fmt)
        ordered = sorted(bars, key=lambda b: (-float(b.best_pct_change), b.subject_id))
        axes = figure.add_subplot()
        positions = range(len(ordered))
        axes.bar(
            positions,
            [float(b.best_pct_change) for b in ordered],
            color=[_colour(b.best_response) for b in ordered],
            width=0.8,
        )
        _threshold_lines(axes)
        axes.set_xlim(-0.6, len(ordered) - 0.4)
        if len(ordered) <= 40:
            axes.set_xticks(list(positions), [b.subject_id for b in ordered], rotation=90, fontsize=7)
        else:
            axes.set_xticks([])
        axes.set_xlabel("Subjects")
        axes.set_ylabel(y_label)
        axes.set_title(title)
        _response_legend(axes, [b.best_response for b in ordered])
        return _render(figure, fmt)


def spider(
    lines: Sequence[SpiderLine],
    *,
    fmt: Format = "png",
    title: str = "Change in the sum of target lesion diameters over time",
    x_label: str = "Days from the start of treatment",
    y_label: str = "Change from baseline (%)",
    size: tuple[float, float] = (8, 5),
) -> bytes:
    """% change over time, one line per subject from its baseline (day 0, 0 %), coloured by response."""
    _check_format(fmt)
    with matplotlib.rc_context(_RC):
        figure = _figure(size)
        if not any(line.points for line in lines):
            _no_data(figure, title)
            return _render(figure, fmt)
        axes = figure.add_subplot()
        for line in sorted(lines, key=lambda item: item.subject_id):
            points = sorted(line.points, key=lambda p: p.day)
            days = [0, *(p.day for p in points)]
            values = [0.0, *(float(p.pct_change) for p in points)]
            axes.plot(
                days, values, color=_colour(line.best_response), marker="o", markersize=3, linewidth=1.2
            )
        _threshold_lines(axes)
        axes.set_xlabel(x_label)
        axes.set_ylabel(y_label)
        axes.set_title(title)
        _response_legend(axes, [line.best_response for line in lines])
        return _render(figure, fmt)


def swimmer(
    lanes: Sequence[SwimmerLane],
    *,
    fmt: Format = "png",
    title: str = "Time on treatment",
    x_label: str = "Days from the start of treatment",
    size: tuple[float, float] = (8, 5),
) -> bytes:
    """A bar per subject (longest on top), coloured by best response; markers for the first response,
    progression and death, an arrow where treatment is ongoing."""
    _check_format(fmt)
    with matplotlib.rc_context(_RC):
        figure = _figure(size)
        if not lanes:
            _no_data(figure, title)
            return _render(figure, fmt)
        ordered = sorted(lanes, key=lambda lane: (lane.days_on_treatment, lane.subject_id))
        axes = figure.add_subplot()
        rows = range(len(ordered))
        axes.barh(
            rows,
            [lane.days_on_treatment for lane in ordered],
            color=[_colour(lane.best_response) for lane in ordered],
            height=0.6,
        )
        longest = max(max(lane.days_on_treatment for lane in ordered), 1)
        markers = (
            ("response_day", "o", "#000000", "First response"),
            ("progression_day", "X", "#B00000", "Progression"),
            ("death_day", "s", "#333333", "Death"),
        )
        handles: list[object] = []
        for attribute, marker, colour, label in markers:
            found = [(getattr(lane, attribute), row) for row, lane in zip(rows, ordered, strict=True)]
            found = [(day, row) for day, row in found if day is not None]
            if found:
                axes.scatter(
                    [d for d, _ in found], [r for _, r in found], marker=marker, color=colour, s=28, zorder=3
                )
                handles.append(Line2D([], [], marker=marker, color=colour, linestyle="", label=label))
        ongoing = [
            (lane.days_on_treatment, row) for row, lane in zip(rows, ordered, strict=True) if lane.ongoing
        ]
        for day, row in ongoing:
            axes.annotate(
                "",
                xy=(day + longest * 0.06, row),
                xytext=(day, row),
                arrowprops={"arrowstyle": "->", "color": "#000000", "linewidth": 1.2},
            )
        if ongoing:
            handles.append(
                Line2D([], [], marker=r"$\rightarrow$", color="#000000", linestyle="", label="Ongoing")
            )
        axes.set_xlim(0, longest * 1.1)
        axes.set_yticks(list(rows), [lane.subject_id for lane in ordered], fontsize=7)
        axes.set_xlabel(x_label)
        axes.set_title(title)
        shown = [r for r in RESPONSE_COLOURS if r in {lane.best_response for lane in ordered}]
        handles = [Patch(color=RESPONSE_COLOURS[r], label=RESPONSE_LABELS[r]) for r in shown] + handles
        axes.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False, fontsize=8)
        return _render(figure, fmt)


def _lifelines_curve(
    observations: Sequence[Observation], confidence_level: Fraction | float
) -> tuple[list[float], list[float], list[float], list[float], list[tuple[float, float]]]:
    """The step curve, its pointwise band and the censoring marks as lifelines estimates them
    (KaplanMeierFitter: Greenwood's variance, the log(-log) band, as stats.py computes the figures).

    lifelines draws; stats.py (exact arithmetic) gives the numbers printed (medians, at risk), and
    tests/domain/test_stats.py checks that the two agree."""
    from lifelines import KaplanMeierFitter

    fitter = KaplanMeierFitter(alpha=1 - float(confidence_level))
    fitter.fit([o.time for o in observations], [o.event for o in observations], label="S")
    survival = fitter.survival_function_["S"]
    band = fitter.confidence_interval_survival_function_
    lower_col, upper_col = band.columns[0], band.columns[1]
    xs = [float(t) for t in survival.index]
    ys = [float(v) for v in survival.to_numpy()]
    # Where the band does not exist (S = 0, or no one at risk) lifelines gives NaN: draw the curve.
    lows = [y if lo != lo else float(lo) for y, lo in zip(ys, band[lower_col].to_numpy(), strict=True)]
    highs = [y if hi != hi else float(hi) for y, hi in zip(ys, band[upper_col].to_numpy(), strict=True)]
    if xs and xs[0] > 0:  # lifelines' timeline starts at the first time when no one is at day 0
        xs, ys, lows, highs = [0.0, *xs], [1.0, *ys], [1.0, *lows], [1.0, *highs]
    at = dict(zip(xs, ys, strict=True))
    censored = sorted({(float(o.time), at[float(o.time)]) for o in observations if not o.event})
    return xs, ys, lows, highs, censored


def _risk_times(last: int) -> list[int]:
    ticks = MaxNLocator(nbins=6, integer=True).tick_values(0, max(last, 1))
    return [int(t) for t in ticks if 0 <= t <= max(last, 1)]


def kaplan_meier_plot(
    groups: Sequence[SurvivalGroup],
    *,
    fmt: Format = "png",
    title: str = "Progression-free survival",
    x_label: str = "Days",
    y_label: str = "Survival probability",
    risk_times: Sequence[int] | None = None,
    confidence_level: Fraction | float = Fraction(95, 100),
    size: tuple[float, float] = (8, 6),
) -> bytes:
    """Step curves with '+' at each censored time, the pointwise log(-log) interval shaded, a dashed line
    at 0.5, and the numbers at risk under the axis at ``risk_times`` (default: the axis ticks)."""
    _check_format(fmt)
    with matplotlib.rc_context(_RC):
        figure = _figure(size)
        groups = [g for g in groups if g.observations]
        if not groups:
            _no_data(figure, title)
            return _render(figure, fmt)
        curves = [(g, kaplan_meier(g.observations, confidence_level)) for g in groups]
        last = max(curve.last_time or 0 for _, curve in curves)
        times = list(risk_times) if risk_times is not None else _risk_times(last)
        grid = figure.add_gridspec(2, 1, height_ratios=(4, 0.35 + 0.28 * len(groups)))
        axes = figure.add_subplot(grid[0])
        table = figure.add_subplot(grid[1], sharex=axes)
        for index, (group, curve) in enumerate(curves):
            colour = GROUP_COLOURS[index % len(GROUP_COLOURS)]
            xs, ys, lows, highs, censored = _lifelines_curve(group.observations, confidence_level)
            axes.step(xs, ys, where="post", color=colour, linewidth=1.5, label=f"{group.label} (n={curve.n})")
            axes.fill_between(xs, lows, highs, step="post", color=colour, alpha=0.15, linewidth=0)
            axes.plot(
                [t for t, _ in censored],
                [y for _, y in censored],
                linestyle="",
                marker="+",
                markersize=8,
                color=colour,
            )
        axes.axhline(0.5, color="#888888", linestyle=":", linewidth=0.8)
        axes.set_ylim(0, 1.05)
        axes.set_xlim(0, max(last, 1) * 1.02)
        axes.set_ylabel(y_label)
        axes.set_title(title)
        axes.legend(loc="upper right", frameon=False)
        axes.set_xticks(times)
        axes.set_xlabel(x_label)
        # The numbers at risk: one row per group, under the axis, aligned with the ticks.
        table.set_ylim(-0.5, len(curves) - 0.5)
        table.invert_yaxis()
        table.set_yticks(range(len(curves)), [group.label for group, _ in curves], fontsize=8)
        table.tick_params(axis="x", which="both", bottom=False, labelbottom=False)
        table.tick_params(axis="y", length=0, pad=14)
        for spine in table.spines.values():
            spine.set_visible(False)
        table.set_title("Number at risk", fontsize=8, loc="left")
        for row, (_, curve) in enumerate(curves):
            colour = GROUP_COLOURS[row % len(GROUP_COLOURS)]
            for day, count in zip(times, curve.numbers_at_risk(times), strict=True):
                table.text(day, row, str(count), ha="center", va="center", fontsize=8, color=colour)
        return _render(figure, fmt)
