"""Reading a downloaded binary file (a workbook, a PDF) in a process of its own.

Their readers are native code (calamine in Rust, pdfminer's inflaters) that a hostile
file can make allocate without bound or abort outright; in the crawl's own process that
would take every other source of the crawl down with it. So a kind that says
`parsed_apart` is read here: the body is copied to a temporary file, and a fresh Python
(`python -m scrapers.extract.isolated FILE`) with a memory cap (RLIMIT_AS) and a CPU cap
(RLIMIT_CPU) reads it and sends the extraction back (pickled, between our own two
processes). A crash, a cap reached or a hang ends only that child, and the source's run
is `failed` with the reason in words (`Unreadable`). The limits: `bounds.Limits`."""

import ctypes
import ctypes.util
import logging
import os
import pickle
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from scrapers.extract.bounds import MB, Limits, Unreadable

if TYPE_CHECKING:
    from scrapers.extract import Extraction, Page
    from scrapers.source import Source

log = logging.getLogger(__name__)
CRASHES = {signal.SIGABRT, signal.SIGSEGV, signal.SIGBUS, signal.SIGKILL}
PR_SET_PDEATHSIG = 1
ROOT = str(Path(__file__).resolve().parents[2])  # holds the packages (a source tree, an egg)


def extract_apart(source: "Source", page: "Page") -> "Extraction":
    """`extract` in a child process under `page.limits`; raises LayoutError (the page is
    not as configured) or Unreadable (a limit, a crash) with the reason."""
    from scrapers.extract import LayoutError

    limits = page.limits
    what = f"{source.name}: {page.url}"
    job = pickle.dumps((source, page.url, page.content_type, page.link_text, limits))
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(
        filter(None, [ROOT, os.environ.get("PYTHONPATH")]))}  # fmt: skip
    with tempfile.NamedTemporaryFile(prefix="crossings-parse-") as copy:
        with page.open() as raw:
            shutil.copyfileobj(raw, copy)
        copy.flush()
        try:
            done = subprocess.run(
                [sys.executable, "-m", "scrapers.extract.isolated", copy.name],
                input=job,
                capture_output=True,
                timeout=limits.cpu_seconds * 2 + 60,
                env=environment,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise Unreadable(
                f"{what}: reading the file took more than {limits.cpu_seconds * 2 + 60:,} "
                "seconds and was stopped"
            ) from None
    if done.returncode == 0:
        outcome, value = pickle.loads(done.stdout)  # noqa: S301 - our own child's answer
        if outcome == "ok":
            return value
        raise (LayoutError if outcome == "broken" else Unreadable)(value)
    said = done.stderr.decode("utf-8", "replace").strip().splitlines()
    log.info("%s: the reader of the file ended with %s: %s", what, done.returncode, said[-5:])
    raise Unreadable(f"{what}: {_ended(done.returncode, said, limits)}")


def _ended(returncode: int, said: list[str], limits: Limits) -> str:
    """Why the reading child ended, in words."""
    if returncode == -signal.SIGXCPU:
        return (
            f"reading the file took more than {limits.cpu_seconds:,} CPU seconds and was "
            "stopped (parse_cpu_seconds in [settings])"
        )
    if returncode < 0 and -returncode in CRASHES:
        return _out_of_memory(
            limits, f" and its reader stopped ({signal.Signals(-returncode).name})"
        )
    if any("memory allocation" in line for line in said):
        return _out_of_memory(limits, "")
    last = said[-1][:200] if said else "nothing on its error output"
    return f"the reader of the file exited with code {returncode} ({last})"


def _out_of_memory(limits: Limits, how: str) -> str:
    """Under the memory cap, a native reader that fails or crashes has almost always
    run out of it."""
    return (
        f"reading the file needed more than the {limits.memory_mb:,} MB it may use{how}; "
        f"raise {limits.says()} if the file is genuine"
    )


def _read(path: str) -> tuple[str, object]:
    """In the child: read the file under the caps; what happened, for the parent."""
    from scrapers.extract import LayoutError, Page, extract_here, parser_failure

    _die_with_parent()
    source, url, content_type, link_text, limits = pickle.load(sys.stdin.buffer)  # noqa: S301
    memory = limits.memory_mb * MB
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 5))
    page = Page(url, opener=lambda: open(path, "rb"), content_type=content_type,  # noqa: SIM115
                link_text=link_text, limits=limits)  # fmt: skip
    try:
        return "ok", extract_here(source, page)
    except LayoutError as error:
        return "broken", str(error)
    except Unreadable as error:
        return "failed", str(error)
    except MemoryError:
        return "failed", f"{source.name}: {url}: {_out_of_memory(limits, '')}"
    except Exception as error:  # a parser bug: the run says so
        return "failed", parser_failure(source.name, error)
    except BaseException as error:  # a panic in native code (pyo3's PanicException)
        crash = f" and its reader crashed ({type(error).__name__}: {error})"
        return "failed", f"{source.name}: {url}: {_out_of_memory(limits, crash)}"


def _die_with_parent() -> None:
    """Ask Linux for SIGKILL when the crawl that started this reader ends (a crawl cut by
    SIGTERM does not wait for it), as jobs.lifeline does for crawl children."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def main() -> None:
    answer = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # whatever a library prints goes to the error output, not the answer
    answer.write(pickle.dumps(_read(sys.argv[1])))
    answer.close()


if __name__ == "__main__":
    main()
