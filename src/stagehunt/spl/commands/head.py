"""``head``/``tail`` ``[N|limit=N|count=N]`` (§8)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stagehunt import semantics
from stagehunt.spl import ast
from stagehunt.spl.commands.registry import command
from stagehunt.spl.errors import SplUnsupportedError
from stagehunt.spl.lexer import Mode, T, Token

if TYPE_CHECKING:
    from stagehunt.spl.parser import Parser


@command("head")
def parse_head(p: Parser, tok: Token) -> ast.HeadCmd:
    return ast.HeadCmd(_count_arg(p, tok, "head"), tok.pos)


@command("tail")
def parse_tail(p: Parser, tok: Token) -> ast.TailCmd:
    return ast.TailCmd(_count_arg(p, tok, "tail"), tok.pos)


def _count_arg(p: Parser, tok: Token, name: str) -> int:
    count = semantics.HEAD_DEFAULT_COUNT
    opt = p.option()
    if opt is not None:
        if opt[0] not in ("limit", "count"):
            raise SplUnsupportedError(
                f"{name} option '{opt[0]}' is not supported", opt[1].pos, p.text
            )
        count = p.int_value(opt[1], opt[0])
    else:
        nxt = p.peek(Mode.ARGS)
        if nxt.type is T.WORD:
            p.next(Mode.ARGS)
            count = p.int_value(nxt, f"the {name} count")
        elif nxt.type is T.LPAREN:
            raise SplUnsupportedError(
                f"{name} with an eval expression is not supported", nxt.pos, p.text
            )
    p.end_of_command(name)
    del tok
    return count
