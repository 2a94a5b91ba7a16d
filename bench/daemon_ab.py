"""Issue 26's daemon targets, this code against another checkout (A/B, alternating): the
idle daemon's own RSS and the crawl child for one source, with N = 1,000 and 10,000 `table`
sources configured. Quicker than bench/daemon.py: the database is seeded with one good run
per source (nothing overdue) instead of crawled. The child of this code is started as the
daemon starts it (handed [settings] and its source on stdin, `--given`); the other code's
child as its daemon starts it.

  .venv/bin/python bench/daemon_ab.py --against /work/wt/base --repeat 3
"""

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness
from daemon import rss_mb, wait_healthy, write_config

from core.checked import free_port
from jobs.config import load
from jobs.runners.child import handed as handing

IDLE_SECONDS = 8.0


SEED = """
import sys
from core.status import RunStatus
from jobs.config import load
from jobs.runners.child import handed as handing
from jobs.daemon.startup import prepare_database
from storage import Store
config = load(sys.argv[1])
prepare_database(config)
with Store(config.database) as store:
    for name in config.sources:
        store.runs.finish(store.runs.start(name, trigger="schedule"), RunStatus.OK)
"""


def seeded(directory: Path, url: str, sources: int, code: Path) -> tuple[Path, int]:
    """A config of `sources` table sources and a database where each ran just now, seeded
    by `code` (each code its own database: a newer schema is not read by older code)."""
    shutil.rmtree(directory, ignore_errors=True)
    port = free_port()
    path = write_config(directory, url, sources, port)
    command = [str(harness.project_python()), "-c", SEED, str(path)]
    subprocess.run(command, check=True, cwd=directory, env=environment(code))
    return path, port


def environment(code: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(code)}


def idle_rss(code: Path, config: Path, port: int) -> float:
    """The daemon's own RSS, median over IDLE_SECONDS once /healthz answers."""
    log = config.parent / "daemon.log"
    command = [*harness.crossings_command(), "--config", str(config), "run"]
    with log.open("ab") as output:
        process = subprocess.Popen(
            command, cwd=config.parent, stdout=output, stderr=subprocess.STDOUT,
            env=environment(code),
        )  # fmt: skip
    try:
        wait_healthy(process, port, log)
        samples, started = [], time.perf_counter()
        while time.perf_counter() - started < IDLE_SECONDS:
            samples.append(rss_mb(process.pid))
            time.sleep(0.1)
        return harness.median(samples)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)


def child_one(code: Path, config: Path, site: harness.SiteProcess, given: bool) -> dict:
    site.reset()
    command = [str(harness.project_python()), "-m", "jobs.runners.child", "--config", str(config)]
    command += ["--trigger", "schedule", *(["--given"] if given else []), "report00000"]
    handed = config.parent / "handed.pickle"
    if given:  # what the daemon writes to the child's stdin
        handed.write_bytes(handing(load(config), ["report00000"]))
    run = harness.measure(
        command, cwd=config.parent, env=environment(code), stdin_from=handed if given else None
    ).check("crawl child")
    return {"cpu_s": run.cpu_s, "peak_rss_mb": run.peak_rss_mb}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", type=Path, required=True)
    parser.add_argument("--sources", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    codes = {"this": harness.ROOT, "against": args.against.resolve()}
    results: dict = {}
    for sources in args.sources:
        with harness.site(sources) as site:
            seeds = {
                name: seeded(harness.WORK / "daemon-ab" / f"n{sources}-{name}", site.url,
                             sources, code)
                for name, code in codes.items()
            }  # fmt: skip
            for rep in range(args.repeat):
                for name in harness.alternating(list(codes), rep):
                    code, (config, port) = codes[name], seeds[name]
                    figures = {"idle_rss_mb": idle_rss(code, config, port)}
                    figures |= child_one(code, config, site, given=name == "this")
                    results.setdefault((sources, name), []).append(figures)
                    print(f"N={sources} {name} rep {rep + 1}: {figures}", flush=True)
    print(f"load average {os.getloadavg()[0]:.1f}")
    for (sources, name), runs in results.items():
        medians = {key: round(harness.median([r[key] for r in runs]), 2) for key in runs[0]}
        print(f"N={sources:>6} {name:>8}: {medians}")


if __name__ == "__main__":
    main()
