"""``mvexpand``: one result per value of a multivalue field, in value order, each a copy of
its event (docs/commands.md, C-mvexpand-1..3; Search Reference, mvexpand)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from sqlglot import exp

from stagehunt.compile import sqlfn as q
from stagehunt.compile.commands.registry import transforms
from stagehunt.compile.kinds import Kind, Typed
from stagehunt.compile.ordering import ordered
from stagehunt.spl import ast

if TYPE_CHECKING:
    from stagehunt.compile.compiler import Compiler
    from stagehunt.compile.relation import Relation


@transforms(ast.MvexpandCmd, streaming=True)
def mvexpand(c: Compiler, rel: Relation, cmd: ast.MvexpandCmd) -> Relation:
    value = rel.typed(cmd.field)
    if value.is_null:
        # C-mvexpand-3: results without the field are dropped (semantics.MVEXPAND_DROPS_MISSING)
        return c.b.project(rel, [], where=exp.false())
    if value.kind is not Kind.MV:
        return c.b.project(rel, [], where=q.not_null(value.sql))
    values = value.sql
    if cmd.limit > 0:  # C-mvexpand-2
        values = q.fn("list_slice", values, q.number(1), q.number(cmd.limit))
    index = f"__mvx{len(c.b.ctes)}"
    series = q.fn("generate_series", q.number(1), q.list_len(values))
    numbered = c.b.project(rel, [], extra_hidden=[(index, exp.Unnest(expressions=[series]))])
    item = q.fn("list_extract", values, q.col(index))
    expanded = c.b.project(numbered, [(cmd.field, Typed(item, Kind.STR))])
    # C-mvexpand-1: the copies of one event follow each other in value order
    return replace(expanded, order=(*expanded.order, ordered(q.col(index), False)))
