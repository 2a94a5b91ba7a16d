"""Start-up of the first commands a newcomer types, side by side with sqlite-utils' own CLI
(the same click, the same SQLite): `crossings --help`, `crossings series METRIC` on a
small database, and `sqlite-utils --help` and `sqlite-utils rows` on the same file; a bare
`python -c pass` shows the floor. Whole processes, wall and CPU seconds, alternating.
The config has what reading one costs: a source on a cron schedule with CSS selectors.
`--against CHECKOUT` adds `crossings series` (and `--help`) run by another checkout's code
(e.g. main), alternating with the rest: the baseline on the same load. A checkout without
its own .venv runs on this one's interpreter, its code first on the path (PYTHONPATH),
so that the packages installed are the same. `--more` adds the other commands that read
stored data (`metrics`, `revisions`, `runs`), for both checkouts.

    .venv/bin/python bench/startup.py --repeat 15 --against /work/main --more
"""

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness

from storage import Observation, Store

METRIC = "bench.daily"
CONFIG = """[settings]
database = "crossings.db"

[sources.quickfacts]
kind = "facts"
url = "https://trac.syr.edu/immigration/quickfacts/"
schedule = "17 6 * * 1-5"

[[sources.quickfacts.facts]]
metric = "bench.daily"
selector = "#card-eoir_backlog .text-5xl"
card = "#card-eoir_backlog"
"""


def database(folder: Path) -> Path:
    """A config and a database of one daily metric, a year long."""
    (folder / "crossings.toml").write_text(CONFIG, encoding="utf-8")
    with Store(folder / "crossings.db") as store:
        store.observations.upsert(
            [Observation(METRIC, f"2024-{m:02d}-{d:02d}", float(d)) for m in range(1, 13)
             for d in range(1, 29)],
            snapshot_id=None,
        )  # fmt: skip
    return folder / "crossings.toml"


Command = tuple[list[str], dict[str, str] | None]  # arguments, environment (None: ours)
MORE = {"metrics": ["metrics"], "revisions": ["revisions"], "runs": ["runs"]}


def commands(config: Path, against: Path | None, *, more: bool) -> dict[str, Command]:
    python = str(harness.project_python())
    bin_dir = Path(python).parent
    crossings = [str(bin_dir / "crossings"), "--config", str(config)]
    found: dict[str, Command] = {
        "python -c pass": ([python, "-c", "pass"], None),
        "crossings --help": ([*crossings, "--help"], None),
        "crossings series METRIC": ([*crossings, "series", METRIC], None),
        "sqlite-utils --help": ([str(bin_dir / "sqlite-utils"), "--help"], None),
        "sqlite-utils rows DB observations": ([
            str(bin_dir / "sqlite-utils"), "rows", str(config.parent / "crossings.db"),
            "observations", "--limit", "400",
        ], None),
    }  # fmt: skip
    if more:
        found |= {f"crossings {name}": ([*crossings, *args], None) for name, args in MORE.items()}
    if against is None:
        return found
    own = against / ".venv/bin/crossings"
    other, environment = (
        ([str(own), "--config", str(config)], None)
        if own.exists()
        else (crossings, os.environ | {"PYTHONPATH": str(against.resolve())})
    )
    shown = {"crossings --help": ["--help"], "crossings series METRIC": ["series", METRIC]}
    if more:
        shown |= {f"crossings {name}": args for name, args in MORE.items()}
    return found | {
        f"{name} ({against})": ([*other, *args], environment) for name, args in shown.items()
    }


def timed(command: Command) -> tuple[float, float]:
    """Wall and CPU seconds (user + system) of one run of `command`."""
    arguments, environment = command
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(
        arguments, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True,
        env=environment, cwd=tempfile.gettempdir(),
    )  # fmt: skip
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--against", type=Path, help="another checkout (e.g. main)")
    parser.add_argument("--more", action="store_true", help="also metrics, revisions, runs")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        config = database(Path(folder))
        runs = commands(config, args.against, more=args.more)
        for command in runs.values():  # warm the file cache
            timed(command)
        walls: dict[str, list[float]] = {name: [] for name in runs}
        cpus: dict[str, list[float]] = {name: [] for name in runs}
        for turn in range(args.repeat):
            order = list(runs) if turn % 2 == 0 else list(reversed(runs))
            for name in order:
                wall, cpu = timed(runs[name])
                walls[name].append(wall)
                cpus[name].append(cpu)
    print(f"{args.repeat} runs each, medians; load average {os.getloadavg()[0]:.1f}")
    print("| command | wall s | CPU s |")
    print("|---|---|---|")
    for name in runs:
        wall, cpu = harness.median(walls[name]), harness.median(cpus[name])
        print(f"| `{name}` | {wall:.3f} | {cpu:.3f} |")


if __name__ == "__main__":
    main()
