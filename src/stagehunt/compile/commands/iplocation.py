"""``iplocation``: City, Country, Region, lat, lon of the address in a field, from a
GeoIP database (stagehunt/geoip.py; docs/commands-combining.md, G1-G3).

The statement cannot call the database, so the addresses are looked up before it runs:
a deferred table (compile/outputs.py) selects the distinct addresses at this point of
the pipeline, Python looks each up once, and the statement left-joins the results on the
address. Without a database the command is refused at compile time, saying how to get one.
"""

from __future__ import annotations

import functools
from dataclasses import replace
from typing import TYPE_CHECKING

from sqlglot import exp

from stagehunt import geoip
from stagehunt.compile import sqlfn as q
from stagehunt.compile.combine import drop_hidden
from stagehunt.compile.commands.registry import transforms
from stagehunt.compile.kinds import Kind, Typed
from stagehunt.compile.outputs import DeferredTable
from stagehunt.compile.relation import parenthesize
from stagehunt.spl import ast
from stagehunt.spl.errors import SplUnsupportedError

if TYPE_CHECKING:
    from stagehunt.compile.compiler import Compiler
    from stagehunt.compile.relation import Relation


def _address(value: Typed) -> exp.Expression:
    """The address as text: a multivalue field's first value (semantics G2)."""
    if value.kind is Kind.MV:
        return q.item(value.sql, 1)
    if value.kind is Kind.NUM:
        return q.number_to_string(value.sql)
    return value.sql


def _qualified(e: exp.Expression, table: str) -> exp.Expression:
    e = e.copy()
    for column in e.find_all(exp.Column):
        if not column.table:
            column.set("table", q.ident(table))
    return e


@transforms(ast.IplocationCmd, streaming=True)
def iplocation(c: Compiler, rel: Relation, cmd: ast.IplocationCmd) -> Relation:
    try:
        path = geoip.database_path(c.lookups.geoip)
    except geoip.GeoipUnavailable as err:
        raise SplUnsupportedError(str(err), cmd.pos, c.query, needs="a GeoIP database") from None
    value = rel.typed(cmd.field)
    if value.is_null:
        return rel  # no address anywhere: no location field is set (G3)
    address = _address(value)
    sql_name = f"__geoip_{len(c.deferred)}"
    distinct = (
        q.select(q.alias(address, q.ident(geoip.IP)))
        .distinct()
        .from_(exp.to_identifier(rel.source), copy=False)
        .where(q.not_null(address))
    )
    for name, cte in c.b.ctes:
        distinct = distinct.with_(exp.to_identifier(name), as_=cte.copy(), copy=False)
    c.deferred.append(
        DeferredTable(sql_name, parenthesize(distinct), functools.partial(geoip.table, path))
    )
    names = geoip.ALL_FIELDS if cmd.allfields else geoip.FIELDS
    hidden = [f"__geo{i}" for i in range(len(names))]
    select = [q.alias(q.col(f.alias, "r"), q.ident(f.alias)) for f in rel.fields]
    select += [q.alias(q.col(h, "r"), q.ident(h)) for h in rel.hidden]
    select += [q.alias(q.col(name, "g"), q.ident(h)) for name, h in zip(names, hidden, strict=True)]
    joined = (
        q.select(*select)
        .from_(_table(rel.source, "r"), copy=False)
        .join(
            _table(sql_name, "g"),
            on=exp.EQ(this=q.col(geoip.IP, "g"), expression=_qualified(address, "r")),
            join_type="left",
        )
    )
    located = replace(rel, source=c.b.add(joined), hidden=(*rel.hidden, *hidden))
    assignments = [
        (cmd.prefix + name, Typed(q.col(h), Kind.NUM if name in geoip.NUMERIC else Kind.STR))
        for name, h in zip(names, hidden, strict=True)
    ]
    return drop_hidden(c.b, c.b.project(located, assignments), set(hidden))


def _table(name: str, alias: str) -> exp.Table:
    return exp.Table(this=exp.to_identifier(name), alias=exp.TableAlias(this=q.ident(alias)))
