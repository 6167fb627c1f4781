"""``search <terms>``: the implicit first command, or explicit later (spl-semantics.md §2)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stagehunt.spl import ast
from stagehunt.spl.commands.registry import command

if TYPE_CHECKING:
    from stagehunt.spl.lexer import Token
    from stagehunt.spl.parser import Parser


@command("search")
def parse_search(p: Parser, tok: Token) -> ast.SearchCmd:
    return p.parse_search(tok.pos)
