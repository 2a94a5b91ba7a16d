"""The daemon's small copy of the config (jobs.daemon.config): read in a forked process, the same
config as `load` gives; and the crawl child handed its sources by the daemon, without
reading the file again."""

import pytest

from jobs.config import ConfigError, load
from jobs.daemon.config import PackedSources, enabled, load_packed
from jobs.runners.local import LocalRunner
from jobs.starter import starter_text
from storage import Store
from tests.configs import settings
from tests.scrapers.server import Route, Site

RSS = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
<item><title>One</title><link>https://example.org/1</link></item></channel></rss>"""


def test_the_packed_config_is_the_config_load_gives(tmp_path):
    path = tmp_path / "crossings.toml"
    path.write_text(starter_text())  # every kind of source, rule, channel and digest
    loaded, packed = load(path), load_packed(path)
    assert isinstance(packed.sources, PackedSources)
    assert dict(packed.sources) == dict(loaded.sources)
    assert list(packed.sources) == list(loaded.sources)
    assert packed.settings == loaded.settings and packed.path == loaded.path
    assert dict(packed.rules) == dict(loaded.rules)
    assert dict(packed.channels) == dict(loaded.channels)
    assert dict(packed.digests) == dict(loaded.digests)
    assert dict(packed.metrics) == dict(loaded.metrics)


def test_a_bad_config_is_refused_with_the_problems_load_finds(tmp_path):
    path = tmp_path / "crossings.toml"
    path.write_text('[sources.a]\nkind = "tabel"\nurl = "https://example.org/"\n')
    with pytest.raises(ConfigError) as loaded:
        load(path)
    with pytest.raises(ConfigError) as packed:
        load_packed(path)
    assert packed.value.problems == loaded.value.problems
    assert str(packed.value) == str(loaded.value)
    with pytest.raises(ConfigError, match="file not found"):
        load_packed(tmp_path / "missing.toml")


def test_sources_switched_off_stay_out_and_the_rest_stay_packed(tmp_path):
    path = tmp_path / "crossings.toml"
    path.write_text(
        settings()
        + '[sources.on]\nkind = "feed"\nurl = "https://example.org/a.xml"\n'
        + '[sources.off]\nkind = "feed"\nurl = "https://example.org/b.xml"\nenabled = false\n'
    )
    sources = enabled(load_packed(path).sources)
    assert isinstance(sources, PackedSources)
    assert list(sources) == ["on"] and "off" not in sources
    assert sources["on"] == load(path).sources["on"]


def test_the_crawl_child_takes_its_sources_from_the_daemon_not_the_file(tmp_path):
    """The daemon validated the file once; the child it starts does not read it again
    (with 10,000 sources that read was a third of a one-source crawl's CPU)."""
    site = Site()
    site.routes["/quick.xml"] = Route(RSS, "application/rss+xml")
    try:
        path = tmp_path / "crossings.toml"
        path.write_text(
            settings(retries=0) + f'[sources.quick]\nkind = "feed"\nurl = "{site.url}/quick.xml"\n'
        )
        config = load_packed(path)
        path.write_text("this is [not TOML")  # a child reading it would fail
        runner = LocalRunner(path, config=config)
        (result,) = runner.crawl_sync(["quick"])
        assert (result.source, result.status) == ("quick", "ok"), result.reason
        assert site.hits["/quick.xml"] == 1
        with Store(tmp_path / "crossings.db", read_only=True) as store:
            assert [run.status for run in store.runs.recent("quick")] == ["ok"]
        (unknown,) = runner.crawl_sync(["nope"])
        assert unknown.status == "failed" and "unknown sources: nope" in unknown.reason
    finally:
        site.close()
