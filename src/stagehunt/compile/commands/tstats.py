"""``tstats``: stats over a data model dataset's rows, or the events' indexed fields
(docs/cim.md T1-T12; the aggregations are stats', compile/stats.py).

The rows are built as the data model builds them (compile/datamodel.py), filtered by the
WHERE terms with search semantics; each BY field becomes a key column (``_time`` floored
to the span, a null filled with ``fillnull_value`` or the row dropped) and stats groups
by the keys, which take back the names the user wrote (``Processes.dest``).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from sqlglot import exp

from stagehunt.compile import datamodel
from stagehunt.compile import sqlfn as q
from stagehunt.compile.binning import _floor_months, _floor_span
from stagehunt.compile.commands.registry import generates
from stagehunt.compile.eval import ExprCompiler
from stagehunt.compile.kinds import Kind, Typed
from stagehunt.compile.reads import names_in
from stagehunt.compile.relation import Field, Relation, alias_for
from stagehunt.compile.search import SearchCompiler
from stagehunt.compile.stats import StatsCompiler
from stagehunt.spl import ast

if TYPE_CHECKING:
    from stagehunt.compile.compiler import Compiler

_KEY = "__tstats_by{}"


@generates(ast.TstatsCmd)
def tstats(c: Compiler, cmd: ast.TstatsCmd) -> Relation:
    if cmd.datamodel is None:
        if cmd.nodename is not None:
            raise c.error("nodename= needs FROM datamodel=", cmd.pos)
        rel = indexed_rows(c)
    else:
        knowledge = c.data_knowledge()
        model, obj = datamodel.resolve(c, knowledge, cmd.datamodel, cmd.datamodel_pos, cmd.nodename)
        rel = datamodel.object_rows(c, knowledge, model, obj)
    used = names_in(cmd)
    if used is not None:  # carry only the fields tstats reads (a dataset has dozens)
        rel = replace(rel, fields=tuple(f for f in rel.fields if f.name in used | {"_time"}))
    if cmd.where is not None:
        rel = c.b.project(rel, [], where=SearchCompiler(rel, c.query, c.now).compile(cmd.where))
    rel, keys = _keys(c, rel, cmd)
    stats = ast.StatsCmd("stats", cmd.aggregations, tuple(keys), cmd.pos)
    out = StatsCompiler(c.b, c.query, c.now).stats(rel, stats)
    names = dict(zip(keys, cmd.by, strict=True))
    return replace(
        out, fields=tuple(replace(f, name=names.get(f.name, f.name)) for f in out.fields)
    )


def indexed_rows(c: Compiler) -> Relation:
    """tstats without a data model reads the indexed fields only: ``_time``, ``host``,
    ``source``, ``sourcetype``, ``index`` (T11)."""
    rel = c.events()
    taken = {h.lower() for h in rel.hidden}
    fields: list[Field] = []
    select: list[exp.Expression] = []
    for name in datamodel.BASE_FIELDS:
        value = rel.typed(name)
        if value.is_null:
            continue
        alias = alias_for(name, taken)
        fields.append(Field(name, alias, value.kind))
        select.append(q.alias(value.sql, q.ident(alias)))
    select += [q.col(h) for h in rel.hidden]
    source = c.b.add(q.select(*select).from_(exp.to_identifier(rel.source), copy=False))
    return replace(rel, source=source, fields=tuple(fields), pinned=frozenset())


def _keys(c: Compiler, rel: Relation, cmd: ast.TstatsCmd) -> tuple[Relation, list[str]]:
    """One key column per BY field: ``_time`` floored to the span (T6); a null filled with
    ``fillnull_value`` (T5; without it stats drops the row, 6.3). Aggregations still see
    the fields as they are."""
    strings = ExprCompiler(rel, c.query, c.now)
    keys: list[str] = []
    assignments: list[tuple[str, Typed]] = []
    for i, name in enumerate(cmd.by):
        key = _KEY.format(i)
        keys.append(key)
        value = rel.typed(name)
        if name == "_time" and (cmd.span or cmd.span_months) and not value.is_null:
            number = strings.number(value)
            floored = (
                _floor_months(number, cmd.span_months)
                if cmd.span_months
                else _floor_span(number, cmd.span)
            )
            value = Typed(floored, Kind.NUM)
        # every stored event has a _time, so fillnull_value never applies to it: filling
        # would only turn the (floored) time into a string, where Splunk keeps a number
        if cmd.fillnull_value is not None and name != "_time":
            value = _filled(strings, value, cmd.fillnull_value)
        assignments.append((key, value))
    return c.b.project(rel, assignments), keys


def _filled(strings: ExprCompiler, value: Typed, fill: str) -> Typed:
    """The value, or ``fill`` where it is null (a field no row has is ``fill`` throughout)."""
    if value.is_null:
        return Typed(q.string(fill), Kind.STR)
    if value.kind is Kind.MV:
        return Typed(q.coalesce(value.sql, exp.Array(expressions=[q.string(fill)])), Kind.MV)
    return Typed(q.coalesce(strings.string(value), q.string(fill)), Kind.STR)
