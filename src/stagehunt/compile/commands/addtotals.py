"""``addtotals``: each result's sum of its numeric fields (row) and a summary result with
each field's sum (col) (docs/commands.md, C-addtotals-1..5; Search Reference, addtotals)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from sqlglot import exp

from stagehunt.compile import sqlfn as q
from stagehunt.compile import wildcards
from stagehunt.compile.commands.registry import transforms
from stagehunt.compile.eval import ExprCompiler
from stagehunt.compile.kinds import Kind, Typed
from stagehunt.compile.ordering import ordered, renumber
from stagehunt.compile.relation import SEQ
from stagehunt.spl import ast

if TYPE_CHECKING:
    from stagehunt.compile.compiler import Compiler
    from stagehunt.compile.relation import Relation


def _numeric(c: ExprCompiler, value: Typed) -> exp.Expression:
    """The sum of a field's numeric values in one result, 0 for none (C-addtotals-2)."""
    if value.kind is Kind.NUM:
        return q.coalesce(value.sql, q.number(0))
    if value.kind is Kind.MV:
        numbers = q.fn("list_transform", value.sql, q.lam(q.to_number(q.element())))
        return q.coalesce(q.fn("list_sum", numbers), q.number(0))
    return q.coalesce(q.to_number(c.string(value)), q.number(0))


def _fields(rel: Relation, cmd: ast.AddtotalsCmd) -> list[str]:
    if not cmd.fields:  # C-addtotals-2: every field but the internal ones and the total
        return [n for n in rel.names() if not n.startswith("_") and n != cmd.fieldname]
    names: list[str] = []
    for pattern in cmd.fields:
        names += [n for n in wildcards.expand(rel.names(), pattern) if n not in names]
    return names


@transforms(ast.AddtotalsCmd, streaming=True)
def addtotals(c: Compiler, rel: Relation, cmd: ast.AddtotalsCmd) -> Relation:
    names = _fields(rel, cmd)
    if cmd.row:  # C-addtotals-1
        ec = ExprCompiler(rel, c.query, c.now)
        terms = [_numeric(ec, v) for n in names if not (v := rel.typed(n)).is_null]
        total: exp.Expression = q.number(0)
        for term in terms:
            total = exp.Add(this=total, expression=term)
        rel = c.b.project(rel, [(cmd.fieldname, Typed(total, Kind.NUM))])
        if cmd.fieldname not in names:  # the column totals include the row totals
            names.append(cmd.fieldname)
    if not cmd.col:
        return rel
    return _column_totals(c, rel, cmd, names)


def _column_totals(c: Compiler, rel: Relation, cmd: ast.AddtotalsCmd, names: list[str]) -> Relation:
    """C-addtotals-3/4: a last result holding each field's sum over the results (numeric
    values only), and ``label`` in ``labelfield``."""
    numbered = renumber(c.b, rel, list(rel.order), None)
    ec = ExprCompiler(numbered, c.query, c.now)
    label = cmd.labelfield
    if label is not None and numbered.get(label) is None:
        numbered = c.b.project(numbered, [(label, Typed(q.null_str(), Kind.STR))])
        ec = ExprCompiler(numbered, c.query, c.now)
    summary: list[exp.Expression] = []
    for f in numbered.fields:
        value = numbered.typed(f.name)
        if f.name == label:
            text = q.string(cmd.label)
            out: exp.Expression = text if f.kind is not Kind.MV else exp.Array(expressions=[text])
            if f.kind is Kind.NUM:
                raise c.error(f"labelfield '{label}' holds numbers, not a label", cmd.pos)
        elif f.name in names and not value.is_null:
            total = q.fn("sum", _numeric(ec, value))
            if f.kind is Kind.NUM:
                out = total
            elif f.kind is Kind.MV:
                out = exp.Array(expressions=[q.number_to_string(total)])
            else:
                out = q.number_to_string(total)
        else:
            out = q.cast(exp.Null(), _sql_type(f.kind))
        summary.append(q.alias(out, q.ident(f.alias)))
    last = exp.Add(this=q.fn("count", exp.Star()), expression=q.number(1))
    summary.append(q.alias(last, q.ident(SEQ)))
    rows = q.select(*[q.col(f.alias) for f in numbered.fields], q.col(SEQ)).from_(
        exp.to_identifier(numbered.source), copy=False
    )
    totals = q.select(*summary).from_(exp.to_identifier(numbered.source), copy=False)
    source = c.b.add(exp.union(rows, totals, distinct=False))
    return replace(
        numbered,
        source=source,
        hidden=(SEQ,),
        order=(ordered(q.col(SEQ), False),),
        events=False,
    )


def _sql_type(kind: Kind) -> str:
    return {Kind.NUM: "DOUBLE", Kind.MV: "VARCHAR[]"}.get(kind, "VARCHAR")
