"""DuckDB's memory limit when --memory-limit is not given: memory.DEFAULT_SHARE (half) of
RAM or of the container's cgroup limit, whichever is lower (memory.py)."""

from __future__ import annotations

import argparse
from pathlib import Path

import duckdb
import pytest

from stagehunt import cli, memory


def test_default_limit_is_half_of_the_usable_memory() -> None:
    assert memory.default_limit(8 * 2**30) == "4096MiB"
    assert memory.default_limit(None) is None


def test_a_lower_cgroup_limit_wins(tmp_path: Path) -> None:
    cgroup = tmp_path / "memory.max"
    cgroup.write_text("1073741824\n", encoding="ascii")  # 1 GiB, below any test machine's RAM
    assert memory.usable_bytes(cgroup) == 2**30
    cgroup.write_text("max\n", encoding="ascii")  # no limit: physical memory
    physical = memory.usable_bytes(tmp_path / "absent")
    assert physical is not None and physical > 2**30
    assert memory.usable_bytes(cgroup) == physical


def test_the_cli_sets_the_default_and_memory_limit_overrides(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(memory, "usable_bytes", lambda: 2 * 2**30)
    con = duckdb.connect()
    cli._limit_memory(con, argparse.Namespace(memory_limit=None))
    (setting,) = con.execute("SELECT current_setting('memory_limit')").fetchone() or ("",)
    assert setting == "1.0 GiB"  # half of 2 GiB
    cli._limit_memory(con, argparse.Namespace(memory_limit="3GiB"))
    (setting,) = con.execute("SELECT current_setting('memory_limit')").fetchone() or ("",)
    assert setting == "3.0 GiB"
