"""Decision tables: cells, their analysis at validation, and their compilation to Polars.

An input cell is ``-`` (anything), a comparison (``< 80``, ``>= 70``, ``!= large``), a range
(``[80..89]``, ``[2022-01-01..2024-12-31)``), a list (``in [micro, small]``, ``not in [...]``)
or a value (``large``, ``2``). An output cell is a value; for non-text outputs a text cell is an
expression (``param.amount_80``, ``yuan(75)``), and ``= expr`` makes any output an expression.

Validation splits every input's domain into elementary pieces at the cells' bounds and checks
every combination: none matching (and no ``default``) is *uncovered*; more than one matching in
a ``unique`` table is an *overlap*; a ``first`` table's row that is never the first match is
*unreachable*. Each finding names the row with its line and column.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import polars as pl

from eligibility.expr.constants import parse_period
from eligibility.expr.errors import ExprError, Pos
from eligibility.expr.lexer import Tok, Token, tokenize
from eligibility.expr.types import Kind, Type

MAX_GRID = 100_000
_DATEISH = re.compile(r"(?<![\"\w])(\d{4}-\d{2}(?:-\d{2})?)(?![\"\w])")
Point = int | Decimal | str | bool


@dataclass(frozen=True)
class Interval:
    low: Point | None  # None: unbounded
    low_closed: bool
    high: Point | None
    high_closed: bool


@dataclass(frozen=True)
class Cell:
    """An input cell: ``intervals`` for ordered types, ``values``/``complement`` otherwise."""

    text: str
    any: bool = False
    intervals: tuple[Interval, ...] = ()
    values: frozenset[Point] = frozenset()
    complement: bool = False


def ordered(type_: Type) -> bool:
    return type_.kind in (Kind.INT, Kind.MONEY, Kind.DECIMAL, Kind.DATE, Kind.PERIOD)


def _to_point(raw: object, type_: Type, pos: Pos) -> Point:
    kind = type_.kind
    try:
        if kind in (Kind.INT, Kind.MONEY) and isinstance(raw, int) and not isinstance(raw, bool):
            return raw
        if kind is Kind.DECIMAL and isinstance(raw, int | Decimal) and not isinstance(raw, bool):
            return Decimal(raw)
        if kind is Kind.DATE and isinstance(raw, str):
            return date.fromisoformat(raw).toordinal()
        if kind is Kind.PERIOD and isinstance(raw, str):
            return parse_period(raw)
        if kind is Kind.BOOL and isinstance(raw, bool):
            return raw
        if (
            kind in (Kind.STRING, Kind.ENUM)
            and isinstance(raw, str | int)
            and not isinstance(raw, bool)
        ):
            value = str(raw)
            if kind is Kind.ENUM and value not in type_.values:
                raise ValueError(f"{value!r} is not one of: {', '.join(type_.values)}")
            return value
    except ValueError as error:
        raise ExprError(str(error), pos) from None
    raise ExprError(f"{raw!r} is not a {type_} value", pos)


def _token_value(tokens: list[Token], i: int) -> tuple[object, int]:
    tok = tokens[i]
    if tok.kind is Tok.OP and tok.text == "-" and tokens[i + 1].kind in (Tok.INT, Tok.DECIMAL):
        value = tokens[i + 1].value
        return -value, i + 2  # type: ignore[operator]
    if tok.kind in (Tok.INT, Tok.DECIMAL, Tok.STRING):
        return tok.value, i + 1
    if tok.kind is Tok.KEYWORD and tok.text in ("true", "false"):
        return tok.text == "true", i + 1
    if tok.kind is Tok.NAME:
        return tok.text, i + 1
    raise ExprError(f"expected a value, found {tok.text or 'nothing'!r}", tok.pos)


def parse_cell(raw: object, type_: Type) -> Cell:
    """An input cell for an input of ``type_``; :class:`ExprError` with a position inside it."""
    if isinstance(raw, date):
        raw = raw.isoformat()
    if not isinstance(raw, str):
        point = _to_point(Decimal(str(raw)) if isinstance(raw, float) else raw, type_, Pos(1, 1))
        return _equal(str(raw), point, type_)
    text = raw.strip()
    if text in ("-", "any", "任意", ""):
        return Cell(text, any=True)
    source = _DATEISH.sub(r'"\1"', text) if type_.kind in (Kind.DATE, Kind.PERIOD) else text
    tokens = tokenize(source)
    first = tokens[0]
    if first.kind is Tok.OP and first.text in ("<", "<=", ">", ">=", "==", "!="):
        value, i = _token_value(tokens, 1)
        _expect_end(tokens, i)
        return _compare(text, first.text, _to_point(value, type_, tokens[1].pos), type_, first.pos)
    if first.kind is Tok.OP and first.text in ("[", "(") and any(t.text == ".." for t in tokens):
        low, i = _token_value(tokens, 1)
        if tokens[i].text != "..":
            raise ExprError("expected '..' in a range", tokens[i].pos)
        high, i = _token_value(tokens, i + 1)
        if tokens[i].text not in ("]", ")"):
            raise ExprError("a range ends with ']' or ')'", tokens[i].pos)
        _expect_end(tokens, i + 1)
        if not ordered(type_):
            raise ExprError(f"ranges need an ordered input, this is {type_}", first.pos)
        interval = Interval(
            _to_point(low, type_, tokens[1].pos),
            first.text == "[",
            _to_point(high, type_, tokens[i - 1].pos),
            tokens[i].text == "]",
        )
        return Cell(text, intervals=_normalise([interval], type_))
    negated = first.kind is Tok.KEYWORD and first.text == "not"
    start = 1 if negated else 0
    if tokens[start].kind is Tok.KEYWORD and tokens[start].text == "in":
        return _membership(text, tokens, start + 1, type_, negated)
    value, i = _token_value(tokens, 0)
    _expect_end(tokens, i)
    return _equal(text, _to_point(value, type_, first.pos), type_)


def _expect_end(tokens: list[Token], i: int) -> None:
    if tokens[i].kind is not Tok.END:
        raise ExprError(f"unexpected {tokens[i].text!r} in a cell", tokens[i].pos)


def _membership(text: str, tokens: list[Token], i: int, type_: Type, negated: bool) -> Cell:
    if tokens[i].text != "[":
        raise ExprError("expected '[' after 'in'", tokens[i].pos)
    i += 1
    points: list[Point] = []
    while tokens[i].text != "]":
        value, j = _token_value(tokens, i)
        points.append(_to_point(value, type_, tokens[i].pos))
        i = j + 1 if tokens[j].text == "," else j
        if tokens[i].kind is Tok.END:
            raise ExprError("unterminated list", tokens[i].pos)
    _expect_end(tokens, i + 1)
    if ordered(type_):
        intervals = [Interval(p, True, p, True) for p in points]
        if negated:
            return Cell(text, intervals=_complement(intervals, type_))
        return Cell(text, intervals=_normalise(intervals, type_))
    return _set_cell(text, frozenset(points), negated, type_)


def _set_cell(text: str, values: frozenset[Point], complement: bool, type_: Type) -> Cell:
    domain = _finite_domain(type_)
    if domain is not None and complement:
        return Cell(text, values=frozenset(domain) - values)
    return Cell(text, values=values, complement=complement)


def _finite_domain(type_: Type) -> tuple[Point, ...] | None:
    if type_.kind is Kind.ENUM:
        return type_.values
    if type_.kind is Kind.BOOL:
        return (True, False)
    return None


def _equal(text: str, point: Point, type_: Type) -> Cell:
    if ordered(type_):
        return Cell(text, intervals=(Interval(point, True, point, True),))
    return _set_cell(text, frozenset({point}), False, type_)


def _compare(text: str, op: str, point: Point, type_: Type, pos: Pos) -> Cell:
    if op in ("==", "!="):
        cell = _equal(text, point, type_)
        if op == "==":
            return cell
        if ordered(type_):
            return Cell(text, intervals=_complement(list(cell.intervals), type_))
        return _set_cell(text, cell.values, True, type_)
    if not ordered(type_):
        raise ExprError(f"'{op}' needs an ordered input, this is {type_}", pos)
    interval = {
        "<": Interval(None, False, point, False),
        "<=": Interval(None, False, point, True),
        ">": Interval(point, False, None, False),
        ">=": Interval(point, True, None, False),
    }[op]
    return Cell(text, intervals=_normalise([interval], type_))


def _discrete(type_: Type) -> bool:
    return type_.kind is not Kind.DECIMAL


def _normalise(intervals: list[Interval], type_: Type) -> tuple[Interval, ...]:
    """Discrete types: closed integer bounds (``< 80`` → ``[..79]``)."""
    if not _discrete(type_):
        return tuple(intervals)
    out = []
    for iv in intervals:
        low = iv.low if iv.low is None or iv.low_closed else iv.low + 1  # type: ignore[operator]
        high = iv.high if iv.high is None or iv.high_closed else iv.high - 1  # type: ignore[operator]
        out.append(Interval(low, True, high, True))
    return tuple(out)


def _complement(points: list[Interval], type_: Type) -> tuple[Interval, ...]:
    values = sorted(p.low for p in points)  # type: ignore[type-var]
    out: list[Interval] = []
    previous: Point | None = None
    for value in values:
        out.append(Interval(previous, False, value, False))
        previous = value
    out.append(Interval(previous, False, None, False))
    return _normalise(out, type_)


def contains(cell: Cell, point: Point | None) -> bool:
    """Whether a representative ``point`` (``None``: a value no cell names) lies in ``cell``."""
    if cell.any:
        return True
    if cell.intervals:
        return point is not None and any(_in_interval(iv, point) for iv in cell.intervals)
    if point is None:
        return cell.complement
    return (point in cell.values) != cell.complement


def _in_interval(iv: Interval, p: Point) -> bool:
    if iv.low is not None and (p < iv.low or (p == iv.low and not iv.low_closed)):  # type: ignore[operator]
        return False
    return iv.high is None or p < iv.high or (p == iv.high and iv.high_closed)  # type: ignore[operator]


def pieces(cells: list[Cell], type_: Type) -> list[tuple[Point | None, str]]:
    """Representative points of the elementary pieces of one input's domain, with a label."""
    if not ordered(type_):
        domain = _finite_domain(type_)
        mentioned = sorted({v for c in cells for v in c.values}, key=str)
        points: list[Point | None] = list(domain) if domain is not None else [*mentioned, None]
        return [(p, "其他值" if p is None else str(p)) for p in points]
    bounds: list[Any] = sorted(
        {b for c in cells for iv in c.intervals for b in (iv.low, iv.high) if b is not None}
    )
    out: list[tuple[Point | None, str]] = []
    if _discrete(type_):
        cuts: list[Any] = sorted(
            {iv.low for c in cells for iv in c.intervals if iv.low is not None}
            | {iv.high + 1 for c in cells for iv in c.intervals if iv.high is not None}  # type: ignore[operator]
        )
        if not cuts:
            return [(0, "任意值")]
        out.append((cuts[0] - 1, f"< {_show(cuts[0], type_)}"))
        for a, b in itertools.pairwise(cuts):
            label = _show(a, type_) if b - a == 1 else f"[{_show(a, type_)}..{_show(b - 1, type_)}]"
            out.append((a, label))
        out.append((cuts[-1], f">= {_show(cuts[-1], type_)}"))
        return out
    if not bounds:
        return [(Decimal(0), "任意值")]
    out.append((bounds[0] - 1, f"< {bounds[0]}"))
    for a, b in itertools.pairwise(bounds):
        out.append((a, f"{a}"))
        out.append(((a + b) / 2, f"({a}..{b})"))
    out.append((bounds[-1], f"{bounds[-1]}"))
    out.append((bounds[-1] + 1, f"> {bounds[-1]}"))
    return out


def _show(point: Point, type_: Type) -> str:
    if type_.kind is Kind.DATE and isinstance(point, int):
        return date.fromordinal(point).isoformat() if 1 <= point <= 3_652_059 else str(point)
    if type_.kind is Kind.PERIOD and isinstance(point, int):
        return f"{point // 12:04d}-{point % 12 + 1:02d}"
    return str(point)


@dataclass(frozen=True)
class Finding:
    kind: str  # "uncovered", "overlap", "unreachable", "too_large"
    row: int | None  # 0-based row the finding is about (None: the table)
    message: str


def analyse(
    rows: list[list[Cell]], types: list[Type], labels: list[str], unique: bool, has_default: bool
) -> list[Finding]:
    per_input = [pieces([row[i] for row in rows], type_) for i, type_ in enumerate(types)]
    size = 1
    for p in per_input:
        size *= len(p)
    if size > MAX_GRID:
        return [
            Finding(
                "too_large",
                None,
                f"table has {size} input combinations; at most {MAX_GRID} can be checked",
            )
        ]
    findings: list[Finding] = []
    reached: set[int] = set()
    overlaps: set[tuple[int, int]] = set()
    uncovered = 0
    for combo in itertools.product(*per_input):
        matching = [
            r
            for r, row in enumerate(rows)
            if all(contains(row[i], combo[i][0]) for i in range(len(types)))
        ]
        where = ", ".join(f"{labels[i]} {combo[i][1]}" for i in range(len(types)))
        if not matching:
            if not has_default and uncovered < 5:
                findings.append(Finding("uncovered", None, f"no rule matches {where}"))
            uncovered += 1
            continue
        reached.add(matching[0])
        if unique and len(matching) > 1:
            pair = (matching[0], matching[1])
            if pair not in overlaps:
                overlaps.add(pair)
                findings.append(
                    Finding(
                        "overlap",
                        matching[1],
                        f"rules {matching[0] + 1} and "
                        f"{matching[1] + 1} both match {where} (hit policy unique)",
                    )
                )
    if not unique:
        for r in range(len(rows)):
            if r not in reached:
                findings.append(
                    Finding(
                        "unreachable",
                        r,
                        f"rule {r + 1} is never reached: earlier "
                        "rules match everything it matches (hit policy first)",
                    )
                )
    return findings


def cell_test(cell: Cell, value: pl.Expr, type_: Type) -> pl.Expr:
    """Polars test of one input cell (a missing value only matches ``-``)."""
    if cell.any:
        return pl.lit(True)
    if cell.intervals:
        tests = [_interval_test(iv, value, type_) for iv in cell.intervals]
        combined = tests[0]
        for test in tests[1:]:
            combined = combined | test
        return combined.fill_null(False)
    series = pl.lit(
        pl.Series(
            sorted(cell.values, key=str), dtype=pl.Boolean if type_.kind is Kind.BOOL else pl.String
        )
    ).implode()
    found = value.is_in(series)
    return (~found if cell.complement else found) & value.is_not_null()


def _literal_point(point: Point, type_: Type) -> pl.Expr:
    if type_.kind is Kind.DATE:
        ordinal = min(max(int(point), 1), date.max.toordinal())
        return pl.lit(date.fromordinal(ordinal), dtype=pl.Date)
    if type_.kind is Kind.DECIMAL:
        return pl.lit(float(point), dtype=pl.Float64)
    return pl.lit(point, dtype=pl.Int64)


def _interval_test(iv: Interval, value: pl.Expr, type_: Type) -> pl.Expr:
    if type_.kind is Kind.DECIMAL:
        value = value.round(9)
    test = pl.lit(True)
    if iv.low is not None:
        low = _literal_point(iv.low, type_)
        test = test & (value >= low if iv.low_closed else value > low)
    if iv.high is not None:
        high = _literal_point(iv.high, type_)
        test = test & (value <= high if iv.high_closed else value < high)
    return test
