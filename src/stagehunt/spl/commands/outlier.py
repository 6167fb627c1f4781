"""``outlier``: refused. Its thresholds come from percentiles whose interpolation Splunk
does not document, so the values it removes could not be matched exactly."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stagehunt.spl import ast
from stagehunt.spl.commands.registry import command
from stagehunt.spl.errors import SplUnsupportedError
from stagehunt.spl.lexer import Token

if TYPE_CHECKING:
    from stagehunt.spl.parser import Parser


@command("outlier")
def parse_outlier(p: Parser, tok: Token) -> ast.Command:
    raise SplUnsupportedError(
        "outlier removes or clips values outside an interquartile range whose percentile "
        "interpolation Splunk does not document",
        tok.pos,
        p.text,
    )
