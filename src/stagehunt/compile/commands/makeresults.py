"""``| makeresults [count=N]``: N results with only ``_time`` (the search's start time)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from stagehunt.compile import sqlfn as q
from stagehunt.compile.commands.registry import generates
from stagehunt.compile.kinds import Kind
from stagehunt.compile.ordering import ordered
from stagehunt.compile.relation import SEQ, Field, Relation
from stagehunt.spl import ast

if TYPE_CHECKING:
    from stagehunt.compile.compiler import Compiler


@generates(ast.MakeresultsCmd)
def makeresults(c: Compiler, cmd: ast.MakeresultsCmd) -> Relation:
    now = q.number(float(int(c.now)))
    select = q.select(
        q.alias(q.cast(now, "DOUBLE"), q.ident("_time")),
        q.alias(q.col("range"), q.ident(SEQ)),
    ).from_(exp.Anonymous(this="range", expressions=[exp.Literal.number(cmd.count)]), copy=False)
    source = c.b.add(select)
    return Relation(
        source, (Field("_time", "_time", Kind.NUM),), (ordered(q.col(SEQ), False),), (SEQ,)
    )
