"""``top``/``rare`` ``[N] [options] <field-list> [BY <field-list>]`` (docs/commands.md,
C-top, C-rare)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stagehunt.spl import ast
from stagehunt.spl.commands.registry import command
from stagehunt.spl.lexer import Mode, T, Token

if TYPE_CHECKING:
    from stagehunt.spl.parser import Parser


@command("top", "rare")
def parse_top(p: Parser, tok: Token) -> ast.TopCmd:
    name = tok.text.lower()
    opts: dict[str, Token] = {}
    limit = 10
    fields: list[str] = []
    by: list[str] = []
    target = fields
    while not p.at_command_end():
        nxt = p.peek(Mode.ARGS)
        if nxt.type is T.COMMA:
            p.next(Mode.ARGS)
            continue
        opt = p.option()
        if opt is not None:
            opts[opt[0]] = opt[1]
            continue
        if p.at_keyword(Mode.ARGS, "by") and fields:
            p.next(Mode.ARGS)
            target = by
            continue
        if not fields and target is fields and nxt.type is T.WORD and nxt.text.isdigit():
            limit = p.int_value(p.next(Mode.ARGS), f"the number of {name} values")
            continue
        target.append(p.field_name("a field name").text)
    if not fields:
        raise p.error(f"'{name}' needs a field", p.peek(Mode.ARGS))
    known = {"limit", "countfield", "percentfield", "showcount", "showperc", "useother", "otherstr"}
    for key, value in opts.items():
        if key not in known:
            raise p.error(f"unknown {name} option '{key}'", value)
    if "limit" in opts:
        limit = p.int_value(opts["limit"], "limit")

    def flag(key: str, default: bool) -> bool:
        return p.bool_value(opts[key], key) if key in opts else default

    def text(key: str, default: str) -> str:
        return opts[key].text if key in opts else default

    return ast.TopCmd(
        name,
        tuple(fields),
        tuple(by),
        limit,
        text("countfield", "count"),
        text("percentfield", "percent"),
        flag("showcount", True),
        flag("showperc", True),
        flag("useother", False),
        text("otherstr", "OTHER"),
        tok.pos,
    )
