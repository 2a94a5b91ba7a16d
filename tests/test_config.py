"""Config loading: every mistake reported at once with its location; init and check work
as a new user would try them."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from jobs.config import ConfigError, load, load_sources

BROKEN = """
[settings]
timezon = "UTC"
download_delay = "fast"

[sources.trac-backlog]
kind = "tabel"
url = "https://tracreports.org/"

[digests.weekly]
schedule = "sometimes"
channels = ["newsroom"]
"""


def test_a_config_with_five_mistakes_reports_all_five(tmp_path):
    path = tmp_path / "crossings.toml"
    path.write_text(BROKEN)
    with pytest.raises(ConfigError) as caught:
        load(path)
    shown = [str(problem) for problem in caught.value.problems]
    assert len(shown) == 5, shown
    expected = [
        "settings: unknown key 'timezon' (did you mean 'timezone'?)",
        "settings: key 'download_delay': expected a number",
        'source "trac-backlog": unknown kind "tabel" (known: ',
        "digest \"weekly\": schedule 'sometimes' is neither a cron line",
        "digest \"weekly\": unknown channel 'newsroom'",
    ]
    for start in expected:
        assert any(line.startswith(start) for line in shown), (start, shown)


def test_invalid_toml_and_missing_file_are_single_clear_problems(tmp_path):
    path = tmp_path / "crossings.toml"
    path.write_text("[settings\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load(path)
    with pytest.raises(ConfigError, match="crossings init"):
        load(tmp_path / "nope.toml")


def test_a_crawl_child_builds_only_the_sources_it_crawls(tmp_path):
    """The child for one source of thousands reads [settings] and that source alone: the
    daemon that named it validated the rest. A mistake in the named source still stops it."""
    path = tmp_path / "crossings.toml"
    path.write_text(
        '[settings]\ndatabase = "watch.db"\ndownload_delay = 0.5\n\n'
        '[sources.trac]\nkind = "table"\nurl = "https://tracreports.org/reports/695/"\n'
        'caption = "Table 1."\nmetric = "trac.completions.{row}"\n\n'
        '[sources.broken]\nkind = "tabel"\nurl = "https://example.org/"\n\n'
        '[rules.spike]\nkind = "threshold"\nmetric = "nowhere.*"\nabove = "often"\n'
    )
    config = load_sources(path, ["trac"])
    assert list(config.sources) == ["trac"]
    assert config.sources["trac"].url == "https://tracreports.org/reports/695/"
    assert config.settings.download_delay == 0.5
    assert config.database == tmp_path / "watch.db"
    assert not config.rules
    with pytest.raises(ConfigError, match='source "broken": unknown kind "tabel"'):
        load_sources(path, ["broken"])
    with pytest.raises(ConfigError):  # the whole file, as the daemon reads it
        load(path)


def crossings(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "jobs", *args], cwd=cwd, capture_output=True, text=True, check=False
    )


def test_init_then_check_work_as_a_new_user_tries_them(tmp_path):
    made = crossings("init", str(tmp_path / "x"), cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    config = tmp_path / "x" / "crossings.toml"
    checked = crossings("--config", str(config), "check", cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert "OK" in checked.stdout
    again = crossings("init", str(tmp_path / "x"), cwd=tmp_path)
    assert again.returncode == 1 and "already exists" in again.stderr


def test_check_on_a_broken_config_exits_2_without_a_traceback(tmp_path):
    config = tmp_path / "crossings.toml"
    config.write_text(BROKEN)
    checked = crossings("--config", str(config), "check", cwd=tmp_path)
    assert checked.returncode == 2
    assert "5 problems" in checked.stderr
    assert "Traceback" not in checked.stderr


def test_the_scrapyd_runner_needs_node_urls(tmp_path):
    path = tmp_path / "crossings.toml"
    path.write_text('[settings]\nrunner = "scrapyd"\n')
    with pytest.raises(ConfigError) as raised:
        load(path)
    assert 'runner = "scrapyd" needs scrapyd_nodes' in str(raised.value)

    path.write_text('[settings]\nrunner = "scrapyd"\nscrapyd_nodes = ["10.0.0.5:6800"]\n')
    with pytest.raises(ConfigError, match=re.escape("'10.0.0.5:6800' must start with http://")):
        load(path)

    path.write_text('[settings]\nrunner = "remote"\n')
    with pytest.raises(ConfigError, match="text 'remote' is not one of 'local', 'scrapyd'"):
        load(path)
