"""``| tstats [options] func(field) [AS name] ... [FROM datamodel=M.D] [WHERE search]
[BY field ... [span=S]]`` (Search Reference, "tstats"; docs/cim.md T1-T12)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from stagehunt.spl import ast
from stagehunt.spl.commands.registry import command
from stagehunt.spl.errors import SplError, SplSyntaxError, SplUnsupportedError
from stagehunt.spl.lexer import Mode, T, Token

if TYPE_CHECKING:
    from stagehunt.spl.parser import Parser

_CLAUSES = ("from", "where", "by")
#: options accepted with no effect on an emulated, always complete data model (T9)
_IGNORED = ("local", "chunk_size", "include_reduced_buckets")


class _Options:
    def __init__(self) -> None:
        self.summariesonly = False
        self.allow_old_summaries = False
        self.fillnull_value: str | None = None
        self.prestats = False
        self.append = False
        self.span: tuple[float, int] | None = None


def _option(p: Parser, opts: _Options, name: str, value: Token) -> None:
    if name == "summariesonly":
        opts.summariesonly = p.bool_value(value, name)
    elif name == "allow_old_summaries":
        opts.allow_old_summaries = p.bool_value(value, name)
    elif name == "fillnull_value":
        opts.fillnull_value = value.text
    elif name == "prestats":
        opts.prestats = p.bool_value(value, name)
    elif name == "append":
        opts.append = p.bool_value(value, name)
    elif name == "span":
        opts.span = p.time_span(value)
    elif name in _IGNORED:
        pass
    else:
        raise p.error(f"unknown tstats option '{name}'", value.pos - len(name) - 1)


def _at_clause(p: Parser) -> str | None:
    tok = p.peek(Mode.ARGS)
    if tok.type is not T.WORD or tok.text.lower() not in _CLAUSES:
        return None
    if p.text.startswith("(", tok.end):
        return None  # a function call, not a clause keyword
    return tok.text.lower()


@command("tstats")
def parse_tstats(p: Parser, tok: Token) -> ast.TstatsCmd:
    first = p.first_command
    opts = _Options()
    while (opt := p.option()) is not None:
        _option(p, opts, *opt)
    if opts.append and not first:
        raise SplUnsupportedError(
            "tstats append=true (adding to earlier results) is not supported", tok.pos, p.text
        )
    if not first:
        raise p.error("'tstats' is a generating command and must come first", tok)
    if opts.prestats:
        raise SplUnsupportedError(
            "tstats prestats=true is not supported (its rows are only for a following "
            "stats, chart or timechart)",
            tok.pos,
            p.text,
        )
    aggs: list[ast.Aggregation] = []
    while not p.at_command_end() and _at_clause(p) is None:
        if p.peek(Mode.ARGS).type is T.COMMA:
            p.next(Mode.ARGS)
            continue
        if (opt := p.option()) is not None:
            _option(p, opts, *opt)
            continue
        aggs.append(p.aggregation())
    if not aggs:
        raise p.error("'tstats' needs at least one function such as count", tok)
    dataset: Token | None = None
    where: ast.SearchExpr | None = None
    by: list[str] = []
    while not p.at_command_end():
        clause = _at_clause(p)
        if clause is None:
            if (opt := p.option()) is not None:
                _option(p, opts, *opt)
                continue
            bad = p.peek(Mode.ARGS)
            raise p.error(f"expected FROM, WHERE or BY in tstats, found {bad.describe()}", bad)
        keyword = p.next(Mode.ARGS)
        if clause == "from":
            dataset = _from(p, keyword)
        elif clause == "where":
            where = _where(p, keyword)
        else:
            by = _by(p, opts, keyword)
    p.end_of_command("tstats")
    nodename, where = _take_nodename(where)
    span, months = opts.span or (0.0, 0)
    return ast.TstatsCmd(
        aggregations=tuple(aggs),
        datamodel=dataset.text if dataset is not None else None,
        nodename=nodename,
        where=where,
        by=tuple(by),
        span=span,
        span_months=months,
        fillnull_value=opts.fillnull_value,
        summariesonly=opts.summariesonly,
        allow_old_summaries=opts.allow_old_summaries,
        pos=tok.pos,
        datamodel_pos=dataset.pos if dataset is not None else tok.pos,
    )


def _from(p: Parser, keyword: Token) -> Token:
    """``FROM datamodel=Model.Dataset`` (the name may be quoted)."""
    word = p.next(Mode.ARGS)
    if word.type is not T.WORD or word.text.lower() != "datamodel":
        raise p.error(f"expected datamodel= after FROM, found {word.describe()}", word)
    p.expect(T.OP, Mode.ARGS, "'=' after datamodel")
    value = p.field_name("a data model name after datamodel=")
    del keyword
    return value


def _where_end(p: Parser) -> int:
    """Where the WHERE clause ends: at a top-level ``by`` (not a value after ``=``), a pipe
    or the end of the query."""
    pos = p.s.pos
    depth = 0
    after_op = False
    while True:
        tok = p.s._scan(pos, Mode.SEARCH)
        if tok.type in (T.EOF, T.PIPE) or (tok.type is T.RBRACKET and depth == 0):
            return tok.pos
        if tok.type is T.LPAREN:
            depth += 1
        elif tok.type is T.RPAREN:
            depth -= 1
        elif (
            tok.type is T.WORD
            and depth == 0
            and not after_op
            and tok.text.lower() == "by"
            and not p.text.startswith("(", tok.end)
        ):
            return tok.pos
        after_op = tok.type is T.OP
        pos = tok.end


def _where(p: Parser, keyword: Token) -> ast.SearchExpr:
    """The WHERE clause: search terms with search precedence (T3), up to BY."""
    from stagehunt.spl.parser import Parser as SubParser

    end = _where_end(p)
    sub = SubParser(p.text[:end])
    sub.s.pos = p.s.pos
    if sub.at_command_end(Mode.SEARCH):
        raise p.error("'where' in tstats needs search terms", keyword)
    try:
        expr = sub.search_and()
        rest = sub.peek(Mode.SEARCH)
        if rest.type is not T.EOF:
            raise SplSyntaxError(f"unexpected {rest.describe()} in tstats where", rest.pos, "")
    except SplError as err:
        raise type(err)(err.message, err.pos, p.text) from None
    p.s.pos = end
    return expr


def _by(p: Parser, opts: _Options, keyword: Token) -> list[str]:
    """``BY field ...`` with ``span=`` anywhere among the fields."""
    fields: list[str] = []
    while not p.at_command_end():
        if p.peek(Mode.ARGS).type is T.COMMA:
            p.next(Mode.ARGS)
            continue
        if (opt := p.option()) is not None:
            _option(p, opts, *opt)
            continue
        fields.append(p.field_name("a field name after BY").text)
    if not fields:
        raise p.error("'by' needs at least one field", keyword)
    return fields


def _take_nodename(
    where: ast.SearchExpr | None,
) -> tuple[str | None, ast.SearchExpr | None]:
    """``nodename=Root.Child`` among the top-level terms of WHERE names the dataset (T2)."""

    def is_node(item: ast.SearchExpr) -> bool:
        return isinstance(item, ast.FieldMatch) and item.field == "nodename" and item.op == "="

    if where is None:
        return None, None
    if isinstance(where, ast.FieldMatch) and is_node(where):
        return where.value.text, None
    if isinstance(where, ast.SearchAnd):
        nodes = [i for i in where.items if is_node(i)]
        if nodes:
            node = nodes[-1]
            assert isinstance(node, ast.FieldMatch)
            rest = tuple(i for i in where.items if not is_node(i))
            if not rest:
                return node.value.text, None
            return node.value.text, rest[0] if len(rest) == 1 else replace(where, items=rest)
    return None, where
