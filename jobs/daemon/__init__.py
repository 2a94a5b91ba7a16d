"""The daemon (`crossings run`): scheduler, crawl queue, catch-up, alert work, shutdown."""

from jobs.daemon.service import Daemon, DaemonError

__all__ = ["Daemon", "DaemonError"]
