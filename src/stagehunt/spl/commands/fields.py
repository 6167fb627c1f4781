"""``fields [+|-] f ...``: keep or remove fields (§8)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stagehunt.spl import ast
from stagehunt.spl.commands.registry import command
from stagehunt.spl.lexer import Mode, T, Token

if TYPE_CHECKING:
    from stagehunt.spl.parser import Parser


@command("fields")
def parse_fields(p: Parser, tok: Token) -> ast.FieldsCmd:
    remove = False
    first = p.peek(Mode.ARGS)
    if first.type is T.WORD and first.text in ("-", "+"):
        p.next(Mode.ARGS)
        remove = first.text == "-"
    fields = p.field_list()
    if not fields:
        raise p.error("'fields' needs at least one field", p.peek(Mode.ARGS))
    return ast.FieldsCmd(remove, tuple(f.text for f in fields), tok.pos)
