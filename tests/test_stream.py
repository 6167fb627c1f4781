"""Results streamed from the engine in batches (backends/stream.py): the columns and rows
are those of the whole result, whether the batches waiting for the columns to be known
were held in memory or spooled to a temporary file."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from stagehunt.api import compile_for
from stagehunt.backends.duckdb import DuckDBBackend
from stagehunt.backends.stream import collect, open_stream
from stagehunt.store.event_store import EventStore

# n = 1..5 in makeresults' order; `late` has a value only in the last result, `never` in
# none (so it is dropped: no result has it), `nothing` is pinned by `table` (T4)
QUERY = (
    "| makeresults count=5 | streamstats count as n"
    ' | eval late=if(n=5, "x", null()), never=if(n>10, 1, null())'
)


@pytest.fixture
def store() -> Iterator[EventStore]:
    with EventStore() as s:
        yield s


@pytest.mark.parametrize("hold_cells", [0, 1_000_000], ids=["spooled", "in_memory"])
def test_a_column_first_seen_in_the_last_batch_keeps_every_row(
    store: EventStore, hold_cells: int
) -> None:
    compiled = compile_for(QUERY, store)
    # 4 columns (_time, n, late, never): 8 cells a batch is 2 rows, so `late` comes in
    # the third batch and the first two wait for it
    stream = open_stream(
        DuckDBBackend.from_store(store), compiled, batch_cells=8, hold_cells=hold_cells
    )
    assert stream.columns == ["_time", "n", "late"]
    batches = list(stream.batches)
    assert [len(b.rows) for b in batches] == [2, 2, 1]
    rows = [row[1:] for b in batches for row in b.rows]
    assert rows == [(1, None), (2, None), (3, None), (4, None), (5, "x")]


def test_once_every_column_has_a_value_the_rest_streams(store: EventStore) -> None:
    """`n` and `_time` have values in the first batch: nothing waits, batches of 2."""
    compiled = compile_for("| makeresults count=5 | streamstats count as n", store)
    stream = open_stream(DuckDBBackend.from_store(store), compiled, batch_cells=4, hold_cells=0)
    assert stream.columns == ["_time", "n"]
    assert [[r[1] for r in b.rows] for b in stream.batches] == [[1, 2], [3, 4], [5]]


def test_pinned_empty_column_stays_and_collect_gives_the_table(store: EventStore) -> None:
    compiled = compile_for("| makeresults count=2 | table nothing", store)
    table, events = collect(open_stream(DuckDBBackend.from_store(store), compiled))
    assert table.columns == ["nothing"]
    assert table.rows == [(None,), (None,)]
    assert events is None
