"""The pages fit a phone (390 px) and a desktop window (1100 px), measured in real headless
Chromium: nothing sticks out of the viewport or hides in a sideways scroll, words on the
overview and the metric page break only at dots, hyphens and the like, and the chart's
text, axis and legend read as they should."""

import itertools
import json
from collections.abc import Iterator

import pytest

from tests.query.browser import DESKTOP, PHONE, Browser
from tests.query.sample import BACKLOG, DAILY, Sample
from tests.query.servers import CHROMIUM, serving

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        CHROMIUM is None, reason="chromium is not installed (`make browser` installs it)"
    ),
]
WIDTHS = pytest.mark.parametrize("width", [DESKTOP, PHONE], ids=["desktop", "phone"])
PAGES = ["/", f"/series/{DAILY}", f"/series/{BACKLOG}", "/series", "/alerts", "/news",
         "/sources/trac_quickfacts", "/sources/cbp_encounters", "/sources/dhs_news_releases",
         "/snapshots/2"]  # fmt: skip
SEPARATORS = "./_-:,;?&="

# Every visible element whose box reaches past the viewport's edges (a table that only
# fits by scrolling sideways counts: its cells reach past the edge).
OVERFLOWING = """(() => {
  const width = document.documentElement.clientWidth;
  const out = element => {
    const box = element.getBoundingClientRect();
    return box.width > 0 && (box.right > width + 0.5 || box.left < -0.5);
  };
  return [...document.querySelectorAll("body *")]  // the innermost ones say what sticks out
    .filter(element => out(element) && ![...element.children].some(out))
    .map(element => element.tagName.toLowerCase() + ": " + element.textContent.trim().slice(0, 60));
})()"""

# Words broken across lines between two letters: each character's line (the top of its
# box), compared with the next one's in the same word.
BROKEN_WORDS = """(separators) => {
  const broken = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.textContent;
    let previousTop = null;
    for (let i = 0; i < text.length; i++) {
      if (/\\s/.test(text[i])) { previousTop = null; continue; }
      range.setStart(node, i); range.setEnd(node, i + 1);
      const boxes = range.getClientRects();
      if (!boxes.length) { previousTop = null; continue; }
      const top = boxes[0].top;
      if (previousTop !== null && Math.abs(top - previousTop) > 2
          && !separators.includes(text[i - 1]) && !separators.includes(text[i])) {
        broken.push(text.slice(Math.max(0, i - 12), i) + "|" + text.slice(i, i + 12));
      }
      previousTop = top;
    }
  }
  return broken;
}"""

# Every text the chart's canvas draws, with its size in CSS pixels as the reader sees it.
RECORD_CHART_TEXT = """
window.chartText = [];
const fillText = CanvasRenderingContext2D.prototype.fillText;
CanvasRenderingContext2D.prototype.fillText = function (text, x, y, maxWidth) {
  const size = parseFloat(this.font.match(/([\\d.]+)px/)[1]);
  const box = this.canvas.getBoundingClientRect();
  const shrink = box.width / this.canvas.width;  // the canvas's pixels per CSS pixel
  window.chartText.push({text: String(text),
                         size: size * this.getTransform().a * shrink * visualViewport.scale});
  return fillText.apply(this, arguments);
};"""

CHART = "Chart.getChart(document.getElementById('series-chart'))"
# Each x tick's label and the pixels it covers, measured in the chart's own font.
TICK_SPANS = f"""(() => {{
  const scale = {CHART}.scales.x, context = scale.ctx;
  context.save();
  context.font = Chart.helpers.toFont(scale.options.ticks.font).string;
  const spans = scale.ticks.map((tick, i) => {{
    const half = context.measureText(tick.label).width / 2, x = scale.getPixelForTick(i);
    return [tick.label, x - half, x + half];
  }});
  context.restore();
  return spans;
}})()"""


@pytest.fixture(scope="module")
def site(troubled: Sample) -> Iterator[str]:
    with serving(troubled.config) as url:
        yield url


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    with Browser(tmp_path_factory.mktemp("chromium")) as opened:
        opened.before_scripts(RECORD_CHART_TEXT)
        yield opened


@WIDTHS
@pytest.mark.parametrize("path", PAGES)
def test_nothing_sticks_out_of_the_viewport(
    site: str, browser: Browser, width: int, path: str
) -> None:
    browser.open(site + path, width)
    assert browser.evaluate(OVERFLOWING) == []
    assert browser.evaluate("visualViewport.scale") == 1  # not zoomed out to fit


@WIDTHS
@pytest.mark.parametrize("path", ["/", f"/series/{DAILY}", f"/series/{BACKLOG}", "/series"])
def test_words_break_only_between_parts(site: str, browser: Browser, width: int, path: str) -> None:
    browser.open(site + path, width)
    assert browser.evaluate(f"({BROKEN_WORDS})({json.dumps(SEPARATORS)})") == []


@WIDTHS
def test_chart_text_is_readable(site: str, browser: Browser, width: int) -> None:
    browser.open(f"{site}/series/{DAILY}", width)
    drawn = browser.evaluate("window.chartText")
    assert drawn, "the chart drew no text"
    small = [(text["text"], round(text["size"], 1)) for text in drawn if text["size"] < 11]
    assert small == []


@WIDTHS
def test_chart_axis_names_the_year_and_the_levels(site: str, browser: Browser, width: int) -> None:
    browser.open(f"{site}/series/{DAILY}", width)
    ticks = browser.evaluate(f"{CHART}.scales.x.ticks.map(t => t.label)")
    # the data is not this year: the first tick names it, the others stay short
    assert ticks[0].endswith(", 2024") and not any(", " in tick for tick in ticks[1:]), ticks
    spans = browser.evaluate(TICK_SPANS)
    overlapping = [(a, b) for a, b in itertools.pairwise(spans) if a[2] >= b[1]]
    assert overlapping == [], overlapping
    drawn = {text["text"] for text in browser.evaluate("window.chartText")}
    assert {"4,000", "3,000"} <= drawn, drawn  # where the rule fires and resolves, drawn


# For each legend entry: how many rows and separate runs of its colour its swatch paints.
SWATCHES = """(() => {
  const chart = Chart.getChart(document.getElementById("series-chart"));
  const context = chart.ctx, ratio = chart.currentDevicePixelRatio;
  const labels = chart.options.plugins.legend.labels;
  const swatchWidth = labels.pointStyleWidth || labels.boxWidth;
  return chart.legend.legendItems.map((item, index) => {
    const box = chart.legend.legendHitBoxes[index];
    const x = Math.round(box.left * ratio), y = Math.round(box.top * ratio);
    const w = Math.round(swatchWidth * ratio), h = Math.round(box.height * ratio);
    const pixels = context.getImageData(x, y, w, h).data;
    const colour = context.canvas.ownerDocument.createElement("canvas").getContext("2d");
    colour.fillStyle = item.strokeStyle; colour.fillRect(0, 0, 1, 1);
    const [r, g, b] = colour.getImageData(0, 0, 1, 1).data;
    const near = (i) => Math.abs(pixels[i] - r) < 60 && Math.abs(pixels[i + 1] - g) < 60
                        && Math.abs(pixels[i + 2] - b) < 60 && pixels[i + 3] > 128;
    let rows = 0, runs = 0;
    for (let row = 0; row < h; row++) {
      let inRow = false, previous = false, count = 0;
      for (let col = 0; col < w; col++) {
        const here = near((row * w + col) * 4);
        if (here) { inRow = true; if (!previous) { count++; } }
        previous = here;
      }
      if (inRow) { rows++; runs = Math.max(runs, count); }
    }
    return {text: item.text, rows: rows / ratio, runs: runs};
  });
})()"""


@WIDTHS
def test_legend_draws_dashed_levels_as_dashes(site: str, browser: Browser, width: int) -> None:
    browser.open(f"{site}/series/{DAILY}", width)
    swatches = {swatch["text"]: swatch for swatch in browser.evaluate(SWATCHES)}
    for level in ("fires above 4,000", "resolves below 3,000"):
        assert swatches[level]["rows"] <= 4, swatches[level]  # a line, not a filled box
        assert swatches[level]["runs"] >= 2, swatches[level]  # broken into dashes
    assert swatches["7-day mean"]["rows"] <= 5  # the mean's thick line
    assert swatches["7-day mean"]["runs"] == 1  # solid
