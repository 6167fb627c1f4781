"""``dedup [N] f ... [keepempty=] [consecutive=] [sortby ...]`` (§8)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stagehunt.spl import ast
from stagehunt.spl.commands.registry import command
from stagehunt.spl.lexer import Mode, T, Token

if TYPE_CHECKING:
    from stagehunt.spl.parser import Parser


@command("dedup")
def parse_dedup(p: Parser, tok: Token) -> ast.DedupCmd:
    count = 1
    keepempty = consecutive = keepevents = False
    first = p.peek(Mode.ARGS)
    if first.type is T.WORD and first.text.isdigit():
        p.next(Mode.ARGS)
        count = p.int_value(first, "the dedup count")
        if count == 0:
            raise p.error("the dedup count must be at least 1", first)
    fields: list[str] = []
    sortby: list[ast.SortKey] = []
    while not p.at_command_end():
        opt = p.option()
        if opt is not None:
            name, value = opt
            if name == "keepempty":
                keepempty = p.bool_value(value, name)
            elif name == "consecutive":
                consecutive = p.bool_value(value, name)
            elif name == "keepevents":
                keepevents = p.bool_value(value, name)
            else:
                raise p.error(f"unknown dedup option '{name}'", value)
            continue
        nxt = p.peek(Mode.ARGS)
        if nxt.type is T.COMMA:
            p.next(Mode.ARGS)
            continue
        if nxt.type is T.WORD and nxt.text.lower() == "sortby":
            p.next(Mode.ARGS)
            sortby, _ = p.sort_keys()
            if not sortby:
                raise p.error("'sortby' needs a field", p.peek(Mode.ARGS))
            break
        fields.append(p.field_name("a field").text)
    if not fields:
        raise p.error("'dedup' needs at least one field", p.peek(Mode.ARGS))
    return ast.DedupCmd(
        tuple(fields), count, keepempty, consecutive, tuple(sortby), tok.pos, keepevents
    )
