"""`crossings` as a user runs it: a real process on a config file, its output captured
and its exit code returned (never raised), for a test to assert on both."""

import os
import subprocess
import sys
from pathlib import Path


def crossings(config: Path, *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "jobs", "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        # os.environ, not the process's C environment: under pytest that has COLUMNS=80
        # behind os.environ's back, and tables would be cut to fit it
        env=os.environ.copy(),
    )
