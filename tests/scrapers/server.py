"""A real HTTP server on 127.0.0.1 for crawl tests: each path serves a page, and can be
told to misbehave first (429 with Retry-After, 500), to answer slowly, or to change. It
notes when it began and finished answering each request (`visits`)."""

import hashlib
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit


@dataclass
class Route:
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    file: Path | None = None  # served in chunks, for large files
    failures: list[tuple[int, dict[str, str]]] = field(default_factory=list)  # answered first
    delay: float = 0.0
    conditional: bool = True


@dataclass(frozen=True)
class Visit:
    """One request as the server saw it, on time.monotonic (one clock for every process of
    the machine): `start` once its headers were read, `end` as the last write of its
    answer began. Both err on the side of a shorter visit (the client sent before
    `start`, and cannot have had the answer before `end`), so a gap between two visits
    is never measured shorter than the client kept it."""

    method: str
    path: str
    start: float
    end: float


class Site:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {
            "/robots.txt": Route(b"User-agent: *\nDisallow: /private/\n", "text/plain")
        }
        self.hits: Counter[str] = Counter()
        self.request_headers: dict[str, dict[str, str]] = {}  # the last request's, per path
        self.conditional_hits: Counter[str] = Counter()
        self.visits: list[Visit] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self._answer(body=True)

        def do_HEAD(self) -> None:
            self._answer(body=False)

        def setup(self) -> None:
            super().setup()
            self.wfile = _Noting(self.wfile)

        def _answer(self, body: bool) -> None:
            start = time.monotonic()
            try:
                self._respond(body)
            finally:
                path = urlsplit(self.path).path
                site.visits.append(Visit(self.command, path, start, self.wfile.last_write))

        def _respond(self, body: bool) -> None:
            path = urlsplit(self.path).path
            site.hits[path] += 1
            site.request_headers[path] = dict(self.headers.items())
            route = site.routes.get(path)
            if route is None:
                return self._send(404, b"not found", {})
            if route.failures:
                status, headers = route.failures.pop(0)
                return self._send(status, b"try again", headers)
            if route.delay:
                time.sleep(route.delay)
            if route.file is not None:
                return self._send_file(route.file, body)
            etag = '"' + hashlib.sha256(route.body).hexdigest()[:16] + '"'
            headers = {"Content-Type": route.content_type}
            if route.conditional:
                headers["ETag"] = etag
                if self.headers.get("If-None-Match"):
                    site.conditional_hits[path] += 1
                if self.headers.get("If-None-Match") == etag:
                    return self._send(304, b"", headers)
            return self._send(200, route.body if body else b"", headers, len(route.body))

        def _send(self, status: int, data: bytes, headers: dict, length: int | None = None):
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            if status != 304:
                self.send_header("Content-Length", str(len(data) if length is None else length))
            self.end_headers()
            if data:
                self.wfile.write(data)

        def _send_file(self, file: Path, body: bool) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/csv")
            self.send_header("Content-Length", str(file.stat().st_size))
            self.end_headers()
            if body:
                with file.open("rb") as handle:
                    while chunk := handle.read(1 << 20):
                        self.wfile.write(chunk)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


class _Noting:
    """A handler's output that notes when its latest write began."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.last_write = time.monotonic()

    def write(self, data: bytes) -> int:
        self.last_write = time.monotonic()
        return self.out.write(data)

    def __getattr__(self, name: str) -> object:  # flush, close, closed
        return getattr(self.out, name)
