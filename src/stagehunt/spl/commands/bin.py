"""``bin``/``bucket`` ``span=S field [AS new]``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stagehunt.spl import ast
from stagehunt.spl.commands.registry import command
from stagehunt.spl.errors import SplUnsupportedError
from stagehunt.spl.lexer import Mode, Token

if TYPE_CHECKING:
    from stagehunt.spl.parser import Parser


@command("bin", "bucket")
def parse_bin(p: Parser, tok: Token) -> ast.BinCmd:
    span: Token | None = None
    while (opt := p.option()) is not None:
        if opt[0] != "span":
            raise SplUnsupportedError(
                f"{tok.text} option '{opt[0]}' is not supported (only span=)",
                opt[1].pos,
                p.text,
            )
        span = opt[1]
    field = p.field_name("the field to bin")
    alias = field.text
    while not p.at_command_end():
        if p.at_keyword(Mode.ARGS, "as"):
            p.next(Mode.ARGS)
            alias = p.field_name("a name after AS").text
            continue
        opt = p.option()
        if opt is None or opt[0] != "span":
            bad = p.peek(Mode.ARGS) if opt is None else opt[1]
            raise SplUnsupportedError(
                f"{tok.text}: only span=, the field and AS are supported", bad.pos, p.text
            )
        span = opt[1]
    p.end_of_command(tok.text.lower())
    if span is None:
        raise SplUnsupportedError(f"{tok.text} without span= is not supported", tok.pos, p.text)
    seconds, months = p.time_span(span)
    return ast.BinCmd(field.text, alias, seconds, months, tok.pos)
