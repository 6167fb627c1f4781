"""``| inputlookup NAME``: the lookup's rows."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stagehunt.spl import ast
from stagehunt.spl.commands.registry import command
from stagehunt.spl.lexer import Token

if TYPE_CHECKING:
    from stagehunt.spl.parser import Parser


@command("inputlookup", generating=True)
def parse_inputlookup(p: Parser, tok: Token) -> ast.InputlookupCmd:
    while p.option() is not None:
        pass
    table = p.field_name("a lookup name")
    p.end_of_command("inputlookup")
    return ast.InputlookupCmd(table.text, tok.pos)
