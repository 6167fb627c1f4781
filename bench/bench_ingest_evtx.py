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
the default workers, next to raw iteration over the same files. The store skips content
it already holds, so these are real copies of the set, each made distinct by a counter
written into the unused part of the EVTX file header (bytes 128..135, outside the
header checksum; pyevtx-rs and stagehunt read the same records from them).

Usage::

    python bench/bench_ingest_evtx.py [--records 500000] [--repeat 3] [--copy]
        [--data PATH] [--check-targets] [--store N]
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

    with EventStore(scratch / f"bench-{time.monotonic_ns()}.duckdb") as store:
        t = time.perf_counter()
        report = store.load(files, jobs=jobs)
        assert report.stored == report.records_read and not report.already_stored
        return report.records_read, time.perf_counter() - t


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
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child(args.child)
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
    with tempfile.TemporaryDirectory(prefix="stagehunt-bench-evtx-") as tmp:
        scratch = Path(tmp)
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
        if args.store:
            unique = build_unique(files, per_set, args.store, scratch)
            rates_store: dict[str, list[float]] = {"raw": [], "one": [], "all": []}
            for _ in range(args.repeat):
                t = time.perf_counter()
                n_raw = run_raw(unique)
                rates_store["raw"].append(n_raw / (time.perf_counter() - t))
                for key, n_jobs in (("one", 1), ("all", jobs)):
                    n, dt = run_store(unique, scratch, n_jobs)
                    assert n == n_raw, (key, n, n_raw)
                    rates_store[key].append(n / dt)
            m = {key: statistics.median(values) for key, values in rates_store.items()}
            print(
                f"end to end, EventStore.load() of {len(unique)} distinct files ({n_raw} records):"
                f" raw {m['raw']:,.0f} rec/s; load, one process {m['one']:,.0f} rec/s"
                f" ({m['one'] / m['raw']:.2f}); {jobs} workers {m['all']:,.0f} rec/s"
                f" ({m['all'] / m['raw']:.2f})"
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
    missed = ratio < RATE_TARGET or growth > RSS_GROWTH_TARGET
    if args.check_targets and missed:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
