"""Prepare tables once for a library of queries: the events with every add-on field, and
the data model datasets the queries read (compile/prepared.py; docs/cim.md D8).

Splunk answers ``tstats`` from a data model's acceleration summaries, built ahead of the
searches; this is the same idea on our engines. Each table is one statement compiled by
the same compiler the queries use (the add-on layer, then the dataset's constraints and
calculations), run once and kept by the engine (a DuckDB temporary table, a cached Spark
view), so every query after it reads plain columns.
"""

from __future__ import annotations

from collections.abc import Iterable
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


def accelerate(
    backend: Materializing, knowledge: Knowledge, datasets: Iterable[str] = ()
) -> Prepared:
    """Build the add-on events table and each named dataset (``Model.Dataset``) on
    ``backend``; unknown dataset names are left to the compiler (it reports them)."""
    prefix = backend.table
    events = _materialize(
        backend,
        f"{prefix}{PREPARED_EVENTS}",
        lambda c: c.base(),
        Compiler(
            backend.schema(),
            table=backend.table,
            physical=backend.physical(),
            knowledge=knowledge,
        ),
    )
    models = applied(knowledge)
    prepared: dict[str, PreparedTable] = {}
    for name in dict.fromkeys(datasets):
        model_name, _, dataset = name.partition(".")
        model = models.datamodel(model_name)
        obj = model.object(dataset) if model is not None else None
        if model is None or obj is None:
            continue
        compiler = Compiler(
            events.schema, table=events.table, physical=events.physical, knowledge=models
        )
        prepared[name] = _materialize(
            backend,
            f"{prefix}{dataset_table(name)}",
            lambda c, m=model, o=obj: dm.object_rows(c, models, m, o, extra=DATASET_EXTRA),
            compiler,
        )
    return Prepared(events, prepared, models)


def _materialize(
    backend: Materializing,
    name: str,
    rows: _Rows,
    compiler: Compiler,
) -> PreparedTable:
    """Run ``rows`` (compiled by ``compiler``) into table ``name``: each field in a column
    named by its unique SQL alias, the events' store position kept as ``__seq``."""
    # compiler.reads stays None: every field, since later queries may read any
    rel: Relation = rows(compiler)
    select = exp.select(
        *[exp.alias_(q.col(f.alias), q.ident(f.alias)) for f in rel.fields],
        exp.alias_(q.col(SEQ), q.ident(SEQ_COLUMN)),
    ).from_(exp.to_identifier(rel.source))
    compiled = CompiledQuery(
        compiler.b.build(select), (), tuple(compiler.lookups.loaded()), reads_events=True
    )
    backend.create_table(name, compiled, compiled.render(backend.dialect))
    schema: dict[str, ColumnKind] = {f.name: column_kind(f.kind) for f in rel.fields}
    return PreparedTable(name, schema, {f.name: f.alias for f in rel.fields})


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
