"""``dedup [N] f ...``: the first N results of each combination of values, in result order;
results lacking a field are dropped unless ``keepempty=true``; ``sortby`` reorders (8)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from sqlglot import exp

from stagehunt.compile import sqlfn as q
from stagehunt.compile.commands.registry import transforms
from stagehunt.compile.ordering import RN, renumber, row_number, sort_order
from stagehunt.spl import ast
from stagehunt.spl.errors import SplUnsupportedError

if TYPE_CHECKING:
    from stagehunt.compile.compiler import Compiler
    from stagehunt.compile.relation import Relation


@transforms(ast.DedupCmd)
def dedup(c: Compiler, rel: Relation, cmd: ast.DedupCmd) -> Relation:
    if cmd.consecutive or cmd.keepevents:
        raise SplUnsupportedError(
            "dedup consecutive=/keepevents= is not supported", cmd.pos, c.query
        )
    values = [rel.typed(f) for f in cmd.fields]
    if any(v.is_null for v in values) and not cmd.keepempty:
        return c.b.project(rel, [], where=exp.false())
    partition = [v.sql for v in values if not v.is_null]
    numbered = c.b.project(rel, [], extra_hidden=[(RN, row_number(list(rel.order), partition))])
    keep: exp.Expression = exp.LTE(this=q.col(RN), expression=exp.Literal.number(cmd.count))
    # a result lacking any dedup field is "empty" (kept only with keepempty=true)
    present = (
        exp.false()
        if any(v.is_null for v in values)
        else q.and_(*[q.not_null(v.sql) for v in values])
    )
    if cmd.keepempty:
        keep = exp.or_(exp.Not(this=exp.paren(present)), keep)
    else:
        keep = exp.and_(present, keep)
    select = [q.col(f.alias) for f in numbered.fields] + [
        q.col(h) for h in numbered.hidden if h != RN
    ]
    query = q.select(*select).from_(exp.to_identifier(numbered.source), copy=False).where(keep)
    rel = replace(
        numbered, source=c.b.add(query), hidden=tuple(h for h in numbered.hidden if h != RN)
    )
    if cmd.sortby:
        rel = renumber(c.b, rel, sort_order(rel, cmd.sortby), None)
    return rel
