"""The DuckDB event store: schema on read, multivalue promotion, case-sensitive fields."""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stagehunt.ingest.splunk_export import Reject
from stagehunt.store.event_store import EventStore, LoadReport, quote_identifier
from stagehunt.store.schema import EVENTS_TABLE, SEQ_COLUMN, ColumnKind

JAN1 = 1704067200.0  # 2024-01-01T00:00:00Z
S, M, N = ColumnKind.STRING, ColumnKind.MULTI, ColumnKind.NUMBER


def jsonl(path: Path, *events: dict[str, Any]) -> Path:
    path.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    return path


def rows(store: EventStore, *fields: str) -> list[tuple[Any, ...]]:
    """Values of ``fields`` (by field name) in insertion order, with ``__seq`` first."""
    cols = ", ".join(quote_identifier(store.column_for(f)) for f in fields)
    sql = f"SELECT {SEQ_COLUMN}, {cols} FROM {EVENTS_TABLE} ORDER BY {SEQ_COLUMN}"
    return store.connection.execute(sql).fetchall()


def column_types(store: EventStore) -> dict[str, str]:
    described = store.connection.execute(f"DESCRIBE {EVENTS_TABLE}").fetchall()
    return {str(r[0]): str(r[1]) for r in described}


def assert_balanced(report: LoadReport) -> None:
    assert report.records_read == report.stored + len(report.rejects)


@pytest.fixture
def store() -> Iterator[EventStore]:
    with EventStore() as s:
        yield s


def test_empty_store_has_no_schema(store: EventStore) -> None:
    assert store.schema() == {}


def test_jsonl_load_stores_strings_time_and_order(store: EventStore, tmp_path: Path) -> None:
    path = jsonl(
        tmp_path / "a.jsonl",
        {"_time": "2024-01-01T00:00:00Z", "host": "h1", "bytes": 11},
        {"host": "h2", "_raw": "no time here"},
        {"_time": 1704067260.5, "host": "h3"},
    )
    report = store.load([path])
    assert (report.files, report.records_read, report.stored) == (1, 3, 3)
    assert report.rejects == [] and report.errors == []
    assert report.elapsed >= 0.0
    assert store.schema() == {"_time": N, "host": S, "bytes": S, "_raw": S}
    assert column_types(store) == {
        "__seq": "BIGINT",
        "__src": "VARCHAR",
        "__rid": "VARCHAR",
        "_time": "DOUBLE",
        "host": "VARCHAR",
        "bytes": "VARCHAR",
        "_raw": "VARCHAR",
    }
    assert rows(store, "_time", "host", "bytes", "_raw") == [
        (0, JAN1, "h1", "11", None),
        (1, None, "h2", None, "no time here"),
        (2, JAN1 + 60.5, "h3", None, None),
    ]


def test_all_three_formats_load_alike(store: EventStore, tmp_path: Path) -> None:
    lines = tmp_path / "a.jsonl"
    lines.write_text(
        '{"preview": false, "offset": 0, "result": {"host": "h1", "tag": ["x", "y"]}}\n'
        '{"preview": false, "lastrow": true}\n'
    )
    array = tmp_path / "b.json"
    array.write_text('[{"host": "h2", "tag": ["z"]}]')
    table = tmp_path / "c.csv"
    table.write_text('"host","tag","__mv_tag"\n"h3","p\nq","$p$;$q$"\n"h4","r",""\n')
    report = store.load([lines, array, table])
    assert_balanced(report)
    assert (report.files, report.stored) == (3, 4)
    assert store.schema() == {"_time": N, "host": S, "tag": M}
    assert rows(store, "host", "tag") == [
        (0, "h1", ["x", "y"]),
        (1, "h2", ["z"]),
        (2, "h3", ["p", "q"]),
        (3, "h4", ["r"]),  # a scalar in a multivalue column is a one-element list
    ]


def test_schema_widens_across_files(store: EventStore, tmp_path: Path) -> None:
    first = jsonl(tmp_path / "1.jsonl", {"a": "1", "b": "2"})
    second = jsonl(tmp_path / "2.jsonl", {"c": "3", "a": "4"}, {"d": {"e": "5"}})
    report = store.load([first, second])
    assert_balanced(report)
    assert list(store.schema()) == ["_time", "a", "b", "c", "d.e"]
    assert rows(store, "a", "b", "c", "d.e") == [
        (0, "1", "2", None, None),
        (1, "4", None, "3", None),
        (2, None, None, None, "5"),
    ]


@pytest.mark.parametrize("batch_size", [1, 2, 1000])
def test_scalar_field_is_promoted_to_multivalue(tmp_path: Path, batch_size: int) -> None:
    path = jsonl(
        tmp_path / "a.jsonl",
        {"tag": "first"},
        {"other": "x"},
        {"tag": ["a", "b"]},
        {"tag": "last"},
    )
    with EventStore(batch_size=batch_size) as store:
        report = store.load([path])
        assert_balanced(report)
        assert store.schema() == {"_time": N, "tag": M, "other": S}
        assert column_types(store)["tag"] == "VARCHAR[]"
        assert rows(store, "tag") == [(0, ["first"]), (1, None), (2, ["a", "b"]), (3, ["last"])]


def test_promotion_across_loads(store: EventStore, tmp_path: Path) -> None:
    store.load([jsonl(tmp_path / "1.jsonl", {"f": "one"}, {"g": "x"})])
    assert store.schema()["f"] is S
    store.load([jsonl(tmp_path / "2.jsonl", {"f": ["two", "three"]})])
    assert store.schema()["f"] is M
    assert list(store.schema()) == ["_time", "f", "g"]  # promotion keeps the position
    assert rows(store, "f") == [(0, ["one"]), (1, None), (2, ["two", "three"])]


def test_field_names_are_case_sensitive(store: EventStore, tmp_path: Path) -> None:
    path = jsonl(
        tmp_path / "a.jsonl",
        {"user": "alice", "User": "CORP\\alice"},
        {"USER": "ALICE"},
        {"user": "bob"},
    )
    report = store.load([path])
    assert_balanced(report)
    assert store.schema() == {"_time": N, "user": S, "User": S, "USER": S}
    columns = [store.column_for(f) for f in ("user", "User", "USER")]
    assert columns[0] == "user"  # the first one seen keeps its name
    assert len({c.casefold() for c in columns}) == 3  # DuckDB folds case: all must differ
    assert rows(store, "user", "User", "USER") == [
        (0, "alice", "CORP\\alice", None),
        (1, None, None, "ALICE"),
        (2, "bob", None, None),
    ]
    with pytest.raises(KeyError):
        store.column_for("uSeR")


def test_unusual_field_names_get_safe_columns(store: EventStore, tmp_path: Path) -> None:
    path = jsonl(
        tmp_path / "a.jsonl",
        {"__seq": "spoof", 'a"b': "quote", "with space": "s", "_TIME": "shadow", "": "e"},
    )
    store.load([path])
    assert list(store.schema()) == ["_time", "__seq", 'a"b', "with space", "_TIME", ""]
    assert store.column_for("__seq") != SEQ_COLUMN
    assert not store.column_for("__seq").startswith("__")  # hidden prefix stays internal
    assert store.column_for("_TIME").casefold() != "_time"
    assert rows(store, "__seq", 'a"b', "with space", "_TIME", "") == [
        (0, "spoof", "quote", "s", "shadow", "e")
    ]


def test_values_are_never_pasted_into_sql(store: EventStore, tmp_path: Path) -> None:
    nasty = "x'); DROP TABLE events; --\"'"
    store.load([jsonl(tmp_path / "a.jsonl", {"v": nasty, nasty: "name"})])
    assert rows(store, "v", nasty) == [(0, nasty, "name")]


def test_loading_twice_keeps_increasing_seq(store: EventStore, tmp_path: Path) -> None:
    store.load([jsonl(tmp_path / "a.jsonl", {"n": "1"}, {"n": "2"})])
    store.load([jsonl(tmp_path / "b.jsonl", {"n": "3"}, {"n": "4"})])
    assert rows(store, "n") == [(0, "1"), (1, "2"), (2, "3"), (3, "4")]


def test_rejects_are_counted_with_positions(store: EventStore, tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text('{"n": "1"}\n{"n": \n{"_time": "xyz"}\n{"n": "4"}\n')
    report = store.load([path])
    assert (report.records_read, report.stored) == (4, 2)
    assert report.rejects[0].position == "line 2"
    assert report.rejects[0].reason.startswith("malformed JSON")
    assert report.rejects[1] == Reject(str(path), "line 3", "unparsable _time 'xyz'")
    assert rows(store, "n") == [(0, "1"), (1, "4")]


def test_unreadable_files_are_reported_and_others_load(store: EventStore, tmp_path: Path) -> None:
    good = jsonl(tmp_path / "good.jsonl", {"n": "1"})
    missing = tmp_path / "missing.jsonl"
    directory = tmp_path / "dir"
    directory.mkdir()
    text = tmp_path / "notes.txt"
    text.write_text("Mar  1 10:00:00 host sshd[1]: Accepted password\n")
    report = store.load([missing, directory, text, good])  # an empty folder holds nothing
    assert report.files == 1
    assert report.stored == 1
    assert len(report.errors) == 2
    assert report.errors[0].startswith(f"{missing}: ")
    assert "No such file" in report.errors[0]
    assert report.errors[1].startswith(f"{text}: unsupported content")
    assert_balanced(report)


@pytest.mark.skipif(
    os.geteuid() == 0 if hasattr(os, "geteuid") else True,
    reason="as root no file mode makes a file unreadable; "
    "test_permission_error_mid_load_is_reported covers the path",
)
def test_permission_denied_is_reported(store: EventStore, tmp_path: Path) -> None:
    locked = jsonl(tmp_path / "locked.jsonl", {"n": "1"})
    locked.chmod(0)
    try:
        report = store.load([locked])
    finally:
        locked.chmod(0o600)
    assert report.files == 0
    assert report.errors == [f"{locked}: cannot read: Permission denied"]


def test_permission_error_mid_load_is_reported(
    store: EventStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Root reads any file, so a refused open is simulated to test it everywhere."""
    locked = jsonl(tmp_path / "locked.jsonl", {"n": "1"})
    good = jsonl(tmp_path / "good.jsonl", {"n": "2"})
    real_open = Path.open

    def refusing_open(self: Path, *args: Any, **kwargs: Any) -> Any:
        if self == locked:
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", refusing_open)
    report = store.load([locked, good])
    assert report.errors == [f"{locked}: cannot read: Permission denied"]
    assert (report.files, report.stored) == (1, 1)


def test_batches_span_files_and_keep_order(tmp_path: Path) -> None:
    paths = [
        jsonl(tmp_path / f"{i}.jsonl", *({"n": f"{i}-{j}"} for j in range(5))) for i in range(3)
    ]
    with EventStore(batch_size=4) as store:
        report = store.load(paths)
        assert (report.files, report.stored) == (3, 15)
        got = rows(store, "n")
    assert got == [(k, f"{k // 5}-{k % 5}") for k in range(15)]


def test_temporary_store_is_removed_on_close(tmp_path: Path) -> None:
    store = EventStore()
    store.load([jsonl(tmp_path / "a.jsonl", {"n": "1"})])
    files = store.connection.execute("SELECT path FROM duckdb_databases() WHERE path IS NOT NULL")
    (db_path,) = (Path(r[0]) for r in files.fetchall())
    assert db_path.exists()
    store.close()
    assert not db_path.parent.exists()
    with pytest.raises(RuntimeError):
        _ = store.connection


def test_store_on_disk_reopens_with_mapping_and_seq(tmp_path: Path) -> None:
    db = tmp_path / "events.duckdb"
    with EventStore(db) as store:
        store.load([jsonl(tmp_path / "1.jsonl", {"user": "a", "User": "B", "tag": ["x"]})])
        user_column = store.column_for("User")
    with EventStore(db) as store:
        assert store.schema() == {"_time": N, "user": S, "User": S, "tag": M}
        assert store.column_for("User") == user_column
        store.load([jsonl(tmp_path / "2.jsonl", {"User": "C", "USER": "D"})])
        assert rows(store, "user", "User", "USER", "tag") == [
            (0, "a", "B", None, ["x"]),
            (1, None, "C", "D", None),
        ]
    assert db.exists()
