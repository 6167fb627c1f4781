"""Run ESCU detections on an engine's events: compile each for the events' fields, run
the ones that compile, keep the first rows of each result.

A detection that fails at run time (the engine refuses or fails the statement) is an
``error`` outcome with the engine's first line; the others still run.
"""

from __future__ import annotations

import queue
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import duckdb

from stagehunt.backends.accelerate import AcceleratedBackend, Materializing, accelerate
from stagehunt.backends.base import Backend, QueryFailed, run_compiled
from stagehunt.backends.duckdb import DuckDBBackend
from stagehunt.backends.search_order import runs_as_is
from stagehunt.compile import CompiledQuery
from stagehunt.compile.dialects import DialectUnsupported
from stagehunt.escu import cache as statements
from stagehunt.escu.compiler import compile_all, compile_detection
from stagehunt.escu.content import Detection
from stagehunt.escu.library import Library
from stagehunt.escu.status import Outcome, Status
from stagehunt.ingest.parallel import cores
from stagehunt.knowledge import Knowledge
from stagehunt.sigma.cache import ConversionCache
from stagehunt.terminate import check as check_stop


def run_detections(
    library: Library,
    backend: Backend,
    detections: Iterable[Detection] | None = None,
    *,
    keep_rows: int | None = None,
    cache: ConversionCache | None = None,
    jobs: int | None = None,
) -> Iterator[Outcome]:
    """Each detection's outcome, in order; a ``ran`` outcome keeps at most ``keep_rows``
    result rows (``row_count`` has them all).

    With the library's knowledge, the add-on events and the datasets the detections read
    are prepared once on the engine (backends/accelerate.py) and every detection runs on
    them; without it, on the stored events. With a ``cache`` (DuckDB only), compiled
    statements are read from it and kept in it (escu/cache.py). On DuckDB, statements
    run on ``jobs`` cursors at once (default: one per core; 1: one at a time, here)
    while the next detections compile."""
    chosen = list(library.detections if detections is None else detections)
    if library.knowledge is None or not isinstance(backend, Materializing):
        for detection in chosen:
            outcome = compile_detection(
                library,
                detection,
                schema=backend.schema(),
                table=backend.table,
                physical=backend.physical(),
            )
            if outcome.status is Status.COMPILED:
                _run(outcome, backend, keep_rows)
            yield outcome
        return
    prepared = accelerate(  # datasets: when first read
        backend, library.knowledge, kept=_kept_tables(backend, library, cache)
    )
    engine = AcceleratedBackend(backend, prepared)
    kept = cache if backend.dialect == "duckdb" else None  # statements kept are DuckDB's
    outcomes = compile_all(library, chosen, prepared, cache=kept, table=engine.table)
    cursors = _cursors(backend, jobs)
    if not cursors:
        for outcome in outcomes:
            if outcome.status is Status.COMPILED:
                _run(outcome, engine, keep_rows)
            yield outcome
        return
    yield from _run_on_cursors(outcomes, engine, cursors, keep_rows)


def _cursors(backend: Backend, jobs: int | None) -> list[DuckDBBackend]:
    """The engine on a cursor of its own for each of ``jobs`` threads (default: one per
    core); none when one would do, or the engine has no cursors (Spark) or its events
    are not visible from another cursor."""
    jobs = cores() if jobs is None else jobs
    if jobs < 2 or not isinstance(backend, DuckDBBackend):
        return []
    out: list[DuckDBBackend] = []
    for _ in range(jobs):
        cursor = backend.cursor()
        if cursor is None:
            for made in out:
                made.connection.close()
            return []
        out.append(cursor)
    return out


#: Statements run ahead of the outcome the caller waits for, per thread.
AHEAD_PER_THREAD = 4


def _run_on_cursors(
    outcomes: Iterable[Outcome],
    engine: AcceleratedBackend,
    cursors: list[DuckDBBackend],
    keep_rows: int | None,
) -> Iterator[Outcome]:
    """Each outcome run and yielded in order, the statements on ``cursors``, one thread
    each, while the next detections compile here: DuckDB runs them at once and lets go
    of the GIL while it does (a warm library run is mostly DuckDB executing statements,
    an uncached one half compiling). A statement with effects outside its result (an
    ``outputlookup`` a later detection may read, tables built from the data first, or
    one run in time slices under a memory cap, a setting of the whole database) waits
    for every earlier one and runs alone, here, on ``engine``."""
    free: queue.SimpleQueue[AcceleratedBackend] = queue.SimpleQueue()
    for cursor in cursors:
        free.put(AcceleratedBackend(cursor, engine.prepared))

    def run(outcome: Outcome) -> Outcome:
        cursor = free.get()
        try:
            _run(outcome, cursor, keep_rows)
        finally:
            free.put(cursor)
        return outcome

    waiting: deque[Future[Outcome] | Outcome] = deque()
    pool = ThreadPoolExecutor(len(cursors), thread_name_prefix="stagehunt-escu")
    try:
        for outcome in outcomes:
            compiled = outcome.compiled
            if outcome.status is not Status.COMPILED or compiled is None:
                waiting.append(outcome)
            elif _alone(compiled, engine.table):
                while waiting:
                    yield _done(waiting.popleft())
                _run(outcome, engine, keep_rows)
                yield outcome
                continue
            else:
                waiting.append(pool.submit(run, outcome))
            while waiting and (
                len(waiting) > AHEAD_PER_THREAD * len(cursors) or _ready(waiting[0])
            ):
                yield _done(waiting.popleft())
        while waiting:
            yield _done(waiting.popleft())
    except BaseException:  # a stop, or the caller's error: no statement's rows are wanted
        for cursor in cursors:
            cursor.connection.interrupt()
        raise
    finally:  # also when the caller stops early: the running statements end first
        pool.shutdown(wait=True, cancel_futures=True)
        for cursor in cursors:
            cursor.connection.close()


def _alone(compiled: CompiledQuery, table: str) -> bool:
    """Whether the statement has effects beyond its rows (see `_run_on_cursors`)."""
    return bool(compiled.outputs or compiled.deferred) or not runs_as_is(compiled, table)


def _ready(item: Future[Outcome] | Outcome) -> bool:
    return not isinstance(item, Future) or item.done()


def _done(item: Future[Outcome] | Outcome) -> Outcome:
    return item.result() if isinstance(item, Future) else item


def _kept_tables(
    backend: Materializing, library: Library, cache: ConversionCache | None
) -> statements.KeptTableStatements | None:
    """Where the run's table statements are kept (DuckDB only, like the detections')."""
    if cache is None or backend.dialect != "duckdb" or library.knowledge is None:
        return None
    return kept_tables(backend, library.knowledge, cache)


def kept_tables(
    backend: Materializing, knowledge: Knowledge, cache: ConversionCache
) -> statements.KeptTableStatements | None:
    """The table statements of an engine over ``backend``'s events, kept in ``cache``
    (None when the knowledge reads the clock: those tables compile every time)."""
    key = statements.tables_key(backend.table, backend.schema(), backend.physical(), knowledge)
    return None if key is None else statements.KeptTableStatements(cache, key)


def _run(outcome: Outcome, backend: Backend, keep_rows: int | None) -> None:
    """Run the outcome's statement: its emptiness check first, where it has one (most of
    a library's statements return nothing over a case's logs: compile/emptiness.py)."""
    assert outcome.compiled is not None
    start = time.perf_counter()
    compiled = outcome.compiled
    try:
        if backend.dialect == "duckdb" and runs_as_is(compiled, backend.table):
            compiled = compiled.with_duckdb_text()  # pruned once for the text and check
        result = run_compiled(backend, compiled)
    except DialectUnsupported as exc:
        outcome.status = Status.UNSUPPORTED
        outcome.reason = f"not supported on {backend.dialect}: {exc}"
        outcome.group = f"{backend.dialect}: {exc}"
    except (duckdb.Error, QueryFailed) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        outcome.status = Status.ERROR
        outcome.reason = f"the query failed while running: {first}"
        outcome.group = f"run time: {type(exc).__name__}"
    except Exception as exc:  # a stagehunt bug: report it for this detection and go on
        check_stop()  # or DuckDB's report of Ctrl-C or SIGTERM: then the run stops
        outcome.status = Status.ERROR
        outcome.reason = f"internal error while running: {type(exc).__name__}: {exc}"
        outcome.group = f"internal error ({type(exc).__name__})"
    else:
        outcome.status = Status.RAN
        outcome.row_count = len(result.rows)
        if keep_rows is not None:
            result.rows = result.rows[:keep_rows]
        outcome.result = result
    outcome.seconds += time.perf_counter() - start
