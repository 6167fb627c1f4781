"""``outputlookup [append=] [create_empty=] [override_if_empty=] [max=] NAME``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stagehunt.spl import ast
from stagehunt.spl.commands.registry import command
from stagehunt.spl.errors import SplUnsupportedError
from stagehunt.spl.lexer import Mode, Token

if TYPE_CHECKING:
    from stagehunt.spl.parser import Parser


@command("outputlookup")
def parse_outputlookup(p: Parser, tok: Token) -> ast.OutputlookupCmd:
    flags = {"append": False, "create_empty": True, "override_if_empty": True}
    max_ = 0
    table: Token | None = None
    while not p.at_command_end():
        opt = p.option()
        if opt is None:
            if table is not None:
                raise p.error("outputlookup takes one lookup name", p.peek(Mode.ARGS))
            table = p.field_name("a lookup name")
            continue
        name, value = opt
        if name in flags:
            flags[name] = p.bool_value(value, name)
        elif name == "max":
            max_ = p.int_value(value, name)
        elif name in ("key_field", "createinapp", "output_format"):
            raise SplUnsupportedError(
                f"outputlookup {name}= is not supported (CSV lookups only)", value.pos, p.text
            )
        else:
            raise p.error(f"unknown outputlookup option '{name}'", value)
    if table is None:
        raise p.error("outputlookup needs a lookup name", tok)
    return ast.OutputlookupCmd(
        table.text,
        flags["append"],
        flags["create_empty"],
        flags["override_if_empty"],
        max_,
        tok.pos,
    )
