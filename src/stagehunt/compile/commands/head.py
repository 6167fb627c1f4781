"""``head N``: the first N results; ``tail N``: the last N, last first (8)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from stagehunt.compile.commands.registry import transforms
from stagehunt.compile.ordering import renumber
from stagehunt.spl import ast

if TYPE_CHECKING:
    from stagehunt.compile.compiler import Compiler
    from stagehunt.compile.relation import Relation


@transforms(ast.HeadCmd)
def head(c: Compiler, rel: Relation, cmd: ast.HeadCmd) -> Relation:
    return renumber(c.b, rel, list(rel.order), cmd.count)


@transforms(ast.TailCmd)
def tail(c: Compiler, rel: Relation, cmd: ast.TailCmd) -> Relation:
    reverse = [
        exp.Ordered(
            this=o.this,
            desc=not o.args.get("desc"),
            nulls_first=not o.args.get("nulls_first", False),
        )
        for o in rel.order
    ]
    return renumber(c.b, rel, reverse, cmd.count)
