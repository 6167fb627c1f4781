"""Issue 6: the Parquet event lake — ingest, layout, schema evolution, re-ingest dedup,
partition pruning from earliest=/latest=, and the same rows on DuckDB, Spark and the store.

Events are written here by hand; expected values follow from them and the SPL rules.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from stagehunt import cli
from stagehunt.api import run_on, run_spl
from stagehunt.backends.lake import CATALOG, Lake, decode, encode, partition_values
from stagehunt.store.event_store import EventStore

SYSMON = "XmlWinEventLog:Microsoft-Windows-Sysmon/Operational"
AUDIT = "linux:audit"
DAY1 = 1714521600  # 2024-05-01T00:00:00Z
DAY2 = DAY1 + 86400
DAY3 = DAY2 + 86400

FIRST = [  # two days, two sourcetypes; `tags` single-valued here
    {"_time": DAY1 + 10, "sourcetype": SYSMON, "host": "a", "tags": "x", "index": "w"},
    {"_time": DAY1 + 20, "sourcetype": AUDIT, "host": "b", "tags": "y", "index": "l"},
    {"_time": DAY2 + 10, "sourcetype": SYSMON, "host": "a", "tags": "z", "index": "w"},
    {"_time": DAY2 + 20, "sourcetype": SYSMON, "host": "c", "index": "w"},
]
SECOND = [  # a third day; `tags` now multivalue, a new field `extra`
    {"_time": DAY3 + 10, "sourcetype": SYSMON, "host": "a", "tags": ["p", "q"], "index": "w"},
    {"_time": DAY3 + 20, "sourcetype": AUDIT, "host": "b", "extra": "e1", "index": "l"},
]
ALL_ROWS = "index=* | table _time host sourcetype tags extra"
#: (host, tags, extra) of FIRST + SECOND under ALL_ROWS, worked by hand: newest first
#: (rule 1.4); FIRST's single `tags` read back as one-element lists once `tags` is multivalue
BOTH_ROWS = [
    ("b", None, "e1"),
    ("a", ["p", "q"], None),
    ("c", None, None),
    ("a", ["z"], None),
    ("b", ["y"], None),
    ("a", ["x"], None),
]


def _write(path: Path, records: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.fixture
def inputs(tmp_path: Path) -> tuple[Path, Path]:
    return _write(tmp_path / "first.json", FIRST), _write(tmp_path / "second.json", SECOND)


@pytest.fixture
def lake_dir(tmp_path: Path, inputs: tuple[Path, Path]) -> Path:
    """Two ingests through the CLI: the second adds a day, a field and a multivalue."""
    lake = tmp_path / "lake"
    for path in inputs:
        assert cli.main(["ingest", str(path), "--lake", str(lake)]) == 0
    return lake


def test_partition_value_encoding_round_trips_colon_and_slash() -> None:
    assert encode(SYSMON) == "XmlWinEventLog%3AMicrosoft-Windows-Sysmon%2FOperational"
    assert decode(encode(SYSMON)) == SYSMON
    assert decode(encode(None)) is None


def test_layout_is_one_folder_per_day_and_sourcetype(lake_dir: Path) -> None:
    files = Lake(lake_dir).files()
    folders = {(p["date"], p["sourcetype"]) for p in map(partition_values, files)}
    assert folders == {
        ("2024-05-01", SYSMON),
        ("2024-05-01", AUDIT),
        ("2024-05-02", SYSMON),
        ("2024-05-03", SYSMON),
        ("2024-05-03", AUDIT),
    }
    # no folder name holds a raw '/' or ':' from the sourcetype
    assert all(":" not in part for f in files for part in f.relative_to(lake_dir).parts)


def test_schema_evolution_new_field_and_promoted_multivalue(lake_dir: Path) -> None:
    lake = Lake(lake_dir)
    assert lake.schema()["tags"].value == "multi"
    assert "extra" in lake.schema()
    result = run_on(lake.duckdb(), ALL_ROWS)
    # newest first; `tags` single values of the first file read back as one-element lists
    assert result.columns == ["_time", "host", "sourcetype", "tags", "extra"]
    assert [(r[1], r[3], r[4]) for r in result.rows] == BOTH_ROWS


def test_reingest_adds_nothing(lake_dir: Path, inputs: tuple[Path, Path]) -> None:
    before = sorted(Lake(lake_dir).files())
    catalog = (lake_dir / CATALOG).read_text(encoding="utf-8")
    assert cli.main(["ingest", str(inputs[0]), str(inputs[1]), "--lake", str(lake_dir)]) == 0
    assert sorted(Lake(lake_dir).files()) == before
    assert (lake_dir / CATALOG).read_text(encoding="utf-8") == catalog


@pytest.mark.parametrize(
    "spl",
    [
        ALL_ROWS,
        "index=* | stats count by sourcetype host | sort 0 sourcetype host",
        "host=a | stats values(tags) as t, count by host",
    ],
)
def test_lake_round_trip_same_rows_as_store_on_both_engines(
    spark: Any, lake_dir: Path, inputs: tuple[Path, Path], spl: str
) -> None:
    lake = Lake(lake_dir)
    with EventStore(in_memory=True) as store:
        store.load(list(inputs))
        expected = run_spl(spl, store)
    on_duckdb = run_on(lake.duckdb(), spl)
    on_spark = run_on(lake.spark(spark), spl)
    assert (on_duckdb.columns, on_duckdb.rows) == (expected.columns, expected.rows)
    assert (on_spark.columns, on_spark.rows) == (expected.columns, expected.rows)
    assert expected.rows


def test_stats_over_the_lake_by_hand(lake_dir: Path) -> None:
    spl = "index=* | stats count by sourcetype | sort 0 sourcetype"
    # 4 sysmon events (days 1, 2, 2, 3), 2 audit events (days 1, 3); byte order: "X" < "l"
    assert run_on(Lake(lake_dir).duckdb(), spl).rows == [(SYSMON, 4), (AUDIT, 2)]


def test_time_range_prunes_files_outside_it(
    spark: Any, lake_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A damaged file in the 2024-05-01 partitions: a search bounded to 2024-05-02 never
    opens it (same rows on both engines), an unbounded search does and fails."""
    lake = Lake(lake_dir)
    assert len(lake.files((DAY2, DAY3))) == 1
    assert len(lake.files((DAY2 + 15, None))) == 3  # days 2 and 3
    assert len(lake.files((None, DAY2))) == 2  # latest is exclusive: day 1 only
    for damaged in lake.files((DAY1, DAY2)):
        damaged.write_bytes(b"not a parquet file")
    spl = f"index=* earliest={DAY2} latest={DAY3} | table host tags"
    for engine in ("duckdb", "spark"):
        argv = ["search", spl, "--lake", str(lake_dir), "--engine", engine, "--format", "json"]
        assert cli.main(argv) == 0
        rows = json.loads(capsys.readouterr().out)
        assert rows == [{"host": "c", "tags": None}, {"host": "a", "tags": ["z"]}]
    assert cli.main(["search", "index=*", "--lake", str(lake_dir)]) == 2
    assert capsys.readouterr().err.startswith("error: the query failed while running:")


def test_search_lake_that_does_not_exist_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["search", "index=*", "--lake", str(tmp_path / "none")]) == 1
    assert capsys.readouterr().err == f"error: no stagehunt lake at {tmp_path / 'none'} " + (
        "(make one with ingest --lake)\n"
    )


def test_ingest_into_a_folder_that_is_not_a_lake_is_refused(
    tmp_path: Path, inputs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine", encoding="utf-8")
    assert cli.main(["ingest", str(inputs[0]), "--lake", str(tmp_path / "busy")]) == 1
    assert "is not a stagehunt lake" in capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / "busy").iterdir()) == ["notes.txt"]


def test_one_ingest_whose_field_turns_multivalue_in_a_later_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batches of 2: `tags` is single-valued in the first batches' files, then a list;
    the files written before are rewritten, so every file agrees, and nothing is lost."""
    monkeypatch.setitem(EventStore.__init__.__kwdefaults__, "batch_size", 2)
    path = _write(tmp_path / "both.json", FIRST + SECOND)
    lake = Lake(tmp_path / "lake")
    report = lake.ingest([path])
    assert report.stored == 6 and not report.rejects
    assert report.sourcetypes == {SYSMON: 4, AUDIT: 2}
    assert lake.schema()["tags"].value == "multi"
    result = run_on(lake.duckdb(), ALL_ROWS)
    assert [(r[1], r[3], r[4]) for r in result.rows] == BOTH_ROWS
    assert Lake(tmp_path / "lake").catalog.next_seq == 6


def test_partitions_interleaved_in_one_batch_keep_their_rows_in_order(tmp_path: Path) -> None:
    """Rows of one batch that alternate between partitions (the writer regroups them) and
    rows already in one block per partition (written as they are) land the same way:
    each partition's file holds its rows in store order."""
    import pyarrow.parquet as pq

    interleaved = [
        {"_time": DAY1 + 10, "sourcetype": SYSMON, "host": "a", "index": "w"},
        {"_time": DAY1 + 20, "sourcetype": AUDIT, "host": "b", "index": "l"},
        {"_time": DAY1 + 30, "sourcetype": SYSMON, "host": "c", "index": "w"},
        {"_time": DAY2 + 10, "sourcetype": AUDIT, "host": "d", "index": "l"},
        {"_time": DAY1 + 40, "sourcetype": SYSMON, "host": "e", "index": "w"},
    ]
    lake = Lake(tmp_path / "lake")
    assert lake.ingest([_write(tmp_path / "mixed.json", interleaved)]).stored == 5
    hosts: dict[tuple[str | None, str | None], tuple[list[Any], list[Any]]] = {}
    for f in lake.files():
        table = pq.read_table(f)
        key = (partition_values(f)["date"], partition_values(f)["sourcetype"])
        hosts[key] = (table["host"].to_pylist(), table["__seq"].to_pylist())
    assert hosts == {
        ("2024-05-01", SYSMON): (["a", "c", "e"], [0, 2, 4]),
        ("2024-05-01", AUDIT): (["b"], [1]),
        ("2024-05-02", AUDIT): (["d"], [3]),
    }
    # newest first (rule 1.4): d (day 2), then day 1's e, c, b, a
    rows = run_on(lake.duckdb(), "index=* | table host").rows
    assert rows == [("d",), ("e",), ("c",), ("b",), ("a",)]


def test_an_ingest_that_fails_leaves_no_file_and_no_catalog_change(
    tmp_path: Path, inputs: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The writer fails on the second batch (as a full disk would): the files the ingest
    wrote are removed, the catalog names no new source and no new record (only `tags`,
    whose older files the first batch's list rewrote, is multivalue now), and the same
    ingest then succeeds."""
    from stagehunt.backends import lake as lake_module

    lake = Lake(tmp_path / "lake")
    lake.ingest([inputs[0]])
    before = sorted(lake.files())
    catalog = (tmp_path / "lake" / CATALOG).read_text(encoding="utf-8")
    monkeypatch.setitem(EventStore.__init__.__kwdefaults__, "batch_size", 1)
    real = lake_module._Writer.__call__
    calls: list[int] = []

    def failing(self: Any, *args: Any) -> None:
        calls.append(1)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real(self, *args)

    monkeypatch.setattr(lake_module._Writer, "__call__", failing)
    with pytest.raises(OSError):
        lake.ingest([inputs[1]])
    assert sorted(lake.files()) == before
    after = json.loads((tmp_path / "lake" / CATALOG).read_text(encoding="utf-8"))
    was = json.loads(catalog)
    assert {k: after[k] for k in ("sources", "next_seq", "ingests")} == {
        k: was[k] for k in ("sources", "next_seq", "ingests")
    }
    assert [f for f in after["fields"] if f not in was["fields"]] == [
        {"name": "tags", "column": "tags", "kind": "multi"}
    ]
    assert len(run_on(Lake(tmp_path / "lake").duckdb(), ALL_ROWS).rows) == 4
    monkeypatch.undo()
    report = Lake(tmp_path / "lake").ingest([inputs[1]])
    assert report.stored == 2
    assert len(run_on(Lake(tmp_path / "lake").duckdb(), ALL_ROWS).rows) == 6
