"""What a statement needs built before it runs, and writes after it ran.

``iplocation``'s deferred tables are built from the data first (each one's values may read
the tables built before it); ``outputlookup`` writes its CSV once the statement has run.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from stagehunt.compile import CompiledQuery
from stagehunt.lookups.library import LookupTable, write_csv
from stagehunt.result import Value, normalise

if TYPE_CHECKING:
    from stagehunt.backends.base import Backend


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
