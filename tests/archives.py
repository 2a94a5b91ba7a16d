"""Web archives for the tests: WARC files written with warcio from the project's real
captures, replayed by a real pywb server (`wayback`) on 127.0.0.1, in a test's folder."""

import io
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

import requests
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from core.checked import free_port

COLLECTION = "crossings"


class Archived(NamedTuple):
    """One capture: the original URL, when (YYYYMMDDhhmmss), and the answer archived."""

    url: str
    timestamp: str
    body: bytes
    content_type: str = "application/json"
    status: str = "200 OK"
    headers: tuple[tuple[str, str], ...] = ()


def write_warc(path: Path, captures: list[Archived]) -> Path:
    with path.open("wb") as out:
        writer = WARCWriter(out, gzip=True)
        for capture in captures:
            headers = [("Content-Type", capture.content_type), *capture.headers]
            http = StatusAndHeaders(capture.status, headers, protocol="HTTP/1.1")
            when = datetime.strptime(capture.timestamp, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
            record = writer.create_warc_record(
                capture.url,
                "response",
                payload=io.BytesIO(capture.body),
                http_headers=http,
                warc_headers_dict={"WARC-Date": when.strftime("%Y-%m-%dT%H:%M:%SZ")},
            )
            writer.write_record(record)
    return path


@contextmanager
def pywb(folder: Path, captures: list[Archived]) -> Iterator[str]:
    """A pywb collection of `captures`, served on 127.0.0.1; yields its replay address
    (captures at ADDRESS/TIMESTAMPid_/URL, its index at ADDRESS/cdx)."""
    folder.mkdir(parents=True, exist_ok=True)
    tools = Path(sys.executable).parent
    warc = write_warc(folder / "captures.warc.gz", captures)
    for command in (["init", COLLECTION], ["add", COLLECTION, str(warc)]):
        subprocess.run([tools / "wb-manager", *command], cwd=folder, check=True,
                       capture_output=True)  # fmt: skip
    port = free_port()
    server = subprocess.Popen(
        [tools / "wayback", "-b", "127.0.0.1", "-p", str(port)],
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=(folder / "wayback.log").open("wb"),
    )
    address = f"http://127.0.0.1:{port}/{COLLECTION}"
    try:
        deadline = time.monotonic() + 120  # pywb takes seconds to start, more under load
        while True:
            try:
                requests.get(f"{address}/cdx?url=x", timeout=5)
                break
            except requests.RequestException:
                if server.poll() is not None or time.monotonic() > deadline:
                    log = (folder / "wayback.log").read_text(errors="replace")[-2000:]
                    raise RuntimeError(f"pywb did not start on port {port}:\n{log}") from None
                time.sleep(0.2)
        yield address
    finally:
        server.terminate()
        server.wait(timeout=30)
