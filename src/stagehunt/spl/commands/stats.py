"""``stats`` / ``eventstats``: aggregations ``by`` fields (§6)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stagehunt.spl import ast
from stagehunt.spl.commands.registry import command
from stagehunt.spl.lexer import Mode, T, Token

if TYPE_CHECKING:
    from stagehunt.spl.parser import Parser


@command("stats", "eventstats")
def parse_stats(p: Parser, tok: Token) -> ast.StatsCmd:
    name = tok.text.lower()
    aggs: list[ast.Aggregation] = []
    by: list[str] = []
    while p.option() is not None:  # allnum=, delim=, partitions=: accepted, no effect
        pass
    while not p.at_command_end():
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
        raise p.error(f"'{name}' needs at least one function such as count", tok)
    p.end_of_command(name)
    return ast.StatsCmd(name, tuple(aggs), tuple(by), tok.pos)
