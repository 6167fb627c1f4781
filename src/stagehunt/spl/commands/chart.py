"""``chart [limit=] [useother=] [usenull=] aggs [over x] [by y]`` (also ``by x y``) and
``timechart [span=] [limit=] [useother=] [usenull=] aggs [by y]``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stagehunt.spl import ast
from stagehunt.spl.commands.registry import command
from stagehunt.spl.errors import SplUnsupportedError
from stagehunt.spl.lexer import Mode, T, Token

if TYPE_CHECKING:
    from stagehunt.spl.parser import Parser

_ACCEPTED = ("cont", "partial", "fixedrange", "format", "sep", "nullstr", "otherstr")


def _fields(p: Parser) -> list[str]:
    """Fields after ``by``, up to ``over`` or an option (``by h u limit=1``)."""
    out: list[str] = []
    while not p.at_command_end():
        tok = p.peek(Mode.ARGS)
        if tok.type is T.COMMA:
            p.next(Mode.ARGS)
            continue
        after = p.s._scan(tok.end, Mode.ARGS)
        if tok.type is T.WORD and (tok.text.lower() == "over" or after.text == "="):
            break
        out.append(p.field_name("a field").text)
    return out


@command("chart", "timechart")
def parse_chart(p: Parser, tok: Token) -> ast.ChartCmd:
    name = tok.text.lower()
    span = 0.0
    limit, useother = 10, True
    aggs: list[ast.Aggregation] = []
    over: str | None = "_time" if name == "timechart" else None
    by: list[str] = []
    while not p.at_command_end():
        opt = p.option()
        if opt is not None:
            key, value = opt
            if key == "span" and name == "timechart":
                span, months = p.time_span(value)
                if months:
                    raise SplUnsupportedError("timechart span in months is not supported",
                                              value.pos, p.text)  # fmt: skip
            elif key == "limit":
                if value.text.lower().startswith("bottom"):
                    raise SplUnsupportedError("limit=bottomN is not supported", value.pos, p.text)
                digits = value.text.lower().removeprefix("top") or "10"
                limit = p.int_value(Token(value.type, digits, value.pos, value.end), key)
            elif key == "useother":
                useother = p.bool_value(value, key)
            elif key == "usenull":
                if not p.bool_value(value, key):
                    raise SplUnsupportedError(f"{name} usenull=false is not supported",
                                              value.pos, p.text)  # fmt: skip
            elif key in _ACCEPTED:
                continue
            else:
                raise SplUnsupportedError(f"{name} option '{key}' is not supported",
                                          value.pos, p.text)  # fmt: skip
            continue
        nxt = p.peek(Mode.ARGS)
        if nxt.type is T.COMMA:
            p.next(Mode.ARGS)
            continue
        if nxt.type is T.WORD and nxt.text.lower() == "over" and name == "chart":
            p.next(Mode.ARGS)
            over = p.field_name("a field after 'over'").text
            continue
        if nxt.type is T.WORD and nxt.text.lower() == "by":
            p.next(Mode.ARGS)
            by = _fields(p)
            if not by:
                raise p.error("'by' needs a field", p.peek(Mode.ARGS))
            continue
        aggs.append(p.aggregation())
    if not aggs:
        raise p.error(f"'{name}' needs a function such as count", tok)
    if name == "chart" and over is None and by:
        over, by = by[0], by[1:]  # `chart count by x y`: x is the row, y the series
    if len(by) > 1:
        raise p.error(f"{name} takes at most one split-by field", tok)
    if name == "timechart" and span == 0:
        raise SplUnsupportedError(
            "timechart without span= is not supported (Splunk picks the span from the "
            "search's time range, which a query run here does not have)",
            tok.pos,
            p.text,
        )
    return ast.ChartCmd(name, tuple(aggs), over, by[0] if by else None, span, limit,
                        useother, tok.pos)  # fmt: skip
