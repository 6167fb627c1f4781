"""``regex [f=|f!=]\"re\"``: keep results whose field does (not) match."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stagehunt.spl import ast
from stagehunt.spl.commands.registry import command
from stagehunt.spl.lexer import Mode, T, Token, unescape_search

if TYPE_CHECKING:
    from stagehunt.spl.parser import Parser


@command("regex")
def parse_regex(p: Parser, tok: Token) -> ast.RegexCmd:
    field, negate = "_raw", False
    first = p.peek(Mode.ARGS)
    if first.type is T.WORD:
        op = p.s._scan(first.end, Mode.ARGS)
        if op.type is not T.OP or op.pos != first.end:
            raise p.error('expected field="regex" or field!="regex" in regex', op)
        p.next(Mode.ARGS)
        p.next(Mode.ARGS)
        field, negate = first.text, op.text == "!="
    value = p.next(Mode.ARGS)
    if value.type not in (T.STRING, T.WORD):
        raise p.error(f"expected a regular expression, found {value.describe()}", value)
    p.end_of_command("regex")
    return ast.RegexCmd(field, negate, unescape_search(value.text), tok.pos, value.pos)
