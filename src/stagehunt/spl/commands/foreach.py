"""``foreach [mode=multifield] [fieldstr=..] [matchstr=..] [matchseg1..3=..] <wc-field> ...
[<subsearch>]`` (docs/commands.md, C-foreach)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stagehunt.spl import ast
from stagehunt.spl.commands.registry import command
from stagehunt.spl.errors import SplUnsupportedError
from stagehunt.spl.lexer import Mode, T, Token

if TYPE_CHECKING:
    from stagehunt.spl.parser import Parser

#: C-foreach-2: the template values of multifield mode and their defaults
PLACEHOLDERS = (
    ("fieldstr", "<<FIELD>>"),
    ("matchstr", "<<MATCHSTR>>"),
    ("matchseg1", "<<MATCHSEG1>>"),
    ("matchseg2", "<<MATCHSEG2>>"),
    ("matchseg3", "<<MATCHSEG3>>"),
)


@command("foreach")
def parse_foreach(p: Parser, tok: Token) -> ast.ForeachCmd:
    names = dict(PLACEHOLDERS)
    fields: list[str] = []
    while True:
        nxt = p.peek(Mode.ARGS)
        if nxt.type is T.LBRACKET:
            break
        if nxt.type in (T.PIPE, T.EOF, T.RBRACKET):
            raise p.error("foreach needs a subsearch [ ... ] after its fields", nxt)
        opt = p.option()
        if opt is None:
            fields.append(p.field_name("a field or wildcard to iterate over").text)
            continue
        name, value = opt
        if name == "mode":
            if value.text.lower() != "multifield":
                raise SplUnsupportedError(
                    f"foreach mode={value.text} is not supported (only multifield)",
                    value.pos,
                    p.text,
                )
        elif name in names:
            names[name] = value.text
        else:
            raise p.error(f"unknown foreach option '{name}'", value)
    if not fields:
        raise p.error("foreach needs at least one field or wildcard", p.peek(Mode.ARGS))
    open_ = p.next(Mode.ARGS)
    start = open_.end
    end = _closing_bracket(p, open_)
    template = p.text[start:end]
    placeholders = tuple((key, names[key]) for key, _ in PLACEHOLDERS)
    _check(p, template, start, placeholders)
    p.s.pos = end + 1
    return ast.ForeachCmd(tuple(fields), template, start, placeholders, tok.pos)


def _closing_bracket(p: Parser, open_: Token) -> int:
    """Offset of the ``]`` that closes ``open_`` (brackets nest; quoted text is skipped)."""
    text = p.text
    depth = 0
    i = open_.end
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch in "\"'":
            close = text.find(ch, i + 1)
            while close > 0 and text[close - 1] == "\\":
                close = text.find(ch, close + 1)
            if close < 0:
                raise p.error(f"unterminated {ch}-quoted string in foreach", i)
            i = close + 1
            continue
        if ch == "[":
            depth += 1
        elif ch == "]":
            if depth == 0:
                return i
            depth -= 1
        i += 1
    raise p.error("unterminated foreach subsearch: expected ']'", open_)


def _check(p: Parser, template: str, start: int, placeholders: tuple[tuple[str, str], ...]) -> None:
    """Parse the template with each placeholder masked by a name of its own length, so a
    syntax error points at the right character of the query."""
    from stagehunt.spl.parser import parse_commands

    masked = template
    for _, placeholder in placeholders:
        masked = masked.replace(placeholder, "x" * len(placeholder))
    parse_commands(p.text[:start] + masked, start)
