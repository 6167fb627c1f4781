"""Crash safety by killing: `stagehunt ingest` and `stagehunt watch` are started in
a subprocess (own process group, workers included), SIGKILLed after a seeded random
delay while files arrive, and restarted; at the end one clean run finishes the work
and the result is compared with a run that was never interrupted.

Checks: every record stored exactly as often as in the reference (none lost, none
twice), every alert of the reference in the alert file exactly once and no other,
every alert the store recorded delivered, and the store opens after every kill.
Used by tests/test_watch_crash.py (a few kills) and scripts/kill_test.py (hundreds).
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import duckdb

from stagehunt.ingest.parallel import TASKS_PREFIX
from stagehunt.scratch import ScratchFolder
from watchdata import EVTX, PANACHE, REAL, evtx_prefix, scenario_lines

#: The runs' temporary folder: what a SIGKILLed run leaves there (an archive's extracted
#: members, a watcher's folders) goes with it when this process exits, not into /tmp.
_SCRATCH = ScratchFolder("stagehunt-kills-")

SCENARIOS = (
    "benign-log-aggregation",
    "adversary-1-robocopy-temp",
    "adversary-2-7zip-password",
    "adversary-3-copyitem-programdata",
)
OTRF_LINES = (
    REAL / "OTRF-Security-Datasets" / "covenant_copy_smb_CreateRequest_2020-09-22145302.json"
)
DETECTIONS = ("T1074.seed", "T1074.corrected")
SETTLE = "1"


@dataclass
class Figures:
    """What a campaign did and found."""

    #: SIGKILLs delivered to a running process
    kills: dict[str, int] = field(default_factory=lambda: {"ingest": 0, "watch": 0})
    #: runs that had finished when their kill was due (not counted as kills)
    finished: dict[str, int] = field(default_factory=lambda: {"ingest": 0, "watch": 0})
    #: kills after which the store had changed since the run started (mid-work kills)
    kills_after_progress: dict[str, int] = field(default_factory=lambda: {"ingest": 0, "watch": 0})
    records: dict[str, int] = field(default_factory=dict)
    lost: dict[str, int] = field(default_factory=dict)
    duplicated: dict[str, int] = field(default_factory=dict)
    alerts: int = 0
    #: alerts in the alert file before the final clean pass (emitted between kills)
    alerts_before_end: int = 0
    alerts_lost: int = 0
    alerts_repeated: int = 0
    alerts_unexpected: int = 0
    alerts_undelivered: int = 0
    open_failures: int = 0

    def ok(self) -> bool:
        return not (
            any(self.lost.values())
            or any(self.duplicated.values())
            or self.alerts_lost
            or self.alerts_repeated
            or self.alerts_unexpected
            or self.alerts_undelivered
            or self.open_failures
        )


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "stagehunt.cli", *args]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    src = str(Path(__file__).resolve().parents[1] / "src")
    env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    env["TMPDIR"] = str(_SCRATCH.path)
    return env


def _run_clean(args: list[str]) -> None:
    done = subprocess.run(args, env=_env(), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise AssertionError(f"{' '.join(args[3:6])}... exit {done.returncode}: {done.stderr}")


def _state(store: Path, figures: Figures) -> tuple[int, int]:
    """(records, alerts emitted); opening the store is itself a check."""
    if not store.exists():
        return (0, 0)
    try:
        con = duckdb.connect(str(store))
    except duckdb.Error:
        figures.open_failures += 1
        return (-1, -1)
    try:
        tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        records = (
            con.execute("SELECT count(*) FROM events").fetchall()[0][0] if "events" in tables else 0
        )
        alerts = (
            con.execute("SELECT count(*) FROM __watch_alerts WHERE emitted").fetchall()[0][0]
            if "__watch_alerts" in tables
            else 0
        )
        return (int(records), int(alerts))
    finally:
        con.close()


def _start(args: list[str]) -> subprocess.Popen[bytes]:
    """A run in its own process group, so a kill takes its worker processes too."""
    return subprocess.Popen(
        args,
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


#: Where POSIX named semaphores live (Linux): multiprocessing's under a fork server
#: are ``sem.mp-*``, unlinked by the run's resource tracker, which the kill takes too.
_SHM = Path("/dev/shm")


def _semaphores() -> set[Path]:
    return set(_SHM.glob("sem.mp-*")) if _SHM.is_dir() else set()


def _kill(proc: subprocess.Popen[bytes], semaphores_before: set[Path]) -> None:
    """SIGKILL the run's process group; then unlink the semaphores it made (they would
    stay in /dev/shm for good: nothing else of the suite makes any meanwhile) and remove
    its task folder (a later load would, an hour on: `parallel.sweep_stale`)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    for leaked in _semaphores() - semaphores_before:
        with contextlib.suppress(OSError):
            leaked.unlink()
    for folder in _SHM.glob(f"{TASKS_PREFIX}{proc.pid}-*"):
        shutil.rmtree(folder, ignore_errors=True)


def _kill_once(
    name: str, cmd: list[str], store: Path, meanwhile: Callable[[], None], figures: Figures
) -> None:
    """Start a run, do ``meanwhile`` (wait, files arrive), SIGKILL it; count the kill,
    and whether the store changed in the run (a kill in the middle of work)."""
    before = _state(store, figures)
    semaphores = _semaphores()
    proc = _start(cmd)
    meanwhile()
    if proc.poll() is not None:  # it had finished: no kill to count
        proc.wait()
        figures.finished[name] += 1
        return
    _kill(proc, semaphores)
    figures.kills[name] += 1
    if _state(store, figures) != before:
        figures.kills_after_progress[name] += 1


def _rows(store: Path) -> Counter[str]:
    """The stored records as a multiset: every field (by its name) with a value (a column left by a
    rolled-back or discarded read holds only nulls), the store's own columns left out."""
    con = duckdb.connect(str(store), read_only=True)
    try:
        field = dict(con.execute("SELECT column_name, name FROM __fields").fetchall())
        cursor = con.execute("SELECT * EXCLUDE (__seq, __src, __rid) FROM events")
        # physical names depend on the order fields first came (User vs user#2)
        names = [field.get(d[0], d[0]) for d in cursor.description]
        rows = cursor.fetchall()
    finally:
        con.close()
    return Counter(
        hashlib.sha256(
            json.dumps(
                {n: v for n, v in zip(names, row, strict=True) if v is not None},
                default=str,
                sort_keys=True,
            ).encode()
        ).hexdigest()
        for row in rows
    )


def _compare(name: str, got: Counter[str], want: Counter[str], figures: Figures) -> None:
    figures.records[name] = sum(want.values())
    figures.lost[name] = sum((want - got).values())
    figures.duplicated[name] = sum((got - want).values())


# ---------------------------------------------------------------------- arrivals


#: (file, bytes appended, bytes appended a moment later: a write in two parts, then a
#: new file header written over the first 4 KiB: an EVTX log writer's update)
Write = tuple[Path, bytes, bytes, bytes]
#: chunks of PanacheSysmon a growing log holds after each of its writes
GROWTH = (3, 7, 11, 15)


def _watch_arrivals(work: Path, rng: random.Random, pieces: int) -> list[Write]:
    """Writes that make the watched folder, in a seeded order: JSON lines appended in
    pieces that may end mid-line, EVTX files written in two parts."""
    streams: list[tuple[Path, bytes]] = []
    for scenario in SCENARIOS:
        text = "".join(line + "\n" for line in scenario_lines(scenario, work / "sim"))
        streams.append((Path(f"{scenario}.jsonl"), text.encode()))
    streams.append((Path("otrf-covenant.json"), OTRF_LINES.read_bytes()))
    writes: list[list[Write]] = []
    for name, data in streams:
        cuts = sorted(rng.sample(range(1, len(data)), pieces - 1))
        bounds = [0, *cuts, len(data)]
        writes.append([(name, data[a:b], b"", b"") for a, b in itertools.pairwise(bounds)])
    for evtx in sorted(EVTX.glob("*.evtx")):
        data = evtx.read_bytes()
        cut = rng.randrange(1, len(data))
        # a collector writes a file without pausing as long as --settle: both parts in one step
        writes.append([(Path(evtx.name), data[:cut], data[cut:], b"")])
    # a collector's live log: chunks appended, then the header updated, in four steps
    # (its last state is not byte for byte PanacheSysmon's file, so its own content)
    full = PANACHE.read_bytes()
    steps = [evtx_prefix(full, n) for n in GROWTH]
    grow = [(Path("ForwardedEvents.evtx"), steps[0], b"", b"")]
    for before, after in itertools.pairwise(steps):
        grow.append((Path("ForwardedEvents.evtx"), after[len(before) :], b"", after[:4096]))
    writes.append(grow)
    order: list[Write] = []
    while any(writes):
        queue = rng.choice([w for w in writes if w])
        order.append(queue.pop(0))
    return order


def _write(folder: Path, item: Write, rng: random.Random) -> None:
    name, first, rest, header = item
    with (folder / name).open("ab") as fh:
        fh.write(first)
        if rest:
            fh.flush()
            time.sleep(rng.uniform(0.0, 0.3))
            fh.write(rest)
    if header:
        with (folder / name).open("r+b") as fh:
            fh.write(header)


def watch_campaign(work: Path, kills: int, rng: random.Random, figures: Figures) -> None:
    folder, store, alerts = work / "watched", work / "watch.duckdb", work / "alerts.jsonl"
    folder.mkdir(parents=True)
    pieces = max(2, kills // 5)
    arrivals = _watch_arrivals(work, rng, pieces)
    per_run = len(arrivals) / max(kills, 1)
    args = ["watch", str(folder), "--store", str(store), "--alerts", str(alerts)]
    for d in DETECTIONS:
        args += ["--detection", d]
    cmd = _cli(*args, "--interval", "0.05", "--settle", SETTLE)
    owed = 0.0

    def arrive() -> None:  # while watch runs: this run's share of the writes
        nonlocal owed
        owed += per_run
        deadline = time.monotonic() + rng.uniform(0.3, 2.5)
        while time.monotonic() < deadline:
            if owed >= 1 and arrivals:
                _write(folder, arrivals.pop(0), rng)
                owed -= 1
            time.sleep(rng.uniform(0.0, 0.2))

    runs = 0
    while figures.kills["watch"] < kills and runs < 4 * kills:
        _kill_once("watch", cmd, store, arrive, figures)
        runs += 1
    for item in arrivals:
        _write(folder, item, rng)
    old = time.time() - 3600  # all writes done: let whole files settle now
    for path in folder.iterdir():
        os.utime(path, (old, old))
    if alerts.exists():
        figures.alerts_before_end = len(alerts.read_text().splitlines())
    _run_clean([*cmd[:-4], "--once"])  # finish: one uninterrupted pass
    # reference: the final folder, watched once, never interrupted
    ref_store, ref_alerts = work / "ref-watch.duckdb", work / "ref-alerts.jsonl"
    ref = ["watch", str(folder), "--store", str(ref_store), "--alerts", str(ref_alerts), "--once"]
    for d in DETECTIONS:
        ref += ["--detection", d]
    _run_clean(_cli(*ref))
    _compare("watch", _rows(store), _rows(ref_store), figures)
    got = (
        Counter(json.loads(x)["alert_id"] for x in alerts.read_text().splitlines())
        if alerts.exists()
        else Counter()
    )
    want = {json.loads(x)["alert_id"] for x in ref_alerts.read_text().splitlines()}
    figures.alerts = len(want)
    figures.alerts_lost = len(want - set(got))
    figures.alerts_repeated = sum(n - 1 for n in got.values() if n > 1)
    figures.alerts_unexpected = len(set(got) - want)
    con = duckdb.connect(str(store), read_only=True)
    try:
        recorded = {r[0] for r in con.execute("SELECT id FROM __watch_alerts").fetchall()}
        figures.alerts_undelivered = len(recorded - set(got)) + int(
            con.execute("SELECT count(*) FROM __watch_alerts WHERE NOT emitted").fetchall()[0][0]
        )
    finally:
        con.close()


def ingest_campaign(work: Path, kills: int, rng: random.Random, figures: Figures) -> None:
    """Before each run a new file arrives whole (ingest reads what is there), so every
    run has work: a slice of real OTRF and simulated shipper JSON lines (200 to 1,500
    lines from a random start), and one time in ten a real EVTX file as well."""
    folder, store = work / "ingested", work / "ingest.duckdb"
    folder.mkdir(parents=True)
    pool: list[str] = []
    for f in sorted((REAL / "OTRF-Security-Datasets").glob("*.json")):
        pool += f.read_text(encoding="utf-8").splitlines()
    for scenario in SCENARIOS:
        pool += scenario_lines(scenario, work / "sim2")
    evtx = sorted(EVTX.glob("*.evtx"))
    cmd = _cli("ingest", str(folder), "--store", str(store))
    arrived = 0

    def arrive() -> None:
        nonlocal arrived
        start = rng.randrange(len(pool))
        lines = pool[start : start + rng.randint(200, 1500)]
        (folder / f"{arrived:04d}.json").write_text("".join(x + "\n" for x in lines))
        if rng.random() < 0.1:
            shutil.copyfile(rng.choice(evtx), folder / f"{arrived:04d}.evtx")
        arrived += 1

    took = 1.0  # how long the last run that was let finish took
    while figures.kills["ingest"] < kills and arrived < 4 * kills:
        arrive()
        if rng.random() < 0.3:  # let one run in three finish: the store moves on
            started = time.monotonic()
            _run_clean(cmd)
            took = time.monotonic() - started
            continue
        delay = rng.uniform(0.3, took + 0.3)  # anywhere in a run, its commits included
        _kill_once("ingest", cmd, store, partial(time.sleep, delay), figures)
    _run_clean(cmd)
    ref = work / "ref-ingest.duckdb"
    _run_clean(_cli("ingest", str(folder), "--store", str(ref)))
    _compare("ingest", _rows(store), _rows(ref), figures)


def campaign(work: Path, kills: int, seed: int) -> Figures:
    """``kills`` SIGKILLs, half to ingest, half to watch."""
    rng = random.Random(seed)
    figures = Figures()
    ingest_campaign(work, kills // 2, rng, figures)
    watch_campaign(work, kills - kills // 2, rng, figures)
    return figures
