"""Fixtures for the daemon tests (helpers in tests/jobs/daemon.py): a local site, a
webhook receiver, and `start`, which starts daemons and kills any a test left running."""

import os
import signal
import threading
from pathlib import Path

import pytest

from tests.jobs.daemon import Receiver, RunningDaemon, Site


@pytest.fixture
def site():
    server = Site()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.release.set()
    server.shutdown()


@pytest.fixture
def receiver():
    server = Receiver()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()


@pytest.fixture
def start(tmp_path):
    started: list[RunningDaemon] = []

    def start_daemon(config: Path, *options: str) -> RunningDaemon:
        daemon = RunningDaemon(config, *options)
        started.append(daemon)
        return daemon

    yield start_daemon
    for daemon in started:
        if daemon.process.poll() is None:
            os.killpg(daemon.process.pid, signal.SIGKILL)
            daemon.process.wait()
