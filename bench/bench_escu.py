"""Benchmark Splunk's ESCU library on stagehunt: compile all of it, run all of it.

Three timings, each against a baseline measured in the same run on the same machine:

* **load**: reading the content folder (detections, macros, lookups);
* **compile**: every active detection, without data (as ``stagehunt escu compile``),
  against compiling a trivial ``search`` as many times (baseline per query);
* **run**: every detection on a store of real events (as ``stagehunt escu run --store``):
  each compiled for the store's fields, the ones that compile executed, against running a
  trivial ``search ... | stats count`` (compile + execute) once per detection that ran.

Usage::

    python bench/bench_escu.py [--content DIR] [--store FILE.duckdb | --real DIR]
                               [--macros FILE] [--check-targets] [--cached]

``--cached`` adds four runs, each in a process of its own as a user runs ``stagehunt escu
run``: uncached, with a cache of compiled statements (escu/cache.py) cold (an empty
cache, filled) and warm (read), and uncached again (the machine's drift); each cached
run against the first, with the statuses and row counts of every detection compared.
The content folder's load is timed apart (the cached runs read its detection files
through the cache, escu/kept_content.py), and with the run (what the command costs).

The store is copied into a temporary folder first (the original is never opened for
writing); without ``--store``, the real logs (``--real``, default ``shared/data/real``
beside the repository) are ingested into a temporary store first. Targets: compile
< 10 s, run < 120 s. Exit status: 0, or 1 with ``--check-targets`` when a target is
missed, 2 when nothing could be measured (no content, no store). See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from stagehunt.api import compile_query  # noqa: E402
from stagehunt.backends.base import run_compiled  # noqa: E402
from stagehunt.backends.duckdb import DuckDBBackend  # noqa: E402
from stagehunt.escu import Status, load_library  # noqa: E402
from stagehunt.escu.compiler import compile_all  # noqa: E402
from stagehunt.escu.content import ENV_VAR, default_content  # noqa: E402
from stagehunt.escu.runner import run_detections  # noqa: E402
from stagehunt.knowledge import bundled  # noqa: E402
from stagehunt.sigma.cache import ConversionCache  # noqa: E402
from stagehunt.store.event_store import EventStore  # noqa: E402

COMPILE_TARGET_S = 10.0
RUN_TARGET_S = 120.0
TRIVIAL = "index=* | stats count"


def default_real() -> Path | None:
    for base in REPO.parents:
        if (base / "shared" / "data" / "real").is_dir():
            return base / "shared" / "data" / "real"
    return None


CACHED_SIDES = ("uncached", "cached, cold", "cached, warm", "uncached, again")


def one_run(args: argparse.Namespace) -> dict[str, object]:
    """Child side of `cached_runs`: one ``escu run`` over the store, in this fresh
    process (``args.child_run``: a name of `CACHED_SIDES`)."""
    cache = ConversionCache(args.cache) if args.child_run.startswith("cached") else None
    start = time.perf_counter()
    library = load_library(args.content, user_macros=args.macros, cache=cache)
    load = time.perf_counter() - start
    library.lookups.library.writes = args.writes
    with EventStore(args.store) as store:
        backend = DuckDBBackend.from_store(store)
        start, cpu = time.perf_counter(), time.process_time()
        ran = [
            (o.detection.name, o.status.value, o.row_count)
            for o in run_detections(library, backend, keep_rows=0, cache=cache)
        ]
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    hits = (cache.hits, cache.misses) if cache is not None else None
    return {"seconds": seconds, "cpu": cpu, "load": load, "outcomes": ran, "cache": hits}


def cached_runs(
    args: argparse.Namespace, store_file: Path, tmp: Path
) -> list[tuple[str, float, float, float, bool]]:
    """``escu run`` without a cache, with one (escu/cache.py) cold (empty: compile and
    keep) and warm (read them), and without again (the machine's drift over the runs):
    each in a fresh process on the store opened afresh, as a user runs it (in one
    process, each run's heap slowed the next one's garbage collections: 65 s warm there,
    21.5 s in a process of its own). Returns (name, seconds, CPU seconds, the content's
    load in seconds, same statuses and row counts as the first run)."""
    out = []
    expected: object = None
    for name in CACHED_SIDES:
        argv = [sys.executable, __file__, "--child-run", name, "--store", str(store_file)]
        argv += ["--content", str(args.content), "--cache", str(tmp / "cache")]
        argv += ["--writes", str(tmp)]
        if args.macros is not None:
            argv += ["--macros", str(args.macros)]
        proc = subprocess.run(argv, check=True, capture_output=True, text=True)
        side = json.loads(proc.stdout.strip().splitlines()[-1])
        if side["cache"] is not None:
            print(f"{name}: cache {side['cache'][0]} hits, {side['cache'][1]} misses", flush=True)
        if expected is None:
            expected = side["outcomes"]
        same = side["outcomes"] == expected
        out.append((name, side["seconds"], side["cpu"], side["load"], same))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--content", type=Path, default=default_content())
    parser.add_argument("--store", type=Path, help="a store of events (default: --real)")
    parser.add_argument("--real", type=Path, default=default_real(), help="logs to ingest")
    parser.add_argument(
        "--macros",
        type=Path,
        help="a macros.conf applied over the library (e.g. to stand in for a command the "
        "engine lacks and see what the rest costs)",
    )
    parser.add_argument("--check-targets", action="store_true")
    parser.add_argument(
        "--cached",
        action="store_true",
        help="also run with a cache of compiled statements, cold then warm (issue 14)",
    )
    parser.add_argument("--child-run", choices=CACHED_SIDES, help=argparse.SUPPRESS)
    parser.add_argument("--cache", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--writes", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_run:
        print(json.dumps(one_run(args)))
        return 0
    if args.content is None or not (args.content / "detections").is_dir():
        print(f"bench_escu: no content folder (--content DIR or ${ENV_VAR})", file=sys.stderr)
        return 2
    if args.store is not None and not args.store.is_file():
        print(f"bench_escu: no store at {args.store} (--store FILE)", file=sys.stderr)
        return 2
    if args.store is None and (args.real is None or not args.real.is_dir()):
        print("bench_escu: no store (--store FILE) and no logs (--real DIR)", file=sys.stderr)
        return 2

    start = time.perf_counter()
    library = load_library(args.content, user_macros=args.macros)
    load_s = time.perf_counter() - start
    n = len(library.detections)

    start = time.perf_counter()
    compiled = list(compile_all(library))
    compile_s = time.perf_counter() - start
    statuses = Counter(o.status for o in compiled)
    del compiled  # its statements' trees: a heap the later runs' collections would scan
    knowledge = bundled()
    start = time.perf_counter()
    for _ in range(n):
        compile_query(TRIVIAL, {}, knowledge=knowledge)
    trivial_compile_s = time.perf_counter() - start

    with tempfile.TemporaryDirectory(prefix="bench-escu-") as tmp:
        copy = Path(tmp) / "store.duckdb"
        if args.store is not None:
            shutil.copyfile(args.store, copy)
        else:
            with EventStore(copy) as fresh:
                fresh.load([args.real])
        # outputlookup writes go to the temporary folder, never into the content
        library.lookups.library.writes = Path(tmp)
        with EventStore(copy) as store:
            backend = DuckDBBackend.from_store(store)
            events = store.connection.execute("SELECT count(*) FROM events").fetchone()
            start = time.perf_counter()
            ran = list(run_detections(library, backend, keep_rows=0))
            run_s = time.perf_counter() - start
            executed = [o for o in ran if o.compiled is not None]
            start = time.perf_counter()
            for _ in executed:
                query = compile_query(
                    TRIVIAL,
                    backend.schema(),
                    physical=backend.physical(),
                    knowledge=knowledge,
                )
                run_compiled(backend, query)
            trivial_run_s = time.perf_counter() - start
        cached = cached_runs(args, copy, Path(tmp)) if args.cached else []
    run_statuses = Counter(o.status for o in ran)
    fired = sum(1 for o in ran if o.fired)
    per_compile = compile_s / n
    per_trivial_compile = trivial_compile_s / n
    per_run = run_s / n
    per_executed = sum(o.seconds for o in executed) / max(1, len(executed))
    per_trivial_run = trivial_run_s / max(1, len(executed))

    print(f"content: {args.content} ({n} active detections)")
    print(f"store:   {args.store or args.real} ({events[0] if events else '?'} events)")
    print(f"load:    {load_s:6.2f} s")
    print(
        f"compile: {compile_s:6.2f} s for {n} detections ({per_compile * 1000:.1f} ms each; "
        f"{statuses[Status.COMPILED]} compiled); trivial search {per_trivial_compile * 1000:.1f}"
        f" ms each; ratio {per_compile / per_trivial_compile:.1f}"
    )
    print(
        f"run:     {run_s:6.2f} s for {n} detections ({per_run * 1000:.1f} ms each); "
        f"{len(executed)} compiled, {run_statuses[Status.RAN]} ran, {fired} fired, "
        f"{run_statuses[Status.ERROR]} errors"
    )
    print(
        f"         per detection that compiled: {per_executed * 1000:.1f} ms (compile + run);"
        f" trivial search {per_trivial_run * 1000:.1f} ms;"
        f" ratio {per_executed / per_trivial_run if per_trivial_run else float('nan'):.1f}"
    )
    if cached:
        base, base_all = cached[0][1], cached[0][1] + cached[0][3]
        print("each in a process of its own:")
    for name, seconds, cpu, load, same in cached:
        print(
            f"{name}: {seconds:6.2f} s (CPU {cpu:6.2f} s); uncached / this"
            f" {base / seconds:5.2f}x; with the content's load ({load:5.2f} s)"
            f" {base_all / (seconds + load):5.2f}x; outcomes (status, rows) as the"
            f" uncached: {same}"
        )
    compile_ok = compile_s < COMPILE_TARGET_S
    run_ok = run_s < RUN_TARGET_S
    print(f"target compile < {COMPILE_TARGET_S:.0f} s: {'PASS' if compile_ok else 'MISS'}")
    print(f"target run < {RUN_TARGET_S:.0f} s: {'PASS' if run_ok else 'MISS'}")
    if args.check_targets and not (compile_ok and run_ok):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
