"""``map``: runs a search once per input result with ``$field$`` substituted. Refused:
the engine compiles one SQL statement and never runs a search per result."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stagehunt.spl import ast
from stagehunt.spl.commands.registry import command
from stagehunt.spl.errors import SplUnsupportedError
from stagehunt.spl.lexer import Token

if TYPE_CHECKING:
    from stagehunt.spl.parser import Parser


@command("map")
def parse_map(p: Parser, tok: Token) -> ast.Command:
    raise SplUnsupportedError(
        "map runs a new search for each result ($field$ substituted into its text); "
        "stagehunt compiles one statement and does not run searches per result",
        tok.pos,
        p.text,
    )
