"""`crossings crawl` reports as it goes: a source's line as soon as it finishes (not a
table at the end), a failure's reason without the source name again, a host that cannot
be found tried once per crawl, and what to do next by how the run ended."""

import contextlib
import os
import pty
import subprocess
import sys
import threading
from pathlib import Path

from core.status import RunStatus
from jobs.logs import run_summary
from jobs.runners.results import RunResult
from storage import Store
from tests.serving import LocalServer, QuietHandler, running

TABLE = b"<table><tr><th>Year</th><th>2024</th></tr><tr><td>Cases</td><td>1,234</td></tr></table>"


def handler(released: threading.Event) -> type[QuietHandler]:
    class Handler(QuietHandler):
        def do_GET(self) -> None:
            if self.path == "/slow.html":
                released.wait(60)
            if self.path.endswith(".html"):
                self.reply(200, TABLE, "text/html; charset=utf-8")
            else:
                self.reply(404, b"", "text/plain")

    return Handler


def config(folder: Path, sources: dict[str, tuple[str, str]]) -> Path:
    path = folder / "crossings.toml"
    path.write_text(
        '[settings]\ndatabase = "crossings.db"\ndownload_delay = 0\n'
        + "".join(
            f'\n[sources.{name}]\nkind = "{kind}"\nurl = "{url}"\nmetric = "m.{name}.{{row}}"\n'
            + ('value = "Cases"\nyear = "Year"\n' if kind == "csv" else "")
            for name, (kind, url) in sources.items()
        ),
        encoding="utf-8",
    )
    return path


def crawl(path: Path, *names: str, stderr: int = subprocess.PIPE) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "jobs", "--config", str(path), "crawl", *names, "--no-alerts"],
        stdout=subprocess.PIPE, stderr=stderr, text=True,
    )  # fmt: skip


def test_each_source_is_reported_as_it_finishes(tmp_path: Path) -> None:
    """On a terminal, a progress line (sources done of all, time elapsed) sits under them."""
    released = threading.Event()
    leader, follower = pty.openpty()
    with (
        running(LocalServer(handler(released))) as one,
        running(LocalServer(handler(released))) as other,
    ):
        path = config(
            tmp_path,
            {"slow": ("table", f"{one.base_url}/slow.html"),
             "fast": ("table", f"{other.base_url}/fast.html")},
        )  # fmt: skip
        command = crawl(path, "slow", "fast", stderr=follower)
        os.close(follower)
        assert command.stdout is not None
        try:
            header = command.stdout.readline()
            fast = command.stdout.readline()
            # the slow page has not answered yet, and the fast one is already on screen
            assert command.poll() is None and not released.is_set()
        finally:
            released.set()
        out, _ = command.communicate(timeout=120)
    shown = b""
    with os.fdopen(leader, "rb", buffering=0) as terminal, contextlib.suppress(OSError):
        while chunk := terminal.read(4096):  # EIO once the writer side is closed
            shown += chunk
    assert "status" in header and fast.startswith("fast  ok"), header + fast + out
    assert out.startswith("slow  ok"), out
    assert command.returncode == 0, out
    assert b"1/2 sources" in shown and b"s elapsed" in shown, shown


def test_a_host_that_cannot_be_found_is_tried_once(tmp_path: Path) -> None:
    """Scrapy's path (a page) and the streamed one (a csv) alike; the reason does not
    repeat the source's name, and the advice is the network's."""
    path = config(
        tmp_path,
        {"page": ("table", "http://crossings-test.invalid/table.html"),
         "file": ("csv", "http://crossings-test.invalid/data.csv")},
    )  # fmt: skip
    out, err = crawl(path, "page", "file").communicate(timeout=120)
    assert "sources," not in err  # no progress line on a pipe
    lines = out.splitlines()
    for name in ("page", "file"):
        [at] = [i for i, line in enumerate(lines) if line.startswith(f"{name}  failed")]
        reason = lines[at + 1].strip()
        assert reason == "-> cannot find the host crossings-test.invalid (DNS)", out + err
    assert "To try: check the address and this machine's network" in out, out + err
    with Store(tmp_path / "crossings.db", read_only=True) as store:
        for name in ("page", "file"):
            [run] = store.runs.recent(name)
            assert (run.status, run.requests) == ("failed", 1), run


def test_a_broken_page_points_at_the_page_and_the_config(tmp_path: Path) -> None:
    released = threading.Event()
    released.set()
    with running(LocalServer(handler(released))) as site:
        path = config(tmp_path, {"wrong": ("table", f"{site.base_url}/fast.html")})
        path.write_text(
            path.read_text(encoding="utf-8") + 'caption = "No such table"\n', encoding="utf-8"
        )
        out, err = crawl(path, "wrong").communicate(timeout=120)
    assert "wrong  broken" in out, out + err
    # The broken run's own reason says what to do, once, and nothing mentions the network.
    assert out.count("inspect --source wrong") == 1, out
    assert "reparse wrong" in out and "network" not in out, out


def test_the_daemons_run_line_names_the_source_once() -> None:
    """The daemon's log line per run says the reason without its stored source prefix,
    as `crawl` does (`trac-backlog failed ... — cannot find the host ...`)."""
    result = RunResult(
        source="trac-backlog", run_id=7, status=RunStatus.FAILED,
        reason="trac-backlog: cannot find the host tracreports.org (DNS)",
    )  # fmt: skip
    text, fields = run_summary(result, "schedule")
    assert text.count("trac-backlog") == 1, text
    assert text.endswith("— cannot find the host tracreports.org (DNS)")
    assert fields["source"] == "trac-backlog"
