"""``search``: keep the results its terms match (spl-semantics.md §2, in compile/search.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stagehunt.compile.commands.registry import transforms
from stagehunt.compile.search import SearchCompiler
from stagehunt.spl import ast

if TYPE_CHECKING:
    from stagehunt.compile.compiler import Compiler
    from stagehunt.compile.relation import Relation


@transforms(ast.SearchCmd, streaming=True)
def search(c: Compiler, rel: Relation, cmd: ast.SearchCmd) -> Relation:
    if cmd.expr is None:
        return rel
    pred = SearchCompiler(rel, c.query, c.now).compile(cmd.expr)
    return c.b.project(rel, [], where=pred)
