"""Peak memory of writing a large result: results stream from the engine to the writer.

Two sources of N result rows, each command in a fresh child process whose peak RSS is
read from ``os.wait4``, stdout to /dev/null:

* ``makeresults`` (default): ``stagehunt search "| makeresults count=N" --format FMT``;
  baseline ``count=1`` (Python, DuckDB and the CLI loaded, no rows).
* ``store``: a store of N synthetic Sysmon-shaped events (bench_seed's generator, built
  once under ``--tmpdir``) and two searches that return every event, newest first:
  ``index=* | table _time host Image CommandLine`` (4 fields) and ``index=*`` (all ~30
  fields); baseline the same searches over a store of 1,000 events.

Baselines are measured in the same run; the figures that matter are the ratios: RSS at
the largest size over the smallest (flat means ~1.0) and over the baseline.

Usage::

    python bench/bench_stream.py [--source makeresults|store] [--sizes 1M,10M]
        [--format jsonl] [--tmpdir DIR] [--check-targets]

Target (issue 13): 10M rows to jsonl under 500 MB peak RSS, and 10M/1M near 1.
Exit status: 0; 1 with ``--check-targets`` when a target is missed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_MB = 500


def size(text: str) -> int:
    """``10M``, ``100k``, ``1e6`` or ``1000000``."""
    text = text.strip().lower()
    scale = {"k": 10**3, "m": 10**6}.get(text[-1:], 1)
    return int(float(text[:-1] if scale > 1 else text) * scale)


STORE_SEARCHES = ("index=* | table _time host Image CommandLine", "index=*")
STORE_BASELINE = 1_000


def peak_rss(
    spl: str, fmt: str, memory_limit: str | None, store: Path | None = None
) -> tuple[float, float]:
    """(peak RSS in MB, seconds) of one CLI search writing its rows to /dev/null."""
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    argv = [sys.executable, "-m", "stagehunt.cli", "search", spl, "--format", fmt]
    if store is not None:
        argv += ["--store", str(store)]
    if memory_limit is not None:
        argv += ["--memory-limit", memory_limit]
    start = time.perf_counter()
    with open(os.devnull, "w", encoding="utf-8") as sink:
        child = subprocess.Popen(argv, stdout=sink, env=env)
        _pid, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{spl!r}: the CLI failed (status {status})")
    return usage.ru_maxrss / 1024, seconds  # Linux: kilobytes


def event_store(folder: Path, n: int) -> Path:
    """A store of ``n`` synthetic events (built once, kept in ``folder``), built in a
    child process: a child forked from a large parent starts with the parent's peak RSS
    (Linux keeps ``ru_maxrss`` across exec), which would inflate every figure after it."""
    path = folder / f"stream-{n}.duckdb"
    if not path.exists():
        build = (
            "import sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]);"
            "import bench_seed;"
            "bench_seed.build_database(Path(sys.argv[2]), int(sys.argv[3]), None)"
        )
        subprocess.run(
            [sys.executable, "-c", build, str(ROOT / "bench"), str(path), str(n)], check=True
        )
    return path


def report(label: str, n: int, mb: float, seconds: float, base: float) -> None:
    print(
        f"{label} {n:>11,} rows: {mb:6.0f} MB peak RSS, {mb / base:4.2f}x baseline, "
        f"{seconds:6.1f} s, {n / seconds:,.0f} rows/s"
    )


def run_store(sizes: list[int], fmt: str, memory_limit: str | None, tmpdir: Path) -> bool:
    """The store searches at each size; True when every one at the largest size meets
    the target."""
    met = True
    for spl in STORE_SEARCHES:
        print(f"search {spl!r} ({fmt})")
        base, _ = peak_rss(spl, fmt, memory_limit, event_store(tmpdir, STORE_BASELINE))
        print(f"  baseline ({STORE_BASELINE:,} events): {base:.0f} MB peak RSS")
        figures: dict[int, float] = {}
        for n in sizes:
            mb, seconds = peak_rss(spl, fmt, memory_limit, event_store(tmpdir, n))
            figures[n] = mb
            report("  ", n, mb, seconds, base)
        met = summary(figures, sizes) and met
    return met


def summary(figures: dict[int, float], sizes: list[int]) -> bool:
    first, last = sizes[0], sizes[-1]
    print(f"  peak RSS {last:,} / {first:,} rows: {figures[last] / figures[first]:.2f}")
    met = figures[last] < TARGET_MB
    print(f"  target: {last:,} rows under {TARGET_MB} MB: {'met' if met else 'missed'}")
    return met


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", choices=("makeresults", "store"), default="makeresults")
    parser.add_argument("--sizes", default="1M,10M")
    parser.add_argument("--tmpdir", type=Path, help="where the store source keeps its stores")
    parser.add_argument("--format", default="jsonl", choices=("jsonl", "json", "csv"))
    parser.add_argument("--memory-limit", help="passed to the CLI (default: the CLI's own)")
    parser.add_argument("--check-targets", action="store_true")
    args = parser.parse_args()
    sizes = [size(s) for s in args.sizes.split(",")]
    if args.source == "store":
        if args.tmpdir is not None:
            args.tmpdir.mkdir(parents=True, exist_ok=True)
            met = run_store(sizes, args.format, args.memory_limit, args.tmpdir)
        else:
            with tempfile.TemporaryDirectory(prefix="bench-stream-") as folder:
                met = run_store(sizes, args.format, args.memory_limit, Path(folder))
        return 1 if args.check_targets and not met else 0
    print("search '| makeresults count=N'")
    base, _ = peak_rss("| makeresults count=1", args.format, args.memory_limit)
    print(f"  baseline (count=1): {base:.0f} MB peak RSS")
    figures: dict[int, float] = {}
    for n in sizes:
        mb, seconds = peak_rss(f"| makeresults count={n}", args.format, args.memory_limit)
        figures[n] = mb
        report("  ", n, mb, seconds, base)
    met = summary(figures, sizes)
    return 1 if args.check_targets and not met else 0


if __name__ == "__main__":
    sys.exit(main())
