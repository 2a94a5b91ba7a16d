"""1,000 `table` sources crawled through the local runner vs through two Scrapyd nodes on
this same machine: the point is the overhead of the Scrapyd path (a job per node and
batch, records through the item feed, ingestion in the daemon), not a speed-up.

Both are driven as the daemon drives them: batches of MAX_BATCH sources, at most
`max_concurrent_crawls` (2) batches at once, each batch one `Runner.crawl`. Passes:
**first** (every page new) and **same** (every page answers 304). Measured per pass:
wall seconds; CPU seconds of the driver and its children plus the nodes' (scrapyd and
the crawl processes it reaped); the driver's peak RSS (the daemon's share: for Scrapyd
it ingests); for Scrapyd, the CPU seconds the daemon spends ingesting records.

  .venv/bin/python bench/scaleout.py              # 1,000 sources
  .venv/bin/python bench/scaleout.py --quick      # 200 sources
"""

import argparse
import asyncio
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import harness
import report
from sources import table_config

from tests.scrapyd.nodes import PASSWORD, USERNAME, ScrapydNode

TICKS = os.sysconf("SC_CLK_TCK")


def write_config(directory: Path, url: str, sources: int, runner: str, nodes: list[str]) -> Path:
    settings = {"download_delay": 0.0, "runner": runner, "scrapyd_nodes": nodes}
    return table_config(directory, url, sources, settings)


def tree_cpu_s(pid: int) -> float:
    """CPU seconds of a process and the children it has reaped (utime+stime+cutime+cstime)."""
    with open(f"/proc/{pid}/stat", "rb") as stat:
        fields = stat.read().rsplit(b")", 1)[1].split()
    return sum(int(value) for value in fields[11:15]) / TICKS


def drive(config: Path) -> None:
    """One pass through the runner the config names, as the daemon batches it; prints
    its figures as one JSON line (run in a process of its own, so RSS is its own)."""
    from jobs.config import load
    from jobs.runners import runner_for
    from jobs.runners.scrapyd_jobs import RunRows
    from jobs.scheduling.scheduler import MAX_BATCH
    from storage import SourceEntry, Store

    loaded = load(config)
    names = list(loaded.sources)
    with Store(loaded.database) as store:  # as the daemon prepares it at start-up
        store.catalog.sync_sources(
            SourceEntry(name, s.kind, s.url, s.title) for name, s in loaded.sources.items()
        )
    runner = runner_for(loaded, timeout=1800)
    ingest = {"seconds": 0.0, "cpu_s": 0.0}
    if loaded.settings.runner == "scrapyd":
        store = RunRows.store

        def timed(self, job, feed):
            started, cpu = time.perf_counter(), time.thread_time()
            try:
                return store(self, job, feed)
            finally:
                ingest["seconds"] += time.perf_counter() - started
                ingest["cpu_s"] += time.thread_time() - cpu

        RunRows.store = timed

    async def everything():
        slots = asyncio.Semaphore(loaded.settings.max_concurrent_crawls)

        async def batch(chunk):
            async with slots:
                return await runner.crawl(chunk)

        chunks = [names[i : i + MAX_BATCH] for i in range(0, len(names), MAX_BATCH)]
        return [r for results in await asyncio.gather(*map(batch, chunks)) for r in results]

    started = time.perf_counter()
    results = asyncio.run(everything())
    wall = time.perf_counter() - started
    statuses: dict[str, int] = {}
    for result in results:
        statuses[result.status] = statuses.get(result.status, 0) + 1
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(
        json.dumps(
            {
                "wall_s": wall,
                "driver_cpu_s": own.ru_utime + own.ru_stime,
                "children_cpu_s": children.ru_utime + children.ru_stime,
                "driver_peak_rss_mb": own.ru_maxrss / 1024,
                "ingest_s": ingest["seconds"],
                "ingest_cpu_s": ingest["cpu_s"],
                "statuses": statuses,
            }
        )
    )


def one_pass(config: Path, nodes: list[ScrapydNode], what: str, runner: str) -> dict:
    env = {**os.environ, "SCRAPYD_USERNAME": USERNAME, "SCRAPYD_PASSWORD": PASSWORD}
    if runner == "scrapyd":  # this code, as it is now, on the nodes (not measured)
        subprocess.run(
            [str(harness.project_python()), __file__, "--deploy", *(n.url for n in nodes)],
            env=env, check=True,
        )  # fmt: skip
    before = sum(tree_cpu_s(node.process.pid) for node in nodes)
    done = subprocess.run(
        [str(harness.project_python()), __file__, "--drive", str(config)],
        capture_output=True, text=True, env=env, cwd=config.parent,
    )  # fmt: skip
    if done.returncode:
        raise RuntimeError(f"{what} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    time.sleep(1.0)  # let the nodes reap their last crawl processes
    figures["nodes_cpu_s"] = sum(tree_cpu_s(node.process.pid) for node in nodes) - before
    figures["cpu_s"] = figures["driver_cpu_s"] + figures["children_cpu_s"] + figures["nodes_cpu_s"]
    return figures


def deploy(urls: list[str]) -> None:
    from jobs.scrapyd import client, egg

    built = egg.build()

    async def upload():
        credentials = client.Credentials("SCRAPYD_USERNAME", "SCRAPYD_PASSWORD")
        async with client.session() as session:
            for url in urls:
                await client.Node(url, session, credentials).add_version(built.version, built.data)

    asyncio.run(upload())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="200 sources")
    parser.add_argument("--drive", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--deploy", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.drive:
        drive(args.drive)
        return
    if args.deploy:
        deploy(args.deploy)
        return
    if args.quick:
        args.sources = 200
    work = harness.WORK / "scaleout"
    shutil.rmtree(work, ignore_errors=True)
    nodes = [ScrapydNode(work / f"node-{name}") for name in ("a", "b")]
    passes: dict[str, list[dict]] = {"local": [], "scrapyd": []}
    try:
        with harness.site(args.sources) as site:
            for rep in range(args.repeat):
                for runner in harness.alternating(("local", "scrapyd"), rep):
                    directory = work / f"{runner}-{rep}"
                    config = write_config(
                        directory, site.url, args.sources, runner, [n.url for n in nodes]
                    )
                    for name in ("first", "same"):
                        figures = one_pass(config, nodes, f"{runner} {name}", runner)
                        figures.update(runner=runner, rep=rep)
                        figures["pass"] = name
                        passes[runner].append(figures)
                        print(json.dumps(figures), flush=True)
    finally:
        for node in nodes:
            node.stop()
    data = {"sources": args.sources, "repeat": args.repeat, "passes": passes}
    path = harness.write_results("scaleout-quick" if args.quick else "scaleout", data)
    print(report.scaleout(json.loads(path.read_text())))


if __name__ == "__main__":
    main()
