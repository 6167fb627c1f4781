"""``| multisearch [search ...] [search ...]``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stagehunt.spl import ast
from stagehunt.spl.commands.registry import command
from stagehunt.spl.lexer import Mode, T, Token

if TYPE_CHECKING:
    from stagehunt.spl.parser import Parser


@command("multisearch", generating=True)
def parse_multisearch(p: Parser, tok: Token) -> ast.MultisearchCmd:
    pipelines: list[ast.Pipeline] = []
    while p.peek(Mode.ARGS).type is T.LBRACKET:
        p.next(Mode.ARGS)
        pipelines.append(p.parse_pipeline(nested=True))
        p.expect(T.RBRACKET, Mode.ARGS, "']' to close the subsearch")
    if len(pipelines) < 2:
        raise p.error("multisearch needs at least two [subsearches]", p.peek(Mode.ARGS))
    p.end_of_command("multisearch")
    return ast.MultisearchCmd(tuple(pipelines), tok.pos)
