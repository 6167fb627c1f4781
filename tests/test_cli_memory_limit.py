"""``--memory-limit``: DuckDB spills to disk past it (the 100M bench stays under 4 GB with it)."""

from __future__ import annotations

import argparse

import duckdb
import pytest

from stagehunt import cli


def test_memory_limit_is_set_on_the_connection() -> None:
    con = duckdb.connect()
    cli._limit_memory(con, argparse.Namespace(memory_limit="1GB"))
    # DuckDB reports 1 GB (10^9 bytes) in GiB: 953.6 MiB
    (setting,) = con.execute("SELECT current_setting('memory_limit')").fetchone() or ("",)
    assert setting == "953.6 MiB"


def test_a_bad_memory_limit_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["hunt", "--memory-limit", "lots"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --memory-limit 'lots': ")
    assert len(err.strip().splitlines()) == 1
