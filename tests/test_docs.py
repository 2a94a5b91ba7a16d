"""The docs cannot drift from the code: every TOML example in README.md and docs/ passes
the config loader, every relative link leads to a file that exists, and the tables of
kinds in the docs list exactly the kinds `crossings kinds` shows."""

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from jobs.cli import cli
from jobs.config import parse
from tests.test_kinds import SHIPPED

ROOT = Path(__file__).parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "bench" / "README.md"]
TOML = re.compile(r"```toml\n(.*?)```", re.S)
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
MD_NAME = re.compile(r"(?<![\w/.-])((?:docs/|bench/)?[a-z][a-z0-9_-]*\.md)\b")  # a docs page
KIND_TABLES = {"source": ["docs/sources.md"], "rule": ["docs/alerts.md"],
               "channel": ["docs/alerts.md"]}  # fmt: skip


def examples() -> list[tuple[str, int, str]]:
    return [
        (str(page.relative_to(ROOT)), number, block)
        for page in PAGES
        for number, block in enumerate(TOML.findall(page.read_text(encoding="utf-8")), 1)
    ]


def merged(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        both = isinstance(value, dict) and isinstance(out.get(key), dict)
        out[key] = merged(out[key], value) if both else value
    return out


README_EXAMPLE = tomllib.loads(TOML.findall((ROOT / "README.md").read_text())[0])


@pytest.mark.parametrize(("page", "number", "block"), examples(),
                         ids=[f"{p}#{n}" for p, n, _ in examples()])  # fmt: skip
def test_every_toml_example_passes_the_config_loader(page: str, number: int, block: str):
    """An example in docs/ may build on the README's (its channel `newsroom`, say)."""
    document = tomllib.loads(block)
    if page != "README.md":
        document = merged(README_EXAMPLE, document)
    config = parse(document, ROOT / page)  # raises ConfigError listing every problem
    assert config.sources or config.rules or config.channels or config.digests


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_every_relative_link_leads_somewhere(page: Path):
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
    broken = [
        target
        for target in LINK.findall(text)
        if not re.match(r"[a-z]+:", target) and not target.startswith("#")
        and not (page.parent / target.split("#")[0]).exists()
    ]  # fmt: skip
    assert broken == [], f"{page.relative_to(ROOT)} links to missing files: {broken}"
    named = [  # a page named in the text ("see docs/sources.md") must exist too
        name
        for name in MD_NAME.findall(text)
        if not (page.parent / name).exists() and not (ROOT / name).exists()
    ]
    assert named == [], f"{page.relative_to(ROOT)} names missing pages: {named}"


def kinds_shown() -> dict[str, set[str]]:
    """What `crossings kinds` lists, less kinds tests register for themselves."""
    shown = CliRunner().invoke(cli, ["kinds"]).output
    found: dict[str, set[str]] = {}
    for family, kind in re.findall(r"^(\w+) kind '(\w+)':", shown, re.M):
        if kind in SHIPPED[family]:
            found.setdefault(family, set()).add(kind)
    return found


def first_columns(page: str) -> list[set[str]]:
    """The backticked names in the first column of each table of a page."""
    tables, current = [], set()
    for line in [*(ROOT / page).read_text(encoding="utf-8").splitlines(), ""]:
        if match := re.match(r"\| `([\w-]+)` \|", line):
            current.add(match[1])
        elif not line.startswith("|") and current:
            tables.append(current)
            current = set()
    return tables


@pytest.mark.parametrize("family", sorted(KIND_TABLES))
def test_the_kind_tables_list_exactly_the_kinds_crossings_ships(family: str):
    shipped = kinds_shown()[family]
    for page in KIND_TABLES[family]:
        tables = [names for names in first_columns(page) if names & shipped]
        assert tables, f"{page} has no table of {family} kinds"
        for names in tables:
            assert names == shipped, (
                f"{page}: the {family} kinds table lists {sorted(names)}, "
                f"`crossings kinds` shows {sorted(shipped)}"
            )
