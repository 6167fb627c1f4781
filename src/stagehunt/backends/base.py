"""What an engine must provide, and results as one `ResultTable`.

An engine (DuckDB, Spark) exposes the event table's schema and name and executes a
compiled query rendered in its own dialect; `stream.open_stream` does the rest the same
way for every engine (`run_compiled` collects its batches into a table), so two engines
that return the same raw rows give identical tables.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Protocol

import pyarrow as pa

from stagehunt.backends.stream import collect, open_stream
from stagehunt.compile import CompiledQuery
from stagehunt.result import ResultTable
from stagehunt.store.schema import ColumnKind


class QueryFailed(RuntimeError):
    """The engine rejected or failed the statement (e.g. a regex its engine refuses)."""


#: A stored column's SQL type per dialect, by the family of its Arrow type (store and lake
#: columns are strings, lists of strings, or numbers).
_SQL_TYPES: dict[str, dict[str, str]] = {
    "duckdb": {"list": "VARCHAR[]", "float": "DOUBLE", "int": "BIGINT", "string": "VARCHAR"},
    "spark": {"list": "array<string>", "float": "double", "int": "bigint", "string": "string"},
}


def sql_type(dtype: pa.DataType, dialect: str) -> str:
    """The SQL type ``dialect`` declares for a stored column of Arrow type ``dtype``."""
    if pa.types.is_list(dtype):
        family = "list"
    elif pa.types.is_floating(dtype):
        family = "float"
    elif pa.types.is_integer(dtype):
        family = "int"
    else:
        family = "string"
    return _SQL_TYPES[dialect][family]


#: ``--engine`` choices.
ENGINES = ("duckdb", "spark")


class Backend(Protocol):
    """An engine holding events: schema, physical names, and execution of compiled SQL."""

    #: sqlglot dialect the compiled tree is rendered in
    dialect: str
    #: SQL name of the events table (views of several backends may share one session)
    table: str

    def schema(self) -> dict[str, ColumnKind]:
        """Field names and kinds; ``{}`` when no event was ever loaded."""
        ...

    def physical(self) -> dict[str, str]:
        """Field name → column holding it in ``table``."""
        ...

    def execute(self, compiled: CompiledQuery, sql: str) -> list[tuple[object, ...]]:
        """Run ``sql`` (``compiled`` rendered for `dialect`), lookups registered; raw rows."""
        ...

    def stream(
        self, compiled: CompiledQuery, sql: str, rows: int
    ) -> Generator[list[tuple[object, ...]], None, None]:
        """`execute`, its raw rows ``rows`` at a time as they are read (lookups stay
        registered until the generator ends or is closed)."""
        ...


def run_compiled(backend: Backend, compiled: CompiledQuery) -> ResultTable:
    """Execute and normalise; columns that no result has are dropped unless pinned."""
    return run_compiled_events(backend, compiled)[0]


def run_compiled_events(
    backend: Backend, compiled: CompiledQuery
) -> tuple[ResultTable, list[int] | None]:
    """`run_compiled`, and the store positions of the events when every result row is one
    stored event (``compiled.event_rows``: the statement selects ``__seq`` after the
    visible columns), else None. The rows of `stream.open_stream`, all in one table."""
    return collect(open_stream(backend, compiled))
