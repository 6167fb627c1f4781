"""``stats`` and ``eventstats`` (§6; the aggregations are in compile/stats.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stagehunt.compile.commands.registry import transforms
from stagehunt.compile.stats import StatsCompiler
from stagehunt.spl import ast

if TYPE_CHECKING:
    from stagehunt.compile.compiler import Compiler
    from stagehunt.compile.relation import Relation


@transforms(ast.StatsCmd)
def stats(c: Compiler, rel: Relation, cmd: ast.StatsCmd) -> Relation:
    compiler = StatsCompiler(c.b, c.query, c.now)
    if cmd.name == "eventstats":
        return compiler.eventstats(rel, cmd)
    return compiler.stats(rel, cmd)
