"""Readers of Splunk exports: format sniffing, value normalisation, ``_time``, rejects.

Expected values are worked out by hand (epoch seconds from calendar arithmetic:
2024-01-01T00:00:00Z is 1704067200; 2024 is a leap year, so 2024-03-01 is 31 + 29
days later, 1704067200 + 60 * 86400 = 1709251200).
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from stagehunt.ingest.splunk_export import (
    CHUNK_SIZE,
    Record,
    Reject,
    UnsupportedInput,
    iter_records,
    parse_mv,
    parse_time,
    sniff_format,
)

JAN1 = 1704067200.0  # 2024-01-01T00:00:00Z
MAR1_10H = 1709251200.0 + 10 * 3600  # 2024-03-01T10:00:00Z


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8", newline="")
    return path


def read_all(path: Path, **kwargs: int) -> list[Record | Reject]:
    return list(iter_records(path, **kwargs))


def only_records(items: list[Record | Reject]) -> list[Record]:
    assert all(isinstance(item, dict) for item in items), items
    return [item for item in items if isinstance(item, dict)]


# --------------------------------------------------------------------------- sniffing


def test_sniff_recognises_content_not_extension(tmp_path: Path) -> None:
    assert sniff_format(write(tmp_path, "a.csv", '{"a": "1"}\n')) == "jsonl"
    assert sniff_format(write(tmp_path, "b.jsonl", '\ufeff  [{"a": "1"}]')) == "json-array"
    assert sniff_format(write(tmp_path, "c.json", '"_time","host"\n1,h\n')) == "csv"
    assert sniff_format(write(tmp_path, "d.txt", "host\nh1\n")) == "csv"
    assert sniff_format(write(tmp_path, "e", "")) == "jsonl"  # empty: no records
    # pretty-printed object(s), as pyevtx-rs writes them
    assert sniff_format(write(tmp_path, "f.json", '{\n  "a": 1\n}\n{\n  "a": 2\n}\n')) == (
        "json-stream"
    )


@pytest.mark.parametrize(
    "content",
    [
        "Mar  1 10:00:00 host sshd[1]: Accepted password\n",  # a raw log line
        "a\tb\n1\t2\n",  # TSV
    ],
)
def test_sniff_rejects_other_text(tmp_path: Path, content: str) -> None:
    with pytest.raises(UnsupportedInput):
        sniff_format(write(tmp_path, "x", content))


def test_sniff_rejects_binary_and_gzip(tmp_path: Path) -> None:
    gz = tmp_path / "a.json.gz"
    gz.write_bytes(gzip.compress(b'{"a": 1}\n'))
    with pytest.raises(UnsupportedInput, match="gzip"):
        sniff_format(gz)
    binary = tmp_path / "b.bin"
    binary.write_bytes(b"\x00\x01\x02")
    with pytest.raises(UnsupportedInput):
        iter_records(binary)


def test_nul_bytes_after_the_first_json_line_reject_only_their_lines(tmp_path: Path) -> None:
    """A shipper's file cut by a crash can hold a run of NULs: those lines are rejected
    with their number, the lines around them are read. A CSV with a NUL stays refused."""
    path = tmp_path / "cut.json"
    path.write_bytes(b'{"a": "1"}\n{"a": "2\x00"}\n\x00\x00\x00\n{"a": "3"}\n')
    items = read_all(path)
    assert [item["a"] for item in items if isinstance(item, dict)] == ["1", "3"]
    assert [(r.position, r.reason.split(":")[0]) for r in items if isinstance(r, Reject)] == [
        ("line 2", "malformed JSON"),
        ("line 3", "malformed JSON"),
    ]
    table = tmp_path / "cut.csv"
    table.write_bytes(b"a,b\n1,\x002\n")
    with pytest.raises(UnsupportedInput, match="NUL"):
        sniff_format(table)


# --------------------------------------------------------------------------- JSON lines


def test_flat_jsonl_values_become_splunk_strings(tmp_path: Path) -> None:
    event = {
        "int": 11,
        "big": 12345678901234567890,
        "neg": -3,
        "_raw": "copy a b",
        "yes": True,
        "no": False,
        "nothing": None,
        "empty": "",
        "text": "C:\\Temp\\x.zip",
    }
    # Numbers written by hand so their source text is exact.
    line = json.dumps(event)[:-1] + ', "dec": 1.50, "exp": 1e3}\n'
    (record,) = only_records(read_all(write(tmp_path, "a.jsonl", line)))
    assert record == {
        "int": "11",
        "big": "12345678901234567890",
        "neg": "-3",
        "_raw": "copy a b",
        "yes": "true",
        "no": "false",
        "text": "C:\\Temp\\x.zip",
        "dec": "1.50",
        "exp": "1e3",
    }
    assert all(type(value) is str for value in record.values())


def test_arrays_become_lists_of_strings(tmp_path: Path) -> None:
    line = json.dumps(
        {
            "mv": ["a", 2, True, None, "b"],
            "one": ["only"],
            "none": [],
            "all_null": [None, None],
            "nested": [{"k": 1}, [1, "x"], "plain"],
        }
    )
    (record,) = only_records(read_all(write(tmp_path, "a.jsonl", line + "\n")))
    assert record == {
        "mv": ["a", "2", "true", "b"],
        "one": ["only"],
        "nested": ['{"k":1}', '[1,"x"]', "plain"],
    }


def test_nested_objects_flatten_to_dotted_names(tmp_path: Path) -> None:
    line = '{"a": {"b": 1, "c": {"d": "x", "e": null}}, "f": {}, "g": {"h": [1, 2]}}\n'
    (record,) = only_records(read_all(write(tmp_path, "a.jsonl", line)))
    assert record == {"a.b": "1", "a.c.d": "x", "g.h": ["1", "2"]}


def test_same_name_from_flat_and_nested_merges_into_multivalue(tmp_path: Path) -> None:
    line = '{"a.b": "x", "a": {"b": "y"}}\n'
    (record,) = only_records(read_all(write(tmp_path, "a.jsonl", line)))
    assert record == {"a.b": ["x", "y"]}


def test_splunk_wrapper_lines_unwrap_and_metadata_lines_are_skipped(tmp_path: Path) -> None:
    lines = [
        {"preview": False, "offset": 0, "result": {"host": "h1", "count": "3"}},
        {"messages": [{"type": "INFO", "text": "Your timerange was substituted"}]},
        {"preview": False, "offset": 1, "lastrow": True, "result": {"host": "h2"}},
        {"preview": False, "lastrow": True},
        {"host": "h3", "result": {"ok": "yes"}},  # a flat event with a nested field
    ]
    path = write(tmp_path, "a.jsonl", "\n".join(json.dumps(x) for x in lines) + "\n")
    assert only_records(read_all(path)) == [
        {"host": "h1", "count": "3"},
        {"host": "h2"},
        {"host": "h3", "result.ok": "yes"},
    ]


def test_malformed_line_is_rejected_with_its_line_number_and_reading_goes_on(
    tmp_path: Path,
) -> None:
    text = '{"n": "1"}\n\n{"n": 2\n[1, 2]\n"text"\n{"n": "6"}\n'
    path = write(tmp_path, "a.jsonl", text)
    items = read_all(path)
    assert items[0] == {"n": "1"}
    assert items[-1] == {"n": "6"}
    rejects = items[1:-1]
    assert [(r.path, r.position) for r in rejects if isinstance(r, Reject)] == [
        (str(path), "line 3"),
        (str(path), "line 4"),
        (str(path), "line 5"),
    ]
    assert isinstance(rejects[0], Reject)
    assert rejects[0].reason.startswith("malformed JSON: ")
    assert isinstance(rejects[1], Reject)
    assert "not a JSON object" in rejects[1].reason


def test_invalid_utf8_and_lone_surrogates_are_rejected(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_bytes(b'{"a": "ok"}\n{"a": "\xff"}\n{"a": "\\ud800"}\n{"a": "\\ud83d\\ude00"}\n')
    items = read_all(path)
    assert items[0] == {"a": "ok"}
    assert items[3] == {"a": "\U0001f600"}  # a valid surrogate pair is one character
    assert [(r.position, r.reason[:13]) for r in items[1:3] if isinstance(r, Reject)] == [
        ("line 2", "invalid UTF-8"),
        ("line 3", "invalid Unico"),
    ]


# --------------------------------------------------------------------------- _time


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-01-01T00:00:00Z", JAN1),
        ("2024-01-01T01:00:00+01:00", JAN1),
        ("2023-12-31T19:00:00-05:00", JAN1),
        ("2024-01-01T00:00:00", JAN1),  # naive = UTC
        ("2024-01-01T00:00:00.250+0000", JAN1 + 0.25),
        ("2024-03-01T10:00:00.000+00:00", MAR1_10H),  # Splunk export
        ("2024-03-01 10:00:00.000 UTC", MAR1_10H),  # Splunk UI style
        ("2024-03-01 10:00:00", MAR1_10H),
        ("2024-03-01T11:30:00 +01:30", MAR1_10H),
        ("1704067200", JAN1),
        ("1704067200.5", JAN1 + 0.5),
        (" 1704067200 ", JAN1),
    ],
)
def test_parse_time_forms(value: str, expected: float) -> None:
    assert parse_time(value) == expected


@pytest.mark.parametrize("value", ["xyz", "", "nan", "inf", "2024-13-01T00:00:00Z", "12:00"])
def test_parse_time_refuses_non_times(value: str) -> None:
    assert parse_time(value) is None


def test_time_in_records_numbers_strings_and_rejects(tmp_path: Path) -> None:
    text = (
        '{"_time": 1704067200}\n'
        '{"_time": 1704067200.75}\n'
        '{"_time": "2024-01-01T01:00:00+01:00"}\n'
        '{"host": "no time"}\n'
        '{"_time": "xyz"}\n'
        '{"_time": ["1", "2"]}\n'
    )
    path = write(tmp_path, "a.jsonl", text)
    items = read_all(path)
    assert items[:4] == [
        {"_time": JAN1},
        {"_time": JAN1 + 0.75},
        {"_time": JAN1},
        {"host": "no time"},
    ]
    assert items[4] == Reject(str(path), "line 5", "unparsable _time 'xyz'")
    assert isinstance(items[5], Reject)
    assert items[5].reason == "unparsable _time ['1', '2']"
    first = items[0]
    assert isinstance(first, dict)
    assert isinstance(first["_time"], float)


# --------------------------------------------------------------------------- JSON array


def test_json_array_small_chunks_give_same_records(tmp_path: Path) -> None:
    events = [
        {"_time": f"2024-01-01T00:00:{i:02d}Z", "n": i, "x": 1.5, "mv": ["a", i]} for i in range(40)
    ]
    path = write(tmp_path, "a.json", json.dumps(events, indent=2))
    expected = [
        {"_time": JAN1 + i, "n": str(i), "x": "1.5", "mv": ["a", str(i)]} for i in range(40)
    ]
    for chunk in (1, 2, 3, 7, 64, 10_000):
        assert read_all(path, chunk_size=chunk) == expected


def test_json_array_larger_than_the_chunk_size(tmp_path: Path) -> None:
    n = 12_000
    events = [{"i": i, "_raw": "r" * 100} for i in range(n)]
    path = write(tmp_path, "big.json", json.dumps(events))
    assert path.stat().st_size > CHUNK_SIZE  # really spans several chunks
    records = only_records(read_all(path))
    assert len(records) == n
    assert [r["i"] for r in records] == [str(i) for i in range(n)]
    assert records[-1] == {"i": str(n - 1), "_raw": "r" * 100}


def test_json_array_with_one_record_larger_than_the_chunk(tmp_path: Path) -> None:
    path = write(tmp_path, "a.json", json.dumps([{"a": "x" * 5000}, {"b": 1}]))
    assert read_all(path, chunk_size=100) == [{"a": "x" * 5000}, {"b": "1"}]


def test_json_array_empty_and_wrapped(tmp_path: Path) -> None:
    assert read_all(write(tmp_path, "a.json", " [ ] \n")) == []
    wrapped = [{"preview": False, "result": {"a": "1"}}, {"preview": False, "lastrow": True}]
    assert read_all(write(tmp_path, "b.json", json.dumps(wrapped))) == [{"a": "1"}]


def test_json_array_problems_are_rejects(tmp_path: Path) -> None:
    path = write(tmp_path, "a.json", '[{"a": 1}, 5, {"b": 2} {"c": 3}]')
    items = read_all(path, chunk_size=4)
    assert items[0] == {"a": "1"}
    assert isinstance(items[1], Reject)
    assert (items[1].position, items[1].reason) == ("record 2", "not a JSON object but a number")
    assert items[2] == {"b": "2"}
    assert isinstance(items[3], Reject)
    assert items[3].position == "after record 3"
    assert "rest of file not read" in items[3].reason
    assert len(items) == 4


def test_truncated_json_array_ends_with_a_reject(tmp_path: Path) -> None:
    path = write(tmp_path, "a.json", '[{"a": 1}, {"b": "unfinished')
    items = read_all(path, chunk_size=5)
    assert items[0] == {"a": "1"}
    assert isinstance(items[1], Reject)
    assert items[1].position == "record 2"
    assert items[1].reason.startswith("malformed JSON")
    assert len(items) == 2


def test_json_array_trailing_data_is_reported(tmp_path: Path) -> None:
    items = read_all(write(tmp_path, "a.json", '[{"a": 1}] junk'))
    assert items[0] == {"a": "1"}
    assert isinstance(items[1], Reject)
    assert items[1].position == "after record 1"


# --------------------------------------------------------------------------- CSV


def test_parse_mv_encoding() -> None:
    assert parse_mv("$a$;$b$") == ["a", "b"]
    assert parse_mv("$one$") == ["one"]
    assert parse_mv("$US$$5$;$$$$") == ["US$5", "$"]
    assert parse_mv("$$;$x$") == ["", "x"]
    assert parse_mv("$a;b$") == ["a;b"]
    assert parse_mv("a") is None
    assert parse_mv("$a$b$") is None
    assert parse_mv("$a") is None


def test_csv_with_multivalue_columns(tmp_path: Path) -> None:
    text = (
        '"_time","host","user","__mv_user","_raw","__mv_only_mv"\n'
        '"2024-03-01T10:00:00.000+00:00","h1","a\nb$","$a$;$b$$$","x, y",""\n'
        '"1704067200","h2","solo","","",""\n'
        '"","","","","","$p$;$q$"\n'
    )
    path = write(tmp_path, "export.csv", text)
    assert read_all(path) == [
        {"_time": MAR1_10H, "host": "h1", "user": ["a", "b$"], "_raw": "x, y"},
        {"_time": JAN1, "host": "h2", "user": "solo"},
        {"only_mv": ["p", "q"]},
    ]


def test_csv_rejects_carry_the_starting_line(tmp_path: Path) -> None:
    text = (
        "host,_raw,__mv_host\n"
        'h1,"two\nlines",\n'  # lines 2-3
        "h2,short\n"  # line 4: two values, header has three
        "h3,ok,$bad\n"  # line 5
        "h4,late,\n"  # line 6
        ",,\n"  # line 7: a record without fields
    )
    path = write(tmp_path, "a.csv", text)
    items = read_all(path)
    assert items[0] == {"host": "h1", "_raw": "two\nlines"}
    assert items[1] == Reject(str(path), "line 4", "2 values but the header has 3")
    assert items[2] == Reject(str(path), "line 5", "malformed __mv_host value '$bad'")
    assert items[3] == {"host": "h4", "_raw": "late"}
    assert items[4] == {}
    assert len(items) == 5


def test_csv_unparsable_time_and_bom(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", "\ufeff_time,host\nxyz,h\n")
    assert read_all(path) == [Reject(str(path), "line 2", "unparsable _time 'xyz'")]


def test_csv_duplicate_header_is_unsupported(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", "host,host\n1,2\n")
    with pytest.raises(UnsupportedInput, match="duplicate"):
        read_all(path)


def test_missing_file_raises_oserror(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        iter_records(tmp_path / "nope.jsonl")
