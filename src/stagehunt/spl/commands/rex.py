"""``rex [field=f] \"(?<name>...)\"``: named groups become fields."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stagehunt.spl import ast
from stagehunt.spl.commands.registry import command
from stagehunt.spl.errors import SplUnsupportedError
from stagehunt.spl.lexer import Mode, T, Token, unescape_search

if TYPE_CHECKING:
    from stagehunt.spl.parser import Parser


@command("rex")
def parse_rex(p: Parser, tok: Token) -> ast.RexCmd:
    field = "_raw"
    while (opt := p.option()) is not None:
        name, value = opt
        if name == "field":
            field = value.text
        elif name == "max_match" and value.text == "1":
            continue
        else:
            raise SplUnsupportedError(
                f"rex option '{name}={value.text}' is not supported", value.pos, p.text
            )
    pattern = p.next(Mode.ARGS)
    if pattern.type is not T.STRING:
        raise p.error(f"expected a quoted regular expression, found {pattern.describe()}", pattern)
    while (opt := p.option()) is not None:  # options may also follow the pattern
        if opt[0] != "field":
            raise SplUnsupportedError(
                f"rex option '{opt[0]}={opt[1].text}' is not supported", opt[1].pos, p.text
            )
        field = opt[1].text
    p.end_of_command("rex")
    return ast.RexCmd(field, unescape_search(pattern.text), tok.pos, pattern.pos)
