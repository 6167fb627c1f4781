"""``fillnull [value=v] [f ...]`` (§8)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stagehunt.spl import ast
from stagehunt.spl.commands.registry import command
from stagehunt.spl.lexer import Token

if TYPE_CHECKING:
    from stagehunt.spl.parser import Parser


@command("fillnull")
def parse_fillnull(p: Parser, tok: Token) -> ast.FillnullCmd:
    value = "0"
    opt = p.option()
    if opt is not None:
        if opt[0] != "value":
            raise p.error(f"unknown fillnull option '{opt[0]}'", opt[1])
        value = opt[1].text
    fields = p.field_list()
    return ast.FillnullCmd(value, tuple(f.text for f in fields), tok.pos)
