"""The container files, without building an image (too slow for `make test`; `make image`
does that): the Dockerfile is hadolint-clean and keeps the promises operators rely on,
its HEALTHCHECK command really tells a healthy daemon from a sick one, and settings come
from the environment as the image sets them."""

import json
import re
import shutil
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from jobs.config import ConfigError, load

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    joined = DOCKERFILE.read_text().replace("\\\n", " ")
    found = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def last(name: str) -> str:
    values = [rest for word, rest in instructions() if word == name]
    assert values, f"the Dockerfile has no {name}"
    return values[-1]


def test_dockerfile_is_hadolint_clean():
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which(
        "hadolint"
    )
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install -e '.[dev]')")
    result = subprocess.run(
        [hadolint, str(DOCKERFILE)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_keeps_the_operator_promises():
    steps = instructions()
    assert steps[0] == ("ARG", "BASE_IMAGE=python:3.11-slim")
    assert all(rest.startswith("${BASE_IMAGE}") for word, rest in steps if word == "FROM")
    user = last("USER")
    assert user.isdigit() and int(user) != 0, f"USER must be a numeric non-root id, not {user!r}"
    assert "/healthz" in last("HEALTHCHECK")
    assert last("HEALTHCHECK").split("CMD", 1)[1].strip().startswith("[")
    assert last("STOPSIGNAL") == "SIGTERM"
    assert json.loads(last("ENTRYPOINT")) == ["crossings"]
    assert json.loads(last("CMD")) == ["run"]
    assert json.loads(last("VOLUME")) == ["/data"]
    environment = " ".join(rest for word, rest in steps if word == "ENV")
    for setting in ("CROSSINGS_CONFIG=", "CROSSINGS_DATABASE=/data/", "CROSSINGS_LISTEN=0.0.0.0:"):
        assert setting in environment


def test_the_image_and_the_scrapyd_egg_get_every_package_pyproject_installs():
    """A package the image or the egg leaves out fails only where it runs: in the container,
    or on a Scrapyd node mixing this code with an older installed copy."""
    import tomllib

    from jobs.scrapyd import egg

    include = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "packages"
    ]["find"]["include"]
    packages = {pattern.rstrip("*") for pattern in include}
    copied = {rest.split()[0] for word, rest in instructions() if word == "COPY"}
    allowed = set((ROOT / ".dockerignore").read_text().split())
    assert packages <= copied, f"not copied into the image: {sorted(packages - copied)}"
    assert {f"!{name}/" for name in packages} <= allowed, "left out by .dockerignore"
    assert set(egg.PACKAGES) == packages, f"the egg carries {sorted(egg.PACKAGES)}"


class Health(BaseHTTPRequestHandler):
    status = 200

    def do_GET(self):
        self.send_response(self.status if self.path == "/healthz" else 404)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.mark.parametrize(("status", "healthy"), [(200, True), (503, False)])
def test_the_healthcheck_command_reports_what_healthz_says(status, healthy):
    command = json.loads(last("HEALTHCHECK").split("CMD", 1)[1])
    assert command[:2] == ["python3", "-c"]
    handler = type("Handler", (Health,), {"status": status})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        listen = f"0.0.0.0:{server.server_address[1]}"
        result = subprocess.run(
            [sys.executable, "-c", command[2]],
            env={"CROSSINGS_LISTEN": listen},
            capture_output=True,
            timeout=30,
            check=False,
        )
    finally:
        server.shutdown()
        server.server_close()
    assert (result.returncode == 0) is healthy, result.stderr


def test_settings_come_from_the_environment_as_in_the_image(tmp_path, monkeypatch):
    config = tmp_path / "crossings.toml"
    config.write_text('[settings]\nlisten = "127.0.0.1:8080"\nretries = 3\n')
    monkeypatch.setenv("CROSSINGS_LISTEN", "0.0.0.0:8080")
    monkeypatch.setenv("CROSSINGS_DATABASE", "/data/crossings.db")
    monkeypatch.setenv("CROSSINGS_RETRIES", "5")
    loaded = load(config)
    assert loaded.settings.listen == "0.0.0.0:8080"
    assert loaded.database == Path("/data/crossings.db")
    assert loaded.settings.retries == 5

    monkeypatch.setenv("CROSSINGS_RETRIES", "many")
    with pytest.raises(ConfigError, match="retries"):
        load(config)


def test_compose_runs_the_daemon_on_its_config_with_a_mail_catcher(monkeypatch):
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    daemon, catcher = compose["services"]["crossings"], compose["services"]["mailpit"]
    assert catcher["image"].startswith("axllent/mailpit")
    environment = daemon["environment"]
    assert environment["CROSSINGS_LISTEN"].startswith("0.0.0.0:")
    mounts = dict(volume.split(":")[:2] for volume in daemon["volumes"])
    assert mounts["crossings-data"] == "/data"
    config_file = next(
        host for host, inside in mounts.items() if inside == "/config/crossings.toml"
    )
    assert environment["CROSSINGS_CONFIG"] == "/config/crossings.toml"

    for key, value in environment.items():
        monkeypatch.setenv(key, str(value).split(":-")[-1].rstrip("}"))
    config = load(ROOT / config_file)
    assert config.database == Path("/data/crossings.db")
    mail = [channel for channel in config.channels.values() if channel.kind == "email"]
    assert mail and all(channel.host == "mailpit" for channel in mail)
    assert config.sources and config.rules


def test_compose_profile_scrapyd_wires_two_authenticated_nodes_to_the_daemon(monkeypatch):
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    nodes = {name: service for name, service in services.items() if "scrapyd" in name}
    assert len(nodes) == 2
    daemon = services["crossings"]["environment"]
    urls = json.loads(daemon["CROSSINGS_SCRAPYD_NODES"])
    assert urls == [f"http://{name}:6800" for name in nodes]
    for node in nodes.values():
        assert node["profiles"] == ["scrapyd"]
        assert "ports" not in node  # the compose network only
        assert "SCRAPYD_PASSWORD" in node["environment"]
        assert 'test -n "$$SCRAPYD_PASSWORD"' in node["entrypoint"][-1]  # no auth, no start
        assert "./container/scrapyd.conf:/etc/scrapyd/scrapyd.conf:ro" in node["volumes"]
    conf = (ROOT / "container" / "scrapyd.conf").read_text()
    assert re.search(r"^items_dir = items$", conf, re.M)  # the results travel back by it

    monkeypatch.setenv("CROSSINGS_RUNNER", "scrapyd")
    monkeypatch.setenv("CROSSINGS_SCRAPYD_NODES", daemon["CROSSINGS_SCRAPYD_NODES"])
    settings = load(ROOT / "container" / "crossings.toml").settings
    assert settings.runner == "scrapyd" and list(settings.scrapyd_nodes) == urls
