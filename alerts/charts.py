"""Charts for digests: a metric's recent values with the rules' threshold lines, as PNG.
matplotlib's object API with the Agg canvas (no display, no pyplot global state, safe in
the daemon's worker thread); imported only when a chart is drawn."""

import io
from collections.abc import Sequence


def line_chart(
    title: str,
    points: Sequence[tuple[str, float]],
    thresholds: Sequence[tuple[str, float]],
    *,
    judged: Sequence[float | None] = (),
    judged_label: str = "",
) -> bytes:
    """PNG of values by period; each threshold a dashed horizontal line with its label.
    `judged` (one per point, None where undefined) is what a rule compares with the
    thresholds when that is not the raw value, e.g. a 7-period mean."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6.4, 2.6), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    positions = range(len(points))
    raw_colour = "#9bb7d4" if judged else "#1f4e79"
    axes.plot(positions, [value for _, value in points], color=raw_colour, linewidth=1.2,
              label="value")  # fmt: skip
    if judged:
        axes.plot(positions, [float("nan") if v is None else v for v in judged],
                  color="#1f4e79", linewidth=1.8, label=judged_label)  # fmt: skip
        axes.legend(fontsize=7, loc="best", frameon=False)
    for label, level in thresholds:
        axes.axhline(level, color="#b00000", linestyle="--", linewidth=1)
        axes.annotate(label, (0, level), xytext=(2, 2), textcoords="offset points",
                      color="#b00000", fontsize=7)  # fmt: skip
    step = max(1, len(points) // 6)
    ticks = list(positions)[::step]
    axes.set_xticks(ticks, [points[i][0] for i in ticks], fontsize=7)
    axes.tick_params(axis="y", labelsize=7)
    axes.yaxis.set_major_formatter(lambda value, _: f"{value:,.0f}")
    axes.set_title(title, fontsize=9, loc="left")
    axes.grid(alpha=0.3)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
