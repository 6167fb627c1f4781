"""Run converted Sigma rules on one store: loaded once, every rule's SPL on it.

The output is what ``hunt`` prints, one row per match with the rule's id, title and level
first: a matched event for a detection rule, a matched group (window, group-by values,
count) for a correlation rule. A query our engine cannot compile or run is recorded on its
rule with the one-line reason; the other rules go on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import duckdb

from stagehunt.api import compile_query, execute, prober
from stagehunt.backends.duckdb import DuckDBBackend
from stagehunt.backends.stream import visible
from stagehunt.compile import CompiledQuery
from stagehunt.result import ResultTable, Value, normalise
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
from stagehunt.store.event_store import EventStore

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


def _compile(
    spl: str, store: EventStore, cache: ConversionCache | None, schema: str
) -> SqlEntry | CompiledQuery:
    """The query compiled for ``store``: from the cache when it holds it, else compiled
    now (and kept when its SQL is all it needs). Raises what compiling raises."""
    key = digest("sql", spl, schema, versions())
    if cache is not None:
        entry = cache.get_sql(key)
        if entry is not None:
            if entry.error is not None:
                raise CachedCompileError(entry.error)
            return entry
    backend = DuckDBBackend.from_store(store)
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
    # the statement's own ORDER BY gives search order; its last column is __seq when
    # every row is one event
    raw = store.connection.execute(query.sql).fetchall()
    width = len(query.columns)
    rows = [tuple(normalise(v) for v in row[:width]) for row in raw]
    events = [int(str(row[width])) for row in raw] if query.event_rows else None
    keep = visible(query.columns, query.pinned, rows)
    return [query.columns[i] for i in keep], [tuple(r[i] for i in keep) for r in rows], events


def run_one(
    converted: Converted,
    store: EventStore,
    cache: ConversionCache | None = None,
    schema: str | None = None,
) -> RuleRun:
    """Run one converted rule; with ``cache``, its compiled queries are read from (and
    written to) it, ``schema`` being the store's `schema_fingerprint`."""
    run = RuleRun(converted.rule)
    seen: set[int] = set()
    event_rule = True
    fingerprint = schema if schema is not None else schema_fingerprint(store)
    for spl in converted.queries:
        try:
            columns, rows, events = _rows(_compile(spl, store, cache, fingerprint), store)
        except CachedCompileError as e:
            return RuleRun(converted.rule, error=str(e))
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
    converted: Sequence[Converted], store: EventStore, cache: ConversionCache | None = None
) -> list[RuleRun]:
    """Run every rule that converted (in the given order)."""
    if not store.schema():
        cache = None  # no events table: nothing a compiled statement could read
    schema = schema_fingerprint(store)
    return [run_one(c, store, cache, schema) for c in converted if c.ok]


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
