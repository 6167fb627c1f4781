"""`lookup` and `inputlookup` over CSV files in a lookups folder (issue 4 item 3).

Splunk's rules (transforms.conf, lookup command): exact, case-sensitive matching unless
`case_sensitive_match = false`; `WILDCARD(f)` and `CIDR(f)` match types; up to
`max_matches` rows (default 100) in file order; OUTPUT writes only where a row matched,
OUTPUTNEW only fields the event lacks. Expected values are worked out from those rules.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from stagehunt import cli
from stagehunt.api import search_records
from stagehunt.lookups import LookupLibrary
from stagehunt.lookups.library import LookupError_, LookupMissing
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


# ------------------------------------------- min_matches / default_match (transforms.conf)
# transforms.conf: "If min_matches > 0 and Splunk software has less than min_matches for any
# given input, it provides this default_match value one or more times until the
# min_matches threshold is reached." Choices for what the spec leaves open:
# semantics.LOOKUP_DEFAULT_NEEDS_INPUT, semantics.LOOKUP_EMPTY_DEFAULT_WRITES_NOTHING.

DNS = [
    {"_time": 4, "query": "cdn.EVIL.com", "src": "10.1.2.3"},
    {"_time": 3, "query": "good.net", "src": "192.168.0.9", "isIOC": "old"},
    {"_time": 2, "src": "10.9.9.9"},
    {"_time": 1, "query": "bad.org", "src": "8.8.8.8"},
]


@pytest.fixture
def defaults(tmp_path: Path) -> Path:
    (tmp_path / "ioc.csv").write_text(
        "domain,isIOC,family\n*.evil.com,true,x\nbad.org,true,\nbad.org,maybe,y\n",
        encoding="utf-8",
    )
    (tmp_path / "nets.csv").write_text("net,zone\n10.0.0.0/8,corp\n", encoding="utf-8")
    (tmp_path / "transforms.conf").write_text(
        "[ioc]\nfilename = ioc.csv\nmatch_type = WILDCARD(domain)\n"
        "case_sensitive_match = false\nmin_matches = 1\ndefault_match = false\n\n"
        "[ioc3]\nfilename = ioc.csv\nmatch_type = WILDCARD(domain)\nmin_matches = 3\n"
        "default_match = none\n\n"
        "[ioc_one]\nfilename = ioc.csv\nmatch_type = WILDCARD(domain)\nmax_matches = 1\n"
        "min_matches = 1\ndefault_match = false\n\n"
        "[ioc_empty_default]\nfilename = ioc.csv\nmatch_type = WILDCARD(domain)\n"
        "min_matches = 1\n\n"
        "[zones]\nfilename = nets.csv\nmatch_type = CIDR(net)\nmin_matches = 1\n"
        "default_match = external\n",
        encoding="utf-8",
    )
    return tmp_path


def run_dns(spl: str, folder: Path) -> list[tuple[object, ...]]:
    return search_records(spl, DNS, lookups=folder).rows


def test_min_matches_no_match_gives_default_match(defaults: Path) -> None:
    # cdn.EVIL.com matches *.evil.com (WILDCARD, case-insensitive): ["true"]; good.net
    # matches nothing: 0 < min_matches 1, so one default "false" (written over "old" as a
    # match would be); the event without `query` is not looked up: no default;
    # bad.org matches two rows: both values (max_matches 100), no default.
    rows = run_dns("* | lookup ioc domain AS query OUTPUT isIOC | table query isIOC", defaults)
    assert rows == [
        ("cdn.EVIL.com", ["true"]),
        ("good.net", ["false"]),
        (None, None),
        ("bad.org", ["true", "maybe"]),
    ]


def test_min_matches_default_is_the_filter_escu_relies_on(defaults: Path) -> None:
    # ESCU's `lookup ... OUTPUT isIOC | search isIOC=false` keeps the unmatched inputs
    rows = run_dns(
        "* | lookup ioc domain AS query OUTPUT isIOC | search isIOC=false | table query", defaults
    )
    assert rows == [("good.net",)]


def test_min_matches_pads_each_output_up_to_the_minimum(defaults: Path) -> None:
    # min_matches 3, default "none", case-sensitive: cdn.EVIL.com matches nothing ->
    # three defaults; bad.org matches 2 rows -> its 2 values (an empty cell gives none:
    # family of row 2 is empty) + one default.
    rows = run_dns(
        "* | lookup ioc3 domain AS query OUTPUT isIOC family | table query isIOC family",
        defaults,
    )
    assert rows == [
        ("cdn.EVIL.com", ["none", "none", "none"], ["none", "none", "none"]),
        ("good.net", ["none", "none", "none"], ["none", "none", "none"]),
        (None, None, None),
        ("bad.org", ["true", "maybe", "none"], ["y", "none"]),
    ]


def test_min_matches_with_max_matches_one_is_a_single_value(defaults: Path) -> None:
    # max_matches 1: first match in file order, one value; no match: the default
    rows = run_dns("* | lookup ioc_one domain AS query OUTPUT isIOC | table isIOC", defaults)
    assert rows == [("false",), ("false",), (None,), ("true",)]  # case-sensitive: EVIL != evil


def test_outputnew_keeps_an_existing_field_over_the_default(defaults: Path) -> None:
    # "old" stays; it shows as a list of one, as every value of a field a lookup may
    # write several values into (see test_output_without_match_leaves_the_field...)
    rows = run_dns("* | lookup ioc domain AS query OUTPUTNEW isIOC | table isIOC", defaults)
    assert rows == [(["true"],), (["old"],), (None,), (["true", "maybe"],)]


def test_empty_default_match_writes_nothing(defaults: Path) -> None:
    # no default_match (transforms.conf default: empty): nothing written, "old" stays
    rows = run_dns(
        "* | lookup ioc_empty_default domain AS query OUTPUT isIOC | table isIOC", defaults
    )
    assert rows == [(None,), (["old"],), (None,), (["true", "maybe"],)]


def test_cidr_with_default_match(defaults: Path) -> None:
    rows = run_dns("* | lookup zones net AS src OUTPUT zone | table src zone", defaults)
    assert rows == [
        ("10.1.2.3", ["corp"]),
        ("192.168.0.9", ["external"]),
        ("10.9.9.9", ["corp"]),
        ("8.8.8.8", ["external"]),
    ]


def test_definitions_given_as_data_win_over_transforms_conf(defaults: Path) -> None:
    library = LookupLibrary(
        defaults, {"ioc": {"filename": "ioc.csv", "match_type": "WILDCARD(domain)"}}
    )
    table = library.get("ioc")
    assert (table.min_matches, table.case_sensitive) == (0, True)
    assert library.get("zones").default_match == "external"  # transforms.conf still read


def test_kv_store_collection_is_an_empty_table_with_its_fields(tmp_path: Path) -> None:
    library = LookupLibrary(
        tmp_path, {"seen": {"collection": "seen_c", "fields_list": "_key, user, n, user"}}
    )
    table = library.get("seen")
    assert table.columns == ("_key", "user", "n")
    assert table.data.num_rows == 0
    assert table.note is not None and "KV store collection 'seen_c'" in table.note


def test_missing_file_of_a_definition_is_lookup_missing(tmp_path: Path) -> None:
    library = LookupLibrary(tmp_path, {"dyn": {"filename": "dyn.csv"}})
    with pytest.raises(LookupMissing, match=r"no file 'dyn\.csv'"):
        library.get("dyn")
    with pytest.raises(LookupMissing, match="no definition names it"):
        library.get("other")


def test_a_view_lists_only_its_own_tables_and_shares_loaded_ones(defaults: Path) -> None:
    library = LookupLibrary(defaults)
    first, second = library.view(), library.view()
    table = first.get("ioc")
    assert second.loaded() == []
    assert second.get("ioc") is table
    assert [t.name for t in first.loaded()] == ["ioc"]


def test_transforms_conf_that_is_not_utf8_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by fuzz/fuzz_conf.py: a UnicodeDecodeError traceback from `--lookups`."""
    (tmp_path / "transforms.conf").write_bytes(b"\x80")
    assert cli.main(["search", "| makeresults", "--lookups", str(tmp_path)]) == 2
    assert capsys.readouterr().err == (
        f"error: {tmp_path / 'transforms.conf'}: not UTF-8 text (byte 0: invalid start byte)\n"
    )


def test_lookup_name_with_a_nul_byte_is_a_lookup_error(folder: Path) -> None:
    """Found by fuzz/fuzz_lookup_paths.py: a NUL byte reached the file system's
    ValueError ("embedded null byte") instead of the lookup's own error."""
    with pytest.raises(SplSemanticError) as caught:
        run('| inputlookup "a\x00b"', folder)
    assert caught.value.message == "lookup 'a\x00b': 'a\x00b.csv' holds a NUL byte"
    with pytest.raises(LookupError_) as written:
        LookupLibrary(folder).output_path("a\x00b")
    assert str(written.value) == (
        "outputlookup 'a\x00b': 'a\x00b.csv' must be a file name inside the lookups folder"
    )


def test_a_lookup_loads_to_the_same_table_in_every_process(tmp_path: Path) -> None:
    """Match columns (WILDCARD, CIDR) are added in the lookup's column order, whatever
    order the stanza names them in and whatever Python's string hashing (which orders a
    frozenset) is in a process: the same file loads to the same table and fingerprint,
    which a kept ESCU statement is checked against (escu/cache.py)."""
    import subprocess
    import sys

    (tmp_path / "nets.csv").write_text("src,name,net,zone\na*,x,10.0.0.0/8,z\n", "utf-8")
    (tmp_path / "transforms.conf").write_text(
        "[nets]\nfilename = nets.csv\n"
        "match_type = WILDCARD(name), CIDR(net), WILDCARD(zone), WILDCARD(src)\n",
        "utf-8",
    )
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from stagehunt.lookups import LookupLibrary\n"
        "t = LookupLibrary(Path(sys.argv[1])).get('nets')\n"
        "print(t.data.column_names, t.fingerprint)\n"
    )
    seen = set()
    for seed in range(8):
        out = subprocess.run(
            [sys.executable, "-c", code, str(tmp_path)],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
        ).stdout
        seen.add(out)
    (line,) = seen
    # the CSV's columns, the row number, then src, name, zone's patterns (0, 1, 3) and
    # net's network and mask (2)
    names = ["src", "name", "net", "zone", "__row", "__pat_0", "__pat_1", "__pat_3"]
    assert line.startswith(repr([*names, "__net_2", "__mask_2"]))
