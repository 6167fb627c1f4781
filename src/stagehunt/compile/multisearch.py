"""``multisearch``: the union of several streaming subsearches over the events.

pySigma's Splunk backend writes temporal correlation rules as ``| multisearch [search A |
eval event_type="a"] [search B | eval event_type="b"] | bin ... | stats ...``. Each
subsearch is compiled on its own copy of the events; the union keeps every field any branch
has (null elsewhere) and interleaves the results in search order (newest first, then branch,
then each branch's own order), as Splunk merges the streams by time.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlglot import exp

from stagehunt import semantics
from stagehunt.compile import sqlfn as q
from stagehunt.compile.kinds import Kind
from stagehunt.compile.ordering import ordered, row_number
from stagehunt.compile.relation import SEQ, TIME_KEY, Field, QueryBuilder, Relation, alias_for

BRANCH = "__b"
_SQL_TYPE = {Kind.STR: "VARCHAR", Kind.NUM: "DOUBLE", Kind.MV: "VARCHAR[]"}


def _merged_kind(kinds: Sequence[Kind]) -> Kind:
    """One kind for a field across branches: any multivalue wins, then string, then number."""
    present = {k for k in kinds if k is not Kind.NULL}
    for k in (Kind.MV, Kind.STR, Kind.NUM):
        if k in present:
            return k
    return Kind.NULL


def _as_kind(f: Field, kind: Kind) -> exp.Expression:
    value = q.col(f.alias)
    if f.kind is kind:
        return value
    text = q.number_to_string(value) if f.kind is Kind.NUM else value
    if kind is Kind.MV:
        return q.case((q.not_null(value), exp.Array(expressions=[text])))
    return text


def union(b: QueryBuilder, branches: Sequence[Relation]) -> Relation:
    """The branches' events as one relation in search order."""
    names: list[str] = []
    for rel in branches:
        names += [f.name for f in rel.fields if f.name not in names]
    kinds = {
        n: _merged_kind([f.kind for rel in branches if (f := rel.get(n)) is not None])
        for n in names
    }
    names = [n for n in names if kinds[n] is not Kind.NULL]
    taken: set[str] = {TIME_KEY, SEQ, BRANCH}
    fields = [Field(n, alias_for(n, taken), kinds[n]) for n in names]
    selects: list[exp.Select] = []
    for number, rel in enumerate(branches):
        items: list[exp.Expression] = []
        for f in fields:
            mine = rel.get(f.name)
            if mine is None or mine.kind is Kind.NULL:
                value: exp.Expression = exp.cast(exp.Null(), _SQL_TYPE[f.kind])
            else:
                value = _as_kind(mine, f.kind)
            items.append(exp.alias_(value, q.ident(f.alias)))
        items += [
            exp.alias_(q.col(TIME_KEY), q.ident(TIME_KEY)),
            exp.alias_(q.col(SEQ), q.ident(SEQ)),
            exp.alias_(q.number(number), q.ident(BRANCH)),
        ]
        selects.append(exp.select(*items).from_(exp.to_identifier(rel.source)))
    merged: exp.Expression = selects[0]
    for s in selects[1:]:
        merged = exp.union(merged, s, distinct=False)
    source = b.add(merged)
    order = [
        ordered(q.col(TIME_KEY), semantics.SEARCH_ORDER_NEWEST_FIRST),
        ordered(q.col(BRANCH), False),
        ordered(q.col(SEQ), False),
    ]
    select = exp.select(
        *[q.col(f.alias) for f in fields],
        q.col(TIME_KEY),
        exp.alias_(row_number(order), q.ident(SEQ)),
    ).from_(exp.to_identifier(source))
    return Relation(b.add(select), tuple(fields), (ordered(q.col(SEQ), False),), (TIME_KEY, SEQ))
