"""``regex``: keep results whose field does (``=``) or does not (``!=``) match (8)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stagehunt.compile import regex as patterns
from stagehunt.compile.commands.registry import transforms
from stagehunt.spl import ast

if TYPE_CHECKING:
    from stagehunt.compile.compiler import Compiler
    from stagehunt.compile.relation import Relation


@transforms(ast.RegexCmd, streaming=True)
def regex(c: Compiler, rel: Relation, cmd: ast.RegexCmd) -> Relation:
    return patterns.regex(c.b, rel, cmd, c.query, c.now)
