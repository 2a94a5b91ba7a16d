"""What a failed fetch says, crawled through the real crawl child from a real local
server that misbehaves: a redirect loop, a gzip bomb past the size limit, a Retry-After
of an hour, and a CSV file trickled so slowly that the download never ends. Each run
fails with the real cause in its reason (never "robots.txt disallows"), and the
trickling download is cut off at the `timeout`, a limit on the whole download."""

import gzip
import time

import pytest

from jobs.runners.local import LocalRunner
from tests.configs import settings
from tests.serving import LocalServer, QuietHandler, running

CSV_LINES = [b"Fiscal Year,Month (abbv),Encounter Count\n"] + [
    f"2024,OCT,{n}\n".encode() for n in range(60)
]


class Misbehaving(QuietHandler):
    def do_GET(self) -> None:
        if self.path == "/robots.txt":
            return self.reply(200, b"User-agent: *\nAllow: /\n", "text/plain")
        if self.path.startswith("/loop/"):
            other = "/loop/b" if self.path == "/loop/a" else "/loop/a"
            return self.reply(302, b"", "text/html", {"Location": other})
        if self.path == "/bomb.html":
            bomb = gzip.compress(b"<html>" + b" " * 3_000_000 + b"</html>")
            return self.reply(200, bomb, "text/html", {"Content-Encoding": "gzip"})
        if self.path == "/busy.json":
            return self.reply(429, b"slow down", "text/plain", {"Retry-After": "3600"})
        if self.path == "/trickle.csv":
            self.send_response(200)
            self.send_header("Content-Type", "text/csv")
            self.send_header("Content-Length", str(sum(map(len, CSV_LINES))))
            self.end_headers()
            try:
                for line in CSV_LINES:  # half a second a line: 30 s in all
                    self.wfile.write(line)
                    self.wfile.flush()
                    time.sleep(0.5)
            except OSError:
                pass
            return None
        return self.reply(404, b"not found", "text/plain")


@pytest.fixture
def site():
    with running(LocalServer(Misbehaving)) as server:
        yield server.base_url


def test_each_failure_names_its_real_cause(tmp_path, site):
    (tmp_path / "crossings.toml").write_text(
        settings(timeout=2, retries=1, max_body_mb=1)
        + f"""
[sources.loop]
kind = "table"
url = "{site}/loop/a"
metric = "loop.{{row}}"

[sources.bomb]
kind = "table"
url = "{site}/bomb.html"
metric = "bomb.{{row}}"

[sources.busy]
kind = "json"
url = "{site}/busy.json"
records = "timeline"
period = "fymon"
[sources.busy.values]
number = "busy.n"

[sources.trickle]
kind = "csv"
url = "{site}/trickle.csv"
metric = "trickle.n"
value = "Encounter Count"
year = "Fiscal Year"
month = "Month (abbv)"
"""
    )
    results = LocalRunner(tmp_path / "crossings.toml").crawl_sync(
        ["loop", "bomb", "busy", "trickle"]
    )
    reasons = {result.source: (result.status, result.reason) for result in results}
    assert all(status == "failed" for status, _ in reasons.values()), reasons
    assert not any("robots.txt" in reason for _, reason in reasons.values()), reasons
    assert f"{site}/loop/a redirects in a loop" in reasons["loop"][1]
    assert "larger than max_body_mb = 1 MB once decompressed" in reasons["bomb"][1]
    assert "HTTP 429 and asked to come back after 3600 s (1 h)" in reasons["busy"][1]
    assert "did not finish downloading within 2 s" in reasons["trickle"][1]
