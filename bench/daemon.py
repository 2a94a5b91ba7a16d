"""The daemon with N `table` sources configured (one per page of the synthetic site),
N = 1,000 and 10,000:
- catch-up: `crossings run` on a new database until /healthz answers; every source is
  overdue and is caught up, timed until every page was fetched and no child is left, side
  by side with `crossings crawl --all` of the same sources on a fresh database (the
  target: catch-up within 2x of it); peak RSS of the daemon and of its children;
- idle: the daemon restarted on that database (nothing overdue), RSS sampled for a while
  once /healthz answers (median and peak), then SIGTERM and the time to exit;
- crawl child: `python -m jobs.runners.child` for one source and for all N (the process
  the daemon starts): wall time, time to its first request, peak RSS.
The last column compares N = 10,000 with N = 1,000 per source (the growth target: 1.5x).

  .venv/bin/python bench/daemon.py --sources 1000 10000 --repeat 3
  .venv/bin/python bench/daemon.py --quick       # 200 sources, 1 repetition
"""

import argparse
import contextlib
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness
from sources import table_config

from core.checked import free_port
from jobs.config import load
from jobs.runners.child import handed as handing

IDLE_SECONDS = 10.0
CATCH_UP_TIMEOUT = 900.0


def write_config(directory: Path, url: str, sources: int, port: int) -> Path:
    settings = {"download_delay": 0.0, "listen": f"127.0.0.1:{port}"}
    return table_config(directory, url, sources, settings)


def rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/statm", "rb") as statm:
            return int(statm.read().split()[1]) * harness.PAGE_SIZE / 2**20
    except (OSError, IndexError, ValueError):
        return 0.0


def children_of(pid: int) -> list[int]:
    return harness._children_map().get(pid, [])


def command_line(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            return cmdline.read().replace(b"\0", b" ").decode(errors="replace").strip()[:200]
    except OSError:
        return f"pid {pid} (gone)"


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
            return response.status < 500
    except OSError:
        return False


@contextlib.contextmanager
def daemon(config: Path, log: Path):
    command = [*harness.crossings_command(), "--config", str(config), "run"]
    with log.open("ab") as output:
        process = subprocess.Popen(
            command, cwd=config.parent, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_healthy(process: subprocess.Popen, port: int, log: Path) -> float:
    started = time.perf_counter()
    while not healthy(port):
        if process.poll() is not None:
            raise RuntimeError(f"the daemon exited with {process.returncode}:\n{log.read_text()}")
        if time.perf_counter() - started > 120:
            raise RuntimeError(f"the daemon did not answer /healthz in 120 s:\n{log.read_text()}")
        time.sleep(0.02)
    return time.perf_counter() - started


def first_start(config: Path, port: int, site: harness.SiteProcess, sources: int) -> dict:
    """A new database: every source is overdue and is caught up at once."""
    log = config.parent / "daemon.log"
    site.reset()
    before = site.stats()
    with daemon(config, log) as process:
        ready_s = wait_healthy(process, port, log)
        started = time.perf_counter()
        daemon_peak = child_peak = 0.0
        child_pids: set[int] = set()
        while True:
            daemon_peak = max(daemon_peak, rss_mb(process.pid))
            for child in children_of(process.pid):
                child_pids.add(child)
                child_peak = max(child_peak, harness.tree_rss_bytes(child) / 2**20)
            stats = site.stats()
            fetched = stats["200"] + stats["304"] - before["200"] - before["304"]
            if fetched >= sources and not children_of(process.pid):
                break
            if time.perf_counter() - started > CATCH_UP_TIMEOUT:
                raise RuntimeError(f"catch-up fetched only {fetched} of {sources} pages")
            time.sleep(0.05)
        catch_up_s = time.perf_counter() - started
    return {
        "ready_s": ready_s,
        "catch_up_s": catch_up_s,
        "catch_up_children": len(child_pids),
        "daemon_peak_rss_mb": daemon_peak,
        "child_peak_rss_mb": child_peak,
    }


def idle(config: Path, port: int) -> dict:
    """The daemon on a database where nothing is overdue: what it costs between crawls."""
    log = config.parent / "daemon-idle.log"
    with daemon(config, log) as process:
        ready_s = wait_healthy(process, port, log)
        samples, own, started = [], [], time.perf_counter()
        while time.perf_counter() - started < IDLE_SECONDS:
            samples.append(harness.tree_rss_bytes(process.pid) / 2**20)
            own.append(rss_mb(process.pid))
            time.sleep(0.1)
        children = [command_line(child) for child in children_of(process.pid)]
        stopping = time.perf_counter()
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
        stop_s = time.perf_counter() - stopping
    return {
        "ready_s": ready_s,
        "idle_rss_mb": harness.median(samples),
        "idle_peak_rss_mb": max(samples),
        "daemon_process_rss_mb": harness.median(own),
        "children_while_idle": len(children),
        "children": children,
        "stop_s": stop_s,
        "exit_code": process.returncode,
    }


def crawl_child(config: Path, site: harness.SiteProcess, names: list[str]) -> dict:
    """The crawl child alone, as the daemon starts it: handed [settings] and its sources
    on stdin (`--given`) by the daemon that read the config."""
    site.reset()
    handed = config.parent / "handed.pickle"
    handed.write_bytes(handing(load(config), names))
    command = [str(harness.project_python()), "-m", "jobs.runners.child", "--config", str(config)]
    command += ["--trigger", "schedule", "--given", *names]
    run = harness.measure(command, cwd=config.parent, stdin_from=handed)
    run.check("crawl child")
    stats = site.stats()
    return {
        "sources": len(names),
        "wall_s": run.wall_s,
        "to_first_request_s": stats.get("first_request_at", 0) - run.started_at,
        "cpu_s": run.cpu_s,
        "peak_rss_mb": run.peak_rss_mb,
    }


def one_size(sources: int, rep: int) -> dict:
    """Catch-up on a new database against `crawl --all` of the same sources (each on its
    own fresh database, alternating which goes first); then, on the caught-up database,
    the idle daemon and the crawl child."""
    names = [f"report{i:05d}" for i in range(sources)]
    directory = harness.WORK / "daemon"
    shutil.rmtree(directory, ignore_errors=True)
    run: dict = {}
    with harness.site(sources) as site:
        port = free_port()
        config = write_config(directory, site.url, sources, port)
        baseline = write_config(directory / "crawl-all", site.url, sources, free_port())
        crawl_all = [*harness.crossings_command(), "--config", str(baseline), "crawl", "--all"]

        def timed_crawl_all() -> None:
            site.reset()
            measured = harness.measure(crawl_all, cwd=baseline.parent).check("crawl --all")
            run["crawl_all"] = {"wall_s": measured.wall_s, "cpu_s": measured.cpu_s}

        if rep % 2:
            timed_crawl_all()
        run["first_start"] = first_start(config, port, site, sources)
        if not rep % 2:
            timed_crawl_all()
        run["first_start"]["catch_up_vs_crawl_all"] = (
            run["first_start"]["catch_up_s"] / run["crawl_all"]["wall_s"]
        )
        run["idle"] = idle(config, port)
        run["child_one"] = crawl_child(config, site, names[:1])
        run["child_all"] = crawl_child(config, site, names)
    return run


def summarise(runs: list[dict], sources: int) -> dict:
    summary: dict = {
        part: {
            key: harness.median([run[part][key] for run in runs])
            for key, value in runs[0][part].items()
            if isinstance(value, int | float)
        }
        for part in runs[0]
    }
    summary["idle"]["children"] = sorted({c for run in runs for c in run["idle"]["children"]})
    summary["sources"] = sources
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="200 sources, 1 repetition")
    args = parser.parse_args()
    if args.quick:
        args.sources, args.repeat = [200], 1
    summaries, all_runs = {}, {}
    for sources in args.sources:
        runs = []
        for rep in range(args.repeat):
            runs.append(one_size(sources, rep))
            print(f"  N={sources} rep {rep + 1}: {runs[-1]}", flush=True)
        summaries[sources], all_runs[sources] = summarise(runs, sources), runs
    data = {"summaries": summaries, "runs": all_runs}
    harness.publish("daemon", data, lambda data: report(data["summaries"]), quick=args.quick)


def report(summaries: dict) -> str:
    """Every measure side by side for each N; growth = per-source figure at the largest N
    over the same at the smallest (idle RSS: the whole figure, it should not grow)."""
    sizes = sorted(summaries)
    keys = [
        (part, key)
        for part, values in summaries[sizes[0]].items()
        if isinstance(values, dict)
        for key, value in values.items()
        if isinstance(value, int | float)
    ]
    rows = []
    for part, key in keys:
        values = [summaries[n][part].get(key, float("nan")) for n in sizes]
        growth: object = "-"
        if len(sizes) > 1 and values[0]:
            per_source = part in ("crawl_all", "child_all") or key == "catch_up_s"
            scale = sizes[-1] / sizes[0] if per_source else 1.0
            growth = values[-1] / values[0] / scale
        rows.append([f"{part}.{key}", *values, growth])
    header = ["measure", *[f"N = {n:,}" for n in sizes], "growth (largest / smallest, per source)"]
    return harness.table(rows, header)


if __name__ == "__main__":
    main()
