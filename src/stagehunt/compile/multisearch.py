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
from stagehunt.compile.combine import BRANCH, SQL_TYPE, as_kind, merged_kind
from stagehunt.compile.kinds import Kind
from stagehunt.compile.ordering import ordered, row_number
from stagehunt.compile.relation import SEQ, TIME_KEY, Field, QueryBuilder, Relation, alias_for


def _as_kind(f: Field, kind: Kind) -> exp.Expression:
    return as_kind(q.col(f.alias), f.kind, kind)


def union(b: QueryBuilder, branches: Sequence[Relation]) -> Relation:
    """The branches' events as one relation in search order."""
    names: list[str] = []
    for rel in branches:
        names += [f.name for f in rel.fields if f.name not in names]
    kinds = {
        n: merged_kind([f.kind for rel in branches if (f := rel.get(n)) is not None]) for n in names
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
                value: exp.Expression = q.cast(exp.Null(), SQL_TYPE[f.kind])
            else:
                value = _as_kind(mine, f.kind)
            items.append(q.alias(value, q.ident(f.alias)))
        items += [
            q.alias(q.col(TIME_KEY), q.ident(TIME_KEY)),
            q.alias(q.col(SEQ), q.ident(SEQ)),
            q.alias(q.number(number), q.ident(BRANCH)),
        ]
        selects.append(q.select(*items).from_(exp.to_identifier(rel.source), copy=False))
    merged: exp.Expression = selects[0]
    for s in selects[1:]:
        merged = exp.union(merged, s, distinct=False)
    source = b.add(merged)
    order = [
        ordered(q.col(TIME_KEY), semantics.SEARCH_ORDER_NEWEST_FIRST),
        ordered(q.col(BRANCH), False),
        ordered(q.col(SEQ), False),
    ]
    select = q.select(
        *[q.col(f.alias) for f in fields],
        q.col(TIME_KEY),
        q.alias(row_number(order), q.ident(SEQ)),
    ).from_(exp.to_identifier(source), copy=False)
    return Relation(b.add(select), tuple(fields), (ordered(q.col(SEQ), False),), (TIME_KEY, SEQ))
