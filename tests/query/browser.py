"""Drive the real headless Chromium over the Chrome DevTools protocol (its websocket, with
aiohttp's client): open a page at a phone's or a desktop's width, run JavaScript in it
and read the answer, take a screenshot. No driver binary and no browser download: the
installed Chromium answers on 127.0.0.1 only."""

import asyncio
import base64
import itertools
import json
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import aiohttp

from tests.query.servers import CHROMIUM, CHROMIUM_FLAGS

PHONE, DESKTOP = 390, 1100
STARTUP = 30.0  # seconds Chromium may take to open its debugging port on a loaded machine


class Browser:
    """One headless Chromium with a fresh profile and one tab; a context manager."""

    def __init__(self, profile: Path) -> None:
        flags = [flag for flag in CHROMIUM_FLAGS if not flag.startswith("--virtual-time")]
        assert CHROMIUM is not None, "chromium is not installed"
        self.process = subprocess.Popen(
            [CHROMIUM, *flags, f"--user-data-dir={profile}", "--remote-debugging-port=0",
             "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.loop = asyncio.new_event_loop()
        self.ids = itertools.count(1)
        self.events: list[dict] = []
        try:
            port = _debugging_port(profile / "DevToolsActivePort", self.process)
            self.loop.run_until_complete(self._connect(port))
            self.call("Page.enable")
        except BaseException:
            self.close()
            raise

    async def _connect(self, port: int) -> None:
        self.session = aiohttp.ClientSession()
        async with self.session.get(f"http://127.0.0.1:{port}/json/list") as response:
            targets = await response.json()
        tab = next(target for target in targets if target["type"] == "page")
        self.socket = await self.session.ws_connect(tab["webSocketDebuggerUrl"], max_msg_size=0)

    def call(self, method: str, **params: Any) -> dict:
        """Send one protocol command and wait for its result (events are kept)."""
        return self.loop.run_until_complete(self._call(method, params))

    async def _call(self, method: str, params: dict) -> dict:
        number = next(self.ids)
        await self.socket.send_json({"id": number, "method": method, "params": params})
        while True:
            message = json.loads((await self.socket.receive(timeout=60)).data)
            if message.get("id") == number:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message["result"]
            self.events.append(message)

    def open(self, url: str, width: int, height: int = 900) -> None:
        """Load `url` in a viewport `width` CSS pixels wide (a phone's below 500: touch,
        the page's viewport meta honoured) and wait until its scripts ran."""
        self.call(
            "Emulation.setDeviceMetricsOverride",
            width=width, height=height, deviceScaleFactor=1, mobile=width < 500,
        )  # fmt: skip
        self.events.clear()
        self.call("Page.navigate", url=url)
        deadline = time.monotonic() + 60
        while not any(event.get("method") == "Page.loadEventFired" for event in self.events):
            assert time.monotonic() < deadline, f"{url} did not load"
            self.loop.run_until_complete(self._wait_event())

    async def _wait_event(self) -> None:
        message = await self.socket.receive(timeout=60)
        self.events.append(json.loads(message.data))

    def evaluate(self, expression: str) -> Any:
        """The JSON value of a JavaScript expression evaluated in the page."""
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression[:60]}...: {result['exceptionDetails']}")
        return result["result"].get("value")

    def before_scripts(self, source: str) -> None:
        """Run `source` in every page before its own scripts (to watch what they do)."""
        self.call("Page.addScriptToEvaluateOnNewDocument", source=source)

    def screenshot(self, path: Path) -> None:
        """The whole page as PNG, to look at."""
        metrics = self.call("Page.getLayoutMetrics")["cssContentSize"]
        clip = {"x": 0, "y": 0, "width": metrics["width"], "height": metrics["height"],
                "scale": 1}  # fmt: skip
        shot = self.call("Page.captureScreenshot", format="png", clip=clip,
                         captureBeyondViewport=True)  # fmt: skip
        path.write_bytes(base64.b64decode(shot["data"]))

    def close(self) -> None:
        async def disconnect() -> None:
            if hasattr(self, "socket"):
                await self.socket.close()
            if hasattr(self, "session"):
                await self.session.close()

        self.loop.run_until_complete(disconnect())
        self.loop.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> "Browser":
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType
    ) -> None:
        self.close()


def _debugging_port(announced: Path, process: subprocess.Popen) -> int:
    """Chromium writes the port it chose to DevToolsActivePort in its profile."""
    deadline = time.monotonic() + STARTUP
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"chromium exited with {process.returncode} before it answered")
        if announced.exists() and (text := announced.read_text().split()):
            return int(text[0])
        time.sleep(0.1)
    raise RuntimeError(f"chromium did not open its debugging port in {STARTUP:.0f} s")
