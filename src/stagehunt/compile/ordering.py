"""Sort keys as Splunk compares values (rule 7.4/7.5) and the search order (rule 1.4)."""

from __future__ import annotations

from dataclasses import replace

from sqlglot import exp

from stagehunt import semantics
from stagehunt.compile import sqlfn as q
from stagehunt.compile.kinds import Kind, Typed
from stagehunt.compile.relation import SEQ, TIME_KEY, Numbering, QueryBuilder, Relation
from stagehunt.spl import ast


def ordered(e: exp.Expression, desc: bool) -> exp.Ordered:
    return exp.Ordered(this=e, desc=desc, nulls_first=False)


def sort_keys(value: Typed, desc: bool, coerce: str = "auto") -> list[exp.Ordered]:
    """ORDER BY items for one sort key. Missing values always come last (7.5)."""
    if value.kind is Kind.NULL:
        return []
    v = value.sql
    if value.kind is Kind.MV:
        v = q.item(v, 1)
    missing = ordered(q.is_null(v), False)
    if value.kind is Kind.NUM:
        return [missing, ordered(v, desc)]
    if coerce == "str":
        return [missing, ordered(v, desc)]
    if coerce == "num":
        num = q.to_number(v)
        return [ordered(q.is_null(num), False), ordered(num, desc)]
    if coerce == "ip":
        from stagehunt.compile.search import ipv4_to_int

        return [missing, ordered(ipv4_to_int(v), desc), ordered(v, desc)]
    # auto: numbers numerically, before strings when ascending
    # (semantics.SORT_NUMBERS_BEFORE_STRINGS). The number is NULL for a string, so its
    # NULLS FIRST/LAST puts the strings after or before every number, and strings then
    # compare as text (numbers that are equal numerically, "11" and "011", tie, and keep
    # their input order). Two number tests per key, not three: DuckDB binds and plans
    # every copy, and a statement of ESCU holds a dozen sort keys.
    strings_first = desc if semantics.SORT_NUMBERS_BEFORE_STRINGS else not desc
    number = exp.Ordered(this=q.to_number(v), desc=desc, nulls_first=strings_first)
    text_only = q.case((exp.Not(this=q.is_number(v)), v))
    return [missing, number, ordered(text_only, desc)]


def row_number(
    order: list[exp.Ordered], partition: list[exp.Expression] | None = None
) -> exp.Expression:
    spec = exp.Window(
        this=exp.RowNumber(),
        partition_by=partition or None,
        order=exp.Order(expressions=order) if order else None,
    )
    return spec


def number_rows(b: QueryBuilder, rel: Relation, order: list[exp.Ordered]) -> Relation:
    """``rel``'s rows (no hidden column) numbered by ``order`` into ``__seq``, the new
    order; remembered as a :class:`Numbering` so that a filter right after can run first."""
    select = q.select(
        *b.passthrough(rel), q.alias(row_number([q.own(o) for o in order]), q.ident(SEQ))
    ).from_(exp.to_identifier(rel.source), copy=False)
    source = b.add(select)
    return replace(
        rel,
        source=source,
        hidden=(SEQ,),
        order=(exp.Ordered(this=q.col(SEQ)),),
        numbering=Numbering(source, rel.source, tuple(order)),
    )


def filter_before_numbering(
    b: QueryBuilder, rel: Relation, numbering: Numbering, cond: exp.Expression
) -> Relation:
    """``rel`` filtered by ``cond`` (which names fields only, never ``__seq``), the filter
    run on the rows before ``numbering`` numbered them and the rows kept numbered the
    same way: the same rows in the same order, one sort of the rows kept."""
    unnumbered = replace(rel, source=numbering.unnumbered, hidden=(), order=(), numbering=None)
    kept = b.project(unnumbered, [], where=cond)
    return number_rows(b, kept, list(numbering.order))


#: Hidden column: a row number, while a command renumbers the results.
RN = "__rn"


def renumber(
    b: QueryBuilder,
    rel: Relation,
    order: list[exp.Ordered],
    limit: int | None,
    partition: list[exp.Expression] | None = None,
) -> Relation:
    """Number rows by ``order`` into ``__seq``, keep ``limit`` rows; that is the new order."""
    numbered = b.project(rel, [], extra_hidden=[(RN, row_number(order, partition))])
    where = None if limit is None else exp.LTE(this=q.col(RN), expression=exp.Literal.number(limit))
    hidden = [h for h in numbered.hidden if h not in (RN, SEQ, TIME_KEY)]
    select = [q.col(f.alias) for f in numbered.fields] + [q.col(h) for h in hidden]
    select.append(q.alias(q.col(RN), q.ident(SEQ)))
    query = q.select(*select).from_(exp.to_identifier(numbered.source), copy=False)
    if where is not None:
        query = query.where(where)
    return replace(
        numbered,
        source=b.add(query),
        hidden=(*hidden, SEQ),
        order=(exp.Ordered(this=q.col(SEQ)),),
    )


def sort_order(
    rel: Relation, keys: tuple[ast.SortKey, ...], reverse: bool = False
) -> list[exp.Ordered]:
    """ORDER BY for sort keys, then the input order: ties keep it (stable, 7.6)."""
    order: list[exp.Ordered] = []
    for key in keys:
        order += sort_keys(rel.typed(key.field), key.descending != reverse, key.coerce)
    return order + list(rel.order)
