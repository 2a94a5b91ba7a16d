"""The crawl queue's promises, with a crawl that waits until the test lets it finish:
sources due together share a batch, a source never runs twice at once, and no more than
`limit` batches run at a time."""

import asyncio

from jobs.scheduling.queue import CrawlQueue


class Crawls:
    """Records each batch and holds it until `finish` is set."""

    def __init__(self) -> None:
        self.batches: list[tuple[list[str], str]] = []
        self.running = self.most_at_once = 0
        self.finish = asyncio.Event()
        self.started = asyncio.Event()

    async def __call__(self, sources: list[str], trigger: str) -> None:
        self.batches.append((sources, trigger))
        self.running += 1
        self.most_at_once = max(self.most_at_once, self.running)
        self.started.set()
        await self.finish.wait()
        self.running -= 1


async def until(condition) -> None:
    async with asyncio.timeout(10):
        while not condition():
            await asyncio.sleep(0.01)


def test_batches_one_run_per_source_and_the_global_limit():
    async def scenario():
        crawls = Crawls()
        queue = CrawlQueue(crawls, limit=1, window=0.05, max_batch=100)
        queue.start()
        for name in ("a", "b", "c"):
            assert queue.submit(name, "schedule")
        await crawls.started.wait()
        assert crawls.batches == [(["a", "b", "c"], "schedule")]  # due together: one child
        assert not queue.submit("a", "schedule")  # still running: coalesced
        assert queue.submit("d", "catch-up")
        assert not queue.submit("d", "catch-up")  # already waiting
        await asyncio.sleep(0.2)  # the window passes; the only slot is still taken
        assert len(crawls.batches) == 1
        crawls.finish.set()
        await until(lambda: len(crawls.batches) == 2 and not queue.batches)
        assert crawls.batches[1] == (["d"], "catch-up")
        assert crawls.most_at_once == 1
        assert queue.submit("a", "schedule")  # finished: it may run again
        await until(lambda: len(crawls.batches) == 3)
        assert await queue.stop() == []

    asyncio.run(scenario())


def test_stopping_returns_what_was_waiting_and_accepts_nothing_more():
    async def scenario():
        crawls = Crawls()
        queue = CrawlQueue(crawls, limit=1, window=0.05, max_batch=100)
        queue.start()
        queue.submit("a", "schedule")
        await crawls.started.wait()
        queue.submit("b", "schedule")
        assert await queue.stop() == ["b"]
        assert not queue.submit("c", "schedule")
        crawls.finish.set()
        await until(lambda: not queue.batches)

    asyncio.run(scenario())


def test_a_site_is_crawled_by_one_child_at_a_time_and_catch_up_batches_are_larger():
    async def scenario():
        crawls = Crawls()
        sites = {"a1": "a.example", "a2": "a.example", "b1": "b.example", "c1": "c.example"}
        queue = CrawlQueue(
            crawls,
            limit=2,
            window=0.05,
            max_batch=1,
            batch_sizes={"catch-up": 10},
            site_of=sites.__getitem__,
        )
        queue.start()
        assert queue.submit("a1", "schedule")
        await crawls.started.wait()
        for name in ("a2", "b1", "c1"):
            assert queue.submit(name, "catch-up")
        await until(lambda: len(crawls.batches) == 2)
        await asyncio.sleep(0.2)  # a2 waits for its site although a slot is free
        assert crawls.batches == [(["a1"], "schedule"), (["b1", "c1"], "catch-up")]
        crawls.finish.set()
        await until(lambda: len(crawls.batches) == 3)
        assert crawls.batches[2] == (["a2"], "catch-up")
        assert crawls.most_at_once == 2
        assert await queue.stop() == []

    asyncio.run(scenario())
