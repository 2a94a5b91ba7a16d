"""A JSON document: its list of records, the key holding each record's period, and the
keys holding numbers, proposed as a `json` source (JMESPath keys)."""

import json

from scrapers.extract import Page
from scrapers.extract.text import slug
from scrapers.inspect.grids import is_number, is_period
from scrapers.inspect.survey import Candidate, Found

SHOWN = 3


def candidates(page: Page, prefix: str) -> Found:
    found = Found()
    try:
        document = json.loads(page.body if page.body is not None else page.open().read())
    except ValueError as error:
        found.seen.append(f"a body that starts like JSON but is not ({error})")
        return found
    if isinstance(document, dict) and "jsonfeed.org" in str(document.get("version", "")):
        items = [item.get("title", "") for item in document.get("items", [])[:SHOWN]]
        found.candidates.append(Candidate(
            f"JSON Feed {document.get('title', '')!r} with {len(document.get('items', []))} "
            "items (no kind reads JSON Feed yet: look for the site's RSS or Atom feed)",
            details=[f"item: {title!r}" for title in items],
        ))  # fmt: skip
        return found
    for path, records in _record_lists(document):
        dicts = [record for record in records if isinstance(record, dict)]
        keys = list(dict.fromkeys(key for record in dicts[:50] for key in record))
        period = next((k for k in keys if _all(dicts, k, lambda v: is_period(str(v)))), None)
        if period is None:
            found.seen.append(f"{len(dicts)} records at {path!r} with no key of periods")
            continue
        numbers = [k for k in keys if k != period and _all(dicts, k, _number)]
        if not numbers:
            found.seen.append(f"{len(dicts)} records at {path!r} with no key of numbers")
            continue
        values = {key: f"{prefix}.{slug(key)}" for key in numbers}
        first = dicts[0]
        details = [f"period key {period!r}: {first.get(period)!r} (first record)"]
        details += [f"{key} = {first.get(key)!r}" for key in numbers[:6]]
        keys_proposed = {"records": path, "period": period, "values": values}
        if path == "@":
            del keys_proposed["records"]
        found.candidates.append(Candidate(
            f"{len(dicts)} JSON records at {path!r}, periods in {period!r}, {len(numbers)} "
            "keys of numbers", "json", keys_proposed, details,
        ))  # fmt: skip
    return found


def _record_lists(document: object) -> list[tuple[str, list]]:
    """The document itself when it is a list of records, else its keys holding one."""
    if isinstance(document, list):
        return [("@", document)]
    if isinstance(document, dict):
        return [
            (key, value)
            for key, value in document.items()
            if isinstance(value, list)
            and any(isinstance(item, dict) for item in value)
            and key.isidentifier()
        ]
    return []


def _all(records: list[dict], key: str, test) -> bool:
    present = [record[key] for record in records[:200] if record.get(key) not in (None, "")]
    return len(present) >= max(1, len(records[:200]) // 2) and all(test(v) for v in present)


def _number(value: object) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int | float) or (isinstance(value, str) and is_number(value))
