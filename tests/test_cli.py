"""The command line: ``stagehunt search`` / ``stagehunt hunt`` and their output formats.

JSON/JSONL contract: one object per row, keys in column order, missing = null,
multivalue = array of strings, numbers as JSON numbers. Expected outputs were worked out
by hand from the three events below (newest first, rule 1.4).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from stagehunt import cli
from stagehunt.api import sample_paths

EVENTS: list[dict[str, Any]] = [
    {"_time": 1700000000.0, "host": "a", "user": "alice", "tags": ["tagone", "tagtwo"], "n": "5"},
    {"_time": 1700000001.5, "host": "b", "n": "7"},
    {"_time": 1700000002.0, "host": "a", "user": "bob"},
]

SEED_FIXTURES = Path(__file__).parent / "fixtures" / "seed"


@pytest.fixture
def events_file(tmp_path: Path) -> Path:
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in EVENTS), encoding="utf-8")
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    return json.loads(out)


# ----------------------------------------------------------------------- --format json


def test_json_one_object_per_row_keys_in_column_order(
    events_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = run_json(
        capsys, "search", "host=* | table host user tags n", str(events_file), "--format", "json"
    )
    assert rows == [
        {"host": "a", "user": "bob", "tags": None, "n": None},
        {"host": "b", "user": None, "tags": None, "n": "7"},
        {"host": "a", "user": "alice", "tags": ["tagone", "tagtwo"], "n": "5"},
    ]
    for row in rows:
        assert list(row) == ["host", "user", "tags", "n"]


def test_json_key_order_follows_table_not_alphabet(
    events_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = run_json(capsys, "search", "host=b | table n host", str(events_file), "--format", "json")
    assert [list(r) for r in rows] == [["n", "host"]]


def test_json_multivalue_is_array_of_strings(
    events_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = run_json(
        capsys, "search", "user=alice | table tags", str(events_file), "--format", "json"
    )
    assert rows == [{"tags": ["tagone", "tagtwo"]}]
    assert all(isinstance(v, str) for v in rows[0]["tags"])


def test_json_stats_count_is_a_number(
    events_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = run_json(capsys, "search", "host=* | stats count", str(events_file), "--format", "json")
    assert rows == [{"count": 3}]
    assert isinstance(rows[0]["count"], int)


def test_json_eval_arithmetic_is_a_number_and_null_propagates(
    events_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = run_json(
        capsys,
        "search",
        "host=* | eval m=n*2 | table host m",
        str(events_file),
        "--format",
        "json",
    )
    assert rows == [{"host": "a", "m": None}, {"host": "b", "m": 14}, {"host": "a", "m": 10}]


def test_json_time_is_a_number(events_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = run_json(
        capsys, "search", "host=b | table _time host", str(events_file), "--format", "json"
    )
    assert rows == [{"_time": 1700000001.5, "host": "b"}]


def test_json_no_results_is_empty_list(
    events_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = run_json(capsys, "search", "host=nothere", str(events_file), "--format", "json")
    assert rows == []


def test_json_stats_by_values_and_dc(events_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """stats by host: rows ascending by host (6.5), values() sorted distinct (6.8)."""
    rows = run_json(
        capsys,
        "search",
        "host=* | stats count, values(user) as users, dc(n) as dn by host",
        str(events_file),
        "--format",
        "json",
    )
    assert rows == [
        {"host": "a", "count": 2, "users": ["alice", "bob"], "dn": 1},
        {"host": "b", "count": 1, "users": None, "dn": 1},
    ]


# ----------------------------------------------------------------------- --format jsonl


def test_jsonl_one_object_per_line(events_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys, "search", "host=* | stats count by host", str(events_file), "--format", "jsonl"
    )
    assert code == 0, err
    lines = out.splitlines()
    assert [json.loads(line) for line in lines] == [
        {"host": "a", "count": 2},
        {"host": "b", "count": 1},
    ]
    assert [list(json.loads(line)) for line in lines] == [["host", "count"], ["host", "count"]]


def test_jsonl_missing_is_null_and_multivalue_is_array(
    events_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        capsys, "search", "host=a | table user tags", str(events_file), "--format", "jsonl"
    )
    assert code == 0
    assert [json.loads(line) for line in out.splitlines()] == [
        {"user": "bob", "tags": None},
        {"user": "alice", "tags": ["tagone", "tagtwo"]},
    ]


# ----------------------------------------------------------------------- --format csv


def test_csv_header_and_rows(events_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys, "search", "host=* | table host user n", str(events_file), "--format", "csv"
    )
    assert code == 0, err
    assert out.splitlines()[0] == "host,user,n"
    rows = list(csv.reader(io.StringIO(out)))
    assert rows == [
        ["host", "user", "n"],
        ["a", "bob", ""],
        ["b", "", "7"],
        ["a", "alice", "5"],
    ]


def test_csv_stats_count(events_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "search", "host=* | stats count", str(events_file), "--format", "csv"
    )
    assert code == 0
    assert list(csv.reader(io.StringIO(out))) == [["count"], ["3"]]


def test_csv_multivalue_cell_holds_every_value(
    events_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        capsys, "search", "user=alice | table host tags", str(events_file), "--format", "csv"
    )
    assert code == 0
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["host", "tags"]
    assert len(rows) == 2
    assert rows[1][0] == "a"
    assert "tagone" in rows[1][1]
    assert "tagtwo" in rows[1][1]


# ----------------------------------------------------------------------- --format table


def test_table_shows_multivalue_one_value_per_line(
    events_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        capsys, "search", "user=alice | table host tags", str(events_file), "--format", "table"
    )
    assert code == 0, err
    lines = out.splitlines()
    first = next(i for i, line in enumerate(lines) if "tagone" in line)
    assert "tagtwo" not in lines[first]
    assert "tagtwo" in lines[first + 1]


def test_table_is_the_default_format(events_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "search", "host=* | stats count by host", str(events_file))
    assert code == 0
    assert "host" in out
    assert "count" in out
    body = [line for line in out.splitlines() if "│" in line or "|" in line]
    assert any("a" in line and "2" in line for line in body)


# ----------------------------------------------------------------------- --explain


def test_explain_prints_sql(events_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys, "search", "host=a | stats count by user", str(events_file), "--explain"
    )
    assert code == 0, err
    assert "SELECT" in out.upper()


def test_explain_without_input(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "search", "host=a | eval x=1 | table x", "--explain")
    assert code == 0, err
    assert "SELECT" in out.upper()


def test_explain_of_bad_query_is_a_located_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run(capsys, "search", "host=a | eval x=frob(1)", "--explain")
    assert code == 2
    assert "Traceback" not in err
    assert err.startswith("error at line 1, column 17: ")


# ----------------------------------------------------------------------- input problems


def test_missing_input_file_is_a_clean_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _out, err = run(capsys, "search", "host=*", str(tmp_path / "nope.jsonl"))
    assert code != 0
    assert "Traceback" not in err
    assert err.strip()


# ----------------------------------------------------------------------- hunt


SEED_COLUMNS = [
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


def test_hunt_json_on_bundled_sample(capsys: pytest.CaptureFixture[str]) -> None:
    """``stagehunt hunt`` with no PATH runs the seed on the bundled sample.

    Whatever the sample holds, every row must satisfy what the seed's tail guarantees:
    ``table`` column order with an empty ``_time`` (6.1, 8), the ``where`` filter (3.3,
    3.14), ``DurationSecs``/``IsRapidStaging`` as evaluated, ``sort - EventCount`` (7.1).
    """
    rows = run_json(capsys, "hunt", "--format", "json")
    assert isinstance(rows, list)
    if not sample_paths():  # the sample is shipped separately
        return
    assert rows, "the bundled sample should produce at least one detection"
    counts = [r["EventCount"] for r in rows]
    assert counts == sorted(counts, reverse=True)
    for r in rows:
        assert list(r) == SEED_COLUMNS
        assert r["_time"] is None
        assert isinstance(r["EventCount"], int)
        assert r["EventCount"] >= 5 or "ArchiveCreated" in (r["StagingTypes"] or [])
        assert r["DurationSecs"] == r["LastSeen"] - r["FirstSeen"]
        rapid = r["DurationSecs"] < 300 and r["EventCount"] >= 10
        assert r["IsRapidStaging"] == (1 if rapid else 0)


def test_hunt_json_on_a_file(capsys: pytest.CaptureFixture[str]) -> None:
    case = SEED_FIXTURES / "robocopy_bulk"
    expected = json.loads((case / "expected.json").read_text(encoding="utf-8"))
    rows = run_json(capsys, "hunt", str(case / "events.jsonl"), "--format", "json")
    assert [list(r) for r in rows] == [expected["columns"]] * len(expected["rows"])
    assert [list(r.values()) for r in rows] == expected["rows"]
