"""``streamstats [current=] [window=N] [global=] [allnum=] aggs [by f ...]``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stagehunt.spl import ast
from stagehunt.spl.commands.registry import command
from stagehunt.spl.errors import SplUnsupportedError
from stagehunt.spl.lexer import Token

if TYPE_CHECKING:
    from stagehunt.spl.parser import Parser

_REFUSED = ("reset_on_change", "reset_before", "reset_after", "time_window")


@command("streamstats")
def parse_streamstats(p: Parser, tok: Token) -> ast.StreamstatsCmd:
    options: dict[str, bool | int] = {"current": True, "window": 0, "global": True}

    def option(name: str, value: Token) -> None:
        if name in ("current", "global"):
            options[name] = p.bool_value(value, name)
        elif name == "window":
            options[name] = p.int_value(value, name)
        elif name == "allnum":
            p.bool_value(value, name)
        elif name == "reset_on_change" and not p.bool_value(value, name):
            pass
        elif name in _REFUSED:
            raise SplUnsupportedError(f"streamstats {name}= is not supported", value.pos, p.text)
        else:
            raise p.error(f"unknown streamstats option '{name}'", value)

    aggs, by = p.aggregations_by("streamstats", tok, option)
    current, window, global_window = (
        bool(options["current"]),
        int(options["window"]),
        bool(options["global"]),
    )
    return ast.StreamstatsCmd(tuple(aggs), tuple(by), current, window, tok.pos, global_window)
