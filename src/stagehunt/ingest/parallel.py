"""Read many sources on all cores, in order, a bounded number ahead.

An incident folder is thousands of EVTX files, and normalising each record (Python)
costs more than pyevtx-rs' parsing of it; the work is independent per file, so whole
files go to worker processes, a task of files at a time, and come back as one Arrow
table per task, handed over as a file in a private shared-memory folder that this
process maps (no copy through the pool's pipe; `batches.read_ipc_file`). Results come
back in source order, so the store appends records exactly as one process would; a few
tasks' worth of files wait at most. A file larger than `WHOLE_FILE_LIMIT` is read in
this process, streaming, instead: a worker returns a whole file at once, and memory
must not follow the size of one file.

The pool starts only when two or more files can use it (a single file, the common
``stagehunt hunt file.evtx``, pays no start-up), from a fork server that has imported
the readers once (no fork of a process holding DuckDB's threads).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import multiprocessing
import os
import shutil
import tempfile
import time
from collections import deque
from collections.abc import Callable, Collection, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from functools import partial
from typing import IO, Generic, NamedTuple, TypeVar, cast

import pyarrow as pa

from stagehunt.ingest import evtx_chunks, evtx_reader, registry
from stagehunt.ingest.batches import (
    Rows,
    column_array,
    from_ipc,
    read_ipc_file,
    to_ipc,
    write_ipc_file,
)
from stagehunt.ingest.options import IngestOptions
from stagehunt.ingest.records import RECORD_ID, Record, Reject
from stagehunt.ingest.sources import Source
from stagehunt.ingest.splunk_export import UnsupportedInput

__all__ = [
    "WHOLE_FILE_LIMIT",
    "Read",
    "Reading",
    "cores",
    "default_jobs",
    "file_digest",
    "read_ahead",
]

#: Files up to this size are read whole by a worker; larger ones stream in this process.
#: A worker's records of a dense EVTX take ~5 times the file's size in Arrow, and a
#: task's are all in the worker's memory at once.
WHOLE_FILE_LIMIT = 4 << 20
#: At most this many files are planned ahead of the caller.
AHEAD_FILES = 4096
#: What reading a source gives: its format name and its records (or rejects); records
#: read by a worker come as one `Rows` span, in Arrow form, with ``__rid`` set. Calling
#: the reading may raise `UnsupportedInput` or `OSError`, and so may its iterator.
Reading = tuple[str, Iterator[Record | Reject | Rows]]

T = TypeVar("T")


#: Below this many cores, reading stays in one process (see `default_jobs`).
MIN_CORES_FOR_WORKERS = 2


def cores() -> int:
    """The cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def default_jobs() -> int:
    """Worker processes worth starting: one per core from `MIN_CORES_FOR_WORKERS` cores,
    else none (1: this process reads).

    On the real EVTX set a record costs a worker ~45-60 µs (reading, normalising, its
    share of the task's table) and this process ~4-5 µs (planning, mapping the task's
    table), so two workers beat one process even on two cores (measured with
    `bench/bench_ingest_evtx.py`: ~0.8 against ~0.4 of raw pyevtx-rs). Records handed
    back as pickled dicts cost this process ~20 µs each to unpickle, which on two cores
    ate what the second core gained.
    """
    n = cores()
    return n if n >= MIN_CORES_FOR_WORKERS else 1


@dataclass(frozen=True, slots=True)
class Read:
    """How to read one source of the plan (call it), and the SHA-256 of its bytes when
    a worker took it while reading the file (else None: the caller hashes it itself).
    With the digest in hand the caller can skip a source it already holds without
    reading it; a worker does not even read a file whose digest the caller named in
    ``read_ahead(known=...)``."""

    run: Callable[[], Reading]
    digest: str | None = None

    def __call__(self) -> Reading:
        return self.run()


def file_digest(fh: IO[bytes]) -> str:
    """SHA-256 of a stream's bytes, read in 1 MiB blocks: a source's identity in the
    store ("already ingested")."""
    h = hashlib.sha256()
    for chunk in iter(lambda: fh.read(1 << 20), b""):
        h.update(chunk)
    return h.hexdigest()


class _Outcome(NamedTuple):
    """One file of a task, read whole by a worker: what `_replay` turns back into a
    `Reading`. Its records are rows ``start``..``stop`` of the task's table. (A named
    tuple: a task makes one per file, and most files hold a few records.)"""

    fmt: str | None
    start: int
    stop: int
    rejects: list[Reject]
    #: ("unsupported" | "unreadable", message) when reading stopped early
    error: tuple[str, str] | None
    #: SHA-256 of the file when the task was asked for digests and the file could be read
    digest: str | None = None
    #: the digest was among the known ones: the file was not read (no records, no error)
    known: bool = False
    #: a part of a large EVTX file: the highest record number read (the file's own)
    last: int = 0


@dataclass(frozen=True)
class _TaskOutcome:
    """A worker task's files: their records in one Arrow table (one conversion and one
    transfer per task, not per file of a handful of records), and each file's part of
    it. The table is an IPC stream in a file of the pool's scratch folder (a path), or,
    should writing it fail, the stream's bytes."""

    table: str | bytes
    files: list[_Outcome]


_Row = tuple[object, ...]


class _Collected:
    """Worker side: the records of a task, and the one Arrow table they make.

    EVTX events of a planned layout arrive as rows (`evtx_reader.RowPlan`: no dict per
    event), the others as records; each takes the next position. `table` fills each
    column's values by position (a row's values go straight to the columns its plan
    names) and converts each column once: the same table `records_to_table` makes of
    the same records as dicts, columns in order of first appearance."""

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self.records: list[Record] = []
        self.record_at: list[int] = []
        #: id of a plan -> the plan, its rows, their positions
        self.planned: dict[int, tuple[evtx_reader.RowPlan, list[_Row], list[int]]] = {}
        self.columns: dict[str, None] = {}
        self.layouts: set[tuple[str, ...]] = set()
        self.count = 0

    def append(self, record: Record) -> None:
        keys = tuple(record)
        if keys not in self.layouts:
            self.layouts.add(keys)
            self.columns.update(dict.fromkeys(keys))
        self.records.append(record)
        self.record_at.append(self.count)
        self.count += 1

    def row(self, plan: evtx_reader.RowPlan, row: _Row) -> None:
        entry = self.planned.get(id(plan))
        if entry is None:
            entry = self.planned[id(plan)] = (plan, [], [])
            self.columns.update(dict.fromkeys(plan.keys))
        entry[1].append(row)
        entry[2].append(self.count)
        self.count += 1

    def table(self) -> pa.Table:
        n = self.count
        columns: dict[str, list[object]] = {name: [None] * n for name in self.columns}
        for at, record in zip(self.record_at, self.records, strict=True):
            for name, value in record.items():
                columns[name][at] = value
        for plan, rows, positions in self.planned.values():
            plan.scatter(rows, positions, columns)
        return pa.table({name: column_array(name, values) for name, values in columns.items()})

    def take(self) -> Rows:
        """The records collected so far as one `Rows` span; collecting starts afresh
        (`row`, handed to a reader as its sink, stays valid)."""
        table = self.table()
        self._reset()
        return Rows(table, 0, table.num_rows)

    def collect(self, items: Iterable[Record | Reject | object]) -> Iterator[Reject | None]:
        """Take a reader's items (read with `row` as its sink) in: a record is appended,
        with its position in the file as ``__rid`` if it has none (rejects counted, as
        `EventStore` numbers the records it reads itself); a row is in already. Yields
        each reject, and None after each record or row."""
        for position, item in enumerate(items, 1):
            if isinstance(item, Reject):
                yield item
                continue
            if item is not evtx_reader.ROW:
                record = cast(Record, item)
                record.setdefault(RECORD_ID, str(position))
                self.append(record)
            yield None


def _read_whole(
    name: str, path: str, size: int, opts: IngestOptions, records: _Collected
) -> _Outcome:
    """Worker side: append every record of one file to ``records``; its rejects and the
    error that ended it, if any. A record without an id gets its position in the file
    (rejects counted), as `EventStore` gives the records it reads itself.

    When the load wants digests (`_KNOWN` is set), the file's bytes are read once here,
    hashed, and their head handed to the reader: the SHA-256 of a 69 KiB one-record EVTX
    file costs ~48 µs of CPU, more than pyevtx-rs' parse of it (~28 µs), and the main
    process has a core's worth of other work (measured, issue 14)."""
    start = records.count
    rejects: list[Reject] = []
    fmt: str | None = None
    error: tuple[str, str] | None = None
    digest: str | None = None
    head: bytes | None = None
    if _KNOWN is not None:
        try:
            with open(path, "rb") as fh:
                data = fh.read()
        except OSError:  # no digest: the caller hashes it and reports the error itself
            pass
        else:
            digest = hashlib.sha256(data).hexdigest()
            if digest in _KNOWN:
                return _Outcome(None, start, start, [], None, digest, known=True)
            head, size = data[: registry.EVTX_HEADER], len(data)
            del data
    try:
        fmt, items = registry.read_file(name, path, size, opts, records.row, head)
        for reject in records.collect(items):
            if reject is not None:
                rejects.append(reject)
    except UnsupportedInput as exc:
        error = ("unsupported", exc.message)
    except OSError as exc:
        error = ("unreadable", exc.strerror or str(exc))
    return _Outcome(fmt, start, records.count, rejects, error, digest)


#: Worker side: the digests of the sources the caller holds (`read_ahead`'s ``known``),
#: or None when the caller wants no digests.
_KNOWN: frozenset[str] | None = None
#: Worker side: one options object per distinct value. Each task brings its own unpickled
#: copy, and the EVTX reader caches what it learns per options object (by identity).
_OPTIONS: dict[IngestOptions, IngestOptions] = {}


def _read_task(
    files: list[tuple[str, str, int]], opts: IngestOptions, out: str | None
) -> _TaskOutcome:
    """Worker side: a task is several files, so that the cost of a round trip to the
    worker (a few hundred µs) is paid per task, not per file of a handful of records.
    The table goes to the file ``out`` (see `batches.read_ipc_file`), else by value."""
    opts = _OPTIONS.setdefault(opts, opts)
    records = _Collected()
    outcomes = [_read_whole(name, path, size, opts, records) for name, path, size in files]
    return _hand_back(records.table(), outcomes, out)


def _read_part(
    name: str, path: str, first_chunk: int, chunks: int, opts: IngestOptions, out: str | None
) -> _TaskOutcome:
    """Worker side: ``chunks`` chunks of a large EVTX file from ``first_chunk`` on, read
    as a file of their own behind the file's header (`evtx_chunks.part`): how the
    workers share a file too large to read whole. One outcome, as one file's."""
    opts = _OPTIONS.setdefault(opts, opts)
    records = _Collected()
    rejects: list[Reject] = []
    error: tuple[str, str] | None = None
    seen = evtx_reader.Above(0)
    try:
        with open(path, "rb") as fh:
            head = fh.read(evtx_chunks.HEADER_SIZE)
            fh.seek(evtx_chunks.HEADER_SIZE + first_chunk * evtx_chunks.CHUNK_SIZE)
            body = fh.read(chunks * evtx_chunks.CHUNK_SIZE)
        data = evtx_chunks.part(head, body)
        del body
        items = evtx_reader.read_part(name, data, first_chunk, opts, records.row, seen)
        for reject in records.collect(items):
            if reject is not None:
                rejects.append(reject)
    except (OSError, ValueError) as exc:
        error = ("unreadable", str(exc) if isinstance(exc, ValueError) else _reason(exc))
    outcome = _Outcome("evtx", 0, records.count, rejects, error, last=seen.highest)
    return _hand_back(records.table(), [outcome], out)


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _hand_back(table: pa.Table, outcomes: list[_Outcome], out: str | None) -> _TaskOutcome:
    """Worker side: a task's table written to the file ``out`` (see
    `batches.read_ipc_file`), else by value."""
    if out is not None:
        try:
            write_ipc_file(table, out)
        except OSError:  # scratch folder full or gone: the pipe still works
            with contextlib.suppress(OSError):
                os.unlink(out)
        else:
            return _TaskOutcome(out, outcomes)
    return _TaskOutcome(to_ipc(table), outcomes)


#: Shared memory is used for task tables only with at least this much free: a
#: container's ``/dev/shm`` is often 64 MiB, and the tables in flight take about that.
SHARED_MEMORY_MIN_FREE = 512 << 20


#: A task folder's name: this prefix, the reading process's id, a dash, random letters.
TASKS_PREFIX = "stagehunt-tasks-"
#: A folder of a process that is gone is removed once it is this old (seconds): a
#: process of another PID namespace sharing the folder may look gone while it runs.
STALE_AFTER = 3600


def _scratch_folder() -> str:
    """A private folder for the tables workers hand back: in shared memory (``/dev/shm``)
    where there is one with room, so that handing a table over costs no disk write;
    else in the temporary folder. Folders that killed loads left there are removed
    first (`sweep_stale`): in shared memory they hold RAM until the machine restarts."""
    where: str | None = None
    shared = "/dev/shm"
    try:
        room = os.statvfs(shared)
        if os.access(shared, os.W_OK) and room.f_bavail * room.f_frsize >= SHARED_MEMORY_MIN_FREE:
            where = shared
    except (OSError, AttributeError):  # no /dev/shm, or no statvfs (Windows)
        pass
    sweep_stale(where or tempfile.gettempdir())
    return tempfile.mkdtemp(prefix=f"{TASKS_PREFIX}{os.getpid()}-", dir=where)


def sweep_stale(folder: str, now: float | None = None) -> list[str]:
    """Remove the task folders in ``folder`` whose process is gone (SIGKILL, the OOM
    killer: no clean-up ran) and that are older than `STALE_AFTER`; returns their paths.
    A folder without a process id in its name (older versions) goes by its age alone."""
    now = time.time() if now is None else now
    removed: list[str] = []
    if os.name != "posix":  # no process check there (os.kill(pid, 0) is Ctrl-C on Windows)
        return removed
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        if not entry.name.startswith(TASKS_PREFIX):
            continue
        pid, dash, _ = entry.name[len(TASKS_PREFIX) :].partition("-")
        try:
            if now - entry.stat(follow_symlinks=False).st_mtime < STALE_AFTER:
                continue
            if not entry.is_dir(follow_symlinks=False) or entry.stat().st_uid != os.getuid():
                continue
        except OSError:
            continue
        if dash and pid.isdigit() and _alive(int(pid)):
            continue
        shutil.rmtree(entry.path, ignore_errors=True)
        removed.append(entry.path)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _table(task: _TaskOutcome) -> pa.Table:
    """The table of a task's outcome (`_read_task`)."""
    if isinstance(task.table, bytes):
        return from_ipc(task.table)
    return read_ipc_file(task.table)


def _raise(error: tuple[str, str]) -> None:
    kind, message = error
    if kind == "unsupported":
        raise UnsupportedInput(message)
    raise OSError(errno.EIO, message)


def _replay(table: pa.Table, outcome: _Outcome) -> Reading:
    """A worker's outcome as the same `Reading` a read in this process gives: the same
    records (as one `Rows` span of the task's ``table``) and rejects, the same error at
    the end."""
    if outcome.fmt is None:
        assert outcome.error is not None
        _raise(outcome.error)

    def items() -> Iterator[Record | Reject | Rows]:
        yield from outcome.rejects
        if outcome.stop > outcome.start:
            yield Rows(table, outcome.start, outcome.stop)
        if outcome.error is not None:
            _raise(outcome.error)

    return outcome.fmt or "", items()


#: `read_here` collects a file into tables from this size up; smaller files give their
#: records one by one, for the caller to put many files' records in one table (a table
#: per file of a few records costs more than its records: measured, 0.22 against 0.38
#: of raw on the real EVTX set).
HERE_TABLES_MIN_BYTES = 1 << 20


def read_here(source: Source, opts: IngestOptions) -> Reading:
    """Read ``source`` in this process. A file of `HERE_TABLES_MIN_BYTES` or more is read
    as a worker reads: EVTX events of a planned layout become rows (no dict per event,
    half the cost), and the records come as `Rows` spans of about `TASK_RECORDS`
    records (memory stays bounded whatever the file's size). Rejects come as they are
    met; an error that stops the file comes after the records read before it."""
    if source.size is None or source.size < HERE_TABLES_MIN_BYTES:
        return registry.read_source(source, opts)
    records = _Collected()
    fmt, items = registry.read_source(source, opts, records.row)

    def spans() -> Iterator[Record | Reject | Rows]:
        try:
            for reject in records.collect(items):
                if reject is not None:
                    yield reject
                elif records.count >= TASK_RECORDS:
                    yield records.take()
        except (OSError, UnsupportedInput):
            if records.count:
                yield records.take()
            raise
        if records.count:
            yield records.take()

    return fmt, spans()


def _poolable(source: Source | None) -> bool:
    return (
        source is not None
        and source.path is not None
        and source.size is not None
        and source.size <= WHOLE_FILE_LIMIT
    )


def _start_pool(jobs: int, known: frozenset[str] | None) -> ProcessPoolExecutor:
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    if "forkserver" in methods:
        ctx.set_forkserver_preload(["stagehunt.ingest.parallel"])
    return ProcessPoolExecutor(
        max_workers=jobs, mp_context=ctx, initializer=_start_worker, initargs=(known,)
    )


def _start_worker(known: frozenset[str] | None) -> None:
    """Worker side: the pool is the parallelism, so pyevtx-rs parses with one thread
    (its own pool of one thread per core would contend with the other workers). The
    digests the caller holds come once per worker, not with every task."""
    global _KNOWN
    evtx_reader.PARSER_THREADS = 1
    _KNOWN = known


#: A task for a worker is sized to hold about this many records: its Arrow conversion
#: and transfer cost a few µs per column and per layout of events, which hundreds of
#: records must share, and its records are held in the worker's memory at once ...
TASK_RECORDS = 4096
#: ... which takes this many bytes of files until the first tasks tell how many records
#: a byte holds (EVTX files are 64 KiB chunks: from ~70 to ~3000 records a MiB) ...
TASK_BYTES = 8 << 20
#: ... and never fewer or more than these, nor more than `TASK_FILES` files.
TASK_BYTES_MIN = 2 << 20
TASK_BYTES_MAX = 64 << 20
TASK_FILES = 1024
#: A large EVTX file is read by the workers this many 64 KiB chunks a task (4 MiB: about
#: 2,000 records of dense Sysmon events, a table of ~8 MB).
PART_CHUNKS = 64
#: ... and this many parts are in flight (handed out, or waiting to be taken back).
PARTS_AHEAD = 4
#: Tasks are handed out while the files not yet consumed hold fewer bytes than this
#: many tasks (and at least two per worker): what bounds the records waiting in memory.
AHEAD_TASKS = 4
#: The least that bound can be.
AHEAD_BYTES = 32 << 20


@dataclass(eq=False, slots=True)  # slots are told apart by identity
class _Slot(Generic[T]):
    """An item of the plan, its source, and where its records will come from."""

    item: T
    source: Source | None
    #: for a file in a task: the task's future and the file's place in it
    future: Future[_TaskOutcome] | None = None
    index: int = 0
    #: its bytes, while it counts towards the bytes planned ahead
    ahead: int = 0


class _Tasks(Generic[T]):
    """Files grouped into worker tasks, in plan order, as the plan is read ahead."""

    def __init__(self, jobs: int, known: frozenset[str] | None = None) -> None:
        self.jobs = jobs
        self.known = known
        self.pool: ProcessPoolExecutor | None = None
        #: where workers put the tables of their tasks (`_scratch_folder`)
        self.scratch: str | None = None
        self.broken = False
        self.group: list[_Slot[T]] = []
        self.group_bytes = 0
        self.submitted = 0
        #: the task whose files are being handed out, its outcome and its table
        self.decoded: tuple[Future[_TaskOutcome], _TaskOutcome, pa.Table] | None = None
        #: bytes of the files of each task not yet taken back
        self.sizes: dict[Future[_TaskOutcome], list[int]] = {}
        #: records and bytes of the tasks taken back: how many records a byte holds
        self.records_seen = 0
        self.bytes_seen = 0
        #: the bytes of files a task should hold to hold about `TASK_RECORDS` records,
        #: and how many bytes of files may be planned ahead of the caller (`_learn`)
        self.task_bytes = TASK_BYTES
        self.ahead_bytes = self._ahead(TASK_BYTES)

    def _ahead(self, task_bytes: int) -> int:
        return max(AHEAD_BYTES, max(AHEAD_TASKS, 2 * self.jobs) * task_bytes)

    def _learn(self, records: int, size: int) -> None:
        """Size tasks from the records a byte of the files taken back held."""
        self.records_seen += records
        self.bytes_seen += size
        if self.records_seen:
            wanted = TASK_RECORDS * self.bytes_seen // self.records_seen
            self.task_bytes = max(TASK_BYTES_MIN, min(TASK_BYTES_MAX, wanted))
            self.ahead_bytes = self._ahead(self.task_bytes)

    def add(self, slot: _Slot[T], opts: IngestOptions) -> None:
        assert slot.source is not None and slot.source.size is not None
        self.group.append(slot)
        self.group_bytes += slot.source.size
        if self.group_bytes >= self.task_bytes or len(self.group) >= TASK_FILES:
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
            self.pool = _start_pool(self.jobs, self.known)
        files = [
            (s.source.name, str(s.source.path), s.source.size)
            for s in group
            if s.source is not None and s.source.size is not None
        ]
        if self.scratch is None:
            self.scratch = _scratch_folder()
        out = os.path.join(self.scratch, f"task-{self.submitted}.arrow")
        future = self.pool.submit(_read_task, files, opts, out)
        self.sizes[future] = [size for _, _, size in files]
        self.submitted += 1
        for index, slot in enumerate(group):
            slot.future, slot.index = future, index

    def reading(self, slot: _Slot[T], opts: IngestOptions) -> Read:
        """How to read ``slot``'s source: a worker's outcome, or a read in this process."""
        assert slot.source is not None
        if slot.future is not None:
            decoded = self.decoded
            if decoded is not None and decoded[0] is slot.future:  # the task in hand
                outcome = decoded[1].files[slot.index]
                return Read(partial(_replay, decoded[2], outcome), outcome.digest)
            try:
                task = slot.future.result()
            except BrokenProcessPool:  # a worker died (killed, out of memory)
                self.close(wait=False)
                self.broken = True  # the rest is read in this process
            else:
                table = _table(task)  # once per task
                self.decoded = (slot.future, task, table)
                rejects = sum(len(f.rejects) for f in task.files)
                sizes = self.sizes.pop(slot.future, [])
                read = sum(size for f, size in zip(task.files, sizes, strict=False) if not f.known)
                self._learn(table.num_rows + rejects, read)
                outcome = task.files[slot.index]
                return Read(partial(_replay, table, outcome), outcome.digest)
        source = slot.source
        large = source.size is not None and source.size > WHOLE_FILE_LIMIT
        if large and not self.broken and source.path is not None and source.size is not None:
            try:
                head = source.head(evtx_chunks.HEADER_SIZE)
            except OSError:
                head = b""
            if evtx_reader.sniff(head):
                return Read(self.parts(source.name, str(source.path), source.size, head, opts))
        return Read(partial(read_here, slot.source, opts))

    def parts(
        self, name: str, path: str, size: int, head: bytes, opts: IngestOptions
    ) -> Callable[[], Reading]:
        """A large EVTX file's reading, shared by the workers `PART_CHUNKS` chunks
        each (its chunks are self-contained): one process read a file of a million
        records at 0.4 of raw pyevtx-rs. At most `AHEAD_TASKS` (or two per worker)
        parts are in flight; the first are handed out now, so that they are read
        while the caller hashes the file. Should the pool break, the rest of the file
        is read here, part by part, the same way."""
        chunks = max(0, (size - evtx_chunks.HEADER_SIZE) // evtx_chunks.CHUNK_SIZE)
        starts = iter(range(0, chunks, PART_CHUNKS))
        window: deque[tuple[int, Future[_TaskOutcome] | None]] = deque()
        ahead = max(PARTS_AHEAD, 2 * self.jobs)

        def submit() -> None:
            start = next(starts, None)
            if start is None:
                return
            n = min(PART_CHUNKS, chunks - start)
            future: Future[_TaskOutcome] | None = None
            if not self.broken:
                if self.pool is None:
                    self.pool = _start_pool(self.jobs, self.known)
                if self.scratch is None:
                    self.scratch = _scratch_folder()
                out = os.path.join(self.scratch, f"task-{self.submitted}.arrow")
                self.submitted += 1
                future = self.pool.submit(_read_part, name, path, start, n, opts, out)
            window.append((start, future))

        for _ in range(ahead):
            submit()

        def items() -> Iterator[Record | Reject | Rows]:
            last: str | None = None
            while window:
                start, future = window.popleft()
                submit()
                task: _TaskOutcome | None = None
                if future is not None:
                    try:
                        task = future.result()
                    except BrokenProcessPool:
                        self.close(wait=False)
                        self.broken = True
                if task is None:
                    n = min(PART_CHUNKS, chunks - start)
                    task = _read_part(name, path, start, n, opts, None)
                table, outcome = _table(task), task.files[0]
                yield from outcome.rejects
                if outcome.stop > outcome.start:
                    yield Rows(table, outcome.start, outcome.stop)
                last = str(outcome.last) if outcome.last else last
                if outcome.error is not None:
                    _raise(outcome.error)
            truncated = evtx_reader.truncation(head, size)
            if truncated is not None:
                yield Reject(name, f"end of file (after record {last})", truncated)

        return lambda: ("evtx", items())

    def close(self, *, wait: bool = True) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=wait, cancel_futures=True)
            self.pool = None
        if self.scratch is not None:  # tables of tasks not taken back
            shutil.rmtree(self.scratch, ignore_errors=True)
            self.scratch = None


def read_ahead(
    plan: Iterable[T],
    source_of: Callable[[T], Source | None],
    opts: IngestOptions,
    *,
    jobs: int | None = None,
    known: Collection[str] | None = None,
) -> Iterator[tuple[T, Read | None]]:
    """Each item of ``plan`` in order, with how to read its source (None: nothing to read).

    ``source_of`` says which source an item needs read. With ``jobs`` > 1, files ahead
    of the caller (a few tasks' worth, `AHEAD_TASKS`) are read by worker processes while the caller
    consumes; otherwise (or for a large file, or one not on disk) the reading happens
    in this process when called. Either way the records and errors are the same.

    ``known`` (digests the caller holds) asks the workers for each file's SHA-256
    (`Read.digest`), taken from the bytes they read anyway; a file whose digest is
    known is not read at all (calling its reading is then a mistake). Sources read in
    this process come without a digest.
    """
    jobs = default_jobs() if jobs is None else max(1, jobs)
    if jobs == 1:
        for item in plan:
            source = source_of(item)
            yield item, None if source is None else Read(partial(read_here, source, opts))
        return
    tasks: _Tasks[T] = _Tasks(jobs, None if known is None else frozenset(known))
    slots: deque[_Slot[T]] = deque()
    ahead = 0  # bytes of the poolable files in `slots`
    items = iter(plan)
    more = True
    try:
        while True:
            while more and ahead < tasks.ahead_bytes and len(slots) < AHEAD_FILES:
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
