"""``join``: each result merged with the subsearch rows whose join fields hold the same
values (docs/commands-combining.md, J1-J6).

The subsearch is compiled into CTEs of the same statement (its first 50,000 rows, J2);
main results are numbered, left-joined with the subsearch rows on the key values, and the
matches of each result numbered in subsearch order so that ``max=N`` keeps the first N
(J3). ``type=inner`` drops results without a match; ``left``/``outer`` keep them (J1).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from sqlglot import exp

from stagehunt import semantics
from stagehunt.compile import sqlfn as q
from stagehunt.compile.combine import as_kind, as_text, drop_hidden, limit, merged_kind
from stagehunt.compile.commands.registry import transforms
from stagehunt.compile.kinds import Kind, Typed
from stagehunt.compile.ordering import ordered, renumber, row_number
from stagehunt.compile.relation import SEQ, Field, Relation
from stagehunt.spl import ast

if TYPE_CHECKING:
    from stagehunt.compile.compiler import Compiler

LEFT_ROW = "__jl"  # the main result's number
RIGHT_SEQ = "__jrs"  # the matched subsearch row's position (NULL: no match)
MATCH_NO = "__jn"  # the match's number among the result's matches


def _key(f: Field, table: str, other: Kind) -> exp.Expression:
    """A join key's value on one side, comparable with the other side's (J4)."""
    value = q.col(f.alias, table)
    if f.kind is Kind.NUM and other is Kind.NUM:
        return value
    return as_text(value, f.kind)


@transforms(ast.JoinCmd)
def join(c: Compiler, rel: Relation, cmd: ast.JoinCmd) -> Relation:
    sub = limit(c.b, c.pipeline(cmd.subsearch), semantics.JOIN_SUBSEARCH_MAXOUT)
    if cmd.fields:
        keys = list(dict.fromkeys(cmd.fields))
    else:  # no field list: every field both sides have (J6)
        keys = [
            f.name
            for f in rel.fields
            if f.kind is not Kind.NULL and (s := sub.get(f.name)) and s.kind is not Kind.NULL
        ]
    main = c.b.project(rel, [], extra_hidden=[(LEFT_ROW, row_number(list(rel.order)))])
    conds: list[exp.Expression] = []
    for name in keys:
        left, right = main.get(name), sub.get(name)
        if left is None or right is None or Kind.NULL in (left.kind, right.kind):
            conds.append(exp.false())  # a field one side never has matches nothing
            continue
        conds.append(
            exp.EQ(this=_key(left, "m", right.kind), expression=_key(right, "s", left.kind))
        )
    if not keys:
        conds.append(exp.false())
    # sub fields other than the keys come over under hidden names, then are merged
    carried = [f for f in sub.fields if f.name not in keys and f.kind is not Kind.NULL]
    right_cols = [f"__jr{i}" for i in range(len(carried))]
    select = [q.alias(q.col(f.alias, "m"), q.ident(f.alias)) for f in main.fields]
    select += [q.alias(q.col(h, "m"), q.ident(h)) for h in main.hidden]
    select += [
        q.alias(q.col(f.alias, "s"), q.ident(alias))
        for f, alias in zip(carried, right_cols, strict=True)
    ]
    select.append(q.alias(q.col(SEQ, "s"), q.ident(RIGHT_SEQ)))
    joined_sql = (
        q.select(*select)
        .from_(_table(main.source, "m"), copy=False)
        .join(_table(sub.source, "s"), on=q.and_(*conds), join_type="left")
    )
    joined = replace(
        main,
        source=c.b.add(joined_sql),
        hidden=(*main.hidden, *right_cols, RIGHT_SEQ),
    )
    # number each result's matches in subsearch order; keep max of them (J3)
    numbered = c.b.project(
        joined,
        [],
        extra_hidden=[
            (
                MATCH_NO,
                row_number([ordered(q.col(RIGHT_SEQ), False)], [q.col(LEFT_ROW)]),
            )
        ],
    )
    keep: list[exp.Expression] = []
    if cmd.max > 0:
        keep.append(exp.LTE(this=q.col(MATCH_NO), expression=exp.Literal.number(cmd.max)))
    if cmd.join_type == "inner":
        keep.append(q.not_null(q.col(RIGHT_SEQ)))
    if keep:
        numbered = c.b.project(numbered, [], where=q.and_(*keep))
    # merge the subsearch's fields into the result (J5)
    assignments: list[tuple[str, Typed]] = []
    for f, column in zip(carried, right_cols, strict=True):
        mine = numbered.get(f.name)
        have = Kind.NULL if mine is None else mine.kind
        kind = merged_kind([have, f.kind])
        theirs = as_kind(q.col(column), f.kind, kind)
        if mine is None or have is Kind.NULL:
            value: exp.Expression = theirs
        else:
            ours = as_kind(q.col(mine.alias), have, kind)
            value = q.coalesce(theirs, ours) if cmd.overwrite else q.coalesce(ours, theirs)
        assignments.append((f.name, Typed(value, kind)))
    merged = c.b.project(numbered, assignments)
    order = [*main.order, ordered(q.col(MATCH_NO), False)]
    result = renumber(c.b, merged, order, None)
    return drop_hidden(c.b, result, {LEFT_ROW, RIGHT_SEQ, MATCH_NO, *right_cols})


def _table(name: str, alias: str) -> exp.Table:
    return exp.Table(this=exp.to_identifier(name), alias=exp.TableAlias(this=q.ident(alias)))
