"""``eval``: assignments left to right, later ones see earlier ones (3.13); a null result
removes the field (3.10)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stagehunt.compile.commands.registry import transforms
from stagehunt.compile.eval import ExprCompiler
from stagehunt.spl import ast

if TYPE_CHECKING:
    from stagehunt.compile.compiler import Compiler
    from stagehunt.compile.relation import Relation


@transforms(ast.EvalCmd, streaming=True)
def eval_(c: Compiler, rel: Relation, cmd: ast.EvalCmd) -> Relation:
    for a in cmd.assignments:  # one CTE each
        value = ExprCompiler(rel, c.query, c.now).value(a.expr)
        rel = c.b.project(rel, [(a.field, value)])
    return rel
