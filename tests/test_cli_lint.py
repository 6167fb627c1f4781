"""`stagehunt lint`: findings printed with position, rule and fix; exit 1 when any."""

from __future__ import annotations

import pytest

from stagehunt import cli


def test_lint_seed_reports_the_traps(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["lint", "--detection", "T1074.seed"]) == 1
    out = capsys.readouterr().out
    for rule in ("SH001", "SH002", "SH003", "SH005"):  # null by-field, _time, sort cap, dead branch
        assert f" {rule} " in out
    assert "28:28 SH001 `CommandLine` is null on every Sysmon EventCode 11 event" in out


def test_lint_corrected_variant_is_clean(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["lint", "--detection", "T1074.corrected"]) == 0
    assert capsys.readouterr().out.strip() == "0 findings"


def test_lint_broken_query_is_a_located_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["lint", "index=x | stats count by"]) == 2
    assert capsys.readouterr().err.startswith("syntax error at line 1, column 25:")
