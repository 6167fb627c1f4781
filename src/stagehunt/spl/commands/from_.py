"""``| from <dataset type>:<name>`` (or ``from <type> <name>``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stagehunt.spl import ast
from stagehunt.spl.commands.registry import command
from stagehunt.spl.lexer import Mode, T, Token

if TYPE_CHECKING:
    from stagehunt.spl.parser import Parser


@command("from", generating=True)
def parse_from(p: Parser, tok: Token) -> ast.FromCmd:
    dataset = p.field_name("a dataset such as lookup:NAME")
    kind, sep, name = dataset.text.partition(":")
    if not sep:
        nxt = p.peek(Mode.ARGS)
        if nxt.type is T.WORD and not p.at_command_end():
            name = p.field_name("a dataset name").text
    if not name:
        raise p.error("from needs <type>:<name> (for example lookup:my_table)", dataset)
    if not p.at_command_end():
        bad = p.peek(Mode.ARGS)
        raise p.error(f"unexpected {bad.describe()} after the dataset in 'from'", bad)
    return ast.FromCmd(kind.lower(), name, tok.pos)
