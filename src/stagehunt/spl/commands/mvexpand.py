"""``mvexpand <field> [limit=<int>]`` (docs/commands.md, C-mvexpand)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stagehunt.spl import ast
from stagehunt.spl.commands.registry import command
from stagehunt.spl.lexer import Mode, Token

if TYPE_CHECKING:
    from stagehunt.spl.parser import Parser


@command("mvexpand")
def parse_mvexpand(p: Parser, tok: Token) -> ast.MvexpandCmd:
    limit = 0
    field: Token | None = None
    while not p.at_command_end():
        opt = p.option()
        if opt is not None:
            if opt[0] != "limit":
                raise p.error(f"unknown mvexpand option '{opt[0]}'", opt[1])
            limit = p.int_value(opt[1], "limit")
            continue
        if field is not None:
            raise p.error("mvexpand takes one field", p.peek(Mode.ARGS))
        field = p.field_name("the multivalue field to expand")
    if field is None:
        raise p.error("'mvexpand' needs a field", tok)
    if field.text.startswith("_"):
        raise p.error("mvexpand does not apply to internal fields", field)
    return ast.MvexpandCmd(field.text, limit, tok.pos)
