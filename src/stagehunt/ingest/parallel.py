"""Read many sources on all cores, in order, a bounded number ahead.

An incident folder is thousands of EVTX files, and normalising each record (Python)
costs more than pyevtx-rs' parsing of it; the work is independent per file, so whole
files go to worker processes. Results come back in source order, so the store appends
records exactly as one process would; at most ``window`` files wait in memory. A file
larger than `WHOLE_FILE_LIMIT` is read in this process, streaming, instead: a worker
returns a whole file at once, and memory must not follow the size of one file.

The pool starts only when two or more files can use it (a single file, the common
``stagehunt hunt file.evtx``, pays no start-up), from a fork server that has imported
the readers once (no fork of a process holding DuckDB's threads).
"""

from __future__ import annotations

import errno
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Generic, TypeVar

from stagehunt.ingest import registry
from stagehunt.ingest.options import IngestOptions
from stagehunt.ingest.records import Record, Reject
from stagehunt.ingest.sources import Source
from stagehunt.ingest.splunk_export import UnsupportedInput

__all__ = ["WHOLE_FILE_LIMIT", "Reading", "cores", "default_jobs", "read_ahead"]

#: Files up to this size are read whole by a worker; larger ones stream in this process.
WHOLE_FILE_LIMIT = 64 << 20
#: At most this many files are planned ahead of the caller.
AHEAD_FILES = 4096
#: What reading a source gives: its format name and its records (or rejects). Calling
#: the reading may raise `UnsupportedInput` or `OSError`, and so may its iterator.
Reading = tuple[str, Iterator[Record | Reject]]

T = TypeVar("T")


#: Below this many cores, reading stays in one process (see `default_jobs`).
MIN_CORES_FOR_WORKERS = 3


def cores() -> int:
    """The cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def default_jobs() -> int:
    """Worker processes worth starting: one per core from `MIN_CORES_FOR_WORKERS` cores,
    else none (1: this process reads).

    A record costs a worker ~60 µs to read and ~15 µs to pickle, and this process ~20 µs
    to take back (unpickling dominates; measured on the real EVTX set). With two cores,
    this process and two workers share them and the total (~100 µs a record) beats one
    process (~60 µs) by nothing: measured, 13.7k against 17.3k records/s. From three cores
    this process gets a core of its own and the workers' throughput adds up.
    """
    n = cores()
    return n if n >= MIN_CORES_FOR_WORKERS else 1


@dataclass(frozen=True)
class _Outcome:
    """A source read whole by a worker: what `_replay` turns back into a `Reading`."""

    fmt: str | None
    items: list[Record | Reject]
    #: ("unsupported" | "unreadable", message) when reading stopped early
    error: tuple[str, str] | None


def _read_whole(name: str, path: str, opts: IngestOptions) -> _Outcome:
    """Worker side: every record of one file, and the error that ended it, if any."""
    items: list[Record | Reject] = []
    fmt: str | None = None
    try:
        source = replace(Source.from_path(Path(path)), name=name)
        fmt, records = registry.read_source(source, opts)
        for item in records:
            items.append(item)
    except UnsupportedInput as exc:
        return _Outcome(fmt, items, ("unsupported", exc.message))
    except OSError as exc:
        return _Outcome(fmt, items, ("unreadable", exc.strerror or str(exc)))
    return _Outcome(fmt, items, None)


#: Worker side: one options object per distinct value. Each task brings its own unpickled
#: copy, and the EVTX reader caches what it learns per options object (by identity).
_OPTIONS: dict[IngestOptions, IngestOptions] = {}


def _read_task(files: list[tuple[str, str]], opts: IngestOptions) -> list[_Outcome]:
    """Worker side: a task is several files, so that the cost of a round trip to the
    worker (a few hundred µs) is paid per task, not per file of a handful of records."""
    opts = _OPTIONS.setdefault(opts, opts)
    return [_read_whole(name, path, opts) for name, path in files]


def _raise(error: tuple[str, str]) -> None:
    kind, message = error
    if kind == "unsupported":
        raise UnsupportedInput(message)
    raise OSError(errno.EIO, message)


def _replay(outcome: _Outcome) -> Reading:
    """A worker's outcome as the same `Reading` a read in this process gives."""
    if outcome.fmt is None:
        assert outcome.error is not None
        _raise(outcome.error)

    def items() -> Iterator[Record | Reject]:
        yield from outcome.items
        if outcome.error is not None:
            _raise(outcome.error)

    return outcome.fmt or "", items()


def _poolable(source: Source | None) -> bool:
    return (
        source is not None
        and source.path is not None
        and source.size is not None
        and source.size <= WHOLE_FILE_LIMIT
    )


def _start_pool(jobs: int) -> ProcessPoolExecutor:
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    if "forkserver" in methods:
        ctx.set_forkserver_preload(["stagehunt.ingest.parallel"])
    return ProcessPoolExecutor(max_workers=jobs, mp_context=ctx)


#: A task for a worker holds files up to this many bytes (or `TASK_FILES` files) ...
TASK_BYTES = 2 << 20
TASK_FILES = 256
#: ... and tasks are handed out while the files not yet consumed hold fewer bytes than
#: this: what bounds the records waiting in memory.
AHEAD_BYTES = 16 << 20


@dataclass(eq=False)  # slots are told apart by identity
class _Slot(Generic[T]):
    """An item of the plan, its source, and where its records will come from."""

    item: T
    source: Source | None
    #: for a file in a task: the task's future and the file's place in it
    future: Future[list[_Outcome]] | None = None
    index: int = 0
    #: its bytes, while it counts towards `AHEAD_BYTES`
    ahead: int = 0


class _Tasks(Generic[T]):
    """Files grouped into worker tasks, in plan order, as the plan is read ahead."""

    def __init__(self, jobs: int) -> None:
        self.jobs = jobs
        self.pool: ProcessPoolExecutor | None = None
        self.broken = False
        self.group: list[_Slot[T]] = []
        self.group_bytes = 0
        self.submitted = 0

    def add(self, slot: _Slot[T], opts: IngestOptions) -> None:
        assert slot.source is not None and slot.source.size is not None
        self.group.append(slot)
        self.group_bytes += slot.source.size
        if self.group_bytes >= TASK_BYTES or len(self.group) >= TASK_FILES:
            self.submit(opts, alone=False)

    def submit(self, opts: IngestOptions, *, alone: bool) -> None:
        """Hand the open group to a worker; ``alone``: no other file will follow, so a
        single file of a single task is read in this process (no pool start-up)."""
        group, self.group, self.group_bytes = self.group, [], 0
        if not group or self.broken:
            return
        if self.pool is None:
            if alone and self.submitted == 0 and len(group) == 1:
                return
            self.pool = _start_pool(self.jobs)
        files = [(s.source.name, str(s.source.path)) for s in group if s.source is not None]
        future = self.pool.submit(_read_task, files, opts)
        self.submitted += 1
        for index, slot in enumerate(group):
            slot.future, slot.index = future, index

    def reading(self, slot: _Slot[T], opts: IngestOptions) -> Callable[[], Reading]:
        """How to read ``slot``'s source: a worker's outcome, or a read in this process."""
        assert slot.source is not None
        if slot.future is not None:
            try:
                return partial(_replay, slot.future.result()[slot.index])
            except BrokenProcessPool:  # a worker died (killed, out of memory)
                self.close(wait=False)
                self.broken = True  # the rest is read in this process
        return partial(registry.read_source, slot.source, opts)

    def close(self, *, wait: bool = True) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=wait, cancel_futures=True)
            self.pool = None


def read_ahead(
    plan: Iterable[T],
    source_of: Callable[[T], Source | None],
    opts: IngestOptions,
    *,
    jobs: int | None = None,
) -> Iterator[tuple[T, Callable[[], Reading] | None]]:
    """Each item of ``plan`` in order, with how to read its source (None: nothing to read).

    ``source_of`` says which source an item needs read. With ``jobs`` > 1, files ahead
    of the caller (up to `AHEAD_BYTES`) are read by worker processes while the caller
    consumes; otherwise (or for a large file, or one not on disk) the reading happens
    in this process when called. Either way the records and errors are the same.
    """
    jobs = default_jobs() if jobs is None else max(1, jobs)
    if jobs == 1:
        for item in plan:
            source = source_of(item)
            yield item, None if source is None else partial(registry.read_source, source, opts)
        return
    tasks: _Tasks[T] = _Tasks(jobs)
    slots: deque[_Slot[T]] = deque()
    ahead = 0  # bytes of the poolable files in `slots`
    items = iter(plan)
    more = True
    try:
        while True:
            while more and ahead < AHEAD_BYTES and len(slots) < AHEAD_FILES:
                try:
                    item = next(items)
                except StopIteration:
                    more = False
                    break
                slot = _Slot(item, source_of(item))
                slots.append(slot)
                if _poolable(slot.source) and not tasks.broken:
                    assert slot.source is not None and slot.source.size is not None
                    slot.ahead = slot.source.size
                    ahead += slot.ahead
                    tasks.add(slot, opts)
            if not slots:
                return
            slot = slots.popleft()
            if slot.source is None:
                yield slot.item, None
                continue
            if slot.future is None and slot in tasks.group:
                tasks.submit(opts, alone=not more and len(slots) == 0)
            ahead -= slot.ahead
            yield slot.item, tasks.reading(slot, opts)
    finally:
        tasks.close()
