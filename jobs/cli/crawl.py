"""Crawling by hand: `crawl` fetches sources now, `reparse` re-extracts stored snapshots."""

import contextlib
import logging
import sys
import threading
import time
from collections.abc import Iterator

import click

from core.status import RunStatus
from jobs.aftermath import after_crawl
from jobs.cli.context import Context, one_of, pass_context
from jobs.cli.output import say
from jobs.runners.child import crawl_here
from jobs.runners.results import RunResult, to_try
from scrapers.recorder import SourceRun

CHANGES_SHOWN = 20
SHOWN_AGAIN = 20  # failed sources named in the command that tries them again


@click.command()
@click.argument("sources", nargs=-1)
@click.option("--all", "crawl_all", is_flag=True, help="Crawl every enabled source.")
@click.option("--no-alerts", is_flag=True, help="Do not evaluate rules nor send alerts afterwards.")
@click.option(
    "-v", "--verbose", is_flag=True,
    help="Also print Scrapy's log on stderr: every request, retry and traceback.",
)  # fmt: skip
@pass_context
def crawl(
    context: Context, sources: tuple[str, ...], crawl_all: bool, no_alerts: bool, verbose: bool
) -> None:
    """Crawl SOURCES now (or --all) and show, per source, its status, values new / revised /
    unchanged, news items, bytes and time; a source that failed gets one line saying what
    failed and why (-v for the whole story). Then evaluate the rules and send any alerts
    (unless --no-alerts). Exits 1 if any source failed or is broken.

    Example: crossings crawl trac-quickfacts cbp-sbo-encounters
    """
    config = context.config
    if crawl_all:
        sources = tuple(name for name, source in config.sources.items() if source.enabled)
    if not sources:
        raise click.UsageError("name at least one source, or pass --all")
    for name in sources:
        one_of("source", name, config.sources)
    _log_to_terminal(verbose)
    width = max(len(name) for name in sources)
    click.echo(f"{'source':<{width}}  {'status':<11} {'new':>6} {'revised':>7} {'same':>6} "
               f"{'news':>5} {'bytes':>10} {'time':>7}")  # fmt: skip
    results: list[RunResult] = []
    progress = Progress(len(sources)) if sys.stderr.isatty() else None

    def finished(run: SourceRun) -> None:
        """One line per source as it finishes, not a table at the end."""
        result = RunResult(**run.report())
        results.append(result)
        with progress.hidden() if progress else contextlib.nullcontext():
            click.echo(_line(result, width))
            notice = result.notice
            if notice and notice in (result.reason or ""):
                notice = None  # the reason says it already
            for said in filter(None, [result.reason, notice]):
                say(f"{'':<{width}}  -> {result.unnamed(said)}")
            if result.sample:
                say(f"{'':<{width}}  -> unverified source, check against the page: {result.sample}")
            if progress:
                progress.done += 1

    # One-shot: crawl in this process (the daemon, long-running, crawls in children).
    with progress or contextlib.nullcontext():
        crawl_here(config, sources, trigger="manual", on_finished=finished)
    broken = [r.source for r in results if r.status is RunStatus.BROKEN]
    failed = [r.source for r in results if not r.succeeded and r.source not in broken]
    if failed:
        again = _again(failed, everything=crawl_all and len(failed) == len(sources))
        click.echo(f"To try: {to_try(again)}")
    if (failed or broken) and not verbose:
        click.echo("Every request and error: add -v.")
    if not no_alerts:
        _alert(context)
    if failed or broken:
        sys.exit(1)


class Progress:
    """On a terminal, a line under the results that says how far the crawl is: sources
    done of all and the time since it started, redrawn every half second."""

    def __init__(self, total: int) -> None:
        self.total, self.done = total, 0
        self.started = time.monotonic()
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.ticker = threading.Thread(target=self._tick, daemon=True)

    def __enter__(self) -> "Progress":
        self.ticker.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        self.ticker.join()
        with self.lock:
            self._clear()

    @contextlib.contextmanager
    def hidden(self) -> Iterator[None]:
        """Clear the bar while a result line is printed above it."""
        with self.lock:
            self._clear()
            yield
            self._draw()

    def _tick(self) -> None:
        while not self.stopped.wait(0.5):
            with self.lock:
                self._draw()

    def _draw(self) -> None:
        width = 20
        filled = width * self.done // max(self.total, 1)
        bar = "#" * filled + "-" * (width - filled)
        elapsed = time.monotonic() - self.started
        sys.stderr.write(f"\r[{bar}] {self.done}/{self.total} sources, {elapsed:.0f}s elapsed")
        sys.stderr.flush()

    def _clear(self) -> None:
        sys.stderr.write("\r\033[K")
        sys.stderr.flush()


def _again(failed: list[str], *, everything: bool) -> str:
    """The sources to name in the command that tries again: a copyable command, not ten
    thousand names when a whole site was down."""
    if everything:
        return "--all"
    if len(failed) <= SHOWN_AGAIN:
        return " ".join(failed)
    return f"{' '.join(failed[:SHOWN_AGAIN])} ... ({len(failed) - SHOWN_AGAIN:,} more above)"


def _log_to_terminal(verbose: bool) -> None:
    """Expected failures (DNS, refused, timeout, 403, 404, TLS) are one line per source in
    the table; Scrapy's own log, tracebacks included, is printed only when asked for."""
    root = logging.getLogger()
    if verbose:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
        root.setLevel(logging.DEBUG)
    else:
        root.addHandler(logging.NullHandler())  # not Python's last resort: no tracebacks


def _alert(context: Context) -> None:
    with context.store(read_only=False) as store:
        done = after_crawl(context.config, store)
    for event in done.events:
        silenced = " (silenced)" if event.silenced else ""
        say(f"alert {event.kind}: {event.summary}{silenced}")
    report = done.delivery
    if report.sent or report.errors:
        click.echo(f"alerts sent: {report.sent}; to retry: {report.retrying}; dead: {report.dead}")
    for error in report.errors:
        say(f"  not delivered: {error}", err=True)


def _line(result: RunResult, width: int) -> str:
    return (
        f"{result.source:<{width}}  {result.status:<11} {result.values_new:>6} "
        f"{result.values_revised:>7} {result.values_unchanged:>6} {result.news_new:>5} "
        f"{result.bytes:>10,} {result.seconds:>6.1f}s"
    )


@click.command()
@click.argument("source")
@click.option(
    "--accept-layout",
    is_flag=True,
    help="The table's headers or rows changed on purpose: forget the remembered layout and "
    "take the stored page's.",
)
@pass_context
def reparse(context: Context, source: str, accept_layout: bool) -> None:
    """Re-extract SOURCE from its newest stored snapshot, with no network (after a parser
    or config fix), and report which values are new or revised.

    Example: crossings reparse trac-completions
    """
    from scrapers.extract.bounds import Limits
    from scrapers.reparse import reparse as reparse_source

    config = context.config
    one_of("source", source, config.sources)
    with context.store(read_only=False) as store:
        if accept_layout:
            store.layouts.forget(source)
        done = reparse_source(store, source, config.sources[source], Limits.of(config.settings))
    run, snapshot = done.run, done.snapshot
    if run.status is not RunStatus.OK or snapshot is None:
        say(f"{source}: {run.status} - {run.reason}", err=True)
        sys.exit(1)
    click.echo(
        f"{source}: reparsed snapshot {snapshot.id} fetched {snapshot.fetched_at}: "
        f"{run.values_new} new, {run.values_revised} revised, {run.values_unchanged} unchanged, "
        f"{run.news_new} news items"
    )
    for change in done.changes[:CHANGES_SHOWN]:
        before = f" (was {change.previous:g})" if change.previous is not None else ""
        click.echo(f"  {change.kind:<8} {change.metric} {change.period} = {change.value:g}{before}")
    if len(done.changes) > CHANGES_SHOWN:
        click.echo(f"  ... and {len(done.changes) - CHANGES_SHOWN} more")


COMMANDS = (crawl, reparse)
