"""A validated policy document → :class:`CompiledPolicy`: every expression parsed and
type-checked against the subject view, parameters typed, decision tables analysed, named
expressions put in dependency order. All problems are collected as :class:`Issue` with the line
and column in the YAML file; nothing is evaluated here.
"""

from __future__ import annotations

import graphlib
from dataclasses import dataclass, field

from eligibility.expr import types as t
from eligibility.expr.checker import Scope, Usage, check
from eligibility.expr.errors import ExprError
from eligibility.expr.nodes import Aggregate, Name, Node, walk
from eligibility.expr.parser import parse
from eligibility.expr.types import Kind, Type
from eligibility.policy.model import Format, PolicyDocument
from eligibility.policy.params import (
    PARAM_TYPES,
    DatedParameter,
    IndexedValueError,
    dated_parameter,
)
from eligibility.policy.source import Issue, Path, SourceDocument
from eligibility.policy.tables import Cell
from eligibility.views import SubjectView, view

RESERVED = frozenset(
    {
        "param",
        "as_of",
        "subject_key",
        "eligible",
        "tier",
        "amount_fen",
        "payee_key",
        "start_month",
        "in_force",
        "true",
        "false",
    }
)


@dataclass
class Symbol:
    """A named, checked expression: a definition, a condition or a benefit expression."""

    name: str
    kind: str  # definition | condition | eligible | benefit | end | trigger
    text: str
    path: Path
    node: Node | None = None
    type: Type | None = None
    usage: Usage = field(default_factory=Usage)
    label: str = ""
    description: str = ""
    format: Format | None = None


@dataclass
class TableSymbol:
    name: str
    path: Path
    hit_policy: str
    inputs: list[Symbol]
    outputs: list[tuple[str, Type, str]]  # name, type, label
    cells: list[list[Cell]]
    row_outputs: list[list[Node]]
    default: list[Node] | None
    usage: Usage = field(default_factory=Usage)


@dataclass
class CompiledPolicy:
    document: PolicyDocument
    version: str
    view: SubjectView
    params: dict[str, DatedParameter]
    symbols: dict[str, Symbol]  # definitions and conditions by name; benefit etc. by "kind:name"
    tables: dict[str, TableSymbol]
    order: list[str]  # symbol and table names in dependency order
    source: SourceDocument | None = None

    @property
    def id(self) -> str:
        return self.document.id

    def conditions(self) -> list[Symbol]:
        return [s for s in self.symbols.values() if s.kind == "condition"]

    def definitions(self) -> list[Symbol]:
        return [s for s in self.symbols.values() if s.kind == "definition"]

    def aggregates(self) -> list[Aggregate]:
        found: list[Aggregate] = []
        for symbol in [
            *self.symbols.values(),
            *(i for tb in self.tables.values() for i in tb.inputs),
        ]:
            found.extend(symbol.usage.aggregates)
        return found


class _Compiler:
    def __init__(self, doc: PolicyDocument, source: SourceDocument | None) -> None:
        self.doc = doc
        self.source = source
        self.issues: list[Issue] = []
        self.view = view(doc.subject.kind.value)
        self.scope = Scope(self.view)

    def issue(self, message: str, path: Path) -> None:
        if self.source is not None:
            self.issues.append(self.source.issue(message, path))
        else:
            self.issues.append(Issue(message, path=".".join(str(p) for p in path)))

    def expr_issue(self, error: ExprError, text: str, path: Path) -> None:
        if self.source is None:
            self.issues.append(
                Issue(
                    error.message, error.pos.line, error.pos.column, ".".join(str(p) for p in path)
                )
            )
            return
        lines = text.split("\n")
        offset = sum(len(line) + 1 for line in lines[: error.pos.line - 1]) + error.pos.column - 1
        line, column = self.source.offset_position(path, offset)
        self.issues.append(Issue(error.message, line, column, _path_text(path)))

    def parse(self, symbol: Symbol) -> None:
        try:
            symbol.node = parse(symbol.text)
        except ExprError as error:
            self.expr_issue(error, symbol.text, symbol.path)

    def check(self, symbol: Symbol, expected: Type | None) -> bool:
        if symbol.node is None:
            return False
        try:
            symbol.type, symbol.usage = check(symbol.node, self.scope, expected)
            return True
        except ExprError as error:
            self.expr_issue(error, symbol.text, symbol.path)
            return False


def _path_text(path: Path) -> str:
    from eligibility.policy.source import path_text

    return path_text(path)


def references(node: Node | None) -> set[str]:
    """Names a tree may refer to as symbols (names inside aggregates are related fields)."""
    if node is None:
        return set()
    inner = {id(n) for agg in walk(node) if isinstance(agg, Aggregate) for n in walk(agg)}
    return {n.dotted for n in walk(node) if isinstance(n, Name) and id(n) not in inner}


def compile_document(
    doc: PolicyDocument, version: str, source: SourceDocument | None = None
) -> tuple[CompiledPolicy, list[Issue]]:
    c = _Compiler(doc, source)
    params = _parameters(c)
    symbols = _symbols(c)
    tables = _tables(c)
    order = _order(c, symbols, tables)
    _check_all(c, symbols, tables, order)
    compiled = CompiledPolicy(doc, version, c.view, params, symbols, tables, order, source)
    return compiled, c.issues


def _parameters(c: _Compiler) -> dict[str, DatedParameter]:
    params: dict[str, DatedParameter] = {}
    for name, spec in c.doc.parameters.items():
        if not name.isidentifier() or name.startswith("_"):
            c.issue(f"parameter name {name!r} must be a lowercase identifier", ("parameters", name))
            continue
        try:
            params[name] = dated_parameter(name, spec)
        except IndexedValueError as error:
            c.issue(
                f"parameter {name}: {error}", ("parameters", name, "values", error.index, "value")
            )
            continue
        if c.doc.effective.from_ < spec.values[0].from_:
            c.issue(
                f"parameter {name} has no value on the policy's first day {c.doc.effective.from_}",
                ("parameters", name, "values", 0, "from"),
            )
        c.scope.params[name] = PARAM_TYPES[spec.type]
    return params


def _symbols(c: _Compiler) -> dict[str, Symbol]:
    doc = c.doc
    symbols: dict[str, Symbol] = {}

    def add(symbol: Symbol, public: bool) -> None:
        if public:
            clash = _clash(c.view, symbol.name, symbols)
            if clash:
                c.issue(f"name {symbol.name!r} {clash}", symbol.path)
                return
        c.parse(symbol)
        symbols[symbol.name] = symbol

    for name, d in doc.definitions.items():
        add(
            Symbol(
                name,
                "definition",
                d.expr,
                ("definitions", name, "expr"),
                label=d.label,
                format=d.format,
            ),
            True,
        )
    for i, cond in enumerate(doc.conditions):
        add(
            Symbol(
                cond.name,
                "condition",
                cond.when,
                ("conditions", i, "when"),
                label=cond.description,
                description=cond.description,
            ),
            True,
        )
    if doc.eligible is not None:
        add(Symbol("eligible:", "eligible", doc.eligible, ("eligible",)), False)
    benefit = doc.benefit
    for key in ("amount", "tier", "start"):
        text = getattr(benefit, key)
        if text is not None:
            add(Symbol(f"benefit:{key}", "benefit", text, ("benefit", key)), False)
    for i, end in enumerate(benefit.end_conditions):
        add(
            Symbol(
                f"end:{end.name}",
                "end",
                end.when,
                ("benefit", "end_conditions", i, "when"),
                label=end.description,
                description=end.description,
            ),
            False,
        )
        if end.end_date is not None:
            add(
                Symbol(
                    f"end_date:{end.name}",
                    "end",
                    end.end_date,
                    ("benefit", "end_conditions", i, "end_date"),
                ),
                False,
            )
    for i, trigger in enumerate(doc.triggers):
        if trigger.kind.value == "date_reached":
            if trigger.date is None:
                c.issue("a date_reached trigger needs 'date'", ("triggers", i))
                continue
            add(Symbol(f"trigger:{i}", "trigger", trigger.date, ("triggers", i, "date")), False)
        if trigger.kind.value == "life_event" and trigger.dataset not in c.view.datasets():
            c.issue(
                f"life_event dataset must be one of: {', '.join(c.view.datasets())}",
                ("triggers", i, "dataset"),
            )
    if doc.subject.kind.value == "child" and not doc.subject.payee:
        c.issue("a child policy names its payee: [mother_key, father_key]", ("subject",))
    if doc.subject.kind.value != "child" and doc.subject.payee:
        c.issue("payee is only for child policies", ("subject", "payee"))
    return symbols


def _clash(v: SubjectView, name: str, symbols: dict[str, Symbol]) -> str | None:
    if name in symbols:
        return "is defined twice"
    if name in v.fields or name in v.relations:
        return f"is a {v.kind} field or related dataset"
    if name in RESERVED:
        return "is reserved"
    return None


def _tables(c: _Compiler) -> dict[str, TableSymbol]:
    from eligibility.policy.table_compile import build_table

    tables: dict[str, TableSymbol] = {}
    for name, table in c.doc.decision_tables.items():
        path: Path = ("decision_tables", name)
        if (
            not name.isidentifier()
            or name.startswith("_")
            or name in ("param", "as_of")
            or (name in c.view.fields)
        ):
            c.issue(f"table name {name!r} is not allowed", path)
            continue
        built = build_table(c, name, table, path)
        if built is not None:
            tables[name] = built
            for out_name, out_type, _label in built.outputs:
                c.scope.named[f"{name}.{out_name}"] = out_type
    return tables


def _order(c: _Compiler, symbols: dict[str, Symbol], tables: dict[str, TableSymbol]) -> list[str]:
    graph: dict[str, set[str]] = {}
    known = set(symbols) | {f"{t_}.{o}" for t_, tb in tables.items() for o, _, _ in tb.outputs}

    def owner(ref: str) -> str:
        return ref.split(".", 1)[0] if ref not in symbols else ref

    for name, symbol in symbols.items():
        graph[name] = {owner(r) for r in references(symbol.node) if r in known}
    for name, table in tables.items():
        nodes = [i.node for i in table.inputs] + [n for row in table.row_outputs for n in row]
        nodes += table.default or []
        graph[name] = {owner(r) for n in nodes for r in references(n) if r in known}
    try:
        return list(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as error:
        cycle = error.args[1]
        first = cycle[0]
        path = symbols[first].path if first in symbols else ("decision_tables", first)
        c.issue(f"circular definition: {' → '.join(cycle)}", path)
        return []


def _check_all(
    c: _Compiler, symbols: dict[str, Symbol], tables: dict[str, TableSymbol], order: list[str]
) -> None:
    from eligibility.policy.table_compile import check_table

    failed: set[str] = set()  # a name whose dependency failed is skipped, not reported again
    for name in order:
        nodes = (
            [i.node for i in tables[name].inputs] + [n for r in tables[name].row_outputs for n in r]
            if name in tables
            else [symbols[name].node]
        )
        deps = {r if r in symbols else r.split(".", 1)[0] for n in nodes for r in references(n)}
        if deps & failed or any(n is None for n in nodes):
            failed.add(name)
            continue
        before = len(c.issues)
        if name in tables:
            check_table(c, tables[name])
            if len(c.issues) > before:
                failed.add(name)
            continue
        symbol = symbols[name]
        expected = {
            "condition": t.BOOL,
            "eligible": t.BOOL,
            "end": t.BOOL,
        }.get(symbol.kind)
        if name == "benefit:amount":
            expected = t.MONEY
        elif name.startswith("end_date:") or symbol.kind == "trigger":
            expected = t.DATE
        if not c.check(symbol, expected):
            failed.add(name)
        else:
            if name == "benefit:tier" and symbol.type and not symbol.type.is_textual:
                c.issue("benefit tier must be text", symbol.path)
            if (
                name == "benefit:start"
                and symbol.type
                and symbol.type.kind not in (Kind.DATE, Kind.PERIOD)
            ):
                c.issue("benefit start must be a date or a period", symbol.path)
            if symbol.kind in ("definition", "condition") and symbol.type is not None:
                c.scope.named[name] = symbol.type
