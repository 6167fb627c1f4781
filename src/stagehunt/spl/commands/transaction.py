"""``transaction [f ...] [maxspan=] [maxpause=] [maxevents=] [startswith=] [endswith=]
[keepevicted=] [connected=] ...``; ``startswith``/``endswith`` take a search expression
in parentheses or quotes (``startswith=(EventCode=4698)``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stagehunt import semantics
from stagehunt.spl import ast
from stagehunt.spl.commands.registry import command
from stagehunt.spl.errors import SplError, SplSyntaxError, SplUnsupportedError
from stagehunt.spl.lexer import Mode, T, Token, unescape_search

if TYPE_CHECKING:
    from stagehunt.spl.parser import Parser

#: options that only tune Splunk's memory use or rendering: accepted, no effect here
_IGNORED = {"maxopentxn", "maxopenevents", "connected", "unifyends", "keeporphans", "delim",
            "nullstr", "mvraw", "name"}  # fmt: skip


def _span(p: Parser, tok: Token, what: str) -> float | None:
    if tok.text.strip() == "-1":
        return None  # no limit
    seconds, months = p.time_span(tok)
    if months:
        raise p.error(f"{what} in months is not supported", tok)
    return seconds


def _filter(p: Parser, name: Token) -> ast.SearchExpr:
    """The search expression after ``startswith=`` / ``endswith=``."""
    tok = p.peek(Mode.SEARCH)
    if tok.type is T.LPAREN:
        p.next(Mode.SEARCH)
        if p.peek(Mode.SEARCH).type is T.RPAREN:
            raise p.error(f"empty {name.text}=()", tok)
        expr = p.search_and()
        p.expect(T.RPAREN, Mode.SEARCH, f"')' to close {name.text}=(")
        return expr
    if tok.type is T.STRING:
        p.next(Mode.SEARCH)
        from stagehunt.spl.parser import Parser

        text = unescape_search(tok.text)
        try:
            inner = Parser(text)
            expr = inner.search_and()
            inner.end_of_command(name.text)
        except SplError as err:
            raise SplSyntaxError(f"in {name.text}=: {err.message}", tok.pos, p.text) from None
        return expr
    if tok.type is T.WORD and tok.text.lower().startswith("eval"):
        raise SplUnsupportedError(f"{name.text}=eval(...) is not supported", tok.pos, p.text)
    raise p.error(f"{name.text}= needs a search in parentheses or quotes", tok)


@command("transaction")
def parse_transaction(p: Parser, tok: Token) -> ast.TransactionCmd:
    fields: list[str] = []
    maxspan: float | None = None
    maxpause: float | None = None
    maxevents = semantics.TRANSACTION_MAXEVENTS
    starts: ast.SearchExpr | None = None
    ends: ast.SearchExpr | None = None
    keepevicted = False
    while not p.at_command_end():
        nxt = p.peek(Mode.ARGS)
        if nxt.type is T.COMMA:
            p.next(Mode.ARGS)
            continue
        after = p.s._scan(nxt.end, Mode.ARGS)
        # as Parser.option reads one: ``name=`` with nothing between (else an assert failed)
        is_option = (
            nxt.type is T.WORD and after.type is T.OP and after.text == "=" and after.pos == nxt.end
        )
        if not is_option:
            fields.append(p.field_name("a field").text)
            continue
        name = nxt.text.lower()
        if name in ("startswith", "endswith"):
            p.next(Mode.ARGS)
            p.next(Mode.ARGS)
            expr = _filter(p, nxt)
            if name == "startswith":
                starts = expr
            else:
                ends = expr
            continue
        opt = p.option()
        assert opt is not None  # is_option checked what Parser.option needs
        value = opt[1]
        if name == "maxspan":
            maxspan = _span(p, value, name)
        elif name == "maxpause":
            maxpause = _span(p, value, name)
        elif name == "maxevents":
            maxevents = 0 if value.text == "-1" else p.int_value(value, name)
        elif name == "keepevicted":
            keepevicted = p.bool_value(value, name)
        elif name == "mvlist":
            if p.bool_value(value, name):
                raise SplUnsupportedError("transaction mvlist=true is not supported",
                                          value.pos, p.text)  # fmt: skip
        elif name not in _IGNORED:
            raise p.error(f"unknown transaction option '{name}'", value)
    return ast.TransactionCmd(
        tuple(fields), maxspan, maxpause, maxevents, starts, ends, keepevicted, tok.pos
    )
