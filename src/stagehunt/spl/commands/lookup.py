"""``lookup NAME f [AS g] ... [OUTPUT|OUTPUTNEW f [AS g] ...]``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stagehunt.spl import ast
from stagehunt.spl.commands.registry import command
from stagehunt.spl.lexer import Mode, T, Token

if TYPE_CHECKING:
    from stagehunt.spl.parser import Parser


@command("lookup")
def parse_lookup(p: Parser, tok: Token) -> ast.LookupCmd:
    while p.option() is not None:  # local=, update=
        pass
    table = p.field_name("a lookup name")
    match: list[tuple[str, str]] = []
    output: list[tuple[str, str]] = []
    output_new = False
    target = match
    while not p.at_command_end():
        nxt = p.peek(Mode.ARGS)
        if nxt.type is T.COMMA:
            p.next(Mode.ARGS)
            continue
        if nxt.type is T.WORD and nxt.text.upper() in ("OUTPUT", "OUTPUTNEW"):
            p.next(Mode.ARGS)
            output_new = nxt.text.upper() == "OUTPUTNEW"
            target = output
            continue
        name = p.field_name("a field").text
        alias = name
        if p.at_keyword(Mode.ARGS, "as"):
            p.next(Mode.ARGS)
            alias = p.field_name("a field name after AS").text
        target.append((name, alias))
    if not match:
        raise p.error("'lookup' needs at least one field to match on", p.peek(Mode.ARGS))
    return ast.LookupCmd(table.text, tuple(match), tuple(output), output_new, tok.pos)
