"""``rex``: named groups of a pattern become fields (8)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stagehunt.compile import regex as patterns
from stagehunt.compile.commands.registry import transforms
from stagehunt.spl import ast

if TYPE_CHECKING:
    from stagehunt.compile.compiler import Compiler
    from stagehunt.compile.relation import Relation


@transforms(ast.RexCmd, streaming=True)
def rex(c: Compiler, rel: Relation, cmd: ast.RexCmd) -> Relation:
    return patterns.rex(c.b, rel, cmd, c.query, c.now)
