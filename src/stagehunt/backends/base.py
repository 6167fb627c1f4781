"""What an engine must provide, and the one place results become a `ResultTable`.

An engine (DuckDB, Spark) exposes the event table's schema and name and executes a
compiled query rendered in its own dialect; `run_compiled` does the rest the same way for
every engine, so two engines that return the same raw rows give identical tables.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Protocol

import pyarrow as pa

from stagehunt.compile import CompiledQuery
from stagehunt.lookups.library import LookupTable, write_csv
from stagehunt.result import ResultTable, Value, normalise
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


def run_compiled(backend: Backend, compiled: CompiledQuery) -> ResultTable:
    """Execute and normalise; columns that no result has are dropped unless pinned."""
    return run_compiled_events(backend, compiled)[0]


def run_compiled_events(
    backend: Backend, compiled: CompiledQuery
) -> tuple[ResultTable, list[int] | None]:
    """`run_compiled`, and the store positions of the events when every result row is one
    stored event (``compiled.event_rows``: the statement selects ``__seq`` after the
    visible columns), else None."""
    sql = compiled.render(backend.dialect)
    if not backend.schema() and compiled.reads_events:  # no events table yet
        empty: list[int] | None = [] if compiled.event_rows else None
        write_outputs(backend, compiled, run=False)
        return ResultTable([c.name for c in compiled.columns if c.pinned], [], sql), empty
    compiled = build_deferred(backend, compiled)
    rows = backend.execute(compiled, sql)
    write_outputs(backend, compiled)
    columns = [c.name for c in compiled.columns]
    n = len(columns)
    events = [int(str(row[n])) for row in rows] if compiled.event_rows else None
    table = [tuple(normalise(v) for v in row[:n]) for row in rows]
    keep = [
        i
        for i, c in enumerate(compiled.columns)
        if c.pinned or any(row[i] is not None for row in table)
    ]
    result = ResultTable(
        [columns[i] for i in keep], [tuple(row[i] for i in keep) for row in table], sql
    )
    return result, events


def build_deferred(backend: Backend, compiled: CompiledQuery) -> CompiledQuery:
    """The query with its deferred tables built and added to the tables to register
    (each one's values may read the tables built before it)."""
    for table in compiled.deferred:
        values = [str(row[0]) for row in backend.execute(compiled, table.render(backend.dialect))]
        data = table.build(values)
        built = LookupTable(
            table.sql_name, table.sql_name, tuple(data.column_names), True,
            frozenset(), frozenset(), 1, data,
        )  # fmt: skip
        compiled = replace(compiled, tables=(*compiled.tables, built))
    return compiled


def write_outputs(backend: Backend, compiled: CompiledQuery, *, run: bool = True) -> None:
    """``outputlookup``'s side effect, after the statement ran: each output's rows (none
    when ``run`` is false: there are no events) written to its CSV (rules O1-O4)."""
    for out in compiled.outputs:
        raw = backend.execute(compiled, out.render(backend.dialect)) if run else []
        rows = [[_cell(normalise(v)) for v in row[: len(out.columns)]] for row in raw]
        if not rows:  # O3: an empty result replaces or creates only when asked to
            exists = out.path.exists()
            if out.append or (exists and not out.override_if_empty):
                continue
            if not exists and not out.create_empty:
                continue
            write_csv(out.path, [], [], append=False)  # a zero-length file
            continue
        write_csv(out.path, list(out.columns), rows, append=out.append)


def _cell(value: Value) -> str | None:
    """A CSV cell: numbers as Splunk renders them, multivalue values one per line (O2)."""
    if value is None:
        return None
    if isinstance(value, list):
        return "\n".join(value)
    return str(value)
