"""A big result in search order without one big sort (DuckDB).

A search returns events newest first, ties in stored order (rule 1.4), and the compiled
statement ends in ``ORDER BY __t DESC, __seq``. DuckDB sorts by holding every row: 10M
events of four fields take 1.2 GB before the first row comes out. Two cases need no
such sort, and between them they cover the results that grow to millions of rows:

* **Time slices.** When every result row is one stored event and the statement reads the
  events once (``CompiledQuery.event_rows``), the result is the same statement over
  disjoint ``_time`` ranges, newest range first, then the events without a time. This is
  how Splunk itself searches: bucket by bucket, newest first. Each slice is sorted on
  its own, so memory is that of one slice; slices are cut at quantiles of the stored
  times and grow while the search keeps few of the events it reads.
* **Order the source already gives.** ``makeresults`` numbers its rows with DuckDB's
  ``range``, which yields them in order; when every step after it is one DuckDB keeps the
  order of (a single FROM, WHERE, projection: DuckDB's "order preservation" page), the
  final ``ORDER BY __seq`` is dropped.

Everything else runs as compiled: its one statement, sorted by DuckDB (which spills to
disk beyond its memory limit).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import duckdb
from sqlglot import exp

from stagehunt.compile import CompiledQuery
from stagehunt.compile.dialects import render
from stagehunt.compile.relation import SEQ, TIME_KEY

#: bytes of result values one slice aims at. Measured over 10M stored events of 30
#: fields (bench/bench_stream.py --source store): 16 MB slices take 54 s and 64 MB
#: slices 41 s, at the same peak (the sort spills past STREAM_MEMORY)
SLICE_BYTES = 64 * 2**20
#: DuckDB's memory limit while such a statement streams (at most: a lower one stays);
#: uncapped, DuckDB keeps every block of the store it read (765 MB against 405 MB above)
STREAM_MEMORY = 192 * 2**20
#: a value's bytes before the rows are seen, and a row's own
VALUE_GUESS = 24
ROW_OVERHEAD = 16
#: quantiles of the stored times the slices are cut at
CUTS = 1000
#: a slice covers at most this many times the stored events of the one before it
GROWTH = 4

Rows = list[tuple[object, ...]]


@dataclass(frozen=True)
class _Sliceable:
    """The statement with ``? <= time < ?`` (as parameters) on its one read of the events."""

    tree: exp.Expression
    time: exp.Expression
    table: str


def statement_rows(
    con: duckdb.DuckDBPyConnection, compiled: CompiledQuery, sql: str, table: str, batch: int
) -> Iterator[Rows]:
    """The rows of ``sql`` (``compiled`` rendered for DuckDB), ``batch`` at a time, in its
    order, without a sort of the whole result where one of the cases above applies;
    ``table`` is the events table the statement reads."""
    if compiled.text is not None:  # read back from a cache: kept only if `runs_as_is`
        yield from _fetch(con, sql, [], batch)
        return
    sliceable = _sliceable(compiled, table)
    if sliceable is not None:
        width = len(compiled.columns) + 1  # and the event's store position
        yield from _sliced(con, sliceable, compiled.time_range, batch, width, sql)
        return
    unsorted = _without_source_order(compiled.sql)
    if unsorted is compiled.sql:
        yield from _fetch(con, sql, [], batch)
        return
    with _memory_capped(con, STREAM_MEMORY):
        yield from _fetch(con, render(unsorted, "duckdb"), [], batch)


def runs_as_is(compiled: CompiledQuery, table: str) -> bool:
    """Whether `statement_rows` runs the statement's text as it is (no time slices, no
    order taken off): then the text alone can run it again (escu/cache.py)."""
    if compiled.text is not None:
        return True
    if _sliceable(compiled, table) is not None:
        return False
    return _without_source_order(compiled.sql) is compiled.sql


@contextmanager
def _memory_capped(con: duckdb.DuckDBPyConnection, cap: int) -> Iterator[None]:
    """DuckDB's ``memory_limit`` at most ``cap`` bytes while the block runs, then as it
    was. A statement of the cases above holds one slice (or nothing) at a time; what
    DuckDB would keep besides is a cache of the store's blocks it has read, which grows
    with the store up to the limit."""
    row = con.execute("SELECT current_setting('memory_limit')").fetchone()
    before = _bytes(str(row[0]) if row else "")
    if before <= cap:
        yield
        return
    con.execute("SET memory_limit = ?", [f"{cap}B"])
    try:
        yield
    finally:
        con.execute("SET memory_limit = ?", [f"{int(before)}B"])


_UNITS = {"": 1, "b": 1, "bytes": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
          "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}  # fmt: skip


def _bytes(setting: str) -> float:
    """Bytes of a DuckDB memory setting as it reports it (``11.7 GiB``), at the top of
    what the shown digits allow (DuckDB cuts the value to one decimal), so that setting
    it back does not shrink it; unknown: inf (left alone)."""
    match = re.fullmatch(r"\s*([0-9]+)(?:\.([0-9]+))?\s*([A-Za-z]*)\s*", setting)
    if match is None or match[3].lower() not in _UNITS:
        return math.inf
    whole, decimals = match[1], match[2] or ""
    digits = float(f"{whole}.{decimals}" if decimals else whole)
    top = digits + 0.5 * 10 ** -len(decimals) if decimals else digits
    return top * _UNITS[match[3].lower()]


def _fetch(
    con: duckdb.DuckDBPyConnection, sql: str, params: list[object], batch: int
) -> Iterator[Rows]:
    cursor = con.execute(sql, params)
    if cursor.description is None:
        return
    while rows := cursor.fetchmany(batch):
        yield [tuple(row) for row in rows]


# --------------------------------------------------------------------------- time slices


def _search_order(tree: exp.Expression) -> bool:
    """Whether the statement ends in ``ORDER BY __t DESC, __seq ASC`` (rule 1.4)."""
    order = tree.args.get("order")
    if order is None or len(order.expressions) != 2:
        return False
    (t, seq) = order.expressions
    return (
        isinstance(t.this, exp.Column) and t.this.name == TIME_KEY and bool(t.args.get("desc"))
        and isinstance(seq.this, exp.Column) and seq.this.name == SEQ
        and not seq.args.get("desc")
    )  # fmt: skip


def _sliceable(compiled: CompiledQuery, table: str) -> _Sliceable | None:
    if not (compiled.event_rows and compiled.reads_events) or compiled.outputs:
        return None
    if compiled.deferred or compiled.datasets or not _search_order(compiled.sql):
        return None
    tree = compiled.sql  # read only here: each slice's statement is a copy (_between)
    reads = _reads(tree, table)
    if len(reads) != 1:
        return None  # a subsearch or a join reads the events again: one slice is not enough
    base = reads[0].find_ancestor(exp.Select)
    keys = [p for p in base.expressions if p.alias_or_name == TIME_KEY] if base else []
    if base is None or len(keys) != 1 or not isinstance(keys[0].this, exp.Column):
        return None
    time = keys[0].this
    return _Sliceable(tree, time.copy(), table)


def _reads(tree: exp.Expression, table: str) -> list[exp.Expression]:
    """Where the statement names ``table`` (the compiler names it with an identifier)."""
    return [
        n
        for n in tree.find_all(exp.Table, exp.Identifier)
        if n.name == table and isinstance(n.parent, exp.From | exp.Join)
        and not (isinstance(n, exp.Table) and n.db)
    ]  # fmt: skip


def _between(s: _Sliceable, low: bool, high: bool, null: bool = False) -> str:
    """The statement over the events with ``low <= time < high`` (each bound a parameter,
    present when asked for), or with no time at all."""
    tree = s.tree.copy()
    base = _reads(tree, s.table)[0].find_ancestor(exp.Select)
    assert base is not None
    conditions: list[exp.Expression] = []
    if null:
        conditions.append(exp.Is(this=s.time.copy(), expression=exp.Null()))
    if low:
        conditions.append(exp.GTE(this=s.time.copy(), expression=exp.Placeholder()))
    if high:
        conditions.append(exp.LT(this=s.time.copy(), expression=exp.Placeholder()))
    base.where(exp.and_(*conditions), append=True, copy=False)
    return render(tree, "duckdb")


def _sliced(
    con: duckdb.DuckDBPyConnection,
    s: _Sliceable,
    time_range: tuple[float | None, float | None],
    batch: int,
    width: int,
    whole: str,
) -> Iterator[Rows]:
    """The rows of ``s`` slice by slice; ``whole`` (the statement as rendered) when the
    events are few enough for one sort."""
    time_sql = s.time.sql("duckdb")
    source = exp.to_identifier(s.table, quoted=True).sql("duckdb")
    row_bytes = float(ROW_OVERHEAD + VALUE_GUESS * width)  # until rows are seen
    stored = con.execute(f"SELECT count(*) FROM {source}").fetchone()  # a table's own count
    if stored is None or stored[0] * row_bytes <= SLICE_BYTES:
        yield from _fetch(con, whole, [], batch)
        return
    within, params = _within(time_sql, time_range)
    counted = con.execute(
        f"SELECT count(*), count(*) FILTER (WHERE {within}), "
        f"count(*) FILTER (WHERE {time_sql} IS NULL) FROM {source}",
        params,
    ).fetchone()
    total, timed, untimed = counted if counted else (0, 0, 0)
    if timed * row_bytes <= SLICE_BYTES:
        yield from _fetch(con, whole, [], batch)
        return
    with _memory_capped(con, STREAM_MEMORY):  # the store's blocks are not kept
        cuts = _cuts(con, time_sql, source, within, params)
        # bucket k holds the times in [cuts[k-1], cuts[k]) (open at both ends); a slice is
        # the buckets bottom..top, taken from the newest down
        per_bucket = timed / (len(cuts) + 1)
        top = len(cuts)
        read = kept = 0.0
        span = max(1, round(SLICE_BYTES / row_bytes / per_bucket))
        sampled = samples = 0
        while top >= 0:
            bottom = max(0, top - span + 1)
            low = cuts[bottom - 1] if bottom > 0 else None
            high = cuts[top] if top < len(cuts) else None
            sql = _between(s, low is not None, high is not None)
            for rows in _fetch(con, sql, [v for v in (low, high) if v is not None], batch):
                kept += len(rows)
                sampled, samples = sampled + _size(rows[0]), samples + 1
                yield rows
            read += (top - bottom + 1) * per_bucket
            if samples:
                row_bytes = ROW_OVERHEAD + sampled / samples
            keep_rate = max(kept / read, 1 / max(total, 1))
            wanted = max(1, round(SLICE_BYTES / row_bytes / keep_rate / per_bucket))
            span = min(span * GROWTH, wanted)
            top = bottom - 1
        if untimed:
            yield from _fetch(con, _between(s, False, False, null=True), [], batch)


def _size(row: tuple[object, ...]) -> int:
    """Bytes a row's values take, roughly: text by its length, anything else 8."""
    return sum(len(v) if isinstance(v, str | bytes) else 8 for v in row)


def _within(
    time_sql: str, time_range: tuple[float | None, float | None]
) -> tuple[str, list[object]]:
    """A condition (with its parameters) on the stored time: set, and inside the search's
    ``[earliest, latest)`` where it has one."""
    where: list[str] = [f"{time_sql} IS NOT NULL"]
    params: list[object] = []
    for op, bound in ((">=", time_range[0]), ("<", time_range[1])):
        if bound is not None:
            where.append(f"{time_sql} {op} ?")
            params.append(bound)
    return " AND ".join(where), params


def _cuts(
    con: duckdb.DuckDBPyConnection, time_sql: str, source: str, within: str, params: list[object]
) -> list[float]:
    """Distinct finite quantiles of the stored times the search can return, ascending:
    the places slices may be cut."""
    positions = ", ".join(f"{i / CUTS!r}" for i in range(1, CUTS))
    row = con.execute(
        f"SELECT approx_quantile({time_sql}, [{positions}]::FLOAT[]) FROM {source} WHERE {within}",
        params,
    ).fetchone()
    values = row[0] if row and row[0] else []
    return sorted({float(v) for v in values if v is not None and math.isfinite(v)})


# --------------------------------------------------------------------- source order


def _without_source_order(tree: exp.Expression) -> exp.Expression:
    """``tree`` without its final ``ORDER BY __seq`` when DuckDB gives that order anyway."""
    order = tree.args.get("order")
    if order is None or [o.this.name if isinstance(o.this, exp.Column) else None
                         for o in order.expressions] != [SEQ]:  # fmt: skip
        return tree
    if order.expressions[0].args.get("desc") or not _range_numbered(tree):
        return tree
    tree = tree.copy()
    tree.set("order", None)
    return tree


#: what a SELECT may hold for DuckDB to keep its input's order (order preservation page)
_REORDERING = (
    "joins", "laterals", "pivots", "group", "having", "qualify", "windows", "order", "sort",
    "cluster", "distribute", "distinct", "sample", "connect", "match",
)  # fmt: skip


def _range_numbered(tree: exp.Expression) -> bool:
    """Whether every row comes from one ``range(n)`` numbered ``range AS __seq`` through
    selects DuckDB keeps the order of: single FROM, no join, grouping, sort, DISTINCT,
    aggregate, window or set operation."""
    if any(isinstance(n, exp.SetOperation | exp.Window | exp.AggFunc) for n in tree.walk()):
        return False
    sources: list[exp.Expression] = []
    for select in tree.find_all(exp.Select):
        if any(select.args.get(arg) for arg in _REORDERING if arg != "order" or select is not tree):
            return False
        from_ = select.args.get("from_")
        if from_ is None:
            return False
        sources.append(from_.this)
    ranges = [s for s in sources if isinstance(s, exp.Anonymous) and s.name.lower() == "range"]
    if len(ranges) != 1 or len(ranges[0].expressions) != 1:
        return False
    start = ranges[0].find_ancestor(exp.Select)
    return start is not None and any(
        p.alias_or_name == SEQ and isinstance(p.this, exp.Column) and p.this.name == "range"
        for p in start.expressions
    )
