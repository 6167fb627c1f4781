"""``transaction``: events grouped into transactions by field values and time
(docs/commands-combining.md, T1-T7), with window functions over each group's events in
ascending time:

1. events lacking a listed field are left out (T2); each event gets its search position
   and whether it matches ``startswith`` / ``endswith``;
2. a new run starts at a group's first event, after a gap over ``maxpause``, at an event
   matching ``startswith``, or after one matching ``endswith`` (T5);
3. a run is cut into windows of ``maxspan`` counted back from its newest event
   (approximation T3), then into chunks of ``maxevents``, newest first (T1);
4. a transaction is closed when its ends match ``startswith``/``endswith`` (T4);
5. one row per transaction: the fields' values (distinct, sorted: ``mvlist=false``), the
   earliest ``_time``, ``duration``, ``eventcount``, ``_raw`` joined in time order (T6),
   newest transaction first (T7).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from stagehunt.compile import sqlfn as q
from stagehunt.compile.commands.registry import transforms
from stagehunt.compile.eval import ExprCompiler
from stagehunt.compile.kinds import Kind, Typed
from stagehunt.compile.ordering import ordered, renumber, row_number
from stagehunt.compile.relation import SEQ, Field, Relation, alias_for
from stagehunt.compile.search import SearchCompiler
from stagehunt.compile.stats import StatsCompiler
from stagehunt.spl import ast

if TYPE_CHECKING:
    from stagehunt.compile.compiler import Compiler

ORD, STARTS, ENDS = "__tord", "__tst", "__ten"
PREV_T, PREV_END, RUN, WINDOW, CHUNK = "__tpt", "__tpe", "__trun", "__twin", "__tchk"
FIRST_OK, LAST_OK, PLACE = "__tfo", "__tlo", "__tplc"


def _window(
    func: exp.Expression, partition: list[exp.Expression], order: list[exp.Ordered]
) -> exp.Expression:
    return exp.Window(this=func, partition_by=partition or None, order=exp.Order(expressions=order))


def _flag(e: exp.Expression) -> exp.Expression:
    return q.case((e, exp.Literal.number(1)), default=exp.Literal.number(0))


@transforms(ast.TransactionCmd)
def transaction(c: Compiler, rel: Relation, cmd: ast.TransactionCmd) -> Relation:
    # _time as a number; results without it (or where it is no number) get null times
    time = ExprCompiler(rel, c.query, c.now).number(rel.typed("_time"))
    keys = [rel.typed(f) for f in cmd.fields]
    present = [q.not_null(k.sql) for k in keys if not k.is_null]
    where = exp.false() if any(k.is_null for k in keys) else (q.and_(*present) if present else None)
    search = SearchCompiler(rel, c.query, c.now)
    starts = search.compile(cmd.startswith) if cmd.startswith else exp.false()
    ends = search.compile(cmd.endswith) if cmd.endswith else exp.false()
    cur = c.b.project(
        rel,
        [],
        where=where,
        extra_hidden=[(ORD, row_number(list(rel.order))), (STARTS, starts), (ENDS, ends)],
    )
    part = [k.sql for k in keys if not k.is_null]
    asc = [ordered(time, False), ordered(q.col(ORD), True)]
    desc = [ordered(time, True), ordered(q.col(ORD), False)]
    # 2. runs: a new one at the first event, after a long pause, at a start, after an end
    cur = c.b.project(
        cur,
        [],
        extra_hidden=[
            (PREV_T, _window(exp.Lag(this=time), part, asc)),
            (PREV_END, _window(exp.Lag(this=q.col(ENDS)), part, asc)),
        ],
    )
    boundary: list[exp.Expression] = [q.is_null(q.col(PREV_T))]
    if cmd.maxpause is not None:
        gap = exp.Sub(this=time, expression=q.col(PREV_T))
        boundary.append(exp.GT(this=gap, expression=q.number(cmd.maxpause)))
    if cmd.startswith is not None:
        boundary.append(q.col(STARTS))
    if cmd.endswith is not None:
        boundary.append(q.coalesce(q.col(PREV_END), exp.false()))
    new_run = _flag(exp.paren(q.or_(*boundary), copy=False))
    cur = c.b.project(cur, [], extra_hidden=[(RUN, _window(exp.Sum(this=new_run), part, asc))])
    # 3. maxspan windows back from the run's newest event (T3), maxevents chunks (T1)
    run = [*part, q.col(RUN)]
    window: exp.Expression = exp.Literal.number(0)
    if cmd.maxspan is not None:
        newest = exp.Window(this=exp.Max(this=time), partition_by=run)
        back = exp.Sub(this=newest, expression=time)
        window = q.fn("floor", exp.Div(this=back, expression=q.number(cmd.maxspan)))
    cur = c.b.project(cur, [], extra_hidden=[(WINDOW, window)])
    chunk: exp.Expression = exp.Literal.number(0)
    if cmd.maxevents > 0:
        nth = row_number(desc, [*run, q.col(WINDOW)])
        chunk = q.fn(
            "floor",
            exp.Div(
                this=exp.Sub(this=nth, expression=exp.Literal.number(1)),
                expression=q.number(float(cmd.maxevents)),
            ),
        )
    cur = c.b.project(cur, [], extra_hidden=[(CHUNK, chunk)])
    txn = [*run, q.col(WINDOW), q.col(CHUNK)]
    # 4. closed: the oldest event starts it, the newest ends it (T4)
    cur = c.b.project(
        cur,
        [],
        extra_hidden=[
            (FIRST_OK, _window(exp.FirstValue(this=q.col(STARTS)), txn, asc)),
            (LAST_OK, _window(exp.FirstValue(this=q.col(ENDS)), txn, desc)),
            # the event's place in its transaction, oldest first (one key: _raw's order)
            (PLACE, row_number(asc, txn)),
        ],
    )
    closed: list[exp.Expression] = []
    if cmd.startswith is not None:
        closed.append(q.col(FIRST_OK))
    if cmd.endswith is not None:
        closed.append(q.col(LAST_OK))
    is_closed = q.and_(*closed) if closed else exp.true()
    if not cmd.keepevicted and closed:
        cur = c.b.project(cur, [], where=is_closed)
    return _merge(c, cur, cmd, keys, time, txn, is_closed)


def _merge(
    c: Compiler,
    rel: Relation,
    cmd: ast.TransactionCmd,
    keys: list[Typed],
    time: exp.Expression,
    txn: list[exp.Expression],
    is_closed: exp.Expression,
) -> Relation:
    """5. One row per transaction (T6), newest first (T7)."""
    stats = StatsCompiler(c.b, c.query, c.now)
    values = ExprCompiler(rel, c.query, c.now)
    taken: set[str] = {SEQ, ORD}
    fields: list[Field] = []
    select: list[exp.Expression] = []

    def add(name: str, sql: exp.Expression, kind: Kind) -> str:
        alias = alias_for(name, taken)
        fields.append(Field(name, alias, kind))
        select.append(q.alias(sql, q.ident(alias)))
        return alias

    for name, key in zip(cmd.fields, keys, strict=True):
        if not key.is_null:
            add(name, key.sql, key.kind)
    # keys no event has are not columns: the time is not always at len(keys)
    time_alias = add("_time", exp.Min(this=time), Kind.NUM)
    raw = rel.get("_raw")
    for f in rel.fields:
        if f.name in cmd.fields or f.name in ("_time", "_raw", "duration", "eventcount"):
            continue
        if f.kind is Kind.NULL:
            continue
        merged = stats.agg_values(values, Typed(q.col(f.alias), f.kind))
        add(f.name, merged.sql, merged.kind)
    if raw is not None and raw.kind is not Kind.NULL:
        in_time_order = exp.ArrayAgg(
            this=exp.Order(this=q.col(raw.alias), expressions=[ordered(q.col(PLACE), False)])
        )
        add("_raw", exp.ArrayToString(this=in_time_order, expression=q.string("\n")), Kind.STR)
    add("duration", exp.Sub(this=exp.Max(this=time), expression=exp.Min(this=time)), Kind.NUM)
    add("eventcount", exp.Count(this=exp.Star()), Kind.NUM)
    if cmd.keepevicted:
        add("closed_txn", exp.Max(this=_flag(is_closed)), Kind.NUM)
    select.append(q.alias(exp.Min(this=q.col(ORD)), q.ident(ORD)))
    query = q.select(*select).from_(exp.to_identifier(rel.source), copy=False).group_by(*txn)
    grouped = Relation(c.b.add(query), tuple(fields), (), (ORD,), events=False)
    newest_first = [ordered(q.col(time_alias), True), ordered(q.col(ORD), False)]
    return renumber(c.b, grouped, newest_first, None)
