"""Peak memory of writing a large result: results stream from the engine to the writer.

Runs ``stagehunt search "| makeresults count=N" --format FMT`` with stdout to /dev/null,
each in a fresh child process, and reads that child's peak RSS from ``os.wait4``. The
baseline is the same command with ``count=1`` (Python, DuckDB and the CLI loaded, no
rows), measured in the same run; the figures that matter are the ratios: RSS at 10M rows
over RSS at 1M rows (flat means ~1.0) and over the baseline.

Usage::

    python bench/bench_stream.py [--sizes 1M,10M] [--format jsonl] [--check-targets]

Target (issue 13): 10M rows to jsonl under 500 MB peak RSS, and 10M/1M near 1.
Exit status: 0; 1 with ``--check-targets`` when a target is missed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_MB = 500


def size(text: str) -> int:
    """``10M``, ``100k``, ``1e6`` or ``1000000``."""
    text = text.strip().lower()
    scale = {"k": 10**3, "m": 10**6}.get(text[-1:], 1)
    return int(float(text[:-1] if scale > 1 else text) * scale)


def peak_rss(count: int, fmt: str, memory_limit: str | None) -> tuple[float, float]:
    """(peak RSS in MB, seconds) of one CLI run writing ``count`` rows to /dev/null."""
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    argv = [sys.executable, "-m", "stagehunt.cli", "search", f"| makeresults count={count}"]
    if memory_limit is not None:
        argv += ["--memory-limit", memory_limit]
    start = time.perf_counter()
    with open(os.devnull, "w", encoding="utf-8") as sink:
        child = subprocess.Popen([*argv, "--format", fmt], stdout=sink, env=env)
        _pid, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"count={count}: the CLI failed (status {status})")
    return usage.ru_maxrss / 1024, seconds  # Linux: kilobytes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1M,10M")
    parser.add_argument("--format", default="jsonl", choices=("jsonl", "json", "csv"))
    parser.add_argument("--memory-limit", help="passed to the CLI (default: the CLI's own)")
    parser.add_argument("--check-targets", action="store_true")
    args = parser.parse_args()
    sizes = [size(s) for s in args.sizes.split(",")]
    base, _ = peak_rss(1, args.format, args.memory_limit)
    print(f"baseline (count=1): {base:.0f} MB peak RSS")
    figures: dict[int, float] = {}
    for n in sizes:
        mb, seconds = peak_rss(n, args.format, args.memory_limit)
        figures[n] = mb
        print(
            f"count={n:>11,}: {mb:6.0f} MB peak RSS, {mb / base:4.2f}x baseline, "
            f"{seconds:6.1f} s, {n / seconds:,.0f} rows/s ({args.format})"
        )
    first, last = sizes[0], sizes[-1]
    ratio = figures[last] / figures[first]
    print(f"peak RSS {last:,} / {first:,} rows: {ratio:.2f}")
    missed = figures[last] >= TARGET_MB
    print(f"target: {last:,} rows under {TARGET_MB} MB: {'missed' if missed else 'met'}")
    return 1 if args.check_targets and missed else 0


if __name__ == "__main__":
    sys.exit(main())
