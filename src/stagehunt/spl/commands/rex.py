"""``rex [field=f] [max_match=N] \"(?<name>...)\"`` and ``rex [field=f] mode=sed \"s/a/b/g\"``
(rule 8, rex; docs/commands.md C-rex)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stagehunt.spl import ast
from stagehunt.spl.commands.registry import command
from stagehunt.spl.errors import SplUnsupportedError
from stagehunt.spl.lexer import Mode, T, Token, unescape_search

if TYPE_CHECKING:
    from stagehunt.spl.parser import Parser


@command("rex")
def parse_rex(p: Parser, tok: Token) -> ast.RexCmd:
    field = "_raw"
    max_match = 1
    sed = False
    pattern: Token | None = None
    while not p.at_command_end():
        opt = p.option()
        if opt is None:
            if pattern is not None:
                raise p.error(
                    f"unexpected {p.peek(Mode.ARGS).describe()} in 'rex'", p.peek(Mode.ARGS)
                )
            pattern = p.next(Mode.ARGS)
            if pattern.type is not T.STRING:
                raise p.error(
                    f"expected a quoted regular expression, found {pattern.describe()}", pattern
                )
            continue
        name, value = opt
        if name == "field":
            field = value.text
        elif name == "max_match":
            max_match = p.int_value(value, "max_match")
        elif name == "mode":
            if value.text.lower() != "sed":
                raise p.error(f"rex mode must be sed, found {value.describe()}", value)
            sed = True
        elif name == "offset_field":
            raise SplUnsupportedError("rex offset_field= is not supported", value.pos, p.text)
        else:
            raise p.error(f"unknown rex option '{name}'", value)
    if pattern is None:
        raise p.error("'rex' needs a quoted regular expression", p.peek(Mode.ARGS))
    text = unescape_search(pattern.text)
    expr = _sed(p, text, pattern) if sed else None
    return ast.RexCmd(field, text, tok.pos, pattern.pos, max_match, expr)


def _split(text: str) -> list[str]:
    """``s/a/b/g`` → ``["s", "a", "b", "g"]``: split on unescaped ``/``; ``\\/`` is a slash."""
    parts: list[str] = [""]
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            parts[-1] += nxt if nxt == "/" else text[i : i + 2]
            i += 2
            continue
        if ch == "/":
            parts.append("")
        else:
            parts[-1] += ch
        i += 1
    return parts


def _sed(p: Parser, text: str, tok: Token) -> ast.SedExpr:
    """C-rex-4..6: ``s/regex/replacement/[g|N]`` or ``y/abc/xyz/``."""
    parts = _split(text)
    if len(parts) != 4 or parts[0] not in ("s", "y"):
        raise p.error("a sed expression is s/regex/replacement/flags or y/from/to/", tok)
    kind, pattern, replacement, flags = parts
    if kind == "y":
        if flags:
            raise p.error("y/from/to/ takes no flags", tok)
        if len(pattern) != len(replacement):
            raise p.error("y/from/to/ needs as many characters in 'to' as in 'from'", tok)
        return ast.SedExpr("y", pattern, replacement, 0)
    if flags == "g":
        occurrence = 0
    elif flags == "":
        occurrence = 1
    elif flags.isdigit() and int(flags) > 0:
        occurrence = int(flags)
    else:
        raise p.error(f"sed flags must be g or a number, found '{flags}'", tok)
    if not pattern:
        raise p.error("the sed regex is empty", tok)
    return ast.SedExpr("s", pattern, replacement, occurrence)
