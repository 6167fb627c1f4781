"""``map [maxsearches=N] search="template"``: the template is kept as text (its macros
and ``$field$`` tokens are resolved when it is compiled, compile/commands/map.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stagehunt import semantics
from stagehunt.spl import ast
from stagehunt.spl.commands.registry import command
from stagehunt.spl.errors import SplUnsupportedError
from stagehunt.spl.lexer import Mode, T, Token, unescape_search

if TYPE_CHECKING:
    from stagehunt.spl.parser import Parser


@command("map")
def parse_map(p: Parser, tok: Token) -> ast.MapCmd:
    template: Token | None = None
    maxsearches = semantics.MAP_MAXSEARCHES
    while not p.at_command_end():
        opt = p.option()
        if opt is None:
            nxt = p.next(Mode.ARGS)
            if nxt.type is not T.STRING or template is not None:
                raise p.error(f"unexpected {nxt.describe()} in map", nxt)
            template = Token(T.STRING, unescape_search(nxt.text), nxt.pos, nxt.end)
            continue
        name, value = opt
        if name == "search":
            template = value
        elif name == "maxsearches":
            maxsearches = p.int_value(value, name)
        elif name == "savedsearch":
            raise SplUnsupportedError("map savedsearch= is not supported (no saved searches "
                                      "here)", value.pos, p.text)  # fmt: skip
        else:
            raise p.error(f"unknown map option '{name}'", value)
    if template is None:
        raise p.error('map needs search="..."', tok)
    return ast.MapCmd(template.text, maxsearches, tok.pos, template.pos)
