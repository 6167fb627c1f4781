"""``iplocation [prefix=] [allfields=] [lang=] ip_field``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stagehunt.spl import ast
from stagehunt.spl.commands.registry import command
from stagehunt.spl.errors import SplUnsupportedError
from stagehunt.spl.lexer import Token

if TYPE_CHECKING:
    from stagehunt.spl.parser import Parser


@command("iplocation")
def parse_iplocation(p: Parser, tok: Token) -> ast.IplocationCmd:
    prefix, allfields = "", False
    while (opt := p.option()) is not None:
        name, value = opt
        if name == "prefix":
            prefix = value.text
        elif name == "allfields":
            allfields = p.bool_value(value, name)
        elif name == "lang":
            if value.text.lower() != "en":
                raise SplUnsupportedError("iplocation lang= other than en is not supported",
                                          value.pos, p.text)  # fmt: skip
        else:
            raise p.error(f"unknown iplocation option '{name}'", value)
    field = p.field_name("the field holding IP addresses")
    p.end_of_command("iplocation")
    return ast.IplocationCmd(field.text, prefix, allfields, tok.pos)
