"""The event store: Splunk export records in one wide DuckDB table, schema on read.

Table ``events`` holds one row per record: ``__seq BIGINT`` (insertion order, strictly
increasing across loads, from 0), ``_time DOUBLE`` (epoch seconds, NULL when a record
has none) and one column per field, ``VARCHAR`` or, once any record has a list for
the field, ``VARCHAR[]``. New fields widen the table as they appear; a field that
turns multivalue is promoted in place, its earlier values becoming one-element
lists. Records are inserted in batches through Arrow, so memory follows the batch
size, not the file size, and no value is ever pasted into SQL.

Field names vs column names (case sensitivity)
----------------------------------------------
Splunk field names are case-sensitive (``User`` and ``user`` are two fields), but
DuckDB identifiers are not: it refuses a second column that differs only in case,
and no setting changes that (``preserve_identifier_case`` only affects how unquoted
names are written back). So a field is stored under a *physical column name*:

* the field name itself whenever it is free, which is the common case, so SQL over
  the table reads naturally;
* otherwise a derived name ``<field>#2``, ``<field>#3``, ... that collides with no
  existing column under case folding (``str.casefold``, a superset of DuckDB's ASCII
  folding). The first field seen keeps the plain name.

Names that cannot be columns as they are also get derived names: the empty name
(``field``), names starting with ``__`` (the prefix of hidden internal columns, so
``__seq`` in data becomes ``f__seq``), and names with non-printable characters.

The mapping is kept in the table ``__fields(position, name, column_name, kind)``
next to ``events`` so a store on disk reopens with the same names. Code that builds
SQL must go through `EventStore.column_for` (and quote the result with
`quote_identifier`); `EventStore.schema` is keyed by field names.
"""

from __future__ import annotations

import errno
import re
import shutil
import tempfile
import time
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import duckdb
import pyarrow as pa

from stagehunt.ingest import parallel, registry
from stagehunt.ingest.batches import Rows, as_lists, records_to_table
from stagehunt.ingest.options import IngestOptions
from stagehunt.ingest.records import RECORD_ID, Record, Reject
from stagehunt.ingest.sources import Source
from stagehunt.ingest.splunk_export import UnsupportedInput
from stagehunt.store.schema import EVENTS_TABLE, SEQ_COLUMN, ColumnKind, is_hidden

__all__ = [
    "BATCH_SIZE",
    "FIELDS_TABLE",
    "EventStore",
    "LoadReport",
    "Sink",
    "StoreBusy",
    "StoreFull",
    "quote_identifier",
]

#: Records inserted per Arrow batch: the bound on memory used while loading.
BATCH_SIZE = 20_000
#: A load commits once its open transaction holds this many records (two DuckDB row
#: groups of 122,880), and at its end. Committing every batch cost the insert 2-3
#: times over (measured on the bench set, issue 14): each commit wrote the rows to the
#: WAL, fsync'd it, and, past DuckDB's 16 MiB checkpoint threshold, compressed a
#: partly filled row group again; a transaction holding a full row group writes it to
#: the database file once, at insert, and its commit writes only block pointers. What a
#: kill loses is rolled back, never half stored: a source's ``__sources`` row still
#: commits with its last records (docs/reliability.md).
COMMIT_ROWS = 2 * 122_880
#: Fields whose column DuckDB compresses with zstd instead of choosing per segment:
#: ``_raw`` (an event's whole text, ~2 KB of EVTX XML) took half of the insert's CPU
#: in DuckDB's analysis of which compression fits (FSST, dictionary) and in FSST itself;
#: zstd cost a quarter of that, made the column 7 times smaller, and bare-term search
#: (``_raw`` scanned with ILIKE) ran as fast (measured on the bench set, issue 14).
ZSTD_FIELDS = frozenset({"_raw"})
#: Table mapping field names to physical column names.
FIELDS_TABLE = "__fields"
#: Table of the sources loaded: content hash, name, records stored, format.
SOURCES_TABLE = "__sources"
#: Hidden column: SHA-256 of the source a record came from (with ``__rid``, its identity).
SOURCE_COLUMN = "__src"
#: Record keys stored in hidden columns of the same name, never as fields.
_HIDDEN_KEYS = frozenset({RECORD_ID, SOURCE_COLUMN})
#: Called as reading goes on: (source name, records read from it so far).
Progress = Callable[[str, int], None]
#: Where a store made with ``sink=`` sends its records instead of the ``events`` table:
#: each inserted batch (columns under their physical names, ``__seq``, ``__src``,
#: ``__rid``) and, per physical column, its field's (name, kind).
Sink = Callable[[pa.Table, Mapping[str, tuple[str, ColumnKind]]], None]
_TIME = "_time"
_BATCH_VIEW = "__stagehunt_batch"
_ROWS_VIEW = "__stagehunt_rows"
_SQL_TYPE = {
    ColumnKind.STRING: "VARCHAR",
    ColumnKind.MULTI: "VARCHAR[]",
    ColumnKind.NUMBER: "DOUBLE",
}


class StoreBusy(OSError):
    """The store file is open in another process (DuckDB holds one writer's lock)."""


class StoreFull(OSError):
    """The disk holding the store is full: the write was rolled back, not half made."""


def _connect(target: str) -> duckdb.DuckDBPyConnection:
    """Open the database; another process's lock becomes `StoreBusy`, a missing folder
    or a file that is not a store an `OSError` naming it: one line each."""
    if target != ":memory:" and not Path(target).parent.is_dir():
        raise FileNotFoundError(errno.ENOENT, "the store's folder does not exist", target)
    try:
        return duckdb.connect(target)
    except duckdb.IOException as exc:
        text = str(exc)
        if "lock" not in text.lower():
            first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
            raise OSError(errno.EIO, f"cannot open the store ({first})", target) from None
        holder = re.search(r"PID (\d+)", text)
        who = f"process {holder.group(1)}" if holder else "another process"
        raise StoreBusy(
            errno.EAGAIN, f"the store is in use by {who} (one writer at a time)", target
        ) from None


def quote_identifier(name: str) -> str:
    """Quote a column or table name for DuckDB SQL (``"`` doubled inside)."""
    return '"' + name.replace('"', '""') + '"'


@dataclass
class LoadReport:
    """What a `EventStore.load` did; ``records_read == stored + len(rejects)``.

    ``files`` counts files read to the end; a file that could not be read (missing,
    a directory, no permission, unsupported content) is in ``errors`` instead, as
    ``"<path>: <reason>"``, so ``files + len(errors)`` is the number of paths given.
    """

    files: int = 0
    records_read: int = 0
    stored: int = 0
    rejects: list[Reject] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    elapsed: float = 0.0
    #: sources skipped because the store already holds their content (same hash)
    already_stored: list[str] = field(default_factory=list)
    #: records of those sources, not read again
    duplicates: int = 0
    #: format name -> sources read in that format
    formats: dict[str, int] = field(default_factory=dict)
    #: sourcetype -> records stored by this load
    sourcetypes: dict[str, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        """Records read per second."""
        return self.records_read / self.elapsed if self.elapsed > 0 else 0.0


@dataclass
class _Pending:
    """Records read but not yet inserted, and the sources they complete."""

    #: in reading order: records read here, and spans of rows read by workers (adjacent
    #: spans of one task's table merged)
    segments: list[list[Record] | Rows] = field(default_factory=list)
    #: the source hash of the pending rows, in runs: (hash, rows)
    origins: list[tuple[str, int]] = field(default_factory=list)
    size: int = 0
    sources: list[tuple[str, str, int, str]] = field(default_factory=list)
    #: the load's open transaction (`EventStore._flush`) and the records it holds
    open: AbstractContextManager[duckdb.DuckDBPyConnection] | None = None
    uncommitted: int = 0
    #: content hash -> records, for sources read in this load (not yet in __sources)
    hashes: dict[str, int] = field(default_factory=dict)

    def add(self, item: Record | Rows, digest: str) -> None:
        last = self.segments[-1] if self.segments else None
        if isinstance(item, Rows):
            if isinstance(last, Rows) and last.table is item.table and last.stop == item.start:
                self.segments[-1] = Rows(item.table, last.start, item.stop)
            else:
                self.segments.append(item)
            n = len(item)
        else:
            if isinstance(last, list):
                last.append(item)
            else:
                self.segments.append([item])
            n = 1
        if self.origins and self.origins[-1][0] == digest:
            self.origins[-1] = (digest, self.origins[-1][1] + n)
        else:
            self.origins.append((digest, n))
        self.size += n

    def take(self) -> tuple[list[pa.Table], list[tuple[str, int]]]:
        """The pending rows as Arrow tables, and their origins; pending is then empty."""
        tables = [
            seg.rows() if isinstance(seg, Rows) else records_to_table(seg) for seg in self.segments
        ]
        origins = self.origins
        self.segments, self.origins, self.size = [], [], 0
        return tables, origins


@dataclass(frozen=True)
class _Planned:
    """One source of a load (`EventStore._plan`), or why it cannot be read at all."""

    name: str
    source: Source | None = None
    error: str | None = None

    def to_read(self) -> Source | None:
        return self.source if self.error is None else None


@dataclass(frozen=True)
class _Field:
    """One stored field: its name in the data, its column in DuckDB, and its kind."""

    name: str
    column: str
    kind: ColumnKind


@contextmanager
def _one_thread(connection: duckdb.DuckDBPyConnection, workers: bool) -> Iterator[None]:
    """DuckDB on one thread while worker processes read (``workers``), then as it was.

    The workers keep every core busy; DuckDB's own threads then only contend with them
    for the inserts. Measured on a 200k-record Sysmon EVTX with two workers: this process
    spent 18.7-19.4 µs of CPU a record with DuckDB's default threads, 14.1-16.3 with one
    (issue 14)."""
    if not workers:
        yield
        return
    row = connection.execute("SELECT current_setting('threads')").fetchone()
    before = int(row[0]) if row else 0
    connection.execute("SET threads = 1")
    try:
        yield
    finally:
        if before > 0:
            connection.execute("SET threads = ?", [before])


def _close(connection: duckdb.DuckDBPyConnection, tmpdir: Path | None) -> None:
    """Close the connection and remove a temporary store; safe to call twice."""
    connection.close()
    if tmpdir is not None:
        shutil.rmtree(tmpdir, ignore_errors=True)


class EventStore:
    """Records of Splunk exports in a DuckDB ``events`` table (see the module docstring)."""

    def __init__(
        self,
        path: Path | None = None,
        *,
        batch_size: int = BATCH_SIZE,
        in_memory: bool = False,
        commit_rows: int = COMMIT_ROWS,
        sink: Sink | None = None,
    ) -> None:
        """Open (or create) the store at ``path``.

        ``path=None`` makes a temporary database on disk, in a fresh temporary
        directory removed by `close`: on disk so that large loads spill to disk
        instead of growing memory. ``in_memory=True`` keeps small, known-size data
        (a handful of records) in memory instead.

        ``sink``: records go there, batch by batch, instead of into ``events``, which
        stays empty (its columns still track the fields and their kinds, and the
        catalog tables still dedup sources): how the Parquet lake writes its files
        from the tables read, with no DuckDB insert and export in between.
        """
        self._tmpdir: Path | None = None
        target = ":memory:"
        if path is not None:
            target = str(path)
        elif not in_memory:
            self._tmpdir = Path(tempfile.mkdtemp(prefix="stagehunt-"))
            target = str(self._tmpdir / "events.duckdb")
        self._batch_size = max(1, batch_size)
        self._commit_rows = max(1, commit_rows)
        self._sink = sink
        self._target = target
        self._connection = _connect(target)
        self._closed = False
        self._finalizer = weakref.finalize(self, _close, self._connection, self._tmpdir)
        self._fields: dict[str, _Field] = {}
        self._taken: set[str] = set()
        self._has_table = False
        self._next_seq = 0
        self._in_transaction = False
        self._read_catalog()

    # ------------------------------------------------------------------ public API

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        """The DuckDB connection, for running compiled queries."""
        if self._closed:
            raise RuntimeError("the event store is closed")
        return self._connection

    def schema(self) -> dict[str, ColumnKind]:
        """Field names and kinds in table order; hidden columns excluded, ``{}`` before any load."""
        return {f.name: f.kind for f in self._fields.values()}

    def column_for(self, field: str) -> str:
        """The physical (unquoted) column holding ``field``; KeyError if it was never loaded."""
        try:
            return self._fields[field].column
        except KeyError:
            raise KeyError(f"no field {field!r} in the event store") from None

    def mark_loaded(self, sources: dict[str, int]) -> None:
        """Treat these source hashes (→ record counts) as stored already: `load` skips
        them. A lake ingests through a temporary store and hands it its catalog."""
        self._ensure_table()
        if not sources:
            return
        self._append_rows(
            SOURCES_TABLE, [(digest, "", records, "") for digest, records in sources.items()]
        )

    def sources(self) -> dict[str, int]:
        """Hashes of the sources stored (→ records): what a lake's catalog remembers."""
        if not self._table_exists(SOURCES_TABLE):
            return {}
        rows = self._connection.execute(
            f"SELECT hash, records FROM {quote_identifier(SOURCES_TABLE)}"
        ).fetchall()
        return {str(h): int(n) for h, n in rows}

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """One transaction around records and a caller's own rows (a watcher's file
        offsets, alerts): all of it commits, or none of it."""
        con = self.connection
        if self._in_transaction:
            raise RuntimeError("transactions do not nest")
        self._ensure_table()
        try:
            con.execute("BEGIN TRANSACTION")
        except duckdb.Error as exc:
            self._raise_if_full(exc)
            raise
        self._in_transaction = True
        try:
            yield con
            con.execute("COMMIT")
        except BaseException as exc:
            try:
                con.execute("ROLLBACK")
                self._read_catalog()
            except duckdb.Error:
                pass  # DuckDB invalidated the database (a failed write): nothing to undo
            if isinstance(exc, duckdb.Error):
                self._raise_if_full(exc)
            raise
        finally:
            self._in_transaction = False

    def _raise_if_full(self, exc: duckdb.Error) -> None:
        """A write that failed for want of disk space is `StoreFull`, one line."""
        if "No space left on device" in str(exc):
            raise StoreFull(
                errno.ENOSPC,
                "no space left on device; the transaction was rolled back, "
                "what was committed before is kept",
                self._target,
            ) from None

    def append(self, records: Sequence[Record], origin: str, name: str, fmt: str) -> int:
        """Store records read elsewhere as one source ``origin`` (its identity in
        ``__sources``, like a file's hash); inside `transaction` they commit with the
        caller's rows. Returns the records stored."""
        self._ensure_table()
        if records:
            self._insert([records_to_table(list(records))], [(origin, len(records))])
        self._append_rows(SOURCES_TABLE, [(origin, name, len(records), fmt)])
        return len(records)

    def discard_unfinished(self) -> int:
        """Delete records of sources whose reading never finished (a process killed
        between two batches of a large file: its ``__sources`` row, written in the
        transaction of the last batch, is missing). Returns the records deleted."""
        if not self._has_table:
            return 0
        with self.transaction() as con:
            (n,) = con.execute(
                f"DELETE FROM {quote_identifier(EVENTS_TABLE)} WHERE "
                f"{quote_identifier(SOURCE_COLUMN)} NOT IN "
                f"(SELECT hash FROM {quote_identifier(SOURCES_TABLE)})"
            ).fetchall()[0]
        return int(n)

    def load(
        self,
        paths: Sequence[Path],
        opts: IngestOptions | None = None,
        progress: Progress | None = None,
        *,
        jobs: int | None = 1,
    ) -> LoadReport:
        """Read files (any format `registry` knows) into ``events``; problems are
        reported, not raised.

        Sources are read in order, records appended in source order, whether the
        reading happens here or in ``jobs`` worker processes (`parallel.read_ahead`;
        ``None``: one per core). The default is this process only: worker processes
        re-import the caller's main module, which a script must then guard with
        ``if __name__ == "__main__":``; the command line uses every core.

        A source whose content (SHA-256) the store already holds is skipped:
        ingesting the same file twice adds nothing. A source that cannot be read is
        recorded in ``errors`` and the others still load.
        """
        opts = opts or IngestOptions()
        started = time.perf_counter()
        report = LoadReport()
        self._ensure_table()
        self.discard_unfinished()
        first_seq = self._next_seq
        scratch = registry.scratch_dir()
        pending = _Pending()
        stored = self.sources()
        workers = parallel.default_jobs() if jobs is None else jobs
        try:
            plan = self._plan(paths, scratch)
            with _one_thread(self._connection, workers > 1):
                for planned, reading in parallel.read_ahead(
                    plan, _Planned.to_read, opts, jobs=workers, known=stored
                ):
                    try:
                        self._load_source(planned, reading, stored, opts, report, progress, pending)
                    finally:
                        if planned.source is not None and planned.source.temporary:
                            assert planned.source.path is not None
                            planned.source.path.unlink(missing_ok=True)
            self._flush(pending, final=True)
        except BaseException as exc:
            if pending.open is not None:  # roll back what the load had not committed
                pending.open.__exit__(type(exc), exc, exc.__traceback__)
            if isinstance(exc, _WriteError):
                raise exc.error from None
            raise
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        report.sourcetypes = self._sourcetype_counts(first_seq)
        report.elapsed = time.perf_counter() - started
        return report

    def _plan(self, paths: Sequence[Path], scratch: Path) -> Iterator[_Planned]:
        """The sources of ``paths`` in order. Their content hashes are taken later, by
        the worker that reads the file or by `_load_source`: hashing every file here,
        in one process, cost as much as parsing them (issue 14)."""
        for raw_path in paths:
            for source in registry.expand(Path(raw_path), scratch):
                if isinstance(source, registry.SourceError):
                    yield _Planned(source.name, error=source.reason)
                else:
                    yield _Planned(source.name, source)

    def _load_source(
        self,
        planned: _Planned,
        reading: parallel.Read | None,
        known: dict[str, int],
        opts: IngestOptions,
        report: LoadReport,
        progress: Progress | None,
        pending: _Pending,
    ) -> None:
        """Take one planned source's records into the pending batch, or count it as
        already stored (its content hash is in ``known``, the store's sources when the
        load began, or was read earlier in this load), or record why it could not be
        read.

        Records of many small sources share one batch: a DuckDB insert per file would cost
        more than reading the file.
        """
        name, source = planned.name, planned.source
        if planned.error is not None:
            report.errors.append(f"{name}: {planned.error}")
            return
        assert source is not None and reading is not None
        digest = reading.digest
        if digest is None:
            try:
                with source.open() as fh:
                    digest = parallel.file_digest(fh)
            except OSError as exc:
                report.errors.append(f"{name}: cannot read: {_reason(exc)}")
                return
        records = known.get(digest, pending.hashes.get(digest))
        if records is not None:
            report.already_stored.append(name)
            report.duplicates += records
            report.files += 1
            return
        seen = stored = 0
        try:
            fmt, items = reading()
            for item in items:
                if isinstance(item, Reject):
                    report.records_read += 1
                    seen += 1
                    report.rejects.append(item)
                    continue
                if isinstance(item, Rows):
                    n = len(item)
                else:
                    n = 1
                    item.setdefault(RECORD_ID, str(seen + 1))
                report.records_read += n
                report.stored += n
                seen += n
                stored += n
                pending.add(item, digest)
                if pending.size >= self._batch_size:
                    try:
                        self._flush(pending)
                    except OSError as exc:  # the store's (or sink's), not this file's
                        raise _WriteError(exc) from exc
                    if progress is not None:
                        progress(name, seen)
            if progress is not None:
                progress(name, seen)
            pending.sources.append((digest, name, stored, fmt))
            pending.hashes[digest] = stored
        except UnsupportedInput as exc:
            report.errors.append(f"{name}: unsupported content: {exc.message}")
        except StoreFull:
            raise  # the store's disk, not this file: no later file can be stored either
        except OSError as exc:
            after = f" (after {seen} records)" if seen else ""
            report.errors.append(f"{name}: cannot read: {_reason(exc)}{after}")
        else:
            report.files += 1
            report.formats[fmt] = report.formats.get(fmt, 0) + 1

    def _flush(self, pending: _Pending, *, final: bool = False) -> None:
        """Insert the pending records and remember the sources they complete, in the
        load's open transaction (begun here if none is), and commit it once it holds
        `COMMIT_ROWS` records, or when ``final``: a source is in ``__sources`` exactly
        when all its records are stored (a crash in between leaves neither)."""
        if pending.size or pending.sources:
            if pending.open is None:
                pending.open = self.transaction()
                pending.open.__enter__()
            if pending.size:
                pending.uncommitted += self._insert(*pending.take())
            if pending.sources:
                self._append_rows(SOURCES_TABLE, pending.sources)
                pending.sources = []
        if pending.open is not None and (final or pending.uncommitted >= self._commit_rows):
            open_, pending.open, pending.uncommitted = pending.open, None, 0
            open_.__exit__(None, None, None)

    def _append_rows(self, table: str, rows: Sequence[tuple[object, ...]]) -> None:
        """Append rows to a catalog table in one statement (``executemany`` costs a
        statement per row: seconds for a folder of thousands of files)."""
        columns = list(zip(*rows, strict=True))
        batch = pa.table({f"c{i}": pa.array(list(values)) for i, values in enumerate(columns)})
        self._connection.register(_ROWS_VIEW, batch)
        try:
            self._connection.execute(
                f"INSERT INTO {quote_identifier(table)} SELECT * FROM {_ROWS_VIEW}"
            )
        finally:
            self._connection.unregister(_ROWS_VIEW)

    def _sourcetype_counts(self, first_seq: int) -> dict[str, int]:
        """Records stored since ``first_seq``, per sourcetype."""
        if "sourcetype" not in self._fields:
            return {}
        column = quote_identifier(self._fields["sourcetype"].column)
        if self._fields["sourcetype"].kind is ColumnKind.MULTI:
            column = f"{column}[1]"
        rows = self._connection.execute(
            f"SELECT coalesce({column}, '(none)'), count(*) FROM {quote_identifier(EVENTS_TABLE)} "
            f"WHERE {quote_identifier(SEQ_COLUMN)} >= ? GROUP BY 1 ORDER BY 2 DESC, 1",
            [first_seq],
        ).fetchall()
        return {str(name): int(n) for name, n in rows}

    def close(self) -> None:
        """Close the database; a temporary store's directory is deleted."""
        self._closed = True
        self._finalizer()

    def __enter__(self) -> EventStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ------------------------------------------------------------------ catalog

    def _read_catalog(self) -> None:
        """Rebuild the field mapping from an existing database (a reopened store)."""
        self._fields = {}
        self._taken = set()
        con = self._connection
        columns = con.execute(
            "SELECT column_name, data_type FROM duckdb_columns() "
            "WHERE database_name = current_database() AND schema_name = current_schema() "
            "AND table_name = ? ORDER BY column_index",
            [EVENTS_TABLE],
        ).fetchall()
        self._has_table = bool(columns)
        if not columns:
            self._next_seq = 0
            return
        names: dict[str, str] = {}
        if self._table_exists(FIELDS_TABLE):
            rows = con.execute(
                f"SELECT column_name, name FROM {quote_identifier(FIELDS_TABLE)} ORDER BY position"
            ).fetchall()
            names = {str(column): str(name) for column, name in rows}
        for column, data_type in columns:
            column = str(column)
            self._taken.add(column.casefold())
            if is_hidden(column):
                continue
            kind = (
                ColumnKind.MULTI
                if str(data_type).endswith("[]")
                else ColumnKind.NUMBER
                if str(data_type) == "DOUBLE"
                else ColumnKind.STRING
            )
            name = names.get(column, column)
            self._fields[name] = _Field(name, column, kind)
        (last,) = con.execute(
            f"SELECT max({quote_identifier(SEQ_COLUMN)}) FROM {quote_identifier(EVENTS_TABLE)}"
        ).fetchall()[0]  # fetchall: leave no unfinished result
        self._next_seq = 0 if last is None else int(last) + 1

    def _table_exists(self, table: str) -> bool:
        """Whether ``table`` exists in the current schema."""
        row = self._connection.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
            "AND schema_name = current_schema() AND table_name = ?",
            [table],
        ).fetchall()
        return bool(row and row[0][0])

    def _ensure_table(self) -> None:
        """Create ``events`` (with ``__seq`` and ``_time``) and ``__fields`` if missing."""
        if self._has_table:
            return
        con = self._connection
        con.execute(
            f"CREATE TABLE IF NOT EXISTS {quote_identifier(FIELDS_TABLE)} "
            "(position INTEGER, name VARCHAR, column_name VARCHAR, kind VARCHAR)"
        )
        con.execute(
            f"CREATE TABLE IF NOT EXISTS {quote_identifier(SOURCES_TABLE)} "
            "(hash VARCHAR, name VARCHAR, records BIGINT, format VARCHAR)"
        )
        con.execute(
            f"CREATE TABLE {quote_identifier(EVENTS_TABLE)} "
            f"({quote_identifier(SEQ_COLUMN)} BIGINT, {quote_identifier(_TIME)} DOUBLE, "
            f"{quote_identifier(SOURCE_COLUMN)} VARCHAR, {quote_identifier(RECORD_ID)} VARCHAR)"
        )
        self._taken = {
            SEQ_COLUMN.casefold(),
            _TIME.casefold(),
            SOURCE_COLUMN.casefold(),
            RECORD_ID.casefold(),
        }
        self._record_fields([_Field(_TIME, _TIME, ColumnKind.NUMBER)])
        self._has_table = True

    def _record_fields(self, fields: Sequence[_Field]) -> None:
        """Remember new fields, in memory and in ``__fields`` (one statement)."""
        if not fields:
            return
        rows = [
            (len(self._fields) + i, f.name, f.column, f.kind.value) for i, f in enumerate(fields)
        ]
        self._append_rows(FIELDS_TABLE, rows)
        for f in fields:
            self._fields[f.name] = f
            self._taken.add(f.column.casefold())

    def _physical_name(self, name: str) -> str:
        """A column name for a new field: the name itself if free, else a derived one."""
        base = "".join(ch if ch.isprintable() else "?" for ch in name)
        if not base:
            base = "field"
        elif is_hidden(base):
            base = "f" + base
        candidate, n = base, 2
        while candidate.casefold() in self._taken:
            candidate = f"{base}#{n}"
            n += 1
        return candidate

    def _add_fields(self, new: Sequence[tuple[str, ColumnKind]]) -> None:
        """Widen ``events`` with a column for each field seen for the first time."""
        added: list[_Field] = []
        for name, kind in new:
            column = self._physical_name(name)
            self._taken.add(column.casefold())  # before the next name is derived
            compression = " USING COMPRESSION zstd" if name in ZSTD_FIELDS else ""
            self._connection.execute(
                f"ALTER TABLE {quote_identifier(EVENTS_TABLE)} "
                f"ADD COLUMN {quote_identifier(column)} {_SQL_TYPE[kind]}{compression}"
            )
            added.append(_Field(name, column, kind))
        self._record_fields(added)

    def _promote(self, f: _Field) -> None:
        """Turn a single-value column multivalue; existing values become one-element lists."""
        col = quote_identifier(f.column)
        self._connection.execute(
            f"ALTER TABLE {quote_identifier(EVENTS_TABLE)} ALTER COLUMN {col} "
            f"SET DATA TYPE VARCHAR[] USING CASE WHEN {col} IS NULL THEN NULL ELSE [{col}] END"
        )
        self._connection.execute(
            f"UPDATE {quote_identifier(FIELDS_TABLE)} SET kind = ? WHERE name = ?",
            [ColumnKind.MULTI.value, f.name],
        )
        self._fields[f.name] = _Field(f.name, f.column, ColumnKind.MULTI)

    # ------------------------------------------------------------------ inserting

    def _insert(self, tables: Sequence[pa.Table], origins: Sequence[tuple[str, int]]) -> int:
        """Insert record tables (`records_to_table`'s form) in one transaction, schema
        changes included: new fields become columns, a field that holds a list anywhere
        turns multivalue. ``origins`` gives the source hash of the rows, in runs.
        Returns the rows inserted."""
        listed: set[str] = set()
        names: dict[str, None] = {}
        for table in tables:
            for f in table.schema:
                names[f.name] = None
                if pa.types.is_list(f.type):
                    listed.add(f.name)
        con = self._connection
        own = not self._in_transaction  # else the caller's transaction holds this
        if own:
            con.execute("BEGIN TRANSACTION")
        try:
            new: list[tuple[str, ColumnKind]] = []
            for name in names:
                if name in _HIDDEN_KEYS:
                    continue
                known = self._fields.get(name)
                if known is None:
                    new.append((name, ColumnKind.MULTI if name in listed else ColumnKind.STRING))
                elif known.kind is ColumnKind.STRING and name in listed:
                    self._promote(known)
            self._add_fields(new)
            batch = pa.concat_tables(
                [self._as_columns(table) for table in tables], promote_options="default"
            )
            n: int = batch.num_rows
            batch = batch.append_column(
                SEQ_COLUMN, pa.array(range(self._next_seq, self._next_seq + n), pa.int64())
            ).append_column(
                SOURCE_COLUMN,
                pa.array([digest for digest, rows in origins for _ in range(rows)], pa.string()),
            )
            if self._sink is not None:
                self._sink(batch, {f.column: (f.name, f.kind) for f in self._fields.values()})
            else:
                con.register(_BATCH_VIEW, batch)
                try:
                    con.execute(
                        f"INSERT INTO {quote_identifier(EVENTS_TABLE)} BY NAME "
                        f"SELECT * FROM {quote_identifier(_BATCH_VIEW)}"
                    )
                finally:
                    con.unregister(_BATCH_VIEW)
            if own:
                con.execute("COMMIT")
        except BaseException:
            if own:
                con.execute("ROLLBACK")
                self._read_catalog()
            raise
        self._next_seq += n
        return n

    def _as_columns(self, table: pa.Table) -> pa.Table:
        """A record table with its fields under their column names and kinds (single
        values of a multivalue field as one-element lists); ``__src`` is the store's."""
        arrays: list[pa.ChunkedArray] = []
        columns: list[str] = []
        for name, column in zip(table.column_names, table.columns, strict=True):
            if name == SOURCE_COLUMN:
                continue
            if name == RECORD_ID:
                columns.append(name)
                arrays.append(column)
                continue
            f = self._fields[name]
            columns.append(f.column)
            arrays.append(as_lists(column) if f.kind is ColumnKind.MULTI else column)
        return pa.table(arrays, names=columns)


class _WriteError(Exception):
    """An `OSError` from writing a batch (the store's disk full, a sink's file), raised
    while a file is being read: carried past the handler that reports a file's own read
    errors (which would count the batch's records as stored), then raised as it was."""

    def __init__(self, error: OSError) -> None:
        super().__init__(str(error))
        self.error = error


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)
