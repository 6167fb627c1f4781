"""A whole Sigma rule library over a case's logs: stagehunt against the Zircolite way (issue 14).

One run, one machine, one set of events:

* **events**: every ``.evtx`` under ``--real`` (default ``shared/data/real`` beside the
  checkout) read into one DuckDB store, then repeated in the store until it holds at least
  ``--events`` events (copy ``i`` is the first copy with ``__seq`` shifted by ``i * n``);
* **sqlite** (Zircolite's way): the same rows in the same order as one flat SQLite table
  ``logs`` (every field a ``TEXT COLLATE NOCASE`` column, a multivalue field as its first
  value, as `stagehunt.sigma.differential` builds it), ``row_id INTEGER PRIMARY KEY`` =
  the store's ``__seq``; pySigma's SQLite backend converts every rule to one
  ``SELECT * ... WHERE``, run one query per rule, every row fetched;
* **stagehunt cold**: `stagehunt sigma`'s path with an empty conversion cache (rule files
  loaded by pySigma, Splunk backend -> SPL -> each rule compiled for the store: a row
  filter for the rules that only filter events, else a statement; run on DuckDB; the cache
  written);
* **stagehunt warm**: the same with the cache the cold run left (no rule file parsed); the
  warm child also times the other evaluation strategy (``mask``: 63 rules per statement)
  and says whether its matches are the same;
* **stagehunt uncached** (``--uncached``): every rule converted, compiled and run as its own
  full statement, no cache: the path before issue 14, for "before".

Each side runs in its own Python process, one after the other (no memory or caches left by
the side before it); the store and the SQLite table are built once (``--reuse DIR`` keeps
them in DIR for the next run). The event key is ``__seq`` = SQLite's ``row_id``; a (rule,
event) pair is (rule file + id, key). Matches are compared on the rules both sides converted
and ran; rules only one side could convert or run are listed apart, not as mismatches.
Targets: cold >= 5x, warm >= 20x faster than sqlite.

Usage::

    python bench/bench_rules.py [--events 1M] [--rules DIR] [--real DIR] [--limit N]
                                [--uncached] [--tmpdir DIR] [--reuse DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from sigma.correlations import SigmaCorrelationRule  # noqa: E402
from sigma.rule import SigmaRuleBase  # noqa: E402

from stagehunt.ingest.options import IngestOptions  # noqa: E402
from stagehunt.sigma import onepass  # noqa: E402
from stagehunt.sigma.cache import ConversionCache  # noqa: E402
from stagehunt.sigma.differential import (  # noqa: E402
    connect_sqlite,
    sqlite_queries,
    sqlite_table,
)
from stagehunt.sigma.library import load_library  # noqa: E402
from stagehunt.sigma.rules import load_rules, rule_label  # noqa: E402
from stagehunt.sigma.run import run_rules  # noqa: E402
from stagehunt.store.event_store import EventStore  # noqa: E402
from stagehunt.store.schema import EVENTS_TABLE, SEQ_COLUMN  # noqa: E402

TARGET_COLD = 5.0
TARGET_WARM = 20.0
ROW_ID = "row_id"
Pair = tuple[str, int]


def default_real() -> Path | None:
    for base in REPO.parents:
        if (base / "shared" / "data" / "real").is_dir():
            return base / "shared" / "data" / "real"
    return None


def parse_size(text: str) -> int:
    scale = {"k": 1_000, "m": 1_000_000}
    text = text.strip().lower()
    return int(float(text[:-1]) * scale[text[-1]]) if text[-1] in scale else int(text)


@dataclass
class Side:
    """One engine's run over the library: time, phases and the (rule, event) pairs."""

    name: str
    seconds: float = 0.0
    #: CPU seconds of the side's process over the same span (all threads): steadier than
    #: wall time on a shared machine
    cpu: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)
    pairs: set[Pair] = field(default_factory=set)
    ran: set[str] = field(default_factory=set)  # rules converted and run
    failed: dict[str, str] = field(default_factory=dict)  # rule -> why not
    when: str = ""  # UTC time the side finished
    load: str = ""  # load averages (1, 5, 15 min) when it finished


def timed(phases: dict[str, float], name: str, fn: Callable[[], Any]) -> Any:
    start = time.perf_counter()
    out = fn()
    phases[name] = time.perf_counter() - start
    return out


def rule_key(rule: SigmaRuleBase) -> str:
    return f"{rule_label(rule)}#{rule.id}"


def select(rules: list[SigmaRuleBase], limit: int | None) -> list[SigmaRuleBase]:
    """Detection rules (correlations: SQLite backend has none), first ``limit``."""
    out = [r for r in rules if not isinstance(r, SigmaCorrelationRule)]
    return out[:limit] if limit else out


# ------------------------------------------------------------------------------------------------
# Events
# ------------------------------------------------------------------------------------------------


def build_store(path: Path, real: Path, target: int) -> tuple[EventStore, int, int]:
    """The real EVTX set in a store, repeated to >= ``target`` events: (store, base, total)."""
    files = sorted(p for p in real.rglob("*") if p.suffix.lower() == ".evtx" and p.is_file())
    store = EventStore(path)
    store.load(files, IngestOptions())
    con = store.connection
    base = int(con.execute(f"SELECT count(*) FROM {EVENTS_TABLE}").fetchone()[0])  # type: ignore[index]
    copies = max(1, math.ceil(target / base))
    have = 1
    while have < copies:  # doubling: copies [have, 2*have) from copies [0, have)
        step = min(have, copies - have)
        con.execute(
            f"INSERT INTO {EVENTS_TABLE} SELECT * REPLACE ({SEQ_COLUMN} + {have * base}"
            f" AS {SEQ_COLUMN}) FROM {EVENTS_TABLE} WHERE {SEQ_COLUMN} < {step * base}"
        )
        have += step
    con.execute("CHECKPOINT")
    return store, base, base * copies


def build_sqlite(store: EventStore, path: Path) -> sqlite3.Connection:
    """The store's rows, same order, as SQLite table ``logs``; ``row_id`` = ``__seq``."""
    return sqlite_table(store, str(path), ROW_ID)


def add_missing_columns(lite: sqlite3.Connection, queries: Iterable[str]) -> float:
    """Add a NULL column for each field a query names and no event has; returns the time.

    Zircolite's table holds the fields its logs have, so such a rule fails there and is
    skipped; with the column it runs (and matches what stagehunt matches: nothing on that
    field), so the libraries compare on the same rules. Not timed as SQLite's work."""
    start = time.perf_counter()
    for sql in queries:
        for _ in range(50):
            try:
                lite.execute("EXPLAIN " + sql)
                break
            except sqlite3.OperationalError as e:
                found = re.match(r"no such column: (.+)", str(e))
                if found is None:
                    break
                name = found.group(1).replace('"', '""')
                lite.execute(f'ALTER TABLE logs ADD COLUMN "{name}" TEXT COLLATE NOCASE')
    return time.perf_counter() - start


# ------------------------------------------------------------------------------------------------
# Sides
# ------------------------------------------------------------------------------------------------


def run_sqlite(rule_dir: Path, lite: sqlite3.Connection, limit: int | None) -> Side:
    side = Side("sqlite")
    start, cpu = time.perf_counter(), time.process_time()
    rules = select(
        timed(side.phases, "load", lambda: load_rules([rule_dir])).collection.rules, limit
    )

    def convert() -> dict[str, str]:
        out: dict[str, str] = {}
        converted = sqlite_queries(rules)
        for rule in rules:
            query = converted[id(rule)]
            if isinstance(query, str):
                out[rule_key(rule)] = query.replace("<TABLE_NAME>", "logs")
            else:
                side.failed[rule_key(rule)] = f"{type(query).__name__}: {query}"
        return out

    sql = timed(side.phases, "convert", convert)
    prep_cpu = time.process_time()
    prep = add_missing_columns(lite, sql.values())  # not SQLite's work: out of the total
    prep_cpu = time.process_time() - prep_cpu

    def run() -> None:
        for key, text in sql.items():
            try:
                cur = lite.execute(text)
            except sqlite3.Error as e:
                side.failed[key] = f"SQLite: {e}"
                continue
            at = [d[0] for d in cur.description].index(ROW_ID)
            side.pairs |= {(key, int(row[at])) for row in cur.fetchall()}
            side.ran.add(key)

    timed(side.phases, "run", run)
    side.seconds = time.perf_counter() - start - prep
    side.cpu = time.process_time() - cpu - prep_cpu
    return side


def run_stagehunt(
    name: str,
    rule_dir: Path,
    store: EventStore,
    cache: ConversionCache | None,
    limit: int | None,
    one_pass: bool = True,
    strategy: str = onepass.DEFAULT,
) -> Side:
    """`stagehunt sigma`'s path: `load_library` (pySigma only for files the cache lacks),
    then `run_rules` (row filters a batch per scan unless ``one_pass`` is False)."""
    side = Side(name)
    start, cpu = time.perf_counter(), time.process_time()
    library = timed(side.phases, "load+convert", lambda: load_library([rule_dir], cache))
    converted = [c for c in library.converted if not c.rule.correlation]
    converted = converted[:limit] if limit else converted
    runs = timed(
        side.phases,
        "compile+run",
        lambda: run_rules(converted, store, cache, one_pass=one_pass, strategy=strategy),
    )
    side.seconds = time.perf_counter() - start
    side.cpu = time.process_time() - cpu
    keys = {id(c.rule): f"{c.rule.path}#{c.rule.id}" for c in converted}
    for c in converted:
        if not c.ok:
            side.failed[keys[id(c.rule)]] = c.reason or "no query"
    for run in runs:
        key = keys[id(run.rule)]
        if run.error is not None or run.events is None:
            side.failed[key] = run.error or "not an event rule"
            continue
        side.ran.add(key)
        side.pairs |= {(key, seq) for seq in run.events}
    return side


# ------------------------------------------------------------------------------------------------
# Report
# ------------------------------------------------------------------------------------------------


def compare(a: Side, b: Side) -> tuple[int, set[Pair], set[Pair]]:
    """Rules both ran; pairs only on ``a``, only on ``b`` (over those rules)."""
    both = a.ran & b.ran
    pa = {p for p in a.pairs if p[0] in both}
    pb = {p for p in b.pairs if p[0] in both}
    return len(both), pa - pb, pb - pa


def child_side(name: str, tmp: Path, args: argparse.Namespace) -> Side:
    """Run one side in a fresh Python process (no memory, caches or garbage left by the
    side before it) and read its result back. With ``--keep-sqlite`` a SQLite side already
    in ``tmp`` (same events, same rules) is read instead of run again, and said so."""
    out = tmp / f"side-{name.replace(' ', '-')}.json"
    if name == "sqlite" and args.keep_sqlite and out.exists():
        side = read_side(name, out)
        print(f"{name}: REUSED from {out} (measured {side.when}, load {side.load}):"
              f" {side.seconds:.2f} s, CPU {side.cpu:.2f} s", flush=True)  # fmt: skip
        return side
    cmd = [sys.executable, str(Path(__file__).resolve()), "--side", name, "--reuse", str(tmp)]
    cmd += ["--rules", str(args.rules), "--out", str(out)]
    if args.limit:
        cmd += ["--limit", str(args.limit)]
    subprocess.run(cmd, check=True)
    side = read_side(name, out)
    print(f"{name}: {side.seconds:.2f} s, CPU {side.cpu:.2f} s ({phases(side)})", flush=True)
    return side


def read_side(name: str, path: Path) -> Side:
    data = json.loads(path.read_text(encoding="utf-8"))
    side = Side(name, data["seconds"], data.get("cpu", 0.0), data["phases"])
    side.pairs = {(k, int(e)) for k, e in data["pairs"]}
    side.ran = set(data["ran"])
    side.failed = dict(data["failed"])
    side.when = data.get("when", "?")
    side.load = data.get("load", "?")
    return side


def run_side(args: argparse.Namespace) -> int:
    """The child: one side over the reused store / SQLite table, written to ``--out``."""
    tmp = args.reuse
    if args.side == "sqlite":
        lite = connect_sqlite(str(tmp / "events.sqlite"))
        side = run_sqlite(args.rules, lite, args.limit)
        lite.close()
    else:
        cache_dir = tmp / "cache"
        if args.side == "stagehunt cold":
            shutil.rmtree(cache_dir, ignore_errors=True)
        cache = None if args.side == "stagehunt uncached" else ConversionCache(cache_dir)
        with EventStore(tmp / "events.duckdb") as store:
            side = run_stagehunt(
                args.side, args.rules, store, cache, args.limit, one_pass=cache is not None
            )
            if args.side == "stagehunt warm":  # the other evaluation strategy, for the record
                mask = run_stagehunt(
                    "stagehunt warm (mask batches)", args.rules, store, cache, args.limit,
                    strategy="mask",
                )  # fmt: skip
                same = mask.pairs == side.pairs and mask.failed == side.failed
                print(
                    f"{mask.name}: {mask.seconds:.2f} s ({phases(mask)}); warm"
                    f" ({onepass.DEFAULT}) {side.seconds:.2f} s; same matches: {same}"
                )
        if cache is not None:
            print(f"{args.side}: cache {cache.hits} hits, {cache.misses} misses")
    data = {
        "seconds": side.seconds,
        "cpu": side.cpu,
        "when": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "load": " ".join(f"{x:.1f}" for x in os.getloadavg()),
        "phases": side.phases,
        "pairs": sorted(side.pairs),
        "ran": sorted(side.ran),
        "failed": side.failed,
    }
    args.out.write_text(json.dumps(data), encoding="utf-8")
    return 0


def phases(side: Side) -> str:
    return ", ".join(f"{k} {v:.2f} s" for k, v in side.phases.items())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    real = default_real()
    parser.add_argument("--events", type=parse_size, default=1_000_000)
    parser.add_argument("--real", type=Path, default=real)
    parser.add_argument(
        "--rules",
        type=Path,
        default=real / "SigmaHQ-sigma" / "rules" / "windows" if real else None,
    )
    parser.add_argument("--limit", type=int, help="only the first N rules (development)")
    parser.add_argument("--uncached", action="store_true", help="also time the path without cache")
    parser.add_argument("--tmpdir", type=Path)
    parser.add_argument(
        "--reuse",
        type=Path,
        metavar="DIR",
        help="keep the store and SQLite table in DIR (built there when absent, reused after)",
    )
    parser.add_argument(
        "--keep-sqlite",
        action="store_true",
        help="with --reuse: read the SQLite side an earlier run left in DIR instead of"
        " running it again (hours at 1M events); the report says when it was measured",
    )
    parser.add_argument("--side", help=argparse.SUPPRESS)  # internal: one side, in a child
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.real is None or args.rules is None or not args.rules.is_dir():
        print("bench_rules: no rules or logs (--real DIR, --rules DIR)", file=sys.stderr)
        return 2
    if args.side:
        return run_side(args)
    with contextlib.ExitStack() as stack:
        if args.reuse is not None:
            tmp = args.reuse
        else:
            tmp = Path(
                stack.enter_context(
                    tempfile.TemporaryDirectory(prefix="bench-rules-", dir=args.tmpdir)
                )
            )
        if (tmp / "events.duckdb").exists() and (tmp / "events.sqlite").exists():
            with EventStore(tmp / "events.duckdb") as store:
                total = store.connection.execute(f"SELECT count(*) FROM {EVENTS_TABLE}").fetchone()[
                    0
                ]  # type: ignore[index]
            print(f"events: {total:,} (store and sqlite table reused from {tmp})")
        else:
            start = time.perf_counter()
            store, base, total = build_store(tmp / "events.duckdb", args.real, args.events)
            print(f"events: {total:,} ({base} real EVTX events x {total // base});"
                  f" store built in {time.perf_counter() - start:.1f} s")  # fmt: skip
            start = time.perf_counter()
            build_sqlite(store, tmp / "events.sqlite").close()
            store.close()
            print(f"sqlite table built in {time.perf_counter() - start:.1f} s", flush=True)
        names = ["sqlite"] + (["stagehunt uncached"] if args.uncached else [])
        names += ["stagehunt cold", "stagehunt warm"]
        sides = [child_side(name, tmp, args) for name in names]
    lite_side = sides[0]
    print(f"rules: {args.rules}")
    for side in sides:
        ratio = lite_side.seconds / side.seconds if side.seconds else float("nan")
        cpu = lite_side.cpu / side.cpu if side.cpu else float("nan")
        print(
            f"{side.name:>18}: {side.seconds:8.2f} s, CPU {side.cpu:8.2f} s ({phases(side)});"
            f" sqlite/this {ratio:6.2f}x wall, {cpu:6.2f}x CPU; {len(side.ran)} rules ran,"
            f" {len(side.pairs)} matches"
        )
    ok = True
    for side in sides[1:]:
        n, only_ours, only_lite = compare(side, lite_side)
        same = not only_ours and not only_lite
        ok &= same
        print(
            f"{side.name} vs sqlite: {n} rules compared; (rule, event) matches"
            f" {'IDENTICAL' if same else 'DIFFER'}: only stagehunt {len(only_ours)},"
            f" only sqlite {len(only_lite)}"
        )
        for rule in sorted({p[0] for p in only_ours | only_lite})[:20]:
            a = sum(1 for p in only_ours if p[0] == rule)
            b = sum(1 for p in only_lite if p[0] == rule)
            print(f"  DIFF {rule}: only stagehunt {a}, only sqlite {b}")
    cold = next(s for s in sides if s.name == "stagehunt cold")
    lite_only = lite_side.ran - cold.ran
    ours_only = cold.ran - lite_side.ran
    print(f"rules only sqlite ran: {len(lite_only)}; only stagehunt ran: {len(ours_only)}")
    for key in sorted(lite_only)[:10]:
        print(f"  only sqlite: {key}: stagehunt: {cold.failed.get(key, '?')[:120]}")
    for key in sorted(ours_only)[:10]:
        print(f"  only stagehunt: {key}: sqlite: {lite_side.failed.get(key, '?')[:120]}")
    warm = next(s for s in sides if s.name == "stagehunt warm")
    for side, target in ((cold, TARGET_COLD), (warm, TARGET_WARM)):
        ratio = lite_side.seconds / side.seconds
        cpu = lite_side.cpu / side.cpu if side.cpu else float("nan")
        print(
            f"target {side.name} >= {target:.0f}x: {ratio:.2f}x wall ({cpu:.2f}x CPU)"
            f" {'PASS' if ratio >= target else 'MISS'}"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
