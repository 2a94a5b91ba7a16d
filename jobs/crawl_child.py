"""The crawl child process: `python -m jobs.crawl_child --config PATH --trigger T SOURCE...`.

Loads the config, crawls the given sources together in one spider, and reports on stdout,
one JSON object per line: {"event": "started", "source", "run_id"} as each run row opens,
then {"event": "finished", "source", "run_id", "status", "reason", counts...} as each ends.
The run rows in the database are written here; the parent (`jobs.runner`) only reads the
lines, and closes the rows of a child that died. Scrapy logs go to stderr."""

import argparse
import json
import sys

from jobs.config import ConfigError, Settings, load
from scrapers.fetching import FetchSettings
from scrapers.recorder import SourceRun


def fetch_settings(settings: Settings) -> FetchSettings:
    """The config's [settings] as the fetchers need them."""
    return FetchSettings(
        user_agent=settings.user_agent,
        contact=settings.contact,
        download_delay=settings.download_delay,
        concurrent_requests=settings.concurrent_requests,
        timeout=settings.timeout,
        retries=settings.retries,
        max_body_mb=settings.max_body_mb,
        obey_robots_txt=settings.obey_robots_txt,
    )


def emit(event: str, run: SourceRun) -> None:
    line = {"event": event, "source": run.name, "run_id": run.run_id}
    if event == "finished":
        line.update(run.report())
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jobs.crawl_child")
    parser.add_argument("--config", required=True)
    parser.add_argument("--trigger", default="manual")
    parser.add_argument("sources", nargs="+")
    args = parser.parse_args(argv)
    try:
        config = load(args.config)
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    unknown = [name for name in args.sources if name not in config.sources]
    if unknown:
        print(f"unknown sources: {', '.join(unknown)}", file=sys.stderr)
        return 2
    from scrapers.crawl import crawl  # Scrapy loads only once the config is known good

    crawl(
        config.database,
        {name: config.sources[name] for name in dict.fromkeys(args.sources)},
        fetch_settings(config.settings),
        trigger=args.trigger,
        on_started=lambda run: emit("started", run),
        on_finished=lambda run: emit("finished", run),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
