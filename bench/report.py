"""Render bench/results/*.json as the Markdown tables of bench/README.md.

    .venv/bin/python bench/report.py            # print every table
    .venv/bin/python bench/report.py --write    # replace the <!-- figures:NAME --> blocks

Each block in the README is delimited by `<!-- figures:NAME -->` and `<!-- /figures -->`."""

import argparse
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import checks as checks_bench
import daemon as daemon_bench
import harness
import polling as polling_bench


def _load(name: str) -> dict | None:
    path = harness.RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def _when(data: dict) -> str:
    machine = data["machine"]
    return (
        f"\n\n_Measured {machine['when']} on {machine['cpus']} CPUs, Python {machine['python']}, "
        f"load average {machine.get('load_average_1m', float('nan')):.1f} at the end._"
    )


def checks(data: dict) -> str:
    rows = []
    for pages, tools in data["pages"].items():
        ours, theirs = tools["crossings"], tools["urlwatch"]
        for c, u in zip(ours, theirs, strict=True):
            rows.append(
                [
                    int(pages), c["pass"],
                    f"{u['wall_s']:.2f} / {c['wall_s']:.2f}",
                    f"{u['pages_per_s']:.0f} / {c['pages_per_s']:.0f}",
                    f"**{harness.ratio(c['pages_per_s'], u['pages_per_s']):.2f}x**",
                    checks_bench._verdict(
                        harness.ratio(c["pages_per_s"], u["pages_per_s"])
                        >= checks_bench.TARGETS[c["pass"]],
                        f">= {checks_bench.TARGETS[c['pass']]}x",
                    ),
                    f"{u['cpu_s']:.2f} / {c['cpu_s']:.2f}",
                    f"{u['peak_rss_mb']:.0f} / {c['peak_rss_mb']:.0f}",
                    checks_bench._verdict(c["peak_rss_mb"] <= u["peak_rss_mb"], "<= urlwatch"),
                    f"{c['to_first_request_s']:.2f}",
                    int(c["stored"].get("bodies", 0)),
                    int(c["stored"].get("stored_bytes", 0)),
                    int(c["stored"].get("observations", 0)),
                ]
            )  # fmt: skip
    header = [
        "N", "pass", "wall s (urlwatch / crossings)", "pages/s (u / c)", "ratio c/u", "target",
        "CPU s (u / c)", "peak RSS MB (u / c)", "RSS target", "crossings s to 1st request",
        "new bodies", "bytes stored", "values stored",
    ]  # fmt: skip
    return (
        harness.table(rows, header)
        + "\n\nGrowth, crossings:\n\n"
        + checks_bench.growth(data)
        + _when(data)
        + f" Repetitions: {data['repeat']} (1 at N = {checks_bench.LARGE:,} and above)."
    )


def csv(data: dict) -> str:
    rows = []
    for size, tools in data["sizes"].items():
        p, c = tools["pandas"], tools["crossings"]
        rows.append(
            [
                int(size),
                f"{p['wall_s']:.2f} / {c['wall_s']:.2f}",
                f"{p['rows_per_s']:,.0f} / {c['rows_per_s']:,.0f}",
                f"**{harness.ratio(c['rows_per_s'], p['rows_per_s']):.2f}x**",
                f"{p['cpu_s']:.2f} / {c['cpu_s']:.2f}",
                f"{p['peak_rss_mb']:.0f} / {c['peak_rss_mb']:.0f}",
                "yes"
                if p["sums_agree_with_reference"] and c["sums_agree_with_reference"]
                else "NO",
            ]
        )
    header = [
        "rows", "wall s (pandas / crossings)", "rows/s (p / c)", "ratio c/p", "CPU s (p / c)",
        "peak RSS MB (p / c)", "monthly sums agree",
    ]  # fmt: skip
    return harness.table(rows, header) + _when(data) + f" Repetitions: {data['repeat']}."


def _pairs(values: dict) -> str:
    return harness.table([[key, value] for key, value in values.items()], ["measure", "median"])


def rules(data: dict) -> str:
    return _pairs(data["summary"]) + _when(data) + f" Repetitions: {len(data['runs'])}."


def queries(data: dict) -> str:
    values = {**data["library"], **data["cli"]}
    table = _pairs(values)
    return (
        table + _when(data) + f" Database: {data['database']['observations']:,} observations;"
        f" metric `{data['metric']}`; as of {data['as_of']}."
    )


def daemon(data: dict) -> str:
    summaries = {int(n): summary for n, summary in data["summaries"].items()}
    runs = len(next(iter(data["runs"].values())))
    return daemon_bench.report(summaries) + _when(data) + f" Repetitions: {runs}."


def xlsx(data: dict) -> str:
    import xlsx_read

    return xlsx_read.report(data) + _when(data) + f" Repetitions: {data['repeat']}."


def scaleout(data: dict) -> str:
    rows = []
    for name in ("first", "same"):
        local = [p for p in data["passes"]["local"] if p["pass"] == name]
        nodes = [p for p in data["passes"]["scrapyd"] if p["pass"] == name]

        def med(key: str, runs: list[dict]) -> float:
            return harness.median([p[key] for p in runs])

        lw, nw = med("wall_s", local), med("wall_s", nodes)
        lc, nc = med("cpu_s", local), med("cpu_s", nodes)
        rows.append(
            [
                data["sources"], name,
                f"{lw:.1f} / {nw:.1f}", f"**{harness.ratio(nw, lw):.2f}x**",
                f"{lc:.1f} / {nc:.1f}", f"**{harness.ratio(nc, lc):.2f}x**",
                f"{med('children_cpu_s', local):.1f} / {med('nodes_cpu_s', nodes):.1f}",
                f"{med('driver_cpu_s', local):.1f} / {med('driver_cpu_s', nodes):.1f}",
                f"{med('ingest_cpu_s', nodes):.1f}",
                f"{med('driver_peak_rss_mb', local):.0f} / {med('driver_peak_rss_mb', nodes):.0f}",
            ]
        )  # fmt: skip
    header = [
        "N", "pass", "wall s (local / 2 nodes)", "wall ratio", "CPU s, all (l / n)",
        "CPU ratio", "crawl CPU s: children / nodes", "daemon CPU s (l / n)",
        "of which ingest (n)", "daemon peak RSS MB (l / n)",
    ]  # fmt: skip
    return harness.table(rows, header) + _when(data) + f" Repetitions: {data['repeat']}."


RENDERERS = {
    "checks": checks,
    "csv": csv,
    "rules": rules,
    "queries": queries,
    "daemon": daemon,
    "polling": polling_bench.render,
    "xlsx": xlsx,
    "scaleout": scaleout,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="update bench/README.md")
    args = parser.parse_args()
    readme = harness.BENCH / "README.md"
    text = readme.read_text()
    for name, render in RENDERERS.items():
        data = _load(name)
        if data is None:
            continue
        block = render(data)
        if not args.write:
            print(f"## {name}\n\n{block}\n")
            continue
        # the block's current content never contains the closing marker: an empty block
        # must not reach over to the next one
        pattern = re.compile(
            rf"(<!-- figures:{name} -->\n)(?:(?!<!-- /figures -->).)*(<!-- /figures -->)", re.S
        )
        text = pattern.sub(lambda match, block=block: f"{match[1]}{block}\n{match[2]}", text)
    if args.write:
        readme.write_text(text)
        print(f"updated {readme}")


if __name__ == "__main__":
    main()
