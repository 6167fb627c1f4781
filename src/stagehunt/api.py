"""The library's front door: compile SPL, run it on a store or on files.

``compile_spl`` is pure (text + schema → SQL); ``run_spl`` executes on an
:class:`~stagehunt.store.event_store.EventStore`; ``search_files`` and ``search_records``
build a temporary store first.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path

from stagehunt.backends.base import Backend, run_compiled, run_compiled_events
from stagehunt.backends.duckdb import DuckDBBackend
from stagehunt.backends.effects import build_deferred
from stagehunt.backends.stream import ResultStream, open_stream
from stagehunt.compile import CompiledQuery, Compiler
from stagehunt.compile.compiler import Probe
from stagehunt.compile.prepared import PreparedTable
from stagehunt.knowledge import Knowledge
from stagehunt.lookups import LookupLibrary
from stagehunt.result import ResultTable
from stagehunt.spl.macros import MacroLibrary
from stagehunt.spl.parser import parse
from stagehunt.store.event_store import EventStore
from stagehunt.store.schema import EVENTS_TABLE, ColumnKind


def compile_query(
    spl: str,
    schema: Mapping[str, ColumnKind],
    *,
    table: str = EVENTS_TABLE,
    physical: Mapping[str, str] | None = None,
    macros: MacroLibrary | None = None,
    now: float | None = None,
    lookups: LookupLibrary | None = None,
    knowledge: Knowledge | None = None,
    probe: Probe | None = None,
    datasets: Mapping[str, PreparedTable] | None = None,
) -> CompiledQuery:
    """Parse (after macro expansion) and compile one SPL query; with ``knowledge``, the
    add-ons' search-time fields apply and ``tstats`` reads its data models; ``probe``
    runs statements on the data while compiling (chart/timechart split-by columns)."""
    # always expand: a macro call with no library is an "unknown macro" error, not a term
    macros = macros or MacroLibrary()
    text = macros.expand(spl)
    compiler = Compiler(
        schema,
        table=table,
        physical=physical,
        now=now,
        lookups=lookups,
        knowledge=knowledge,
        probe=probe,
        macros=macros,
        datasets=datasets,
    )
    return compiler.compile(parse(text))


def compile_spl(
    spl: str,
    schema: Mapping[str, ColumnKind],
    *,
    table: str = EVENTS_TABLE,
    dialect: str = "duckdb",
    macros: MacroLibrary | None = None,
    now: float | None = None,
    knowledge: Knowledge | None = None,
) -> str:
    """SPL → one SQL statement for ``dialect``."""
    return compile_query(
        spl, schema, table=table, macros=macros, now=now, knowledge=knowledge
    ).render(dialect)


def run_spl(
    spl: str,
    store: EventStore,
    *,
    macros: MacroLibrary | None = None,
    now: float | None = None,
    lookups: LookupLibrary | None = None,
    knowledge: Knowledge | None = None,
) -> ResultTable:
    """Run SPL on a store (DuckDB); columns that no result has are dropped unless ``table``
    named them."""
    return run_on(
        DuckDBBackend.from_store(store),
        spl,
        macros=macros,
        now=now,
        lookups=lookups,
        knowledge=knowledge,
    )


def compile_on(
    backend: Backend,
    spl: str,
    *,
    macros: MacroLibrary | None = None,
    now: float | None = None,
    lookups: LookupLibrary | None = None,
    knowledge: Knowledge | None = None,
) -> CompiledQuery:
    """Compile SPL for an engine's events: its fields, physical names and table."""
    return compile_query(
        spl,
        backend.schema(),
        table=backend.table,
        physical=backend.physical(),
        macros=macros,
        now=now,
        lookups=lookups,
        knowledge=knowledge,
        probe=prober(backend),
    )


def prober(backend: Backend) -> Probe:
    """Runs statements on ``backend`` while a query compiles for it."""

    def probe(compiled: CompiledQuery) -> list[tuple[object, ...]]:
        if not backend.schema() and compiled.reads_events:
            return []  # no events table yet: no values
        compiled = build_deferred(backend, compiled)
        return backend.execute(compiled, compiled.render(backend.dialect))

    return probe


def run_on(
    backend: Backend,
    spl: str,
    *,
    macros: MacroLibrary | None = None,
    now: float | None = None,
    lookups: LookupLibrary | None = None,
    knowledge: Knowledge | None = None,
) -> ResultTable:
    """Run SPL on any engine: compile once for its schema, render in its dialect."""
    compiled = compile_on(
        backend, spl, macros=macros, now=now, lookups=lookups, knowledge=knowledge
    )
    return run_compiled(backend, compiled)


def stream_on(
    backend: Backend,
    spl: str,
    *,
    macros: MacroLibrary | None = None,
    lookups: LookupLibrary | None = None,
    knowledge: Knowledge | None = None,
) -> ResultStream:
    """`run_on`, its rows in batches as the engine produces them (bounded memory: read
    the stream to its end while ``backend`` is open)."""
    compiled = compile_on(backend, spl, macros=macros, lookups=lookups, knowledge=knowledge)
    return open_stream(backend, compiled)


def compile_for(
    spl: str,
    store: EventStore,
    *,
    macros: MacroLibrary | None = None,
    now: float | None = None,
    lookups: LookupLibrary | None = None,
    knowledge: Knowledge | None = None,
) -> CompiledQuery:
    """Compile SPL against a store's fields."""
    backend = DuckDBBackend.from_store(store)
    return compile_on(backend, spl, macros=macros, now=now, lookups=lookups, knowledge=knowledge)


def execute(compiled: CompiledQuery, store: EventStore) -> tuple[ResultTable, list[int] | None]:
    """Run a compiled query on a store; also the store positions of the events when every
    result row is one stored event (``compiled.event_rows``), else None."""
    return run_compiled_events(DuckDBBackend.from_store(store), compiled)


def search_files(
    spl: str,
    paths: Sequence[Path],
    *,
    macros: MacroLibrary | None = None,
    knowledge: Knowledge | None = None,
) -> ResultTable:
    """Load files into a temporary store and run SPL on them (``knowledge``: add-on fields
    on the events, ``knowledge.bundled()`` for Splunk's; tstats reads the bundled data
    models either way)."""
    with EventStore() as store:
        store.load(paths)
        return run_spl(spl, store, macros=macros, knowledge=knowledge)


def search_records(
    spl: str,
    records: Sequence[Mapping[str, object]],
    *,
    lookups: Path | None = None,
    knowledge: Knowledge | None = None,
    now: float | None = None,
) -> ResultTable:
    """Run SPL over in-memory records (Splunk-export style dicts), in list order;
    ``knowledge`` as for :func:`search_files`."""
    with tempfile.TemporaryDirectory(prefix="stagehunt-") as tmp:
        path = Path(tmp) / "records.jsonl"
        with path.open("w", encoding="utf-8") as fh:
            for record in records:
                fh.write(json.dumps(record) + "\n")
        with EventStore(in_memory=True) as store:
            store.load([path])
            return run_spl(spl, store, lookups=LookupLibrary(lookups), knowledge=knowledge, now=now)


def seed_spl() -> str:
    """The seed T1074 detection, verbatim as shipped in the package."""
    return resources.files("stagehunt.content").joinpath("T1074/seed.spl").read_text("utf-8")


def sample_paths() -> list[Path]:
    """The bundled sample data ``stagehunt hunt`` runs on by default."""
    root = resources.files("stagehunt.data").joinpath("sample")
    return sorted(Path(str(p)) for p in root.iterdir() if str(p).endswith(".jsonl"))
