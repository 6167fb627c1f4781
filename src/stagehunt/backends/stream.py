"""Results from the engine to a writer in batches, in bounded memory.

``run_compiled`` gives a whole `ResultTable`; a result of millions of rows does not fit in
memory that way. `open_stream` reads the engine's rows a batch at a time and normalises
them as `run_compiled` does, so the CLI writes each batch before it reads the next.

One rule needs every row: a column no result has a value in is dropped unless the query
pinned it (``table``). While some unpinned column has had no value yet, the batches read
are held (in memory up to ``HOLD_CELLS`` values, then pickled to a temporary file); once
every column has had a value, or the rows end, the held batches are written and the rest
stream straight through. The engine runs the statement once.
"""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

import duckdb

from stagehunt import terminate
from stagehunt.backends.effects import build_deferred, write_outputs
from stagehunt.compile import CompiledQuery
from stagehunt.result import ResultTable, Value, normalise_rows

if TYPE_CHECKING:
    from stagehunt.backends.base import Backend

#: values (rows × columns) one batch read from the engine holds
BATCH_CELLS = 200_000
#: values held in memory while the columns are not known; more go to a temporary file
HOLD_CELLS = 250_000

Row = tuple[Value, ...]


@dataclass
class Batch:
    """Normalised rows of the visible columns kept, and the store positions of their
    events when every row is one stored event (``CompiledQuery.event_rows``)."""

    rows: list[Row]
    events: list[int] | None


class _Held:
    """Batches kept in order until the columns are known: in memory, then on disk."""

    def __init__(self, cells: int) -> None:
        self.room = cells
        self.memory: list[Batch] = []
        self.file: IO[bytes] | None = None

    def add(self, batch: Batch, width: int) -> None:
        self.room -= len(batch.rows) * max(width, 1)
        if self.file is None and self.room >= 0:
            self.memory.append(batch)
            return
        if self.file is None:
            # closed by close(), which the stream's reader calls in a finally
            self.file = tempfile.TemporaryFile(prefix="stagehunt-rows-")  # noqa: SIM115
        pickle.dump(batch, self.file, protocol=pickle.HIGHEST_PROTOCOL)

    def drain(self) -> Iterator[Batch]:
        while self.memory:
            yield self.memory.pop(0)
        if self.file is not None:
            self.file.seek(0)
            while True:
                try:
                    yield pickle.load(self.file)  # written above by this process
                except EOFError:
                    break

    def close(self) -> None:
        if self.file is not None:
            self.file.close()


@dataclass
class ResultStream:
    """The visible columns and an iterator of their batches (read it once, to the end:
    ``outputlookup`` writes when the rows are exhausted)."""

    columns: list[str]
    sql: str
    batches: Iterator[Batch]
    #: whether each batch carries its rows' store positions (``CompiledQuery.event_rows``)
    event_rows: bool = False


def open_stream(
    backend: Backend, compiled: CompiledQuery, *, batch_cells: int = BATCH_CELLS,
    hold_cells: int = HOLD_CELLS,
) -> ResultStream:  # fmt: skip
    """Run ``compiled`` on ``backend``; the columns are known when this returns, the
    rows come as the stream is read."""
    sql = compiled.render(backend.dialect)
    if not backend.schema() and compiled.reads_events:  # no events table yet
        write_outputs(backend, compiled, run=False)
        pinned = [c.name for c in compiled.columns if c.pinned]
        return ResultStream(pinned, sql, iter(()), compiled.event_rows)
    compiled = build_deferred(backend, compiled)
    names = [c.name for c in compiled.columns]
    width = len(names)
    raw = (
        _no_rows()
        if _checked_empty(backend, compiled)
        else backend.stream(compiled, sql, max(1, batch_cells // max(width, 1)))
    )
    batches = (_normalised(rows, width, compiled.event_rows) for rows in raw)
    unseen = {i for i, c in enumerate(compiled.columns) if not c.pinned}
    held = _Held(hold_cells)
    ended = True
    for batch in batches:
        unseen = {i for i in unseen if all(row[i] is None for row in batch.rows)}
        held.add(batch, width)
        if not unseen:
            ended = False
            break
    keep = [i for i in range(width) if i not in unseen]

    def rest() -> Iterator[Batch]:
        try:
            for batch in held.drain():
                yield _project(batch, keep, width)
            if not ended:
                for batch in batches:
                    yield _project(batch, keep, width)
            write_outputs(backend, compiled)
        finally:
            held.close()
            raw.close()

    return ResultStream([names[i] for i in keep], sql, rest(), compiled.event_rows)


def _checked_empty(backend: Backend, compiled: CompiledQuery) -> bool:
    """Whether the statement's `CompiledQuery.empty_check` ran and found no row: then
    the statement has none, and DuckDB need not plan it (compile/emptiness.py)."""
    check = compiled.empty_check  # never set for a statement with effects (_checkable)
    if check is None or backend.dialect != "duckdb":
        return False
    try:
        return not backend.execute(compiled, check)
    except duckdb.Error:  # the statement runs, and says what is wrong, if anything is
        terminate.check()  # or DuckDB's report of Ctrl-C or SIGTERM: then stop
        return False


def _no_rows() -> Generator[list[tuple[object, ...]], None, None]:
    yield from ()


def visible(columns: Sequence[str], pinned: Sequence[str], rows: Sequence[Row]) -> list[int]:
    """Positions of the columns a complete result shows: those some row has a value in,
    and the pinned ones (the rule `open_stream` applies batch by batch)."""
    shown = set(pinned)
    return [
        i for i, name in enumerate(columns)
        if name in shown or any(row[i] is not None for row in rows)
    ]  # fmt: skip


def collect(stream: ResultStream) -> tuple[ResultTable, list[int] | None]:
    """Every row of ``stream`` in one table, and the events' store positions if it has
    them (for the library's results and the HTML report, which need the whole result)."""
    rows: list[Row] = []
    events: list[int] | None = [] if stream.event_rows else None
    for batch in stream.batches:
        rows.extend(batch.rows)
        if events is not None and batch.events is not None:
            events.extend(batch.events)
    return ResultTable(stream.columns, rows, stream.sql), events


def _normalised(rows: list[tuple[object, ...]], width: int, events: bool) -> Batch:
    """`normalise` on the visible values; the store position after them, if selected."""
    return Batch(
        normalise_rows(rows, width),
        [int(str(row[width])) for row in rows] if events else None,
    )


def _project(batch: Batch, keep: list[int], width: int) -> Batch:
    if len(keep) == width:
        return batch
    return Batch([tuple(row[i] for i in keep) for row in batch.rows], batch.events)
