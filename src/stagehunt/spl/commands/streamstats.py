"""``streamstats [current=] [window=N] [global=] [allnum=] aggs [by f ...]``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stagehunt.spl import ast
from stagehunt.spl.commands.registry import command
from stagehunt.spl.errors import SplUnsupportedError
from stagehunt.spl.lexer import Mode, T, Token

if TYPE_CHECKING:
    from stagehunt.spl.parser import Parser

_REFUSED = ("reset_on_change", "reset_before", "reset_after", "time_window")


@command("streamstats")
def parse_streamstats(p: Parser, tok: Token) -> ast.StreamstatsCmd:
    current, window, global_window = True, 0, True
    aggs: list[ast.Aggregation] = []
    by: list[str] = []
    while not p.at_command_end():
        opt = p.option()
        if opt is not None:
            name, value = opt
            if name == "current":
                current = p.bool_value(value, name)
            elif name == "window":
                window = p.int_value(value, name)
            elif name == "global":
                global_window = p.bool_value(value, name)
            elif name == "allnum":
                p.bool_value(value, name)
            elif name in _REFUSED:
                if name == "reset_on_change" and not p.bool_value(value, name):
                    continue
                raise SplUnsupportedError(
                    f"streamstats {name}= is not supported", value.pos, p.text
                )
            else:
                raise p.error(f"unknown streamstats option '{name}'", value)
            continue
        nxt = p.peek(Mode.ARGS)
        if nxt.type is T.COMMA:
            p.next(Mode.ARGS)
            continue
        if nxt.type is T.WORD and nxt.text.lower() == "by":
            p.next(Mode.ARGS)
            fields = p.field_list()
            if not fields:
                raise p.error("'by' needs at least one field", p.peek(Mode.ARGS))
            by = [f.text for f in fields]
            break
        aggs.append(p.aggregation())
    if not aggs:
        raise p.error("'streamstats' needs at least one function such as count", tok)
    p.end_of_command("streamstats")
    return ast.StreamstatsCmd(tuple(aggs), tuple(by), current, window, tok.pos, global_window)
