"""``outputlookup``: the results pass through unchanged; once the statement has run,
the results as they are at this point are written to a CSV in the lookups folder
(docs/commands-combining.md, O1-O4). The rows come from a second statement over the same
CTEs (this point of the pipeline), run by ``backends/base.py``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from stagehunt.compile import sqlfn as q
from stagehunt.compile.commands.registry import transforms
from stagehunt.compile.outputs import LookupOutput
from stagehunt.compile.relation import parenthesize
from stagehunt.lookups import LookupError_
from stagehunt.spl import ast
from stagehunt.spl.errors import SplSemanticError

if TYPE_CHECKING:
    from stagehunt.compile.compiler import Compiler
    from stagehunt.compile.relation import Relation


@transforms(ast.OutputlookupCmd)
def outputlookup(c: Compiler, rel: Relation, cmd: ast.OutputlookupCmd) -> Relation:
    try:
        path = c.lookups.output_path(cmd.table)
    except LookupError_ as err:
        raise SplSemanticError(str(err), cmd.pos, c.query) from None
    select = q.select(
        *[q.alias(q.col(f.alias), q.ident(f.name)) for f in rel.fields]
        or [q.alias(exp.Null(), q.ident("__empty"))]
    ).from_(exp.to_identifier(rel.source), copy=False)
    if rel.order:
        select = select.order_by(*[o.copy() for o in rel.order])
    if cmd.max:
        select = select.limit(cmd.max)
    for name, cte in c.b.ctes:  # the CTEs so far: later commands do not change them
        select = select.with_(exp.to_identifier(name), as_=cte.copy(), copy=False)
    c.outputs.append(
        LookupOutput(
            cmd.table,
            path,
            parenthesize(select),
            tuple(f.name for f in rel.fields),
            cmd.append,
            cmd.create_empty,
            cmd.override_if_empty,
        )
    )
    return rel
