"""`lookup` and `inputlookup` over CSV files in a lookups folder (issue 4 item 3).

Splunk's rules (transforms.conf, lookup command): exact, case-sensitive matching unless
`case_sensitive_match = false`; `WILDCARD(f)` and `CIDR(f)` match types; up to
`max_matches` rows (default 100) in file order; OUTPUT writes only where a row matched,
OUTPUTNEW only fields the event lacks. Expected values are worked out from those rules.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from stagehunt import cli
from stagehunt.api import search_records
from stagehunt.spl.errors import SplSemanticError

EVENTS = [
    {"_time": 3, "Image": "C:\\Windows\\System32\\MSIEXEC.EXE", "host": "wks1", "ip": "10.1.2.3"},
    {"_time": 2, "Image": "C:\\Tools\\robocopy.exe", "host": "WKS1", "ip": "192.168.0.9"},
    {"_time": 1, "Image": "x.exe", "host": "srv", "owner": "kept"},
]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "images.csv").write_text(
        "Image,reason\n*\\msiexec.exe,installer\n*\\robocopy.exe,dev build\n", encoding="utf-8"
    )
    (tmp_path / "owners.csv").write_text(
        "host,owner\nwks1,alice\nwks1,bob\nsrv,carol\n", encoding="utf-8"
    )
    (tmp_path / "nets.csv").write_text("net,zone\n10.0.0.0/8,corp\n", encoding="utf-8")
    (tmp_path / "transforms.conf").write_text(
        "[images]\nfilename = images.csv\nmatch_type = WILDCARD(Image)\n"
        "case_sensitive_match = false\nmax_matches = 1\n\n"
        "[zones]\nfilename = nets.csv\nmatch_type = CIDR(net)\n\n"
        "[escape]\nfilename = ../outside.csv\n",
        encoding="utf-8",
    )
    return tmp_path


def run(spl: str, folder: Path) -> list[tuple[object, ...]]:
    return search_records(spl, EVENTS, lookups=folder).rows


def test_wildcard_case_insensitive_single_match(folder: Path) -> None:
    rows = run("* | lookup images Image OUTPUT reason | table reason", folder)
    assert rows == [("installer",), ("dev build",), (None,)]


def test_exact_match_is_case_sensitive_and_returns_all_matches_in_file_order(folder: Path) -> None:
    # default max_matches 100: wks1 matches two rows; "WKS1" matches none (case-sensitive)
    rows = run("* | lookup owners host OUTPUT owner AS who | table host who", folder)
    assert rows == [("wks1", ["alice", "bob"]), ("WKS1", None), ("srv", ["carol"])]


def test_output_without_match_leaves_the_field_and_outputnew_keeps_existing(folder: Path) -> None:
    out = run("* | lookup owners host OUTPUT owner | table owner", folder)
    assert out == [(["alice", "bob"],), (None,), (["carol"],)]  # srv matched: "kept" overwritten
    new = run("* | lookup owners host OUTPUTNEW owner | table owner", folder)
    assert new == [(["alice", "bob"],), (None,), (["kept"],)]


def test_cidr_match(folder: Path) -> None:
    rows = run("* | lookup zones net AS ip OUTPUT zone | table ip zone", folder)
    assert rows == [("10.1.2.3", ["corp"]), ("192.168.0.9", None), (None, None)]


def test_allowlist_filter_pattern(folder: Path) -> None:
    """Tuning as data: drop what the allowlist names."""
    rows = run("* | lookup images Image OUTPUT reason | where isnull(reason) | table Image", folder)
    assert rows == [("x.exe",)]


def test_inputlookup_rows_in_file_order(folder: Path) -> None:
    result = search_records("| inputlookup owners.csv", [], lookups=folder)
    assert result.columns == ["host", "owner"]
    assert result.rows == [("wks1", "alice"), ("wks1", "bob"), ("srv", "carol")]


def test_lookup_outside_the_folder_is_refused(folder: Path) -> None:
    with pytest.raises(SplSemanticError, match="outside the lookups folder"):
        run("* | lookup escape host", folder)
    with pytest.raises(SplSemanticError, match="outside the lookups folder"):
        run("| inputlookup ../../etc/passwd", folder)


def test_missing_lookup_is_a_located_error(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["search", "| inputlookup nosuch", "--lookups", str(folder)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error at line 1, column 3: lookup 'nosuch': no file 'nosuch.csv'")
    assert "Traceback" not in err


def test_lookup_without_a_folder_says_how_to_give_one(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["search", "| inputlookup owners"]) == 2
    assert "--lookups DIR" in capsys.readouterr().err
