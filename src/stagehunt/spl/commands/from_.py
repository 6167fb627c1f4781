"""``| from <type>:<name>`` (also ``from <type> <name>`` and a quoted name:
``from datamodel:"Endpoint.Processes"``): a dataset as the first results (Search Reference,
"from"; docs/cim.md D7, docs/commands-combining.md F1–F2)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stagehunt.spl import ast
from stagehunt.spl.commands.registry import command
from stagehunt.spl.lexer import Mode, T, Token, unescape_search

if TYPE_CHECKING:
    from stagehunt.spl.parser import Parser


@command("from", generating=True)
def parse_from(p: Parser, tok: Token) -> ast.FromCmd:
    head = p.next(Mode.ARGS)
    if head.type is not T.WORD:
        raise p.error(f"expected a dataset such as lookup:NAME, found {head.describe()}", head)
    kind, colon, name = head.text.partition(":")
    name_pos = head.pos + len(kind) + 1
    if not (colon and name):
        nxt = p.peek(Mode.ARGS)
        if nxt.type not in (T.WORD, T.STRING) or p.at_command_end():
            raise p.error("from needs <type>:<name> (for example lookup:my_table)", head)
        p.next(Mode.ARGS)
        name = unescape_search(nxt.text) if nxt.type is T.STRING else nxt.text
        name_pos = nxt.pos
    if not p.at_command_end():
        bad = p.peek(Mode.ARGS)
        raise p.error(f"unexpected {bad.describe()} after the dataset in 'from'", bad)
    return ast.FromCmd(kind.lower(), name, tok.pos, name_pos)
