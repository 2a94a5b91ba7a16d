"""A/B in fresh processes: what a first pass costs crossings per page apart from Scrapy -
extracting the synthetic site's page (`table` kind) and storing it (snapshot, 240 values,
run rows) - with this checkout's code and another's, alternating which goes first. CPU
milliseconds per page (extract, store), and a digest of the stored observations: equal
digests mean both codes stored the same values.

    .venv/bin/python bench/ab_page.py --against ../main --pages 1000 --repeat 3
"""

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness
import statsite
from sources import table_config

URL = "http://127.0.0.1:1/"  # never fetched: the pages are rendered in-process


def child(pages: int) -> None:
    """One run with the code first on the path (PYTHONPATH): extract and store `pages`."""
    from jobs.config import load
    from scrapers.extract import Page, extract
    from scrapers.recorder import Fetch, Recorder
    from storage import Store

    directory = Path(tempfile.mkdtemp())
    config = load(table_config(directory, URL, pages, {"download_delay": 0.0}))
    bodies = [statsite.render_page(i, 0) for i in range(pages)]
    store = Store(directory / "crossings.db")
    recorder = Recorder(store)
    extracting = storing = 0.0
    for index, name in enumerate(sorted(config.sources)):
        source, url = config.sources[name], f"{URL.rstrip('/')}{statsite.page_path(index)}"
        started = time.process_time()
        extraction = extract(source, Page(url=url, body=bodies[index]))
        parsed = time.process_time()
        run = recorder.start(name, source, trigger="bench", pid=None)
        recorder.page(run, Fetch(url=url, http_status=200, body=bodies[index]), extraction)
        recorder.finish(run, "ok")
        extracting, storing = extracting + parsed - started, storing + time.process_time() - parsed
    digest = hashlib.sha256()
    for row in store.db.conn.execute(
        "SELECT metric, period, value, unit, flags, snapshot_id, previous_id FROM observations"
        " ORDER BY id"
    ):
        digest.update(repr(row).encode())
    print(json.dumps({"extract_ms": extracting / pages * 1000, "store_ms": storing / pages * 1000,
                      "results": digest.hexdigest()[:16]}))  # fmt: skip


def run_with(code: Path, pages: int) -> dict:
    command = [sys.executable, __file__, "--child", "--pages", str(pages)]
    env = {**os.environ, "PYTHONPATH": f"{code.resolve()}{os.pathsep}{harness.BENCH}"}
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", type=Path, required=False)
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.pages)
        return
    codes = {"this": harness.ROOT, **({"against": args.against} if args.against else {})}
    runs: dict[str, list[dict]] = {name: [] for name in codes}
    for rep in range(args.repeat):
        for name in sorted(codes, reverse=rep % 2 == 1):
            runs[name].append(run := run_with(codes[name], args.pages))
            print(f"  rep {rep + 1} {name}: {run}", flush=True)
    rows = []
    for key in ("extract_ms", "store_ms"):
        medians = [harness.median([run[key] for run in runs[name]]) for name in codes]
        rows.append([key, *medians])
    rows.append(["results", *("/".join(sorted({r["results"] for r in runs[n]})) for n in codes)])
    print(harness.table(rows, ["CPU ms a page", *(str(codes[name]) for name in codes)]))
    print(f"\nload average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
