"""``anomalydetection``: refused. Its probability model (histogram over the fields, a
threshold Splunk computes per search) is not documented enough to reproduce."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stagehunt.spl import ast
from stagehunt.spl.commands.registry import command
from stagehunt.spl.errors import SplUnsupportedError
from stagehunt.spl.lexer import Token

if TYPE_CHECKING:
    from stagehunt.spl.parser import Parser


@command("anomalydetection")
def parse_anomalydetection(p: Parser, tok: Token) -> ast.Command:
    raise SplUnsupportedError(
        "anomalydetection scores events with a probability model that Splunk does not "
        "document precisely enough to reproduce",
        tok.pos,
        p.text,
    )
