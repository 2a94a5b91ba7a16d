"""`crossings backfill` as a user runs it, over a real pywb server replaying a WARC
collection built from the project's real captures (TRAC's detention JSON, ICE's FY2026
workbook) at several capture dates plus changed versions of them; and over a local server
answering in the Internet Archive's CDX form, for what goes wrong with an archive."""

import json
import threading
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from core.checked import free_port
from jobs.config import load
from storage import Observation, Store
from tests.archives import Archived, pywb
from tests.commands import crossings
from tests.query.servers import serving
from tests.serving import LocalServer, QuietHandler, running

REAL = Path(__file__).parent.parent / "fixtures" / "real"
TRAC_URL = "https://tracreports.org/immigration/detentionstats/pop_agen_table.json"
TRAC_BYTES = (REAL / "trac_pop_agen_table_2026-07-11.json").read_bytes()
TRAC = json.loads(TRAC_BYTES)
ICE_LANDING = "https://www.ice.gov/detain/detention-management"
ICE_FILE = "https://www.ice.gov/doclib/detention/FY26_detentionStats_02122026.xlsx"
ICE_NEXT = "https://www.ice.gov/doclib/detention/FY26_detentionStats_02262026.xlsx"
ICE_BYTES = (REAL / "ice_detention_stats_fy2026_2026-02-12.xlsx").read_bytes()
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

CONFIG = """[settings]
database = "crossings.db"
contact = "desk@example.org"
retries = 2

[sources.trac-detention]
kind = "json"
url = "{trac}"
period = "date"
unit = "people"

[sources.trac-detention.values]
total_all = "trac.detention.total"
ice_all = "trac.detention.ice"

[sources.ice-detention]
kind = "xlsx"
url = "{ice}"
link = '(?i)detention-?stats_?\\d{{4,8}}\\.xlsx$'
sheet = "Detention FY*"
table_title = "ICE Currently Detained by Criminality and Arresting Agency"
periods = "as_of"
as_of = "file"
as_of_regex = '(?P<month>\\d\\d)(?P<day>\\d\\d)(?P<year>\\d{{4}})\\.xlsx$'
metric = "ice.detained.{{row}}.{{column}}"
unit = "people"

[channels.desk]
kind = "webhook"
url = "http://127.0.0.1:9/never"

[rules.revised]
kind = "revision"
metric = "trac.*"
channels = ["desk"]

[rules.high]
kind = "threshold"
metric = "trac.detention.total"
above = 68000
channels = ["desk"]
"""


def records(until: str, revise: float | None = None) -> bytes:
    """TRAC's real records up to the day `until` (MM/DD/YYYY), as the file then read;
    `revise`: 02/07/2026's total changed to that figure (a changed version)."""
    day = _sortable(until)
    kept = [dict(row) for row in TRAC if _sortable(row["date"]) <= day]
    for row in kept:
        if revise is not None and row["date"] == "02/07/2026":
            row["total_all"] = revise
    return json.dumps(kept, separators=(",", ":")).encode()


def _sortable(day: str) -> str:
    month, date, year = day.split("/")
    return f"{year}{month}{date}"


def landing(href: str) -> bytes:
    """ICE's landing page as crossings' tests write it (no real copy was had; the file
    links are as ICE writes them)."""
    return (f'<html><body><h2>Detention Statistics</h2><ul><li><a href="{href}">FY2026 '
            'Detention Statistics</a></li></ul></body></html>').encode()  # fmt: skip


REDIRECT = (("Location", "https://tracreports.org/login"),)
ERROR_PAGE = b"<html><h1>Service Unavailable</h1></html>"
CAPTURES = [
    Archived(TRAC_URL, "20260210120000", records("02/07/2026")),
    Archived(TRAC_URL, "20260301120000", records("02/07/2026")),  # identical: collapsed
    Archived(TRAC_URL, "20260410120000", records("04/04/2026", revise=68290)),
    Archived(TRAC_URL, "20260601120000", b"", "text/html", "302 Found", REDIRECT),
    Archived(TRAC_URL, "20260715120000", TRAC_BYTES),  # the real file, byte for byte
    Archived(TRAC_URL, "20260801120000", ERROR_PAGE, "text/html"),  # archived as 200
    Archived(ICE_LANDING, "20260215090000", landing(ICE_FILE), "text/html"),
    Archived(ICE_FILE, "20260214090000", ICE_BYTES, XLSX),
    Archived(ICE_LANDING, "20260301090000", landing(ICE_NEXT), "text/html"),
    Archived(ICE_NEXT, "20260227090000", ICE_BYTES[: len(ICE_BYTES) // 2], XLSX),  # cut short
]


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pywb")
    with pywb(folder / "archive", CAPTURES) as address:
        config = folder / "crossings.toml"
        config.write_text(CONFIG.format(trac=TRAC_URL, ice=ICE_LANDING))
        yield address, config, folder / "crossings.db"


def backfill(config: Path, source: str, archive: str, *more: str):
    return crossings(config, "backfill", source, "--archive", archive, "--delay", "0", *more)


def history(database: Path, metric: str, period: str) -> list[tuple[float, str]]:
    with Store(database, read_only=True) as store:
        return [(p.value, p.first_seen[:10]) for p in store.observations.history(metric, period)]


def test_backfill_from_pywb_stores_dated_vintages_revisions_and_past_events(archive):
    address, config, database = archive
    dry = backfill(config, "trac-detention", address, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "would fetch 5" in dry.stdout  # six captures, two identical
    window = backfill(config, "trac-detention", address, "--dry-run", "--since", "2026-03-01",
                      "--until", "2026-07-15")  # fmt: skip
    assert "would fetch 4" in window.stdout and "2026-03-01T12:00:00" in window.stdout
    assert not database.exists() or history(database, "trac.detention.total", "2026-02-07") == []

    done = backfill(config, "trac-detention", address)
    assert done.returncode == 0, done.stderr
    # 02/07/2026 as TRAC published it, capture by capture: revised, then revised back
    assert history(database, "trac.detention.total", "2026-02-07") == [
        (68289, "2026-02-10"), (68290, "2026-04-10"), (68289, "2026-07-15")
    ]  # fmt: skip
    assert history(database, "trac.detention.total", "2026-07-11") == [(65765, "2026-07-15")]
    said = done.stdout + done.stderr
    assert "(20260601120000)" in said and "redirect" in said
    assert "(20260801120000)" in said  # the error page, one line
    with Store(database, read_only=True) as store:
        snapshots = store.db.query(
            "SELECT fetched_at, archive, archive_timestamp FROM snapshots ORDER BY fetched_at"
        )
        rows = list(snapshots)
        assert {row["archive"] for row in rows} == {address}
        assert rows[0]["fetched_at"].startswith("2026-02-10T12:00:00")
        events = list(
            store.db.query("SELECT rule, kind, period, historical FROM events ORDER BY id")
        )
        assert ("revised", "2026-02-07") in {(e["rule"], e["period"]) for e in events}
        assert {"revised", "high"} == {e["rule"] for e in events}
        assert all(event["historical"] for event in events)
        assert store.db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0] == 0
        stored = store.snapshots.counts()["snapshots"]

    as_of = crossings(config, "series", "trac.detention.total", "--as-of", "2026-05-01", "--json")
    shown = {row["period"]: row["value"] for row in json.loads(as_of.stdout)}
    assert shown["2026-02-07"] == 68290 and "2026-07-11" not in shown

    again = backfill(config, "trac-detention", address)
    assert "0 fetched" in again.stdout, again.stdout
    with Store(database, read_only=True) as store:
        assert store.snapshots.counts()["snapshots"] == stored
    runs = crossings(config, "runs", "trac-detention")
    assert "backfill" in runs.stdout and address in runs.stdout
    backtest = crossings(config, "alerts", "backtest", "high", "--json")
    replayed = [(row["kind"], row["period"]) for row in json.loads(backtest.stdout)]
    assert "firing" in {kind for kind, _ in replayed}
    # the backtest over the backfilled history tells the dates the backfill recorded
    assert replayed == [(e["kind"], e["period"]) for e in events if e["rule"] == "high"]


def test_the_source_page_shows_captures_apart_from_live_snapshots(archive):
    address, config, _ = archive
    with serving(load(config)) as site:
        page = requests.get(f"{site}/sources/trac-detention", timeout=30).text
    live, archived = page.split("Read from web archives")
    assert "No snapshot stored." in live  # nothing fetched live yet
    assert f"{address}/20260210120000id_/{TRAC_URL}" in archived
    snapshot = archived.split('<a href="/snapshots/')[1].split('"')[0]
    with serving(load(config)) as site:
        page = requests.get(f"{site}/snapshots/{snapshot}", timeout=30).text
    assert "read from the web archive" in page and address in page


def test_backfill_reads_only_the_time_before_the_first_live_crawl(archive, tmp_path):
    address, shared, _ = archive
    config = tmp_path / "crossings.toml"
    config.write_text(shared.read_text())
    live = "2026-05-01T07:35:00.000000Z"  # the first crawl, here through the storage API
    with Store(tmp_path / "crossings.db") as store:
        snapshot = store.snapshots.record(
            source="trac-detention", url=TRAC_URL, http_status=200, body=TRAC_BYTES, fetched_at=live
        )
        store.observations.upsert([Observation("trac.detention.total", "2026-02-07", 68289)],
                                  snapshot_id=snapshot.id, at=live)  # fmt: skip
    done = backfill(config, "trac-detention", address)
    assert done.returncode == 0, done.stderr
    assert "2 fetched" in done.stdout  # 2026-02-10 and 2026-04-10; 2026-05-01 on: live
    assert history(tmp_path / "crossings.db", "trac.detention.total", "2026-02-07") == [
        (68289, "2026-02-10"), (68290, "2026-04-10"), (68289, "2026-05-01")
    ]  # fmt: skip
    shown = crossings(config, "series", "trac.detention.total", "--as-of", "2026-03-01", "--json")
    assert {row["period"]: row["value"] for row in json.loads(shown.stdout)}["2026-02-07"] == 68289


def test_backfill_of_a_link_source_reads_the_files_its_landing_pages_linked(archive):
    address, config, database = archive
    done = backfill(config, "ice-detention", address)
    assert done.returncode == 0, done.stderr
    with Store(database, read_only=True) as store:
        total = store.observations.series("ice.detained.total.total")
    assert [(p.period, p.value, p.first_seen[:10]) for p in total] == [
        ("2026-02-12", 68289, "2026-02-14")
    ]
    said = done.stdout + done.stderr
    cut = next(line for line in said.splitlines() if "(20260227090000)" in line)
    assert "FY26_detentionStats_02262026.xlsx" in cut and "cannot be read" in cut
    again = backfill(config, "ice-detention", address)
    assert "0 fetched" in again.stdout


def test_a_capture_whose_layout_differs_from_todays_is_a_line_and_stores_no_values(
    archive, tmp_path
):
    address, shared, _ = archive
    config = tmp_path / "crossings.toml"
    config.write_text(shared.read_text())
    with Store(tmp_path / "crossings.db") as store:  # today's table, as a live crawl read it
        columns = ("Criminality", "ICE", "Percent ICE", "CBP", "Percent CBP", "Total")
        rows = ("Total", "Convicted Criminal", "Pending Criminal Charges", "Other Violator")
        store.layouts.remember("ice-detention", columns, rows, None)
    done = backfill(config, "ice-detention", address)
    assert done.returncode == 0, done.stderr
    line = next(line for line in done.stdout.splitlines() if "(20260214090000)" in line)
    assert "layout differs from today's" in line and "'Other Immigration Violator'" in line
    with Store(tmp_path / "crossings.db", read_only=True) as store:
        assert store.observations.series("ice.detained.total.total") == []
        assert store.layouts.get("ice-detention").rows == rows  # today's is kept


class IAHandler(QuietHandler):
    """The Internet Archive's API, its way: the index as one JSON array with a header row."""

    asked: list[str] = []
    lock = threading.Lock()

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        with self.lock:
            self.asked.append(self.path)
            times = self.asked.count(self.path)
        if parts.path == "/cdx/search/cdx":
            url = parse_qs(parts.query)["url"][0]
            if "broken" in url:
                self.reply(200, b"<html>Wayback Machine is down for maintenance</html>",
                           "text/html")  # fmt: skip
                return
            rows = [["urlkey", "timestamp", "original", "mimetype", "statuscode", "digest",
                     "length"]]  # fmt: skip
            for stamp, digest in (("20260210120000", "A"), ("20260410120000", "B"),
                                  ("20260715120000", "C")):  # fmt: skip
                rows.append(["org,tracreports)/x", stamp, url, "application/json", "200",
                             digest, "900"])  # fmt: skip
            self.reply(200, json.dumps(rows).encode(), "application/json")
        elif "20260210120000id_" in parts.path and times == 1:
            self.reply(429, b"slow down", "text/plain", {"Retry-After": "1"})
        elif "20260410120000id_" in parts.path:  # the connection ends mid-body
            body = records("04/04/2026")
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[:100])
            self.close_connection = True
        elif "id_/" in parts.path:
            stamp = parts.path.split("/")[2][:14]
            body = records("02/07/2026") if stamp.startswith("202602") else TRAC_BYTES
            self.reply(200, body, "application/json")
        else:
            self.reply(404, b"", "text/plain")


def test_internet_archive_form_rate_limits_cuts_and_bad_answers(tmp_path):
    config = tmp_path / "crossings.toml"
    config.write_text(
        CONFIG.format(trac=TRAC_URL, ice=ICE_LANDING)
        + '\n[sources.broken]\nkind = "json"\nurl = "https://tracreports.org/broken.json"\n'
        'period = "date"\n[sources.broken.values]\ntotal_all = "x.total"\n'
    )
    database = tmp_path / "crossings.db"
    handler: type[BaseHTTPRequestHandler] = type("Handler", (IAHandler,), {"asked": []})
    with running(LocalServer(handler)) as server:
        address = f"{server.base_url}/web"
        done = backfill(config, "trac-detention", address)
        assert done.returncode == 0, done.stderr
        assert any("20260210120000id_" in asked for asked in handler.asked[1:])  # retried
        cut = next(line for line in done.stdout.splitlines() if "(20260410120000)" in line)
        assert "cut short" in cut and "next run tries again" in cut
        assert [v for v, _ in history(database, "trac.detention.total", "2026-02-07")] == [68289]
        # a second run asks only for what the first could not have
        again = backfill(config, "trac-detention", address)
        assert "1 fetched" in again.stdout, again.stdout

        broken = backfill(config, "broken", address)
        assert broken.returncode == 1
        assert "did not answer a CDX JSON list" in broken.stderr

    down = backfill(config, "trac-detention", f"http://127.0.0.1:{free_port()}/web")
    assert down.returncode == 1
    assert "refused" in down.stderr and "stopped" in down.stderr
    with Store(database, read_only=True) as store:  # nothing stored is lost
        assert [p.value for p in store.observations.series("trac.detention.total")]


def test_a_spent_budget_stops_the_run_and_the_next_goes_on(tmp_path):
    config = tmp_path / "crossings.toml"
    config.write_text(CONFIG.format(trac=TRAC_URL, ice=ICE_LANDING))
    handler: type[BaseHTTPRequestHandler] = type("Handler", (IAHandler,), {"asked": []})
    with running(LocalServer(handler)) as server:
        address = f"{server.base_url}/web"
        # robots.txt, the index, the first capture (429), its retry: over budget
        first = backfill(config, "trac-detention", address, "--budget", "3")
        assert first.returncode == 1
        assert "request budget of this backfill (3) is spent" in first.stderr
        runs = crossings(config, "runs", "trac-detention", "--json")
        assert [run["status"] for run in json.loads(runs.stdout)] == ["interrupted"]
        second = backfill(config, "trac-detention", address)
        assert "3 fetched" in second.stdout, second.stdout
    assert [v for v, _ in history(tmp_path / "crossings.db", "trac.detention.total",
                                  "2026-02-07")] == [68289]  # fmt: skip
