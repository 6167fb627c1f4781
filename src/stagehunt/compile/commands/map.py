"""``map search="template"``: for each of the first ``maxsearches`` results, the template
search with ``$field$`` replaced by that result's value; the outputs one after the other
(docs/commands-combining.md, M1-M3).

Splunk runs one search per result. Here the template is compiled once, each ``$field$``
standing for a column of the input row, and the events are joined with the (at most
``maxsearches``) input rows: an event is output once for each row whose values its terms
match, rows in input order. Supported templates: a search (terms, ``field=$token$`` with
the token anywhere in the value) followed by streaming commands.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING

from sqlglot import exp

from stagehunt.compile import sqlfn as q
from stagehunt.compile.combine import drop_hidden, limit
from stagehunt.compile.commands.registry import is_streaming, transforms
from stagehunt.compile.eval import ExprCompiler
from stagehunt.compile.ordering import ordered, renumber
from stagehunt.compile.relation import SEQ
from stagehunt.compile.search import SearchCompiler
from stagehunt.spl import ast
from stagehunt.spl.errors import SplError, SplSyntaxError, SplUnsupportedError
from stagehunt.spl.parser import parse

if TYPE_CHECKING:
    from stagehunt.compile.compiler import Compiler
    from stagehunt.compile.relation import Relation

TOKEN = re.compile(r"\$([^$\s]+)\$")
ROW = "__mr"  # the input row a search belongs to


def _template(c: Compiler, cmd: ast.MapCmd) -> tuple[ast.Pipeline, list[str]]:
    """The template parsed with each ``$field$`` as a placeholder word; the fields."""
    names: list[str] = []

    def placeholder(m: re.Match[str]) -> str:
        if m.group(1) not in names:
            names.append(m.group(1))
        return f"__maptok{names.index(m.group(1))}__"

    text = TOKEN.sub(placeholder, cmd.template)
    try:
        pipeline = parse(c.macros.expand(text))
    except SplError as err:
        raise SplSyntaxError(f"in map's search: {err.message}", cmd.template_pos, c.query) from None
    first = pipeline.commands[0]
    if not isinstance(first, ast.SearchCmd):
        raise SplUnsupportedError(
            "map is supported for a template that is a search (search ... | streaming "
            "commands), not one starting with a generating command",
            cmd.template_pos,
            c.query,
        )
    for later in pipeline.commands[1:]:
        if not is_streaming(later):
            raise SplUnsupportedError(
                "map's search may only hold streaming commands after its terms",
                cmd.template_pos,
                c.query,
            )
    return pipeline, names


@transforms(ast.MapCmd)
def map_(c: Compiler, rel: Relation, cmd: ast.MapCmd) -> Relation:
    pipeline, names = _template(c, cmd)
    inputs = limit(c.b, rel, cmd.maxsearches)  # M1: __seq numbers them 1..maxsearches
    values = ExprCompiler(inputs, c.query, c.now)
    bound = [f"__mb{i}" for i in range(len(names))]
    select = [q.alias(q.col(SEQ), q.ident(ROW))]
    for name, column in zip(names, bound, strict=True):
        value = inputs.typed(name)  # M2: the value as text; a missing one is null
        select.append(q.alias(values.string(value), q.ident(column)))
    rows = c.b.add(q.select(*select).from_(exp.to_identifier(inputs.source), copy=False))
    events = c.base()
    joined_select = [q.alias(q.col(f.alias, "e"), q.ident(f.alias)) for f in events.fields]
    joined_select += [q.alias(q.col(h, "e"), q.ident(h)) for h in events.hidden]
    joined_select += [q.alias(q.col(h, "i"), q.ident(h)) for h in (ROW, *bound)]
    joined = (
        q.select(*joined_select)
        .from_(_table(events.source, "e"), copy=False)
        .join(_table(rows, "i"), join_type="cross")
    )
    cur = replace(events, source=c.b.add(joined), hidden=(*events.hidden, ROW, *bound))
    first = pipeline.commands[0]
    assert isinstance(first, ast.SearchCmd)
    if first.expr is not None:
        bindings = {f"__maptok{i}__": q.col(b) for i, b in enumerate(bound)}
        pred = SearchCompiler(cur, pipeline.text, c.now, bindings=bindings).compile(first.expr)
        cur = c.b.project(cur, [], where=pred)
    for later in pipeline.commands[1:]:
        cur = c.command(cur, later)
    # M3: each search's results in turn, in input order, each in its own (search) order
    cur = renumber(c.b, cur, [ordered(q.col(ROW), False), *cur.order], None)
    return drop_hidden(c.b, cur, {ROW, *bound})


def _table(name: str, alias: str) -> exp.Table:
    return exp.Table(this=exp.to_identifier(name), alias=exp.TableAlias(this=q.ident(alias)))
