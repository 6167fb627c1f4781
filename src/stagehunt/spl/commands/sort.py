"""``sort [N|limit=N] [+|-]key ... [d|desc]`` (§7)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stagehunt.spl import ast
from stagehunt.spl.commands.registry import command
from stagehunt.spl.lexer import Mode, T, Token

if TYPE_CHECKING:
    from stagehunt.spl.parser import Parser


@command("sort")
def parse_sort(p: Parser, tok: Token) -> ast.SortCmd:
    limit: int | None = None
    opt = p.option()
    if opt is not None:
        if opt[0] != "limit":
            raise p.error(f"unknown sort option '{opt[0]}'", opt[1])
        limit = p.int_value(opt[1], "limit")
    first = p.peek(Mode.ARGS)
    if limit is None and first.type is T.WORD and first.text.isascii() and first.text.isdigit():
        p.next(Mode.ARGS)
        limit = p.int_value(first, "the sort limit")
    keys, reverse = p.sort_keys()
    if not keys:
        raise p.error("'sort' needs at least one field", p.peek(Mode.ARGS))
    return ast.SortCmd(tuple(keys), limit, tok.pos, reverse)
