"""``chart`` and ``timechart`` (docs/commands-combining.md, C1-C6).

Without a split-by field they are ``stats`` by the row field (``over x``; timechart:
``_time`` binned by ``span``), timechart then filling the empty buckets between the first
and the last one (C4). With a split-by field Splunk turns its values into columns, whose
names exist only at run time while a SQL statement needs its column list first: the
compiler asks the engine for them (``Compiler.probe``: the series ranked by the sum of
the first function's values, C2), keeps the first ``limit`` (the rest become ``OTHER``,
events without the field ``NULL``), and builds one statement with one column per series
(a pivot by conditional aggregation, which every engine runs).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from sqlglot import exp

from stagehunt.compile import binning
from stagehunt.compile import sqlfn as q
from stagehunt.compile.commands.registry import transforms
from stagehunt.compile.eval import ExprCompiler
from stagehunt.compile.kinds import Kind, Typed
from stagehunt.compile.ordering import ordered, renumber, sort_keys
from stagehunt.compile.relation import SEQ, Field, Relation, alias_for
from stagehunt.compile.stats import StatsCompiler
from stagehunt.spl import ast
from stagehunt.spl.errors import SplUnsupportedError

if TYPE_CHECKING:
    from stagehunt.compile.compiler import Compiler

SERIES = "__series"  # a visible field while stats groups by it; renamed away after
_ZERO_WHEN_EMPTY = {"count", "c", "dc", "distinct_count", "estdc"}


def _stats(c: Compiler, rel: Relation, cmd: ast.ChartCmd, by: tuple[str, ...]) -> Relation:
    node = ast.StatsCmd("stats", cmd.aggregations, by, cmd.pos)
    return StatsCompiler(c.b, c.query, c.now).stats(rel, node)


def _zero(agg: ast.Aggregation) -> bool:
    return agg.func in _ZERO_WHEN_EMPTY


@transforms(ast.ChartCmd)
def chart(c: Compiler, rel: Relation, cmd: ast.ChartCmd) -> Relation:
    if cmd.name == "timechart":
        bucket = ast.BinCmd("_time", "_time", cmd.span, 0, cmd.pos)
        rel = binning.bin_(c.b, rel, bucket, c.query, c.now)
    over = (cmd.over,) if cmd.over else ()
    result = _stats(c, rel, cmd, over) if cmd.by is None else _split(c, rel, cmd, over)
    if cmd.name == "timechart":
        result = _fill_buckets(c, result, cmd)
    return result


def _series_value(c: Compiler, rel: Relation, cmd: ast.ChartCmd) -> Typed:
    """The split-by value as text; events without it are the ``NULL`` series (C3)."""
    assert cmd.by is not None
    value = rel.typed(cmd.by)
    if value.kind is Kind.MV:
        raise SplUnsupportedError(
            f"{cmd.name} by a multivalue field is not supported", cmd.pos, c.query
        )
    if value.is_null:
        return Typed(q.string("NULL"), Kind.STR)
    text = ExprCompiler(rel, c.query, c.now).string(value)
    return Typed(q.coalesce(text, q.string("NULL")), Kind.STR)


def _ranked_series(
    c: Compiler, rel: Relation, cmd: ast.ChartCmd, over: tuple[str, ...]
) -> list[str]:
    """Every series, largest first: the sum over rows of the first function's values
    (C2), ties in byte order. Run on the data now (Compiler.probe)."""
    first = replace(cmd, aggregations=cmd.aggregations[:1])
    cells = _stats(c, rel, first, (*over, SERIES))
    series = cells.get(SERIES)
    value = cells.get(cmd.aggregations[0].alias)
    assert series is not None
    if value is None or value.kind is Kind.NULL:
        total: exp.Expression = exp.Literal.number(0)
    else:
        number = ExprCompiler(cells, c.query, c.now).number(Typed(q.col(value.alias), value.kind))
        total = q.coalesce(exp.Sum(this=number), exp.Literal.number(0))
    select = (
        q.select(q.alias(q.col(series.alias), q.ident("s")))
        .from_(exp.to_identifier(cells.source), copy=False)
        .group_by(q.col(series.alias))
        .order_by(
            exp.Ordered(this=total, desc=True, nulls_first=False),
            exp.Ordered(this=q.col(series.alias)),
        )
    )
    return [str(row[0]) for row in c.probe(select, cmd.name + " ... by", cmd.pos)]


def _split(c: Compiler, rel: Relation, cmd: ast.ChartCmd, over: tuple[str, ...]) -> Relation:
    rel = c.b.project(rel, [(SERIES, _series_value(c, rel, cmd))])
    series = rel.typed(SERIES).sql
    if cmd.by is not None and rel.typed(cmd.by).is_null:
        ranked = ["NULL"]  # no event has the field: one series, no need to look
    else:
        ranked = _ranked_series(c, rel, cmd, over)
    kept = ranked[: cmd.limit] if cmd.limit else ranked
    others = len(kept) < len(ranked) and cmd.useother
    if len(kept) < len(ranked):  # C3: the rest are OTHER, or dropped with useother=false
        listed = [q.string(v) for v in kept] or [q.null_str()]
        named = exp.In(this=series, expressions=listed)
        rest: exp.Expression = q.string("OTHER") if cmd.useother else q.null_str()
        rel = c.b.project(rel, [(SERIES, Typed(q.case((named, series), default=rest), Kind.STR))])
    cells = _stats(c, rel, cmd, (*over, SERIES))
    columns = sorted(v for v in kept if v != "NULL")  # C5: series in byte order,
    columns += [v for v in ("NULL",) if v in kept]  # then NULL, then OTHER
    if others:
        columns.append("OTHER")
    return _pivot(c, cells, cmd, over, columns)


def _pivot(
    c: Compiler, cells: Relation, cmd: ast.ChartCmd, over: tuple[str, ...], columns: list[str]
) -> Relation:
    """One row per row value, one column per series (and function): the cell's value,
    0 for a count where the series has no event (C6)."""
    series = cells.get(SERIES)
    assert series is not None
    taken: set[str] = {SEQ}
    fields: list[Field] = []
    select: list[exp.Expression] = []
    group: list[exp.Expression] = []
    for name in over:
        f = cells.get(name)
        assert f is not None
        alias = alias_for(name, taken)
        fields.append(Field(name, alias, f.kind))
        select.append(q.alias(q.col(f.alias), q.ident(alias)))
        group.append(q.col(f.alias))
    several = len(cmd.aggregations) > 1
    for value in columns:
        for agg in cmd.aggregations:
            cell = cells.get(agg.alias)
            if cell is None or cell.kind is Kind.NULL:
                continue
            name = f"{agg.alias}: {value}" if several else value
            mine = exp.EQ(this=q.col(series.alias), expression=q.string(value))
            picked: exp.Expression = exp.Max(this=q.case((mine, q.col(cell.alias))))
            if _zero(agg):
                picked = q.coalesce(picked, exp.Literal.number(0))
            alias = alias_for(name, taken)
            fields.append(Field(name, alias, cell.kind))
            select.append(q.alias(picked, q.ident(alias)))
    if not group:  # no row field: one row
        select.append(q.alias(exp.Count(this=exp.Star()), q.ident("__n")))
    query = q.select(*select).from_(exp.to_identifier(cells.source), copy=False)
    if group:
        query = query.group_by(*group)
    pivoted = Relation(c.b.add(query), tuple(fields), (), (), events=False)
    order: list[exp.Ordered] = []
    for f in fields[: len(over)]:
        order += sort_keys(Typed(q.col(f.alias), f.kind), False)
    return renumber(c.b, pivoted, order, None)


def _fill_buckets(c: Compiler, rel: Relation, cmd: ast.ChartCmd) -> Relation:
    """timechart: every bucket from the first to the last one, empty ones with 0 for
    counts and null for other functions (C4)."""
    time = rel.get("_time")
    if time is None or time.kind is not Kind.NUM:
        return rel
    step = q.number(cmd.span)
    bounds = q.select(
        q.alias(exp.Min(this=q.col(time.alias)), q.ident("lo")),
        q.alias(exp.Max(this=q.col(time.alias)), q.ident("hi")),
    ).from_(exp.to_identifier(rel.source), copy=False)
    bounds_name = c.b.add(bounds)
    width = exp.Sub(this=q.col("hi"), expression=q.col("lo"))
    last = q.cast(q.fn("floor", exp.Div(this=width, expression=step)), "BIGINT")
    index = exp.GenerateSeries(start=exp.Literal.number(0), end=last)
    slots = q.select(
        q.alias(
            exp.Add(this=q.col("lo"), expression=exp.Mul(this=q.col("__i"), expression=step)),
            q.ident("__slot"),
        )
    ).from_(
        q.select(q.col("lo"), q.alias(exp.Unnest(expressions=[index]), q.ident("__i")))
        .from_(exp.to_identifier(bounds_name))
        .where(q.not_null(q.col("lo")))
        .subquery("b"),
        copy=False,
    )
    slots_name = c.b.add(slots)
    select: list[exp.Expression] = []
    for f in rel.fields:
        value: exp.Expression = q.col(f.alias, "r")
        if f.name == "_time":
            value = q.col("__slot", "t")
        elif _is_count_column(f.name, cmd):
            value = q.coalesce(value, exp.Literal.number(0))
        select.append(q.alias(value, q.ident(f.alias)))
    query = (
        q.select(*select)
        .from_(
            exp.Table(this=exp.to_identifier(slots_name), alias=exp.TableAlias(this=q.ident("t"))),
            copy=False,
        )
        .join(
            exp.Table(this=exp.to_identifier(rel.source), alias=exp.TableAlias(this=q.ident("r"))),
            on=exp.EQ(this=q.col(time.alias, "r"), expression=q.col("__slot", "t")),
            join_type="left",
        )
    )
    filled = Relation(c.b.add(query), rel.fields, (), (), events=False)
    order = [ordered(q.col(time.alias), False)]
    return renumber(c.b, filled, order, None)


def _is_count_column(name: str, cmd: ast.ChartCmd) -> bool:
    """Whether a timechart output column holds a count (0 in an empty bucket, C6)."""
    for agg in cmd.aggregations:
        if not _zero(agg):
            continue
        if cmd.by is None and name == agg.alias:
            return True
        if cmd.by is not None and (len(cmd.aggregations) == 1 or name.startswith(agg.alias + ": ")):
            return True
    return False
