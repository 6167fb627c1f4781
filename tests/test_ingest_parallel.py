"""Reading on all cores (`stagehunt.ingest.parallel`) stores exactly what one process does.

The same load is done with ``jobs=1`` (every source read here, in order) and with
``jobs=2`` (small files read whole by worker processes, a few ahead): rows, their order
(``__seq``), their identity (``__src``, ``__rid``) and the report must be equal, for
real EVTX, real zipped OTRF data, damaged files and repeated content.
"""

from __future__ import annotations

import errno
import hashlib
import io
import json
import shutil
import tempfile
from pathlib import Path
from typing import IO, Any

import evtx
import pytest

from stagehunt import cli
from stagehunt.ingest import parallel, registry
from stagehunt.ingest.batches import Rows, records_to_table
from stagehunt.ingest.options import IngestOptions
from stagehunt.ingest.records import RECORD_ID
from stagehunt.ingest.sources import Source
from stagehunt.store.event_store import EventStore, LoadReport
from stagehunt.store.schema import EVENTS_TABLE

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
SAMPLES = REAL / "sbousseaden-EVTX-ATTACK-SAMPLES"
OTRF = REAL / "OTRF-Security-Datasets"


def everything(store: EventStore) -> list[tuple[Any, ...]]:
    """Every stored row, hidden columns included, in stored order."""
    return store.connection.execute(f"SELECT * FROM {EVENTS_TABLE} ORDER BY __seq").fetchall()


def summary(report: LoadReport) -> tuple[Any, ...]:
    return (
        report.files,
        report.records_read,
        report.stored,
        [(r.path, r.position, r.reason) for r in report.rejects],
        report.errors,
        report.already_stored,
        report.duplicates,
        report.formats,
        report.sourcetypes,
    )


def load_both(paths: list[Path]) -> tuple[LoadReport, LoadReport, bool]:
    with EventStore(in_memory=True) as one, EventStore(in_memory=True) as two:
        first = one.load(paths, jobs=1)
        second = two.load(paths, jobs=2)
        return first, second, everything(one) == everything(two)


@pytest.fixture
def pool_starts(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The worker pools started (their sizes) during the test."""
    started: list[int] = []
    real_start = parallel._start_pool

    def spy(jobs: int, known: frozenset[str] | None) -> Any:
        started.append(jobs)
        return real_start(jobs, known)

    monkeypatch.setattr(parallel, "_start_pool", spy)
    return started


def test_real_evtx_folder_loads_identically_on_two_cores(pool_starts: list[int]) -> None:
    first, second, same_rows = load_both([SAMPLES])
    assert pool_starts == [2]  # only the jobs=2 load starts workers
    assert first.files == len(list(SAMPLES.rglob("*.evtx")))  # every file is an EVTX
    assert first.stored > 0
    assert summary(first) == summary(second)
    assert same_rows


def test_zip_members_are_read_ahead_and_cleaned_up() -> None:
    zips = sorted(OTRF.glob("*.zip"))
    assert len(zips) >= 2
    first, second, same_rows = load_both(zips)
    assert first.stored > 0 and not first.errors
    assert summary(first) == summary(second)
    assert same_rows


def test_damage_and_repeats_are_reported_the_same(tmp_path: Path) -> None:
    """A truncated EVTX, content no reader takes and a repeated file, among good ones."""
    evtx = sorted(SAMPLES.glob("*.evtx"))
    big = max(evtx, key=lambda p: p.stat().st_size)
    assert big.stat().st_size > 4096 + 65536  # more than one chunk: truncation loses records
    (tmp_path / "a.evtx").write_bytes(big.read_bytes()[: 4096 + 65536 + 1000])
    shutil.copyfile(evtx[0], tmp_path / "b.evtx")
    shutil.copyfile(evtx[0], tmp_path / "c.evtx")  # same content: stored once
    (tmp_path / "d.bin").write_bytes(b"\x00\x01 not any event format \xff" * 10)
    shutil.copyfile(evtx[1], tmp_path / "e.evtx")
    first, second, same_rows = load_both([tmp_path])
    assert summary(first) == summary(second)
    assert same_rows
    assert [r.path for r in first.rejects] == [str(tmp_path / "a.evtx")]
    assert "truncated" in first.rejects[0].reason
    assert first.already_stored == [str(tmp_path / "c.evtx")]
    assert len(first.errors) == 1 and first.errors[0].startswith(f"{tmp_path / 'd.bin'}: ")
    assert first.records_read == first.stored + len(first.rejects)


def test_read_ahead_keeps_plan_order_and_skips_items_without_source(tmp_path: Path) -> None:
    """Items come back in plan order; those with nothing to read pass through."""
    files = []
    for i in range(5):
        path = tmp_path / f"{i}.jsonl"
        path.write_text(f'{{"n": "{i}"}}\n')
        files.append(path)
    plan: list[Path | None] = [files[0], None, *files[1:], None]

    def source_of(item: Path | None) -> Source | None:
        return None if item is None else Source.from_path(item)

    seen = []
    for _item, reading in parallel.read_ahead(plan, source_of, IngestOptions(), jobs=2):
        if reading is None:
            seen.append(None)
            continue
        _, items = reading()
        values: list[str] = []
        for item in items:  # records read here, or a worker's records as one Arrow span
            if isinstance(item, Rows):
                values.extend(item.rows().column("n").to_pylist())
            elif isinstance(item, dict):
                values.append(str(item["n"]))
        seen.append(values)
    assert seen == [["0"], None, ["1"], ["2"], ["3"], ["4"], None]


def test_large_files_stream_in_this_process(
    pool_starts: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above the size limit a file that is not EVTX goes to no worker, and the result
    is the same."""
    monkeypatch.setattr(parallel, "WHOLE_FILE_LIMIT", 0)
    first, second, same_rows = load_both(sorted(OTRF.glob("*.zip"))[:2])
    assert first.stored > 0 and "evtx" not in first.formats
    assert pool_starts == []
    assert summary(first) == summary(second) and same_rows


def test_large_evtx_files_are_read_by_the_workers_a_run_of_chunks_each(
    pool_starts: list[int], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Above the size limit an EVTX file is shared by the workers, one chunk a task here:
    the same rows in the same order, the same rejects, a truncated file's included."""
    monkeypatch.setattr(parallel, "WHOLE_FILE_LIMIT", 0)
    monkeypatch.setattr(parallel, "PART_CHUNKS", 1)
    big = max(SAMPLES.glob("*.evtx"), key=lambda p: p.stat().st_size)
    data = big.read_bytes()
    assert len(data) >= 4096 + 16 * 65536  # 15 chunks of records, 2 empty slots
    (tmp_path / "a.evtx").write_bytes(data)
    (tmp_path / "b.evtx").write_bytes(data[: 4096 + 3 * 65536 + 1000])  # 3 chunks and a bit
    first, second, same_rows = load_both([tmp_path])
    assert pool_starts == [2]
    assert summary(first) == summary(second) and same_rows
    assert first.stored == 565 + sum(
        1 for _ in evtx.PyEvtxParser(str(tmp_path / "b.evtx")).records()
    )
    assert [(r.path, r.reason.split(":")[0]) for r in first.rejects] == [
        (str(tmp_path / "b.evtx"), "file truncated")
    ]


def test_one_file_starts_no_workers(pool_starts: list[int]) -> None:
    first, _, same_rows = load_both([SAMPLES / "sysmon_1_7_11_mcx2prov_uacbypass.evtx"])
    assert pool_starts == []
    assert first.stored > 0 and same_rows


def test_cli_ingest_with_workers_matches_one_process(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--jobs`` (default: a worker per core) changes how fast, never what is stored."""
    for jobs in ("1", "2"):
        assert (
            cli.main(
                [
                    "ingest",
                    str(SAMPLES),
                    "--store",
                    str(tmp_path / f"{jobs}.duckdb"),
                    "--jobs",
                    jobs,
                ]
            )
            == 0
        )
    with EventStore(tmp_path / "1.duckdb") as one, EventStore(tmp_path / "2.duckdb") as two:
        assert everything(one) == everything(two)
        assert len(everything(one)) > 0


def test_cli_refuses_zero_jobs(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["ingest", str(SAMPLES), "--jobs", "0"])
    assert exit_info.value.code == 2
    assert "--jobs: expected a whole number >= 1, got '0'" in capsys.readouterr().err


def test_worker_rows_make_the_table_the_records_make() -> None:
    """A worker turns the events of a planned layout into rows (no dict per event); the
    task's table must equal `records_to_table` of the same files read record by record
    (values, order, column order), and the rows path must actually have been taken."""
    files = sorted(SAMPLES.rglob("*.evtx"))
    opts = IngestOptions()
    task = [(str(f), str(f), f.stat().st_size) for f in files]
    expected = []
    for f in files:
        _, items = registry.read_source(Source.from_path(f), opts)
        for position, item in enumerate(items, 1):
            if isinstance(item, dict):
                item.setdefault(RECORD_ID, str(position))
                expected.append(item)
    for _ in range(2):  # the second pass has every layout's plan learnt
        collected = parallel._Collected()
        for name, path, size in task:
            outcome = parallel._read_whole(name, path, size, opts, collected)
            assert outcome.error is None
        rows = sum(len(rows) for _, rows, _ in collected.planned.values())
        assert collected.table().equals(records_to_table(expected))
    assert rows > len(expected) // 2


def test_values_with_entities_take_the_row_path_unescaped() -> None:
    """A Data value holding an XML entity still fits its layout's plan: the value is
    unescaped, ``_raw`` keeps it as written. Record 105 of PanacheSysmon (Sysmon EID 1,
    ``<EventRecordID>3676``) has, as pyevtx-rs renders it, the command line
    ``"C:\\Windows\\system32\\cmd.exe" /c "echo " "ATOMICREDTEAM &gt; %%windir%%\\cert.key"``."""
    path = SAMPLES / "PanacheSysmon_vs_AtomicRedTeam01.evtx"
    opts = IngestOptions()
    for _ in range(2):  # the second pass has every layout's plan learnt
        collected = parallel._Collected()
        parallel._read_whole(path.name, str(path), path.stat().st_size, opts, collected)
    assert "3676" not in [r.get(RECORD_ID) for r in collected.records]  # it was a row
    table = collected.table()
    at = table.column(RECORD_ID).to_pylist().index("3676")
    row = {name: table.column(name)[at].as_py() for name in table.column_names}
    assert row["CommandLine"] == (
        '"C:\\Windows\\system32\\cmd.exe" /c "echo " "ATOMICREDTEAM > %%windir%%\\cert.key"'
    )
    assert "ATOMICREDTEAM &gt; %%windir%%" in row["_raw"]


def test_task_tables_come_back_through_a_private_folder(tmp_path: Path) -> None:
    """A worker writes its task's table to a file the reading process maps and removes;
    should that file not be writable, the table comes back by value, the same table."""
    files = sorted(SAMPLES.rglob("*.evtx"))[:20]
    task = [(str(f), str(f), f.stat().st_size) for f in files]
    opts = IngestOptions()
    by_file = parallel._read_task(task, opts, str(tmp_path / "task.arrow"))
    assert by_file.table == str(tmp_path / "task.arrow")
    by_value = parallel._read_task(task, opts, str(tmp_path / "missing" / "task.arrow"))
    assert isinstance(by_value.table, bytes)
    assert parallel._table(by_file).equals(parallel._table(by_value))
    assert list(tmp_path.iterdir()) == []  # mapped, then its name removed


def test_the_scratch_folder_is_removed_when_reading_stops_early(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Tables of tasks never taken back (the caller stopped after one file) do not
    outlive the read."""
    files = sorted(SAMPLES.rglob("*.evtx"))
    made: list[str] = []
    real = parallel._scratch_folder

    def spy() -> str:
        made.append(real())
        return made[-1]

    monkeypatch.setattr(parallel, "_scratch_folder", spy)
    reading = parallel.read_ahead(files, Source.from_path, IngestOptions(), jobs=2)
    _, first = next(reading)
    assert first is not None
    fmt, _ = first()
    assert fmt == "evtx" and len(made) == 1 and Path(made[0]).is_dir()
    reading.close()
    assert not Path(made[0]).exists()


def test_scratch_folder_leaves_a_small_shared_memory_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where /dev/shm has less room than the tables in flight may need (a container's is
    often 64 MiB), the tables go to the temporary folder instead."""
    monkeypatch.setattr(parallel, "SHARED_MEMORY_MIN_FREE", 1 << 62)
    folder = Path(parallel._scratch_folder())
    try:
        assert folder.parent == Path(tempfile.gettempdir())
        assert folder.stat().st_mode & 0o777 == 0o700  # private
    finally:
        folder.rmdir()


class _FailsAfter(io.RawIOBase):
    """A stream of ``data`` whose reads fail (EIO) once ``limit`` bytes have been read."""

    def __init__(self, data: bytes, limit: int) -> None:
        self.data, self.limit, self.at = data, limit, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.at >= self.limit:
            raise OSError(errno.EIO, "Input/output error")
        chunk = self.data[self.at : min(self.limit, self.at + len(buffer))]
        buffer[: len(chunk)] = chunk
        self.at += len(chunk)
        return len(chunk)


def test_records_before_a_read_error_are_kept_when_reading_here() -> None:
    """`read_here` hands records over in tables of thousands; a file that fails part-way
    must still give every record read before the failure, then the error. 8,192 JSON
    lines of 128 bytes (1 MiB), the stream failing after 131,072 bytes: lines 1..1024
    are whole."""
    lines = [
        (json.dumps({"_raw": f"line {i}", "n": f"{i:05d}"}) + " ").ljust(127) + "\n"
        for i in range(1, 8193)
    ]
    data = "".join(lines).encode()
    assert all(len(line) == 128 for line in lines)
    opened: list[int] = []

    def open_stream() -> IO[bytes]:
        opened.append(1)  # the first open sniffs (64 KiB), the second reads
        return io.BufferedReader(_FailsAfter(data, 131_072 if len(opened) > 1 else len(data)))

    source = Source("failing.json", open_stream, size=len(data))
    assert len(data) >= parallel.HERE_TABLES_MIN_BYTES  # read into tables
    _, items = parallel.read_here(source, IngestOptions())
    spans: list[Rows] = []
    with pytest.raises(OSError, match="Input/output error"):
        for item in items:
            assert isinstance(item, Rows)
            spans.append(item)
    assert sum(len(span) for span in spans) == 1024
    numbers = [n for span in spans for n in span.rows().column("n").to_pylist()]
    assert numbers == [f"{i:05d}" for i in range(1, 1025)]


def test_workers_hash_files_and_skip_the_ones_the_store_holds(tmp_path: Path) -> None:
    """With workers, a file's SHA-256 is taken by the worker that reads it; a file the
    store already holds is not read again, and one of two copies in a load is stored."""
    files = sorted(SAMPLES.glob("*.evtx"))[:6]
    for f in files[:3]:
        shutil.copyfile(f, tmp_path / f.name)
    with EventStore() as store:
        first = store.load([tmp_path], jobs=2)
        for f in files[3:]:
            shutil.copyfile(f, tmp_path / f.name)
        shutil.copyfile(files[0], tmp_path / "zz-copy.evtx")  # same bytes as files[0]
        second = store.load([tmp_path], jobs=2)
        digests = {hashlib.sha256(f.read_bytes()).hexdigest() for f in files}
        assert set(store.sources()) == digests
    count = {f.name: sum(1 for _ in evtx.PyEvtxParser(str(f)).records()) for f in files}
    assert first.files == 3 and not first.already_stored and not first.rejects
    assert first.stored == sum(count[f.name] for f in files[:3])
    names = {str(tmp_path / f.name) for f in files[:3]} | {str(tmp_path / "zz-copy.evtx")}
    assert set(second.already_stored) == names
    assert second.duplicates == first.stored + count[files[0].name]
    assert second.files == 7 and second.stored == sum(count[f.name] for f in files[3:])


def test_task_folders_of_killed_loads_are_swept(tmp_path: Path) -> None:
    """A load killed without clean-up (SIGKILL, the OOM killer) leaves its task folder,
    in shared memory RAM until the machine restarts. The next load removes such folders:
    a process that is gone and a folder older than an hour (a folder without a process
    id, from before, by its age alone). A young folder, a running process's, another
    name, or a file are left alone."""
    import os
    import subprocess
    import sys
    import time

    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead = int(gone.stdout)
    now = time.time()
    old = now - parallel.STALE_AFTER - 60

    def folder(name: str, mtime: float) -> Path:
        path = tmp_path / name
        path.mkdir()
        (path / "task-0.arrow").write_bytes(b"x" * 1024)
        os.utime(path, (mtime, mtime))
        return path

    killed = folder(f"stagehunt-tasks-{dead}-abc123", old)
    before = folder("stagehunt-tasks-k2j4h5", old)  # an older version's name
    young = folder(f"stagehunt-tasks-{dead}-young1", now - 60)
    running = folder(f"stagehunt-tasks-{os.getpid()}-mine12", old)
    other = folder("other-folder", old)
    plain = tmp_path / f"stagehunt-tasks-{dead}-file"
    plain.write_bytes(b"")
    os.utime(plain, (old, old))

    removed = parallel.sweep_stale(str(tmp_path), now=now)
    assert sorted(removed) == sorted([str(killed), str(before)])
    assert not killed.exists() and not before.exists()
    assert young.is_dir() and running.is_dir() and other.is_dir() and plain.is_file()
