"""``where <eval expression>``: keep results where the expression is true (spl-semantics.md §5)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stagehunt.spl import ast
from stagehunt.spl.commands.registry import command
from stagehunt.spl.lexer import Token

if TYPE_CHECKING:
    from stagehunt.spl.parser import Parser


@command("where")
def parse_where(p: Parser, tok: Token) -> ast.WhereCmd:
    return ast.WhereCmd(p.expression_to_end("where"), tok.pos)
