"""A subsearch inside a search (``search ... [ search ... | fields a b ]``): a filter.

Splunk runs the subsearch first and pastes its results into the search through
``format``: each row becomes ``(a="v1" AND b="v2")``, rows are OR-ed, and a multivalue
value becomes ``(a="x" OR a="y")`` (S2). Pasting text would let data become syntax, so the
filter is compiled as a semi-join on the values instead, with the meaning the pasted
``field="value"`` terms have (rule 2.2: whole value, case-insensitive, ``*`` a wildcard):
a result passes when some subsearch row has every one of its fields matched by the
result's field. Fields starting with ``_`` take no part (S2); an empty subsearch matches
nothing (S3). The result is a hidden Boolean column the search predicate reads.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from sqlglot import exp

from stagehunt import semantics
from stagehunt.compile import sqlfn as q
from stagehunt.compile.combine import limit
from stagehunt.compile.kinds import Kind
from stagehunt.compile.ordering import row_number
from stagehunt.compile.relation import Field, Relation
from stagehunt.spl import ast
from stagehunt.spl.errors import SplUnsupportedError

if TYPE_CHECKING:
    from stagehunt.compile.compiler import Compiler

ROW = "__sr"


def subsearches(expr: ast.SearchExpr | None) -> list[ast.Subsearch]:
    """Every subsearch in a search expression, in text order."""
    if expr is None:
        return []
    if isinstance(expr, ast.Subsearch):
        return [expr]
    if isinstance(expr, ast.SearchAnd | ast.SearchOr):
        return [s for item in expr.items for s in subsearches(item)]
    if isinstance(expr, ast.SearchNot):
        return subsearches(expr.item)
    return []


def like_pattern(value: exp.Expression) -> exp.Expression:
    """A search value (``*`` wildcards) as a LIKE pattern with ``!`` escaping, built at
    run time since the value is data."""
    pattern = q.fn("lower", value)
    for old, new in (("!", "!!"), ("%", "!%"), ("_", "!_"), ("*", "%")):
        pattern = q.fn("replace", pattern, q.string(old), q.string(new))
    return pattern


def _matches(field: Field | None, value: exp.Expression) -> exp.Expression:
    """The result's field matches the subsearch value as ``field="value"`` would."""
    if field is None or field.kind is Kind.NULL:
        return exp.false()

    def glob(v: exp.Expression) -> exp.Expression:
        like = exp.Like(this=q.fn("lower", v), expression=like_pattern(value))
        return exp.Escape(this=like, expression=q.string("!"))

    own = q.col(field.alias, "m")
    if field.kind is Kind.MV:
        hits = q.list_len(q.fn("list_filter", own, q.lam(glob(q.element()))))
        return q.coalesce(exp.GT(this=hits, expression=exp.Literal.number(0)), exp.false())
    text = q.number_to_string(own) if field.kind is Kind.NUM else own
    return q.coalesce(glob(text), exp.false())


def filter_column(c: Compiler, rel: Relation, node: ast.Subsearch, column: str) -> Relation:
    """``rel`` with a hidden Boolean ``column``: whether the subsearch's rows match."""
    sub = limit(c.b, c.pipeline(node.pipeline), semantics.SUBSEARCH_MAXOUT)
    for f in sub.fields:
        if f.name in ("search", "query"):
            raise SplUnsupportedError(
                f"a subsearch field named '{f.name}' is pasted into the search as text; "
                "that is not supported (name the fields to match instead)",
                node.pos,
                c.query,
            )
    fields = [f for f in sub.fields if not f.name.startswith("_") and f.kind is not Kind.NULL]
    # one row per combination of a multivalue field's values: (a=x OR a=y) AND b=z is
    # (a=x AND b=z) OR (a=y AND b=z), and rows are OR-ed anyway
    values: dict[str, exp.Expression] = {}
    for f in fields:
        if f.kind is Kind.MV:
            nonempty = exp.GT(this=q.list_len(q.col(f.alias)), expression=exp.Literal.number(0))
            listed = q.case(
                (nonempty, q.col(f.alias)), default=exp.Array(expressions=[q.null_str()])
            )
            values[f.name] = exp.Unnest(expressions=[listed])
        elif f.kind is Kind.NUM:
            values[f.name] = q.number_to_string(q.col(f.alias))
        else:
            values[f.name] = q.col(f.alias)
    names = [f"__sv{i}" for i in range(len(fields))]
    if fields:
        rows = q.select(
            *[q.alias(values[f.name], q.ident(n)) for f, n in zip(fields, names, strict=True)]
        ).from_(exp.to_identifier(sub.source), copy=False)
    else:  # no field to match on: no row can match
        rows = q.select(q.alias(q.null_str(), q.ident("__sv"))).where(exp.false())
    rows_name = c.b.add(rows)
    main = c.b.project(rel, [], extra_hidden=[(ROW, row_number(list(rel.order)))])
    conds: list[exp.Expression] = []
    for f, n in zip(fields, names, strict=True):
        value = q.col(n, "s")
        conds.append(exp.or_(q.is_null(value), _matches(main.get(f.name), value)))
    present = [q.not_null(q.col(n, "s")) for n in names] or [exp.false()]
    conds.append(exp.paren(q.or_(*present), copy=False))
    hits = (
        q.select(q.alias(q.col(ROW, "m"), q.ident(ROW)))
        .from_(_table(main.source, "m"), copy=False)
        .join(_table(rows_name, "s"), on=q.and_(*conds))
        .group_by(q.col(ROW, "m"))
    )
    hits_name = c.b.add(hits)
    select = [q.alias(q.col(f.alias, "m"), q.ident(f.alias)) for f in main.fields]
    select += [q.alias(q.col(h, "m"), q.ident(h)) for h in main.hidden if h != ROW]
    select.append(q.alias(q.not_null(q.col(ROW, "h")), q.ident(column)))
    query = (
        q.select(*select)
        .from_(_table(main.source, "m"), copy=False)
        .join(
            _table(hits_name, "h"),
            on=exp.EQ(this=q.col(ROW, "m"), expression=q.col(ROW, "h")),
            join_type="left",
        )
    )
    hidden = (*[h for h in main.hidden if h != ROW], column)
    return replace(main, source=c.b.add(query), hidden=hidden)


def _table(name: str, alias: str) -> exp.Table:
    return exp.Table(this=exp.to_identifier(name), alias=exp.TableAlias(this=q.ident(alias)))
