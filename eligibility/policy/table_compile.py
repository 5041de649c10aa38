"""Decision tables inside a policy: building them from the document, checking their inputs,
cells and outputs in the policy's scope, reporting analysis findings with the row's position,
and the Polars expression of each output (``when(row 1).then(...).when(row 2)...``)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

import polars as pl

from eligibility.expr.errors import ExprError, Pos
from eligibility.expr.nodes import Literal, Node
from eligibility.expr.parser import parse
from eligibility.expr.types import Kind
from eligibility.policy.model import DecisionTable, HitPolicy
from eligibility.policy.params import PARAM_TYPES
from eligibility.policy.source import Path
from eligibility.policy.tables import analyse, cell_test, parse_cell

if TYPE_CHECKING:
    from eligibility.compiler import ExprCompiler
    from eligibility.policy.compile import TableSymbol, _Compiler


def _output_node(c: _Compiler, raw: object, kind: Kind, path: Path) -> Node | None:
    """A literal output cell becomes a Literal node; expression text is parsed."""
    pos = Pos(1, 1)
    if raw is None:
        return Literal(pos, 0, 0, value=None)  # type: ignore[arg-type]
    if isinstance(raw, str):
        text = raw.strip()
        if text.startswith("="):
            text = text[1:]
        elif kind in (Kind.STRING, Kind.ENUM):
            return Literal(pos, 0, 0, value=raw)
        try:
            return parse(text)
        except ExprError as error:
            c.expr_issue(error, text, path)
            return None
    if isinstance(raw, float):
        from decimal import Decimal

        return Literal(pos, 0, 0, value=Decimal(str(raw)))
    if isinstance(raw, bool | int | date):
        return Literal(pos, 0, 0, value=raw)
    c.issue(f"unsupported output value {raw!r}", path)
    return None


def build_table(c: _Compiler, name: str, table: DecisionTable, path: Path) -> TableSymbol | None:
    from eligibility.policy.compile import Symbol, TableSymbol

    inputs = []
    for i, spec in enumerate(table.inputs):
        symbol = Symbol(
            f"{name}.{spec.name}",
            "table_input",
            spec.expr,
            (*path, "inputs", i, "expr"),
            label=spec.label or spec.name,
        )
        c.parse(symbol)
        inputs.append(symbol)
    outputs = [(o.name, PARAM_TYPES[o.type], o.label or o.name) for o in table.outputs]
    ok = True
    row_outputs: list[list[Node]] = []
    for r, rule in enumerate(table.rules):
        if len(rule.when) != len(inputs):
            c.issue(
                f"rule {r + 1} has {len(rule.when)} input cells, "
                f"the table has {len(inputs)} inputs",
                (*path, "rules", r, "when"),
            )
            ok = False
        if len(rule.then) != len(outputs):
            c.issue(
                f"rule {r + 1} has {len(rule.then)} output cells, the table has {len(outputs)} "
                "outputs",
                (*path, "rules", r, "then"),
            )
            ok = False
            continue
        row = [
            _output_node(c, raw, outputs[k][1].kind, (*path, "rules", r, "then", k))
            for k, raw in enumerate(rule.then)
        ]
        row_outputs.append([n for n in row if n is not None])
    default = None
    if table.default is not None:
        if len(table.default) != len(outputs):
            c.issue("default has the wrong number of outputs", (*path, "default"))
            ok = False
        else:
            nodes = [
                _output_node(c, raw, outputs[k][1].kind, (*path, "default", k))
                for k, raw in enumerate(table.default)
            ]
            default = [n for n in nodes if n is not None]
    if not ok:
        return None
    return TableSymbol(
        name, path, table.hit_policy.value, inputs, outputs, [], row_outputs, default
    )


def check_table(c: _Compiler, table: TableSymbol) -> None:
    from eligibility.expr.checker import check

    types = []
    for symbol in table.inputs:
        if not c.check(symbol, None) or symbol.type is None:
            return
        if symbol.type.kind in (Kind.LIST, Kind.PERIODS):
            c.issue("a table input must be a single value", symbol.path)
            return
        types.append(symbol.type)
        _merge(table, symbol.usage)
    doc_rules = c.doc.decision_tables[table.name].rules
    cells = []
    for r, rule in enumerate(doc_rules):
        row = []
        for i, raw in enumerate(rule.when):
            cell_path = (*table.path, "rules", r, "when", i)
            try:
                row.append(parse_cell(raw, types[i]))
            except ExprError as error:
                c.expr_issue(error, str(raw), cell_path)
        if len(row) != len(types):
            return
        cells.append(row)
    table.cells = cells
    for r, row_nodes in enumerate(
        [*table.row_outputs, *([table.default] if table.default else [])]
    ):
        is_default = r == len(table.row_outputs)
        for k, node in enumerate(row_nodes):
            _, out_type, _ = table.outputs[k]
            out_path = (
                (*table.path, "default", k) if is_default else (*table.path, "rules", r, "then", k)
            )
            if isinstance(node, Literal) and node.value is None:
                node.type = out_type
                continue
            try:
                _, usage = check(node, c.scope, out_type)
                _merge(table, usage)
            except ExprError as error:
                c.expr_issue(error, str(_raw_output(c, table, r, k, is_default)), out_path)
    labels = [i.label for i in table.inputs]
    for finding in analyse(
        cells, types, labels, table.hit_policy == HitPolicy.UNIQUE.value, table.default is not None
    ):
        where = (
            (*table.path, "rules", finding.row)
            if finding.row is not None
            else (*table.path, "rules")
        )
        c.issue(f"decision table {table.name}: {finding.message}", where)


def _raw_output(c: _Compiler, table: TableSymbol, r: int, k: int, is_default: bool) -> object:
    spec = c.doc.decision_tables[table.name]
    return (spec.default or [])[k] if is_default else spec.rules[r].then[k]


def _merge(table: TableSymbol, usage: object) -> None:
    from eligibility.expr.checker import Usage

    assert isinstance(usage, Usage)
    table.usage.named |= usage.named
    table.usage.params |= usage.params
    table.usage.fields |= usage.fields
    for rel, fields in usage.related.items():
        table.usage.related.setdefault(rel, set()).update(fields)
    table.usage.aggregates.extend(usage.aggregates)


def table_outputs(table: TableSymbol, compiler: ExprCompiler) -> dict[str, pl.Expr]:
    """Polars expression of every output, first matching row wins (unique tables are checked
    to have at most one matching row)."""
    values = [compiler.compile(symbol.node) for symbol in table.inputs if symbol.node is not None]
    types = [symbol.type for symbol in table.inputs]
    matches = []
    for row in table.cells:
        test = pl.lit(True)
        for cell, value, type_ in zip(row, values, types, strict=True):
            assert type_ is not None
            test = test & cell_test(cell, value, type_)
        matches.append(test.fill_null(False))
    out: dict[str, pl.Expr] = {}
    for k, (name, out_type, _) in enumerate(table.outputs):
        chain: Any = None
        for match, row_nodes in zip(matches, table.row_outputs, strict=True):
            value = compiler.cast_to(row_nodes[k], out_type)
            chain = pl.when(match).then(value) if chain is None else chain.when(match).then(value)
        default = compiler.cast_to(table.default[k], out_type) if table.default else pl.lit(None)
        expr = chain.otherwise(default) if chain is not None else default
        from eligibility.views import polars_dtype

        out[name] = expr.cast(polars_dtype(out_type))
    return out
