"""Fixtures for the daemon tests (helpers in tests/jobs/daemon.py): a local site, a
webhook receiver, and `start`, which starts daemons and kills any a test left running."""

import os
import signal
from pathlib import Path

import pytest

from tests.jobs.daemon import Receiver, RunningDaemon, Site
from tests.serving import running


@pytest.fixture
def site():
    with running(Site()) as server:
        yield server
        server.release.set()


@pytest.fixture
def receiver():
    with running(Receiver()) as server:
        yield server


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
