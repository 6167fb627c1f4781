"""``top`` / ``rare``: the most (least) common value tuples of fields, with counts and
percentages, per group of the by-fields (docs/commands.md, C-top-1..6, C-rare-1; Search
Reference, top and rare)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from stagehunt import semantics
from stagehunt.compile import sqlfn as q
from stagehunt.compile.commands.registry import transforms
from stagehunt.compile.kinds import Kind, Typed
from stagehunt.compile.ordering import ordered, row_number, sort_keys
from stagehunt.compile.relation import SEQ, Field, Relation, alias_for
from stagehunt.spl import ast

if TYPE_CHECKING:
    from stagehunt.compile.compiler import Compiler

_COUNT, _TOTAL, _RANK, _OTHER = "__n", "__total", "__rank", "__other"


@transforms(ast.TopCmd)
def top(c: Compiler, rel: Relation, cmd: ast.TopCmd) -> Relation:
    keys = [*cmd.by, *cmd.fields]
    # C-top-2: each value of a multivalue field counts on its own (as stats by, rule 6.4)
    split: list[tuple[str, exp.Expression]] = []
    key_sql: dict[str, Typed] = {}
    for i, name in enumerate(keys):
        value = rel.typed(name)
        if value.kind is Kind.MV:
            hidden = f"__topk{i}"
            split.append((hidden, exp.Unnest(expressions=[value.sql])))
            key_sql[name] = Typed(q.col(hidden), Kind.STR)
        else:
            key_sql[name] = value
    if split:
        rel = c.b.project(rel, [], extra_hidden=split)
    if any(t.is_null for t in key_sql.values()):
        return _empty(c, cmd, keys)
    aliases: dict[str, str] = {}
    taken: set[str] = set()
    for name in keys:
        aliases[name] = alias_for(name, taken)
    present = q.and_(*[q.not_null(key_sql[n].sql) for n in keys])  # C-top-3
    grouped = (
        q.select(
            *[q.alias(key_sql[n].sql, q.ident(aliases[n])) for n in keys],
            q.alias(exp.Count(this=exp.Star()), q.ident(_COUNT)),
        )
        .from_(exp.to_identifier(rel.source), copy=False)
        .where(present)
        .group_by(*[key_sql[n].sql for n in keys])
    )
    counts = c.b.add(grouped)
    typed = {n: Typed(q.col(aliases[n]), key_sql[n].kind) for n in keys}
    partition = [q.col(aliases[n]) for n in cmd.by] or None
    # C-top-4 / C-rare-1: by count, ties by the values (top: descending, rare: ascending)
    desc = cmd.name == "top"
    order = [ordered(q.col(_COUNT), desc)]
    for n in cmd.fields:
        order += sort_keys(typed[n], desc)
    total = exp.Window(this=q.fn("sum", q.col(_COUNT)), partition_by=partition)
    ranked = q.select(
        *[q.col(aliases[n]) for n in keys],
        q.col(_COUNT),
        q.alias(total, q.ident(_TOTAL)),
        q.alias(row_number(order, partition), q.ident(_RANK)),
    ).from_(exp.to_identifier(counts), copy=False)
    ranked_cte = c.b.add(ranked)
    kept = q.select(*[q.col(aliases[n]) for n in keys], q.col(_COUNT), q.col(_TOTAL), q.col(_RANK))
    kept = kept.from_(exp.to_identifier(ranked_cte), copy=False)
    if cmd.limit > 0:  # C-top-1: limit (default 10; 0 = all)
        kept = kept.where(exp.LTE(this=q.col(_RANK), expression=q.number(cmd.limit)))
    source = c.b.add(kept)
    if cmd.useother and cmd.limit > 0:
        source = _with_other(c, cmd, keys, aliases, typed, ranked_cte, source)
    return _output(c, cmd, keys, aliases, typed, source)


def _with_other(
    c: Compiler,
    cmd: ast.TopCmd,
    keys: list[str],
    aliases: dict[str, str],
    typed: dict[str, Typed],
    ranked: str,
    kept: str,
) -> str:
    """C-top-6: one more row per group for the values past the limit, ``otherstr`` in the
    field-list fields, their count summed."""
    cut = exp.GT(this=q.col(_RANK), expression=q.number(cmd.limit))
    values: list[exp.Expression] = []
    for n in keys:
        if n in cmd.by:
            values.append(q.col(aliases[n]))
        elif typed[n].kind is Kind.NUM:
            raise c.error(f"useother needs text values; '{n}' holds numbers", cmd.pos)
        else:
            values.append(q.alias(q.string(cmd.otherstr), q.ident(aliases[n])))
    other = (
        q.select(
            *values,
            q.alias(q.fn("sum", q.col(_COUNT)), q.ident(_COUNT)),
            q.alias(q.fn("max", q.col(_TOTAL)), q.ident(_TOTAL)),
            q.alias(q.number(cmd.limit + 1), q.ident(_RANK)),
        )
        .from_(exp.to_identifier(ranked), copy=False)
        .where(cut)
        .group_by(*[q.col(aliases[n]) for n in cmd.by])
    )
    if not cmd.by:
        other = other.having(exp.GT(this=q.fn("count", exp.Star()), expression=q.number(0)))
    rows = q.select(exp.Star()).from_(exp.to_identifier(kept), copy=False)
    return c.b.add(exp.union(rows, other, distinct=False))


def _output(
    c: Compiler,
    cmd: ast.TopCmd,
    keys: list[str],
    aliases: dict[str, str],
    typed: dict[str, Typed],
    source: str,
) -> Relation:
    """Columns: by-fields, the field list, count, percent (C-top-5); rows by group, then
    rank."""
    taken = {a.lower() for a in aliases.values()} | {SEQ, _COUNT, _TOTAL, _RANK}
    fields = [Field(n, aliases[n], typed[n].kind) for n in keys]
    select: list[exp.Expression] = [q.col(aliases[n]) for n in keys]
    if cmd.showcount:
        alias = alias_for(cmd.countfield, taken)
        fields.append(Field(cmd.countfield, alias, Kind.NUM))
        select.append(q.alias(q.col(_COUNT), q.ident(alias)))
    if cmd.showperc:
        alias = alias_for(cmd.percentfield, taken)
        fields.append(Field(cmd.percentfield, alias, Kind.NUM))
        share = exp.Div(
            this=exp.Mul(this=q.col(_COUNT), expression=q.number(100.0)),
            expression=q.col(_TOTAL),
        )
        select.append(
            q.alias(q.fn("round", share, q.number(semantics.TOP_PERCENT_DECIMALS)), q.ident(alias))
        )
    order: list[exp.Ordered] = []
    for n in cmd.by:
        order += sort_keys(typed[n], False)
    order.append(ordered(q.col(_RANK), False))
    select.append(q.alias(row_number(order), q.ident(SEQ)))
    out = c.b.add(q.select(*select).from_(exp.to_identifier(source), copy=False))
    return Relation(out, tuple(fields), (ordered(q.col(SEQ), False),), (SEQ,), events=False)


def _empty(c: Compiler, cmd: ast.TopCmd, keys: list[str]) -> Relation:
    """A field the results never have: no tuple has every field, so no rows."""
    taken: set[str] = {SEQ}
    fields = [Field(n, alias_for(n, taken), Kind.STR) for n in keys]
    select = [q.alias(q.null_str(), q.ident(f.alias)) for f in fields]
    select.append(q.alias(q.number(0), q.ident(SEQ)))
    source = c.b.add(q.select(*select).where(exp.false()))
    return Relation(source, tuple(fields), (ordered(q.col(SEQ), False),), (SEQ,), events=False)
