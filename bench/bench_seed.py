"""Benchmark the seed T1074 query: stagehunt's compiled SQL against a hand-written DuckDB query.

For each size N the script builds a DuckDB database file with N synthetic, Sysmon-shaped events
(generated inside DuckDB, deterministic), then

* compiles ``src/stagehunt/content/T1074/seed.spl`` with ``stagehunt.api.compile_spl``,
* runs the compiled SQL and the hand-written reference SQL (:data:`HAND_SQL`) alternately on one
  connection (one warm-up each, then ``--repeat`` timed runs each; medians are reported),
* checks that both return the same rows (multivalues as lists, numbers with tolerance 1e-9),
* runs each query once more in a fresh child process to read its peak RSS.

Usage::

    python bench/bench_seed.py [--sizes 1000000,10000000] [--repeat 3] [--threads N]
    python bench/bench_seed.py --self-test      # no engine needed: data + hand-written SQL only

Targets: stagehunt/hand-written time ratio <= 1.3 at 10M events; peak RSS < 4 GB per query.
See bench/README.md.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import math
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, NoReturn

try:
    import duckdb
except ImportError as exc:  # pragma: no cover - environment problem
    sys.exit(f"bench_seed: duckdb is not importable ({exc}); install the project first.")

REPO = Path(__file__).resolve().parent.parent
SRC = REPO / "src"
SEED_SPL = SRC / "stagehunt" / "content" / "T1074" / "seed.spl"

SELF_TEST_SIZE = 100_000
RATIO_TARGET = 1.3
RATIO_TARGET_SIZE = 10_000_000
RSS_TARGET_MB = 4096.0
REL_TOL = 1e-9
ABS_TOL = 1e-9

# ------------------------------------------------------------------------------------------------
# Synthetic data
# ------------------------------------------------------------------------------------------------

#: Epoch of the first event (2026-01-01T00:00:00Z); events are 50 ms apart (+ jitter < 50 ms).
T0 = 1_767_225_600
EVENT_GAP_S = 0.05
#: Rows per time bucket (100 s). About 1 % of buckets are "hot": a burst of staging from one actor.
BUCKET_ROWS = 2000
N_HOSTS = 200

PS = r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe"
CMD = r"C:\Windows\System32\cmd.exe"
CHROME = r"C:\Program Files\Google\Chrome\Application\chrome.exe"
EXPLORER = r"C:\Windows\explorer.exe"
SVCHOST = r"C:\Windows\System32\svchost.exe"

# (Image, CommandLine template). Placeholders: {u} user name, {n} number, {d} staging directory,
# {x} per-event suffix ("" for repeating groups). Paths mix letter case on purpose.
PROC_NORMAL: list[tuple[str, str]] = [
    (SVCHOST, r"C:\Windows\system32\svchost.exe -k netsvcs -p -s Schedule"),
    (CHROME, f'"{CHROME}" --type=renderer --renderer-client-id={{n}} --field-trial-handle=1900'),
    (r"C:\Windows\System32\RuntimeBroker.exe", r"C:\Windows\System32\RuntimeBroker.exe -Embedding"),
    (
        r"C:\Windows\System32\conhost.exe",
        r"\??\C:\Windows\system32\conhost.exe 0xffffffff -ForceV1",
    ),
    (r"C:\Program Files\Git\cmd\git.exe", r'"C:\Program Files\Git\cmd\git.exe" status --porcelain'),
    (r"C:\Windows\System32\wbem\WmiPrvSE.exe", r"C:\Windows\system32\wbem\wmiprvse.exe -Embedding"),
    (PS, f'"{PS}" -NoProfile -ExecutionPolicy Bypass -File C:\\Scripts\\inventory.ps1'),
    (EXPLORER, r"C:\Windows\Explorer.EXE"),
    (
        r"C:\Program Files\Microsoft Office\root\Office16\EXCEL.EXE",
        r'"C:\Program Files\Microsoft Office\root\Office16\EXCEL.EXE" '
        r'"C:\Users\{u}\Documents\budget_{n}.xlsx"',
    ),
    (CMD, r"C:\Windows\system32\cmd.exe /c echo {n} > nul"),
    (r"C:\Windows\System32\taskhostw.exe", r"taskhostw.exe {222A245B-E637-4AE9-A93F-A59CA119A75E}"),
]
# Near misses: a copy tool without a staging path, a staging path without a tool, `/` paths,
# `\temp2\`, `copy%20/y`, `\Temp_1\` (LIKE metacharacters in the data).
PROC_DECOY: list[tuple[str, str]] = [
    (
        r"C:\Windows\System32\Robocopy.exe",
        r"robocopy C:\Data \\backup01\data$ /MIR /LOG:C:\Logs\robocopy.log",
    ),
    (CMD, r"cmd.exe /c copy C:\Reports\q1.xlsx C:\temp2\q1.xlsx"),
    (r"C:\Windows\System32\notepad.exe", r"notepad.exe C:\Users\Public\readme.txt"),
    (r"C:\Windows\System32\xcopy.exe", r"xcopy C:/Temp/build D:/out /s /e"),
    (
        r"C:\Windows\System32\msiexec.exe",
        r"msiexec.exe /i C:\Users\{u}\AppData\Local\Temp\setup_x64.msi /quiet",
    ),
    (PS, r"powershell.exe -c Move-Item C:\Users\Public\a.txt C:\ProgramData\b.txt"),
    (CMD, r"cmd.exe /c copy%20/y C:\x C:\Temp_1\x"),
]
# Staging: every one matches a tool glob and a path glob of the seed query.
PROC_STAGE: list[tuple[str, str]] = [
    (
        r"C:\Windows\System32\Robocopy.exe",
        r'robocopy "C:\Users\{u}\Documents" "C:\Windows\Temp\{d}{x}" /E /R:0 /W:0 /NP',
    ),
    (
        r"C:\Windows\System32\xcopy.exe",
        r"xcopy C:\Users\{u}\Desktop\*.docx C:\ProgramData\{d}{x}\ /s /y /q",
    ),
    (
        PS,
        r"""powershell.exe -NoProfile -Command "Copy-Item -Path 'C:\Users\{u}\Documents\*' """
        "-Destination 'C:\\Users\\Public\\{d}{x}' -Recurse -Force\"",
    ),
    (
        CMD,
        r"cmd.exe /c copy /y \\fs01\finance$\*.xlsx C:\Users\{u}\AppData\Local\Temp\{d}{x}\ >nul",
    ),
    (r"C:\Windows\System32\XCOPY.EXE", r"XCOPY D:\Projects E:\TMP\{d}{x}\ /E /H /C /I"),
    (
        r"C:\Windows\System32\ROBOCOPY.EXE",
        r"ROBOCOPY.EXE \\fs02\hr$ C:\PROGRAMDATA\{d}{x} /MIR /MT:8",
    ),
    (
        r"C:\Program Files\PowerShell\7\pwsh.exe",
        r"pwsh -c copy-item C:\Users\{u}\Downloads C:\users\public\{d}{x} -recurse",
    ),
    (CMD, r'cmd.exe /C COPY /Y "C:\Users\{u}\Pictures\*" "C:\Windows\TEMP\{d}{x}"'),
]
PROCS = PROC_NORMAL + PROC_DECOY + PROC_STAGE

# (Image, TargetFilename template) for EID 11.
FILE_NORMAL: list[tuple[str, str]] = [
    (EXPLORER, r"C:\Users\{u}\AppData\Roaming\Microsoft\Windows\Recent\{n}.lnk"),
    (SVCHOST, r"C:\Windows\Prefetch\CHROME.EXE-{n}.pf"),
    (
        r"C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE",
        r"C:\Users\{u}\Documents\report_{n}.docx",
    ),
    (CHROME, r"C:\Users\{u}\AppData\Local\Google\Chrome\User Data\Default\Cache\f_{n}"),
    (r"C:\BuildTools\VC\bin\cl.exe", r"C:\temp2\build\{n}.obj"),
    (
        r"C:\ProgramData\Microsoft\Windows Defender\Platform\MsMpEng.exe",
        r"C:\Users\{u}\AppData\LocalLow\Temp_Files\{n}.tmp",
    ),
    (r"C:\Program Files\7-Zip\7z.exe", r"D:\Backup\{n}.zip"),
    (r"C:\Program Files\Microsoft OneDrive\OneDrive.exe", r"C:\Users\{u}\OneDrive\notes_{n}.txt"),
]
FILE_STAGE: list[tuple[str, str]] = [
    (r"C:\Program Files\7-Zip\7z.exe", r"C:\Users\{u}\AppData\Local\Temp\{d}\{n}.7z"),
    (r"C:\Program Files\WinRAR\WinRAR.exe", r"C:\ProgramData\{d}\archive_{n}.ZIP"),
    (PS, r"C:\Users\Public\{d}\{n}.zip"),
    (r"C:\Windows\System32\Robocopy.exe", r"C:\Windows\Temp\{d}\report_{n}.docx"),
    (EXPLORER, r"C:\Users\{u}\AppData\Local\Temp\{n}.tmp"),
    (SVCHOST, r"C:\Windows\TEMP\{n}.log"),
    (CMD, r"D:\tmp\{d}\{n}.cab"),
    (CHROME, r"C:\PROGRAMDATA\{d}\{n}.dat"),
]
FILES = FILE_NORMAL + FILE_STAGE

PARENTS = [EXPLORER, r"C:\Windows\System32\services.exe", SVCHOST, CMD, PS]
NET_IMAGES = [CHROME, SVCHOST, r"C:\Program Files\Microsoft OneDrive\OneDrive.exe", PS]
PORTS = ["443", "80", "445", "3389", "53", "135"]
STAGE_DIRS = ["stg", "bkp", "cache", "~dfs", "Update", "tmp", "MSData", "out"]


#: Independent pseudo-random streams. DuckDB's ``hash(x, salt)`` is ``hash(x) XOR hash(salt)``, so
#: two salts give perfectly correlated low bits; ``hash(x * 64 + stream)`` does not.
RANDOM_STREAMS = [
    "jit", "fam", "ec", "idx", "host", "stg", "mode", "pool", "tpl", "usr", "num", "guid",
    "hot", "ghost", "dir", "dn", "gtpl", "adm", "a", "schema",
]  # fmt: skip


def rnd(expr: str, stream: str) -> str:
    """SQL for a deterministic pseudo-random UBIGINT from integer ``expr`` in ``stream``."""
    return f"hash(({expr}) * 64 + {RANDOM_STREAMS.index(stream)})"


def sql_str(value: str) -> str:
    """Render a Python string as a DuckDB string literal."""
    return "'" + value.replace("'", "''") + "'"


def sql_list(values: Sequence[str]) -> str:
    """Render a list of strings as a DuckDB list literal (1-based indexing in SQL)."""
    return "[" + ", ".join(sql_str(v) for v in values) + "]"


def sysmon_hashes(image: str) -> str:
    """Deterministic Sysmon-style ``Hashes`` value for an image path."""
    data = image.lower().encode()
    sha1 = hashlib.sha1(data).hexdigest().upper()
    md5 = hashlib.md5(data).hexdigest().upper()
    sha256 = hashlib.sha256(data).hexdigest().upper()
    imphash = hashlib.md5(data + b":imphash").hexdigest().upper()
    return f"SHA1={sha1},MD5={md5},SHA256={sha256},IMPHASH={imphash}"


EVENTS_DDL = """
CREATE TABLE events (
    __seq BIGINT,
    _time DOUBLE,
    "index" VARCHAR,
    sourcetype VARCHAR,
    source VARCHAR,
    host VARCHAR,
    EventCode VARCHAR,
    Image VARCHAR,
    CommandLine VARCHAR,
    TargetFilename VARCHAR,
    "User" VARCHAR,
    ProcessGuid VARCHAR,
    ProcessId VARCHAR,
    ParentImage VARCHAR,
    UtcTime VARCHAR,
    RuleName VARCHAR,
    Hashes VARCHAR,
    IntegrityLevel VARCHAR,
    CurrentDirectory VARCHAR,
    DestinationIp VARCHAR,
    DestinationPort VARCHAR
)
"""


def generation_sql(n: int) -> str:
    """``INSERT … SELECT`` that appends ``n`` deterministic synthetic events to ``events``.

    Shape: 4 % Security log (EventCode 4688/4624, sourcetype ``WinEventLog:Security``); 8 % Sysmon
    under the modern ``XmlWinEventLog`` sourcetype; the rest Sysmon under
    ``XmlWinEventLog:Microsoft-Windows-Sysmon/Operational``; 10 % of all in index ``main``.
    Sysmon rows are EID 1 (45 %), 11 (45 %), 3 (10 %). 1 % of EID 1 are staging copies (25 % in a
    hot 100 s bucket, all by one actor): 70 % drawn from a pool of repeating (host, user, command)
    groups, 30 % one-offs; 3 % of EID 1 are near-miss decoys. 5 % of EID 11 write into staging
    paths. EID 11 carries ``User`` only on the half of the hosts that run Sysmon schema >= 4.80.
    """
    groups = max(50, n // 5000)  # ~16 pool events per group whatever the size
    bucket_key = f"range // {BUCKET_ROWS}"
    n_normal, n_decoy, n_stage = len(PROC_NORMAL), len(PROC_DECOY), len(PROC_STAGE)
    f_normal, f_stage = len(FILE_NORMAL), len(FILE_STAGE)
    p_img = sql_list([img for img, _ in PROCS])
    p_cmd = sql_list([cmd for _, cmd in PROCS])
    p_hash = sql_list([sysmon_hashes(img) for img, _ in PROCS])
    f_img = sql_list([img for img, _ in FILES])
    f_path = sql_list([path for _, path in FILES])
    return f"""
INSERT INTO events
WITH draws AS (
    SELECT
        range AS i,
        range // {BUCKET_ROWS} AS bucket,
        {T0}::DOUBLE + range::DOUBLE * {EVENT_GAP_S}::DOUBLE
            + ({rnd("range", "jit")} % 1000)::DOUBLE / 20000.0 AS ts,
        ({rnd("range", "fam")} % 100)::INTEGER AS r_fam,
        ({rnd("range", "ec")} % 100)::INTEGER AS r_ec,
        ({rnd("range", "idx")} % 100)::INTEGER AS r_idx,
        ({rnd("range", "host")} % {N_HOSTS})::INTEGER AS r_host,
        ({rnd("range", "stg")} % 10000)::INTEGER AS r_stg,
        ({rnd("range", "mode")} % 100)::INTEGER AS r_mode,
        ({rnd("range", "pool")} % {groups})::BIGINT AS r_pool,
        ({rnd("range", "tpl")} % 1000)::INTEGER AS r_tpl,
        ({rnd("range", "usr")} % 100)::INTEGER AS r_usr,
        ({rnd("range", "num")} % 1000000)::INTEGER AS r_num,
        lpad(hex({rnd("range", "guid")}), 16, '0') AS guid_hex,
        ({rnd(bucket_key, "hot")} % 100 = 0 OR range // {BUCKET_ROWS} = 3) AS hot
    FROM range({n})
),
kinds AS (
    SELECT
        *,
        r_fam < 4 AS is_sec,
        CASE
            WHEN r_fam < 4 THEN (CASE WHEN r_ec < 70 THEN '4688' ELSE '4624' END)
            WHEN r_ec < 45 THEN '1'
            WHEN r_ec < 90 THEN '11'
            ELSE '3'
        END AS ec
    FROM draws
),
staged AS (
    SELECT
        *,
        ec = '1' AND (CASE WHEN hot THEN r_stg < 2500 ELSE r_stg < 100 END) AS staging,
        CASE
            WHEN hot THEN 3000000000 + bucket
            WHEN r_mode < 70 THEN 1000000000 + r_pool
            ELSE 2000000000 + i
        END AS seed
    FROM kinds
),
actors AS (
    SELECT
        *,
        CASE
            WHEN staging THEN ({rnd("seed", "ghost")} % {N_HOSTS})::INTEGER
            ELSE r_host
        END AS host_no,
        CASE
            WHEN staging OR r_stg < 500
                THEN {sql_list(STAGE_DIRS)}[({rnd("seed", "dir")} % {len(STAGE_DIRS)})::INTEGER + 1]
                    || ({rnd("seed", "dn")} % 8)::VARCHAR
        END AS g_dir,
        CASE WHEN staging AND NOT hot AND r_mode >= 70 THEN '_' || i::VARCHAR ELSE '' END AS g_x,
        CASE
            WHEN staging THEN {n_normal + n_decoy} + ({rnd("seed", "gtpl")} % {n_stage})::INTEGER
            WHEN ec = '4688' AND r_stg < 100 THEN {n_normal + n_decoy} + r_tpl % {n_stage}
            WHEN ec = '1' AND r_stg >= 9700 THEN {n_normal} + r_tpl % {n_decoy}
            ELSE r_tpl % {n_normal}
        END + 1 AS proc_idx,
        CASE
            WHEN r_stg < 500 THEN {f_normal} + r_tpl % {f_stage}
            ELSE r_tpl % {f_normal}
        END + 1 AS file_idx,
        NOT staging AND r_usr >= 5 AND r_usr < 25 AS is_system
    FROM staged
),
users AS (
    SELECT
        *,
        CASE
            WHEN staging AND {rnd("seed", "adm")} % 4 = 0
                THEN 'adm_' || ({rnd("seed", "a")} % 3)::VARCHAR
            WHEN NOT staging AND r_usr < 5 THEN 'adm_' || (r_usr % 3)::VARCHAR
            ELSE 'u' || lpad(host_no::VARCHAR, 4, '0')
        END AS uname
    FROM actors
)
SELECT
    i AS __seq,
    ts AS _time,
    CASE WHEN r_idx < 90 THEN 'wineventlog' ELSE 'main' END AS "index",
    CASE
        WHEN is_sec THEN 'WinEventLog:Security'
        WHEN r_fam < 12 THEN 'XmlWinEventLog'
        ELSE 'XmlWinEventLog:Microsoft-Windows-Sysmon/Operational'
    END AS sourcetype,
    CASE
        WHEN is_sec THEN 'WinEventLog:Security'
        ELSE 'XmlWinEventLog:Microsoft-Windows-Sysmon/Operational'
    END AS source,
    CASE
        WHEN host_no < 180 THEN 'WKS-' || lpad(host_no::VARCHAR, 4, '0')
        ELSE 'SRV-' || lpad((host_no - 180)::VARCHAR, 2, '0')
    END AS host,
    ec AS EventCode,
    CASE
        WHEN ec = '1' THEN {p_img}[proc_idx]
        WHEN ec = '11' THEN {f_img}[file_idx]
        WHEN ec = '3' THEN {sql_list(NET_IMAGES)}[r_tpl % {len(NET_IMAGES)} + 1]
    END AS Image,
    CASE
        WHEN ec IN ('1', '4688') THEN replace(replace(replace(replace(
            {p_cmd}[proc_idx], '{{u}}', uname), '{{d}}', g_dir), '{{x}}', g_x),
            '{{n}}', r_num::VARCHAR)
    END AS CommandLine,
    CASE
        WHEN ec = '11' THEN replace(replace(replace(
            {f_path}[file_idx], '{{u}}', uname), '{{d}}', g_dir), '{{n}}', r_num::VARCHAR)
    END AS TargetFilename,
    CASE
        WHEN is_sec THEN NULL
        WHEN ec = '11' AND {rnd("host_no", "schema")} % 2 = 1 THEN NULL
        WHEN is_system THEN 'NT AUTHORITY\\SYSTEM'
        ELSE 'CORP\\' || uname
    END AS "User",
    CASE
        WHEN NOT is_sec THEN '{{' || left(guid_hex, 8) || '-' || substr(guid_hex, 9, 4) || '-'
            || right(guid_hex, 4) || '-0000-00100000' || lpad(hex(host_no), 4, '0') || '}}'
    END AS ProcessGuid,
    CASE WHEN NOT is_sec THEN (4 + 4 * (r_num % 30000))::VARCHAR END AS ProcessId,
    CASE WHEN ec = '1' THEN {sql_list(PARENTS)}[r_usr % {len(PARENTS)} + 1] END AS ParentImage,
    CASE
        WHEN NOT is_sec THEN strftime(to_timestamp(ts), '%Y-%m-%d %H:%M:%S.%g')
    END AS UtcTime,
    CASE
        WHEN staging THEN 'technique_id=T1074,technique_name=Data Staged'
        WHEN NOT is_sec THEN '-'
    END AS RuleName,
    CASE WHEN ec = '1' THEN {p_hash}[proc_idx] END AS Hashes,
    CASE
        WHEN ec <> '1' THEN NULL
        WHEN is_system THEN 'System'
        WHEN uname LIKE 'adm!_%' ESCAPE '!' THEN 'High'
        ELSE 'Medium'
    END AS IntegrityLevel,
    CASE
        WHEN ec <> '1' THEN NULL
        WHEN is_system THEN 'C:\\Windows\\system32\\'
        ELSE 'C:\\Users\\' || uname || '\\'
    END AS CurrentDirectory,
    CASE
        WHEN ec = '3'
            THEN CASE WHEN r_num % 3 = 0 THEN '10.20.' ELSE '52.' || (r_num % 200) || '.' END
            || (r_num // 7 % 250)::VARCHAR || '.' || (r_num // 11 % 250 + 1)::VARCHAR
    END AS DestinationIp,
    CASE WHEN ec = '3' THEN {sql_list(PORTS)}[r_num % {len(PORTS)} + 1] END AS DestinationPort
FROM users
"""


def build_database(path: Path, n: int, threads: int | None) -> float:
    """Create ``path`` holding ``n`` synthetic events; return the generation time in seconds."""
    start = time.perf_counter()
    con = duckdb.connect(str(path))
    try:
        configure(con, threads, path.parent)
        con.execute(EVENTS_DDL)
        con.execute(generation_sql(n))
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return time.perf_counter() - start


def configure(con: duckdb.DuckDBPyConnection, threads: int | None, spill_dir: Path) -> None:
    """Apply the settings every connection of a run shares (threads, spill dir, no progress bar)."""
    con.execute("SET enable_progress_bar = false")
    con.execute(f"SET temp_directory = {sql_str(str(spill_dir / 'spill'))}")
    if threads is not None:
        con.execute(f"SET threads = {int(threads)}")


# ------------------------------------------------------------------------------------------------
# The hand-written reference query (spl-semantics.md §10)
# ------------------------------------------------------------------------------------------------

#: Exactly the seed query's result table, written by hand for DuckDB.
#: * search globs are case-insensitive whole-value matches; written in DuckDB's fastest form:
#:   ``lower(x) = 'v'`` for plain values, ``contains(lower(x), 'v')`` for ``*v*`` (ILIKE is
#:   about 1.6x slower here, so it would flatter the engine);
#: * ``EventCode=11`` is a string match, and ``"11"`` is the only value that is also numerically 11
#:   among the survivors of the search, so the eval comparisons use ``= '11'`` too;
#: * ``coalesce(User, user)`` is ``"User"``: the table has no separate ``user`` field;
#: * stats drops events with a null BY field; ``values`` = distinct non-null values sorted bytewise;
#: * ``StagingPaths`` is computed by the SPL but discarded by ``table``, so it is not computed here;
#: * ``sort - EventCount`` keeps at most 10000 rows; ties keep the stats order (BY fields
#:   ascending).
HAND_SQL = r"""
WITH matched AS (
    SELECT host, _time, EventCode, Image, CommandLine, TargetFilename, "User"
    FROM events
    WHERE lower("index") = 'wineventlog'
      AND (lower(sourcetype) = 'xmlwineventlog:microsoft-windows-sysmon/operational'
           OR lower(sourcetype) = 'wineventlog:security')
      AND (
            (EventCode = '11'
             AND (contains(lower(TargetFilename), '\temp\')
                  OR contains(lower(TargetFilename), '\tmp\')
                  OR contains(lower(TargetFilename), '\appdata\local\temp\')
                  OR contains(lower(TargetFilename), '\users\public\')
                  OR contains(lower(TargetFilename), '\programdata\')
                  OR contains(lower(TargetFilename), '\windows\temp\')))
         OR (EventCode = '1'
             AND (contains(lower(CommandLine), 'robocopy')
                  OR contains(lower(CommandLine), 'xcopy')
                  OR contains(lower(CommandLine), 'copy /')
                  OR contains(lower(CommandLine), 'copy-item'))
             AND (contains(lower(CommandLine), '\temp\')
                  OR contains(lower(CommandLine), '\tmp\')
                  OR contains(lower(CommandLine), '\public\')
                  OR contains(lower(CommandLine), '\programdata\')))
      )
),
evaluated AS (
    SELECT
        host,
        _time,
        Image,
        CommandLine,
        TargetFilename,
        CASE
            WHEN EventCode = '11'
                 AND regexp_matches(TargetFilename, '(?i)\.(zip|7z|rar|tar|gz|cab|iso)$')
                THEN 'ArchiveCreated'
            WHEN EventCode = '11' THEN 'FileCreatedInStagingPath'
            WHEN EventCode = '1' AND regexp_matches(CommandLine, '(?i)(robocopy|xcopy)')
                THEN 'BulkCopyCommand'
            WHEN EventCode = '1' THEN 'ScriptedCopy'
            ELSE 'Unknown'
        END AS StagingType,
        "User" AS Actor
    FROM matched
),
grouped AS (
    SELECT
        host,
        Actor,
        Image,
        CommandLine,
        count(*) AS EventCount,
        list_sort(list_distinct(list(StagingType) FILTER (WHERE StagingType IS NOT NULL)))
            AS StagingTypes,
        count(DISTINCT TargetFilename) AS UniqueFiles,
        min(_time) AS FirstSeen,
        max(_time) AS LastSeen
    FROM evaluated
    WHERE host IS NOT NULL AND Actor IS NOT NULL AND Image IS NOT NULL AND CommandLine IS NOT NULL
    GROUP BY host, Actor, Image, CommandLine
)
SELECT
    NULL AS _time,
    host,
    Actor,
    Image,
    CommandLine,
    StagingTypes,
    EventCount,
    UniqueFiles,
    LastSeen - FirstSeen AS DurationSecs,
    CASE WHEN LastSeen - FirstSeen < 300 AND EventCount >= 10 THEN 1 ELSE 0 END AS IsRapidStaging,
    FirstSeen,
    LastSeen
FROM grouped
WHERE EventCount >= 5 OR list_contains(StagingTypes, 'ArchiveCreated')
ORDER BY EventCount DESC, host, Actor, Image, CommandLine
LIMIT 10000
"""

RESULT_COLUMNS = [
    "_time",
    "host",
    "Actor",
    "Image",
    "CommandLine",
    "StagingTypes",
    "EventCount",
    "UniqueFiles",
    "DurationSecs",
    "IsRapidStaging",
    "FirstSeen",
    "LastSeen",
]

# ------------------------------------------------------------------------------------------------
# Engine
# ------------------------------------------------------------------------------------------------

CompileFn = Callable[..., str]


def load_engine() -> tuple[CompileFn, Any]:
    """Import ``compile_spl`` and ``ColumnKind``; exit with a clear message if that fails."""
    if importlib.util.find_spec("stagehunt") is None and str(SRC) not in sys.path:
        sys.path.insert(0, str(SRC))  # running from a checkout without `pip install -e .`
    try:
        from stagehunt.api import compile_spl
        from stagehunt.store.schema import ColumnKind
    except Exception as exc:
        fail(
            "cannot import the stagehunt engine "
            f"(stagehunt.api.compile_spl / stagehunt.store.schema.ColumnKind): "
            f"{type(exc).__name__}: {exc}\n"
            "Install the project (`make bench` or `pip install -e .`), or run "
            "`python bench/bench_seed.py --self-test` to check only the data and hand-written SQL."
        )
    return compile_spl, ColumnKind


def table_schema(con: duckdb.DuckDBPyConnection, column_kind: Any) -> dict[str, Any]:
    """Map the ``events`` columns to ``ColumnKind`` (hidden ``__`` columns are left out)."""
    kinds = {"VARCHAR": "STRING", "VARCHAR[]": "MULTI", "DOUBLE": "NUMBER"}
    schema: dict[str, Any] = {}
    for name, col_type, *_ in con.execute("DESCRIBE events").fetchall():
        if name.startswith("__"):
            continue
        if col_type not in kinds:
            raise RuntimeError(f"column {name} has unexpected type {col_type}")
        schema[name] = getattr(column_kind, kinds[col_type])
    return schema


# ------------------------------------------------------------------------------------------------
# Running and comparing
# ------------------------------------------------------------------------------------------------


@dataclass
class QueryResult:
    """Column names and fetched rows of one query run."""

    columns: list[str]
    rows: list[tuple[Any, ...]]


def run_query(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[float, QueryResult]:
    """Execute ``sql`` and fetch every row; return (seconds, result)."""
    start = time.perf_counter()
    cur = con.execute(sql)
    rows = cur.fetchall()
    elapsed = time.perf_counter() - start
    columns = [d[0] for d in cur.description or []]
    return elapsed, QueryResult(columns, rows)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def values_equal(a: Any, b: Any) -> bool:
    """Equality for result cells: lists elementwise, numbers with tolerance, else exact."""
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(values_equal(x, y) for x, y in zip(a, b, strict=True))
    if _is_number(a) and _is_number(b):
        return math.isclose(float(a), float(b), rel_tol=REL_TOL, abs_tol=ABS_TOL)
    return type(a) is type(b) and a == b


def compare_results(got: QueryResult, want: QueryResult) -> str | None:
    """None if the results match, else a one-line description of the first difference."""
    if got.columns != want.columns:
        return f"columns differ: {got.columns} vs {want.columns}"
    if len(got.rows) != len(want.rows):
        return f"row counts differ: {len(got.rows)} vs {len(want.rows)}"
    for r, (g, w) in enumerate(zip(got.rows, want.rows, strict=True)):
        for c, name in enumerate(want.columns):
            if c >= len(g) or not values_equal(g[c], w[c]):
                got_cell = g[c] if c < len(g) else "<missing>"
                return f"row {r} column {name}: {got_cell!r} vs {w[c]!r}"
    return None


def peak_rss_mb() -> float:
    """Peak resident set size of this process image, in MB.

    Linux keeps ``ru_maxrss`` across ``execve``, so a child started from a big parent would report
    the parent's size; ``VmHWM`` in ``/proc/self/status`` belongs to the new image only. Elsewhere
    fall back to ``getrusage(RUSAGE_SELF).ru_maxrss`` (KB on Linux, bytes on macOS).
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return maxrss / 2**20 if sys.platform == "darwin" else maxrss / 1024


def child_measure(db: Path, sql_file: Path, threads: int | None) -> dict[str, Any]:
    """Open ``db`` read-only, run the SQL in ``sql_file`` once, report peak RSS (child mode)."""
    baseline = peak_rss_mb()
    con = duckdb.connect(str(db), read_only=True)
    try:
        configure(con, threads, db.parent)
        seconds, result = run_query(con, sql_file.read_text())
    finally:
        con.close()
    return {
        "seconds": seconds,
        "rows": len(result.rows),
        "peak_rss_mb": peak_rss_mb(),
        "baseline_rss_mb": baseline,
        "ru_maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }


def measure_rss(db: Path, sql: str, name: str, threads: int | None) -> float:
    """Run ``sql`` in a fresh ``--child`` process and return its peak RSS in MB."""
    sql_file = db.parent / f"{name}.sql"
    sql_file.write_text(sql)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child"]
    cmd += ["--db", str(db), "--sql-file", str(sql_file)]
    if threads is not None:
        cmd += ["--threads", str(threads)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"RSS child for {name} failed:\n{proc.stderr.strip()}")
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    return float(report["peak_rss_mb"])


@dataclass
class SizeReport:
    """Everything measured for one data size."""

    size: int
    gen_s: float
    db_mb: float
    compile_ms: float
    engine_s: float
    hand_s: float
    engine_rows: int
    hand_rows: int
    diff: str | None
    engine_rss_mb: float
    hand_rss_mb: float

    @property
    def ratio(self) -> float:
        """stagehunt time / hand-written time (medians)."""
        return self.engine_s / self.hand_s if self.hand_s > 0 else math.inf


def median_compile(compile_spl: CompileFn, spl: str, schema: dict[str, Any], repeat: int) -> float:
    """Median wall time (ms) of ``compile_spl`` after one warm-up call."""
    compile_spl(spl, schema, table="events", dialect="duckdb")
    times = []
    for _ in range(max(1, repeat)):
        start = time.perf_counter()
        compile_spl(spl, schema, table="events", dialect="duckdb")
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def bench_size(
    n: int, workdir: Path, compile_spl: CompileFn, column_kind: Any, spl: str, args: Any
) -> SizeReport:
    """Build the data for ``n`` events, then time, compare and RSS-measure both queries."""
    db = workdir / f"events_{n}.duckdb"
    log(f"[{human(n)}] generating {n:,} events ...")
    gen_s = build_database(db, n, args.threads)
    db_mb = db.stat().st_size / 2**20
    log(f"[{human(n)}] generated in {gen_s:.1f}s ({db_mb:.0f} MB)")
    try:
        con = duckdb.connect(str(db), read_only=True)
        try:
            configure(con, args.threads, workdir)
            schema = table_schema(con, column_kind)
            try:
                engine_sql = compile_spl(spl, schema, table="events", dialect="duckdb")
            except Exception as exc:
                raise SystemExit(
                    f"bench_seed: compile_spl failed: {type(exc).__name__}: {exc}"
                ) from exc
            compile_ms = median_compile(compile_spl, spl, schema, args.repeat)
            # Warm-up (also the results compared), then alternate the order each round.
            try:
                _, engine_res = run_query(con, engine_sql)
            except duckdb.Error as exc:
                raise SystemExit(
                    f"bench_seed: DuckDB rejected the compiled SQL: {exc}\n{engine_sql[:2000]}"
                ) from exc
            _, hand_res = run_query(con, HAND_SQL)
            engine_t: list[float] = []
            hand_t: list[float] = []
            for r in range(args.repeat):
                order = [("e", engine_sql), ("h", HAND_SQL)]
                for tag, sql in order if r % 2 == 0 else reversed(order):
                    seconds, _ = run_query(con, sql)
                    (engine_t if tag == "e" else hand_t).append(seconds)
        finally:
            con.close()
        log(f"[{human(n)}] timed; measuring peak RSS in child processes ...")
        engine_rss = measure_rss(db, engine_sql, "stagehunt", args.threads)
        hand_rss = measure_rss(db, HAND_SQL, "hand", args.threads)
    finally:
        for leftover in workdir.glob(f"events_{n}.duckdb*"):
            leftover.unlink()
    return SizeReport(
        size=n,
        gen_s=gen_s,
        db_mb=db_mb,
        compile_ms=compile_ms,
        engine_s=statistics.median(engine_t),
        hand_s=statistics.median(hand_t),
        engine_rows=len(engine_res.rows),
        hand_rows=len(hand_res.rows),
        diff=compare_results(engine_res, hand_res),
        engine_rss_mb=engine_rss,
        hand_rss_mb=hand_rss,
    )


# ------------------------------------------------------------------------------------------------
# Self-test: data + hand-written SQL, checked against a plain-Python evaluation of the seed query
# ------------------------------------------------------------------------------------------------

SEARCH_EID11 = [
    r"*\Temp\*",
    r"*\tmp\*",
    r"*\AppData\Local\Temp\*",
    r"*\Users\Public\*",
    r"*\ProgramData\*",
    r"*\Windows\Temp\*",
]
SEARCH_TOOLS = ["*robocopy*", "*xcopy*", "*copy /*", "*Copy-Item*"]
SEARCH_PATHS = [r"*\Temp\*", r"*\tmp\*", r"*\Public\*", r"*\ProgramData\*"]


def glob_matcher(globs: list[str]) -> Callable[[str | None], bool]:
    """Case-insensitive whole-value SPL glob match against any of ``globs``."""
    regexes = [
        re.compile(".*".join(re.escape(part) for part in g.split("*")), re.IGNORECASE | re.DOTALL)
        for g in globs
    ]
    return lambda v: v is not None and any(rx.fullmatch(v) for rx in regexes)


def python_reference(con: duckdb.DuckDBPyConnection) -> QueryResult:
    """Evaluate the seed query in plain Python over every event (independent of the SQL)."""
    eid11_path = glob_matcher(SEARCH_EID11)
    tool, path = glob_matcher(SEARCH_TOOLS), glob_matcher(SEARCH_PATHS)
    is_st = glob_matcher(
        ["XmlWinEventLog:Microsoft-Windows-Sysmon/Operational", "WinEventLog:Security"]
    )
    is_idx = glob_matcher(["wineventlog"])
    archive = re.compile(r"\.(zip|7z|rar|tar|gz|cab|iso)$", re.IGNORECASE)
    bulk = re.compile(r"(robocopy|xcopy)", re.IGNORECASE)
    groups: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    rows = con.execute(
        'SELECT "index", sourcetype, EventCode, TargetFilename, CommandLine, host, "User", '
        "Image, _time FROM events ORDER BY __seq"
    ).fetchall()
    for index, st, ec, tfn, cmd, host, user, image, t in rows:
        if not (is_idx(index) and is_st(st)):
            continue
        if not ((ec == "11" and eid11_path(tfn)) or (ec == "1" and tool(cmd) and path(cmd))):
            continue
        if ec == "11" and tfn is not None and archive.search(tfn):
            stype = "ArchiveCreated"
        elif ec == "11":
            stype = "FileCreatedInStagingPath"
        elif ec == "1" and cmd is not None and bulk.search(cmd):
            stype = "BulkCopyCommand"
        else:
            stype = "ScriptedCopy"
        key = (host, user, image, cmd)
        if any(k is None for k in key):
            continue
        g = groups.setdefault(key, {"n": 0, "types": set(), "files": set(), "t": []})
        g["n"] += 1
        g["types"].add(stype)
        if tfn is not None:
            g["files"].add(tfn)
        g["t"].append(t)
    out = []
    for (host, actor, image, cmd), g in groups.items():
        types = sorted(g["types"])
        if not (g["n"] >= 5 or "ArchiveCreated" in types):
            continue
        first, last = min(g["t"]), max(g["t"])
        dur = last - first
        rapid = 1 if dur < 300 and g["n"] >= 10 else 0
        out.append(
            (None, host, actor, image, cmd, types, g["n"], len(g["files"]), dur, rapid, first, last)
        )
    out.sort(key=lambda r: (-r[6], r[1], r[2], r[3], r[4]))
    return QueryResult(list(RESULT_COLUMNS), out[:10000])


def self_test(args: Any) -> int:
    """Build 100k events, run the hand-written SQL, check it against the Python reference."""
    with tempfile.TemporaryDirectory(prefix="stagehunt-bench-", dir=args.tmpdir) as tmp:
        workdir = Path(tmp)
        db = workdir / "selftest.duckdb"
        gen_s = build_database(db, SELF_TEST_SIZE, args.threads)
        con = duckdb.connect(str(db), read_only=True)
        try:
            configure(con, args.threads, workdir)
            print(f"generated {SELF_TEST_SIZE:,} events in {gen_s:.2f}s")
            shape = con.execute(
                """
                SELECT EventCode, count(*) AS n,
                       round(100.0 * count(*) / sum(count(*)) OVER (), 1) AS pct,
                       count(*) FILTER (WHERE RuleName LIKE 'technique_id=T1074%') AS staging,
                       count(*) FILTER (WHERE "User" IS NOT NULL) AS with_user
                FROM events GROUP BY EventCode ORDER BY n DESC
                """
            ).fetchall()
            print("EventCode  events    pct  staging_cmds  with_User")
            for ec, n, pct, staging, with_user in shape:
                print(f"{ec:>9}  {n:>6}  {pct:>5}  {staging:>12}  {with_user:>9}")
            hand_s, hand = run_query(con, HAND_SQL)
            ref_start = time.perf_counter()
            ref = python_reference(con)
            ref_s = time.perf_counter() - ref_start
        finally:
            con.close()
    print(f"hand-written SQL: {len(hand.rows)} rows in {hand_s * 1000:.1f} ms")
    print(f"python reference: {len(ref.rows)} rows in {ref_s * 1000:.1f} ms")
    rapid = sum(1 for row in hand.rows if row[9] == 1)
    print(f"rows with IsRapidStaging=1: {rapid}")
    print("first rows (host, Actor, EventCount, StagingTypes, DurationSecs, CommandLine):")
    for row in hand.rows[:5]:
        print(f"  {row[1]}  {row[2]}  {row[6]}  {row[5]}  {row[8]:.2f}  {row[4][:70]}")
    problems = []
    if not hand.rows:
        problems.append("hand-written SQL returned no rows")
    if hand.columns != RESULT_COLUMNS:
        problems.append(f"hand-written SQL columns are {hand.columns}")
    diff = compare_results(hand, ref)
    if diff:
        problems.append(f"hand-written SQL differs from the Python reference: {diff}")
    # The comparator itself must notice a changed cell.
    if hand.rows:
        tampered = QueryResult(hand.columns, [(*hand.rows[0][:6], -1, *hand.rows[0][7:])])
        if compare_results(tampered, QueryResult(hand.columns, hand.rows[:1])) is None:
            problems.append("compare_results missed a changed EventCount")
    for p in problems:
        print(f"SELF-TEST FAIL: {p}")
    if not problems:
        print("SELF-TEST OK: hand-written SQL returns rows and equals the Python reference")
    return 1 if problems else 0


# ------------------------------------------------------------------------------------------------
# CLI
# ------------------------------------------------------------------------------------------------


def human(n: int) -> str:
    """1000000 -> '1M', 100000 -> '100k'."""
    for div, suffix in ((1_000_000_000, "G"), (1_000_000, "M"), (1_000, "k")):
        if n >= div and n % div == 0:
            return f"{n // div}{suffix}"
    return str(n)


def parse_size(text: str) -> int:
    """Parse '10000000', '10_000_000', '10M', '100k' or '1e6'."""
    t = text.strip().lower().replace("_", "")
    mult = {"k": 1_000, "m": 1_000_000, "g": 1_000_000_000}.get(t[-1:], 1)
    if mult != 1:
        t = t[:-1]
    value = int(float(t) * mult)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"size must be positive: {text}")
    return value


def fail(msg: str) -> NoReturn:
    """Exit with status 2 (setup problem, nothing measured) and a one-paragraph message."""
    print(f"bench_seed: {msg}", file=sys.stderr)
    sys.exit(2)


def log(msg: str) -> None:
    """Progress line on stderr (the result table goes to stdout)."""
    print(msg, file=sys.stderr, flush=True)


def print_table(reports: list[SizeReport], threads: str, repeat: int) -> None:
    """Print the result table and the target verdicts."""
    print(
        f"\nseed query T1074 — DuckDB {duckdb.__version__}, threads={threads}, median of {repeat}"
    )
    header = (
        f"{'size':>6} {'gen_s':>6} {'compile_ms':>10} {'stagehunt_s':>11} {'hand_s':>8} "
        f"{'ratio':>6} {'rows_sh':>7} {'rows_hand':>9} {'same':>4} "
        f"{'rss_sh_MB':>9} {'rss_hand_MB':>11}"
    )
    print(header)
    print("-" * len(header))
    for r in reports:
        print(
            f"{human(r.size):>6} {r.gen_s:>6.1f} {r.compile_ms:>10.2f} {r.engine_s:>11.3f} "
            f"{r.hand_s:>8.3f} {r.ratio:>6.2f} {r.engine_rows:>7} {r.hand_rows:>9} "
            f"{'yes' if r.diff is None else 'NO':>4} {r.engine_rss_mb:>9.0f} {r.hand_rss_mb:>11.0f}"
        )
    for r in reports:
        if r.diff is not None:
            print(f"  {human(r.size)}: results differ — {r.diff}")
    at_target = [r for r in reports if r.size >= RATIO_TARGET_SIZE]
    if at_target:
        ok = all(r.ratio <= RATIO_TARGET for r in at_target)
        worst = max(r.ratio for r in at_target)
        print(
            f"target ratio <= {RATIO_TARGET} at >= {human(RATIO_TARGET_SIZE)}: "
            f"{'PASS' if ok else 'MISS'} (worst {worst:.2f})"
        )
    else:
        print(f"target ratio <= {RATIO_TARGET} at {human(RATIO_TARGET_SIZE)}: not measured")
    peak = max(max(r.engine_rss_mb, r.hand_rss_mb) for r in reports)
    print(
        f"target peak RSS < {RSS_TARGET_MB:.0f} MB: "
        f"{'PASS' if peak < RSS_TARGET_MB else 'MISS'} (max {peak:.0f} MB)"
    )


def targets_met(reports: list[SizeReport]) -> bool:
    """True if every measured size meets the ratio (at >= 10M) and RSS targets."""
    return all(
        (r.size < RATIO_TARGET_SIZE or r.ratio <= RATIO_TARGET)
        and max(r.engine_rss_mb, r.hand_rss_mb) < RSS_TARGET_MB
        for r in reports
    )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line interface."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--sizes",
        default="1000000,10000000",
        help="comma-separated event counts (10M, 100k, 1e6 accepted); default 1000000,10000000",
    )
    p.add_argument("--repeat", type=int, default=3, help="timed runs per query (default 3)")
    p.add_argument("--threads", type=int, default=None, help="DuckDB threads (default: DuckDB's)")
    p.add_argument("--tmpdir", default=None, help="where the temporary databases go")
    p.add_argument(
        "--self-test",
        action="store_true",
        help=f"no engine: build {SELF_TEST_SIZE:,} events, check the hand-written SQL",
    )
    p.add_argument(
        "--check-targets", action="store_true", help="exit 1 if a ratio/RSS target is missed"
    )
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--sql-file", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.repeat < 1:
        p.error("--repeat must be >= 1")
    if args.threads is not None and args.threads < 1:
        p.error("--threads must be >= 1")
    try:
        args.size_list = [parse_size(s) for s in args.sizes.split(",") if s.strip()]
    except (ValueError, argparse.ArgumentTypeError) as exc:
        p.error(f"bad --sizes: {exc}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = parse_args(argv)
    if args.child:
        print(json.dumps(child_measure(args.db, args.sql_file, args.threads)))
        return 0
    if args.self_test:
        return self_test(args)
    compile_spl, column_kind = load_engine()
    if not SEED_SPL.is_file():
        fail(f"seed query not found at {SEED_SPL}")
    spl = SEED_SPL.read_text(encoding="utf-8")
    reports: list[SizeReport] = []
    with tempfile.TemporaryDirectory(prefix="stagehunt-bench-", dir=args.tmpdir) as tmp:
        for n in args.size_list:
            reports.append(bench_size(n, Path(tmp), compile_spl, column_kind, spl, args))
    threads = str(args.threads) if args.threads else f"default ({os.cpu_count()} cpus)"
    print_table(reports, threads, args.repeat)
    if any(r.diff is not None for r in reports):
        return 1
    if args.check_targets and not targets_met(reports):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
