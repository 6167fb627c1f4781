"""``| multisearch [search ...] [search ...]``: each subsearch on its own copy of the events,
then their union in search order (compile/multisearch.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stagehunt.compile import multisearch as merging
from stagehunt.compile.commands.registry import generates, is_streaming
from stagehunt.compile.relation import Relation
from stagehunt.spl import ast
from stagehunt.spl.errors import SplUnsupportedError

if TYPE_CHECKING:
    from stagehunt.compile.compiler import Compiler


@generates(ast.MultisearchCmd)
def multisearch(c: Compiler, cmd: ast.MultisearchCmd) -> Relation:
    branches: list[Relation] = []
    for pipeline in cmd.pipelines:
        rel = c.base()
        for sub in pipeline.commands:
            if not is_streaming(sub):
                raise SplUnsupportedError(
                    "multisearch subsearches may only hold streaming commands "
                    "(search, where, eval, rename, fields, regex, rex, bin, ...)",
                    sub.pos,
                    c.query,
                )
            rel = c.command(rel, sub)
        branches.append(rel)
    return merging.union(c.b, branches)
