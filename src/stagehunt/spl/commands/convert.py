"""``convert [timeformat=F] func(field) [AS name] ...`` (docs/commands.md, C-convert)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stagehunt.spl import ast
from stagehunt.spl.commands.registry import command
from stagehunt.spl.lexer import Mode, T, Token

if TYPE_CHECKING:
    from stagehunt.spl.parser import Parser

#: Search Reference, convert: the convert functions
FUNCTIONS = frozenset(
    ("auto", "ctime", "dur2sec", "memk", "mktime", "mstime", "none", "num", "rmcomma", "rmunit")
)
#: C-convert-2: the default time format (not the locale's)
DEFAULT_TIMEFORMAT = "%m/%d/%Y %H:%M:%S"


@command("convert")
def parse_convert(p: Parser, tok: Token) -> ast.ConvertCmd:
    timeformat = DEFAULT_TIMEFORMAT
    conversions: list[ast.Conversion] = []
    while not p.at_command_end():
        if p.peek(Mode.ARGS).type is T.COMMA:
            p.next(Mode.ARGS)
            continue
        opt = p.option()
        if opt is not None:
            if opt[0] != "timeformat":
                raise p.error(f"unknown convert option '{opt[0]}'", opt[1])
            timeformat = opt[1].text
            continue
        conversions.append(_conversion(p))
    if not conversions:
        raise p.error("'convert' needs a conversion such as ctime(field)", p.peek(Mode.ARGS))
    return ast.ConvertCmd(timeformat, tuple(conversions), tok.pos)


def _conversion(p: Parser) -> ast.Conversion:
    fn = p.next(Mode.ARGS)
    name = fn.text.lower()
    if fn.type is not T.WORD or name not in FUNCTIONS:
        raise p.error(
            f"expected a convert function ({', '.join(sorted(FUNCTIONS))}), found {fn.describe()}",
            fn,
        )
    p.expect(T.LPAREN, Mode.ARGS, f"'(' after {fn.text}")
    field = p.field_name(f"a field inside {fn.text}()")
    p.expect(T.RPAREN, Mode.ARGS, f"')' to close {fn.text}(")
    alias: str | None = None
    if p.at_keyword(Mode.ARGS, "as"):
        p.next(Mode.ARGS)
        target = p.field_name("a field name after AS")
        if field.text.count("*") != target.text.count("*"):
            raise p.error("wildcards after AS must match the field's in number", target)
        alias = target.text
    return ast.Conversion(name, field.text, alias, fn.pos)
