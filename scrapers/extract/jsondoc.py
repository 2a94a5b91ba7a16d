"""The `json` extractor: records of a JSON document (TRAC's tool endpoints and detention
tables) mapped by JMESPath to periods and values."""

import json
import re

import jmespath
from jmespath.exceptions import JMESPathError

from core.periods import Period, PeriodError
from scrapers.extract import Extraction, LayoutError, Page
from scrapers.extract.text import shown
from scrapers.kinds.jsondoc import JsonSource
from scrapers.numbers import Number, NumberError, parse_number
from storage import Observation

# "total_all - total_conv": a difference of two keys (TRAC headlines "no criminal
# conviction" as everyone held minus those convicted).
DIFFERENCE = re.compile(r"^(.+?)\s+-\s+(.+)$")


def extract(source: JsonSource, page: Page) -> Extraction:
    try:
        document = json.loads(page.body or b"")
    except ValueError as error:
        raise LayoutError(f"{source.name}: expected JSON at {page.url}, found {error}") from None
    records = _search(source, source.records, document)
    if not isinstance(records, list):
        raise LayoutError(
            f"{source.name}: expected a list of records at {source.records!r} in {page.url}, "
            f"found {type(records).__name__}"
        )
    extraction, used, seen = Extraction(), 0, set()
    for position, record in enumerate(records, start=1):
        if not isinstance(record, dict):
            continue
        raw_period = _search(source, source.period, record)
        if raw_period is None:
            continue  # comment objects and the like carry no period
        try:
            period = Period.parse(str(raw_period))
        except PeriodError as error:
            raise LayoutError(f"{source.name}: a record's {source.period!r}: {error}") from None
        used += 1
        for key, metric in source.values.items():
            number = _number(source, key, record, period.text)
            if number is None:
                continue
            seen.add(key)
            if number.value is not None:
                extraction.add(
                    Observation(
                        metric,
                        period.text,
                        number.value,
                        number.unit or source.unit,
                        tuple(dict.fromkeys([*period.flags, *number.flags])),
                    ),
                    source=source.name,
                    origin=f"record {position} ({raw_period!r})",
                )
    if not used:
        raise LayoutError(
            f"{source.name}: expected records with {source.period!r} at {page.url}, found "
            f"{len(records)} records without it"
        )
    if missing := [key for key in source.values if key not in seen]:
        keys = sorted({key for record in records if isinstance(record, dict) for key in record})
        raise LayoutError(
            f"{source.name}: expected keys {shown(missing)} in the records at {page.url}, "
            f"found only {shown(keys)}"
        )
    return extraction


def _number(source: JsonSource, key: str, record: dict, period: str) -> Number | None:
    """The number at `key` (None when the record lacks it), or a difference 'a - b'."""
    if difference := DIFFERENCE.match(key):
        left, right = (_number(source, part, record, period) for part in difference.groups())
        if left is None or right is None:
            return None
        if left.value is None or right.value is None:
            return Number(None)
        return Number(left.value - right.value, left.unit, (*left.flags, *right.flags))
    raw = _search(source, key, record)
    if raw is None:
        return None
    try:
        return parse_number(raw)
    except NumberError as error:
        raise LayoutError(f"{source.name}: {key!r} of the record for {period}: {error}") from None


def _search(source: JsonSource, expression: str, data: object) -> object:
    try:
        return jmespath.search(expression, data)
    except JMESPathError as error:
        raise LayoutError(f"{source.name}: JMESPath {expression!r}: {error}") from None
