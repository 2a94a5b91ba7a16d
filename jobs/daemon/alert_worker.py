"""The alert worker process the daemon starts for each piece of alert work:

    python -m jobs.daemon.alert_worker --config PATH [--log-format json] evaluate
    python -m jobs.daemon.alert_worker --config PATH deliver
    python -m jobs.daemon.alert_worker --config PATH digest NAME

It reads the config file and the database itself, does the work and exits, so the charts
it draws (matplotlib) never stay in the daemon. `evaluate` and `digest` only queue
messages; `deliver` sends them: the daemon runs the two lanes side by side, so a slow
receiver never holds rule evaluation. Its log lines go to the daemon's stderr, and it dies
with the daemon (jobs.lifeline). Exit status: 0 done, 1 the work failed (logged), 2 the
config cannot be read."""

import argparse
import logging
import signal
import sys
from datetime import UTC, datetime

from jobs.config import Config, ConfigError, load
from jobs.lifeline import die_with_parent
from jobs.logs import FORMATS, setup
from storage import Store

log = logging.getLogger("crossings.alerts")
TASKS = ("evaluate", "deliver", "digest")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jobs.daemon.alert_worker")
    parser.add_argument("--config", required=True)
    parser.add_argument("--log-format", choices=FORMATS, default="text")
    parser.add_argument("task", choices=TASKS)
    parser.add_argument("digest", nargs="?", help="the digest's name (task `digest`)")
    args = parser.parse_args(argv)
    die_with_parent()
    setup(args.log_format)
    # Ctrl-C reaches the whole terminal group; the daemon decides when work stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        config = load(args.config)
    except ConfigError as error:
        log.error("%s", error)
        return 2
    try:
        run(config, args.task, args.digest)
    except Exception as error:
        log.exception("%s failed: %s", args.task, error)
        return 1
    return 0


def run(config: Config, task: str, digest: str | None) -> None:
    now = datetime.now(UTC)
    with Store(config.database) as store:
        if task == "evaluate":
            from jobs.aftermath import derive_and_evaluate

            derive_and_evaluate(config, store, now=now)
        elif task == "digest":
            from alerts.digests import queue_digest

            if digest is None:
                raise ValueError("the task `digest` needs the digest's name")
            queue_digest(
                store,
                config.digests[digest or ""],
                config.rules,
                now=now,
                templates=config.templates,
            )
        else:
            from jobs.aftermath import deliver

            deliver(config, store, now=now)


if __name__ == "__main__":
    sys.exit(main())
