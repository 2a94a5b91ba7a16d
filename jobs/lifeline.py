"""Children that die with the daemon. A crawl child or alert worker left running by a
daemon killed with `kill -9` would go on crawling or sending while the restarted daemon
does the same; so the daemon names itself in CROSSINGS_PARENT_PID and each child asks the
kernel (Linux `prctl(PR_SET_PDEATHSIG)`) for SIGTERM when that parent dies. SIGTERM makes
a crawl child mark its cut-off runs `interrupted` and exit. Elsewhere, or if the parent is
already gone, the daemon's start-up finds such children and stops them (jobs.daemon)."""

import ctypes
import ctypes.util
import os
import signal
import sys
from pathlib import Path

PARENT_ENV = "CROSSINGS_PARENT_PID"
PR_SET_PDEATHSIG = 1


def child_environment() -> dict[str, str]:
    """The environment for a child that must die with this process."""
    return {**os.environ, PARENT_ENV: str(os.getpid())}


def die_with_parent() -> None:
    """In a child started with `child_environment()`: get SIGTERM when the parent dies
    (and at once if it already has)."""
    parent = os.environ.get(PARENT_ENV, "")
    if not parent.isdigit():
        return
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != int(parent):  # the parent died before the request took effect
        os.kill(os.getpid(), signal.SIGTERM)


def alive(pid: int) -> bool:
    """Whether a process still runs (a zombie, killed but not yet reaped, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state != "Z"


def orphaned_child(pid: int, module: str) -> bool:
    """Whether `pid` is a `python -m MODULE` child whose daemon is gone (read from /proc:
    where it cannot be read, False, and the process is left alone)."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        environment = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return False
    if module.encode() not in command:
        return False
    prefix = PARENT_ENV.encode() + b"="
    parent = next((item[len(prefix) :] for item in environment if item.startswith(prefix)), b"")
    return parent.isdigit() and not alive(int(parent))
