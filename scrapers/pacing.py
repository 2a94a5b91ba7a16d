"""The per-site pacing both ways of fetching share (Scrapy for pages, `scrapers.streaming`
for large files). Apart from `scrapers.fetching` so that reading the config, which
declares the fetch settings, does not import asyncio."""

import asyncio
import contextlib
import math
import time
from collections.abc import AsyncIterator
from urllib.parse import urlsplit


class Pacer:
    """The per-site turn both ways of fetching take: a site sees one request at a time,
    each starting `download_delay` after its previous one ended, whether either came
    through Scrapy or was streamed (Scrapy's download slot spaces only Scrapy's own).
    Scrapy's requests take their turn in `scrapers.middlewares.PacingMiddleware`,
    streamed downloads in `scrapers.streaming.download`. Turns are taken in the reactor
    thread by awaiting, never by sleeping in it, first come first served. Without a
    delay there are no turns: requests to a site run at once, as Scrapy then allows."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self._turns: dict[str, asyncio.Lock] = {}
        self._ended: dict[str, float] = {}

    async def take(self, url: str) -> None:
        """Wait until no other request to the site is under way and `delay` has passed
        since the last one ended. Every `take` is followed by one `give_back`."""
        if not self.delay:
            return
        site = _site(url)
        turn = self._turns.setdefault(site, asyncio.Lock())
        await turn.acquire()
        try:
            if (wait := self._ended.get(site, -math.inf) + self.delay - time.monotonic()) > 0:
                await asyncio.sleep(wait)
        except BaseException:  # cancelled while waiting: the turn passes to the next
            turn.release()
            raise

    def give_back(self, url: str) -> None:
        """The request's answer (or error) is in: the site's delay counts from now."""
        if not self.delay:
            return
        site = _site(url)
        self._ended[site] = time.monotonic()
        self._turns[site].release()

    @contextlib.asynccontextmanager
    async def turn(self, url: str) -> AsyncIterator[None]:
        await self.take(url)
        try:
            yield
        finally:
            self.give_back(url)


def _site(url: str) -> str:
    return urlsplit(url).netloc.lower()
