"""``makemv [delim=<s> | tokenizer=<re>] [allowempty=<b>] [setsv=<b>] <field>``
(docs/commands.md, C-makemv)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stagehunt.spl import ast
from stagehunt.spl.commands.registry import command
from stagehunt.spl.errors import SplUnsupportedError
from stagehunt.spl.lexer import Mode, Token

if TYPE_CHECKING:
    from stagehunt.spl.parser import Parser


@command("makemv")
def parse_makemv(p: Parser, tok: Token) -> ast.MakemvCmd:
    delim = " "
    tokenizer: str | None = None
    allowempty = False
    field: Token | None = None
    while not p.at_command_end():
        opt = p.option()
        if opt is None:
            if field is not None:
                raise p.error("makemv takes one field", p.peek(Mode.ARGS))
            field = p.field_name("the field to split")
            continue
        name, value = opt
        if name == "delim":
            delim = value.text
            if not delim:
                raise p.error("delim must not be empty", value)
        elif name == "tokenizer":
            tokenizer = value.text
        elif name == "allowempty":
            allowempty = p.bool_value(value, "allowempty")
        elif name == "setsv":
            if p.bool_value(value, "setsv"):
                raise SplUnsupportedError("makemv setsv=true is not supported", value.pos, p.text)
        else:
            raise p.error(f"unknown makemv option '{name}'", value)
    if field is None:
        raise p.error("'makemv' needs a field", tok)
    if field.text.startswith("_"):
        raise p.error("makemv does not apply to internal fields", field)
    return ast.MakemvCmd(field.text, delim, tokenizer, allowempty, tok.pos)
