"""`stagehunt atomic list|show N`: the pack's lab tests, printed, never executed."""

from __future__ import annotations

import pytest

from stagehunt import cli


def test_atomic_list_and_show(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["atomic", "list"]) == 0
    listing = capsys.readouterr().out
    assert listing.count("\n") >= 5 and "Linux Data Staging Using cp and tar" in listing
    assert cli.main(["atomic", "show", "2"]) == 0
    shown = capsys.readouterr().out
    assert "never executes" in shown and " -p" in shown and "Cleanup" in shown


def test_atomic_unknown_number(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["atomic", "show", "9"]) == 2
    assert "no atomic test 9" in capsys.readouterr().err
