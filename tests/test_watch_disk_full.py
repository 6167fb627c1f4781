"""A full disk under the store: one line, exit 1, and nothing committed is lost: the
store, moved to a disk with room, finishes the work and holds exactly what a store
that never ran out holds. Needs root to mount a 3 MiB tmpfs; skipped otherwise."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from stagehunt.cli import main
from stagehunt.store.event_store import EventStore
from watchdata import REAL

OTRF = REAL / "OTRF-Security-Datasets"
#: the six OTRF JSON lines files hold 2,199 lines, one event each (SOURCES.md, wc -l)
LINES = 2199


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root")
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(disk)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    yield disk
    subprocess.run(["umount", str(disk)], check=True)


def count(store: Path) -> int:
    with EventStore(store) as s:
        return int(s.connection.execute("SELECT count(*) FROM events").fetchall()[0][0])


def test_watch_on_a_full_disk_is_one_line_and_loses_nothing(
    tmp_path: Path, small_disk: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for f in OTRF.glob("*.json"):
        shutil.copyfile(f, folder / f.name)
    store = small_disk / "w.duckdb"
    args = ["watch", str(folder), "--detection", "T1074.seed", "--once", "--store"]
    assert main([*args, str(store)]) == 1
    err = capsys.readouterr().err
    assert err == (
        "error: no space left on device; the transaction was rolled back, "
        f"what was committed before is kept: {store}\n"
    )
    moved = tmp_path / "moved"
    moved.mkdir()
    for f in small_disk.iterdir():
        shutil.copyfile(f, moved / f.name)
    assert main([*args, str(moved / "w.duckdb")]) == 0
    assert count(moved / "w.duckdb") == LINES


def test_ingest_on_a_full_disk_is_one_line(
    small_disk: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = small_disk / "s.duckdb"
    assert main(["ingest", str(OTRF), "--store", str(store), "--jobs", "1"]) == 1
    last = capsys.readouterr().err.splitlines()[-1]
    assert last == (
        "error: no space left on device; the transaction was rolled back, "
        f"what was committed before is kept: {store}"
    )
