"""What every benchmark shares: where things live, the baseline tools' own venv, running a
command while measuring wall and CPU seconds and the peak RSS of its whole process tree,
the synthetic site as a context manager, and writing results as JSON.

Linux only (peak RSS is sampled from /proc)."""

import contextlib
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
WORK = BENCH / ".work"
RESULTS = BENCH / "results"
VENV = WORK / "venv"
# The baselines and profilers, pinned so figures are comparable between runs. They live in
# bench/.work/venv, never in the project's dependencies.
BASELINE_PACKAGES = (
    "urlwatch==2.29",
    "pandas==3.1.1",
    "openpyxl==3.1.5",  # pandas' read_excel engine for .xlsx (bench/xlsx_read.py)
    "pyinstrument==5.1.3",
    "py-spy==0.4.3",
)
PACKAGES = ("core", "storage", "series", "scrapers", "alerts", "jobs")  # pyproject's
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
SAMPLE_SECONDS = 0.02
T = TypeVar("T")


def project_python() -> Path:
    """The project's interpreter (crossings installed), the one running this script."""
    venv = ROOT / ".venv" / "bin" / "python"
    return venv if venv.exists() else Path(sys.executable)


def crossings_command() -> list[str]:
    return [str(project_python()), "-m", "jobs"]


def compiled(root: Path) -> None:
    """Write the bytecode of a checkout's packages, as every install of crossings has it
    (pip compiles at install, a first import writes it) and as urlwatch's came from pip.
    This machine sets PYTHONDONTWRITEBYTECODE: without this step crossings' ~200 modules
    were compiled from source at every run (~0.17 CPU s of an unchanged pass, bench/README.md
    "Round five")."""
    packages = [str(root / name) for name in PACKAGES]
    subprocess.run([str(project_python()), "-m", "compileall", "-q", *packages], check=True)


def baseline_venv() -> Path:
    """bench/.work/venv with the baseline tools, created on first use."""
    python = VENV / "bin" / "python"
    stamp = VENV / ".installed"
    wanted = "\n".join(BASELINE_PACKAGES)
    if stamp.exists() and stamp.read_text() == wanted:
        return VENV
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    print(f"installing baselines into {VENV}: {', '.join(BASELINE_PACKAGES)}", flush=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", *BASELINE_PACKAGES], check=True)
    stamp.write_text(wanted)
    return VENV


# --- measuring a command -------------------------------------------------------------------


@dataclass
class Measure:
    """One command's cost. `peak_rss_mb` is the largest sampled sum over the process tree,
    `max_process_rss_mb` the largest single process seen."""

    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    max_process_rss_mb: float
    returncode: int
    started_at: float = 0.0  # epoch seconds, to compare with the site's request times
    stdout: str = field(repr=False, default="")
    stderr: str = field(repr=False, default="")

    def check(self, what: str) -> "Measure":
        if self.returncode != 0:
            raise RuntimeError(
                f"{what} exited with {self.returncode}\n--- stdout\n{self.stdout[-3000:]}"
                f"\n--- stderr\n{self.stderr[-3000:]}"
            )
        return self


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as stat:
                text = stat.read()
        except OSError:
            continue
        ppid = int(text[text.rindex(b")") + 2 :].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    return children


def _tree_rss(root: int) -> tuple[int, int]:
    """(sum, largest single process) of the resident memory of a process tree, now."""
    children = _children_map()
    total, largest, stack = 0, 0, [root]
    while stack:
        pid = stack.pop()
        try:
            with open(f"/proc/{pid}/statm", "rb") as statm:
                rss = int(statm.read().split()[1]) * PAGE_SIZE
        except (OSError, IndexError, ValueError):
            rss = 0
        total, largest = total + rss, max(largest, rss)
        stack.extend(children.get(pid, ()))
    return total, largest


def tree_rss_bytes(root: int) -> int:
    """Resident memory of a process and all its descendants, now."""
    return _tree_rss(root)[0]


class PeakSampler:
    """Samples the RSS of a process tree in a thread until stopped; keeps the peaks.
    (Sampling, not the kernel's ru_maxrss: that survives exec, so a child spawned by a big
    harness process would report the harness's size.)"""

    def __init__(self, pid: int, interval: float = SAMPLE_SECONDS) -> None:
        self.pid, self.interval, self.peak, self.largest = pid, interval, 0, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            total, largest = _tree_rss(self.pid)
            self.peak, self.largest = max(self.peak, total), max(self.largest, largest)
            self._stop.wait(self.interval)

    def stop(self) -> tuple[int, int]:
        self._stop.set()
        self._thread.join()
        return self.peak, self.largest


def measure(
    command: Sequence[str],
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 1800,
    stdin_from: Path | None = None,
) -> Measure:
    """Run a command to completion, measuring it and every process it starts."""
    with (
        open(stdin_from or os.devnull, "rb") as stdin,
        _temp_output() as (out, out_path),
        _temp_output() as (err, err_path),
    ):
        started, started_at = time.perf_counter(), time.time()
        process = subprocess.Popen(
            list(command), cwd=cwd, env=env, stdin=stdin, stdout=out, stderr=err
        )
        sampler = PeakSampler(process.pid)
        deadline = started + timeout
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                process.kill()
                pid, status, usage = os.wait4(process.pid, 0)
                break
            time.sleep(0.005)
        wall = time.perf_counter() - started
        peak, largest = sampler.stop()
        process.returncode = os.waitstatus_to_exitcode(status)
        out.flush()
        err.flush()
        return Measure(
            wall_s=wall,
            cpu_s=usage.ru_utime + usage.ru_stime,
            peak_rss_mb=peak / 2**20,
            max_process_rss_mb=largest / 2**20,
            returncode=process.returncode,
            started_at=started_at,
            stdout=out_path.read_text(errors="replace"),
            stderr=err_path.read_text(errors="replace"),
        )


@contextlib.contextmanager
def _temp_output() -> Iterator[tuple]:
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / f"out-{os.getpid()}-{time.monotonic_ns()}.txt"
    try:
        with path.open("wb") as handle:
            yield handle, path
    finally:
        path.unlink(missing_ok=True)


def self_peak_rss_mb() -> float:
    """The peak RSS of this process (for in-process measures)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- the synthetic site --------------------------------------------------------------------


class SiteProcess:
    def __init__(self, process: subprocess.Popen, url: str) -> None:
        self.process, self.url = process, url

    def post(self, path: str) -> dict:
        import urllib.request

        request = urllib.request.Request(self.url + path, data=b"", method="POST")
        with urllib.request.urlopen(request, timeout=300) as response:
            return json.load(response)

    def stats(self) -> dict:
        import urllib.request

        with urllib.request.urlopen(self.url + "/_bench/stats", timeout=300) as response:
            return json.load(response)

    def change(self) -> int:
        return self.post("/_bench/change")["changed"]

    def reset(self) -> None:
        self.post("/_bench/reset")


@contextlib.contextmanager
def site(pages: int, *, csv: dict[str, Path] | None = None, max_seconds: float = 3600):
    """Start bench/statsite.py in its own process (its CPU is not counted in any measure)."""
    command = [sys.executable, str(BENCH / "statsite.py"), "--pages", str(pages)]
    command += ["--max-seconds", str(max_seconds)]
    for name, path in (csv or {}).items():
        command += ["--csv", f"{name}={path}"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        if not line.startswith("ready "):
            raise RuntimeError(f"the synthetic site did not start: {line!r}")
        yield SiteProcess(process, line.split()[1])
    finally:
        process.terminate()
        process.wait(timeout=10)


# --- results -------------------------------------------------------------------------------


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def alternating(tools: Sequence[T], rep: int) -> list[T]:
    """The tools in their order for repetition `rep`: reversed every other time, so that
    none always runs first (on cold caches) or last (on warm ones)."""
    return list(tools) if rep % 2 == 0 else list(reversed(tools))


def medians(measures: Sequence[Measure], rows: int) -> dict:
    """What one tool's repeated runs over `rows` rows cost: the medians, and its speed."""
    wall = median([m.wall_s for m in measures])
    return {
        "wall_s": wall,
        "cpu_s": median([m.cpu_s for m in measures]),
        "rows_per_s": rows / wall,
        "peak_rss_mb": median([m.peak_rss_mb for m in measures]),
    }


def machine() -> dict:
    return {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        # Other work on the machine skews figures: recorded so a noisy run can be spotted.
        "load_average_1m": os.getloadavg()[0],
    }


def write_results(name: str, data: dict) -> Path:
    """bench/results/NAME.json (the latest) and a timestamped copy. --quick runs are
    named NAME-quick, so they never replace the figures the README reports."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    payload = {"benchmark": name, "machine": machine(), **data}
    text = json.dumps(payload, indent=2, default=_jsonable)
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    (RESULTS / f"{name}-{stamp}.json").write_text(text)
    latest = RESULTS / f"{name}.json"
    latest.write_text(text)
    return latest


def publish(name: str, data: dict, report: Callable[[dict], str], *, quick: bool = False) -> Path:
    """Write the results (as NAME-quick for a --quick run), then print the report and
    where the figures are."""
    path = write_results(name + "-quick" * quick, data)
    print(report(data))
    print(f"\nwrote {path}")
    return path


def _jsonable(value: object) -> object:
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "__dataclass_fields__"):
        return asdict(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def ratio(ours: float, theirs: float) -> float:
    return ours / theirs if theirs else float("nan")


def table(rows: list[list[object]], header: list[str]) -> str:
    """A Markdown table, for the console and for pasting into bench/README.md."""
    cells = [[_cell(value) for value in row] for row in rows]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in cells]
    return "\n".join(lines)


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)
