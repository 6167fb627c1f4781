"""``table f ...``: these fields, in this order (§8)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stagehunt.spl import ast
from stagehunt.spl.commands.registry import command
from stagehunt.spl.lexer import Mode, Token

if TYPE_CHECKING:
    from stagehunt.spl.parser import Parser


@command("table")
def parse_table(p: Parser, tok: Token) -> ast.TableCmd:
    fields = p.field_list()
    if not fields:
        raise p.error("'table' needs at least one field", p.peek(Mode.ARGS))
    return ast.TableCmd(tuple(f.text for f in fields), tok.pos)
