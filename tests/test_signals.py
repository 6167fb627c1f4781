"""Ctrl-C and SIGTERM stop a command cleanly (src/stagehunt/terminate.py).

``kill PID`` (systemd's and Docker's stop too) sends SIGTERM; Python's default ends the
process on the spot, with no clean-up. And DuckDB reports a signal that arrives while it
executes as its own ``RuntimeError("Query interrupted")``, which reached the user as a
traceback. What a user relies on instead: no traceback, the exit status a shell shows
for the signal (130 for Ctrl-C, 143 for SIGTERM; 0 for a watcher asked to stop between
rounds, as a service manager expects), and no temporary folder left behind.

Each command runs in a process of its own with ``TMPDIR`` pointed at an empty folder of
the test, and gets the signal once its handler is in place (the process's ``SigCgt`` mask
in /proc shows SIGTERM caught).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from stagehunt.escu.content import default_content
from test_watch_escu import chcp

#: a search DuckDB needs seconds for: 10M rows, two digests each, a distinct count
SLOW_SEARCH = (
    "| makeresults count=10000000 | eval x=md5(tostring(random())) | eval y=sha256(x) | stats dc(y)"
)


def start(tmp_path: Path, *args: str) -> subprocess.Popen[bytes]:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch)}
    return subprocess.Popen(
        [sys.executable, "-m", "stagehunt.cli", *args],
        stdout=(tmp_path / "stdout").open("wb"),
        stderr=(tmp_path / "stderr").open("wb"),
        env=env,
    )


def catches_sigterm(proc: subprocess.Popen[bytes]) -> bool:
    status = Path(f"/proc/{proc.pid}/status").read_text()
    caught = next(line for line in status.splitlines() if line.startswith("SigCgt:"))
    return bool(int(caught.split()[1], 16) >> (signal.SIGTERM - 1) & 1)


def asleep(proc: subprocess.Popen[bytes]) -> bool:
    """The process's main thread waits in ``time.sleep`` (the watcher between rounds)."""
    return "nanosleep" in Path(f"/proc/{proc.pid}/wchan").read_text()


def wait_until(ready: object, proc: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 120
    while not ready():  # type: ignore[operator]
        assert proc.poll() is None, f"ended before {what}: {proc.returncode}"
        assert time.monotonic() < deadline, f"no {what} in 120 s"
        time.sleep(0.02)


def stop(proc: subprocess.Popen[bytes], signum: int) -> int:
    proc.send_signal(signum)
    return proc.wait(timeout=60)


def stderr(tmp_path: Path) -> str:
    return (tmp_path / "stderr").read_text(encoding="utf-8", errors="replace")


@pytest.mark.parametrize(("signum", "status"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_search_stopped_while_duckdb_runs_it(tmp_path: Path, signum: int, status: int) -> None:
    """The search reads no files: its events are a temporary store in TMPDIR. Stopped
    half a second into DuckDB's seconds of work: the status of the signal, nothing on
    stderr, TMPDIR empty (on the old code: killed by SIGTERM with the store's folder left
    behind; Ctrl-C a traceback ending in "Query interrupted", exit 1)."""
    proc = start(tmp_path, "search", SLOW_SEARCH)
    wait_until(lambda: catches_sigterm(proc), proc, "SIGTERM handler")
    time.sleep(0.5)
    assert stop(proc, signum) == status
    assert stderr(tmp_path) == ""
    assert list((tmp_path / "tmp").iterdir()) == []


@pytest.mark.skipif(default_content() is None, reason="no security_content here")
def test_a_watcher_stopped_between_rounds(tmp_path: Path) -> None:
    """``watch --escu`` keeps two temporary folders (the baselines' lookups, the kept
    statements). After its first round (the alert written), SIGTERM as it sleeps: exit
    0, nothing on stderr, TMPDIR empty (on the old code: killed, both folders left)."""
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "sysmon.jsonl").write_text(
        chcp("2025-03-04T10:15:30.000Z", 1) + "\n", encoding="utf-8"
    )
    alerts = tmp_path / "alerts.jsonl"
    proc = start(
        tmp_path,
        "watch",
        str(tmp_path / "in"),
        "--store",
        str(tmp_path / "s.duckdb"),
        "--alerts",
        str(alerts),
        "--escu",
        "CHCP Command Execution",
        "--interval",
        "600",
    )
    wait_until(lambda: alerts.exists() and alerts.read_bytes().endswith(b"\n"), proc, "alert")
    assert json.loads(alerts.read_text(encoding="utf-8"))["result"]["process_name"] == "chcp.com"
    assert any((tmp_path / "tmp").iterdir())  # the watcher's folders, while it runs
    wait_until(lambda: asleep(proc), proc, "sleep after the round")
    assert stop(proc, signal.SIGTERM) == 0
    assert stderr(tmp_path) == ""
    assert list((tmp_path / "tmp").iterdir()) == []
