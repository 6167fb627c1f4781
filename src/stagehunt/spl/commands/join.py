"""``join [type=inner|outer|left] [max=N] [overwrite=] [usetime=] [f, ...] [subsearch]``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stagehunt.spl import ast
from stagehunt.spl.commands.registry import command
from stagehunt.spl.errors import SplUnsupportedError
from stagehunt.spl.lexer import Mode, T, Token

if TYPE_CHECKING:
    from stagehunt.spl.parser import Parser


@command("join")
def parse_join(p: Parser, tok: Token) -> ast.JoinCmd:
    join_type, max_, overwrite = "inner", 1, True
    fields: list[str] = []
    while p.peek(Mode.ARGS).type is not T.LBRACKET:
        if p.at_command_end():
            raise p.error("join needs a [subsearch]", p.peek(Mode.ARGS))
        opt = p.option()
        if opt is None:
            if p.peek(Mode.ARGS).type is T.COMMA:
                p.next(Mode.ARGS)
                continue
            fields.append(p.field_name("a join field").text)
            continue
        name, value = opt
        if name == "type":
            kind = value.text.lower()
            if kind not in ("inner", "outer", "left"):
                raise p.error("join type must be inner, outer or left", value)
            join_type = "inner" if kind == "inner" else "left"  # outer is left (rule J1)
        elif name == "max":
            max_ = p.int_value(value, "max")
        elif name == "overwrite":
            overwrite = p.bool_value(value, name)
        elif name in ("usetime", "earlier"):
            if p.bool_value(value, name) and name == "usetime":
                raise SplUnsupportedError("join usetime=true is not supported", value.pos, p.text)
        elif name in ("left", "right", "where"):
            raise SplUnsupportedError(
                "join left=/right=/where (the SPL2-style join) is not supported",
                value.pos,
                p.text,
            )
        else:
            raise p.error(f"unknown join option '{name}'", value)
    subsearch, sub_pos = p.subsearch("join")
    p.end_of_command("join")
    return ast.JoinCmd(tuple(fields), join_type, max_, overwrite, subsearch, tok.pos, sub_pos)
