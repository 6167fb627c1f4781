"""``rename old AS new, ...``: wildcards on both sides in equal number (§8)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stagehunt.spl import ast
from stagehunt.spl.commands.registry import command
from stagehunt.spl.lexer import Mode, T, Token

if TYPE_CHECKING:
    from stagehunt.spl.parser import Parser


@command("rename")
def parse_rename(p: Parser, tok: Token) -> ast.RenameCmd:
    pairs: list[tuple[str, str]] = []
    while not p.at_command_end():
        if p.peek(Mode.ARGS).type is T.COMMA:
            p.next(Mode.ARGS)
            continue
        old = p.field_name("a field to rename")
        if not p.at_keyword(Mode.ARGS, "as"):
            raise p.error(f"expected AS after '{old.text}' in rename", p.peek(Mode.ARGS))
        p.next(Mode.ARGS)
        new = p.field_name("a new field name after AS")
        if old.text.count("*") != new.text.count("*"):
            raise p.error("wildcards in rename must match in number on both sides", new)
        pairs.append((old.text, new.text))
    if not pairs:
        raise p.error("'rename' needs 'field AS newname'", p.peek(Mode.ARGS))
    return ast.RenameCmd(tuple(pairs), tok.pos)
