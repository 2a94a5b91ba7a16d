"""`crossings inspect`: what crossings could read on a page, and a source block proven to
read it. A thin shell over `scrapers.inspect` (the survey and the dry runs) and
`scrapers.inspect.fix` (a broken source's smallest fix)."""

import math
import re
import sys
import time
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

import click

from jobs.cli.context import Context, pass_context
from jobs.invocation import program
from scrapers.fetching import FetchSettings
from scrapers.inspect import InspectError, Proposal, Survey
from scrapers.inspect.fetch import Fetcher
from scrapers.inspect.inspection import follow, inspect_target
from scrapers.inspect.report import lines

LISTING_DRY_RUNS = 1.0  # seconds of dry runs when listing (a 1 MB workbook has 16 tables)


@click.command()
@click.argument("target", required=False)
@click.option("--pick", metavar="N", help="Only candidate N ('3'; '3.1' inside a linked file).")
@click.option("--name", help="The source's name in the block [default: from the address].")
@click.option("--metric", "prefix", help="How metric names start [default: the name].")
@click.option("--url", "block_url", help="For a FILE: its address on the web, the block's url.")
@click.option("--write", "write_to", type=click.Path(path_type=Path, dir_okay=False),
              help="Append the picked block to this config file.")  # fmt: skip
@click.option("--header", "headers", multiple=True, metavar="'NAME: VALUE'",
              help="A request header to send (repeatable), e.g. 'Referer: URL'.")  # fmt: skip
@click.option("--user-agent", help="The User-Agent to send instead of the configured one.")
@click.option("--source", "source_name", metavar="NAME",
              help="Inspect a configured source's last stored page (no network) and "
              "propose the smallest fix of its block.")  # fmt: skip
@pass_context
def inspect(
    context: Context,
    target: str | None,
    pick: str | None,
    name: str | None,
    prefix: str | None,
    block_url: str | None,
    write_to: Path | None,
    headers: tuple[str, ...],
    user_agent: str | None,
    source_name: str | None,
) -> None:
    """List, numbered, everything crossings could read at TARGET (a URL or a file here):
    tables, figure cards, data-file links, workbook sheets, PDF tables, feeds and JSON
    records; for each, a ready [sources.NAME] block and the values it would store (the
    kind's own extractor run over the same body: nothing is written). The URL is fetched
    as a source would be (User-Agent, robots.txt, [settings] limits).

    Example: crossings inspect https://tracreports.org/reports/695/ --pick 1 --write crossings.toml
    """
    if source_name:
        from jobs.cli.repair import inspect_source

        inspect_source(context, source_name)
        return
    if not target:
        raise click.UsageError("give a URL or a file to inspect, or --source NAME")
    name = name or _name(target)
    prefix = prefix or name.replace("-", ".")
    fetcher = Fetcher(_settings(context), _headers(headers, user_agent))
    try:
        found = inspect_target(target, fetcher, prefix)
        command = f"{program()} inspect {target}"
        candidates = found.candidates
        if pick:
            chosen = found.pick(pick.split(".")[0])
            if chosen.follow:
                found = follow(chosen, fetcher, prefix)
                candidates = [found.pick(pick)] if "." in pick else found.candidates
            else:
                candidates = [chosen]
        if block_url:
            for candidate in candidates:
                candidate.url = block_url
        # A listing runs dry runs for a second; the rest are run when picked (--pick N).
        until = time.monotonic() + (LISTING_DRY_RUNS if len(candidates) > 1 else math.inf)
        proposals = [
            Proposal.of(c, name) if time.monotonic() < until else Proposal.deferred_of(c, name)
            for c in candidates
        ]
        _print(found, proposals, command)
        if write_to is not None:
            _write(write_to, proposals, name)
    except InspectError as error:
        raise click.ClickException(str(error)) from None
    finally:
        fetcher.close()
    if not any(p.reads or p.deferred or p.candidate.follow for p in proposals):
        sys.exit(1)


def _print(found: Survey, proposals: list[Proposal], command: str) -> None:
    readable = [p for p in proposals if p.reads or p.deferred or p.candidate.follow]
    seen = f"; also saw: {'; '.join(found.seen)}" if found.seen else ""
    click.echo(f"{found.url}: {found.body}, {len(found.candidates)} candidates{seen}")
    for proposal in proposals:
        click.echo("\n".join(lines(proposal, command)))
    if not readable:
        click.echo(found.nothing())
    elif len(proposals) > 1:
        click.echo(f"Pick one: {command} --pick N [--name NAME] [--write crossings.toml]")


def _write(path: Path, proposals: list[Proposal], name: str) -> None:
    readable = [p for p in proposals if p.reads]
    if len(readable) != 1:
        raise click.ClickException(
            f"--write appends one block, and {len(readable)} candidates read values: "
            "choose one with --pick N"
        )
    if not readable[0].candidate.url.startswith(("http://", "https://")):
        raise click.ClickException("--write needs the file's address on the web: add --url URL")
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    try:
        taken = name in tomllib.loads(text).get("sources", {})
    except tomllib.TOMLDecodeError:
        taken = f"[sources.{name}]" in text
    if taken:
        raise click.ClickException(f"{path} already has a source {name!r}: choose --name")
    separator = (
        "" if not text or text.endswith("\n\n") else ("\n" if text.endswith("\n") else "\n\n")
    )
    with path.open("a", encoding="utf-8") as out:
        out.write(separator + readable[0].block())
    click.echo(
        f"appended [sources.{name}] to {path}: `{program()} check` checks it, "
        f"`{program()} crawl {name}` fetches it"
    )


def _settings(context: Context) -> FetchSettings:
    """The configured fetch settings, when there is a config; else the defaults."""
    if context.config_path.exists():
        return context.config.settings
    return FetchSettings()


def _headers(given: tuple[str, ...], user_agent: str | None) -> dict[str, str]:
    headers = {}
    for header in given:
        key, colon, value = header.partition(":")
        if not colon or not key.strip() or any(c in header for c in "\r\n"):
            raise click.BadParameter(f"{header!r} is not 'Name: value'", param_hint="--header")
        headers[key.strip()] = value.strip()
    if user_agent:
        headers["User-Agent"] = user_agent
    return headers


def _name(target: str) -> str:
    """A source name from the address: its last path segment, as a slug."""
    path = urlsplit(target).path if "://" in target else target
    last = next((part for part in reversed(path.split("/")) if part), "") or urlsplit(target).netloc
    made = re.sub(r"[^a-z0-9]+", "-", Path(last).stem.lower()).strip("-")
    return made[:40].strip("-") or "new-source"


COMMANDS = (inspect,)
