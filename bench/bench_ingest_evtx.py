"""Benchmark EVTX ingest: stagehunt's reader against raw pyevtx-rs JSON iteration.

The real EVTX set (``shared/data/real``: the EVTX-ATTACK-SAMPLES, mdecrevoisier and
SigmaHQ regression files) is repeated in a temporary directory (symbolic links by
default, ``--copy`` for real copies) until it holds at least ``--records`` records. Then,
alternating in the same process, ``--repeat`` times each:

* **raw**: ``for r in PyEvtxParser(path).records_json(): json.loads(r["data"])``
  over every file (the cheapest way to get the events as Python objects);
* **stagehunt**: the files through ``stagehunt.ingest.parallel.read_ahead`` as
  ``EventStore.load`` reads them, up to the Arrow tables it inserts (records with every
  field normalised and ``_raw`` = the event XML), once with one process (``jobs=1``)
  and once with a worker per core (the default from two cores).

It prints records/s of each (median and best) and the ratios of the medians; the target
(default jobs) is >= 0.70. Peak RSS (``VmHWM``) of the reading process and the largest
worker's, and the most bytes of task tables waiting in shared memory for the reader to
map them, are measured in a fresh child process at N and 2N records; the target is
flat (the reader streams).

``--store N`` adds end-to-end ingest: ``EventStore.load`` (digest, read, insert into
DuckDB) of at least N records into a fresh temporary store, with one process and with
the default workers, and ``Lake.ingest`` into a fresh Parquet lake with the default
workers, next to raw iteration over the same files (alternating, ``--repeat`` rounds).
The store skips content it already holds, so these are real copies of the set, each
made distinct by a counter written into the unused part of the EVTX file header (bytes
128..135, outside the header checksum; pyevtx-rs and stagehunt read the same records
from them).

``--big N`` does the same on one large EVTX file of at least N records, built from the
real chunks of the set's files of 1 MiB or more (`stagehunt.ingest.evtx_chunks`: each
64 KiB chunk copied, its records renumbered 1, 2, ..., its checksums fixed, the file
header counting them); pyevtx-rs must read every record of it, with nothing on stderr,
and stagehunt must store exactly that many. Peak RSS of end-to-end ingest (the main
process, DuckDB included, and the largest worker) is measured on files of N/2 and N
records; the target is flat. The end-to-end target is >= 0.70 of raw for the store and
the lake, at the bench set and at the big file.

Usage::

    python bench/bench_ingest_evtx.py [--records 500000] [--repeat 3] [--copy]
        [--data PATH] [--check-targets] [--store N] [--big N] [--skip-reader]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
RATE_TARGET = 0.70
RSS_GROWTH_TARGET = 1.25  # peak RSS at 2N over peak RSS at N


def real_evtx(data: Path) -> list[Path]:
    """Every EVTX file of the shared real set."""
    return sorted(data.rglob("*.evtx"))


def count_records(files: list[Path]) -> int:
    """Records in one pass over ``files`` (pyevtx-rs' own count)."""
    import evtx

    return sum(1 for f in files for _ in evtx.PyEvtxParser(str(f)).records())


def build_set(files: list[Path], per_set: int, target: int, where: Path, copy: bool) -> list[Path]:
    """Repeat the set in ``where`` until it holds at least ``target`` records."""
    sets = max(2, 2 * math.ceil(target / per_set / 2))  # even: the first half is N records
    out: list[Path] = []
    for i in range(sets):
        folder = where / f"set{i:04d}"
        folder.mkdir()
        for j, f in enumerate(files):
            dst = folder / f"{j:03d}.evtx"
            if copy:
                shutil.copyfile(f, dst)
            else:
                dst.symlink_to(f)
            out.append(dst)
    return out


def run_raw(files: list[Path]) -> int:
    """Raw pyevtx-rs JSON iteration, each record decoded."""
    import evtx

    n = 0
    for f in files:
        for r in evtx.PyEvtxParser(str(f)).records_json():
            json.loads(r["data"])  # type: ignore[index]  # stubs: record or None
            n += 1
    return n


def run_stagehunt(files: Iterable[Path], jobs: int | None) -> tuple[int, int]:
    """stagehunt's reading, as ``EventStore.load`` does it, up to the Arrow tables the
    store inserts: records read in this process are put in a table every
    ``BATCH_SIZE`` records (as the store's flush does), a worker's come as spans of
    its tables. Returns (records, rejects)."""
    from stagehunt.ingest import parallel
    from stagehunt.ingest.batches import Rows, records_to_table
    from stagehunt.ingest.options import IngestOptions
    from stagehunt.ingest.records import Reject
    from stagehunt.ingest.sources import Source
    from stagehunt.store.event_store import BATCH_SIZE

    n = bad = 0
    pending: list[object] = []
    for _, reading in parallel.read_ahead(files, Source.from_path, IngestOptions(), jobs=jobs):
        assert reading is not None
        for item in reading()[1]:
            if isinstance(item, Rows):
                n += len(item)
            elif isinstance(item, Reject):
                n += 1
                bad += 1
            else:
                n += 1
                pending.append(item)
                if len(pending) >= BATCH_SIZE:
                    records_to_table(pending)  # type: ignore[arg-type]
                    pending = []
    if pending:
        records_to_table(pending)  # type: ignore[arg-type]
    return n, bad


def build_unique(files: list[Path], per_set: int, target: int, where: Path) -> list[Path]:
    """Copies of the set, at least ``target`` records, each file's content distinct."""
    out: list[Path] = []
    originals = [f.read_bytes() for f in files]
    for i in range(max(1, math.ceil(target / per_set))):
        folder = where / f"unique{i:04d}"
        folder.mkdir()
        for j, data in enumerate(originals):
            dst = folder / f"{j:03d}.evtx"
            dst.write_bytes(data[:128] + (i + 1).to_bytes(8, "little") + data[136:])
            out.append(dst)
    return out


def run_store(files: list[Path], scratch: Path, jobs: int) -> tuple[int, float]:
    """End-to-end ``EventStore.load`` of ``files`` into a new store: (records, seconds)."""
    from stagehunt.store.event_store import EventStore

    path = scratch / f"bench-{time.monotonic_ns()}.duckdb"
    try:
        with EventStore(path) as store:
            t = time.perf_counter()
            report = store.load(files, jobs=jobs)
            elapsed = time.perf_counter() - t
            assert report.stored == report.records_read and not report.already_stored
            (rows,) = store.connection.execute("SELECT count(*) FROM events").fetchall()[0]
            assert rows == report.stored, (rows, report.stored)
            return report.records_read, elapsed
    finally:
        for leftover in path.parent.glob(path.name + "*"):
            leftover.unlink()


def run_lake(files: list[Path], scratch: Path, jobs: int) -> tuple[int, float]:
    """End-to-end ``Lake.ingest`` of ``files`` into a new lake: (records, seconds)."""
    import pyarrow.parquet as pq

    from stagehunt.backends.lake import Lake

    root = scratch / f"lake-{time.monotonic_ns()}"
    try:
        t = time.perf_counter()
        report = Lake(root).ingest(files, jobs=jobs)
        elapsed = time.perf_counter() - t
        assert report.stored == report.records_read and not report.already_stored
        rows = sum(pq.ParquetFile(f).metadata.num_rows for f in root.rglob("*.parquet"))
        assert rows == report.stored, (rows, report.stored)
        return report.records_read, elapsed
    finally:
        shutil.rmtree(root, ignore_errors=True)


def end_to_end(
    label: str, files: list[Path], scratch: Path, jobs: int, repeat: int, *, one: bool = True
) -> dict[str, float]:
    """Raw, store (one process, unless not ``one``, and ``jobs``) and lake (``jobs``)
    rates over ``files``, alternating, ``repeat`` rounds; prints the medians and their
    ratios to raw."""
    rates: dict[str, list[float]] = {"raw": [], "store1": [], "store": [], "lake": []}
    runs: dict[str, Callable[[], tuple[int, float]]] = {
        "store": lambda: run_store(files, scratch, jobs),
        "lake": lambda: run_lake(files, scratch, jobs),
    }
    if one:
        runs["store1"] = lambda: run_store(files, scratch, 1)
    else:
        rates["store1"] = [math.nan]
    for i in range(repeat):
        t = time.perf_counter()
        n_raw = run_raw(files)
        rates["raw"].append(n_raw / (time.perf_counter() - t))
        for key, run in runs.items():
            n, dt = run()
            assert n == n_raw, (key, n, n_raw)
            rates[key].append(n / dt)
        print(
            f"  round {i + 1}: raw {rates['raw'][-1]:,.0f} rec/s; store, 1 process "
            f"{rates['store1'][-1]:,.0f}; store, {jobs} workers {rates['store'][-1]:,.0f}; "
            f"lake, {jobs} workers {rates['lake'][-1]:,.0f}",
            flush=True,
        )
    m = {key: statistics.median(values) for key, values in rates.items()}
    print(
        f"end to end, {label} ({n_raw} records): raw {m['raw']:,.0f} rec/s;"
        f" store, one process {m['store1']:,.0f} ({m['store1'] / m['raw']:.2f});"
        f" store, {jobs} workers {m['store']:,.0f} ({m['store'] / m['raw']:.2f});"
        f" lake, {jobs} workers {m['lake']:,.0f} ({m['lake'] / m['raw']:.2f});"
        f" target >= {RATE_TARGET:.2f}",
        flush=True,
    )
    return {key: m[key] / m["raw"] for key in ("store1", "store", "lake")}


def real_chunks(files: list[Path]) -> list[tuple[bytes, bytes]]:
    """(file header, chunk) of every chunk holding records in the set's files of 1 MiB
    or more."""
    from stagehunt.ingest import evtx_chunks

    out: list[tuple[bytes, bytes]] = []
    for f in files:
        if f.stat().st_size < 1 << 20:
            continue
        data = f.read_bytes()
        head = data[: evtx_chunks.HEADER_SIZE]
        for at in range(
            evtx_chunks.HEADER_SIZE, len(data) - evtx_chunks.CHUNK_SIZE + 1, evtx_chunks.CHUNK_SIZE
        ):
            chunk = data[at : at + evtx_chunks.CHUNK_SIZE]
            if chunk.startswith(b"ElfChnk\x00") and evtx_chunks.chunk_records(chunk):
                out.append((head, chunk))
    return out


def build_big(files: list[Path], target: int, dst: Path) -> int:
    """One EVTX file of at least ``target`` records made of the set's real chunks,
    renumbered; returns its records (the chunk headers' count)."""
    from stagehunt.ingest import evtx_chunks

    chunks = real_chunks(files)
    if not chunks:
        raise SystemExit("no EVTX file of 1 MiB or more in the set: cannot build --big")
    n = k = 0
    with dst.open("wb") as out:
        out.write(bytes(evtx_chunks.HEADER_SIZE))
        while n < target:
            chunk, held = evtx_chunks.renumber(chunks[k % len(chunks)][1], n + 1)
            out.write(chunk)
            n, k = n + held, k + 1
        out.seek(0)
        out.write(evtx_chunks.header(chunks[0][0], k, n + 1))
    return n


def check_big(path: Path, expected: int) -> None:
    """pyevtx-rs reads every record of ``path``, in order, and says nothing on stderr."""
    code = (
        "import evtx, json, sys\n"
        "n = 0\n"
        "for r in evtx.PyEvtxParser(sys.argv[1]).records_json():\n"
        "    json.loads(r['data']); n += 1\n"
        "    assert r['event_record_id'] == n, (n, r['event_record_id'])\n"
        "print(n)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(path)], check=True, capture_output=True, text=True
    )
    assert out.stderr == "", out.stderr[:2000]
    assert int(out.stdout) == expected, (out.stdout, expected)


def vm_hwm_kib() -> int:
    """Peak resident set size of this process (``VmHWM``), KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return -1


def descendants_hwm_kib() -> int:
    """The largest peak RSS (``VmHWM``) among this process' descendants (the fork
    server and its workers), KiB."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    ours, found = {os.getpid()}, True
    while found:
        found = False
        for pid, parent in parents.items():
            if parent in ours and pid not in ours:
                ours.add(pid)
                found = True
    peak = 0
    for pid in ours - {os.getpid()}:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                peak = max(peak, int(line.split()[1]))
    return peak


def tables_in_flight() -> int:
    """Bytes of the task tables workers have handed back and the reader has not yet
    mapped (files in ``stagehunt-tasks-*`` scratch folders: shared memory, which no
    process' RSS shows)."""
    total = 0
    for where in {"/dev/shm", tempfile.gettempdir()}:
        for f in Path(where).glob("stagehunt-tasks-*/*"):
            with contextlib.suppress(OSError):
                total += f.stat().st_size
    return total


def child(list_file: Path) -> None:
    """In a fresh process: read the listed files as `run_stagehunt` does and print the
    peak RSS of this process and of the largest worker, and the most bytes of task
    tables waiting in shared memory (sampled as reading goes)."""
    from stagehunt.ingest import parallel
    from stagehunt.ingest.batches import Rows
    from stagehunt.ingest.options import IngestOptions
    from stagehunt.ingest.sources import Source

    n = workers = waiting = 0
    with list_file.open() as names:  # streamed: the list itself must not grow the RSS
        paths = (Path(line.rstrip("\n")) for line in names)
        jobs = max(2, parallel.cores())
        for _, reading in parallel.read_ahead(paths, Source.from_path, IngestOptions(), jobs=jobs):
            assert reading is not None
            for item in reading()[1]:
                before, n = n, n + (len(item) if isinstance(item, Rows) else 1)
                if n // 5000 != before // 5000:
                    workers = max(workers, descendants_hwm_kib())
                    waiting = max(waiting, tables_in_flight() // 1024)
    peaks = {"vm_hwm_kib": vm_hwm_kib(), "worker_kib": workers, "waiting_kib": waiting}
    print(json.dumps({"records": n, **peaks}))


def child_load(list_file: Path, target: str, scratch: Path) -> None:
    """In a fresh process: ingest the listed files end to end (``target``: "store" or
    "lake", default workers) and print the peak RSS of this process (DuckDB included)
    and of the largest worker, sampled as reading goes."""
    from stagehunt.backends.lake import Lake
    from stagehunt.ingest import parallel
    from stagehunt.store.event_store import EventStore

    paths = [Path(line) for line in list_file.read_text().splitlines()]
    jobs = max(2, parallel.cores())
    workers = 0
    last = 0

    def progress(_name: str, n: int) -> None:
        nonlocal workers, last
        if n - last >= 5000 or n < last:
            workers = max(workers, descendants_hwm_kib())
            last = n

    if target == "lake":
        report = Lake(scratch / f"rss-lake-{os.getpid()}").ingest(paths, None, progress, jobs=jobs)
    else:
        with EventStore(scratch / f"rss-{os.getpid()}.duckdb") as store:
            report = store.load(paths, None, progress, jobs=jobs)
    workers = max(workers, descendants_hwm_kib())
    print(json.dumps({"records": report.stored, "vm_hwm_kib": vm_hwm_kib(), "worker_kib": workers}))


def peak_rss_load(files: list[Path], scratch: Path, target: str) -> dict[str, int]:
    """Run `child_load` in a new interpreter over ``files``."""
    list_file = scratch / f"load-{len(files)}-{time.monotonic_ns()}.txt"
    list_file.write_text("\n".join(str(f) for f in files))
    where = scratch / f"rss-{time.monotonic_ns()}"
    where.mkdir()
    try:
        out = subprocess.run(
            [sys.executable, __file__, "--child-load", str(list_file), target, str(where)],
            check=True,
            capture_output=True,
            text=True,
        )
    finally:
        shutil.rmtree(where, ignore_errors=True)
    result: dict[str, int] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def print_rss_load(label: str, small: list[Path], large: list[Path], scratch: Path) -> float:
    """Peak RSS of end-to-end store and lake ingest of ``small`` and ``large``; the
    largest growth."""
    growth = 0.0
    for target in ("store", "lake"):
        a = peak_rss_load(small, scratch, target)
        b = peak_rss_load(large, scratch, target)
        g = max(b[k] / max(1, a[k]) for k in ("vm_hwm_kib", "worker_kib"))
        growth = max(growth, g)
        print(
            f"peak RSS end to end ({target}, {label}): {a['records']} records: main "
            f"{a['vm_hwm_kib'] / 1024:.1f} MiB, largest worker {a['worker_kib'] / 1024:.1f}"
            f" MiB; {b['records']} records: main {b['vm_hwm_kib'] / 1024:.1f} MiB, largest "
            f"worker {b['worker_kib'] / 1024:.1f} MiB (x{g:.2f})",
            flush=True,
        )
    return growth


def peak_rss(files: list[Path], scratch: Path) -> dict[str, int]:
    """Run `child` in a new interpreter over ``files``."""
    list_file = scratch / f"files-{len(files)}.txt"
    list_file.write_text("\n".join(str(f) for f in files))
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(list_file)],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, int] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=500_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--copy", action="store_true", help="real copies, not symlinks")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--check-targets", action="store_true")
    parser.add_argument(
        "--store", type=int, default=0, metavar="N", help="also time EventStore.load of N records"
    )
    parser.add_argument(
        "--big", type=int, default=0, metavar="N", help="also one EVTX file of N records"
    )
    parser.add_argument(
        "--skip-reader", action="store_true", help="only the end-to-end parts (--store, --big)"
    )
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child-load", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child(args.child)
        return 0
    if args.child_load is not None:
        list_file, target, where = args.child_load
        child_load(Path(list_file), target, Path(where))
        return 0

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from stagehunt.ingest import parallel

    files = real_evtx(args.data)
    if not files:
        print(f"no EVTX files under {args.data}", file=sys.stderr)
        return 2
    per_set = count_records(files)
    jobs = max(2, parallel.cores())
    default = parallel.default_jobs()
    print(
        f"real EVTX set: {len(files)} files, {per_set} records; cores: {parallel.cores()};"
        f" default --jobs here: {default}"
    )
    ratios: dict[str, float] = {}
    growths: list[float] = []
    with tempfile.TemporaryDirectory(prefix="stagehunt-bench-evtx-") as tmp:
        scratch = Path(tmp)
        if not args.skip_reader:
            ratio, growth = reader_bench(files, per_set, jobs, default, scratch, args)
            ratios["reader"] = ratio
            growths.append(growth)
        if args.store:
            unique = build_unique(files, per_set, args.store, scratch)
            got = end_to_end(f"{len(unique)} distinct files", unique, scratch, jobs, args.repeat)
            ratios.update({f"set {k}": v for k, v in got.items() if k != "store1"})
            sets = len(unique) // len(files)
            half = unique[: len(files) * max(1, sets // 2)]
            growths.append(print_rss_load("bench set", half, unique, scratch))
            for folder in scratch.glob("unique*"):
                shutil.rmtree(folder, ignore_errors=True)
        if args.big:
            small, large = scratch / "big-half.evtx", scratch / "big.evtx"
            t = time.perf_counter()
            n_large = build_big(files, args.big, large)
            n_small = build_big(files, args.big // 2, small)
            print(
                f"big EVTX: {n_large:,} records ({large.stat().st_size / 2**20:,.0f} MiB) and"
                f" {n_small:,} records, built in {time.perf_counter() - t:.1f} s",
                flush=True,
            )
            check_big(large, n_large)
            check_big(small, n_small)
            print("pyevtx-rs reads every record of both, in order, nothing on stderr")
            got = end_to_end("one big EVTX file", [large], scratch, jobs, args.repeat, one=False)
            ratios.update({f"big {k}": v for k, v in got.items() if k != "store1"})
            growths.append(print_rss_load("big EVTX", [small], [large], scratch))
    missed = [k for k, v in ratios.items() if v < RATE_TARGET]
    growth = max(growths, default=1.0)
    print(
        f"ratios: {', '.join(f'{k} {v:.2f}' for k, v in ratios.items())};"
        f" below {RATE_TARGET:.2f}: {', '.join(missed) or 'none'};"
        f" largest RSS growth x{growth:.2f} (target <= {RSS_GROWTH_TARGET})"
    )
    if args.check_targets and (missed or growth > RSS_GROWTH_TARGET):
        return 1
    return 0


def reader_bench(
    files: list[Path], per_set: int, jobs: int, default: int, scratch: Path, args: Any
) -> tuple[float, float]:
    """The reader alone (up to the tables the store inserts) against raw, and its peak
    RSS at N and 2N records: (ratio at the default jobs, RSS growth)."""
    big = build_set(files, per_set, 2 * args.records, scratch, args.copy)
    half = big[: len(big) // 2]
    n_records = per_set * (len(half) // len(files))
    print(f"timed input: {len(half)} files, {n_records} records")
    rates: dict[str, list[float]] = {"raw": [], "one": [], "all": []}
    runs: dict[str, Callable[[], int]] = {
        "raw": lambda: run_raw(half),
        "one": lambda: run_stagehunt(half, 1)[0],
        "all": lambda: run_stagehunt(half, jobs)[0],
    }
    run_raw(files)  # warm the page cache and the code paths
    run_stagehunt(files, 1)
    for i in range(args.repeat):
        for key, run in runs.items():
            t = time.perf_counter()
            n = run()
            assert n == n_records, (key, n)
            rates[key].append(n / (time.perf_counter() - t))
        print(
            f"  round {i + 1}: raw {rates['raw'][-1]:,.0f} rec/s, stagehunt "
            f"1 process {rates['one'][-1]:,.0f} rec/s, {jobs} workers "
            f"{rates['all'][-1]:,.0f} rec/s"
        )
    med = {key: statistics.median(values) for key, values in rates.items()}
    for key, label in (
        ("raw", "raw records_json()+json.loads"),
        ("one", "stagehunt, one process (--jobs 1)"),
        ("all", f"stagehunt, {jobs} workers (--jobs {jobs})"),
    ):
        print(f"{label}: median {med[key]:,.0f} rec/s (best {max(rates[key]):,.0f})")
    ratio = med["one" if default == 1 else "all"] / med["raw"]
    print(
        f"ratio (medians): one process {med['one'] / med['raw']:.2f}, {jobs} workers "
        f"{med['all'] / med['raw']:.2f}; default (--jobs {default}) {ratio:.2f};"
        f" target >= {RATE_TARGET:.2f}"
    )
    rss_n = peak_rss(half, scratch)
    rss_2n = peak_rss(big, scratch)
    keys = ("vm_hwm_kib", "worker_kib", "waiting_kib")
    growth = max(rss_2n[key] / max(1, rss_n[key]) for key in keys)
    for rss in (rss_n, rss_2n):
        print(
            f"peak RSS at {rss['records']} records: reading process "
            f"{rss['vm_hwm_kib'] / 1024:.1f} MiB, largest worker "
            f"{rss['worker_kib'] / 1024:.1f} MiB; task tables waiting in shared memory"
            f" at most {rss['waiting_kib'] / 1024:.1f} MiB"
        )
    print(f"RSS growth x{growth:.2f} (target <= {RSS_GROWTH_TARGET})")
    for folder in scratch.glob("set*"):
        shutil.rmtree(folder, ignore_errors=True)
    return ratio, growth


if __name__ == "__main__":
    sys.exit(main())
