"""Every registered kind resolves (a source kind's extractor, a rule kind's observe and
drawing, a channel's send) and is documented (its keys in `crossings kinds`, its name in
docs/); a duplicate kind name is refused at import time."""

import dataclasses
import importlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from alerts.channel import Channel
from alerts.kinds import CHANNEL_KINDS, RULE_KINDS
from alerts.rule import Rule
from core.registry import DuplicateKind
from jobs.cli import cli
from jobs.config import load
from jobs.starter import starter_text
from jobs.typed import toml_key
from scrapers.kinds import SOURCE_KINDS
from scrapers.source import Source
from series.drawing import Drawing

DOCS = Path(__file__).parent.parent / "docs"
# Only the kinds crossings ships (tests may register kinds of their own).
SHIPPED = {
    "source": {k: c for k, c in SOURCE_KINDS.items() if c.__module__.startswith("scrapers.")},
    "rule": {k: c for k, c in RULE_KINDS.items() if c.__module__.startswith("alerts.")},
    "channel": {k: c for k, c in CHANNEL_KINDS.items() if c.__module__.startswith("alerts.")},
}
DOCUMENTED_IN = {"source": "sources.md", "rule": "alerts.md", "channel": "alerts.md"}


def test_crossings_ships_the_kinds_the_docs_promise():
    assert set(SHIPPED["source"]) == {
        "csv",
        "facts",
        "feed",
        "json",
        "listing",
        "pdf",
        "table",
        "xlsx",
    }
    assert {"threshold", "change", "revision", "stale", "news", "source_health"} <= set(
        SHIPPED["rule"]
    )
    assert {"email", "webhook", "console", "apprise"} <= set(SHIPPED["channel"])


@pytest.mark.parametrize("kind", sorted(SHIPPED["source"]))
def test_every_source_kind_names_an_extractor_that_exists(kind):
    cls = SHIPPED["source"][kind]
    module = importlib.import_module(cls.extractor)
    assert callable(module.extract), f"{cls.extractor} has no extract(source, page)"
    assert isinstance(cls.streamed, bool)


@pytest.mark.parametrize("kind", sorted(SHIPPED["rule"]))
def test_every_rule_kind_observes(kind):
    cls = SHIPPED["rule"][kind]
    assert cls.observe is not Rule.observe, f"rule kind {kind!r} does not implement observe()"


def test_a_threshold_draws_its_levels_and_the_window_it_compares():
    threshold = RULE_KINDS["threshold"](
        name="proclamation", metric="cbp.*", above=2500, resolve_below=1500, window=7,
        aggregate="mean",
    )  # fmt: skip
    drawing = threshold.drawing()
    assert threshold.watches("cbp.swb") and not threshold.watches("trac.backlog")
    assert [(lvl.key, lvl.value, lvl.resolves) for lvl in drawing.levels] == [
        ("above", 2500, False),
        ("resolve_below", 1500, True),
    ]
    assert drawing.measure == "7-period mean"
    assert Drawing.from_facts(drawing.facts()) == drawing  # kept in an alert's payload
    assert RULE_KINDS["news"](name="n").drawing() is None  # nothing to draw


@pytest.mark.parametrize("kind", sorted(SHIPPED["channel"]))
def test_every_channel_kind_sends(kind):
    assert SHIPPED["channel"][kind].send is not Channel.send


@pytest.mark.parametrize(
    ("family", "kind"), [(family, kind) for family, kinds in SHIPPED.items() for kind in kinds]
)
def test_every_kind_is_documented(family, kind):
    cls = SHIPPED[family][kind]
    assert (cls.__doc__ or "").strip(), f"{family} kind {kind!r} has no docstring"
    listed = CliRunner().invoke(cli, ["kinds", kind])
    assert listed.exit_code == 0, listed.output
    assert f"{family} kind {kind!r}" in listed.output
    for field in dataclasses.fields(cls):
        if field.metadata.get("toml", True):
            assert field.metadata.get("help"), f"{kind}.{field.name} has no help text"
            assert f"  {toml_key(field)} " in listed.output
    assert f"`{kind}`" in (DOCS / DOCUMENTED_IN[family]).read_text()


def test_a_second_class_claiming_a_kind_name_is_refused_with_both_places_named():
    with pytest.raises(DuplicateKind) as refused:

        @dataclasses.dataclass(frozen=True, kw_only=True)
        class AnotherTable(Source, kind="table"):
            """Would silently replace the table kind."""

    message = str(refused.value)
    assert "source kind 'table' is declared twice" in message
    assert "scrapers.kinds.table.TableSource" in message and "AnotherTable" in message
    assert SOURCE_KINDS["table"].__module__ == "scrapers.kinds.table"


def test_a_built_source_is_slotted_and_of_the_class_its_module_names(tmp_path):
    """A built source carries no instance dict (a table source's 31 fields are one past
    what Python shares between instance dicts: ~2.5 KB a source instead of ~1.2), and the
    config builds the class `@dataclass(slots=True)` made, not the one it replaced."""
    path = tmp_path / "crossings.toml"
    path.write_text(starter_text())  # every kind of source
    sources = load(path).sources
    assert {source.kind for source in sources.values()} == set(SHIPPED["source"])
    for source in sources.values():
        cls = type(source)
        assert getattr(importlib.import_module(cls.__module__), cls.__name__) is cls
        assert SOURCE_KINDS[source.kind] is cls
        assert not hasattr(source, "__dict__")
        assert isinstance(source.problems(), list)  # a kind's explicit super() works
        assert isinstance(source.publishes(), dict)
