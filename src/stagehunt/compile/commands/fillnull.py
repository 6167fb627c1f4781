"""``fillnull [value=v] [f ...]``: null values become ``v`` (default ``0``); with no field
list, every field but the internal ones (8)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from stagehunt.compile import sqlfn as q
from stagehunt.compile.commands.registry import transforms
from stagehunt.compile.kinds import Kind, Typed
from stagehunt.spl import ast

if TYPE_CHECKING:
    from stagehunt.compile.compiler import Compiler
    from stagehunt.compile.relation import Relation


@transforms(ast.FillnullCmd, streaming=True)
def fillnull(c: Compiler, rel: Relation, cmd: ast.FillnullCmd) -> Relation:
    names = list(cmd.fields) or [f.name for f in rel.fields if not f.name.startswith("_")]
    value = cmd.value
    assignments: list[tuple[str, Typed]] = []
    for name in names:
        t = rel.typed(name)
        if t.kind is Kind.NUM and q.looks_numeric(value):
            filled = Typed(q.coalesce(t.sql, q.number(float(value))), Kind.NUM)
        elif t.kind is Kind.MV:
            filled = Typed(q.coalesce(t.sql, exp.Array(expressions=[q.string(value)])), Kind.MV)
        elif t.is_null:
            filled = Typed(q.string(value), Kind.STR)
        else:
            as_str = t.sql if t.kind is Kind.STR else q.number_to_string(t.sql)
            filled = Typed(q.coalesce(as_str, q.string(value)), Kind.STR)
        assignments.append((name, filled))
    return c.b.project(rel, assignments)
