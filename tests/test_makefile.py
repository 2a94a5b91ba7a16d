"""`make run` installs what the daemon needs and no more (a small environment, a quick
first start); `make test` adds the test, dev and datasette extras. Read from make's own
plan (`make -n`) for a fresh clone, where nothing is installed yet."""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def planned(tmp_path: Path, *target: str) -> list[str]:
    """The pip commands `make TARGET` would run in a fresh clone."""
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    plan = subprocess.run(
        ["make", "-n", *target], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    return [line for line in plan.stdout.splitlines() if "pip install" in line]


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_run_installs_only_what_the_daemon_needs(tmp_path: Path) -> None:
    run = planned(tmp_path, "run")
    assert run[-1].endswith("pip install --quiet -e ."), run
    assert not any("[" in line for line in run), run
    test = planned(tmp_path, "test", "SKIP_BROWSER=1")
    assert test[-1].endswith("pip install --quiet -e '.[test,dev,datasette]'"), test
