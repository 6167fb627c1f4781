"""Compiled ESCU detections kept between runs: a library compiles once per set of fields.

Why: a detection's compile and render cost ~10-30 ms of Python each run, though its
statement is a pure function of its expanded search,
the add-on events' fields (names, kinds, columns: what the statement names), the
knowledge (add-ons and data models) and stagehunt's code, so it is kept on disk in the
conversion cache (`stagehunt.sigma.cache.ConversionCache`, kind ``escu``) under a key
made of exactly those, and a warm run reads the SQL instead of compiling. Measured on
ESCU's 1,613 detections over 22,691 real events, each run in a process of its own
(bench/RESULTS.md): warm 1.95x faster than uncached, cold 1.05x; what is left is DuckDB
executing each statement and the tables built before them.

Only statements whose text (and the lookups they read) is all they need are kept
(`storable`): no tables built from the data first, no output lookups, no time range,
one that `search_order` runs as it is. Each is kept with its emptiness check
(`CompiledQuery.empty_check`, compile/emptiness.py), which a run executes first.

* A statement that reads lookup tables is kept with each table's name and
  `LookupTable.fingerprint` (columns, match rules, rows): a later run loads those
  lookups and reads the statement only when each loads to the same fingerprint (an
  edited CSV, or one an ``outputlookup`` of the run rewrote, is a miss).
* A search that may read the clock (`reads_clock`: a time modifier, ``now()``,
  ``time()``, ``relative_time()``, ``makeresults``, ``addinfo`` put the search's start
  time into the SQL) is compiled a second time at another start time (`OTHER_CLOCK`)
  and kept only when the two statements are the same (`clock_free`: on ESCU's real-log
  run, 43 of 47 such searches name ``earliest(...)``/``latest(...)`` of ``stats``, not
  the clock). One whose statements differ is remembered as `ClockBound`: later runs
  compile it once, without the second compile and the two renderings of the check
  (1.3 s of a warm ``escu list`` of the whole library).

A detection stagehunt does not run (``unsupported``: the error is in its search, not in
the data) is kept too, as its status, reason, group and error (`CachedFailure`), under
the same rules for lookups and the clock: on ESCU's real-log run those 51 detections
compiled again on every warm run (1.65 s of 24 s). A ``missing`` one is not kept: a
lookup or macro added to the content later must make it compile.

``escu list`` and ``escu compile`` need a detection's status, not its statement, and
rendering a statement costs more than compiling it (~30 ms for a large one): they keep a
compiled detection as `CachedStatus` (that it compiles, and the lookups it read), which
a run reads as a miss and replaces with its statement. Whether a search compiles does
not depend on its start time, so no clock check is needed for those.

The rest compile every run, as before.

The tables a run builds first (the add-on events, each data model dataset:
backends/accelerate.py) are kept the same way (`KeptTableStatements`, kind
``escu-tables``), under the engine's events table and fields and the knowledge, unless a
definition of the knowledge reads the clock.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from stagehunt.backends.search_order import runs_as_is
from stagehunt.compile import CompiledQuery
from stagehunt.compile.compiler import OutputColumn
from stagehunt.compile.kinds import Kind
from stagehunt.compile.prepared import Prepared, PreparedTable
from stagehunt.knowledge import Knowledge
from stagehunt.lookups import LookupError_, LookupLibrary, LookupTable
from stagehunt.sigma.cache import ConversionCache, digest, versions
from stagehunt.spl.errors import (
    SplError,
    SplLimitError,
    SplSemanticError,
    SplSyntaxError,
    SplUnsupportedError,
)
from stagehunt.store.schema import ColumnKind

#: The cache's folder for compiled ESCU statements (beside Sigma's ``spl``/``sql``/``rules``).
KIND = "escu"
#: Bumped when an entry's layout changes: older entries then miss.
LAYOUT = 3
#: The folder for the statements of the tables built before the detections run.
TABLES_KIND = "escu-tables"

#: SPL that puts the search's start time (or the clock) into the compiled SQL.
_CLOCK = re.compile(
    r"\b(?:now|time|relative_time)\s*\(|\b(?:earliest|latest|_index_earliest|_index_latest)\b"
    r"|\b(?:makeresults|addinfo|gentimes)\b",
    re.IGNORECASE,
)


def reads_clock(spl: str) -> bool:
    """Whether the search may compile to SQL holding the time it was compiled at
    (conservative: a match in a string or a field name counts too)."""
    return _CLOCK.search(spl) is not None


def storable(compiled: CompiledQuery, table: str) -> bool:
    """True when the statement's DuckDB text (and its columns and lookups) can run it
    again later, the clock aside (`put` checks that)."""
    return not (
        compiled.deferred
        or compiled.outputs
        or compiled.time_range != (None, None)
        or not runs_as_is(compiled, table)
    )


#: The second start time a search that may read the clock is compiled at, from the
#: first: over a year and an odd number of hours, minutes and seconds away, so that no
#: snapping (``@s`` ... ``@y``, ``strftime``) gives both the same value.
OTHER_CLOCK = -(400 * 86400 + 3 * 3600 + 15 * 60 + 7.5)


def clock_free(first: CompiledQuery, text: str, other: CompiledQuery | None) -> bool:
    """Whether a search that may read the clock compiled to the same statement (``text``,
    the first's DuckDB SQL, and everything a kept entry holds) at two start times
    ``OTHER_CLOCK`` apart: the clock did not go into it (ESCU's ``earliest(_time)``,
    ``latest(_time)``)."""
    return other is not None and _shape(first) == _shape(other) and text == other.render("duckdb")


def _shape(compiled: CompiledQuery) -> tuple[object, ...]:
    """What a kept entry holds besides its text."""
    return (
        compiled.columns,
        compiled.event_rows,
        compiled.reads_events,
        compiled.datasets,
        compiled.time_range,
    )


def target_key(prepared: Prepared) -> str:
    """What a statement compiled over ``prepared`` depends on besides its search: the add-on
    events' table, fields, kinds and columns, and the data models (datasets are built
    from those), with stagehunt's and its libraries' versions."""
    events = prepared.events
    fields = _fields(events.schema, events.physical)
    return digest(KIND, LAYOUT, versions(), events.table, fields, repr(prepared.knowledge))


def _fields(schema: Mapping[str, ColumnKind], physical: Mapping[str, str]) -> list[object]:
    """An events table's fields as a key holds them: name, kind, column."""
    return [(n, k.value, physical.get(n, n)) for n, k in schema.items()]


@dataclass(frozen=True)
class CachedStatement:
    """A compiled detection as kept: its DuckDB SQL, visible columns, and the datasets it
    reads (built before it runs)."""

    sql: str
    columns: tuple[OutputColumn, ...]
    event_rows: bool
    reads_events: bool
    datasets: tuple[str, ...]
    #: its `CompiledQuery.empty_check`, if it has one
    empty_check: str | None = None
    #: the lookup tables it reads, loaded now and the same as when it was kept
    tables: tuple[LookupTable, ...] = ()

    def compiled(self) -> CompiledQuery:
        return CompiledQuery(
            exp.select(),
            self.columns,
            tables=self.tables,
            reads_events=self.reads_events,
            event_rows=self.event_rows,
            datasets=self.datasets,
            text=self.sql,
            empty_check=self.empty_check,
        )


@dataclass(frozen=True)
class CachedFailure:
    """A detection that did not compile, as kept: what its outcome shows (the status's
    reason and group, the error the caret points with)."""

    reason: str
    group: str
    error: SplError
    tables: tuple[LookupTable, ...] = ()


@dataclass(frozen=True)
class CachedStatus:
    """A detection that compiles, kept without its statement (``escu list``)."""

    tables: tuple[LookupTable, ...] = ()


@dataclass(frozen=True)
class ClockBound:
    """A search found to compile to its start time (`put`): compiled every run, and not
    a second time to check again."""


#: The errors a kept failure may hold, by class name (a subclass with more state, such as
#: a missing macro or lookup, is never kept).
_ERRORS: dict[str, type[SplError]] = {
    cls.__name__: cls
    for cls in (SplError, SplSyntaxError, SplUnsupportedError, SplSemanticError, SplLimitError)
}


Entry = CachedStatement | CachedStatus | CachedFailure


def get(
    cache: ConversionCache,
    spl: str,
    target: str,
    lookups: LookupLibrary | None = None,
    *,
    statement: bool = True,
) -> Entry | ClockBound | None:
    """The kept entry, its lookup tables loaded from ``lookups``; None (a miss) when there
    is none, when a lookup it read no longer loads to what it was kept with, or when
    ``statement`` is asked for and only the status was kept; `ClockBound` (a miss too)
    for a search that compiles to its start time."""
    data = cache.read(KIND, digest(target, spl))
    if data is not None and data.get("clock") is True:
        cache.count(None)
        return ClockBound()
    entry = None if data is None else _entry(data, lookups)
    if statement and isinstance(entry, CachedStatus):
        entry = None
    cache.count(entry)
    return entry


def _entry(data: Mapping[str, Any], lookups: LookupLibrary | None) -> Entry | None:
    try:
        kept = [(str(name), str(fingerprint)) for name, fingerprint in data.get("lookups", [])]
        entry: Entry
        if "failed" in data:
            entry = _failure(data["failed"])
        elif data.get("compiles") is True:
            entry = CachedStatus()
        else:
            entry = CachedStatement(
                str(data["sql"]),
                tuple(OutputColumn(str(n), Kind[str(k)], bool(p)) for n, k, p in data["columns"]),
                bool(data["event_rows"]),
                bool(data["reads_events"]),
                tuple(str(d) for d in data["datasets"]),
                _text_or_none(data["empty_check"]),
            )
    except (KeyError, TypeError, ValueError):  # another shape: a miss, rewritten later
        return None
    if not kept:
        return entry
    if lookups is None:
        return None
    view = lookups.view()
    tables: list[LookupTable] = []
    for name, fingerprint in kept:
        try:
            table = view.get(name)
        except LookupError_:  # gone or broken since: compiling says so
            return None
        if table.fingerprint != fingerprint:
            return None
        tables.append(table)
    return dataclasses.replace(entry, tables=tuple(tables))


def _text_or_none(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise TypeError("not text")


def _failure(data: Mapping[str, Any]) -> CachedFailure:
    error = data["error"]
    cls = _ERRORS[str(error["class"])]
    args = (str(error["message"]), int(error["pos"]), str(error["query"]))
    rebuilt = (
        SplUnsupportedError(*args, needs=error.get("needs"))
        if cls is SplUnsupportedError
        else cls(*args)
    )
    return CachedFailure(str(data["reason"]), str(data["group"]), rebuilt)


def keeps_failure(error: SplError) -> bool:
    """Whether a failure with ``error`` may be kept (`put_failure`)."""
    return _ERRORS.get(type(error).__name__) is type(error)


def put_failure(
    cache: ConversionCache,
    spl: str,
    target: str,
    failure: CachedFailure,
    *,
    now: float | None = None,
    again: Callable[[float], tuple[str, str] | None] | None = None,
) -> None:
    """Keep a detection's failure to compile (an error `keeps_failure` accepts). A search
    that may read the clock was compiled at ``now``, and ``again`` gives the reason and
    group of compiling it at another time: it is kept only when they are the same."""
    error = failure.error
    why = (failure.reason, failure.group)

    def same_at(at: float) -> bool:
        return again is not None and again(at) == why

    if not keeps_failure(error) or not _clock_checked(
        cache, spl, target, now, same_at if again else None
    ):
        return
    described: dict[str, Any] = {
        "class": type(error).__name__,
        "message": error.message,
        "pos": error.pos,
        "query": error.query,
    }
    if isinstance(error, SplUnsupportedError) and error.needs is not None:
        described["needs"] = error.needs
    failed = {"reason": failure.reason, "group": failure.group, "error": described}
    _write(cache, spl, target, {"failed": failed}, failure.tables)


def put(
    cache: ConversionCache,
    spl: str,
    target: str,
    compiled: CompiledQuery,
    *,
    now: float | None = None,
    again: Callable[[float], CompiledQuery | None] | None = None,
) -> CompiledQuery:
    """Keep the statement (a `storable` one) and its emptiness check; returns it with
    its text (rendered once, here) and check. A search that may read the clock was
    compiled at ``now``, and ``again`` compiles it at another time: it is kept only when
    the clock did not go into it (`clock_free`), else remembered as `ClockBound`."""
    rendered = compiled.with_duckdb_text()
    text = rendered.text
    assert text is not None

    def same_at(at: float) -> bool:
        return again is not None and clock_free(compiled, text, again(at))

    if not _clock_checked(cache, spl, target, now, same_at if again else None):
        return compiled
    data = {
        "sql": text,
        "columns": [[c.name, c.kind.name, c.pinned] for c in compiled.columns],
        "event_rows": compiled.event_rows,
        "reads_events": compiled.reads_events,
        "datasets": list(compiled.datasets),
        "empty_check": rendered.empty_check,
    }
    _write(cache, spl, target, data, compiled.tables)
    return rendered


def put_status(cache: ConversionCache, spl: str, target: str, compiled: CompiledQuery) -> None:
    """Keep that the search compiles (`CachedStatus`), with the lookups it reads."""
    _write(cache, spl, target, {"compiles": True}, compiled.tables)


def _clock_checked(
    cache: ConversionCache,
    spl: str,
    target: str,
    now: float | None,
    same_at: Callable[[float], bool] | None,
) -> bool:
    """Whether an entry for ``spl`` may be kept as far as the clock goes: a search that may
    read it needs the time it was compiled at (``now``) and ``same_at``, which says
    whether compiling it at another time gives the same; when it does not, the search
    is remembered as `ClockBound`."""
    if not reads_clock(spl):
        return True
    if now is None or same_at is None:
        return False
    if not same_at(now + OTHER_CLOCK):
        _write(cache, spl, target, {"clock": True})
        return False
    return True


def _write(
    cache: ConversionCache,
    spl: str,
    target: str,
    data: dict[str, Any],
    tables: tuple[LookupTable, ...] = (),
) -> None:
    """Entry ``spl`` of ``target``, with the name and fingerprint of each lookup it read."""
    data["lookups"] = [[t.name, t.fingerprint] for t in tables]
    cache.write(KIND, digest(target, spl), data)


def knowledge_reads_clock(knowledge: Knowledge) -> bool:
    """Whether a definition of ``knowledge`` (an add-on's extraction, calculated field or
    event type, a data model's constraint or calculation) may compile to the clock."""
    texts: list[str] = []
    for addon in knowledge.addons:
        for stanza in addon.stanzas:
            texts += [c.expression for c in (*stanza.extracts, *stanza.evals)]
        texts += [e.search for e in addon.eventtypes]
    for model in knowledge.datamodels:
        for obj in model.objects:
            texts += [obj.constraint, *(c.expression for c in obj.calculations)]
    return any(reads_clock(text) for text in texts)


@dataclass(frozen=True)
class KeptTableStatements:
    """`backends.accelerate.KeptTables` in a conversion cache: a table's statement (DuckDB
    SQL) and its fields and columns, by table name under ``key`` (`tables_key`). Not in
    the cache's hit and miss counts, which count detections."""

    cache: ConversionCache
    key: str

    def get(self, name: str) -> tuple[str, PreparedTable] | None:
        data = self.cache.read(TABLES_KIND, digest(self.key, name))
        if data is None:
            return None
        try:
            schema = {str(n): ColumnKind(str(k)) for n, k in data["schema"]}
            physical = {str(n): str(c) for n, c in data["physical"]}
            return str(data["sql"]), PreparedTable(name, schema, physical)
        except (KeyError, TypeError, ValueError):  # another shape: a miss, rewritten later
            return None

    def put(self, name: str, sql: str, table: PreparedTable) -> None:
        data = {
            "table": name,
            "sql": sql,
            "schema": [[n, k.value] for n, k in table.schema.items()],
            "physical": [[n, c] for n, c in table.physical.items()],
        }
        self.cache.write(TABLES_KIND, digest(self.key, name), data)


def tables_key(
    table: str,
    schema: Mapping[str, ColumnKind],
    physical: Mapping[str, str],
    knowledge: Knowledge,
) -> str | None:
    """What the tables built over an engine's events depend on: the events' table, fields,
    kinds and columns, the knowledge, the versions; None when the knowledge reads the
    clock (its tables then compile every run)."""
    if knowledge_reads_clock(knowledge):
        return None
    fields = _fields(schema, physical)
    return digest(TABLES_KIND, LAYOUT, versions(), "duckdb", table, fields, repr(knowledge))
