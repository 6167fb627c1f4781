"""Helpers for commands that combine result sets (append, appendpipe, join, multisearch,
the subsearch filter): one kind per field across sets, values converted to it, a
subsearch's row limit, and dropping hidden columns a command used on the way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from sqlglot import exp

from stagehunt.compile import sqlfn as q
from stagehunt.compile.kinds import Kind
from stagehunt.compile.ordering import ordered, renumber, row_number
from stagehunt.compile.relation import SEQ, Field, QueryBuilder, Relation, alias_for

SQL_TYPE = {Kind.STR: "VARCHAR", Kind.NUM: "DOUBLE", Kind.MV: "VARCHAR[]"}
#: Hidden column: which input set a row of a union came from.
BRANCH = "__b"


def merged_kind(kinds: Sequence[Kind]) -> Kind:
    """One kind for a field across sets: any multivalue wins, then string, then number."""
    present = {k for k in kinds if k is not Kind.NULL}
    for k in (Kind.MV, Kind.STR, Kind.NUM):
        if k in present:
            return k
    return Kind.NULL


def as_kind(value: exp.Expression, have: Kind, kind: Kind) -> exp.Expression:
    """``value`` (of kind ``have``) as ``kind`` (numbers as Splunk renders them)."""
    if have is kind:
        return value
    if have is Kind.NULL:
        return q.cast(exp.Null(), SQL_TYPE[kind])
    text = q.number_to_string(value) if have is Kind.NUM else value
    if kind is Kind.MV:
        return q.case((q.not_null(value), exp.Array(expressions=[text])))
    if have is Kind.MV:  # a multivalue read as one string: its first value
        return q.item(value, 1)
    return text


def as_text(value: exp.Expression, kind: Kind) -> exp.Expression:
    """One string for a value: numbers rendered, multivalue values joined by newlines."""
    if kind is Kind.NUM:
        return q.number_to_string(value)
    if kind is Kind.MV:
        return exp.ArrayToString(this=value, expression=q.string("\n"))
    return value


def limit(b: QueryBuilder, rel: Relation, rows: int) -> Relation:
    """The first ``rows`` results in result order (a subsearch's ``maxout``)."""
    return renumber(b, rel, list(rel.order), rows or None)


def drop_hidden(b: QueryBuilder, rel: Relation, names: set[str]) -> Relation:
    kept = tuple(h for h in rel.hidden if h not in names)
    select = [q.col(f.alias) for f in rel.fields] + [q.col(h) for h in kept]
    source = b.add(q.select(*select).from_(exp.to_identifier(rel.source), copy=False))
    return replace(rel, source=source, hidden=kept)


def stack(b: QueryBuilder, branches: Sequence[Relation], *, events: bool = False) -> Relation:
    """The sets one after the other: each set's rows in its own order, set by set (append).
    Every field any set has is kept (null elsewhere), with one kind per field."""
    names: list[str] = []
    for rel in branches:
        names += [f.name for f in rel.fields if f.name not in names]
    kinds = {
        n: merged_kind([f.kind for rel in branches if (f := rel.get(n)) is not None]) for n in names
    }
    names = [n for n in names if kinds[n] is not Kind.NULL]
    taken: set[str] = {SEQ, BRANCH, "__rn"}
    fields = [Field(n, alias_for(n, taken), kinds[n]) for n in names]
    selects: list[exp.Select] = []
    for number, rel in enumerate(branches):
        items: list[exp.Expression] = []
        for f in fields:
            mine = rel.get(f.name)
            have = Kind.NULL if mine is None else mine.kind
            value = exp.Null() if mine is None else q.col(mine.alias)
            items.append(q.alias(as_kind(value, have, f.kind), q.ident(f.alias)))
        items += [
            q.alias(row_number(list(rel.order)), q.ident("__rn")),
            q.alias(q.number(number), q.ident(BRANCH)),
        ]
        selects.append(q.select(*items).from_(exp.to_identifier(rel.source), copy=False))
    merged: exp.Expression = selects[0]
    for s in selects[1:]:
        merged = exp.union(merged, s, distinct=False)
    source = b.add(merged)
    order = [ordered(q.col(BRANCH), False), ordered(q.col("__rn"), False)]
    select = q.select(
        *[q.col(f.alias) for f in fields], q.alias(row_number(order), q.ident(SEQ))
    ).from_(exp.to_identifier(source), copy=False)
    pinned = frozenset(n for rel in branches for n in rel.pinned if n in names)
    return Relation(
        b.add(select),
        tuple(fields),
        (ordered(q.col(SEQ), False),),
        (SEQ,),
        pinned=pinned,
        events=events,
    )
