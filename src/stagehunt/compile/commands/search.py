"""``search``: keep the results its terms match (spl-semantics.md §2, in compile/search.py);
a subsearch among the terms is a filter on its rows' values (compile/subsearch.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stagehunt.compile import subsearch
from stagehunt.compile.combine import drop_hidden
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
    # each subsearch becomes a hidden Boolean column first (compile/subsearch.py)
    columns: dict[int, str] = {}
    for i, node in enumerate(subsearch.subsearches(cmd.expr)):
        columns[node.pos] = f"__ss{i}"
        rel = subsearch.filter_column(c, rel, node, columns[node.pos])
    pred = SearchCompiler(rel, c.query, c.now, subsearches=columns).compile(cmd.expr)
    rel = c.b.project(rel, [], where=pred)
    if columns:
        rel = drop_hidden(c.b, rel, set(columns.values()))
    return rel
