"""The store's atomic units: a source's records and its catalog row commit together,
a caller's rows join that transaction, and a busy store file is one clear error."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest

from stagehunt.store.event_store import EventStore, StoreBusy
from watchdata import held


def _jsonl(path: Path, n: int) -> Path:
    path.write_text("".join(json.dumps({"n": str(i)}) + "\n" for i in range(n)))
    return path


def _count(store: EventStore) -> int:
    return int(store.connection.execute("SELECT count(*) FROM events").fetchall()[0][0])


def test_a_source_split_over_batches_is_stored_whole_or_not_at_all(tmp_path: Path) -> None:
    # batch_size 4, commit_rows 4: 10 records take 3 inserts and 3 commits; the first two
    # commit without the source's catalog row, as they would before a crash in the third
    src = _jsonl(tmp_path / "ten.jsonl", 10)
    with EventStore(tmp_path / "s.duckdb", batch_size=4, commit_rows=4) as store:
        store.load([src])
        store.connection.execute("DELETE FROM __sources")  # as if killed before the last batch
        store.connection.execute("DELETE FROM events WHERE __seq >= 8")
        assert _count(store) == 8
        report = store.load([src])  # the unfinished 8 go, the file is read again
        assert report.stored == 10
        assert _count(store) == 10
        values = store.connection.execute("SELECT n FROM events ORDER BY __seq").fetchall()
        assert [v[0] for v in values] == [str(i) for i in range(10)]


def test_rows_of_a_failed_transaction_leave_nothing(tmp_path: Path) -> None:
    with EventStore(tmp_path / "s.duckdb") as store:
        with pytest.raises(RuntimeError), store.transaction() as con:
            store.append([{"a": "1"}, {"a": "2"}], "origin-1", "x", "jsonl")
            con.execute("CREATE TABLE mine (v INTEGER)")
            raise RuntimeError("killed")
        assert _count(store) == 0
        assert store.sources() == {}
        assert "a" not in store.schema()
        with store.transaction():
            store.append([{"a": "3"}], "origin-2", "x", "jsonl")
        assert store.sources() == {"origin-2": 1}
        assert store.connection.execute("SELECT a FROM events").fetchall() == [("3",)]


def test_a_store_another_process_holds_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "held.duckdb"
    with held(path) as pid:
        with pytest.raises(StoreBusy) as caught:
            EventStore(path)
        assert caught.value.strerror == (
            f"the store is in use by process {pid} (one writer at a time)"
        )
        assert caught.value.filename == str(path)


def test_a_store_in_a_missing_folder_or_not_a_store_is_one_line(tmp_path: Path) -> None:
    """Not a query failure: the path named, and why it cannot be opened (no traceback)."""
    with pytest.raises(FileNotFoundError, match="folder does not exist") as missing:
        EventStore(tmp_path / "no-such-folder" / "case.duckdb")
    assert missing.value.filename == str(tmp_path / "no-such-folder" / "case.duckdb")
    text = tmp_path / "notes.duckdb"
    text.write_text("not a database\n", encoding="utf-8")
    with pytest.raises(OSError, match="cannot open the store") as wrong:
        EventStore(text)
    assert wrong.value.filename == str(text)
    assert text.read_text(encoding="utf-8") == "not a database\n"  # left as it was


def test_a_load_commits_every_commit_rows_records_and_a_failure_rolls_back_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batches of 4 records, a commit once 8 are held: the third file's insert fails
    (as a full disk would). The first two files' 8 records are committed, but only the
    first file's catalog row: a file's row goes with the flush after its last records
    (here the failed one). The next load deletes the second file's unfinished records
    and reads both again."""
    files = []
    for i in range(3):
        path = tmp_path / f"{i}.jsonl"
        path.write_text("".join(json.dumps({"n": f"{i}.{j}"}) + "\n" for j in range(4)))
        files.append(path)
    with EventStore(tmp_path / "s.duckdb", batch_size=4, commit_rows=8) as store:
        real = store._insert
        calls: list[int] = []

        def insert(*args: Any) -> int:
            calls.append(1)
            if len(calls) == 3:
                raise duckdb.IOException("disk gone")
            return real(*args)

        monkeypatch.setattr(store, "_insert", insert)
        with pytest.raises(duckdb.IOException):
            store.load(files)
        assert _count(store) == 8
        assert len(store.sources()) == 1
        monkeypatch.undo()
        report = store.load(files)
        assert report.stored == 8 and report.already_stored == [str(files[0])]
        values = store.connection.execute("SELECT n FROM events ORDER BY __seq").fetchall()
        assert [v[0] for v in values] == [f"{i}.{j}" for i in range(3) for j in range(4)]
