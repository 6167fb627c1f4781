"""Prepare tables once for a library of queries: the events with every add-on field, and
the data model datasets the queries read (compile/prepared.py; docs/cim.md D8).

Splunk answers ``tstats`` from a data model's acceleration summaries, built ahead of the
searches; this is the same idea on our engines. Each table is one statement compiled by
the same compiler the queries use (the add-on layer, then the dataset's constraints and
calculations), run once and kept by the engine (a DuckDB table in an in-memory database
every cursor sees, a cached Spark view), so every query after it reads plain columns.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from sqlglot import exp

from stagehunt.backends.base import Backend
from stagehunt.compile import CompiledQuery, Compiler
from stagehunt.compile import datamodel as dm
from stagehunt.compile import sqlfn as q
from stagehunt.compile.prepared import (
    DATASET_EXTRA,
    Prepared,
    PreparedTable,
    applied,
    column_kind,
    dataset_table,
)
from stagehunt.compile.prepared import EVENTS_TABLE as PREPARED_EVENTS
from stagehunt.compile.relation import SEQ, Relation
from stagehunt.knowledge import Knowledge
from stagehunt.store.schema import SEQ_COLUMN, ColumnKind


@runtime_checkable
class Materializing(Backend, Protocol):
    """An engine that can keep a statement's rows as a table for later statements."""

    def create_table(self, name: str, compiled: CompiledQuery, sql: str) -> None: ...


class KeptTables(Protocol):
    """Table statements kept between runs (escu/cache.py), by table name: each is a pure
    function of the engine's events, the knowledge and stagehunt's code, which the
    keeper's key holds; compiling them is most of building the tables (issue 14)."""

    def get(self, name: str) -> tuple[str, PreparedTable] | None: ...

    def put(self, name: str, sql: str, table: PreparedTable) -> None: ...


def accelerate(
    backend: Materializing,
    knowledge: Knowledge,
    datasets: Iterable[str] = (),
    kept: KeptTables | None = None,
) -> Prepared:
    """Build the add-on events table on ``backend``, and each dataset (``Model.Dataset``)
    when a statement first reads it (the ``datasets`` named here at once); a name that is
    no dataset is left to the compiler, which reports it. With ``kept``, a table's
    statement is read from it instead of compiled when it is there, and kept when not."""
    prefix = backend.table
    events = _materialize(
        backend,
        f"{prefix}{PREPARED_EVENTS}",
        lambda c: c.base(),
        lambda: Compiler(
            backend.schema(),
            table=backend.table,
            physical=backend.physical(),
            knowledge=knowledge,
        ),
        kept,
    )
    models = applied(knowledge)
    tables = _Datasets(backend, events, models, kept)
    for name in datasets:
        tables.get(name)
    return Prepared(events, tables, models)


class _Datasets(Mapping[str, PreparedTable]):
    """Dataset tables by ``Model.Dataset``, each built the first time it is asked for:
    a library run builds only those its detections read, while compiling them once."""

    def __init__(
        self,
        backend: Materializing,
        events: PreparedTable,
        models: Knowledge,
        kept: KeptTables | None = None,
    ) -> None:
        self.backend = backend
        self.events = events
        self.models = models
        self.kept = kept
        self.built: dict[str, PreparedTable] = {}

    def __getitem__(self, name: str) -> PreparedTable:
        found = self.built.get(name)
        if found is not None:
            return found
        model_name, _, dataset = name.partition(".")
        model = self.models.datamodel(model_name)
        obj = model.object(dataset) if model is not None else None
        if model is None or obj is None:
            raise KeyError(name)
        self.built[name] = _materialize(
            self.backend,
            f"{self.backend.table}{dataset_table(name)}",
            lambda c: dm.object_rows(c, self.models, model, obj, extra=DATASET_EXTRA),
            lambda: Compiler(
                self.events.schema,
                table=self.events.table,
                physical=self.events.physical,
                knowledge=self.models,
            ),
            self.kept,
        )
        return self.built[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.built)

    def __len__(self) -> int:
        return len(self.built)


def _materialize(
    backend: Materializing,
    name: str,
    rows: _Rows,
    compiler: Callable[[], Compiler],
    kept: KeptTables | None = None,
) -> PreparedTable:
    """Run ``rows`` (compiled by a new ``compiler()``) into table ``name``: each field in a
    column named by its unique SQL alias, the events' store position kept as ``__seq``.
    A statement ``kept`` runs as read; one compiled here is kept when it needs no lookup
    table registered beside it."""
    found = kept.get(name) if kept is not None else None
    if found is not None:
        sql, table = found
        backend.create_table(name, CompiledQuery(exp.select(), (), text=sql), sql)
        return table
    c = compiler()  # c.reads stays None: every field, since later queries may read any
    rel: Relation = rows(c)
    select = exp.select(
        *[exp.alias_(q.col(f.alias), q.ident(f.alias)) for f in rel.fields],
        exp.alias_(q.col(SEQ), q.ident(SEQ_COLUMN)),
    ).from_(exp.to_identifier(rel.source))
    compiled = CompiledQuery(c.b.build(select), (), tuple(c.lookups.loaded()), reads_events=True)
    sql = compiled.render(backend.dialect)
    backend.create_table(name, compiled, sql)
    schema: dict[str, ColumnKind] = {f.name: column_kind(f.kind) for f in rel.fields}
    table = PreparedTable(name, schema, {f.name: f.alias for f in rel.fields})
    if kept is not None and not compiled.tables:
        kept.put(name, sql, table)
    return table


class _Rows(Protocol):
    def __call__(self, c: Compiler, /) -> Relation: ...


@dataclass
class AcceleratedBackend:
    """``backend`` seen through its prepared tables: queries compiled for it read the
    add-on events table as their events (and ``prepared.datasets`` for data models)."""

    backend: Backend
    prepared: Prepared
    dialect: str = field(init=False)
    table: str = field(init=False)

    def __post_init__(self) -> None:
        self.dialect = self.backend.dialect
        self.table = self.prepared.events.table

    def schema(self) -> dict[str, ColumnKind]:
        return dict(self.prepared.events.schema)

    def physical(self) -> dict[str, str]:
        return dict(self.prepared.events.physical)

    def execute(self, compiled: CompiledQuery, sql: str) -> list[tuple[object, ...]]:
        return self.backend.execute(compiled, sql)

    def stream(
        self, compiled: CompiledQuery, sql: str, rows: int
    ) -> Generator[list[tuple[object, ...]], None, None]:
        return self.backend.stream(compiled, sql, rows)
