"""A total time limit for one conversation over a socket (an alert sent by SMTP, a file
downloaded): a socket timeout bounds each read, so a server that drips its answer a byte
at a time could hold it for as long as it likes; at the deadline a watchdog shuts the
socket down, which ends whatever read or write is in progress. Kept here, beside
core.clock, because both alerts and scrapers need it and neither may import the
other."""

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator

RESHUT_EVERY = 0.05  # seconds: a socket opened after the deadline is shut down this soon


class Deadline:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.ends = time.monotonic() + seconds
        self.expired = False

    def remaining(self) -> float:
        """Seconds left (never zero: a zero socket timeout would mean non-blocking)."""
        return max(self.ends - time.monotonic(), 0.001)

    @contextlib.contextmanager
    def guarding(self, current: Callable[[], socket.socket | None]) -> Iterator[None]:
        """While the block runs, shut down `current()` once the deadline has passed."""
        finished = threading.Event()

        def watch() -> None:
            if finished.wait(self.remaining()):
                return
            self.expired = True
            while not finished.is_set():
                sock = current()
                if sock is not None:
                    # the plain socket's shutdown, also under TLS: the SSL object is left
                    # to the thread that is using it
                    with contextlib.suppress(OSError):
                        socket.socket.shutdown(sock, socket.SHUT_RDWR)
                finished.wait(RESHUT_EVERY)

        watchdog = threading.Thread(target=watch, name="send-deadline", daemon=True)
        watchdog.start()
        try:
            yield
        finally:
            finished.set()
            watchdog.join()
