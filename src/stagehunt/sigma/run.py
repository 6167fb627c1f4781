"""Run converted Sigma rules on one store: loaded once, every rule's SPL on it.

The output is what ``hunt`` prints, one row per match with the rule's id, title and level
first: a matched event for a detection rule, a matched group (window, group-by values,
count) for a correlation rule. A query our engine cannot compile or run is recorded on its
rule with the one-line reason; the other rules go on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import duckdb
import pyarrow as pa
from sqlglot import exp

from stagehunt import semantics
from stagehunt.api import compile_query, execute, prober
from stagehunt.backends.duckdb import DuckDBBackend
from stagehunt.backends.stream import visible
from stagehunt.compile import CompiledQuery, Compiler, dialects
from stagehunt.compile import sqlfn as q
from stagehunt.compile.ordering import ordered
from stagehunt.compile.predicate import guard_terms, row_filter, share_lower
from stagehunt.compile.reads import ALWAYS_READ, fields_tested
from stagehunt.result import ResultTable, Value, normalise, normalise_rows
from stagehunt.sigma import onepass
from stagehunt.sigma.cache import (
    ConversionCache,
    SqlEntry,
    cacheable,
    digest,
    schema_fingerprint,
    versions,
)
from stagehunt.sigma.convert import Converted, RuleInfo
from stagehunt.spl.errors import SplError
from stagehunt.spl.macros import MacroLibrary
from stagehunt.spl.parser import parse
from stagehunt.store.event_store import EventStore
from stagehunt.store.schema import EVENTS_TABLE, SEQ_COLUMN, ColumnKind

#: Columns put first in every output row.
RULE_COLUMNS = ("sigma_id", "sigma_title", "sigma_level")
#: Event fields shown right after the rule, when present; the others follow sorted by name.
LEAD_FIELDS = ("_time", "host", "source", "EventCode")
#: Not shown: the raw text repeats the fields (``search`` still shows it).
HIDDEN_FIELDS = frozenset({"_raw"})


@dataclass
class RuleRun:
    rule: RuleInfo
    rows: list[dict[str, Value]] = field(default_factory=list)
    #: store positions of the matched events (detection rules); None for correlations
    events: set[int] | None = None
    error: str | None = None

    @property
    def matches(self) -> int:
        """Matched events (detection rule) or matched groups (correlation)."""
        return len(self.events) if self.events is not None else len(self.rows)


class CachedCompileError(Exception):
    """A query the cache says does not compile on this store (the message is the one
    compiling gave)."""


def _engine_error(error: Exception) -> str:
    if isinstance(error, SplError):
        return " ".join(error.render().split())
    first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return f"the query failed while running: {first}"


Rows = list[tuple[Value, ...]]


def event_columns(schema: Mapping[str, ColumnKind]) -> tuple[str, ...]:
    """The columns a query that keeps events shows, in the compiler's order for the
    stored events (``_time`` first, ``_raw`` last: `Compiler.table_relation`)."""
    return tuple(sorted(schema, key=lambda n: (n != "_time", n == "_raw")))


def _filter_entry(spl: str, backend: DuckDBBackend) -> tuple[SqlEntry, bool] | None:
    """The query as a row filter (`compile.predicate`) and whether it may be cached, when
    it only filters events; compiled over just the fields its commands name, which keeps
    the same events and compiles far faster than over a store's hundreds of fields."""
    try:
        pipeline = parse(MacroLibrary().expand(spl))
    except SplError:
        return None
    names = fields_tested(pipeline)
    if names is None:
        return None
    schema = backend.schema()
    keep = names | ALWAYS_READ
    narrow = {name: kind for name, kind in schema.items() if name in keep}
    try:
        compiled = Compiler(narrow, table=backend.table, physical=backend.physical()).compile(
            pipeline
        )
    except SplError:
        return None  # the full compile says why
    found = row_filter(compiled)
    physical = {name: backend.physical().get(name, name) for name in narrow}
    if found is None or found.table != backend.table or not found.shows_stored(physical):
        return None
    if any(c.pinned for c in compiled.columns):
        return None
    guard_terms(found.conjuncts)
    lowered = share_lower(found.conjuncts)
    terms = tuple(dialects.render(t, "duckdb") for t in found.conjuncts)
    entry = SqlEntry("", event_columns(schema), True, terms=terms, lowered=lowered)
    return entry, cacheable(compiled, False)


def _compile(
    spl: str,
    store: EventStore,
    cache: ConversionCache | None,
    schema: str,
    as_filter: bool = True,
) -> SqlEntry | CompiledQuery:
    """The query compiled for ``store``: from the cache when it holds it, else compiled
    now (and kept when its SQL is all it needs). With ``as_filter``, a query that only
    filters events comes back as its filter (``SqlEntry.terms``). Raises what compiling
    raises."""
    key = digest("sql", spl, schema, versions(), as_filter)
    if cache is not None:
        entry = cache.get_sql(key)
        if entry is not None:
            if entry.error is not None:
                raise CachedCompileError(entry.error)
            return entry
    backend = DuckDBBackend.from_store(store)
    found = _filter_entry(spl, backend) if as_filter else None
    if found is not None:
        entry, keep = found
        if cache is not None and keep:
            cache.put_sql(key, entry)
        return entry
    probed = False
    probe = prober(backend)

    def tracking(compiled: CompiledQuery) -> list[tuple[object, ...]]:
        nonlocal probed
        probed = True
        return probe(compiled)

    try:
        compiled = compile_query(
            spl, backend.schema(), table=backend.table, physical=backend.physical(), probe=tracking
        )
    except SplError as e:
        if cache is not None and not probed:
            cache.put_sql(key, SqlEntry(error=_engine_error(e)))
        raise
    if cache is None or not cacheable(compiled, probed):
        return compiled
    entry = SqlEntry(
        compiled.render("duckdb"),
        tuple(c.name for c in compiled.columns),
        compiled.event_rows,
        pinned=tuple(c.name for c in compiled.columns if c.pinned),
    )
    cache.put_sql(key, entry)
    return entry


def _rows(
    query: SqlEntry | CompiledQuery, store: EventStore
) -> tuple[list[str], Rows, list[int] | None]:
    """Columns, rows and (for event rows) store positions of one query's result."""
    if isinstance(query, CompiledQuery):
        result, events = execute(query, store)
        return result.columns, result.rows, events
    if query.terms is not None:
        found = store.connection.execute(
            onepass.single_sql(
                onepass.Filter(0, query.terms, query.lowered), EVENTS_TABLE, SEQ_COLUMN
            )
        ).fetchall()
        records = fetch_events(store, {int(r[0]) for r in found})
        rows = [tuple(record.get(c) for c in query.columns) for _, record in records]
        keep = visible(query.columns, query.pinned, rows)
        return (
            [query.columns[i] for i in keep],
            [tuple(r[i] for i in keep) for r in rows],
            [seq for seq, _ in records],
        )
    # the statement's own ORDER BY gives search order; its last column is __seq when
    # every row is one event
    raw = store.connection.execute(query.sql).fetchall()
    width = len(query.columns)
    rows = normalise_rows(raw, width)
    events = [int(str(row[width])) for row in raw] if query.event_rows else None
    keep = visible(query.columns, query.pinned, rows)
    return [query.columns[i] for i in keep], [tuple(r[i] for i in keep) for r in rows], events


def fetch_events(store: EventStore, seqs: set[int]) -> list[tuple[int, dict[str, Value]]]:
    """The stored events at ``seqs`` in search order (newest first, then stored order:
    rule 1.4), each as (position, its fields with a value)."""
    if not seqs:
        return []
    schema = store.schema()
    names = list(schema)
    select = q.select(
        *[q.alias(q.col(store.column_for(n)), q.ident(f"c{i}")) for i, n in enumerate(names)],
        q.col(SEQ_COLUMN),
    ).from_(exp.to_identifier(EVENTS_TABLE), copy=False)
    wanted = exp.In(
        this=q.col(SEQ_COLUMN),
        query=exp.Subquery(this=exp.select("s").from_("__stagehunt_wanted")),
    )
    time_sql = q.col(store.column_for("_time")) if "_time" in schema else exp.Null()
    select = select.where(wanted, copy=False).order_by(
        ordered(time_sql, semantics.SEARCH_ORDER_NEWEST_FIRST),
        ordered(q.col(SEQ_COLUMN), False),
        copy=False,
    )
    con = store.connection
    wanted_table = pa.table({"s": pa.array(sorted(seqs), pa.int64())})
    con.register("__stagehunt_wanted", wanted_table)
    try:
        raw = con.execute(select.sql("duckdb")).fetchall()
    finally:
        con.unregister("__stagehunt_wanted")
    out: list[tuple[int, dict[str, Value]]] = []
    for row in raw:
        record: dict[str, Value] = {}
        for name, value in zip(names, row, strict=False):
            if value is not None:
                v = normalise(value)
                if v is not None:
                    record[name] = v
        out.append((int(row[-1]), record))
    return out


#: Called after each batch of rules with (rules done, rules in all).
ProgressFn = Callable[[int, int], None]


def run_one(
    converted: Converted,
    store: EventStore,
    cache: ConversionCache | None = None,
    schema: str | None = None,
) -> RuleRun:
    """Run one converted rule on its own; with ``cache``, its compiled queries are read
    from (and written to) it, ``schema`` being the store's `schema_fingerprint`."""
    fingerprint = schema if schema is not None else schema_fingerprint(store)
    try:
        plans = [_compile(spl, store, cache, fingerprint) for spl in converted.queries]
    except CachedCompileError as e:
        return RuleRun(converted.rule, error=str(e))
    except SplError as e:
        return RuleRun(converted.rule, error=_engine_error(e))
    return _run_plans(converted, plans, store)


def _run_plans(
    converted: Converted, plans: Sequence[SqlEntry | CompiledQuery], store: EventStore
) -> RuleRun:
    run = RuleRun(converted.rule)
    seen: set[int] = set()
    event_rule = True
    for plan in plans:
        try:
            columns, rows, events = _rows(plan, store)
        except (SplError, duckdb.Error) as e:
            return RuleRun(converted.rule, error=_engine_error(e))
        if events is None:
            event_rule = False
            run.rows += [dict(zip(columns, row, strict=True)) for row in rows]
            continue
        for seq, row in zip(events, rows, strict=True):
            if seq not in seen:  # several queries of one rule: an event counts once
                seen.add(seq)
                run.rows.append(dict(zip(columns, row, strict=True)))
    run.events = seen if event_rule else None
    return run


def run_rules(
    converted: Sequence[Converted],
    store: EventStore,
    cache: ConversionCache | None = None,
    *,
    one_pass: bool = True,
    progress: ProgressFn | None = None,
    strategy: str = onepass.DEFAULT,
) -> list[RuleRun]:
    """Run every rule that converted (results in the given order). Rules whose one query
    only filters events run as their row filters (`onepass`, ``strategy``: a lean
    statement each, or 63 per statement) and their matched events' rows are read once;
    the others run one full statement each. ``one_pass=False`` compiles and runs every
    rule as its own full statement (the reference the row-filter path is tested against).
    ``progress(done, total)`` is called as rules finish."""
    if not store.schema():
        cache = None  # no events table: nothing a compiled statement could read
    schema = schema_fingerprint(store)
    todo = [c for c in converted if c.ok]
    runs: dict[int, RuleRun] = {}
    plans: dict[int, list[SqlEntry | CompiledQuery]] = {}
    filters: list[onepass.Filter] = []
    for i, conv in enumerate(todo):
        try:
            plans[i] = [_compile(spl, store, cache, schema, one_pass) for spl in conv.queries]
        except CachedCompileError as e:
            runs[i] = RuleRun(conv.rule, error=str(e))
            continue
        except SplError as e:
            runs[i] = RuleRun(conv.rule, error=_engine_error(e))
            continue
        only = plans[i][0]
        if one_pass and len(plans[i]) == 1 and isinstance(only, SqlEntry) and only.terms:
            filters.append(onepass.Filter(i, only.terms, only.lowered))
    total = len(todo)
    done = total - len(filters)
    batched = onepass.evaluate(
        store.connection,
        filters,
        EVENTS_TABLE,
        SEQ_COLUMN,
        progress=None if progress is None else lambda n, _: progress(done + n, total),
        strategy=strategy,
    )
    records = dict(fetch_events(store, set().union(*batched.matches.values())))
    order = {seq: n for n, seq in enumerate(records)}
    for f in filters:
        i = int(str(f.key))
        conv = todo[i]
        if f.key in batched.errors:
            runs[i] = RuleRun(conv.rule, error=_engine_error(batched.errors[f.key]))
            continue
        matched = sorted(batched.matches[f.key], key=order.__getitem__)
        entry = plans[i][0]
        assert isinstance(entry, SqlEntry)
        present = set().union(*(records[seq] for seq in matched))
        shown = [c for c in entry.columns if c in present]
        run = RuleRun(conv.rule, events=set(matched))
        run.rows = [{c: records[seq].get(c) for c in shown} for seq in matched]
        runs[i] = run
    for i, conv in enumerate(todo):
        if i not in runs:
            runs[i] = _run_plans(conv, plans[i], store)
    return [runs[i] for i in range(len(todo))]


def as_table(runs: Sequence[RuleRun]) -> ResultTable:
    """All matches as one table: rule columns, lead fields, then the rest by name."""
    present: set[str] = set()
    for run in runs:
        for row in run.rows:
            present |= {k for k, v in row.items() if v is not None}
    present -= HIDDEN_FIELDS
    lead = [f for f in LEAD_FIELDS if f in present]
    rest = sorted(present - set(lead) - set(RULE_COLUMNS), key=lambda n: (n.lower(), n))
    columns = [*RULE_COLUMNS, *lead, *rest]
    rows: list[tuple[Value, ...]] = []
    for run in runs:
        head: tuple[Value, ...] = (run.rule.id, run.rule.title, run.rule.level or None)
        for row in run.rows:
            rows.append(head + tuple(row.get(c) for c in columns[len(RULE_COLUMNS) :]))
    return ResultTable(columns, rows, "")
