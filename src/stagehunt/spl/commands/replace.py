"""``replace <wc-string> WITH <wc-string>, ... [IN <field-list>]`` (docs/commands.md,
C-replace)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stagehunt.spl import ast
from stagehunt.spl.commands.registry import command
from stagehunt.spl.lexer import Mode, T, Token, unescape_search

if TYPE_CHECKING:
    from stagehunt.spl.parser import Parser


def _value(p: Parser, what: str) -> Token:
    tok = p.next(Mode.ARGS)
    if tok.type is T.STRING:
        return Token(T.STRING, unescape_search(tok.text), tok.pos, tok.end)
    if tok.type is T.WORD:
        return tok
    raise p.error(f"expected {what}, found {tok.describe()}", tok)


@command("replace")
def parse_replace(p: Parser, tok: Token) -> ast.ReplaceCmd:
    pairs: list[tuple[str, str]] = []
    fields: list[str] = []
    while not p.at_command_end():
        if p.peek(Mode.ARGS).type is T.COMMA:
            p.next(Mode.ARGS)
            continue
        if pairs and p.at_keyword(Mode.ARGS, "in"):
            p.next(Mode.ARGS)
            fields = [f.text for f in p.field_list()]
            if not fields:
                raise p.error("IN needs at least one field", p.peek(Mode.ARGS))
            break
        old = _value(p, "a value to replace")
        if not p.at_keyword(Mode.ARGS, "with"):
            raise p.error(f"expected WITH after '{old.text}' in replace", p.peek(Mode.ARGS))
        p.next(Mode.ARGS)
        new = _value(p, "a replacement after WITH")
        if "*" in new.text and new.text.count("*") != old.text.count("*"):
            raise p.error(
                "a replacement with wildcards needs as many as the value it replaces", new
            )
        pairs.append((old.text, new.text))
    if not pairs:
        raise p.error("'replace' needs 'value WITH replacement'", p.peek(Mode.ARGS))
    return ast.ReplaceCmd(tuple(pairs), tuple(fields), tok.pos)
