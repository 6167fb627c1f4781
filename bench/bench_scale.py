"""Scale benchmark (issue 6): the seed and the corrected T1074 detection at 1M, 10M, 100M events.

One run prints one table (and writes it to ``bench/RESULTS.md`` with ``--write``). Per size and
query, each engine runs in its own child process (the time of the query, rows fetched, and the
child's peak RSS — for Spark the driver JVM's peak RSS is added):

* ``stagehunt/duckdb``  the SPL compiled by stagehunt, on DuckDB;
* ``hand/duckdb``       the same logic written by hand in DuckDB SQL (the limit);
* ``python``            a plain row-by-row Python evaluation (1M only);
* ``sqlite``            the Zircolite way: the detection's filter as pySigma's SQLite backend
                        emits it (a Sigma rule in ``bench/sigma/``), over an SQLite table of the
                        same events (1M and 10M; filter only, as Zircolite runs Sigma rules);
* ``stagehunt/spark``   the SPL compiled by stagehunt, on Spark ``local[2]``.

Data: synthetic Sysmon-shaped events from ``bench_seed.generation_sql`` (deterministic, generated
inside DuckDB). 1M and 10M live in a DuckDB file; 100M is a Parquet lake in stagehunt's layout
(``date=/sourcetype=`` partitions), written as ten shifted copies of the 10M set (chunked, so
generation memory stays that of 10M), and both engines read the lake.

Usage::

    python bench/bench_scale.py [--sizes 1M,10M,100M] [--engines ...] [--write] [--tmpdir DIR]
        [--repeat N] [--rounds R]

``--repeat``: runs of the query in each DuckDB child (its median). ``--rounds``: children
per DuckDB cell, the engines' order alternating from round to round, and the cell the
median of the children's medians: on a shared VM one child can run 30 % slower than the
next, and a sub-second query shows it.

``make bench-scale`` runs the full table and writes ``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import importlib.util
import json
import os
import platform
import re
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))
import bench_seed  # noqa: E402  (the data generator, the seed's hand SQL and Python loop)

CONTENT = REPO / "src" / "stagehunt" / "content" / "T1074"
QUERIES = ("seed", "corrected")
ENGINES = ("stagehunt/duckdb", "hand/duckdb", "python", "sqlite", "stagehunt/spark")
#: the engines each size runs (the rest is marked "-": too slow to be worth it there)
SIZE_LIMITS = {"python": 1_000_000, "sqlite": 10_000_000}
LAKE_SIZE = 100_000_000
CHUNK = 10_000_000
TARGET_RATIO = 1.2  # stagehunt/duckdb ÷ hand/duckdb at 10M
TARGET_SQLITE = 10.0  # sqlite ÷ stagehunt/duckdb
TARGET_RSS_MB = 4096.0  # at 100M

# ------------------------------------------------------------------------------------------------
# The corrected detection written by hand for the generated columns
# ------------------------------------------------------------------------------------------------
#: The corrected SPL's regular expressions, as its `match()` calls hold them after SPL escapes.
STAGING_DIR = (
    r"(?i)(\\(temp|tmp|users\\public|programdata|windows\\temp|perflogs)\\|%temp%|%tmp%|"
    r"%programdata%|%public%|\$env:(temp|tmp|programdata|public)|/tmp/|/var/tmp/|/dev/shm/|"
    r"[\\/]\.[a-z0-9_][^\\/ ]*[\\/])"
)
ARCHIVE = r"(?i)\.(zip|7z|rar|tar|tgz|gz|bz2|xz|cab|iso)$"
CRED_FILE = r"(?i)(\\ntds\.dit|\\(sam|system|security)|_hive|\.dmp)$"
PASSWORD = r"(?i)(7z[ar]?|rar|winrar)(\.exe)?\"?\s+[au]\s.*\s-h?p\S+|\bzip(\.exe)?\"?\s.*\s-(e|P\s)"
CRED_CMD = r"(?i)(ntdsutil|\breg(\.exe)?\"?\s+save\s|esentutl(\.exe)?\"?\s.*/vss|ntds\.dit)"
REMOTE = r"(?i)\bnet(\.exe)?\"?\s+use\s+\\\\|(xcopy|robocopy|copy|copy-item|cp)\b.*\\\\[^\\\s]+\\"
ARCHIVE_CMD = (
    r"(?i)(compress-archive|makecab|\btar(\.exe)?\"?\s+-?[a-z]*c|\b7z[ar]?(\.exe)?\"?\s+a\s|"
    r"\brar(\.exe)?\"?\s+a\s|\bzip\s+-r)"
)
BULK = r"(?i)\b(robocopy|xcopy)\b"
SCRIPTED = r"(?i)(\bcopy\s+/|copy-item|\bcp\s+-|\bcp\s|\brsync\s)"
STRONG = [
    "ArchiveCreated",
    "PasswordArchive",
    "RemoteStaging",
    "ArchiveCommand",
    "CredentialStaging",
]


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def hand_corrected_sql() -> str:
    """The corrected detection by hand. The generated events have no Linux/MDE fields, so the
    coalesces reduce to CommandLine / TargetFilename / Image / User; every allowlist row has
    host ``*``, so only the Image and path patterns are tested (ILIKE, as the lookup's
    case-insensitive WILDCARD); ``eventstats values(Allowed) by host, ProcessKey`` is "no event
    of the same (host, process) is allowed"."""
    r = {k: _lit(v) for k, v in globals().items() if k.isupper() and isinstance(v, str)}
    number = (
        "CASE WHEN _time = trunc(_time) AND abs(_time) < 1e15 THEN CAST(CAST(_time AS BIGINT) "
        "AS VARCHAR) ELSE CAST(_time AS VARCHAR) END"
    )
    return f"""
WITH base AS (
    SELECT host, _time, __seq, "User" AS usr, ProcessGuid AS guid,
           CommandLine AS cmd, TargetFilename AS fp, Image AS proc
    FROM events
    WHERE lower("index") IN ('wineventlog', 'linux', 'mde')
      AND (lower(EventCode) IN ('1', '11', '4688')
           OR lower(sourcetype) IN ('linux:audit', 'mde:deviceprocessevents',
                                     'mde:devicefileevents'))
), typed AS (
    SELECT *, coalesce(regexp_matches(coalesce(fp, cmd), {r["STAGING_DIR"]}), false) AS sd
    FROM base
), classified AS (
    SELECT *, CASE
        WHEN fp IS NOT NULL AND sd AND regexp_matches(fp, {r["ARCHIVE"]}) THEN 'ArchiveCreated'
        WHEN fp IS NOT NULL AND sd AND regexp_matches(fp, {r["CRED_FILE"]})
            THEN 'CredentialStaging'
        WHEN fp IS NOT NULL AND sd THEN 'FileCreatedInStagingPath'
        WHEN cmd IS NULL THEN NULL
        WHEN regexp_matches(cmd, {r["PASSWORD"]}) THEN 'PasswordArchive'
        WHEN sd AND regexp_matches(cmd, {r["CRED_CMD"]}) THEN 'CredentialStaging'
        WHEN regexp_matches(cmd, {r["REMOTE"]}) THEN 'RemoteStaging'
        WHEN sd AND regexp_matches(cmd, {r["ARCHIVE_CMD"]}) THEN 'ArchiveCommand'
        WHEN sd AND regexp_matches(cmd, {r["BULK"]}) THEN 'BulkCopyCommand'
        WHEN sd AND regexp_matches(cmd, {r["SCRIPTED"]}) THEN 'ScriptedCopy'
    END AS stype
    FROM typed
), kept AS (
    SELECT *, coalesce(fp, cmd) AS spath, coalesce(usr, 'unknown') AS actor,
           coalesce(proc, 'unknown') AS image,
           coalesce(guid, 'pid:-@' || {number}) AS pkey
    FROM classified WHERE stype IS NOT NULL
), flagged AS (
    SELECT *, EXISTS (SELECT 1 FROM image_allow a WHERE k.image ILIKE a.pat ESCAPE '!')
              OR EXISTS (SELECT 1 FROM path_allow p WHERE k.spath ILIKE p.pat ESCAPE '!')
              AS allowed
    FROM kept k
), clean AS (
    SELECT * FROM flagged
    QUALIFY NOT bool_or(allowed) OVER (PARTITION BY host, pkey)
), grouped AS (
    SELECT host, actor AS Actor, image AS Image, count(*) AS EventCount,
           list_sort(list_distinct(list(stype))) AS StagingTypes,
           list_sort(list_distinct(list(spath)))[1:100] AS StagingPaths,
           count(DISTINCT fp) AS UniqueFiles,
           min(_time) AS FirstSeenEpoch, max(_time) AS LastSeenEpoch
    FROM clean
    GROUP BY host, actor, image
    HAVING count(*) >= 5 OR list_has_any(list(stype), {STRONG!r})
)
SELECT FirstSeenEpoch AS _time, host, Actor, Image, StagingTypes, EventCount, UniqueFiles,
       round(LastSeenEpoch - FirstSeenEpoch, 3) AS DurationSecs,
       CASE WHEN round(LastSeenEpoch - FirstSeenEpoch, 3) < 300 AND EventCount >= 10
            THEN 1 ELSE 0 END AS IsRapidStaging,
       strftime(make_timestamp(CAST(round(FirstSeenEpoch * 1000000) AS BIGINT)),
                '%Y-%m-%dT%H:%M:%SZ') AS FirstSeen,
       strftime(make_timestamp(CAST(round(LastSeenEpoch * 1000000) AS BIGINT)),
                '%Y-%m-%dT%H:%M:%SZ') AS LastSeen,
       StagingPaths
FROM grouped
ORDER BY EventCount DESC, host, Actor, Image
"""


def allowlist_patterns() -> dict[str, list[str]]:
    """The pack's allowlist wildcards as LIKE patterns (``*`` → ``%``, escape ``!``)."""

    def like(glob: str) -> str:
        escaped = glob.replace("!", "!!").replace("%", "!%").replace("_", "!_")
        return escaped.replace("*", "%")

    out: dict[str, list[str]] = {}
    for table, column in (("image_allow", "Image"), ("path_allow", "StagingPath")):
        name = "t1074_allowlist.csv" if table == "image_allow" else "t1074_path_allowlist.csv"
        import csv

        with (CONTENT / "lookups" / name).open(encoding="utf-8") as fh:
            out[table] = [like(row[column]) for row in csv.DictReader(fh)]
    return out


# ------------------------------------------------------------------------------------------------
# Data
# ------------------------------------------------------------------------------------------------


def build_duckdb(path: Path, n: int, threads: int | None) -> float:
    if path.exists():
        return 0.0
    return bench_seed.build_database(path, n, threads)


def build_lake(root: Path, chunk_db: Path, total: int) -> float:
    """``total`` events as a stagehunt lake: shifted copies of the ``CHUNK`` database, written
    one (day, sourcetype) file at a time so memory stays that of one chunk."""
    from stagehunt.backends.lake import Lake, encode
    from stagehunt.store.schema import ColumnKind

    if (root / "_lake.json").exists():
        return 0.0
    start = time.perf_counter()
    con = duckdb.connect(str(chunk_db), read_only=True)
    con.execute("SET preserve_insertion_order = false")
    con.execute("SET enable_progress_bar = false")
    span = CHUNK * bench_seed.EVENT_GAP_S
    schema: dict[str, str] = {}
    for name, col_type, *_ in con.execute("DESCRIBE events").fetchall():
        schema[name] = col_type
    for k in range(total // CHUNK):
        shifted = con.sql(
            "SELECT * REPLACE (__seq + ? AS __seq, _time + ? AS _time) FROM events",
            params=[k * CHUNK, k * span],
        )
        day = "CAST(floor(_time / 86400) AS BIGINT)"
        parts = shifted.aggregate(f"{day} AS d, sourcetype", f"{day}, sourcetype").fetchall()
        for d, st in parts:
            folder = root / f"date={dt.date(1970, 1, 1) + dt.timedelta(days=int(d))}"
            folder = folder / f"sourcetype={encode(st)}"
            folder.mkdir(parents=True, exist_ok=True)
            part = shifted.filter(duckdb.SQLExpression(f"{day} = {int(d)}")).filter(
                duckdb.ColumnExpression("sourcetype") == duckdb.ConstantExpression(st)
            )
            part.write_parquet(str(folder / f"part-{k:05d}.parquet"))
        log(f"  lake chunk {k + 1}/{total // CHUNK} written")
    con.close()
    kinds = {
        "VARCHAR": ColumnKind.STRING,
        "VARCHAR[]": ColumnKind.MULTI,
        "DOUBLE": ColumnKind.NUMBER,
    }
    Lake.adopt(root, {n: kinds[t] for n, t in schema.items() if not n.startswith("__")}, total)
    return time.perf_counter() - start


def build_sqlite(path: Path, db: Path) -> float:
    """The events as a Zircolite-style SQLite table ``logs`` (every column TEXT)."""
    if path.exists():
        return 0.0
    start = time.perf_counter()
    con = duckdb.connect(str(db), read_only=True)
    columns = [c for c, *_ in con.execute("DESCRIBE events").fetchall() if not c.startswith("__")]
    lite = sqlite3.connect(str(path))
    lite.execute(
        "CREATE TABLE logs (" + ", ".join(f'"{c}" TEXT COLLATE NOCASE' for c in columns) + ")"
    )
    reader = con.sql("SELECT * EXCLUDE (__seq) FROM events").to_arrow_reader(200_000)
    marks = ", ".join("?" for _ in columns)
    for batch in reader:
        rows = zip(*[batch.column(i).to_pylist() for i in range(len(columns))], strict=True)
        lite.executemany(f"INSERT INTO logs VALUES ({marks})", rows)
    lite.commit()
    lite.close()
    con.close()
    return time.perf_counter() - start


def sigma_sql(query: str) -> str:
    """The detection's filter as pySigma's SQLite backend writes it (Zircolite's converter)."""
    from sigma.backends.sqlite import sqliteBackend
    from sigma.collection import SigmaCollection

    rule = (BENCH / "sigma" / f"t1074_{query}.yml").read_text(encoding="utf-8")
    (sql,) = sqliteBackend().convert(SigmaCollection.from_yaml(rule))
    return str(sql).replace("<TABLE_NAME>", "logs")


# ------------------------------------------------------------------------------------------------
# Children: one engine, one query, one data set
# ------------------------------------------------------------------------------------------------


def cpu_seconds() -> float:
    """CPU time of this process, every thread (DuckDB's workers included): on a shared
    machine a ratio of CPU times moves far less than one of wall times."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_rss_mb(pid: int | None = None) -> float:
    status = Path(f"/proc/{pid or 'self'}/status")
    for line in status.read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def spl_of(query: str) -> str:
    return (CONTENT / f"{query}.spl").read_text(encoding="utf-8")


def child(spec: dict[str, Any]) -> dict[str, Any]:
    engine, query, data = spec["engine"], spec["query"], Path(spec["data"])
    threads = spec.get("threads")
    repeat = int(spec.get("repeat", 1))  # DuckDB engines: median of this many runs
    from stagehunt.api import compile_on, run_on
    from stagehunt.lookups import LookupLibrary

    lookups = LookupLibrary(CONTENT / "lookups")
    rows: list[Any]
    extra_rss = 0.0
    if engine == "sqlite":
        lite = sqlite3.connect(str(data))
        lite.create_function("regexp", 2, _regexp, deterministic=True)
        sql = sigma_sql(query)
        start, cpu = time.perf_counter(), cpu_seconds()
        rows = lite.execute(sql).fetchall()
        seconds = time.perf_counter() - start
        return {
            "seconds": seconds,
            "cpu": cpu_seconds() - cpu,
            "rows": len(rows),
            "rss_mb": peak_rss_mb(),
        }
    if engine == "stagehunt/spark":
        from stagehunt.backends import spark as spark_backend
        from stagehunt.backends.lake import Lake

        os.environ.setdefault("STAGEHUNT_SPARK_MEMORY", "3g")
        os.environ.setdefault("STAGEHUNT_SPARK_PARTITIONS", "8")
        session = spark_backend.session("local[2]")
        if data.suffix == ".duckdb":
            from stagehunt.backends.spark import SparkBackend
            from stagehunt.store.schema import ColumnKind

            parquet = data.with_suffix(".parquet")
            src = duckdb.connect(str(data), read_only=True)
            if not parquet.exists():
                src.sql("SELECT * FROM events").write_parquet(str(parquet))
            kinds = bench_seed.table_schema(src, ColumnKind)
            src.close()
            backend = SparkBackend.from_files(session, [parquet], kinds, {n: n for n in kinds}, {})
        else:
            backend = Lake(data).spark(session)

        def plan(spl: str) -> float:
            """Compile, then analyse + optimise + physical plan: seconds."""
            start = time.perf_counter()
            compiled = compile_on(backend, spl, lookups=lookups)
            frame = backend.plan(compiled, compiled.render("spark"))
            frame._jdf.queryExecution().executedPlan()
            return time.perf_counter() - start

        # planning apart: the other query first (a fresh JVM plans slowly: class loading,
        # JIT), then this one for the first time, then again (the backend keeps the
        # analysed statement); the run reuses that plan
        plan_cold = plan(spl_of("corrected" if query == "seed" else "seed"))
        plan_first = plan(spl_of(query))
        plan_again = plan(spl_of(query))
        start = time.perf_counter()
        result = run_on(backend, spl_of(query), lookups=lookups)
        seconds = plan_first + time.perf_counter() - start
        gateway = session.sparkContext._gateway
        jvm_pid = gateway.proc.pid if gateway is not None and gateway.proc else None
        extra_rss = peak_rss_mb(jvm_pid) if jvm_pid else 0.0
        rows = [list(r) for r in result.rows]
        spark_backend.stop()
        return {
            "seconds": seconds,
            "plan_cold": plan_cold,
            "plan_first": plan_first,
            "plan_again": plan_again,
            "rows": len(rows),
            "rss_mb": peak_rss_mb() + extra_rss,
            "digest": rows,
        }
    if engine == "python":
        con = duckdb.connect(str(data), read_only=True)
        start = time.perf_counter()
        if query == "seed":
            out = bench_seed.python_reference(con)
            n = len(out.rows)
        else:
            n = len(python_corrected(con))
        return {"seconds": time.perf_counter() - start, "rows": n, "rss_mb": peak_rss_mb()}
    # DuckDB: a file, or a lake
    from stagehunt.backends.duckdb import DuckDBBackend
    from stagehunt.backends.lake import Lake
    from stagehunt.store.schema import ColumnKind

    if data.suffix == ".duckdb":
        con = duckdb.connect(str(data), read_only=True)
        kinds = bench_seed.table_schema(con, ColumnKind)
        backend = DuckDBBackend(con, kinds, {n: n for n in kinds})
    else:
        backend = Lake(data).duckdb()
        con = backend.connection
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    con.execute("SET enable_progress_bar = false")
    if spec.get("memory_limit"):  # DuckDB spills beyond this (both DuckDB columns alike)
        con.execute("SET memory_limit = ?", [spec["memory_limit"]])
        con.execute("SET temp_directory = ?", [str(data.parent / "spill")])
    if engine == "hand/duckdb":
        sql = bench_seed.HAND_SQL if query == "seed" else hand_corrected_sql()
        for table, patterns in allowlist_patterns().items():
            con.register(table, pa.table({"pat": pa.array(patterns, pa.string())}))
        times, cpus = [], []
        for _ in range(repeat):
            start, cpu = time.perf_counter(), cpu_seconds()
            rows = con.execute(sql).fetchall()
            times.append(time.perf_counter() - start)
            cpus.append(cpu_seconds() - cpu)
        return {
            "seconds": statistics.median(times),
            "cpu": statistics.median(cpus),
            "rows": len(rows),
            "rss_mb": peak_rss_mb(),
        }
    times, cpus = [], []
    for _ in range(repeat):  # compile + run + fetch, every time
        start, cpu = time.perf_counter(), cpu_seconds()
        result = run_on(backend, spl_of(query), lookups=lookups)
        times.append(time.perf_counter() - start)
        cpus.append(cpu_seconds() - cpu)
    seconds = statistics.median(times)
    return {
        "seconds": seconds,
        "cpu": statistics.median(cpus),
        "rows": len(result.rows),
        "rss_mb": peak_rss_mb(),
        "digest": [list(r) for r in result.rows],
    }


def _regexp(pattern: str, value: str | None) -> bool:
    return value is not None and re.search(pattern, value) is not None


def python_corrected(con: duckdb.DuckDBPyConnection) -> list[tuple[Any, ...]]:
    """The corrected detection as a plain loop over every event (generated columns only)."""
    rx = {
        k: re.compile(v)
        for k, v in globals().items()
        if k.isupper() and isinstance(v, str) and v.startswith("(?i)")
    }
    pats = {
        t: [
            re.compile(
                "^"
                + re.escape(p.replace("!%", "\0").replace("!_", "\1"))
                .replace("%", ".*")
                .replace("\0", "%")
                .replace("\1", "_")
                + "$",
                re.IGNORECASE | re.DOTALL,
            )
            for p in ps
        ]
        for t, ps in allowlist_patterns().items()
    }
    kept = []
    allowed_keys: set[tuple[Any, Any]] = set()
    for index, st, ec, fp, cmd, host, usr, proc, guid, t in con.execute(
        'SELECT "index", sourcetype, EventCode, TargetFilename, CommandLine, host, "User", '
        "Image, ProcessGuid, _time FROM events ORDER BY __seq"
    ).fetchall():
        if (index or "").lower() not in ("wineventlog", "linux", "mde"):
            continue
        if (ec or "").lower() not in ("1", "11", "4688") and (st or "").lower() not in (
            "linux:audit",
            "mde:deviceprocessevents",
            "mde:devicefileevents",
        ):
            continue
        target = fp if fp is not None else cmd
        sd = target is not None and rx["STAGING_DIR"].search(target) is not None
        stype = None
        if fp is not None and sd:
            stype = (
                "ArchiveCreated"
                if rx["ARCHIVE"].search(fp)
                else "CredentialStaging"
                if rx["CRED_FILE"].search(fp)
                else "FileCreatedInStagingPath"
            )
        elif cmd is not None:
            for name, need_sd, label in (
                ("PASSWORD", False, "PasswordArchive"),
                ("CRED_CMD", True, "CredentialStaging"),
                ("REMOTE", False, "RemoteStaging"),
                ("ARCHIVE_CMD", True, "ArchiveCommand"),
                ("BULK", True, "BulkCopyCommand"),
                ("SCRIPTED", True, "ScriptedCopy"),
            ):
                if (sd or not need_sd) and rx[name].search(cmd):
                    stype = label
                    break
        if stype is None:
            continue
        image = proc if proc is not None else "unknown"
        key = (host, guid if guid is not None else f"pid:-@{t}")
        if any(p.match(image) for p in pats["image_allow"]) or any(
            p.match(target) for p in pats["path_allow"]
        ):
            allowed_keys.add(key)
        kept.append((key, host, usr or "unknown", image, stype, fp, t))
    groups: dict[tuple[Any, ...], list[Any]] = {}
    for key, host, actor, image, stype, fp, t in kept:
        if key in allowed_keys:
            continue
        groups.setdefault((host, actor, image), []).append((stype, fp, t))
    out = []
    for (host, actor, image), evs in groups.items():
        types = sorted({e[0] for e in evs})
        if len(evs) >= 5 or set(types) & set(STRONG):
            out.append((host, actor, image, types, len(evs)))
    return out


# ------------------------------------------------------------------------------------------------
# Driver
# ------------------------------------------------------------------------------------------------


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def run_child(spec: dict[str, Any], timeout: float) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(spec)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"error": f"timeout after {timeout:.0f}s"}
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return {"error": tail[:200]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


#: Engines `--rounds` runs more than once (a child each round; the others run once).
ROUNDED = ("stagehunt/duckdb", "hand/duckdb")


def combined(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One engine's children of every round as one cell: the medians of their times."""
    failed = [r for r in runs if "error" in r]
    if failed:
        return failed[0]
    out = dict(runs[0])
    out["seconds"] = statistics.median(r["seconds"] for r in runs)
    if all(r.get("cpu") for r in runs):
        out["cpu"] = statistics.median(r["cpu"] for r in runs)
    out["rounds"] = len(runs)
    return out


def human(n: int) -> str:
    return f"{n // 1_000_000}M" if n % 1_000_000 == 0 else f"{n // 1000}k"


def parse_size(text: str) -> int:
    m = re.fullmatch(r"(\d+)([kKmM]?)", text.strip())
    if not m:
        raise argparse.ArgumentTypeError(f"bad size {text!r}")
    return int(m.group(1)) * {"": 1, "k": 1000, "m": 1_000_000}[m.group(2).lower()]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="1M,10M,100M")
    p.add_argument("--engines", default=",".join(ENGINES))
    p.add_argument("--queries", default=",".join(QUERIES))
    p.add_argument("--tmpdir", type=Path, default=None)
    p.add_argument("--keep", action="store_true", help="keep the generated data for next runs")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--timeout", type=float, default=3600)
    p.add_argument("--repeat", type=int, default=3, help="DuckDB runs per cell (median)")
    p.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="children per DuckDB cell, in alternating order (the median of their medians)",
    )
    p.add_argument("--memory-limit", help="DuckDB memory_limit for both DuckDB columns, e.g. 3GB")
    p.add_argument("--spark-max", type=parse_size, default=None, help="skip Spark above this size")
    p.add_argument("--write", action="store_true", help="write the table to bench/RESULTS.md")
    p.add_argument("--child", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        print(json.dumps(child(json.loads(args.child)), default=str))
        return 0
    sizes = [parse_size(s) for s in args.sizes.split(",")]
    engines = args.engines.split(",")
    queries = args.queries.split(",")
    tmp = args.tmpdir or Path(tempfile.mkdtemp(prefix="stagehunt-bench-"))
    tmp.mkdir(parents=True, exist_ok=True)
    results: dict[tuple[int, str, str], dict[str, Any]] = {}
    notes: list[str] = []
    try:
        for n in sizes:
            if n >= LAKE_SIZE:
                chunk = tmp / f"events-{human(CHUNK)}.duckdb"
                log(f"[{human(n)}] generating the {human(CHUNK)} chunk ...")
                build_duckdb(chunk, CHUNK, args.threads)
                data = tmp / f"lake-{human(n)}"
                log(f"[{human(n)}] writing the lake ...")
                gen = build_lake(data, chunk, n)
            else:
                data = tmp / f"events-{human(n)}.duckdb"
                log(f"[{human(n)}] generating ...")
                gen = build_duckdb(data, n, args.threads)
            notes.append(f"{human(n)}: data generated in {gen:.0f} s" if gen else "")
            for query in queries:
                runs: dict[str, list[dict[str, Any]]] = {}
                for r in range(args.rounds):
                    # alternate the order, so that neither side always runs first
                    for engine in engines if r % 2 == 0 else engines[::-1]:
                        if n > SIZE_LIMITS.get(engine, n):
                            continue
                        if engine == "stagehunt/spark" and args.spark_max and n > args.spark_max:
                            continue
                        if r > 0 and engine not in ROUNDED:
                            continue
                        source = data
                        if engine == "sqlite":
                            source = tmp / f"events-{human(n)}.sqlite"
                            log(f"[{human(n)}] loading SQLite ...")
                            build_sqlite(source, data)
                        spec = {
                            "repeat": args.repeat,
                            "memory_limit": args.memory_limit,
                            "engine": engine,
                            "query": query,
                            "data": str(source),
                            "threads": args.threads,
                        }
                        log(f"[{human(n)}] {query} on {engine} ...")
                        got = run_child(spec, args.timeout)
                        runs.setdefault(engine, []).append(got)
                        log(f"    {got.get('seconds', got.get('error'))} s, {got.get('rows')} rows")
                for engine, got_all in runs.items():
                    results[(n, query, engine)] = combined(got_all)
    finally:
        if not args.keep and args.tmpdir is None:
            shutil.rmtree(tmp, ignore_errors=True)
    table = render(sizes, queries, engines, results)
    print(table)
    if args.write:
        write_results(table)
    return 0


def cell(r: dict[str, Any] | None) -> str:
    if r is None:
        return "-"
    if "error" in r:
        return f"error: {r['error']}"
    return f"{r['seconds']:.2f} s / {r['rss_mb']:.0f} MB"


def _ratios(top: dict[str, Any], bottom: dict[str, Any], form: str) -> str:
    """``top ÷ bottom`` of wall and of CPU time, as far as both were measured."""
    if "seconds" not in top or "seconds" not in bottom:
        return "-"
    wall = form.format(top["seconds"] / bottom["seconds"])
    if top.get("cpu") and bottom.get("cpu"):
        return f"{wall} / {form.format(top['cpu'] / bottom['cpu'])}"
    return wall


def render(
    sizes: list[int],
    queries: list[str],
    engines: list[str],
    results: dict[tuple[int, str, str], dict[str, Any]],
) -> str:
    head = (
        "| events | query | "
        + " | ".join(engines)
        + " | stagehunt÷hand (wall / cpu) | sqlite÷stagehunt (wall / cpu)"
        + " | spark plan (new JVM / first / again) | spark = duckdb | rows (engines in order) |"
    )
    lines = [head, "|" + "---|" * (len(engines) + 7)]
    for n in sizes:
        for q in queries:
            row = [results.get((n, q, e)) for e in engines]
            sh = results.get((n, q, "stagehunt/duckdb"), {})
            hand = results.get((n, q, "hand/duckdb"), {})
            lite = results.get((n, q, "sqlite"), {})
            sp = results.get((n, q, "stagehunt/spark"), {})
            ratio = _ratios(sh, hand, "{:.2f}×")
            vs_lite = _ratios(lite, sh, "{:.1f}×")
            plan = "-"
            if "plan_first" in sp:
                plan = (
                    f"{sp['plan_cold']:.1f} s / {sp['plan_first']:.2f} s / {sp['plan_again']:.3f} s"
                )
            same = (
                ("yes" if sp.get("digest") == sh.get("digest") else "NO")
                if "digest" in sp and "digest" in sh
                else "-"
            )
            counts = " / ".join(str(r["rows"]) if r and "rows" in r else "-" for r in row)
            lines.append(
                f"| {human(n)} | {q} | "
                + " | ".join(cell(r) for r in row)
                + f" | {ratio} | {vs_lite} | {plan} | {same} | {counts} |"
            )
    return "\n".join(lines)


def write_results(table: str) -> None:
    cpu = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    header = (
        f"Machine: {platform.node()} — {cpu}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, DuckDB {duckdb.__version__}; "
        f"date {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC.\n"
    )
    path = BENCH / "RESULTS.md"
    text = path.read_text(encoding="utf-8") if path.exists() else "# Scale benchmark results\n"
    marker = "<!-- bench_scale table -->"
    block = f"{marker}\n{header}\n{table}\n{marker}"
    if marker in text:
        before, _, rest = text.partition(marker)
        _, _, after = rest.partition(marker)
        text = before + block + after
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    if importlib.util.find_spec("stagehunt") is None:
        sys.path.insert(0, str(REPO / "src"))
    sys.exit(main())
