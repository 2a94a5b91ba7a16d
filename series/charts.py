"""Paints a `Chart` (series.drawing) as PNG for emails and digests: the values, what each
rule measures, its levels as dashed lines, firing periods shaded, and a legend — the
picture the web page draws with Chart.js from the same definition. matplotlib's object
API with the Agg canvas (no display, no pyplot global state, safe in the daemon's worker
thread); imported only when a chart is drawn."""

import io
from typing import TYPE_CHECKING

from core.formatting import number
from series.drawing import Chart

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# The web page's colours (jobs/web/static/metric-chart.js), so both pictures read alike.
VALUE = "#0b7a75"
VALUE_UNDER_MEASURE = "#8fc1be"
MEASURED = ("#1f3a93", "#6c3483", "#7e5109")
FIRES = "#c0392b"
RESOLVES = "#1e8449"
BAND = "#f5b7b1"
REVISED = "#e67e22"
TICKS = 6
ROUND_TICKS = 6  # on the y axis beside levels (metric-chart.js: maxTicksLimit)


def png(chart: Chart) -> bytes:
    buffer = io.BytesIO()
    figure(chart).savefig(buffer, format="png")
    return buffer.getvalue()


def figure(chart: Chart) -> "Figure":
    """The chart as a matplotlib figure, on an Agg canvas."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(6.4, 3.0), dpi=100)
    FigureCanvasAgg(fig)
    axes = fig.add_subplot()
    positions = list(range(len(chart.periods)))
    for band in chart.bands:
        axes.axvspan(band.first - 0.5, band.last + 0.5, color=BAND, alpha=0.5, linewidth=0,
                     label=band.label)  # fmt: skip
    raw = VALUE_UNDER_MEASURE if chart.measured else VALUE
    axes.plot(positions, chart.values, color=raw, linewidth=1.2, label=chart.value_label)
    revised = [i for i in positions if i < len(chart.revised) and chart.revised[i]]
    if revised:
        axes.plot(revised, [chart.values[i] for i in revised], linestyle="none", marker="^",
                  color=REVISED, markersize=7, label="revised")  # fmt: skip
    for index, line in enumerate(chart.measured):
        axes.plot(positions, [float("nan") if v is None else v for v in line.values],
                  color=MEASURED[index % len(MEASURED)], linewidth=2, label=line.label)  # fmt: skip
    for level in chart.levels:
        axes.axhline(level.value, color=RESOLVES if level.resolves else FIRES, linestyle="--",
                     linewidth=1, label=level.label)  # fmt: skip
    step = max(1, -(-len(positions) // TICKS))
    shown = positions[::step]
    labels = chart.ticks()
    axes.set_xticks(shown, [labels[i] for i in shown], fontsize=7)
    axes.tick_params(axis="y", labelsize=7)
    axes.yaxis.set_major_formatter(lambda value, _: number(value))
    if chart.levels:  # each level labelled on the axis in its line's colour, as on the web:
        # among a few round values (at most 6, as there), so that the labels stay apart
        axes.yaxis.set_major_locator(MaxNLocator(nbins=ROUND_TICKS - 1))
        low, high = axes.get_ylim()
        ticks = chart.value_ticks([t for t in axes.get_yticks() if low <= t <= high])
        axes.set_yticks(ticks)
        colours = {level.value: RESOLVES if level.resolves else FIRES for level in chart.levels}
        for tick, value in zip(axes.yaxis.get_major_ticks(len(ticks)), ticks, strict=True):
            if value in colours:
                tick.label1.set_color(colours[value])
    axes.set_title(chart.title, fontsize=9, loc="left")
    axes.grid(alpha=0.3)
    axes.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=3,
                frameon=False)  # fmt: skip
    fig.tight_layout()
    return fig
