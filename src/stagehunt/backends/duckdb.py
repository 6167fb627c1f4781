"""The DuckDB engine: a connection whose ``events`` table (or view) holds the events."""

from __future__ import annotations

from collections.abc import Generator, Mapping
from dataclasses import dataclass, field

import duckdb
from sqlglot import exp

from stagehunt.backends import search_order
from stagehunt.compile import CompiledQuery
from stagehunt.store.event_store import EventStore
from stagehunt.store.schema import EVENTS_TABLE, ColumnKind


@dataclass
class DuckDBBackend:
    """Runs compiled queries on a DuckDB connection (a store's, or a lake's view)."""

    connection: duckdb.DuckDBPyConnection
    fields: Mapping[str, ColumnKind]
    columns: Mapping[str, str] = field(default_factory=dict)
    table: str = EVENTS_TABLE
    dialect: str = "duckdb"

    @classmethod
    def from_store(cls, store: EventStore) -> DuckDBBackend:
        schema = store.schema()
        return cls(store.connection, schema, {n: store.column_for(n) for n in schema})

    def schema(self) -> dict[str, ColumnKind]:
        return dict(self.fields)

    def physical(self) -> dict[str, str]:
        return dict(self.columns)

    def create_table(self, name: str, compiled: CompiledQuery, sql: str) -> None:
        """Keep ``sql``'s rows as temporary table ``name`` (backends/accelerate.py)."""
        table = exp.to_identifier(name, quoted=True).sql("duckdb")
        self._run(compiled, f"CREATE OR REPLACE TEMP TABLE {table} AS {sql}")

    def execute(self, compiled: CompiledQuery, sql: str) -> list[tuple[object, ...]]:
        return self._run(compiled, sql)

    def stream(
        self, compiled: CompiledQuery, sql: str, rows: int
    ) -> Generator[list[tuple[object, ...]], None, None]:
        """The rows as DuckDB produces them, ``rows`` at a time (``fetchmany``): DuckDB
        streams a result, so what is held is one batch and the engine's own buffers, and
        a search's events come a time slice at a time (backends/search_order.py). ``sql``
        is ``compiled`` rendered for DuckDB, as the caller reports it."""
        con = self.connection
        for lookup in compiled.tables:
            con.register(lookup.sql_name, lookup.data)
        try:
            yield from search_order.statement_rows(con, compiled, sql, self.table, rows)
        finally:
            for lookup in compiled.tables:
                con.unregister(lookup.sql_name)

    def _run(self, compiled: CompiledQuery, sql: str) -> list[tuple[object, ...]]:
        con = self.connection
        for lookup in compiled.tables:
            con.register(lookup.sql_name, lookup.data)
        try:
            cursor = con.execute(sql)
            return [tuple(row) for row in cursor.fetchall()] if cursor.description else []
        finally:
            for lookup in compiled.tables:
                con.unregister(lookup.sql_name)
