"""The fetch policy both ways of fetching follow (scrapers.fetching): retry waits and the
Retry-After cap, and the per-site turn a streamed download waits for."""

import threading

from scrapers.fetching import MAX_RETRY_AFTER, FetchSettings, Pacer, retry_wait
from scrapers.streaming import RobotsCache, download
from tests.scrapers.server import Route, Site


def test_retries_back_off_honour_retry_after_and_stop():
    fetch = FetchSettings(retries=2, retry_backoff=0.5)
    assert [retry_wait(fetch, tries, None) for tries in range(3)] == [0.5, 1.0, None]
    assert retry_wait(fetch, 0, 7.0) == 7.0
    assert retry_wait(fetch, 0, MAX_RETRY_AFTER + 1) is None  # fail now, do not wait


def test_a_streamed_download_waits_while_its_site_is_held():
    site = Site()
    site.routes["/a.csv"] = Route(b"a,b\n1,2\n", "text/csv")
    try:
        pacer = Pacer(0)
        held = pacer.hold(f"{site.url}/a.csv")
        assert held is pacer.hold(f"{site.url}/other.csv")  # one turn per site
        assert held is not pacer.hold("http://elsewhere.example/a.csv")
        done = []

        def fetch() -> None:
            done.append(
                download(
                    f"{site.url}/a.csv", FetchSettings(download_delay=0, obey_robots_txt=False),
                    conditional={}, robots=RobotsCache(), pacer=pacer,
                    cancelled=lambda: False, counted=lambda requests, size: None,
                )
            )  # fmt: skip

        with held:
            worker = threading.Thread(target=fetch)
            worker.start()
            worker.join(0.5)
            assert site.hits["/a.csv"] == 0 and not done  # still waiting for its turn
        worker.join(30)
        assert site.hits["/a.csv"] == 1 and done[0].status == 200
        done[0].body_file.discard()
    finally:
        site.close()
