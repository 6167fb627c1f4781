"""The DuckDB engine: a connection whose ``events`` table (or view) holds the events."""

from __future__ import annotations

from collections.abc import Generator, Mapping
from dataclasses import dataclass, field

import duckdb
from sqlglot import exp

from stagehunt.backends import search_order
from stagehunt.compile import CompiledQuery
from stagehunt.store.event_store import EventStore, quote_identifier
from stagehunt.store.schema import EVENTS_TABLE, ColumnKind

#: The in-memory database the prepared tables are made in (attached to the store's):
#: visible to every cursor, so detections can run on several at once (escu/runner.py),
#: and nothing is written into the store's file.
PREPARED_CATALOG = "__stagehunt_prepared"


@dataclass
class DuckDBBackend:
    """Runs compiled queries on a DuckDB connection (a store's, or a lake's view)."""

    connection: duckdb.DuckDBPyConnection
    fields: Mapping[str, ColumnKind]
    columns: Mapping[str, str] = field(default_factory=dict)
    table: str = EVENTS_TABLE
    dialect: str = "duckdb"
    _prepared_searched: bool = field(default=False, init=False, repr=False)

    @classmethod
    def from_store(cls, store: EventStore) -> DuckDBBackend:
        schema = store.schema()
        return cls(store.connection, schema, {n: store.column_for(n) for n in schema})

    def schema(self) -> dict[str, ColumnKind]:
        return dict(self.fields)

    def physical(self) -> dict[str, str]:
        return dict(self.columns)

    def create_table(self, name: str, compiled: CompiledQuery, sql: str) -> None:
        """Keep ``sql``'s rows as table ``name`` (backends/accelerate.py), in memory, in
        `PREPARED_CATALOG`: unlike a TEMP table, every `cursor` sees it."""
        self._search_prepared()
        catalog = exp.to_identifier(PREPARED_CATALOG, quoted=True).sql("duckdb")
        table = exp.to_identifier(name, quoted=True).sql("duckdb")
        self._run(compiled, f"CREATE OR REPLACE TABLE {catalog}.main.{table} AS {sql}")

    def cursor(self) -> DuckDBBackend | None:
        """The same engine on a new cursor of the connection (one thread each: DuckDB
        runs statements of different cursors at once), or None when the events are not
        visible from another cursor (a TEMP view, as a watch window's)."""
        cursor = self.connection.cursor()
        other = DuckDBBackend(cursor, self.fields, self.columns, self.table, self.dialect)
        try:
            other._search_prepared()
            cursor.execute(f"SELECT 1 FROM {quote_identifier(self.table)} LIMIT 0")
        except duckdb.Error:
            cursor.close()
            return None
        return other

    def _search_prepared(self) -> None:
        """`PREPARED_CATALOG` attached (in memory, once per database) and searched after
        the connection's own schema, so statements name prepared tables unqualified
        (once per backend: the setting is the connection's)."""
        if self._prepared_searched:
            return
        con = self.connection
        attached = con.execute(
            "SELECT count(*) FROM duckdb_databases() WHERE database_name = ?", [PREPARED_CATALOG]
        ).fetchone()
        if not attached or not attached[0]:
            con.execute(f"ATTACH ':memory:' AS {quote_identifier(PREPARED_CATALOG)}")
        row = con.execute("SELECT current_database(), current_schema()").fetchone()
        assert row is not None
        path = f"{quote_identifier(row[0])}.{quote_identifier(row[1])},"
        path += f"{quote_identifier(PREPARED_CATALOG)}.main"
        con.execute("SET search_path = ?", [path])
        self._prepared_searched = True

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
