"""The small, safe language of derived metrics. An expression is parsed with Python's
`ast` and only these forms are accepted (anything else is refused with its column; the
text is never run):

    "cbp.swb.usbp.encounters"          a stored series, by name (in quotes)
    2.5, 1000                          numbers
    a + b, a - b, a * b, a / b, -a     arithmetic, period by period (series meet on the
                                       periods both have; a division by zero leaves the
                                       period out)
    per_day(a)                         a period total / the days in its period (months,
                                       quarters, fiscal years); a period not over when the
                                       value was published divides by the days it covers
                                       and is flagged `partial`
    sum("cbp.swb.*")                   the sum, per period, of every series the pattern names
    rolling(a, "7d", mean)             mean, sum, min or max over 7 calendar days (a window
                                       with a missing day is left out) or over N periods (7)

Every value carries the input observations it was computed from (its provenance)."""

import ast
import math
import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial
from typing import NamedTuple

from core.errors import CrossingsError
from core.periods import Period
from series.drawing import AGGREGATES
from series.windows import Span, calendar_rolling, consecutive_days, rolling
from storage import Values
from storage.observations import decode_flags

FUNCTIONS = ("per_day", "sum", "rolling")
OPERATORS: dict[type, tuple[str, Callable[[float, float], float]]] = {
    ast.Add: ("+", operator.add),
    ast.Sub: ("-", operator.sub),
    ast.Mult: ("*", operator.mul),
    ast.Div: ("/", operator.truediv),
}
PATTERN_CHARS = "*?["
# What an expression may be: longer, deeper or larger is a typo or an attack, and would
# crash the parser (MemoryError, RecursionError) or overflow (OverflowError).
LONGEST_TEXT = 2000  # characters
DEEPEST = 50  # operators and calls nested in one another
LARGEST_NUMBER = 1e15


class ExpressionError(CrossingsError, ValueError):
    """The expression cannot be used: the message says where and what to write instead."""


@dataclass(frozen=True)
class Ref:
    metric: str


@dataclass(frozen=True)
class Number:
    value: float


@dataclass(frozen=True)
class Op:
    symbol: str
    left: "Node"
    right: "Node"


@dataclass(frozen=True)
class PerDay:
    of: "Node"


@dataclass(frozen=True)
class Sum:
    pattern: str


@dataclass(frozen=True)
class Rolling:
    of: "Node"
    window: Span
    aggregate: str


Node = Ref | Number | Op | PerDay | Sum | Rolling


class Value(NamedTuple):
    """One computed value: its flags and the input observation ids behind it. `seen` is
    the earliest date an input value was first published (for partial periods). A
    tuple: twenty years of a daily series make 7,305 of them per input."""

    value: float
    flags: frozenset[str] = frozenset()
    inputs: tuple[int, ...] = ()
    seen: str = ""


Series = dict[str, Value]
_value = partial(tuple.__new__, Value)  # Value(*fields) without a Python call


def parse(text: str) -> Node:
    """The expression's tree, or ExpressionError naming the first thing not allowed."""
    if len(text) > LONGEST_TEXT:
        raise ExpressionError(
            f"the expression is {len(text):,} characters long; at most {LONGEST_TEXT:,} are "
            "read (split it into several derived metrics)"
        )
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as error:
        raise ExpressionError(
            f"not a valid expression at column {error.offset}: {error.msg}"
        ) from None
    except (MemoryError, RecursionError):
        raise ExpressionError(f"the expression nests more than {DEEPEST} deep") from None
    return _node(tree.body, 0)


def _node(node: ast.expr, depth: int) -> Node:
    where = f"column {node.col_offset + 1}"
    if depth > DEEPEST:
        raise ExpressionError(
            f"{where}: the expression nests more than {DEEPEST} operators or calls deep "
            "(split it into several derived metrics)"
        )
    depth += 1
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        if any(char in node.value for char in PATTERN_CHARS):
            raise ExpressionError(
                f'{where}: "{node.value}" is a pattern; add the series up with sum("{node.value}")'
            )
        return Ref(node.value)
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        if isinstance(node.value, bool):
            raise ExpressionError(f"{where}: {node.value} is not a number")
        if not abs(node.value) <= LARGEST_NUMBER:  # also nan, and ints past a float
            shown = f"{str(node.value)[:20]}..." if len(str(node.value)) > 20 else node.value
            raise ExpressionError(
                f"{where}: the number {shown} is too large; numbers up to {LARGEST_NUMBER:g}"
            )
        return Number(float(node.value))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        inner = _node(node.operand, depth)
        return Op("*", Number(-1.0), inner) if isinstance(node.op, ast.USub) else inner
    if isinstance(node, ast.BinOp) and type(node.op) in OPERATORS:
        return Op(OPERATORS[type(node.op)][0], _node(node.left, depth), _node(node.right, depth))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        return _call(node, node.func.id, where, depth)
    if isinstance(node, ast.Name):
        raise ExpressionError(f"{where}: {node.id} is not known; write a metric name in quotes")
    shown = ast.unparse(node)
    raise ExpressionError(
        f"{where}: {shown!r} is not allowed; use metric names in quotes, numbers, + - * /, "
        f"{', '.join(FUNCTIONS)}"
    )


def _call(node: ast.Call, name: str, where: str, depth: int) -> Node:
    args = node.args
    if node.keywords or name not in FUNCTIONS:
        raise ExpressionError(f"{where}: {name}() is not a function here; known: "
                              f"{', '.join(FUNCTIONS)} (without keyword arguments)")  # fmt: skip
    if name == "per_day" and len(args) == 1:
        return PerDay(_node(args[0], depth))
    if name == "sum" and len(args) == 1:
        if isinstance(args[0], ast.Constant) and isinstance(args[0].value, str):
            return Sum(args[0].value)
        raise ExpressionError(f'{where}: sum() takes a pattern in quotes, e.g. sum("cbp.swb.*")')
    if name == "rolling" and len(args) == 3:
        window = args[1].value if isinstance(args[1], ast.Constant) else None
        try:
            span_ = Span.from_toml(window)
        except ValueError as error:
            raise ExpressionError(f"{where}: rolling() window: {error}") from None
        aggregate = args[2].id if isinstance(args[2], ast.Name) else None
        if aggregate not in AGGREGATES or aggregate == "last" or span_.length < 1:
            raise ExpressionError(
                f'{where}: rolling(series, "7d", mean): the last argument is mean, sum, min or max'
            )
        return Rolling(_node(args[0], depth), span_, aggregate)
    usage = {"per_day": 'per_day("metric")', "sum": 'sum("pattern")',
             "rolling": 'rolling("metric", "7d", mean)'}[name]  # fmt: skip
    raise ExpressionError(f"{where}: {name}() is written {usage}")


def references(node: Node) -> set[str]:
    """The metric names and patterns an expression reads."""
    if isinstance(node, Ref):
        return {node.metric}
    if isinstance(node, Sum):
        return {node.pattern}
    if isinstance(node, Op):
        return references(node.left) | references(node.right)
    if isinstance(node, PerDay | Rolling):
        return references(node.of)
    return set()


def lookback_days(node: Node) -> int | None:
    """How many days before a changed period must be read again; None: the whole series
    (a window counted in periods)."""
    if isinstance(node, Op):
        left, right = lookback_days(node.left), lookback_days(node.right)
        return None if left is None or right is None else max(left, right)
    if isinstance(node, PerDay):
        return lookback_days(node.of)
    if isinstance(node, Rolling):
        inner = lookback_days(node.of)
        if inner is None or not node.window.calendar:
            return None
        return inner + node.window.days - 1
    return 0


def unit(node: Node, unit_of: Callable[[str], Iterable[str]]) -> str | None:
    """The unit an expression gives (None: not known), or ExpressionError when it adds
    or compares unlike units. `unit_of` gives the units of a name or pattern's series."""
    if isinstance(node, Number):
        return ""
    if isinstance(node, Ref | Sum):
        found = set(unit_of(node.metric if isinstance(node, Ref) else node.pattern))
        if len(found) > 1:
            raise ExpressionError(
                f"unit mismatch: {_shown(node)} adds series in {', '.join(sorted(found))}"
            )
        return next(iter(found), None)
    if isinstance(node, PerDay | Rolling):
        inner = unit(node.of, unit_of)
        if isinstance(node, Rolling) or inner is None:
            return inner
        return f"{inner} per day" if inner else "per day"
    left, right = unit(node.left, unit_of), unit(node.right, unit_of)
    if left is None or right is None:
        return None
    if node.symbol in "+-":
        if left != right:
            raise ExpressionError(
                f"unit mismatch: {_shown(node.left)} is in {left or 'plain numbers'} but "
                f"{_shown(node.right)} is in {right or 'plain numbers'}; "
                f"{'adding' if node.symbol == '+' else 'subtracting'} them means nothing"
            )
        return left
    if node.symbol == "*":
        return left or right if not (left and right) else f"{left}*{right}"
    if left == right:
        return ""
    return left if not right else f"{left}/{right}" if left else f"1/{right}"


def _shown(node: Node) -> str:
    if isinstance(node, Ref):
        return f'"{node.metric}"'
    if isinstance(node, Sum):
        return f'sum("{node.pattern}")'
    return "the expression"


def compute(
    node: Node, series_of: Callable[[str], Values], names: Callable[[str], list[str]]
) -> Series:
    """Evaluate over stored series: `series_of(name)` gives a series' current values in
    period order with their provenance, `names(pattern)` the stored metrics a pattern
    matches."""
    if isinstance(node, Ref):
        stored = series_of(node.metric)
        # Built by map and zip in C, each flags text read once, not a Value(...) call a
        # row: a first derivation in the bench reads 1.1 M rows (0.49 -> 0.33 CPU s).
        kept = {text: _kept(text) for text in set(stored.flags)}
        columns = zip(stored.values, map(kept.__getitem__, stored.flags), zip(stored.ids),
                      [seen[:10] for seen in stored.first_seen], strict=True)  # fmt: skip
        return dict(zip(stored.periods, map(_value, columns), strict=True))
    if isinstance(node, Number):
        raise ExpressionError("the expression has no series in it: name a metric")
    if isinstance(node, Sum):
        return _sum([compute(Ref(name), series_of, names) for name in names(node.pattern)])
    if isinstance(node, PerDay):
        return _per_day(compute(node.of, series_of, names))
    if isinstance(node, Rolling):
        return _rolling(compute(node.of, series_of, names), node.window, node.aggregate)
    return _arithmetic(node, series_of, names)


KEPT_FLAGS = frozenset({"partial", "estimated", "preliminary"})
NO_FLAGS: frozenset[str] = frozenset()


def _kept(flags: str) -> frozenset[str]:
    """The flags a derived value inherits, from their stored text."""
    return frozenset(decode_flags(flags)) & KEPT_FLAGS if flags else NO_FLAGS


def _arithmetic(
    node: Op, series_of: Callable[[str], Values], names: Callable[[str], list[str]]
) -> Series:
    apply = next(fn for symbol, fn in OPERATORS.values() if symbol == node.symbol)
    constant = {side: n.value for side, n in (("l", node.left), ("r", node.right))
                if isinstance(n, Number)}  # fmt: skip
    left = None if "l" in constant else compute(node.left, series_of, names)
    right = None if "r" in constant else compute(node.right, series_of, names)
    fixed = {side: Value(number) for side, number in constant.items()}
    if left is None or right is None:
        periods = list(left or right or {})
    else:  # the periods both have, in the left's order (sorted already: one pass below)
        periods = [period for period in left if period in right]
    found: Series = {}
    # Each side unpacked (not read field by field) and the result made by `_value`: the
    # bench's 50 sums of two series 0.41 -> 0.25 CPU s, with the periods in order.
    for period in sorted(periods):
        a_value, a_flags, a_inputs, a_seen = left[period] if left is not None else fixed["l"]
        b_value, b_flags, b_inputs, b_seen = right[period] if right is not None else fixed["r"]
        try:
            result = apply(a_value, b_value)
        except ZeroDivisionError:
            continue
        # an infinite or nan result is kept: derive() leaves it out, with a note
        # the earlier of the dates given (`min(filter(None, ...), default="")`, inline)
        seen = min(a_seen, b_seen) if a_seen and b_seen else a_seen or b_seen or ""
        flags = a_flags | b_flags if b_flags else a_flags
        found[period] = _value((result, flags, a_inputs + b_inputs, seen))
    return found


def _sum(all_series: list[Series]) -> Series:
    found: dict[str, list[Value]] = {}
    for one in all_series:
        for period, value in one.items():
            found.setdefault(period, []).append(value)
    return {
        period: Value(
            math.fsum(v.value for v in values),
            frozenset().union(*(v.flags for v in values)),
            tuple(i for v in values for i in v.inputs),
            min(filter(None, (v.seen for v in values)), default=""),
        )
        for period, values in sorted(found.items())
    }


def _per_day(of: Series) -> Series:
    found: Series = {}
    for period, value in of.items():
        days = Period(period).days
        if days is None:
            raise ExpressionError(f"per_day() needs dated periods, found {period!r}")
        first, end = days
        covered = end
        if value.seen:  # published before the period was over: it covers the days before
            covered = min(end, max(date.fromisoformat(value.seen), first + timedelta(days=1)))
        flags = value.flags | ({"partial"} if covered < end else set())
        found[period] = Value(value.value / (covered - first).days, frozenset(flags),
                              value.inputs, value.seen)  # fmt: skip
    return found


def _rolling(of: Series, window: Span, aggregate: str) -> Series:
    periods = list(of)
    if window.calendar and not consecutive_days(periods):
        found: Series = {}
        # a complete window is its period and the days - 1 stored days before it
        index = {period: i for i, period in enumerate(periods)}
        for period, result, _missing in calendar_rolling(
            ((p, of[p].value) for p in periods), window.days, aggregate
        ):
            if result is not None:
                last = index[period]
                found[period] = _window(of, periods[last - window.days + 1 : last + 1], result)
        return found
    # every day there (or a window of periods): each window is the `size` periods ending
    # at its own, aggregated in one pass, bit for bit as `AGGREGATES` over each
    return _windows(of, window.length, rolling([value.value for value in of.values()],
                                               window.length, aggregate))  # fmt: skip


def _windows(of: Series, size: int, results: list[float | None]) -> Series:
    """Per period from the first full window on, what `_window` gives for the `size`
    periods ending there with `results[i]`, taken by index from flat columns (a 7-day
    mean over twenty years is 7,305 windows of dict lookups and generators otherwise),
    column by column and put together by map and zip in C (0.53 -> 0.30 CPU s for the
    bench's 50 such means)."""
    periods, values = list(of), list(of.values())
    inputs: list[int] = []
    starts = [0]  # value i's inputs are inputs[starts[i] : starts[i + 1]]
    for value in values:
        inputs += value.inputs
        starts.append(len(inputs))
    flat = tuple(inputs)  # a slice of it is the tuple a window names
    seen = [value.seen for value in values]
    windows = range(len(values) - size + 1)  # window i: values[i : i + size]
    if any(value.flags for value in values):
        flags = [frozenset().union(*(v.flags for v in values[i : i + size])) for i in windows]
    else:
        flags = [NO_FLAGS] * len(windows)
    if all(seen):  # every date given: the earliest is the plain min (most series)
        earliest = [min(seen[i : i + size]) for i in windows]
    else:
        earliest = [min(filter(None, seen[i : i + size]), default="") for i in windows]
    found = zip(results[size - 1 :], flags, [flat[starts[i] : starts[i + size]] for i in windows],
                earliest, strict=True)  # fmt: skip
    return dict(zip(periods[size - 1 :], map(_value, found), strict=True))


def _window(of: Series, members: list[str], result: float) -> Value:
    values = [of[p] for p in members]
    return Value(
        result,
        frozenset().union(*(v.flags for v in values)),
        tuple(i for v in values for i in v.inputs),
        min(filter(None, (v.seen for v in values)), default=""),
    )
