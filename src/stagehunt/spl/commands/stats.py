"""``stats`` / ``eventstats``: aggregations ``by`` fields (§6)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stagehunt.spl import ast
from stagehunt.spl.commands.registry import command
from stagehunt.spl.lexer import Token

if TYPE_CHECKING:
    from stagehunt.spl.parser import Parser


@command("stats", "eventstats")
def parse_stats(p: Parser, tok: Token) -> ast.StatsCmd:
    name = tok.text.lower()
    while p.option() is not None:  # allnum=, delim=, partitions=: accepted, no effect
        pass
    aggs, by = p.aggregations_by(name, tok)
    return ast.StatsCmd(name, tuple(aggs), tuple(by), tok.pos)
