"""A real aiohttp server for the pages (in a thread, on 127.0.0.1) and headless Chromium."""

import asyncio
import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from aiohttp import web

from core.checked import free_port
from jobs.config import Config
from jobs.web.app import make_app

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--virtual-time-budget=5000",
]  # fmt: skip


@contextmanager
def serving(config: Config) -> Iterator[str]:
    """The crossings web app on a free local port; yields its base URL."""
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(make_app(config))
    port = free_port()
    loop.run_until_complete(runner.setup())
    loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", port).start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)
        loop.close()


def chromium(url: str, profile: Path, *extra: str) -> subprocess.CompletedProcess:
    """Run headless Chromium on a page with a fresh profile (after the page's scripts ran)."""
    return subprocess.run(
        [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *extra, url],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
