"""The offline demo site: pages shaped like the real sources (TRAC, CBP, DHS), served from
files in the project by a stdlib HTTP server on 127.0.0.1, plus one ILLUSTRATIVE daily
border-encounters table whose synthetic rows appear one day every `day_seconds`, so that
a 7-day-average rule has something to fire on and resolve.

It answers like a polite real site: ETag and Last-Modified on every page, 304 to
conditional requests, a robots.txt. Use it as a context manager:

    with DemoSite() as site:
        print(site.base_url)

or by hand: `python -m jobs.demo.site --port 8000`."""

import argparse
import contextlib
import hashlib
import html
import threading
import time
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

SITE = Path(str(resources.files("jobs.demo").joinpath("site")))
SOURCES_TOML = Path(str(resources.files("jobs.demo").joinpath("sources.toml")))
DAILY_PATH = "/illustrative/daily-encounters.html"
ROUTES = {
    "/": "index.html",
    "/robots.txt": "robots.txt",
    "/immigration/quickfacts/eoir.html": "quickfacts-eoir.html",
    "/reports/695/": "report-695.html",
    "/phptools/immigration/asylum/graph.php": "asylum-graph.json",
    "/immigration/detentionstats/pop_agen_table.json": "pop_agen_table.json",
    "/whatsnew/": "whatsnew.html",
    "/whatsnew/email.250627.html": "whatsnew-email-250627.html",
    "/document/stats/southwest-land-border-encounters": "cbp-sbo-listing.html",
    "/sites/default/files/2025-09/sbo-encounters-fy22-fy25-aug.csv": (
        "sbo-encounters-fy22-fy25-aug.csv"
    ),
    "/newsroom/stats/nationwide-encounters": "cbp-nationwide-encounters.html",
    "/news/rss.xml": "dhs-news-rss.xml",
}
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".json": "application/json",
    ".csv": "text/csv; charset=utf-8",
    ".xml": "application/rss+xml; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}
FIRST_DAY = date(2024, 5, 27)
# The site corrects one published day (as agencies revise preliminary counts), so the demo
# shows a revision: day REVISED_DAY shows its revised figure once REVISED_FROM days are out
# and the preliminary one was served at least once.
REVISED_DAY, REVISED_VALUE, REVISED_FROM = 8, 5092, 10


def daily_series(days: int | None = None, *, revised: bool = True) -> list[tuple[date, int]]:
    """ILLUSTRATIVE, synthetic: Border Patrol encounters per day shaped like the 2024
    proclamation story, as published once `days` days are out (all: the final figures;
    `revised=False`: day REVISED_DAY still preliminary). The 7-day mean passes 4,000 with
    the seventh day, stays high for a week, falls below 3,000 on the twentieth day and stays
    low for months."""
    values = [3600, 3900, 4400, 4800, 5100, 5000, 4900]
    values += [4700 + _jitter(day) for day in range(7, 12)]
    values += [round(4500 - (4500 - 1300) * step / 8) + _jitter(12 + step) for step in range(9)]
    values += [1150 + _jitter(day) for day in range(21, 120)]
    if revised and (days is None or days >= REVISED_FROM):
        values[REVISED_DAY] = REVISED_VALUE
    series = [(FIRST_DAY + timedelta(days=day), value) for day, value in enumerate(values)]
    return series if days is None else series[:days]


def _jitter(day: int) -> int:
    return (day * 7919) % 301 - 150


def demo_sources_toml(base_url: str) -> str:
    """The [sources.*] tables for this site (jobs/demo/sources.toml) pointed at `base_url`."""
    return SOURCES_TOML.read_text(encoding="utf-8").replace("{base_url}", base_url.rstrip("/"))


class DemoSite:
    """The demo site in a background thread. `port=0` picks a free port."""

    def __init__(
        self,
        port: int = 0,
        *,
        host: str = "127.0.0.1",
        day_seconds: float = 2.5,
        days_per_fetch: int = 0,
    ) -> None:
        """`days_per_fetch`: each fetch of the daily page also brings at least this many
        more days, so that on a busy machine, where crawls come late, the story is still
        told in a few crawls (the demo uses 5: four crawls from first alert to resolution)."""
        self.day_seconds = day_seconds
        self.days_per_fetch = days_per_fetch
        self.started = time.time()
        self._lock = threading.Lock()
        self._preliminary_served = False
        self._fetches = 0
        self._server = ThreadingHTTPServer((host, port), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> "DemoSite":
        self.started = time.time()
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "DemoSite":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def revealed_days(self, now: float | None = None) -> int:
        """How many days of the illustrative series are public by now (at least one)."""
        elapsed = (now or time.time()) - self.started
        by_time = 1 + int(elapsed // self.day_seconds)
        return min(len(daily_series()), max(by_time, self._fetches * self.days_per_fetch))

    def page(self, path: str) -> tuple[bytes, str, float] | None:
        """Body, content type and modification time of a path, or None (404)."""
        if path == DAILY_PATH:
            with self._lock:  # a crawler must see the preliminary figure before its revision
                self._fetches += 1
                days = self.revealed_days()
                revised = self._preliminary_served
                self._preliminary_served |= days > REVISED_DAY
            return (
                _daily_page(days, revised=revised),
                CONTENT_TYPES[".html"],
                self.started + (days - 1) * self.day_seconds,
            )
        name = ROUTES.get(path)
        if name is None:
            return None
        file = SITE / name
        return file.read_bytes(), CONTENT_TYPES[file.suffix], self.started


def _daily_page(days: int, *, revised: bool) -> bytes:
    rows = "\n".join(
        f"    <tr><td>{day.strftime('%B')} {day.day}, {day.year}</td><td>{value:,}</td></tr>"
        for day, value in daily_series(days, revised=revised)
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8">
<title>ILLUSTRATIVE daily border encounters (crossings demo)</title></head>
<body>
<h1>ILLUSTRATIVE: daily Border Patrol encounters at the Southwest border</h1>
<p class="warning"><strong>Synthetic numbers for the crossings demo, not CBP data.</strong>
There is no official daily dataset; this series imitates the shape of the 2024 proclamation
story so that a 7-day-average rule can fire and resolve. A new day appears every few seconds,
and one early figure is revised later, as agencies revise preliminary counts.</p>
<table id="daily-encounters">
  <caption>{html.escape("Illustrative daily encounters (synthetic)")}</caption>
  <thead><tr><th>Date</th><th>Encounters</th></tr></thead>
  <tbody>
{rows}
  </tbody>
</table>
</body>
</html>
""".encode()


def _handler(site: DemoSite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "crossings-demo/1"

        def do_GET(self) -> None:
            self._answer(with_body=True)

        def do_HEAD(self) -> None:
            self._answer(with_body=False)

        def _answer(self, *, with_body: bool) -> None:
            found = site.page(urlsplit(self.path).path)
            if found is None:
                self._send(404, b"not found\n", "text/plain", {}, with_body)
                return
            body, content_type, modified = found
            etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
            moment = datetime.fromtimestamp(int(modified), UTC)
            headers = {"ETag": etag, "Last-Modified": format_datetime(moment, usegmt=True)}
            if self._not_modified(etag, moment):
                self._send(304, b"", content_type, headers, with_body=False)
                return
            self._send(200, body, content_type, headers, with_body)

        def _not_modified(self, etag: str, moment: datetime) -> bool:
            if match := self.headers.get("If-None-Match"):
                return etag in [tag.strip() for tag in match.split(",")]
            if since := self.headers.get("If-Modified-Since"):
                try:
                    return moment <= parsedate_to_datetime(since)
                except (TypeError, ValueError):
                    return False
            return False

        def _send(
            self, status: int, body: bytes, content_type: str, headers: dict, with_body: bool
        ) -> None:
            self.send_response(status)
            if status != 304:
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            if with_body and status != 304:
                self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # quiet
            pass

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m jobs.demo.site")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--day-seconds", type=float, default=2.5)
    args = parser.parse_args()
    with DemoSite(args.port, host=args.host, day_seconds=args.day_seconds) as site:
        print(f"crossings demo site at {site.base_url}/ (Ctrl-C to stop)")
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
