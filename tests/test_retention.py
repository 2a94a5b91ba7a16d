"""Retention prunes old fetch records and bodies, never one that provenance still needs."""

from storage import NewsItem, Observation

OLD = "2024-01-01T00:00:00.000000Z"
LATER = "2024-02-01T00:00:00.000000Z"
CUTOFF = "2025-01-01T00:00:00.000000Z"


def fetch(store, url, body, at, status=200):
    return store.snapshots.record(
        source="s", url=url, http_status=status, body=body, fetched_at=at, etag=f'"{at}"'
    )


def test_old_unreferenced_fetches_and_their_bodies_go(store):
    first = fetch(store, "http://x/a", b"old page" * 50, OLD)
    fetch(store, "http://x/a", b"new page" * 50, LATER)
    pruned = store.retention.prune(older_than=CUTOFF)
    assert (pruned.snapshots, pruned.bodies) == (1, 1)
    assert store.snapshots.get(first.id) is None
    assert store.snapshots.counts()["bodies"] == 1


def test_a_body_an_observation_still_points_at_is_kept(store):
    cited = fetch(store, "http://x/a", b"page with values" * 50, OLD)
    store.observations.upsert([Observation("m", "2024-01", 5.0)], snapshot_id=cited.id, at=OLD)
    fetch(store, "http://x/a", b"later page" * 50, LATER)
    store.retention.prune(older_than=CUTOFF)
    assert store.snapshots.get(cited.id) is not None
    assert store.snapshots.body(cited.sha256) == b"page with values" * 50


def test_a_body_a_news_item_points_at_is_kept(store):
    cited = fetch(store, "http://x/feed", b"<rss>item</rss>" * 50, OLD)
    store.news.add([NewsItem("s", "g1", "Title")], snapshot_id=cited.id, at=OLD)
    fetch(store, "http://x/feed", b"<rss>later</rss>" * 50, LATER)
    store.retention.prune(older_than=CUTOFF)
    assert store.snapshots.body(cited.sha256) == b"<rss>item</rss>" * 50


def test_the_newest_fetch_and_newest_body_of_a_url_are_kept_for_conditional_get(store):
    with_body = fetch(store, "http://x/a", b"the page" * 50, OLD)
    fetch(store, "http://x/other", b"other" * 50, OLD)
    not_modified = fetch(store, "http://x/a", None, LATER, status=304)
    store.retention.prune(older_than=CUTOFF)
    assert store.snapshots.latest("s", "http://x/a").id == not_modified.id
    assert store.snapshots.latest("s", "http://x/other") is not None
    again = fetch(store, "http://x/a", None, CUTOFF, status=304)
    assert again.sha256 == with_body.sha256
    assert store.snapshots.body(again.sha256) == b"the page" * 50


def test_a_body_shared_with_a_kept_fetch_survives_its_old_fetch_being_pruned(store):
    body = b"same bytes" * 50
    old = fetch(store, "http://x/a", body, OLD)
    fetch(store, "http://x/b", body, LATER)  # another URL, newest of its own: kept
    pruned = store.retention.prune(older_than=CUTOFF)
    assert pruned.bodies == 0
    assert store.snapshots.body(old.sha256) == body


def test_nothing_newer_than_the_cutoff_is_touched(store):
    fetch(store, "http://x/a", b"one" * 50, OLD)
    fetch(store, "http://x/a", b"two" * 50, LATER)
    assert store.retention.prune(older_than=OLD).snapshots == 0
    assert store.snapshots.counts()["snapshots"] == 2


def test_after_a_failed_fetch_the_last_good_body_is_kept(store):
    good = fetch(store, "http://x/a", b"good page" * 50, OLD)
    fetch(store, "http://x/a", None, LATER, status=500)
    store.retention.prune(older_than=CUTOFF)
    assert store.snapshots.latest("s", "http://x/a", with_body=True).id == good.id
