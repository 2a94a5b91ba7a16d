"""The egg Scrapyd runs: crossings' own packages in one zip, with the entry point that
names the Scrapy settings of a node (`jobs.scrapyd.settings`). Third-party libraries are
not in it; a node has crossings' dependencies installed (the container image does).

The version is the package version plus a digest of the code itself, so a node that
runs other code than this daemon is seen as such, whatever the version number says.
The zip is built the same every time (sorted names, fixed dates): same code, same egg."""

import functools
import hashlib
import importlib.metadata
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

PACKAGES = ("core", "storage", "series", "scrapers", "alerts", "jobs")  # as pyproject.toml installs
ROOT = Path(__file__).resolve().parent.parent.parent
FIXED_DATE = (1980, 1, 1, 0, 0, 0)
SETTINGS_MODULE = "jobs.scrapyd.settings"


@dataclass(frozen=True)
class Egg:
    version: str  # letters, digits, - and _ only: Scrapyd keeps nothing else of a version
    data: bytes


def _files() -> list[tuple[str, Path]]:
    found = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                found.append((path.relative_to(ROOT).as_posix(), path))
    return sorted(found)


@functools.cache
def version() -> str:
    """This code's version, e.g. `0_1_0-3f2a9c1d0b7e` (read once per process)."""
    digest = hashlib.sha256()
    for name, path in _files():
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    number = importlib.metadata.version("crossings").replace(".", "_").replace("+", "_")
    return f"{number}-{digest.hexdigest()[:12]}"


def build() -> Egg:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as egg:

        def add(name: str, data: bytes) -> None:
            egg.writestr(zipfile.ZipInfo(name, FIXED_DATE), data, zipfile.ZIP_DEFLATED)

        for name, path in _files():
            add(name, path.read_bytes())
        add(
            "EGG-INFO/PKG-INFO",
            f"Metadata-Version: 1.0\nName: crossings\nVersion: {version()}\n".encode(),
        )
        add("EGG-INFO/top_level.txt", "\n".join(PACKAGES).encode() + b"\n")
        add("EGG-INFO/entry_points.txt", f"[scrapy]\nsettings = {SETTINGS_MODULE}\n".encode())
        add("EGG-INFO/zip-safe", b"\n")
    return Egg(version(), buffer.getvalue())
