"""Benchmark EVTX ingest: stagehunt's reader against raw pyevtx-rs JSON iteration.

The real EVTX set (``shared/data/real``: the EVTX-ATTACK-SAMPLES, mdecrevoisier and
SigmaHQ regression files) is repeated in a temporary directory (symbolic links by
default, ``--copy`` for real copies) until it holds at least ``--records`` records. Then,
alternating in the same process, ``--repeat`` times each:

* **raw**: ``for r in PyEvtxParser(path).records_json(): json.loads(r["data"])``
  over every file (the cheapest way to get the events as Python objects);
* **stagehunt**: ``stagehunt.ingest.evtx_reader.read(source, opts)`` over every file
  (records with every field normalised and ``_raw`` = the event XML).

It prints records/s of both (median and best) and the ratio of the medians; the target
is >= 0.70. Peak RSS (``VmHWM``) of stagehunt's reader is measured in a fresh child
process at N and 2N records; the target is flat (the reader streams).

``--store`` adds end-to-end ingest: ``EventStore.load`` of one copy of the real set
into a fresh temporary store (one copy only: the store skips content it already
holds), to show whether the reader or the store bounds ``stagehunt ingest``.

Usage::

    python bench/bench_ingest_evtx.py [--records 500000] [--repeat 3] [--copy]
        [--data PATH] [--check-targets] [--store]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
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


def run_stagehunt(files: list[Path]) -> tuple[int, int]:
    """stagehunt's reader; returns (records, rejects)."""
    from stagehunt.ingest import evtx_reader
    from stagehunt.ingest.options import IngestOptions
    from stagehunt.ingest.records import Reject
    from stagehunt.ingest.sources import Source

    opts = IngestOptions()
    n = bad = 0
    for f in files:
        for item in evtx_reader.read(Source.from_path(f), opts):
            n += 1
            if isinstance(item, Reject):
                bad += 1
    return n, bad


def run_store(files: list[Path], scratch: Path) -> tuple[int, float]:
    """End-to-end ``EventStore.load`` of ``files`` into a new store: (records, seconds)."""
    from stagehunt.store.event_store import EventStore

    with EventStore(scratch / f"bench-{time.monotonic_ns()}.duckdb") as store:
        t = time.perf_counter()
        report = store.load(files)
        return report.records_read, time.perf_counter() - t


def vm_hwm_kib() -> int:
    """Peak resident set size of this process (``VmHWM``), KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return -1


def child(list_file: Path, limit: int) -> None:
    """In a fresh process: read records up to ``limit`` and print the peak RSS."""
    from stagehunt.ingest import evtx_reader
    from stagehunt.ingest.options import IngestOptions
    from stagehunt.ingest.sources import Source

    opts = IngestOptions()
    n = 0
    with list_file.open() as names:  # streamed: the list itself must not grow the RSS
        for line in names:
            for _ in evtx_reader.read(Source.from_path(Path(line.rstrip("\n"))), opts):
                n += 1
            if n >= limit:
                break
    print(json.dumps({"records": n, "vm_hwm_kib": vm_hwm_kib()}))


def peak_rss(files: list[Path], limit: int, scratch: Path) -> dict[str, int]:
    """Run `child` in a new interpreter over the first files holding ``limit`` records."""
    list_file = scratch / f"files-{limit}.txt"
    list_file.write_text("\n".join(str(f) for f in files))
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(list_file), "--limit", str(limit)],
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
    parser.add_argument("--store", action="store_true", help="also time EventStore.load")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--limit", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child(args.child, args.limit)
        return 0

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    files = real_evtx(args.data)
    if not files:
        print(f"no EVTX files under {args.data}", file=sys.stderr)
        return 2
    per_set = count_records(files)
    print(f"real EVTX set: {len(files)} files, {per_set} records; cores: {os.cpu_count()}")
    with tempfile.TemporaryDirectory(prefix="stagehunt-bench-evtx-") as tmp:
        scratch = Path(tmp)
        big = build_set(files, per_set, 2 * args.records, scratch, args.copy)
        half = big[: len(big) // 2]
        n_records = per_set * (len(half) // len(files))
        print(f"timed input: {len(half)} files, {n_records} records")
        raw_rates: list[float] = []
        our_rates: list[float] = []
        run_raw(files)  # warm the page cache and both code paths
        run_stagehunt(files)
        for i in range(args.repeat):
            t = time.perf_counter()
            n_raw = run_raw(half)
            raw_rates.append(n_raw / (time.perf_counter() - t))
            t = time.perf_counter()
            n_ours, n_bad = run_stagehunt(half)
            our_rates.append(n_ours / (time.perf_counter() - t))
            print(
                f"  round {i + 1}: raw {raw_rates[-1]:,.0f} rec/s ({n_raw}), "
                f"stagehunt {our_rates[-1]:,.0f} rec/s ({n_ours}, {n_bad} rejects)"
            )
        raw_med, our_med = statistics.median(raw_rates), statistics.median(our_rates)
        ratio = our_med / raw_med
        print(
            f"raw records_json()+json.loads: median {raw_med:,.0f} rec/s "
            f"(best {max(raw_rates):,.0f})"
        )
        print(
            f"stagehunt evtx_reader.read(): median {our_med:,.0f} rec/s "
            f"(best {max(our_rates):,.0f})"
        )
        print(f"ratio (medians): {ratio:.2f}  target >= {RATE_TARGET:.2f}")
        if args.store:
            loads = [run_store(files, scratch) for _ in range(args.repeat)]
            n_loaded = loads[0][0]
            load_rate = statistics.median(n / dt for n, dt in loads)
            print(
                f"EventStore.load() of the real set ({len(files)} files, {n_loaded} records): "
                f"median {load_rate:,.0f} rec/s"
            )

        rss_n = peak_rss(half, n_records, scratch)
        rss_2n = peak_rss(big, 2 * n_records, scratch)
        growth = rss_2n["vm_hwm_kib"] / max(1, rss_n["vm_hwm_kib"])
        print(
            f"peak RSS (VmHWM): {rss_n['records']} records {rss_n['vm_hwm_kib'] / 1024:.1f} MiB; "
            f"{rss_2n['records']} records {rss_2n['vm_hwm_kib'] / 1024:.1f} MiB; "
            f"growth x{growth:.2f} (target <= {RSS_GROWTH_TARGET})"
        )
    missed = ratio < RATE_TARGET or growth > RSS_GROWTH_TARGET
    if args.check_targets and missed:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
