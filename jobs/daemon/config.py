"""The daemon's copy of the config, kept small: read and validated in a forked process,
handed back pickled, each source kept pickled (about 250 bytes) and built when asked for.
(`crossings crawl` reads its config in-process: there the fork's pages, counted in both
processes while the crawl child parses, made the unchanged pass's peak 8 MB higher, and the
first pass gained nothing: bench/README.md, "Round six: the first pass's RSS".)

Why: a built table source is ~1.2 KB (31 slotted fields), its pickle ~250 bytes; and
parsing the file leaves the reading process's memory part-used for good (the parse's
temporaries interleave with what is kept), and what only the validation imports
(APScheduler's cron fields, ~3 MB) stays in the fork too. With 10,000 sources the idle
daemon held 40 MB of its 96 for the config (bench/README.md, section 5); read this way it
is 8 MB. The validation is the same `jobs.config.load`, once."""

import os
import pickle
from collections.abc import Iterator, Mapping
from pathlib import Path

from jobs.config import Config, ConfigError, load, locate
from scrapers.source import Source


class PackedSources(Mapping[str, Source]):
    """The configured sources, each pickled; a source is built on each lookup (~10 µs)."""

    def __init__(self, pickled: Mapping[str, bytes]) -> None:
        self._pickled = dict(pickled)

    def only(self, names: list[str]) -> "PackedSources":
        """The named sources, sharing their pickles."""
        return PackedSources({name: self._pickled[name] for name in names})

    def __getitem__(self, name: str) -> Source:
        return pickle.loads(self._pickled[name])  # noqa: S301 - pickled by this daemon

    def __contains__(self, name: object) -> bool:
        return name in self._pickled

    def __iter__(self) -> Iterator[str]:
        return iter(self._pickled)

    def __len__(self) -> int:
        return len(self._pickled)


def enabled(sources: Mapping[str, Source]) -> Mapping[str, Source]:
    """The sources not switched off (`enabled = false`), still packed if they were."""
    names = [name for name, source in sources.items() if source.enabled]
    if isinstance(sources, PackedSources):
        return sources.only(names)
    return {name: sources[name] for name in names}


def load_packed(path: str | Path | None = None) -> Config:
    """`jobs.config.load` in a forked process, its result handed back with the sources
    packed; ConfigError as `load` raises it. If the fork fails or cannot hand the config
    back, the config is loaded here instead (the daemon then only uses more memory)."""
    path = locate(path)
    readable, writable = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(readable)
        os.close(writable)
        return load(path)
    if pid == 0:  # the child: never returns
        os.close(readable)
        status = 1
        try:
            with os.fdopen(writable, "wb") as out:
                out.write(pickle.dumps(_packed(path), pickle.HIGHEST_PROTOCOL))
            status = 0
        finally:
            os._exit(status)
    os.close(writable)
    with os.fdopen(readable, "rb") as handed:
        payload = handed.read()
    _, status = os.waitpid(pid, 0)
    if status != 0 or not payload:
        return load(path)  # raises what went wrong, with its traceback
    outcome = pickle.loads(payload)  # noqa: S301 - our own fork's answer
    if outcome[0] == "problems":
        raise ConfigError(*outcome[1:])
    _, settings, sources, rules, channels, digests, metrics = outcome
    return Config.of(
        path, settings, PackedSources(sources),
        rules=rules, channels=channels, digests=digests, metrics=metrics,
    )  # fmt: skip


def _packed(path: Path) -> tuple:
    """What the forked process hands back: the config's parts, or its problems."""
    try:
        config = load(path)
    except ConfigError as error:
        return ("problems", error.path, error.problems)
    sources = {
        name: pickle.dumps(source, pickle.HIGHEST_PROTOCOL)
        for name, source in config.sources.items()
    }
    parts = (config.rules, config.channels, config.digests, config.metrics)
    return ("config", config.settings, sources, *map(dict, parts))
