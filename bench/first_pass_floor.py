"""The first pass's floor, in one run beside urlwatch: over the same N pages of the
synthetic site (bench/checks.py's), what each part of a first pass costs at the least,
so that "crossings against urlwatch" can be read against what cannot go away.

  urlwatch          urlwatch's first pass (N url jobs, as bench/checks.py runs it)
  fetch             the lightest client: http.client, one page after the other, each
                    read whole; no parse, no store (a process: start-up included)
  imports           the interpreter and the modules a crawl imports (crossings, Scrapy)
  scrapy            Scrapy alone: crossings' Scrapy settings and components, a spider that
                    drops every response (no extraction, no store, no robots.txt)
  crossings         crossings' whole first pass (`crawl --all`, N table sources)
and, in one process over the pages rendered in memory (work only, no start-up):
  parse             lxml's parse of each page, as the table kind parses it
  extract           crossings' extraction of each page (the parse included)
  insert            SQLite alone: each page's 240 values inserted into the real schema
                    (`Store`: its indexes and pragmas, storage's INSERT statement), one
                    transaction a page
  store             crossings' storing of each page (`Recorder`: run rows, snapshot,
                    the values' upsert)
Each repetition starts a fresh site; the processes alternate their order.

    .venv/bin/python bench/first_pass_floor.py --pages 1000 --repeat 2
"""

import argparse
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

import checks
import harness
import statsite
from sources import table_config

PROCESSES = ("urlwatch", "fetch", "imports", "scrapy", "crossings")
IN_PROCESS = ("parse", "extract", "insert", "store")
IMPORTS = "import jobs.cli.crawl, scrapers.crawl, scrapers.spider, scrapy.crawler"
# storage's statement for a new value (storage.observations.Observations.upsert)
INSERT = """INSERT INTO observations (metric, period, value, unit, flags, snapshot_id,
               first_seen, last_seen, previous_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"""


# --- the children ----------------------------------------------------------------------------


def fetch(url: str, pages: int) -> None:
    """Every page read whole and dropped, a connection each (as urlwatch: one kept alive
    waits ~40 ms a page here, the site's two writes against the client's delayed ACK)."""
    parts = urlsplit(url)
    size = 0
    for index in range(pages):
        connection = http.client.HTTPConnection(parts.hostname, parts.port)
        connection.request("GET", statsite.page_path(index))
        response = connection.getresponse()
        size += len(response.read())
        if response.status != 200:
            raise SystemExit(f"{statsite.page_path(index)}: HTTP {response.status}")
        connection.close()
    print(json.dumps({"bytes": size}))


def scrapy_alone(url: str, pages: int) -> None:
    """Scrapy with crossings' settings and Scrapy components; the spider drops every
    response (crossings' own middlewares and its store pipeline are left out)."""
    import scrapy
    from scrapy.crawler import CrawlerProcess

    from scrapers.fetching import FetchSettings

    settings = FetchSettings(download_delay=0, obey_robots_txt=False).scrapy_settings()
    settings["DOWNLOADER_MIDDLEWARES_BASE"] = {
        name: order
        for name, order in settings["DOWNLOADER_MIDDLEWARES_BASE"].items()
        if name.startswith("scrapy.")
    }
    settings["ITEM_PIPELINES"] = {}
    received = []

    class Dropping(scrapy.Spider):
        name = "dropping"

        async def start(self):  # type: ignore[override]
            for index in range(pages):
                yield scrapy.Request(url.rstrip("/") + statsite.page_path(index), dont_filter=True)

        def parse(self, response):  # type: ignore[override]
            received.append(len(response.body))

    process = CrawlerProcess(settings)
    process.crawl(Dropping)
    process.start()
    print(json.dumps({"bytes": sum(received), "responses": len(received)}))


def in_process(pages: int) -> None:
    """Parse, extract, insert and store every page, each timed apart (CPU seconds)."""
    import lxml.html

    from jobs.config import load
    from scrapers.extract import Page, extract
    from scrapers.recorder import Fetch, Recorder
    from storage import Store

    directory = Path(tempfile.mkdtemp())
    url = "http://127.0.0.1:1"  # never fetched: the pages are rendered here
    config = load(table_config(directory, url + "/", pages, {"download_delay": 0.0}))
    names = sorted(config.sources)
    bodies = [statsite.render_page(i, 0) for i in range(pages)]
    spent = {}

    started = time.process_time()
    for body in bodies:
        lxml.html.document_fromstring(body)
    spent["parse"] = time.process_time() - started

    started = time.process_time()
    extractions = [
        extract(config.sources[name], Page(url=url + statsite.page_path(index), body=body))
        for index, (name, body) in enumerate(zip(names, bodies, strict=True))
    ]
    spent["extract"] = time.process_time() - started

    rows = [
        [(o.metric, o.period, o.value, o.unit, "", None, "2026-01-01T00:00:00Z",
          "2026-01-01T00:00:00Z", None) for o in extraction.observations]
        for extraction in extractions
    ]  # fmt: skip
    with Store(directory / "insert.db") as store:
        store.appending()
        conn = store.db.conn
        started = time.process_time()
        for page in rows:
            conn.execute("BEGIN")
            conn.executemany(INSERT, page)
            conn.execute("COMMIT")
        spent["insert"] = time.process_time() - started
        values = conn.execute("SELECT COUNT(*) FROM observations").fetchone()[0]

    with Store(directory / "store.db") as store:
        store.appending()
        recorder = Recorder(store)
        started = time.process_time()
        for index, (name, body, extraction) in enumerate(
            zip(names, bodies, extractions, strict=True)
        ):
            run = recorder.start(name, config.sources[name], trigger="bench", pid=None)
            page_url = url + statsite.page_path(index)
            recorder.page(run, Fetch(url=page_url, http_status=200, body=body), extraction)
            recorder.finish(run, "ok")
        spent["store"] = time.process_time() - started
    shutil.rmtree(directory, ignore_errors=True)
    print(json.dumps({"cpu_s": spent, "values": values}))


# --- the run ---------------------------------------------------------------------------------


def measure_process(name: str, pages: int, site: harness.SiteProcess, directory: Path) -> dict:
    python = str(harness.project_python())
    if name == "urlwatch":
        command = checks.urlwatch_setup(directory, site.url, pages)
    elif name == "crossings":
        config = checks.crossings_config(directory, site.url, pages)
        command = [*harness.crossings_command(), "--config", str(config), "crawl", "--all"]
    elif name == "imports":
        directory.mkdir(parents=True)
        command = [python, "-c", IMPORTS]
    else:
        directory.mkdir(parents=True)
        command = [python, __file__, f"--{name}", site.url, "--pages", str(pages)]
    site.reset()
    before = site.stats()["200"]
    run = harness.measure(command, cwd=directory).check(name)
    served = site.stats()["200"] - before
    if name != "imports" and served < pages:  # crossings also asks for robots.txt
        raise SystemExit(f"{name}: {served} pages served, not {pages}")
    return {"wall_s": run.wall_s, "cpu_s": run.cpu_s, "peak_rss_mb": run.max_process_rss_mb}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--fetch", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--scrapy", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--in-process", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.fetch:
        fetch(args.fetch, args.pages)
    elif args.scrapy:
        scrapy_alone(args.scrapy, args.pages)
    elif args.in_process:
        in_process(args.pages)
    else:
        measure_all(args.pages, args.repeat)


def measure_all(pages: int, repeat: int) -> None:
    work = harness.WORK / "first-pass-floor"
    shutil.rmtree(work, ignore_errors=True)
    runs: dict[str, list[dict]] = {name: [] for name in (*PROCESSES, *IN_PROCESS)}
    loads = [os.getloadavg()[0]]
    for rep in range(repeat):
        with harness.site(pages) as site:
            for name in harness.alternating(PROCESSES, rep):
                result = measure_process(name, pages, site, work / f"{name}-{rep}")
                runs[name].append(result)
                print(f"  rep {rep + 1} {name:<9} {result}", flush=True)
        command = [str(harness.project_python()), __file__, "--in-process", "--pages"]
        done = subprocess.run([*command, str(pages)], capture_output=True, text=True)
        if done.returncode:
            raise SystemExit(done.stderr)
        local = json.loads(done.stdout.strip().splitlines()[-1])
        if local["values"] != 240 * pages:
            raise SystemExit(f"inserted {local['values']} values, not {240 * pages}")
        for name in IN_PROCESS:
            runs[name].append({"cpu_s": local["cpu_s"][name]})
        print(f"  rep {rep + 1} in-process {local['cpu_s']}", flush=True)
        loads.append(os.getloadavg()[0])
        shutil.rmtree(work, ignore_errors=True)
    data = {
        "pages": pages,
        "repeat": repeat,
        "load_average": loads,
        "medians": {
            name: {key: harness.median([run[key] for run in rs]) for key in rs[0]}
            for name, rs in runs.items()
        },
        "runs": runs,
    }
    harness.publish("first-pass-floor", data, report)


def report(data: dict) -> str:
    medians, pages = data["medians"], data["pages"]
    urlwatch = medians["urlwatch"]["cpu_s"]
    rows = []
    for name in (*PROCESSES, *IN_PROCESS):
        row = medians[name]
        rows.append(
            [name, row.get("wall_s", "-"), row["cpu_s"], row["cpu_s"] / pages * 1000,
             row["cpu_s"] / urlwatch, row.get("peak_rss_mb", "-")]
        )  # fmt: skip
    floor = medians["fetch"]["cpu_s"] + medians["parse"]["cpu_s"] + medians["insert"]["cpu_s"]
    rows.append(["fetch + parse + insert", "-", floor, floor / pages * 1000, floor / urlwatch, "-"])
    header = ["part", "wall s", "CPU s", "CPU ms a page", "CPU / urlwatch's", "peak MB"]
    loads = ", ".join(f"{load:.1f}" for load in data["load_average"])
    return harness.table(rows, header) + f"\n\n{pages} pages; load average {loads}"


if __name__ == "__main__":
    main()
