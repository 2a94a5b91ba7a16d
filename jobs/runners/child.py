"""The crawl child process: `python -m jobs.runners.child --config PATH --trigger T SOURCE...`.

Loads [settings] and the given sources from the config (no more: `load_sources`), or with
`--given` takes them from stdin, pickled by the parent that validated the config (the
daemon: `jobs.runners.local`; the file is then not read at all), crawls them together in
one spider, and reports on stdout, one JSON object per line: first
{"event": "started", "runs": {source: run_id, ...}} once the run rows are open, then
{"event": "finished", "source", "run_id", "status", "reason", counts...} per source. The
run rows in the database are written here and are the truth: the parent
(`jobs.runners.local`) reads the lines, and for a child that died, the rows (closing those
left running). Every log record (Scrapy's included) goes to stderr as one JSON line
with the sources and pid, at `--log-level`; the parent re-logs them in its own log."""

import argparse
import json
import os
import pickle
import signal
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from jobs.config import Config, ConfigError, load_sources
from jobs.lifeline import die_with_parent
from jobs.logs import LEVELS, setup_child
from scrapers.recorder import SourceRun


def started(runs: list[SourceRun]) -> None:
    line = {"event": "started", "runs": {run.name: run.run_id for run in runs}}
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()


def finished(run: SourceRun) -> None:
    """Buffered: a thousand sources must not cost a thousand pipe writes; if the process
    dies before flushing, the parent reads the outcome from the run row instead."""
    sys.stdout.write(json.dumps({"event": "finished", **run.report()}) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jobs.runners.child")
    parser.add_argument("--config", required=True)
    parser.add_argument("--trigger", default="manual")
    parser.add_argument("--time-limit", type=float, help="cut the crawl off after SECONDS")
    parser.add_argument("--log-level", choices=LEVELS, default="WARNING")
    parser.add_argument(
        "--given", action="store_true", help="read [settings] and the sources from stdin"
    )
    parser.add_argument("sources", nargs="+")
    args = parser.parse_args(argv)
    die_with_parent()
    setup_child(args.log_level, {"source": ",".join(args.sources), "pid": os.getpid()})
    try:
        config = given(args.config) if args.given else load_sources(args.config, args.sources)
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    unknown = [name for name in args.sources if name not in config.sources]
    if unknown:
        print(f"unknown sources: {', '.join(unknown)}", file=sys.stderr)
        return 2
    crawl_here(
        config,
        args.sources,
        trigger=args.trigger,
        on_started=started,
        on_finished=finished,
        time_limit=args.time_limit,
    )
    sys.stdout.flush()
    return 0


def handed(config: Config, names: Iterable[str]) -> bytes:
    """What a parent writes to a `--given` child's stdin: [settings] and the named sources
    (of those configured), pickled, as `given` reads them."""
    known = {name: config.sources[name] for name in names if name in config.sources}
    return pickle.dumps((config.settings, known), pickle.HIGHEST_PROTOCOL)


def given(path: str) -> Config:
    """[settings] and the sources the parent wrote to stdin (`LocalRunner`); `path` is
    the config file they came from (the database is relative to its folder)."""
    settings, sources = pickle.load(sys.stdin.buffer)  # noqa: S301 - our parent's
    return Config.of(Path(path), settings, sources)


def crawl_here(
    config: Config,
    names: Sequence[str],
    *,
    trigger: str,
    on_started: Callable[[list[SourceRun]], None] = lambda runs: None,
    on_finished: Callable[[SourceRun], None] = lambda run: None,
    time_limit: float | None = None,
) -> list[SourceRun]:
    """Crawl the named sources together in this process. The Twisted reactor runs once per
    process, so the daemon crawls in a child (`main`); the one-shot `crossings crawl`
    calls this itself. SIGINT and SIGTERM cut the crawl while it runs; afterwards they
    act as they did before."""
    from scrapers.crawl import crawl  # Scrapy loads only once the config is known good

    handlers = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        return crawl(
            config.database,
            {name: config.sources[name] for name in dict.fromkeys(names)},
            config.settings,
            trigger=trigger,
            on_started=on_started,
            on_finished=on_finished,
            time_limit=time_limit,
        )
    finally:
        for signum, handler in handlers.items():
            signal.signal(signum, handler)


if __name__ == "__main__":
    sys.exit(main())
