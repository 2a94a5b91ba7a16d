"""A synthetic statistics site for the benchmarks: N pages of about 30 KB, each a TRAC-style
report with a 40-row table (fiscal years as columns, "FY 2022*" partial, counts like
`3,596,229`, footnote marks), served on 127.0.0.1 with ETag / Last-Modified and 304s, plus
optional CSV files. Standard library only, so every tool under test sees the same server.

Run standalone:  python bench/statsite.py --pages 200 [--csv NAME=PATH ...] [--max-seconds 1800]
It prints one line `ready http://127.0.0.1:PORT` and serves until killed or the time is up.

Control endpoints (for the harness, not part of the "site"):
  POST /_bench/change  a new version of the fixed 10% of pages (every tenth page)
  POST /_bench/reset   forget the first and latest request times
  GET  /_bench/stats   JSON counters: responses by status, body bytes sent, and when the
                       first and latest page request (since the last reset) arrived
"""

import argparse
import hashlib
import json
import random
import sys
import threading
import time
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

YEARS = ("FY 2017", "FY 2018", "FY 2019", "FY 2020", "FY 2021", "FY 2022*")
GROUPS = ("Deport", "Credible/Reasonable Fear", "Other", "Bond", "Detained", "Juvenile")
CASE_TYPES = (
    "Removal", "Deportation", "Exclusion", "Credible Fear", "Reasonable Fear", "Asylum Only",
    "Withholding of Removal", "Miscellaneous", "Rescission", "Continued Detention Review",
)  # fmt: skip
ROWS = 40
CHANGED_EVERY = 10  # page i changes on demand when i % 10 == 0: a fixed 10%
PROSE = (
    "Immigration Court case completions have been rapidly increasing. During the first eleven "
    "months of the fiscal year, Immigration Judges closed a historical record number of cases. "
    "If the pace continues, closures should top the previous year by the end of the fiscal year. "
    "The figures below are drawn from case-by-case records obtained under the Freedom of "
    "Information Act and are updated monthly as new records are received and verified. "
)


def page_path(index: int) -> str:
    return f"/reports/{index:05d}.html"


def render_page(index: int, version: int) -> bytes:
    """Page `index` at `version`: deterministic, about 30 KB. A new version revises the
    partial-year column and the publication line, as a real monthly update would."""
    rng = random.Random(index * 7919)
    rows = []
    for row in range(ROWS):
        group = GROUPS[row % len(GROUPS)]
        case_type = f"{CASE_TYPES[row % len(CASE_TYPES)]} {row // len(CASE_TYPES) + 1}"
        values = [rng.randrange(1_000, 4_000_000) for _ in YEARS]
        values[-1] += version * (row + 1) * 37  # the partial year moves with each version
        cells = [f'<td align="right">{value:,}</td>' for value in values]
        if row % 13 == 5:  # a footnote mark on an early figure
            cells[0] = f'<td align="right">{values[0]:,}**</td>'
        change = round(100 * (values[-1] - values[0]) / values[0])
        rows.append(
            f"    <tr><td>{group}</td><td>{case_type}</td>{''.join(cells)}"
            f'<td align="right">{change}%</td></tr>'
        )
    header = "".join(f"<th>{year}</th>" for year in YEARS)
    prose = "".join(
        f"<p>{PROSE}Section {part + 1} of report {index} discusses court {rng.randrange(1, 70)} "
        f"and its {rng.randrange(100, 9_999):,} pending matters.</p>\n"
        for part in range(34)
    )
    html = f"""<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Report {index}: Immigration Court Completions</title></head>
<body>
<div class="breadcrumb"><a href="/">Home</a> &gt; <a href="/immigration/">Immigration</a></div>
<h1>Report {index}: Immigration Court Case Completions</h1>
<p class="pubdate">Published Sep 16, 2022 (update {version})</p>
{prose}
<p class="tabletitle"><b>Table 1. Immigration Court Case Completions by Class and Case Type</b></p>
<table class="Table" border="1" cellpadding="3">
  <thead>
    <tr><th>Class</th><th>Case Type</th>{header}<th>Annual Change: 2022vs2017**</th></tr>
  </thead>
  <tbody>
{chr(10).join(rows)}
  </tbody>
</table>
<p class="footnote">* FY 2022 figures reflect completions from Oct 2021-August 2022 (11 months).<br>
** Comparison of FY 2017 with annualized FY 2022 counts.</p>
<p class="copyright">Synthetic benchmark page; not real data.</p>
</body>
</html>
"""
    return html.encode("utf-8")


class Resource:
    """One servable body with its validators."""

    def __init__(self, body: bytes, content_type: str, modified: float) -> None:
        self.body = body
        self.content_type = content_type
        self.etag = f'"{hashlib.sha256(body).hexdigest()[:20]}"'
        self.modified = int(modified)
        self.last_modified = formatdate(self.modified, usegmt=True)


class Site:
    def __init__(self, pages: int, csv_files: dict[str, Path]) -> None:
        self.lock = threading.Lock()
        self.pages = pages
        self.versions = [0] * pages
        start = time.time() - 86_400
        self.resources: dict[str, Resource] = {
            page_path(i): Resource(render_page(i, 0), "text/html; charset=utf-8", start)
            for i in range(pages)
        }
        self.files = {f"/data/{name}": path for name, path in csv_files.items()}
        self.file_validators = {
            url: (f'"{int(path.stat().st_mtime)}-{path.stat().st_size}"', path.stat().st_mtime)
            for url, path in self.files.items()
        }
        self.counts: dict[str, float] = {"200": 0, "304": 0, "404": 0, "bytes": 0}

    def change(self) -> list[int]:
        """Publish a new version of the fixed 10% of pages."""
        changed = list(range(0, self.pages, CHANGED_EVERY))
        with self.lock:
            for i in changed:
                self.versions[i] += 1
                old = self.resources[page_path(i)]
                modified = max(time.time(), old.modified + 1)
                self.resources[page_path(i)] = Resource(
                    render_page(i, self.versions[i]), old.content_type, modified
                )
        return changed

    def count(self, key: str, amount: int = 1) -> None:
        with self.lock:
            self.counts[key] = self.counts.get(key, 0) + amount

    def seen(self) -> None:
        """When the first and the latest page or file request arrived (epoch seconds):
        a crawler's start-up time is its first request minus its start."""
        now = time.time()
        with self.lock:
            self.counts.setdefault("first_request_at", now)
            self.counts["last_request_at"] = now

    def index(self) -> bytes:
        links = "".join(
            f'<li><a href="{page_path(i)}">Report {i}</a></li>' for i in range(self.pages)
        )
        files = "".join(f'<li><a href="{url}">{url}</a></li>' for url in self.files)
        return f"<html><body><ul>{links}{files}</ul></body></html>".encode()


def not_modified(headers, etag: str, modified: float) -> bool:
    """RFC 9110: If-None-Match wins; If-Modified-Since only when there is none."""
    if (match := headers.get("If-None-Match")) is not None:
        return etag in [tag.strip() for tag in match.split(",")] or match.strip() == "*"
    if since := headers.get("If-Modified-Since"):
        try:
            return int(modified) <= parsedate_to_datetime(since).timestamp()
        except (TypeError, ValueError):
            return False
    return False


def make_handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "bench-site/1"
        # A client that leaves connections open (urlwatch opens one per job) would keep a
        # thread each; at N = 10,000 their wake-up when it exits stalled the stats request.
        timeout = 10

        def log_message(self, *args: object) -> None:  # quiet: thousands of requests
            pass

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/robots.txt":
                self._send(200, b"User-agent: *\nAllow: /\n", "text/plain")
            elif path == "/":
                self._send(200, site.index(), "text/html; charset=utf-8")
            elif path == "/_bench/stats":
                with site.lock:
                    body = json.dumps(site.counts).encode()
                self._send(200, body, "application/json", count=False)
            elif (resource := site.resources.get(path)) is not None:
                site.seen()
                self._resource(resource)
            elif path in site.files:
                site.seen()
                self._file(path)
            else:
                self._send(404, b"not found\n", "text/plain")

        def do_POST(self) -> None:
            if self.path == "/_bench/change":
                changed = site.change()
                self._send(200, json.dumps({"changed": len(changed)}).encode(), "application/json")
            elif self.path == "/_bench/reset":
                with site.lock:
                    site.counts.pop("first_request_at", None)
                    site.counts.pop("last_request_at", None)
                self._send(200, b"{}", "application/json", count=False)
            else:
                self._send(404, b"not found\n", "text/plain")

        def _resource(self, resource: Resource) -> None:
            validators = {"ETag": resource.etag, "Last-Modified": resource.last_modified}
            if not_modified(self.headers, resource.etag, resource.modified):
                self._send(304, b"", None, validators)
            else:
                self._send(200, resource.body, resource.content_type, validators)

        def _file(self, url: str) -> None:
            etag, modified = site.file_validators[url]
            validators = {"ETag": etag, "Last-Modified": formatdate(modified, usegmt=True)}
            if not_modified(self.headers, etag, modified):
                self._send(304, b"", None, validators)
                return
            path = site.files[url]
            size = path.stat().st_size
            self.send_response(200)
            self.send_header("Content-Type", "text/csv; charset=utf-8")
            self.send_header("Content-Length", str(size))
            for key, value in validators.items():
                self.send_header(key, value)
            self.end_headers()
            with path.open("rb") as source:
                while chunk := source.read(1 << 20):
                    self.wfile.write(chunk)
            site.count("200")
            site.count("bytes", size)

        def _send(
            self,
            status: int,
            body: bytes,
            content_type: str | None,
            headers: dict[str, str] | None = None,
            *,
            count: bool = True,
        ) -> None:
            self.send_response(status)
            if content_type:
                self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)
            if count:
                site.count(str(status))
                site.count("bytes", len(body))

    return Handler


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # a crawler opening many connections at once is not refused

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that hangs up early (a body over its size limit) is not an error here."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--csv", action="append", default=[], metavar="NAME=PATH")
    parser.add_argument(
        "--max-seconds", type=float, default=1800, help="stop by itself after this long"
    )
    args = parser.parse_args()
    csv_files = {}
    for item in args.csv:
        name, _, path = item.partition("=")
        csv_files[name] = Path(path)
    site = Site(args.pages, csv_files)
    server = Server(("127.0.0.1", args.port), make_handler(site))
    timer = threading.Timer(args.max_seconds, server.shutdown)
    timer.daemon = True
    timer.start()
    print(f"ready http://127.0.0.1:{server.server_port}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    sys.exit(0)


if __name__ == "__main__":
    main()
