"""The Parquet event lake: ``stagehunt ingest ... --lake DIR``, queried by DuckDB or Spark.

Layout (Hive style, one folder per UTC day and sourcetype)::

    DIR/_lake.json                                  catalog: fields, next __seq, sources
    DIR/date=2024-05-01/sourcetype=XmlWinEventLog%3AMicrosoft-Windows-Sysmon%2FOperational/
        part-00003-0.parquet

Partition values are percent-encoded (``:`` and ``/`` occur in sourcetypes) and decoded
by `partition_values`; events without ``_time`` or ``sourcetype`` go to
``__HIVE_DEFAULT_PARTITION__``. Every file keeps ``sourcetype`` and ``_time`` as
columns: the folder names serve only to skip files, so readers never infer
columns from paths and no partition column can clash with a field.

Ingest reads through a temporary `EventStore` (same readers, same normalisation, same
``__seq`` order, same dedup by source hash: the catalog's hashes are handed to it) whose
batches go straight to Parquet files (`_Writer`, the store's ``sink``). Schema
evolution: a file holds the fields its rows have values for, so a new field is a new
column in new files only (readers union by name and fill NULL); a field that turns
multivalue has its older files rewritten with one-element lists, so every file agrees
on each column's type.

Reading: `Lake.files` picks the files a ``[earliest, latest)`` range can touch; the
engines read only those (`Lake.duckdb` / `Lake.spark`).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from stagehunt.backends.base import sql_type
from stagehunt.backends.duckdb import DuckDBBackend
from stagehunt.ingest.batches import as_lists
from stagehunt.ingest.options import IngestOptions
from stagehunt.store.event_store import (
    SOURCE_COLUMN,
    EventStore,
    LoadReport,
    Progress,
)
from stagehunt.store.schema import EVENTS_TABLE, SEQ_COLUMN, ColumnKind

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from stagehunt.backends.spark import SparkBackend

CATALOG = "_lake.json"
DEFAULT_PARTITION = "__HIVE_DEFAULT_PARTITION__"
#: hidden columns every file has, with their Arrow types
HIDDEN_TYPES: dict[str, pa.DataType] = {
    SEQ_COLUMN: pa.int64(),
    SOURCE_COLUMN: pa.string(),
    "__rid": pa.string(),
}
_KIND_TYPES: dict[ColumnKind, pa.DataType] = {
    ColumnKind.STRING: pa.string(),
    ColumnKind.MULTI: pa.list_(pa.string()),
    ColumnKind.NUMBER: pa.float64(),
}
_DATE_DIR = re.compile(r"date=(\d{4}-\d{2}-\d{2}|" + DEFAULT_PARTITION + r")$")
_DAY = 86_400


class LakeError(ValueError):
    """The folder is not a lake (or its catalog is damaged): a one-line reason."""


def encode(value: str | None) -> str:
    """A partition value as a folder-name-safe string (percent-encoding, as Hive does)."""
    return DEFAULT_PARTITION if value is None else quote(value, safe=" -_.+@,")


def decode(text: str) -> str | None:
    return None if text == DEFAULT_PARTITION else unquote(text)


def partition_values(path: Path) -> dict[str, str | None]:
    """``{"date": ..., "sourcetype": ...}`` decoded from a data file's folders."""
    out: dict[str, str | None] = {}
    for part in path.parts:
        key, sep, value = part.partition("=")
        if sep and key in ("date", "sourcetype"):
            out[key] = decode(value)
    return out


@dataclass(frozen=True)
class LakeField:
    name: str
    column: str
    kind: ColumnKind


@dataclass
class Catalog:
    """What ``_lake.json`` holds."""

    fields: list[LakeField] = field(default_factory=list)
    next_seq: int = 0
    ingests: int = 0
    #: content hash → records, for re-ingest dedup
    sources: dict[str, int] = field(default_factory=dict)

    def field(self, name: str) -> LakeField | None:
        return next((f for f in self.fields if f.name == name), None)


class Lake:
    """A lake folder: ingest into it, list its files, open it with an engine."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.catalog = self._read_catalog()

    # ------------------------------------------------------------------ catalog
    def _read_catalog(self) -> Catalog:
        path = self.root / CATALOG
        if not path.exists():
            if self.root.exists() and any(self.root.iterdir()):
                raise LakeError(f"{self.root} is not a stagehunt lake (no {CATALOG})")
            return Catalog()
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return Catalog(
                [LakeField(f["name"], f["column"], ColumnKind(f["kind"])) for f in data["fields"]],
                int(data["next_seq"]),
                int(data["ingests"]),
                {str(k): int(v) for k, v in data["sources"].items()},
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise LakeError(f"{path}: damaged lake catalog ({exc})") from None

    def _write_catalog(self) -> None:
        c = self.catalog
        data = {
            "version": 1,
            "fields": [
                {"name": f.name, "column": f.column, "kind": f.kind.value} for f in c.fields
            ],
            "next_seq": c.next_seq,
            "ingests": c.ingests,
            "sources": c.sources,
        }
        self.root.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".catalog-")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=1)
        os.replace(tmp, self.root / CATALOG)

    def schema(self) -> dict[str, ColumnKind]:
        return {f.name: f.kind for f in self.catalog.fields}

    def physical(self) -> dict[str, str]:
        return {f.name: f.column for f in self.catalog.fields}

    def column_types(self) -> dict[str, pa.DataType]:
        """Every column a reader must present (absent from a file: NULL of this type)."""
        types = dict(HIDDEN_TYPES)
        types.update({f.column: _KIND_TYPES[f.kind] for f in self.catalog.fields})
        return types

    # ------------------------------------------------------------------ files
    def files(self, time_range: tuple[float | None, float | None] = (None, None)) -> list[Path]:
        """Data files whose day can hold events in ``[earliest, latest)``; all when unbounded.

        Events without ``_time`` never satisfy a bound, so their partition is skipped too."""
        low, high = time_range
        bounded = low is not None or high is not None
        first = _day(math.floor(low / _DAY)) if low is not None else None
        # latest is exclusive: an event at exactly midnight belongs to the next day
        last = _day(math.ceil(high / _DAY) - 1) if high is not None else None
        if bounded and first is not None and last is not None and first > last:
            return []
        out: list[Path] = []
        if not self.root.is_dir():
            return out
        for folder in sorted(self.root.iterdir()):
            m = _DATE_DIR.match(folder.name)
            if not m or not folder.is_dir():
                continue
            if m.group(1) == DEFAULT_PARTITION:
                if bounded:
                    continue
            else:
                day = date.fromisoformat(m.group(1))
                if (first is not None and day < first) or (last is not None and day > last):
                    continue
            out += sorted(folder.glob("sourcetype=*/*.parquet"))
        return out

    def all_files(self) -> list[Path]:
        return self.files()

    # ------------------------------------------------------------------ engines
    def duckdb(self, time_range: tuple[float | None, float | None] = (None, None)) -> DuckDBBackend:
        """An in-memory DuckDB with an ``events`` view over the files of ``time_range``."""
        con = duckdb.connect()
        files = self.files(time_range)
        types = self.column_types()
        if files:
            rel = con.read_parquet(
                [str(f) for f in files], union_by_name=True, hive_partitioning=False
            )
            present = {c.lower() for c in rel.columns}
        else:
            rel = con.sql("SELECT 1 AS __none WHERE false")
            present = set()
        exprs = [
            duckdb.ColumnExpression(name)
            if name.lower() in present
            else duckdb.ConstantExpression(None).cast(sql_type(dtype, "duckdb")).alias(name)
            for name, dtype in types.items()
        ]
        rel.select(*exprs).create_view(EVENTS_TABLE)
        return DuckDBBackend(con, self.schema(), self.physical())

    def spark(
        self,
        spark: SparkSession,
        time_range: tuple[float | None, float | None] = (None, None),
    ) -> SparkBackend:
        from stagehunt.backends.spark import SparkBackend

        return SparkBackend.from_files(
            spark, self.files(time_range), self.schema(), self.physical(), self.column_types()
        )

    @classmethod
    def adopt(cls, root: Path, fields: Mapping[str, ColumnKind], next_seq: int) -> Lake:
        """Write the catalog for data files put in place by other means (the benchmark's
        bulk generator writes the partitions itself); column names are the field names."""
        lake = cls.__new__(cls)
        lake.root = root
        lake.catalog = Catalog([LakeField(n, n, k) for n, k in fields.items()], next_seq)
        lake._write_catalog()
        return lake

    # ------------------------------------------------------------------ ingest
    def ingest(
        self,
        paths: Sequence[Path],
        opts: IngestOptions | None = None,
        progress: Progress | None = None,
        *,
        jobs: int | None = 1,
    ) -> LoadReport:
        """Read files (like `EventStore.load`, ``jobs`` as there) and append them to the
        lake: the records a temporary store would insert go straight to Parquet files
        (`_Writer`), batch by batch; the store keeps only its catalog (fields, kinds,
        source hashes). Inserting into DuckDB and exporting each partition back out
        cost ~100 µs a record (one scan of the table per partition; measured, issue 14).
        """
        self.catalog.ingests += 1
        writer = _Writer(self, self.catalog.next_seq)
        try:
            with EventStore(sink=writer) as store:
                store.mark_loaded(self.catalog.sources)
                known = set(self.catalog.sources)
                report = store.load(paths, opts, progress, jobs=jobs)
                writer.close()
                for digest, records in store.sources().items():
                    if digest not in known:
                        self.catalog.sources[digest] = records
        except BaseException:
            writer.discard()  # files the catalog will not name: readers must not see them
            promoted = [f for f in self.catalog.fields if f.kind is ColumnKind.MULTI]
            self.catalog = self._read_catalog()
            # older files a field's promotion rewrote stay rewritten: the catalog says so
            changed = False
            for f in promoted:
                was = self.catalog.field(f.name)
                if was is not None and was.kind is ColumnKind.STRING:
                    index = self.catalog.fields.index(was)
                    self.catalog.fields[index] = LakeField(f.name, was.column, f.kind)
                    changed = True
            if changed:
                self._write_catalog()
            raise
        if writer.rows:
            self.catalog.next_seq = writer.next_seq
        else:
            self.catalog.ingests -= 1  # no file was written under this number
        report.sourcetypes = dict(
            sorted(writer.sourcetypes.items(), key=lambda item: (-item[1], item[0]))
        )
        new_sources = len(self.catalog.sources) > len(known)
        if report.stored or new_sources or not (self.root / CATALOG).exists():
            self._write_catalog()
        return report

    def _lake_field(self, name: str, kind: ColumnKind) -> LakeField:
        """The lake's field for ``name``: known (promoted to multivalue if it now is one)
        or new, with a column name that clashes with no other under case folding."""
        known = self.catalog.field(name)
        if known is None:
            taken = {f.column.casefold() for f in self.catalog.fields} | {
                h.casefold() for h in HIDDEN_TYPES
            }
            column, n = name, 2
            while column.casefold() in taken:
                column = f"{name}#{n}"
                n += 1
            new = LakeField(name, column, kind)
            self.catalog.fields.append(new)
            return new
        if known.kind is ColumnKind.STRING and kind is ColumnKind.MULTI:
            promoted = LakeField(name, known.column, ColumnKind.MULTI)
            self._promote_files(known.column)
            self.catalog.fields[self.catalog.fields.index(known)] = promoted
            return promoted
        return known

    def _promote_files(self, column: str) -> None:
        """Rewrite older files so ``column`` is a list there too (one-element lists)."""
        for path in self.files():
            table = pq.read_table(path)
            if column not in table.column_names or pa.types.is_list(
                table.schema.field(column).type
            ):
                continue  # (already a list: rewritten by an ingest that then failed)
            values = table.column(column).to_pylist()
            lists = pa.array([None if v is None else [v] for v in values], pa.list_(pa.string()))
            table = table.set_column(table.column_names.index(column), column, lists)
            pq.write_table(table, path)


class _Writer:
    """An ingest's Parquet files: the store's batches (`EventStore` ``sink``) cut by
    partition (UTC day of ``_time``, first ``sourcetype``) and appended, in ``__seq``
    order, to one open file per partition; each batch's part of a partition is a row
    group. A file has the hidden columns and the fields its rows have a value for
    (readers union by name); a part with a field its partition's open file lacks
    starts a new file. Before a field turns multivalue, every open file is closed, so
    that `Lake._promote_files` rewrites it with the older ones."""

    def __init__(self, lake: Lake, offset: int) -> None:
        self.lake = lake
        self.offset = offset
        self.next_seq = offset
        self.rows = 0
        self.files = 0
        self.sourcetypes: dict[str, int] = {}
        self.open: dict[tuple[str, str], tuple[pq.ParquetWriter, pa.Schema]] = {}
        self.paths: list[Path] = []

    def __call__(self, batch: pa.Table, fields: Mapping[str, tuple[str, ColumnKind]]) -> None:
        if not batch.num_rows:
            return
        lake = self.lake
        if any(
            (known := lake.catalog.field(name)) is not None
            and known.kind is ColumnKind.STRING
            and kind is ColumnKind.MULTI
            for name, kind in fields.values()
        ):
            self.close()
        arrays: dict[str, pa.ChunkedArray] = {}
        for column, values in zip(batch.column_names, batch.columns, strict=True):
            if column in HIDDEN_TYPES:
                if column == SEQ_COLUMN:
                    values = pc.add(values, self.offset)
                arrays[column] = values
                continue
            name, kind = fields[column]
            target = lake._lake_field(name, kind)
            if target.kind is ColumnKind.MULTI:
                values = as_lists(values)
            arrays[target.column] = values
        table = pa.table(arrays)
        time_field = lake.catalog.field("_time")
        st_field = lake.catalog.field("sourcetype")
        n = table.num_rows
        day = (
            pc.cast(pc.floor(pc.divide(table[time_field.column], float(_DAY))), pa.int64())
            if time_field is not None and time_field.column in arrays
            else pa.nulls(n, pa.int64())
        )
        if st_field is None or st_field.column not in arrays:
            sourcetype = pa.nulls(n, pa.string())
        elif st_field.kind is ColumnKind.MULTI:
            sourcetype = pa.array([v[0] if v else None for v in table[st_field.column].to_pylist()])
        else:
            sourcetype = table[st_field.column]
        positions = pa.array(range(n), pa.int64())
        groups = (
            pa.table({"d": day, "s": sourcetype, "i": positions})
            .group_by(["d", "s"], use_threads=False)
            .aggregate([("i", "list")])
        )
        # one take puts every partition's rows together (in order within each): a take
        # per partition concatenated the batch's chunks each time (5 s for 40,000 records)
        lists = groups["i_list"].combine_chunks()
        order = lists.flatten()
        # each partition's rows already one block, in order (a file's events are mostly of
        # one day and one sourcetype): no copy; the take was 5 µs a row of a big EVTX
        ordered = table if order.equals(positions) else table.take(order)
        offsets = lists.offsets.to_pylist()
        for g, (d, st) in enumerate(
            zip(groups["d"].to_pylist(), groups["s"].to_pylist(), strict=True)
        ):
            part = ordered.slice(offsets[g], offsets[g + 1] - offsets[g])
            self._write((_day_name(d), encode(st)), part)
            label = "(none)" if st is None else str(st)
            self.sourcetypes[label] = self.sourcetypes.get(label, 0) + part.num_rows
        self.rows += n
        self.next_seq = max(self.next_seq, int(pc.max(table[SEQ_COLUMN]).as_py()) + 1)

    def _write(self, key: tuple[str, str], part: pa.Table) -> None:
        """Append one partition's rows; all-null fields are left out."""
        keep = [
            c for c in part.column_names if c in HIDDEN_TYPES or part[c].null_count < part.num_rows
        ]
        part = part.select(keep)
        held = self.open.get(key)
        if held is not None and not set(part.column_names) <= set(held[1].names):
            held[0].close()
            del self.open[key]
            held = None
        if held is None:
            folder = self.lake.root / f"date={key[0]}" / f"sourcetype={key[1]}"
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"part-{self.lake.catalog.ingests:05d}-{self.files}.parquet"
            self.files += 1
            self.paths.append(path)
            held = (pq.ParquetWriter(str(path), part.schema), part.schema)
            self.open[key] = held
        writer, schema = held
        # by name once: `Table.column_names` builds a new list on every access, and a
        # test against it per column of a wide file cost a quarter of the lake's main
        # process on the bench set (issue 14)
        present = dict(zip(part.column_names, part.columns, strict=True))
        columns = [
            present[f.name] if f.name in present else pa.nulls(part.num_rows, f.type)
            for f in schema
        ]
        writer.write_table(pa.Table.from_arrays(columns, schema=schema))

    def close(self) -> None:
        """Finish every open file; safe to call twice."""
        for writer, _ in self.open.values():
            writer.close()
        self.open.clear()

    def discard(self) -> None:
        """Remove the files of an ingest that failed."""
        with contextlib.suppress(Exception):
            self.close()
        for path in self.paths:
            path.unlink(missing_ok=True)


def _day(day_number: float) -> date | None:
    """The UTC date of a day number; None beyond the calendar (the bound prunes nothing)."""
    try:
        return date(1970, 1, 1) + timedelta(days=int(day_number))
    except (OverflowError, ValueError):
        return None


def _day_name(day_number: object) -> str:
    if day_number is None:
        return DEFAULT_PARTITION
    return (date(1970, 1, 1) + timedelta(days=int(str(day_number)))).isoformat()
