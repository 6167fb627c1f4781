"""``mstats``: statistics over a metrics index. Refused with the reason: there is no
metrics store here (events only), so no metric data point could ever match."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stagehunt.spl import ast
from stagehunt.spl.commands.registry import command
from stagehunt.spl.errors import SplUnsupportedError
from stagehunt.spl.lexer import Token

if TYPE_CHECKING:
    from stagehunt.spl.parser import Parser


@command("mstats", generating=True)
def parse_mstats(p: Parser, tok: Token) -> ast.Command:
    raise SplUnsupportedError(
        "mstats reads metric data points from a metrics index; stagehunt stores events "
        "only and has no metrics store",
        tok.pos,
        p.text,
        needs="a metrics store",
    )
