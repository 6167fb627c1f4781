"""A big result in search order without one big sort (backends/search_order.py).

A search's events come newest first, ties in stored order, events without a time last
(rule 1.4). Cut into time slices, the result must be exactly that order: the expected
orders below are worked out from the rule with Python's sort, over events whose times
repeat and were stored out of order. Slices are made small (a few hundred bytes) so a
store of a few thousand events is cut into dozens of them.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from stagehunt.api import compile_for
from stagehunt.backends import search_order
from stagehunt.backends.duckdb import DuckDBBackend
from stagehunt.backends.stream import collect, open_stream
from stagehunt.ingest.records import Record
from stagehunt.store.event_store import EventStore

N = 3000


def _time(i: int) -> float | None:
    """Times out of stored order, each shared by six events; every 97th event has none."""
    return None if i % 97 == 0 else float((i * 7919) % 500)


@pytest.fixture(scope="module")
def store() -> Iterator[EventStore]:
    records = []
    for i in range(N):
        record: Record = {"id": str(i), "EventCode": str(i % 5), "index": "main"}
        if _time(i) is not None:
            record["_time"] = _time(i)
        records.append(record)
    with EventStore() as s:
        s.append(records, "origin", "events.jsonl", "jsonl")
        yield s


def _search_order(ids: list[int]) -> list[int]:
    """Rule 1.4 by hand: newest first, ties in stored order, no time last (stored order)."""
    timed = [i for i in ids if _time(i) is not None]
    untimed = [i for i in ids if _time(i) is None]
    return sorted(timed, key=lambda i: (-(_time(i) or 0.0), i)) + untimed


@pytest.fixture
def slices(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Slices of ~400 bytes of results; returns the list the slices run are counted in."""
    monkeypatch.setattr(search_order, "SLICE_BYTES", 400)
    ran: list[int] = []
    between = search_order._between

    def counted(*args: object, **kwargs: object) -> str:
        ran.append(1)
        return between(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(search_order, "_between", counted)
    return ran


def _ids(store: EventStore, spl: str) -> list[int]:
    table, _ = collect(open_stream(DuckDBBackend.from_store(store), compile_for(spl, store)))
    column = table.columns.index("id")
    return [int(str(row[column])) for row in table.rows]


def test_every_event_in_search_order_across_slices(store: EventStore, slices: list[int]) -> None:
    assert _ids(store, "index=main | table id") == _search_order(list(range(N)))
    assert len(slices) > 20  # the events were read a slice at a time, the last without time


def test_a_selective_search_reads_bigger_slices(store: EventStore, slices: list[int]) -> None:
    """One event in five is kept: slices grow (by up to GROWTH) to keep their result size."""
    got = _ids(store, "index=main EventCode=3 | table id")
    assert got == _search_order([i for i in range(N) if i % 5 == 3])
    every = len(slices)
    slices.clear()
    _ids(store, "index=main | table id")
    assert every < len(slices)


def test_the_search_time_range_bounds_the_slices(store: EventStore, slices: list[int]) -> None:
    got = _ids(store, "index=main earliest=100 latest=200 | table id")
    expected = [i for i in range(N) if _time(i) is not None and 100 <= (_time(i) or 0) < 200]
    assert got == _search_order(expected)
    assert slices


def test_a_search_that_reads_the_events_twice_is_not_sliced(
    store: EventStore, slices: list[int]
) -> None:
    """``stats`` results are not events: one statement, sorted as compiled (rule 1.4 does
    not apply; ``by`` orders them)."""
    compiled = compile_for("index=main | stats count by EventCode", store)
    table, _ = collect(open_stream(DuckDBBackend.from_store(store), compiled))
    assert table.rows == [("0", 600), ("1", 600), ("2", 600), ("3", 600), ("4", 600)]
    assert not slices


def test_duckdb_memory_is_capped_while_slices_stream_then_restored(
    store: EventStore, slices: list[int]
) -> None:
    con = store.connection
    con.execute("SET memory_limit = '3GiB'")
    stream = open_stream(DuckDBBackend.from_store(store), compile_for("index=main", store))
    next(stream.batches)
    (during,) = con.execute("SELECT current_setting('memory_limit')").fetchone() or ("",)
    assert search_order._bytes(str(during)) <= search_order.STREAM_MEMORY * 1.001
    list(stream.batches)
    (after,) = con.execute("SELECT current_setting('memory_limit')").fetchone() or ("",)
    assert after == "3.0 GiB"


@pytest.mark.parametrize(
    ("spl", "dropped"),
    [
        ("| makeresults count=5", True),
        ('| makeresults count=5 | eval x=1 | where x=1 | rex field=x "(?<y>.)" | table y', True),
        ("| makeresults count=5 | streamstats count", False),  # a window: sorted as compiled
        ("| makeresults count=5 | eval x=1 | sort - x", False),  # not the source order
        ("| makeresults count=5 | dedup _time", False),
    ],
)
def test_makeresults_order_is_the_range_order(store: EventStore, spl: str, dropped: bool) -> None:
    tree = compile_for(spl, store).sql
    assert (search_order._without_source_order(tree) is not tree) is dropped


@pytest.mark.parametrize(
    ("shown", "at_least", "below"),
    [
        ("11.7 GiB", 11.7 * 2**30, 11.8 * 2**30),
        ("256.0 MiB", 256 * 2**20, 256.1 * 2**20),
        ("0 bytes", 0, 1),
        ("unlimited", float("inf"), float("inf")),
    ],
)
def test_memory_setting_read_back(shown: str, at_least: float, below: float) -> None:
    value = search_order._bytes(shown)
    assert at_least <= value <= below
