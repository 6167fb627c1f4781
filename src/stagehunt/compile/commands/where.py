"""``where``: keep results where the eval expression is TRUE; FALSE and NULL drop (§5)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stagehunt.compile.commands.registry import transforms
from stagehunt.compile.eval import ExprCompiler
from stagehunt.compile.ordering import filter_before_numbering
from stagehunt.spl import ast

if TYPE_CHECKING:
    from stagehunt.compile.compiler import Compiler
    from stagehunt.compile.relation import Relation


@transforms(ast.WhereCmd, streaming=True)
def where(c: Compiler, rel: Relation, cmd: ast.WhereCmd) -> Relation:
    cond = ExprCompiler(rel, c.query, c.now).condition(cmd.expr, "the where expression")
    numbering = rel.renumberable()
    if numbering is not None:  # `stats ... | where`: the groups kept are numbered, not all
        return filter_before_numbering(c.b, rel, numbering, cond)
    return c.b.project(rel, [], where=cond)
