"""Check passes over the synthetic statistics site: crossings (`crawl --all`, N `table`
sources in one child process) against urlwatch (N url jobs), three passes each:
  1 first    every page new
  2 changed  after the site changed a fixed 10% of its pages
  3 same     nothing changed (every page answers 304)
Each repetition starts a fresh site and fresh state for each tool; the tools alternate
which goes first. Figures are medians over the repetitions.

    .venv/bin/python bench/checks.py --pages 200 1000 --repeat 3
    .venv/bin/python bench/checks.py --quick        # 200 pages, 1 repetition
    .venv/bin/python bench/checks.py --pages 1000 --repeat 2 --against ../base

`--against DIR` also crawls with another checkout's code (first on PYTHONPATH, this
venv), alternating with the others: crossings before and after a change, in the same run.
Each checkout is compiled to bytecode first, as an installed one is (`harness.compiled`).
"""

import argparse
import os
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness
import statsite
from sources import table_config

from storage import Store

PASSES = ("first", "changed", "same")
TARGETS = {"first": 1.0, "changed": 1.5, "same": 2.0}  # crossings / urlwatch pages/s (issue 14)
GROWTH_TARGET = 1.5  # N = 10,000 against N = 1,000, per page
LARGE = 10_000


# --- urlwatch ------------------------------------------------------------------------------

URLWATCH_CONFIG = """\
display: {new: true, error: true, unchanged: false, empty-diff: true}
report:
  stdout: {enabled: true, color: false}
  text: {details: true, footer: false, line_length: 75, minimal: false, separate: false}
  html: {diff: unified, separate: false}
  markdown: {details: true, footer: false, minimal: false, separate: false}
"""


def urlwatch_setup(directory: Path, url: str, pages: int) -> list[str]:
    """N url jobs (no filters: urlwatch's default, diffing the page text)."""
    directory.mkdir(parents=True)
    jobs = [f"name: report {i}\nurl: {url}{statsite.page_path(i)}\n" for i in range(pages)]
    (directory / "urls.yaml").write_text("---\n".join(jobs))
    (directory / "urlwatch.yaml").write_text(URLWATCH_CONFIG)
    venv = harness.baseline_venv()
    return [
        str(venv / "bin" / "urlwatch"),
        "--urls", str(directory / "urls.yaml"),
        "--config", str(directory / "urlwatch.yaml"),
        "--cache", str(directory / "cache.db"),
        "--hooks", str(directory / "hooks.py"),
    ]  # fmt: skip


def urlwatch_stored(directory: Path) -> dict:
    cache = directory / "cache.db"
    return {"db_bytes": cache.stat().st_size if cache.exists() else 0}


# --- crossings -----------------------------------------------------------------------------

SETTINGS = {
    # Deviations from the defaults, each stated in bench/README.md.
    "download_delay": 0.0,  # one local host serves every page; the default 1 s is politeness
    "concurrent_requests": 16,  # the default; kept
}


def crossings_config(directory: Path, url: str, pages: int) -> Path:
    """N `table` sources, one per page, all due together."""
    return table_config(directory, url, pages, SETTINGS)


def crossings_stored(directory: Path) -> dict:
    database = directory / "crossings.db"
    if not database.exists():
        return {"snapshots": 0, "bodies": 0, "body_bytes": 0, "stored_bytes": 0, "db_bytes": 0}
    with Store(database, read_only=True) as store:
        counts = store.snapshots.counts()
        counts["observations"] = store.db.execute("SELECT COUNT(*) FROM observations").fetchone()[0]
    counts["db_bytes"] = sum(
        path.stat().st_size for path in directory.glob("crossings.db*") if path.is_file()
    )
    return counts


# --- one run of three passes ----------------------------------------------------------------


def three_passes(tool: str, pages: int, directory: Path, against: Path | None = None) -> list[dict]:
    """`tool` is urlwatch, crossings, or "against": crossings with `against`'s code."""
    env = None
    with harness.site(pages) as site:
        if tool == "urlwatch":
            command = urlwatch_setup(directory, site.url, pages)
            stored = urlwatch_stored
        else:
            config = crossings_config(directory, site.url, pages)
            command = [*harness.crossings_command(), "--config", str(config), "crawl", "--all"]
            stored = crossings_stored
            if tool == "against" and against is not None:
                env = {**os.environ, "PYTHONPATH": str(against.resolve())}
        results = []
        for name in PASSES:
            if name == "changed":
                site.change()
            site.reset()
            before_site, before_stored = site.stats(), stored(directory)
            run = harness.measure(command, cwd=directory, env=env).check(f"{tool} pass {name}")
            after_site, after_stored = site.stats(), stored(directory)
            results.append(
                {
                    "pass": name,
                    "wall_s": run.wall_s,
                    "cpu_s": run.cpu_s,
                    "peak_rss_mb": run.peak_rss_mb,
                    "max_process_rss_mb": run.max_process_rss_mb,
                    "pages_per_s": pages / run.wall_s,
                    # start-up: until the first page request; tail: after the last one
                    "to_first_request_s": after_site.get("first_request_at", 0) - run.started_at,
                    "after_last_request_s": run.started_at
                    + run.wall_s
                    - after_site.get("last_request_at", 0),
                    "responses_200": after_site["200"] - before_site["200"],
                    "responses_304": after_site["304"] - before_site["304"],
                    "bytes_served": after_site["bytes"] - before_site["bytes"],
                    "stored": {
                        key: after_stored[key] - before_stored.get(key, 0) for key in after_stored
                    },
                }
            )
            print(
                f"  {tool:<9} N={pages:<5} {name:<8} {run.wall_s:6.2f} s wall "
                f"{run.cpu_s:6.2f} s cpu {run.peak_rss_mb:6.1f} MB "
                f"first req {results[-1]['to_first_request_s']:.2f} s, "
                f"after last {results[-1]['after_last_request_s']:.2f} s "
                f"200s={results[-1]['responses_200']} 304s={results[-1]['responses_304']} "
                f"stored={results[-1]['stored']}",
                flush=True,
            )
        return results


def summarise(runs: list[list[dict]]) -> list[dict]:
    """Medians per pass over the repetitions."""
    summary = []
    for index, name in enumerate(PASSES):
        per_pass = [run[index] for run in runs]
        row = {"pass": name}
        for key in (
            "wall_s", "cpu_s", "peak_rss_mb", "max_process_rss_mb", "pages_per_s",
            "to_first_request_s", "after_last_request_s",
        ):  # fmt: skip
            row[key] = harness.median([item[key] for item in per_pass])
        for key in ("responses_200", "responses_304", "bytes_served"):
            row[key] = harness.median([item[key] for item in per_pass])
        row["stored"] = {
            key: harness.median([item["stored"].get(key, 0) for item in per_pass])
            for key in per_pass[0]["stored"]
        }
        summary.append(row)
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, nargs="+", default=[200, 1000, 10000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--large-repeat", type=int, default=1, help=f"repetitions for N >= {LARGE:,}"
    )
    parser.add_argument("--tools", nargs="+", default=["urlwatch", "crossings"])
    parser.add_argument("--quick", action="store_true", help="200 pages, 1 repetition")
    parser.add_argument("--against", type=Path, help="also crawl with this checkout's code")
    args = parser.parse_args()
    if args.quick:
        args.pages, args.repeat = [200], 1
    if args.against:
        args.tools = [*args.tools, "against"]
    work = harness.WORK / "checks"
    shutil.rmtree(work, ignore_errors=True)
    for checkout in filter(None, [harness.ROOT, args.against]):
        harness.compiled(checkout)
    data: dict = {"pages": {}, "repeat": args.repeat, "settings": SETTINGS}
    for pages in args.pages:
        runs: dict[str, list] = {tool: [] for tool in args.tools}
        for rep in range(args.repeat if pages < LARGE else min(args.repeat, args.large_repeat)):
            for tool in harness.alternating(args.tools, rep):
                directory = work / f"{tool}-{pages}-{rep}"
                runs[tool].append(three_passes(tool, pages, directory, args.against))
                shutil.rmtree(work / f"{tool}-{pages}-{rep}", ignore_errors=True)
        data["pages"][pages] = {tool: summarise(tool_runs) for tool, tool_runs in runs.items()}
        data["pages"][pages]["runs"] = runs
    harness.publish("checks", data, report, quick=args.quick)


def report(data: dict) -> str:
    rows = []
    for pages, tools in data["pages"].items():
        ours, theirs = tools.get("crossings"), tools.get("urlwatch")
        for index, name in enumerate(PASSES):
            c = ours[index] if ours else None
            u = theirs[index] if theirs else None
            ratio = harness.ratio(c["pages_per_s"], u["pages_per_s"]) if c and u else None
            rows.append(
                [
                    pages,
                    name,
                    u["wall_s"] if u else "-",
                    c["wall_s"] if c else "-",
                    u["pages_per_s"] if u else "-",
                    c["pages_per_s"] if c else "-",
                    ratio if ratio is not None else "-",
                    _verdict(ratio is not None and ratio >= TARGETS[name], f">= {TARGETS[name]}x"),
                    u["cpu_s"] if u else "-",
                    c["cpu_s"] if c else "-",
                    u["peak_rss_mb"] if u else "-",
                    c["peak_rss_mb"] if c else "-",
                    _verdict(bool(c and u and c["peak_rss_mb"] <= u["peak_rss_mb"]), "<= urlwatch"),
                    int(c["stored"].get("bodies", 0)) if c else "-",
                    int(c["stored"].get("stored_bytes", 0)) if c else "-",
                ]
            )
    text = harness.table(
        rows,
        [
            "N", "pass", "urlwatch s", "crossings s", "urlwatch pages/s", "crossings pages/s",
            "ratio", "target", "urlwatch CPU s", "crossings CPU s", "urlwatch peak MB",
            "crossings peak MB", "RSS target", "new bodies", "stored bytes",
        ],
    )  # fmt: skip
    return text + "\n\n" + growth(data) + against(data)


def against(data: dict) -> str:
    """crossings with this checkout's code against the `--against` checkout's, per pass."""
    rows = []
    for pages, tools in data["pages"].items():
        if "against" not in tools:
            continue
        for ours, theirs in zip(tools["crossings"], tools["against"], strict=True):
            rows.append([pages, ours["pass"], theirs["cpu_s"], ours["cpu_s"],
                         theirs["peak_rss_mb"], ours["peak_rss_mb"]])  # fmt: skip
    if not rows:
        return ""
    header = ["N", "pass", "against CPU s", "this CPU s", "against peak MB", "this peak MB"]
    return "\n\ncrossings, this checkout against --against:\n\n" + harness.table(rows, header)


def growth(data: dict) -> str:
    """crossings at the largest N against N = 1,000 (or the smallest): CPU and wall seconds
    per page, and peak RSS, each as a factor (target: within GROWTH_TARGET)."""
    sizes = sorted(int(n) for n in data["pages"])
    small = 1000 if 1000 in sizes else sizes[0]
    if len(sizes) < 2 or sizes[-1] == small:
        return "(growth: run at least two sizes, e.g. --pages 1000 10000)"
    large = sizes[-1]
    rows = []
    for index, name in enumerate(PASSES):
        a = _pages(data, small)["crossings"][index]
        b = _pages(data, large)["crossings"][index]
        cpu = (b["cpu_s"] / large) / (a["cpu_s"] / small)
        wall = (b["wall_s"] / large) / (a["wall_s"] / small)
        rss = b["peak_rss_mb"] / a["peak_rss_mb"]
        worst = max(cpu, wall, rss)
        rows.append(
            [name, 1000 * a["cpu_s"] / small, 1000 * b["cpu_s"] / large, cpu,
             1000 * a["wall_s"] / small, 1000 * b["wall_s"] / large, wall,
             a["peak_rss_mb"], b["peak_rss_mb"], rss,
             _verdict(worst <= GROWTH_TARGET, f"<= {GROWTH_TARGET}x")]
        )  # fmt: skip
    return harness.table(
        rows,
        [
            "pass", f"CPU ms/page N={small:,}", f"N={large:,}", "factor",
            f"wall ms/page N={small:,}", f"N={large:,}", "factor",
            f"peak MB N={small:,}", f"N={large:,}", "factor", "growth target",
        ],
    )  # fmt: skip


def _pages(data: dict, size: int) -> dict:
    return data["pages"].get(size) or data["pages"][str(size)]


def _verdict(met: bool, target: str) -> str:
    return f"met ({target})" if met else f"**missed** ({target})"


if __name__ == "__main__":
    main()
