"""Records as Arrow tables: the form in which read records travel and are stored.

Worker processes hand their records back as one Arrow table per task (Arrow IPC is a
copy of buffers; pickled dicts cost more to take back than to read), and the store
inserts Arrow tables, so both go through `records_to_table`. A file's records are a
`Rows` span of such a table.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa

from stagehunt.ingest.records import Record

__all__ = [
    "NUMBER_FIELDS",
    "Rows",
    "as_lists",
    "column_array",
    "from_ipc",
    "read_ipc_file",
    "records_to_table",
    "to_ipc",
    "write_ipc_file",
]

#: Fields held as numbers (epoch seconds); every other field is text or a list of text.
NUMBER_FIELDS = frozenset({"_time"})
_LIST = pa.list_(pa.string())


def records_to_table(records: Sequence[Record]) -> pa.Table:
    """One column per key, in order of first appearance; a key absent from a record is
    null there. A column is ``list<string>`` when any record holds a list for it
    (its single values become one-element lists), ``float64`` for `NUMBER_FIELDS`,
    else ``string``. Rows keep the order of ``records``.

    Filled record by record over the keys each record has (not key by key over every
    record, as ``pa.Table.from_pylist`` does: events of many types make a wide, sparse
    table), with the columns of each key layout looked up once: records come in a few
    layouts (the keys of one event type, in one order). Grouping the records by layout
    and transposing each group was measured too: it costs a few Arrow calls per column
    per group, which the few hundred records of a worker's task do not repay.
    """
    n = len(records)
    columns: dict[str, list[object]] = {}
    layouts: dict[tuple[str, ...], list[list[object]]] = {}
    for i, record in enumerate(records):
        keys = tuple(record)
        targets = layouts.get(keys)
        if targets is None:
            targets = layouts[keys] = [columns.setdefault(k, [None] * n) for k in keys]
        for column, value in zip(targets, record.values(), strict=True):
            column[i] = value
    return pa.table({name: column_array(name, values) for name, values in columns.items()})


def column_array(name: str, values: Sequence[object]) -> pa.Array:
    """One column: numbers, text, or (when any value is a list) lists of text."""
    if name in NUMBER_FIELDS:
        return pa.array(values, pa.float64())
    try:
        return pa.array(values, pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        if not any(type(v) is list for v in values):
            raise
    return pa.array([[v] if type(v) is str else v for v in values], _LIST)


def to_ipc(table: pa.Table) -> bytes:
    """``table`` as an Arrow IPC stream: how a worker hands its records back (a third of
    the cost of pickling the table, measured on EVTX records)."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    data: bytes = sink.getvalue().to_pybytes()
    return data


def from_ipc(data: bytes) -> pa.Table:
    """The table `to_ipc` wrote."""
    return pa.ipc.open_stream(data).read_all()


def write_ipc_file(table: pa.Table, path: str) -> None:
    """``table`` as an Arrow IPC stream in the file ``path``: how a worker hands a large
    table back (see `read_ipc_file`)."""
    with pa.OSFile(path, "wb") as sink, pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)


def read_ipc_file(path: str) -> pa.Table:
    """The table `write_ipc_file` wrote, memory-mapped (no copy), and the file's name
    removed (the mapping keeps its pages while the table lives).

    Measured on a worker's 16 MB table: sending its bytes through the pool's pipe
    costs the receiving process ~25 ms of CPU (pipe reads, unpickling, copies) and the
    worker ~35 ms more than writing the file; mapping the file costs ~3 ms."""
    try:
        with pa.memory_map(path) as source:
            return pa.ipc.open_stream(source).read_all()
    finally:
        with contextlib.suppress(OSError):  # a mapped file stays named on Windows
            os.unlink(path)


def as_lists(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """A ``string`` column as ``list<string>``: each value a one-element list, nulls
    staying null (what a single value of a multivalue field is)."""
    if pa.types.is_list(column.type):
        return column
    chunks = []
    for chunk in column.chunks:
        offsets = pa.array(range(len(chunk) + 1), pa.int32())
        chunks.append(pa.ListArray.from_arrays(offsets, chunk, mask=chunk.is_null()))
    return pa.chunked_array(chunks, _LIST)


@dataclass(frozen=True, slots=True)
class Rows:
    """Rows ``start``..``stop`` of ``table``: the records of one source, read elsewhere
    (a worker process) and already in Arrow form."""

    table: pa.Table
    start: int
    stop: int

    def __len__(self) -> int:
        return self.stop - self.start

    def rows(self) -> pa.Table:
        return self.table.slice(self.start, self.stop - self.start)
