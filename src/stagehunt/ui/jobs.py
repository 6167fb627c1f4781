"""Search jobs for the web UI: each search runs in its own thread on its own DuckDB
cursor, and its result is kept server-side in a DuckDB file of its own, from which the
page reads pages, field summaries, a histogram and exports.

Why a DuckDB file per job: the result can be millions of rows; the browser gets pages
(never the whole result), the server holds one batch in memory at a time, and the
summaries are SQL over the spooled rows, which DuckDB spills to disk past its limit.
Values are stored as JSON text (a string, a number, or a list of strings for a
multivalue field), column ``c<i>`` for the result's column ``i``: every identifier in the
SQL here is built from integers, never from request or result text.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import duckdb
import pyarrow as pa

from stagehunt.api import compile_on
from stagehunt.backends.base import Backend, QueryFailed
from stagehunt.backends.duckdb import DuckDBBackend
from stagehunt.backends.lake import Lake
from stagehunt.backends.stream import open_stream
from stagehunt.compile import CompiledQuery
from stagehunt.compile.dialects import DialectUnsupported
from stagehunt.knowledge import Knowledge
from stagehunt.lookups import LookupError_, LookupLibrary
from stagehunt.result import Value, as_number
from stagehunt.spl.errors import SplError
from stagehunt.spl.macros import MacroFileError, MacroLibrary
from stagehunt.store.event_store import EventStore

#: rows one page request may ask for
MAX_PAGE = 500
#: finished jobs kept (oldest dropped first, with their files)
KEEP_JOBS = 24
#: DuckDB memory for one job's spool (past it, DuckDB spills to the job's folder)
SPOOL_MEMORY = "256MB"


class Events(Protocol):
    """Where searches run: a store or a lake. ``open`` gives a backend on a connection of
    its own (a cursor), so two searches do not share one, and ``interrupt`` can stop it."""

    def open(self, spl_range: CompiledQuery | None) -> tuple[Backend, duckdb.DuckDBPyConnection]:
        """A backend for one search and the DuckDB connection it runs on."""
        ...

    def fields(self) -> list[str]:
        """The events' field names."""
        ...


@dataclass
class StoreEvents:
    """A store file: each search on a cursor of the store's connection."""

    store: EventStore

    def open(self, spl_range: CompiledQuery | None) -> tuple[Backend, duckdb.DuckDBPyConnection]:
        cursor = self.store.connection.cursor()
        schema = self.store.schema()
        columns = {n: self.store.column_for(n) for n in schema}
        return DuckDBBackend(cursor, schema, columns), cursor

    def fields(self) -> list[str]:
        return list(self.store.schema())


@dataclass
class LakeEvents:
    """A Parquet lake: each search on a view of the files its time range can reach."""

    lake: Lake

    def open(self, spl_range: CompiledQuery | None) -> tuple[Backend, duckdb.DuckDBPyConnection]:
        backend = self.lake.duckdb(spl_range.time_range if spl_range else (None, None))
        return backend, backend.connection

    def fields(self) -> list[str]:
        return list(self.lake.schema())


@dataclass(frozen=True)
class Problem:
    """Why a search did not run: one line, and where in the user's query when known."""

    message: str
    kind: str = "error"
    line: int | None = None
    column: int | None = None
    #: the user's query line the position is on (the page draws a caret under it)
    text: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "message": self.message,
            "kind": self.kind,
            "line": self.line,
            "column": self.column,
            "text": self.text,
        }


class SearchRejected(Exception):
    """The search cannot start (bad time range, broken query): the page shows it inline."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


@dataclass(frozen=True)
class Context:
    """How a search compiles: its macros, lookups and add-on knowledge. A plain search
    gets the server's (``--macros``, ``--lookups``, ``--addons``); an ESCU detection its
    library's (macros already expanded, the content's lookups, the bundled add-ons)."""

    macros: MacroLibrary | None = None
    lookups: Callable[[], LookupLibrary] = field(default=lambda: LookupLibrary(None))
    knowledge: Knowledge | None = None


@dataclass(frozen=True)
class Search:
    """What the page asked for: the query as typed and the time picker's range."""

    spl: str
    earliest: str | None = None
    latest: str | None = None
    lookups: Path | None = None
    #: a detection's name when the detections view started it
    detection: str | None = None
    #: how it compiles when not as the server's plain searches do
    context: Context | None = None


#: a time picker value: relative (-24h@h), now, epoch seconds or %m/%d/%Y:%H:%M:%S
_TIME_TOKEN = re.compile(r"[A-Za-z0-9@+\-:/.]{1,40}")


def time_prefix(search: Search) -> str:
    """The time picker as SPL time modifiers, on a line of their own before the query (so
    an error's line is off by one and its column unchanged). A query that starts with a
    generating command (``| makeresults``) has no base search to narrow: nothing."""
    from stagehunt.compile.timespec import parse_time_modifier

    if search.spl.lstrip().startswith("|"):
        return ""
    parts = []
    for name, value in (("earliest", search.earliest), ("latest", search.latest)):
        if value is None or not value.strip():
            continue
        value = value.strip()
        # one token of these characters: it needs no quotes and cannot add search terms
        if not _TIME_TOKEN.fullmatch(value):
            raise SearchRejected(Problem(f"invalid {name} time: {value!r}", "time range"))
        try:
            parse_time_modifier(value, time.time())
        except (ValueError, OverflowError):
            raise SearchRejected(Problem(f"invalid {name} time: {value!r}", "time range")) from None
        parts.append(f"{name}={value}")
    return " ".join(parts) + "\n" if parts else ""


def problem_of(exc: BaseException, prefix: str, spl: str) -> Problem:
    """The engine's own error, its position moved back to the user's query."""
    if isinstance(exc, SplError):
        pos = exc.pos - len(prefix)
        if pos < 0:
            return Problem(f"time range: {exc.message}", "time range")
        located = SplError(exc.message, pos, spl)
        start = spl.rfind("\n", 0, located.pos) + 1
        end = spl.find("\n", located.pos)
        return Problem(
            exc.message,
            exc.kind,
            located.line,
            located.column,
            spl[start : end if end >= 0 else len(spl)],
        )
    if isinstance(exc, DialectUnsupported | LookupError_ | MacroFileError):
        return Problem(str(exc))
    if isinstance(exc, duckdb.Error | QueryFailed):
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return Problem(f"the query failed while running: {first}")
    return Problem(f"{type(exc).__name__}: {exc}")


def _cell(value: Value) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False)


@dataclass
class Job:
    """One search: its thread, its engine connection (to interrupt it) and its spool."""

    id: str
    search: Search
    folder: Path
    state: str = "queued"  # queued, running, done, failed, cancelled
    problem: Problem | None = None
    columns: list[str] = field(default_factory=list)
    rows: int = 0
    #: each row is one stored event (`CompiledQuery.event_rows`): the events tab first
    events: bool = False
    sql: str = ""
    started: float = field(default_factory=time.time)
    finished: float | None = None
    _engine: duckdb.DuckDBPyConnection | None = None
    _spool: duckdb.DuckDBPyConnection | None = None
    _cancelled: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _summary: list[dict[str, Any]] | None = None

    # ------------------------------------------------------------------ running

    def run(self, events: Events, context: Context, now: float, prefix: str) -> None:
        """The thread's body: compile for the events, stream the rows into the spool."""
        spl = prefix + self.search.spl
        try:
            macros, lookups = context.macros, context.lookups()
            self.state = "running"
            backend, engine = events.open(self._ranged(events, spl, context, now))
            with self._lock:
                self._engine = engine
            if self._cancelled:
                raise duckdb.InterruptException("cancelled before it started")
            engine.execute("SET enable_progress_bar = true")
            engine.execute("SET enable_progress_bar_print = false")
            compiled = compile_on(
                backend,
                spl,
                macros=macros,
                now=now,
                lookups=lookups,
                knowledge=context.knowledge,
            )
            self.sql = compiled.render("duckdb", pretty=True)
            self.events = compiled.event_rows
            stream = open_stream(backend, compiled)
            self._open_spool(stream.columns)
            for batch in stream.batches:
                self._append(batch.rows)
                if self._cancelled:
                    stream.batches.close()
                    raise duckdb.InterruptException("cancelled")
            self.state = "done"
        except duckdb.InterruptException:
            self.state = "cancelled"
        except Exception as exc:  # every failure is the job's status, shown on the page
            if self._cancelled:
                self.state = "cancelled"
            else:
                self.problem = problem_of(exc, prefix, self.search.spl)
                self.state = "failed"
        finally:
            self.finished = time.time()
            with self._lock:
                if self._engine is not None:
                    self._engine.close()  # a store's cursor, or a lake view's connection
                self._engine = None

    @staticmethod
    def _ranged(events: Events, spl: str, context: Context, now: float) -> CompiledQuery | None:
        """A lake reads only the days a search's earliest/latest reach: compile once for
        its fields to learn the range (the store needs no such step)."""
        if not isinstance(events, LakeEvents):
            return None
        from stagehunt.api import compile_query

        lake = events.lake
        return compile_query(
            spl,
            lake.schema(),
            physical=lake.physical(),
            macros=context.macros,
            now=now,
            lookups=context.lookups(),
            knowledge=context.knowledge,
        )

    def _open_spool(self, columns: Sequence[str]) -> None:
        con = duckdb.connect(str(self.folder / "rows.duckdb"))
        con.execute("SET memory_limit = ?", [SPOOL_MEMORY])
        con.execute("SET temp_directory = ?", [str(self.folder / "spill")])
        cells = ", ".join(f"c{i} VARCHAR" for i in range(len(columns)))
        con.execute(f"CREATE TABLE rows (n BIGINT, t DOUBLE{', ' + cells if cells else ''})")
        with self._lock:
            self.columns = list(columns)
            self._spool = con

    def _append(self, rows: Sequence[tuple[Value, ...]]) -> None:
        if not rows:
            return
        width = len(self.columns)
        time_at = self.columns.index("_time") if "_time" in self.columns else None
        data: dict[str, Any] = {
            "n": pa.array(range(self.rows, self.rows + len(rows)), pa.int64()),
            "t": pa.array(
                [as_number(r[time_at]) if time_at is not None else None for r in rows], pa.float64()
            ),
        }
        for i in range(width):
            data[f"c{i}"] = pa.array([_cell(r[i]) for r in rows], pa.string())
        table = pa.table(data)
        with self._lock:
            assert self._spool is not None
            self._spool.register("batch_rows", table)
            self._spool.execute("INSERT INTO rows SELECT * FROM batch_rows")
            self._spool.unregister("batch_rows")
            self.rows += len(rows)

    def cancel(self) -> None:
        """Stop the engine where it is (DuckDB's ``interrupt``); the rows kept so far stay."""
        self._cancelled = True
        with self._lock:
            if self._engine is not None:
                self._engine.interrupt()

    def progress(self) -> float | None:
        """DuckDB's estimate for the statement running now (0..100), if it has one."""
        with self._lock:
            engine = self._engine
            if engine is None or self.state != "running":
                return None
            try:
                value = float(engine.query_progress())
            except (duckdb.Error, RuntimeError):
                return None
        return value if value >= 0 else None

    def status(self) -> dict[str, Any]:
        elapsed = (self.finished or time.time()) - self.started
        return {
            "id": self.id,
            "state": self.state,
            "rows": self.rows,
            "columns": self.columns,
            "events": self.events,
            "progress": self.progress(),
            "elapsed": round(elapsed, 3),
            "error": self.problem.as_json() if self.problem else None,
            "detection": self.search.detection,
        }

    # ------------------------------------------------------------------ reading

    def _read(self, sql: str, params: Sequence[object]) -> list[tuple[Any, ...]]:
        with self._lock:
            if self._spool is None:
                return []
            cursor = self._spool.cursor()
        try:
            return [tuple(r) for r in cursor.execute(sql, list(params)).fetchall()]
        finally:
            cursor.close()

    def page(self, offset: int, count: int) -> list[list[Any]]:
        """Rows ``offset`` .. ``offset + count`` (at most `MAX_PAGE`), values decoded."""
        count = max(0, min(int(count), MAX_PAGE))
        offset = max(0, int(offset))
        cells = ", ".join(f"c{i}" for i in range(len(self.columns))) or "NULL"
        rows = self._read(
            f"SELECT {cells} FROM rows WHERE n >= ? AND n < ? ORDER BY n", [offset, offset + count]
        )
        return [[None if v is None else json.loads(v) for v in row] for row in rows]

    def fields(self, top: int = 10) -> list[dict[str, Any]]:
        """Each column: how many rows have a value (coverage), distinct values, the top
        values by rows (a multivalue field counts each of its values). Computed once the
        job has ended (kept), else over the rows spooled so far."""
        if self._summary is not None:
            return self._summary
        out = []
        total = self.rows
        for i, name in enumerate(self.columns):
            c = f"c{i}"
            counted = self._read(f"SELECT count({c}) FROM rows", [])
            present = int(counted[0][0]) if counted else 0
            values = (
                f"unnest(CASE WHEN json_type({c}) = 'ARRAY' "
                f"THEN from_json({c}, '[\"VARCHAR\"]') ELSE [{c} ->> '$'] END)"
            )
            top_rows = self._read(
                f"SELECT v, count(*) AS k, count(*) OVER () AS d FROM "
                f"(SELECT {values} AS v FROM rows WHERE {c} IS NOT NULL) "
                f"GROUP BY v ORDER BY k DESC, v LIMIT ?",
                [top],
            )
            out.append(
                {
                    "name": name,
                    "count": present,
                    "coverage": round(100.0 * present / total, 2) if total else 0.0,
                    "distinct": int(top_rows[0][2]) if top_rows else 0,
                    "top": [{"value": v, "count": int(k)} for v, k, _ in top_rows],
                }
            )
        if self.state in ("done", "cancelled", "failed"):
            self._summary = out
        return out

    def histogram(self, buckets: int = 60) -> dict[str, Any]:
        """Rows over time (``_time``) in ``buckets`` equal spans of the result's range."""
        buckets = max(1, min(int(buckets), 500))
        span = self._read("SELECT min(t), max(t), count(t) FROM rows", [])
        if not span or span[0][0] is None:
            return {"start": None, "end": None, "width": None, "counts": []}
        low, high, _n = float(span[0][0]), float(span[0][1]), span[0][2]
        width = max((high - low) / buckets, 1.0)
        counts = [0] * buckets
        for index, k in self._read(
            "SELECT least(CAST(floor((t - ?) / ?) AS BIGINT), ?) AS b, count(*) FROM rows "
            "WHERE t IS NOT NULL GROUP BY b",
            [low, width, buckets - 1],
        ):
            counts[int(index)] = int(k)
        return {"start": low, "end": low + width * buckets, "width": width, "counts": counts}

    def batches(self, size: int = 2_000) -> Iterator[list[list[Any]]]:
        """Every spooled row, ``size`` at a time (exports stream these)."""
        offset = 0
        cells = ", ".join(f"c{i}" for i in range(len(self.columns))) or "NULL"
        while True:
            rows = self._read(
                f"SELECT {cells} FROM rows WHERE n >= ? AND n < ? ORDER BY n",
                [offset, offset + size],
            )
            if not rows:
                return
            yield [[None if v is None else json.loads(v) for v in row] for row in rows]
            offset += size

    def close(self) -> None:
        self.cancel()
        with self._lock:
            if self._spool is not None:
                self._spool.close()
                self._spool = None
        shutil.rmtree(self.folder, ignore_errors=True)


def display_time(value: Any) -> str:
    """``_time`` as the page and the exports show it (UTC, like the CLI's table)."""
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%d %H:%M:%S")
    return "" if value is None else str(value)


class Jobs:
    """The server's searches by id (random, unguessable); old finished ones dropped."""

    def __init__(
        self,
        events: Events,
        *,
        macros: MacroLibrary | None = None,
        lookups: Path | None = None,
        knowledge: Knowledge | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.events = events
        self.macros = macros
        self.lookups = lookups
        self.knowledge = knowledge
        self.clock = clock
        self.folder = Path(tempfile.mkdtemp(prefix="stagehunt-ui-"))
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def check(self, search: Search) -> str:
        """Refuse a search that cannot start (time range, syntax) before any thread runs:
        the prefix it runs with. Parsing needs no data (as the CLI does, before loading)."""
        from stagehunt.api import compile_query

        prefix = time_prefix(search)
        context = self.context(search)
        try:
            compile_query(
                prefix + search.spl,
                {},
                macros=context.macros,
                lookups=context.lookups(),
                knowledge=context.knowledge,
                now=self.clock(),
            )
        except (SplError, DialectUnsupported, LookupError_, MacroFileError) as exc:
            raise SearchRejected(problem_of(exc, prefix, search.spl)) from None
        return prefix

    def context(self, search: Search) -> Context:
        """The search's own context, else the server's with the search's lookups folder."""
        if search.context is not None:
            return search.context
        folder = search.lookups
        return Context(self.macros, lambda: LookupLibrary(folder), self.knowledge)

    def submit(self, search: Search) -> Job:
        prefix = self.check(search)
        job_id = secrets.token_hex(8)
        folder = self.folder / job_id
        folder.mkdir()
        job = Job(job_id, search, folder)
        with self._lock:
            self._jobs[job_id] = job
            self._evict()
        thread = threading.Thread(
            target=job.run,
            args=(self.events, self.context(search), self.clock(), prefix),
            name=f"stagehunt-job-{job_id}",
            daemon=True,
        )
        thread.start()
        return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def _evict(self) -> None:
        ended = [j for j in self._jobs.values() if j.finished is not None]
        for job in sorted(ended, key=lambda j: j.started)[: max(0, len(self._jobs) - KEEP_JOBS)]:
            del self._jobs[job.id]
            job.close()

    def close(self) -> None:
        with self._lock:
            jobs = list(self._jobs.values())
            self._jobs.clear()
        for job in jobs:
            job.close()
        shutil.rmtree(self.folder, ignore_errors=True)
