"""``| makeresults [count=N]``: a generating command."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stagehunt import semantics
from stagehunt.spl import ast
from stagehunt.spl.commands.registry import command
from stagehunt.spl.lexer import Mode, Token

if TYPE_CHECKING:
    from stagehunt.spl.parser import Parser


@command("makeresults", generating=True)
def parse_makeresults(p: Parser, tok: Token) -> ast.MakeresultsCmd:
    count = 1
    while not p.at_command_end():
        opt = p.option()
        if opt is None:
            bad = p.peek(Mode.ARGS)
            raise p.error(f"unexpected {bad.describe()} in makeresults", bad)
        if opt[0] == "count":
            count = p.int_value(opt[1], "count", semantics.MAKERESULTS_MAX_COUNT)
        elif opt[0] not in ("annotate", "splunk_server", "splunk_server_group"):
            raise p.error(f"unknown makeresults option '{opt[0]}'", opt[1])
    return ast.MakeresultsCmd(count, tok.pos)
