"""The metric page in real headless Chromium: the chart is drawn (the screenshot holds the
series line, the revised point and the threshold line; for a rule over a 7-day mean, the
mean's line and the shaded firing period), its date ticks are distinct at desktop and phone
widths, and the numbers are on the page."""

import html
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from tests.query.sample import BACKLOG, DAILY, Sample
from tests.query.servers import CHROMIUM, chromium, serving

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        CHROMIUM is None, reason="chromium is not installed (`make browser` installs it)"
    ),
]
SERIES = (0x0B, 0x7A, 0x75)  # colours set in static/metric-chart.js
REVISED = (0xE6, 0x7E, 0x22)
THRESHOLD = (0xC0, 0x39, 0x2B)
MEASURED = (0x1F, 0x3A, 0x93)  # the 7-day mean
BAND = (0xF9, 0xD7, 0xD4)  # rgba(245, 183, 177, 0.55) on white: the firing period
RESOLVES = (0x1E, 0x84, 0x49)
WIDTHS = pytest.mark.parametrize("width", [1100, 390], ids=["desktop", "phone"])


@pytest.fixture(scope="module")
def site(sample: Sample) -> Iterator[str]:
    with serving(sample.config) as url:
        yield url


def pixels_near(image: Path, colour: tuple[int, int, int], tolerance: int = 40) -> int:
    with Image.open(image) as opened:
        data = opened.convert("RGB").tobytes()
    red, green, blue = colour
    return sum(
        1
        for r, g, b in zip(data[0::3], data[1::3], data[2::3], strict=True)
        if abs(r - red) <= tolerance and abs(g - green) <= tolerance and abs(b - blue) <= tolerance
    )


@WIDTHS
def test_metric_chart_is_drawn(site: str, tmp_path: Path, width: int) -> None:
    shot = tmp_path / "metric.png"
    chromium(
        f"{site}/series/{BACKLOG}",
        tmp_path / "profile",
        f"--window-size={width},1000",
        f"--screenshot={shot}",
    )
    assert pixels_near(shot, SERIES) > 300, "no series line in the screenshot"
    assert pixels_near(shot, REVISED) > 30, "the revised value is not marked"
    assert pixels_near(shot, THRESHOLD) > 100, "the rule threshold line is missing"


def test_metric_page_dom_after_scripts(site: str, tmp_path: Path) -> None:
    dom = chromium(f"{site}/series/{BACKLOG}", tmp_path / "profile", "--dump-dom").stdout
    assert 'data-rendered="7"' in dom  # metric-chart.js drew all seven periods
    assert "3,546,863" in dom
    assert "never revised" in dom
    assert "was 3,685,200" in dom


@WIDTHS
def test_a_windowed_rule_draws_its_mean_levels_and_firing_period(
    site: str, tmp_path: Path, width: int
) -> None:
    shot = tmp_path / "daily.png"
    chromium(
        f"{site}/series/{DAILY}", tmp_path / "profile", f"--window-size={width},1000",
        f"--screenshot={shot}",
    )  # fmt: skip
    assert pixels_near(shot, MEASURED, tolerance=30) > 300, "no 7-day mean line"
    assert pixels_near(shot, BAND, tolerance=8) > 2000, "the firing period is not shaded"
    assert pixels_near(shot, THRESHOLD) > 100, "the firing level is missing"
    assert pixels_near(shot, RESOLVES) > 100, "the resolving level is missing"


@WIDTHS
@pytest.mark.parametrize("metric", [DAILY, BACKLOG], ids=["days", "months"])
def test_date_ticks_are_distinct(site: str, tmp_path: Path, width: int, metric: str) -> None:
    dom = chromium(
        f"{site}/series/{metric}", tmp_path / "profile", f"--window-size={width},1000",
        "--dump-dom",
    ).stdout  # fmt: skip
    ticks = json.loads(html.unescape(re.search(r'data-ticks="([^"]*)"', dom)[1]))
    assert len(ticks) >= 2, ticks
    assert len(set(ticks)) == len(ticks), f"repeated tick labels: {ticks}"
    if metric == DAILY:  # days read as days, not "2024-06" on every tick; not this year's,
        # so the first tick names the year (the others stay short)
        assert re.fullmatch(r"(May|Jun|Jul) \d{1,2}, 2024", ticks[0]), ticks
        assert all(re.fullmatch(r"(May|Jun|Jul) \d{1,2}", tick) for tick in ticks[1:]), ticks
