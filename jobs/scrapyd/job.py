"""What the daemon sends a node with each Scrapyd job: the sources to crawl (their config
tables, parsed again on the node by the same code), the run each result belongs to, what
was fetched before (for conditional requests), and the fetch settings. It travels as one
Scrapy setting, `CROSSINGS_JOB`, JSON-encoded; Scrapyd hands it to the crawl process on
its command line."""

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jobs.config import parse
from scrapers.fetching import FetchSettings
from scrapers.records import Known
from scrapers.source import Source

SETTING = "CROSSINGS_JOB"
FORMAT = 1


@dataclass(frozen=True)
class JobRun:
    source: str
    run_id: int
    trust_cache: bool
    known: tuple[Known, ...] = ()


@dataclass(frozen=True)
class JobSpec:
    fetch: FetchSettings  # the config's [settings] will do: only these keys travel
    tables: Mapping[str, Any]  # source name -> its [sources.NAME] table from the config
    runs: tuple[JobRun, ...]

    def encode(self) -> str:
        return json.dumps(
            {
                "format": FORMAT,
                "fetch": {
                    key.name: getattr(self.fetch, key.name)
                    for key in dataclasses.fields(FetchSettings)
                },
                "sources": {run.source: self.tables[run.source] for run in self.runs},
                "runs": [
                    [
                        run.source,
                        run.run_id,
                        run.trust_cache,
                        [list(vars(k).values()) for k in run.known],
                    ]
                    for run in self.runs
                ],
            },
            separators=(",", ":"),
            default=str,
        )

    @classmethod
    def decode(cls, text: str) -> "JobSpec":
        found = json.loads(text)
        if found.get("format") != FORMAT:
            raise ValueError(
                f"a job of format {found.get('format')!r} (this node reads {FORMAT}): "
                "deploy the daemon's version with `crossings deploy`"
            )
        return cls(
            fetch=FetchSettings(**found["fetch"]),
            tables=found["sources"],
            runs=tuple(
                JobRun(source, run_id, trust, tuple(Known(*k) for k in known))
                for source, run_id, trust, known in found["runs"]
            ),
        )

    def sources(self) -> Mapping[str, Source]:
        """The sources, built from their tables by the config's own code."""
        return parse({"sources": dict(self.tables)}, Path("(the daemon's job)")).sources
