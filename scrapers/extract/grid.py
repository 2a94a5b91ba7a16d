"""A grid of cells into series: the part the `table`, `xlsx` and `pdf` extractors share.

Each of them turns its document into a rectangular grid of `Cell`s (spans already filled
in); this module finds the header rows (given, `<th>`, or a first row of bold or non-numeric
cells), takes footnote marks out of labels (kept as flags), reads the periods (column
headers, a column, or the file's as-of date) and the values, and says what the table's
layout is (its non-period headers and row labels), which the recorder compares with the
layout it remembers."""

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from core.checked import compiled
from core.periods import Period, PeriodError, fiscal_month, fiscal_year_of, month_number
from scrapers.extract import Extraction, Layout, LayoutError, dates
from scrapers.extract.text import shown, slug, squash
from scrapers.kinds.tabular import Tabular
from scrapers.numbers import Number, NumberError, parse_number
from storage import Observation

# Footnote marks after a label: "Total*", "Removals**", "Asylum†", and a superscript
# number that came out of a PDF or workbook as a plain digit glued to a word ("Pending
# Cases1", "MTRs1"); a number after a space ("FY 2024", "Table 3") or a capital ("FY2024",
# "Q1") is part of the label.
LABEL_MARK = re.compile(r"\s*(\*+|†+|‡+)$|(?<=[A-Za-z][a-z])(\d{1,2})$")


class Cell(NamedTuple):
    text: str
    header: bool = False  # a <th>
    bold: bool = False  # all of its text is bold
    marks: tuple[str, ...] = ()  # footnote marks taken out of the text (<sup>1</sup>)


@dataclass(frozen=True)
class Grid:
    """A table as rows of cells, and where it was found (for reasons: "the table at URL")."""

    rows: list[list[Cell]]
    where: str
    thead: int = 0  # rows inside <thead>: headers whatever their cells


def rectangular(rows: list[list[Cell]]) -> list[list[Cell]]:
    width = max((len(row) for row in rows), default=0)
    return [row + [Cell("")] * (width - len(row)) for row in rows]


@functools.lru_cache(maxsize=1024)  # each row label is read twice; group labels repeat
def label(cell: Cell) -> tuple[str, tuple[str, ...]]:
    """A header or row label without its footnote marks, and the marks as flags."""
    text, marks = cell.text, list(cell.marks)
    while (mark := LABEL_MARK.search(text)) and mark.start() > 0:
        marks.insert(0, f"footnote:{mark.group(1) or mark.group(2)}")
        text = text[: mark.start()]
    return text, tuple(marks)


def read(source: Tabular, grid: Grid, as_of: Period | None = None) -> Extraction:
    """The observations in the grid, with its layout; LayoutError when it cannot be read
    as configured. A table whose value cells are all missing is no error: it yields no
    values and a note (CBP's current-year table is all '-' every October)."""
    rows = grid.rows
    count = header_count(source, grid)
    if not count or count >= len(rows):
        raise LayoutError(
            f"{source.name}: expected a header row and data rows in {grid.where}, found "
            f"{len(rows)} rows of which {count} are headers; if the header row is not marked "
            "as one (no <th>), set header_rows = 1"
        )
    headers = [_levels(rows[:count], column) for column in range(len(rows[0]))]
    _check_columns(source, headers, grid)
    body = rows[count:]
    if source.periods == "columns":
        extraction = _periods_in_columns(source, headers, body, grid, as_of)
    elif source.periods == "rows":
        extraction = _periods_in_rows(source, headers, body, grid)
    else:
        if as_of is None:
            raise LayoutError(f"{source.name}: no as-of date for {grid.where}")
        extraction = _as_of(source, headers, body, grid, as_of)
    if not extraction.observations:
        if not extraction.missing:  # no value cells at all, rather than all '-'
            raise LayoutError(
                f"{source.name}: {grid.where} has {len(body)} data rows but no values"
            )
        extraction.notes.append(
            f"{source.name}: every value cell of {grid.where} is missing (e.g. '-'): "
            "nothing is published there yet, so nothing was stored"
        )
    return extraction


def header_count(source: Tabular, grid: Grid) -> int:
    if source.header_rows:
        return source.header_rows
    rows = grid.rows
    count = 0
    while count < len(rows) and all(cell.header for cell in rows[count]):
        count += 1
    count = max(count, grid.thead)
    if not count and len(rows) > 1 and _looks_like_header(rows[0]):
        count = 1
    return count


def _looks_like_header(row: list[Cell]) -> bool:
    filled = [cell for cell in row if cell.text]
    if not filled:
        return False
    return all(cell.bold or cell.header for cell in filled) or not any(
        _numeric(cell.text) for cell in filled
    )


def _numeric(text: str) -> bool:
    try:
        return parse_number(text).value is not None
    except NumberError:
        return False


class _Levels(NamedTuple):
    texts: list[str]  # the header lines above a column, top first, marks taken out
    raw: str  # the last line as printed (a period keeps its "*")
    marks: tuple[str, ...]


def _levels(header_rows: list[list[Cell]], column: int) -> _Levels:
    texts: list[str] = []
    marks: list[str] = []
    raw = ""
    for row in header_rows:
        cell = row[column]
        text, found = label(cell)
        if text and (not texts or texts[-1] != text):
            texts.append(text)
            raw = cell.text
            marks += found
    return _Levels(texts, raw, tuple(dict.fromkeys(marks)))


def _joined(levels: _Levels) -> str:
    return " / ".join(levels.texts)


def _check_columns(source: Tabular, headers: list[_Levels], grid: Grid) -> None:
    present = {text.lower() for levels in headers for text in levels.texts}
    missing = [name for name in source.columns if squash(name).lower() not in present]
    if missing:
        raise LayoutError(
            f"{source.name}: expected columns {shown(list(source.columns))} in {grid.where}, "
            f"but {shown(missing)} are not in the header {shown([_joined(h) for h in headers])}"
        )


def _periods_in_columns(
    source: Tabular,
    headers: list[_Levels],
    body: list[list[Cell]],
    grid: Grid,
    as_of: Period | None,
) -> Extraction:
    periods: dict[int, tuple[Period, str]] = {}
    for column, levels in enumerate(headers):
        if not levels.texts:
            continue
        try:
            periods[column] = (_column_period(levels.raw, as_of), " ".join(levels.texts[:-1]))
        except PeriodError:
            continue
    if not periods:
        raise LayoutError(
            f"{source.name}: expected period columns (like 'FY 2022' or 'Oct-24') in "
            f"{grid.where}, found the header {shown([_joined(h) for h in headers])}; if "
            'each row is a period (a Year or Date column), add periods = "rows" to the source'
        )
    label_columns = list(range(min(periods)))
    label_keys = [
        slug(headers[column].texts[-1]) if headers[column].texts else "" for column in label_columns
    ]
    # a column's own flags (its period's and its header's marks), joined once per table
    column_flags = {column: _flags(period.flags, headers[column].marks)
                    for column, (period, _) in periods.items()}  # fmt: skip
    row_filter = compiled(source.rows) if source.rows else None
    extraction, group = Extraction(), ""
    made: dict[tuple[str, str], str] = {}  # (metric, period) -> the row that gave it first
    layout_rows: list[str] = []
    outer: list[Cell] = []  # the previous row's labels
    for cells in body:
        cells, outer = _outline(cells, label_columns, outer)
        labels, marks = _labels(cells[column] for column in label_columns)
        if not labels:
            continue
        layout_rows.append(" / ".join(labels))
        if labels[0].lower().startswith("total"):
            group = ""
        if all(not cells[column].text for column in periods):
            group = labels[-1]
            continue
        if row_filter and not row_filter.search(" ".join(labels)):
            continue
        path = [group, *labels] if group and group not in labels else labels
        names = {
            "row": ".".join(name_part(source, part) for part in path),
            "group": name_part(source, group),
            **{
                key: name_part(source, label(cells[column])[0])
                for key, column in zip(label_keys, label_columns, strict=True)
            },
        }
        row, origin = " / ".join(path), f"row {' / '.join(path)!r}"
        # by the header text above the period: (metric, label, unit and stock), once per row
        metrics: dict[str, tuple[str, str, tuple[str, bool]]] = {}
        for column, (period, above) in periods.items():
            number = _number(source, cells[column], path, headers[column], grid)
            if number.value is None:
                extraction.missing += 1
                continue
            if (named := metrics.get(above)) is None:
                names["column"] = name_part(source, above)
                named = metrics[above] = (
                    _render(source, source.metric, names, grid),
                    " / ".join(filter(None, [*path, above])),
                    _unit_and_stock(source, names),
                )
            metric, label_text, unit_and_stock = named
            key = (metric, period.text)
            if made.setdefault(key, row) != row and source.duplicates == "error":
                raise LayoutError(
                    f"{source.name}: rows {made[key]!r} and {row!r} both give "
                    f"{metric} for {period.text}: put {{row}} or {{group}} in the metric template"
                )
            flags = column_flags[column]
            if marks or number.flags:
                flags = _flags(flags, marks, number.flags)
            _add(source, extraction, metric, names, period.text, number, flags, grid,
                 label_text, origin, unit_and_stock)  # fmt: skip
    fixed = [_joined(headers[column]) for column in range(len(headers)) if column not in periods]
    groups = [text for _, text in periods.values() if text]
    extraction.layout = Layout(_unique([*fixed, *groups]), _unique(layout_rows))
    return extraction


def _column_period(text: str, as_of: Period | None) -> Period:
    """A period header; a bare month ('Oct') is a month of the fiscal year of the as-of
    date (ICE's monthly columns)."""
    try:
        return Period.parse(text)
    except PeriodError:
        if as_of is None or len(as_of.text) < 7 or " " in text.strip():
            raise
        fiscal_year = int(fiscal_year_of(as_of.text).removeprefix("FY"))
        return Period(fiscal_month(fiscal_year, month_number(text.strip())))


def _outline(
    cells: list[Cell], label_columns: list[int], above: list[Cell]
) -> tuple[list[Cell], list[Cell]]:
    """Spreadsheets leave an outer label blank under its first row ("Bonded Out" then
    blanks beside "Convicted Criminal", ...): a blank label with a filled one to its
    right takes the label above it."""
    if above:
        for index, column in enumerate(label_columns[:-1]):
            later = label_columns[index + 1 :]
            if not cells[column].text and any(cells[c].text for c in later):
                cells = [*cells]
                cells[column] = above[index]
    return cells, [cells[column] for column in label_columns]


def _periods_in_rows(
    source: Tabular, headers: list[_Levels], body: list[list[Cell]], grid: Grid
) -> Extraction:
    names = [levels.texts[-1] if levels.texts else "" for levels in headers]
    period_column = (
        _column(source, names, source.period_column, grid) if source.period_column else 0
    )
    month_column = (
        _column(source, names, source.month_column, grid) if source.month_column else None
    )
    timed = {period_column, month_column}
    wanted = {name.lower() for name in source.columns} - {names[period_column].lower()}
    value_columns = [
        column
        for column, name in enumerate(names)
        if column not in timed
        and (not wanted or name.lower() in wanted)
        and (wanted or any(_numeric(cells[column].text) for cells in body))
    ]
    label_columns = [c for c in range(len(names)) if c not in timed and c not in value_columns]
    extraction = Extraction()
    made: dict[tuple[str, str], tuple[int, dict[str, str]]] = {}  # -> (line, its labels)
    periods: dict[tuple[str, str], Period] = {}  # long sheets repeat each period many times
    for line, cells in enumerate(body, start=1):
        text = cells[period_column].text
        if not text or text.lower().startswith("total"):
            continue
        month = cells[month_column].text if month_column is not None else ""
        if (period := periods.get((text, month))) is None:
            period = periods[(text, month)] = _row_period(
                source, text, month, names[period_column], grid
            )
        labels = {
            slug(names[c]): name_part(source, label(cells[c])[0]) for c in label_columns if names[c]
        }
        for column in value_columns:
            number = _number(source, cells[column], [text, month], headers[column], grid)
            if number.value is None:
                extraction.missing += 1
                continue
            values = {**labels, "column": name_part(source, names[column])}
            metric = _render(source, source.metric, values, grid)
            first, first_labels = made.setdefault((metric, period.text), (line, labels))
            if first_labels != labels and source.duplicates == "error":
                raise LayoutError(  # rows told apart by a label the template leaves out
                    f"{source.name}: data rows {first} and {line} of "
                    f"{grid.where} both give {metric} for {period.text}: name the label "
                    f"columns in the metric template ({', '.join('{' + k + '}' for k in labels)})"
                )
            flags = _flags(period.flags, headers[column].marks, cells[column].marks, number.flags)
            _add(source, extraction, metric, values, period.text, number, flags, grid,
                 names[column], f"row {line} ({text!r})")  # fmt: skip
    extraction.layout = Layout(_unique(name for name in names if name), ())
    return extraction


def _column(source: Tabular, names: list[str], wanted: str, grid: Grid) -> int:
    lowered = [name.lower() for name in names]
    if squash(wanted).lower() not in lowered:
        raise LayoutError(
            f"{source.name}: expected a column {wanted!r} in {grid.where}, found the header "
            f"{shown(names)}"
        )
    return lowered.index(squash(wanted).lower())


def _row_period(source: Tabular, year: str, month: str, column: str, grid: Grid) -> Period:
    try:
        if month:
            return dates.year_month(year, month, fiscal=source.fiscal)
        period = Period.parse(year)
        if source.fiscal and period.text.isdigit():
            return Period(f"FY{period.text}", period.flags)
        return period
    except PeriodError as error:
        raise LayoutError(
            f"{source.name}: expected a period in column {column!r} of {grid.where}, found "
            f"{year!r}{f' / {month!r}' if month else ''}: {error}"
        ) from None


def _as_of(
    source: Tabular, headers: list[_Levels], body: list[list[Cell]], grid: Grid, as_of: Period
) -> Extraction:
    """Every value cell is a figure for the as-of date, named by its row and column."""
    label_columns = []
    for column in range(len(headers)):
        if any(_numeric(cells[column].text) for cells in body):
            break
        label_columns.append(column)
    label_keys = [slug(headers[c].texts[-1]) if headers[c].texts else "" for c in label_columns]
    row_filter = compiled(source.rows) if source.rows else None
    extraction = Extraction()
    layout_rows: list[str] = []
    value_columns = [c for c in range(len(headers)) if c not in label_columns and headers[c].texts]
    for cells in body:
        labels, marks = _labels(cells[column] for column in label_columns)
        if not labels:
            continue
        layout_rows.append(" / ".join(labels))
        if row_filter and not row_filter.search(" ".join(labels)):
            continue
        names = {
            "row": ".".join(name_part(source, part) for part in labels),
            **{
                key: name_part(source, label(cells[column])[0])
                for key, column in zip(label_keys, label_columns, strict=True)
            },
        }
        for column in value_columns:
            number = _number(source, cells[column], labels, headers[column], grid)
            if number.value is None:
                extraction.missing += 1
                continue
            values = {**names, "column": name_part(source, _joined(headers[column]))}
            flags = _flags(as_of.flags, headers[column].marks, marks, number.flags)
            _add(source, extraction, None, values, as_of.text, number, flags, grid,
                 " / ".join([*labels, _joined(headers[column])]),
                 f"row {' / '.join(labels)!r}")  # fmt: skip
    fixed = [_joined(headers[column]) for column in range(len(headers)) if headers[column].texts]
    extraction.layout = Layout(_unique(fixed), _unique(layout_rows))
    return extraction


def _add(
    source: Tabular,
    extraction: Extraction,
    metric: str | None,
    names: dict[str, str],
    period: str,
    number: Number,
    flags: tuple[str, ...],
    grid: Grid,
    label_text: str,
    origin: str = "",
    unit_and_stock: tuple[str, bool] | None = None,
) -> None:
    """Add one value (and its share, with `percent_metric`); `origin` names the row it
    came from, so that a period given twice is reported by its rows (extract.duplicates).
    `unit_and_stock`: what `_unit_and_stock` says of these names, if already known (a
    table's row gives the same for each of its periods)."""
    if number.value is None:
        return
    metric = metric or _render(source, source.metric, names, grid)
    unit, stock = unit_and_stock or _unit_and_stock(source, names)
    if stock:
        period, flags = _stock_day(source, period, flags, grid)
    observation = Observation(
        metric, period, number.value, number.unit or unit or source.unit, flags
    )
    extraction.add(observation, label=label_text, source=source.name, origin=origin)
    if number.share is not None and source.percent_metric:
        share = _render(source, source.percent_metric, names, grid)
        extraction.add(
            Observation(share, period, number.share, "percent", flags),
            label=f"{label_text} (percent)",
            source=source.name,
            origin=origin,
        )


def _unit_and_stock(source: Tabular, names: dict[str, str]) -> tuple[str, bool]:
    """The unit a value named by `names` is given (`units`), and whether it is a stock."""
    unit = next((source.units[name] for name in names.values() if name in source.units), "")
    stock = bool(source.stocks) and any(name in source.stocks for name in names.values())
    return unit, stock


def _stock_day(
    source: Tabular, period: str, flags: tuple[str, ...], grid: Grid
) -> tuple[str, tuple[str, ...]]:
    """A stock is as of the last day its period covers; a part-way year's flags are then
    said by the day itself."""
    day = Period(period, flags).last_day
    if day is None:
        raise LayoutError(
            f"{source.name}: a stock needs a period that ends on a day; {period!r} in "
            f"{grid.where} does not"
        )
    kept = tuple(flag for flag in flags if flag != "partial" and not flag.startswith("through:"))
    return day.isoformat(), kept


def name_part(source: Tabular, text: str) -> str:
    """A label's part of a metric name: its `rename`, else its slug."""
    if source.rename:
        wanted = squash(text).lower()
        for printed, name in source.rename.items():
            if squash(printed).lower() == wanted:
                return name
    return slug(text)


def _labels(cells: Iterable[Cell]) -> tuple[list[str], tuple[str, ...]]:
    """A row's distinct labels (marks taken out) and the marks, as flags."""
    labels: list[str] = []
    marks: list[str] = []
    for cell in cells:
        text, found = label(cell)
        marks += found
        if text and (not labels or labels[-1] != text):
            labels.append(text)
    return labels, tuple(dict.fromkeys(marks))


def _number(source: Tabular, cell: Cell, path: list[str], levels: _Levels, grid: Grid) -> Number:
    try:
        number = parse_number(cell.text)
    except NumberError:
        raise LayoutError(
            f"{source.name}: expected a number in row {' / '.join(path)!r}, column "
            f"{_joined(levels)!r} of {grid.where}, found {cell.text!r}"
        ) from None
    if cell.marks:
        number = number._replace(flags=tuple(dict.fromkeys([*number.flags, *cell.marks])))
    return number


def _render(source: Tabular, template: str, names: dict[str, str], grid: Grid) -> str:
    try:
        return template.format_map(names)
    except KeyError as error:
        keys = sorted(name for name in names if name)
        raise LayoutError(
            f"{source.name}: the metric template {template!r} names {{{error.args[0]}}}, but "
            f"{grid.where} offers {', '.join('{' + key + '}' for key in keys)}"
        ) from None


def _flags(*groups: tuple[str, ...]) -> tuple[str, ...]:
    if not any(groups):
        return ()
    return tuple(dict.fromkeys(flag for group in groups for flag in group))


def _unique(texts: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(text for text in texts if text))
