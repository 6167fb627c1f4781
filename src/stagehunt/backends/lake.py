"""The Parquet event lake: ``stagehunt ingest ... --lake DIR``, queried by DuckDB or Spark.

Layout (Hive style, one folder per UTC day and sourcetype)::

    DIR/_lake.json                                  catalog: fields, next __seq, sources
    DIR/date=2024-05-01/sourcetype=XmlWinEventLog%3AMicrosoft-Windows-Sysmon%2FOperational/
        part-00003-0.parquet

Partition values are percent-encoded (``:`` and ``/`` occur in sourcetypes) and decoded
by `partition_values`; events without ``_time`` or ``sourcetype`` go to
``__HIVE_DEFAULT_PARTITION__``. Every file keeps all of its columns (``sourcetype`` and
``_time`` included): the folder names serve only to skip files, so readers never infer
columns from paths and no partition column can clash with a field.

Ingest reads through a temporary `EventStore` (same readers, same normalisation, same
``__seq`` order, same dedup by source hash: the catalog's hashes are handed to it) and
appends files. Schema evolution: a new field is a new column in new files only (readers
union by name and fill NULL); a field that turns multivalue has its older files rewritten
with one-element lists, so every file agrees on each column's type.

Reading: `Lake.files` picks the files a ``[earliest, latest)`` range can touch; the
engines read only those (`Lake.duckdb` / `Lake.spark`).
"""

from __future__ import annotations

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
import pyarrow.parquet as pq

from stagehunt.backends.base import sql_type
from stagehunt.backends.duckdb import DuckDBBackend
from stagehunt.ingest.options import IngestOptions
from stagehunt.store.event_store import (
    SOURCE_COLUMN,
    EventStore,
    LoadReport,
    Progress,
    quote_identifier,
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
    ) -> LoadReport:
        """Read files (like `EventStore.load`) and append them to the lake."""
        with EventStore() as store:
            store.mark_loaded(self.catalog.sources)
            known = set(self.catalog.sources)
            report = store.load(paths, opts, progress)
            if report.stored:
                self._append(store)
            for digest, records in store.sources().items():
                if digest not in known:
                    self.catalog.sources[digest] = records
        new_sources = len(self.catalog.sources) > len(known)
        if report.stored or new_sources or not (self.root / CATALOG).exists():
            self._write_catalog()
        return report

    def _append(self, store: EventStore) -> None:
        """Write the store's events as new files, after reconciling fields and kinds."""
        con = store.connection
        select: list[str] = []
        for name, kind in store.schema().items():
            column = quote_identifier(store.column_for(name))
            lake = self._lake_field(name, kind)
            if lake.kind is ColumnKind.MULTI and kind is ColumnKind.STRING:
                column = f"CASE WHEN {column} IS NULL THEN NULL ELSE [{column}] END"
            select.append(f"{column} AS {quote_identifier(lake.column)}")
        offset = self.catalog.next_seq
        hidden = [
            f"{quote_identifier(SEQ_COLUMN)} + {int(offset)} AS {quote_identifier(SEQ_COLUMN)}",
            quote_identifier(SOURCE_COLUMN),
            quote_identifier("__rid"),
        ]
        st = _first(store, "sourcetype")
        day = f"CAST(floor({quote_identifier(store.column_for('_time'))} / {_DAY}) AS BIGINT)"
        table = quote_identifier(EVENTS_TABLE)
        parts = con.execute(f"SELECT DISTINCT {day}, {st} FROM {table}").fetchall()
        self.catalog.ingests += 1
        body = ", ".join(hidden + select)
        for n, (day_number, sourcetype) in enumerate(sorted(parts, key=str)):
            folder = (
                self.root
                / f"date={_day_name(day_number)}"
                / f"sourcetype={encode(None if sourcetype is None else str(sourcetype))}"
            )
            folder.mkdir(parents=True, exist_ok=True)
            reader = con.sql(
                f"SELECT {body} FROM {table} WHERE {day} IS NOT DISTINCT FROM ? "
                f"AND {st} IS NOT DISTINCT FROM ? ORDER BY {quote_identifier(SEQ_COLUMN)}",
                params=[day_number, sourcetype],
            ).to_arrow_reader(100_000)
            path = folder / f"part-{self.catalog.ingests:05d}-{n}.parquet"
            with pq.ParquetWriter(str(path), reader.schema) as writer:
                for batch in reader:
                    writer.write_batch(batch)
        (last,) = con.execute(
            f"SELECT max({quote_identifier(SEQ_COLUMN)}) FROM {table}"
        ).fetchall()[0]  # fetchall: leave no unfinished result
        self.catalog.next_seq = offset + (0 if last is None else int(last) + 1)

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
            if column not in table.column_names:
                continue
            values = table.column(column).to_pylist()
            lists = pa.array([None if v is None else [v] for v in values], pa.list_(pa.string()))
            table = table.set_column(table.column_names.index(column), column, lists)
            pq.write_table(table, path)


def _first(store: EventStore, name: str) -> str:
    """SQL for the first value of a field (NULL if the store never had it)."""
    if name not in store.schema():
        return "CAST(NULL AS VARCHAR)"
    column = quote_identifier(store.column_for(name))
    return f"{column}[1]" if store.schema()[name] is ColumnKind.MULTI else column


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
