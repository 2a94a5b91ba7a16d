"""One inspection from start to end: the target (a URL or a file here) opened, surveyed,
and a family of data files followed to its newest file when picked."""

import dataclasses
from pathlib import Path

from scrapers.inspect.fetch import Fetcher, local_page
from scrapers.inspect.survey import Candidate, InspectError, Survey, survey
from scrapers.kinds import SOURCE_KINDS


def inspect_target(target: str, fetcher: Fetcher, prefix: str) -> Survey:
    if target.startswith(("http://", "https://")):
        page, said = fetcher.page(target)
    else:
        path = Path(target)
        if not path.is_file():
            raise InspectError(f"{target!r} is neither a URL (http:// or https://) nor a file here")
        page, said = local_page(path)
    return survey(page, prefix, said_type=said)


def follow(candidate: Candidate, fetcher: Fetcher, prefix: str) -> Survey:
    """The newest file of a family, surveyed; its candidates keep the landing page as
    `url` and the family as `link` (a kind that has no `link` key reads the file's own
    address), numbered under the family's number ('3.1')."""
    if not candidate.url.startswith(("http://", "https://")):
        raise InspectError(
            "the links of a local file cannot be followed: inspect the page's URL instead"
        )
    page, said = fetcher.page(candidate.follow, link_text=candidate.follow_text)
    inner = survey(page, prefix, said_type=said)
    for found in inner.candidates:
        found.number = f"{candidate.number}.{found.number}"
        if found.kind and "link" in {f.name for f in dataclasses.fields(SOURCE_KINDS[found.kind])}:
            found.keys = {"link": candidate.keys["link"], **found.keys}
            found.url = candidate.url
    return inner
