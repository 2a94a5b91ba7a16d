"""The `crossings` command loads a command's module only when that command runs, and still
lists every command with its short help."""

import importlib
import pkgutil
import socket
import subprocess
import sys

from click.testing import CliRunner

import jobs.cli
from jobs.cli import COMMAND_PATHS, cli
from jobs.demo.site import DemoSite, demo_sources_toml
from storage import Observation, Store
from tests.configs import write_config


def test_every_command_a_module_offers_is_in_the_table_under_its_name():
    offered = set()
    for found in pkgutil.iter_modules(jobs.cli.__path__, "jobs.cli."):
        module = importlib.import_module(found.name)
        offered |= {command.name for command in getattr(module, "COMMANDS", ())}
    assert offered == set(COMMAND_PATHS)
    for name in COMMAND_PATHS:
        assert cli.get_command(None, name).name == name


def test_help_lists_every_command_with_its_short_help():
    result = CliRunner().invoke(cli, ["--help"], terminal_width=100)
    assert result.exit_code == 0, result.output
    listed = result.output.split("Commands:")[1]
    for name in COMMAND_PATHS:
        shown = cli.get_command(None, name).get_short_help_str(limit=85)
        assert f"  {name:<10} {shown}\n" in listed, (
            f"SHORT_HELP[{name!r}] in jobs/cli/__init__.py must follow its docstring: "
            f"{cli.get_command(None, name).get_short_help_str(limit=90)!r}"
        )


def test_help_imports_no_command_and_no_config():
    """`crossings --help` lists the commands from their short helps (SHORT_HELP, which the
    test above checks against each command), so it starts in a fraction of a second."""
    code = (
        "import sys; from jobs.cli import cli\n"
        "try:\n    cli.main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith(('jobs.', 'alerts', 'storage', "
        "'scrapers', 'series', 'scrapy', 'sqlite_utils'))))"
    )
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert shown.stdout.splitlines()[-1] == "['jobs.cli', 'jobs.cli.lazy', 'jobs.invocation']"


def test_crawl_loads_neither_the_web_server_nor_the_alert_commands():
    script = (
        "import sys; from jobs.cli import cli;"
        "cli.main(['crawl', '--help'], standalone_mode=False);"
        "print(sorted({'aiohttp', 'jobs.cli.alerts', 'jobs.cli.serve'} & set(sys.modules)))"
    )
    shown = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert "Usage:" in shown.stdout
    assert shown.stdout.strip().splitlines()[-1] == "[]"


def test_crawl_crawls_in_the_command_process(tmp_path):
    """A one-shot crawl starts no second interpreter: its run row carries the pid of the
    `crossings crawl` process itself."""
    with DemoSite(day_seconds=3600) as site:
        config = write_config(tmp_path, demo_sources_toml(site.base_url))
        command = subprocess.Popen(
            [sys.executable, "-m", "jobs", "--config", str(config),
             "crawl", "trac-completions", "--no-alerts"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        out, err = command.communicate(timeout=120)
    assert command.returncode == 0, out + err
    assert "trac-completions  ok" in out
    with Store(tmp_path / "crossings.db", read_only=True) as store:
        [run] = store.runs.recent("trac-completions")
    assert (run.status, run.pid) == ("ok", command.pid)


def test_a_crawl_with_no_alert_to_send_loads_no_template_engine(tmp_path):
    """Every `crossings crawl` runs the aftermath (rules, then delivery); with nothing to
    send it renders no message, so it does without Jinja2's start-up."""
    config = write_config(
        tmp_path,
        '\n[sources.quick]\nkind = "facts"\nurl = "https://example.org/"\n'
        '[[sources.quick.facts]]\nmetric = "m.backlog"\nselector = "#card"\n',
    )
    code = (
        "import sys; from jobs.config import load; from jobs.aftermath import after_crawl\n"
        "from storage import Store\n"
        f"config = load({str(config)!r})\n"
        "with Store(config.database) as store:\n    done = after_crawl(config, store)\n"
        "print(done.delivery.sent, 'jinja2' in sys.modules)"
    )
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.split() == ["0", "False"]


def test_the_command_to_try_again_stays_copyable_when_many_sources_failed(tmp_path):
    """A whole site down: `crawl --all` again, not every name; sources named by hand: the
    first 20 and how many more, not a command line of thousands of names."""
    with socket.socket() as closed:  # bound, never listening: every request is refused
        closed.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{closed.getsockname()[1]}/table.html"
        names = [f"s{i:02d}" for i in range(25)]
        config = write_config(
            tmp_path,
            *(
                f'\n[sources.{name}]\nkind = "table"\nurl = "{url}"\nmetric = "m.{name}.{{row}}"\n'
                for name in names
            ),
            retries=0,
        )

        def crawl(*arguments: str) -> str:
            shown = subprocess.run(
                [sys.executable, "-m", "jobs", "--config", str(config), "crawl", *arguments,
                 "--no-alerts"],
                capture_output=True, text=True, timeout=120,
            )  # fmt: skip
            assert shown.returncode == 1, shown.stdout + shown.stderr
            return next(line for line in shown.stdout.splitlines() if line.startswith("To try"))

        assert "crawl --all`" in crawl("--all")
        again = crawl(*names)
    assert f"crawl {' '.join(names[:20])} ... (5 more above)`" in again
    assert names[20] not in again


def test_query_commands_leave_schedules_to_check_and_start_without_their_libraries(tmp_path):
    """Reading stored data never needs a schedule: `series` neither checks cron lines nor
    imports APScheduler or parsel (a third of its start-up, bench/README.md section 9),
    while `crossings check` still refuses the schedule, naming the source."""
    config = write_config(
        tmp_path,
        '\n[sources.quick]\nkind = "facts"\nurl = "https://example.org/"\n'
        'schedule = "* * 31 2 *"\n[[sources.quick.facts]]\nmetric = "m.backlog"\n'
        'selector = "#card .text-5xl::text"\n',
    )
    with Store(tmp_path / "crossings.db") as store:
        store.observations.upsert([Observation("m.backlog", "2025-01", 5.0)], snapshot_id=None)
    code = (
        "import sys; from jobs.cli import cli\n"
        f"cli.main(['--config', {str(config)!r}, 'series', 'm.backlog'], standalone_mode=False)\n"
        "print(sorted(m for m in sys.modules if m.startswith(('apscheduler', 'parsel'))))"
    )
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert shown.returncode == 0, shown.stderr
    assert "2025-01" in shown.stdout
    assert shown.stdout.splitlines()[-1] == "[]"
    check = subprocess.run(
        [sys.executable, "-m", "jobs", "--config", str(config), "check"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert check.returncode == 2, check.stdout + check.stderr
    assert 'source "quick"' in check.stderr and "never fires" in check.stderr


def stored_backlog(tmp_path):
    with Store(tmp_path / "crossings.db") as store:
        store.observations.upsert([Observation("m.backlog", "2025-01", 5.0)], snapshot_id=None)


def test_series_reads_only_the_settings_and_imports_no_kind(tmp_path):
    """`series` needs the database and the time zone: it builds no source, rule or channel,
    so it imports neither their kinds nor the config that holds them, nor the alert and
    chart modules (bench/README.md section 9); `series --rule` loads them."""
    config = write_config(
        tmp_path,
        '\n[sources.quick]\nkind = "facts"\nurl = "https://example.org/"\n'
        '[[sources.quick.facts]]\nmetric = "m.backlog"\nselector = "#card"\n',
    )
    stored_backlog(tmp_path)
    heavy = ("jobs.config", "scrapers.kinds", "alerts.kinds", "alerts.rule", "series.drawing",
             "series.derived", "jobs.views")  # fmt: skip
    code = (
        "import sys; from jobs.cli import cli\n"
        f"cli.main(['--config', {str(config)!r}, 'series', 'm.backlog'], standalone_mode=False)\n"
        f"print(sorted(m for m in sys.modules if m in {heavy!r}))"
    )
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert shown.returncode == 0, shown.stderr
    assert "2025-01" in shown.stdout
    assert shown.stdout.splitlines()[-1] == "[]"


def test_a_query_command_answers_beside_a_broken_source_but_not_broken_settings(tmp_path):
    """A mistake in a source's table is for `check` (and the commands that use sources) to
    report: reading a stored series does not need it. A mistake in [settings] (where the
    database is) stops the command with exit 2 and its place, as every command does."""
    stored_backlog(tmp_path)
    broken_source = '\n[sources.quick]\nkind = "no-such-kind"\nurl = "https://example.org/"\n'

    def crossings(config, *arguments: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "jobs", "--config", str(config), *arguments],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    config = write_config(tmp_path, broken_source)
    answered = crossings(config, "series", "m.backlog")
    assert answered.returncode == 0, answered.stderr
    assert "2025-01" in answered.stdout
    refused = crossings(config, "check")
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert 'source "quick"' in refused.stderr
    config = write_config(tmp_path, broken_source, timezone="Mars/Olympus", retries=-1)
    for command in ("series", "revisions", "runs"):
        refused = crossings(config, command, *(["m.backlog"] if command == "series" else []))
        assert refused.returncode == 2, command + refused.stdout + refused.stderr
        assert "settings" in refused.stderr and "Mars/Olympus" in refused.stderr, refused.stderr
        assert "retries" in refused.stderr, refused.stderr
        assert "quick" not in refused.stderr, refused.stderr
