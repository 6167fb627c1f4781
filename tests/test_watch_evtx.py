"""`stagehunt watch` over EVTX files that grow: a collector's live log gains records
(increasing EventRecordID) and is read again once settled, for its new records only.

The growing file is the real PanacheSysmon_vs_AtomicRedTeam01.evtx (15 chunks of
records, ids 1..565) cut to its header and first chunks, with the header a log writer
would have written then (`watchdata.evtx_prefix`); the whole file is the log grown. The
counts expected are pyevtx-rs' own, read here directly from the same bytes.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import evtx

from stagehunt.store.event_store import EventStore
from stagehunt.watch import state
from stagehunt.watch.loop import PassReport, Watcher
from watchdata import EVTX, PANACHE, evtx_prefix

T0 = 1_800_000_000.0
SETTLE = 60.0


def readable(path: Path) -> Iterator[dict[str, Any]]:
    """pyevtx-rs' records of a file; a damaged chunk raises once and is passed over."""
    records = evtx.PyEvtxParser(str(path)).records()
    while True:
        try:
            yield next(records)
        except StopIteration:
            return
        except RuntimeError:
            continue


def record_ids(path: Path) -> list[int]:
    """The record numbers of a file (record headers: the log's own count) as pyevtx-rs
    reads them, independently of stagehunt."""
    return [int(r["event_record_id"]) for r in readable(path)]


def event_ids(*paths: Path) -> Counter[str]:
    """The events' own ``<EventRecordID>`` (what the store keeps as ``__rid``; in these
    exported logs not the record numbers) of the records pyevtx-rs reads."""
    return Counter(
        m.group(1)
        for path in paths
        for r in readable(path)
        for m in [re.search(r"<EventRecordID>(\d+)</EventRecordID>", r["data"])]
        if m is not None
    )


def stored_ids(store: EventStore) -> Counter[str]:
    rows = store.connection.execute("SELECT __rid FROM events").fetchall()
    return Counter(str(r[0]) for r in rows)


def write(path: Path, data: bytes, mtime: float) -> None:
    """Write in place, as a log writer does (same file, new header, more chunks)."""
    with path.open("r+b" if path.exists() else "wb") as fh:
        fh.write(data)
        fh.truncate()
    os.utime(path, (mtime, mtime))


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def watcher(store: EventStore, folder: Path, clock: Clock) -> Watcher:
    """A watcher with its own clock: files carry an mtime an hour ahead (the collector's
    clock), so they settle only by the watcher's clock, `SETTLE` seconds unchanged."""
    w = Watcher(store, [folder], [], [], settle=SETTLE, clock=clock)
    w.start()
    return w


def test_a_growing_evtx_file_gives_exactly_its_new_records(tmp_path: Path) -> None:
    full = PANACHE.read_bytes()
    before, after = tmp_path / "before.evtx", tmp_path / "after.evtx"
    before.write_bytes(evtx_prefix(full, 5))
    after.write_bytes(full)
    first, every = record_ids(before), record_ids(after)
    assert (len(first), len(every)) == (202, 565)  # chunks 0-4 hold ids 1..202
    assert first == every[: len(first)]
    (tmp_path / "in").mkdir()
    log = tmp_path / "in" / "ForwardedEvents.evtx"
    clock = Clock()
    write(log, before.read_bytes(), T0 + 3600)
    with EventStore(tmp_path / "s.duckdb") as store:
        w = watcher(store, tmp_path / "in", clock)
        assert w.run_once().records == 0  # first seen
        clock.now += SETTLE
        report = w.run_once()
        assert (report.records, report.warnings) == (202, [])
        assert stored_ids(store) == event_ids(before)
        (row,) = state.files(store.connection).values()
        assert (row.kind, row.status, row.offset) == ("evtx", "taken", 202)
    # a restart, the file unchanged: nothing new
    with EventStore(tmp_path / "s.duckdb") as store:
        clock.now += SETTLE
        assert watcher(store, tmp_path / "in", clock).run_once().records == 0
        assert stored_ids(store) == event_ids(before)
    # the log grows: read again once it has settled, after another restart
    write(log, full, T0 + 7200)
    with EventStore(tmp_path / "s.duckdb") as store:
        w = watcher(store, tmp_path / "in", clock)
        assert w.run_once().records == 0  # changed: settling again
        clock.now += SETTLE - 1
        assert w.run_once().records == 0
        clock.now += 1
        report = w.run_once()
        assert (report.records, report.warnings) == (len(every) - len(first), [])
        assert stored_ids(store) == event_ids(after)  # each once: none lost, none twice
        assert sum(event_ids(after).values()) == 565
        clock.now += SETTLE
        assert w.run_once().records == 0
    with EventStore(tmp_path / "s.duckdb") as store:
        clock.now += SETTLE
        assert watcher(store, tmp_path / "in", clock).run_once().records == 0
        assert stored_ids(store) == event_ids(after)


def test_an_evtx_file_replaced_by_another_log_is_read_whole(tmp_path: Path) -> None:
    """Replaced by a log that holds the last id read (29), as another record: every
    record of the new log is taken, not only those above 29. Then by a log whose ids
    start lower (a cleared log): read whole again."""
    studio = EVTX / "execution_evasion_visual_studio_prebuild_event.evtx"
    first_chunk = tmp_path / "first-chunk.evtx"
    first_chunk.write_bytes(evtx_prefix(PANACHE.read_bytes(), 1))
    msxsl = EVTX / "exec_msxsl_xsl_sysmon_1_7.evtx"
    ids = [record_ids(p) for p in (studio, first_chunk, msxsl)]
    assert [(min(i), max(i), len(i)) for i in ids] == [(1, 29, 29), (1, 44, 44), (1, 3, 3)]
    (tmp_path / "in").mkdir()
    log = tmp_path / "in" / "Security.evtx"
    clock = Clock()
    expected: Counter[str] = Counter()
    with EventStore(tmp_path / "s.duckdb") as store:
        w = watcher(store, tmp_path / "in", clock)
        for n, source in enumerate((studio, first_chunk, msxsl)):
            write(log, source.read_bytes(), T0 + 3600 * (n + 1))
            report = PassReport()
            w.ingest(report)
            clock.now += SETTLE
            w.ingest(report)
            expected.update(event_ids(source))
            assert report.records == len(ids[n])
            assert stored_ids(store) == expected
            if n:
                assert report.warnings == [
                    f"{log}: no longer holds the record read last (another log, cleared or "
                    "turned over): reading it whole"
                ]


def test_a_corrupt_chunk_in_the_grown_part_is_rejected_and_reported_once(
    tmp_path: Path,
) -> None:
    """Grown from 5 chunks to 8, the 7th (ids 242..280) damaged: its 39 records are one
    reject, the 8th chunk's records are stored; when the log grows on, the damage (now
    below the last id read) is not reported again and nothing is stored twice."""
    full = bytearray(PANACHE.read_bytes())
    damaged = 4096 + 6 * 65536
    full[damaged + 600 : damaged + 4000] = b"\xff" * 3400
    steps = [evtx_prefix(bytes(full), n) for n in (5, 8, 15)]
    whole = tmp_path / "whole.evtx"
    whole.write_bytes(steps[-1])
    numbers = record_ids(whole)  # pyevtx-rs passes over the damaged chunk
    assert len(numbers) == 565 - 39
    assert not set(range(242, 281)) & set(numbers)
    (tmp_path / "in").mkdir()
    log = tmp_path / "in" / "ForwardedEvents.evtx"
    clock = Clock()
    reports = []
    with EventStore(tmp_path / "s.duckdb") as store:
        w = watcher(store, tmp_path / "in", clock)
        for n, data in enumerate(steps):
            write(log, data, T0 + 3600 * (n + 1))
            report = PassReport()
            w.ingest(report)
            clock.now += SETTLE
            w.ingest(report)
            reports.append(report)
        assert stored_ids(store) == event_ids(whole)
        assert sum(stored_ids(store).values()) == len(numbers)
    assert [r.records for r in reports] == [202, 319 - 202 - 39, 565 - 319]
    assert reports[0].warnings == reports[2].warnings == []
    assert len(reports[1].warnings) == 1
    assert reports[1].warnings[0].startswith(f"{log}: chunk with records 242..280: corrupt EVTX")


def test_an_evtx_file_already_ingested_adds_only_what_it_gains(tmp_path: Path) -> None:
    """Ingested first (`EventStore.load`, as `stagehunt ingest` does), then watched: the
    content is in the store, so nothing is stored again, but its highest record number
    is learnt; when the log grows, only the new records are stored."""
    full = PANACHE.read_bytes()
    (tmp_path / "in").mkdir()
    log = tmp_path / "in" / "ForwardedEvents.evtx"
    write(log, evtx_prefix(full, 5), T0 - 3600)
    before = tmp_path / "before.evtx"
    before.write_bytes(log.read_bytes())
    clock = Clock()
    with EventStore(tmp_path / "s.duckdb") as store:
        assert store.load([log]).stored == 202
        w = watcher(store, tmp_path / "in", clock)
        assert w.run_once().records == 0  # settled by its mtime: taken, nothing new
        (row,) = state.files(store.connection).values()
        assert (row.status, row.offset) == ("taken", 202)
        write(log, full, T0 - 1800)
        assert w.run_once().records == 565 - 202
        assert stored_ids(store) == event_ids(log)
        assert store.load([log]).stored == 0  # the grown content's hash is stored too
