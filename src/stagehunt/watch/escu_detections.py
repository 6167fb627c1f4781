"""Splunk ESCU detections as watch sources (``stagehunt watch --escu NAME_OR_GLOB``).

An ESCU detection mostly starts with a generating command (``| tstats ... from
datamodel=Endpoint.Processes``), so there is no leading search to add ``earliest=`` to.
It is bounded the way a Splunk search job is, by its time range rather than its text: it
runs on an engine whose events *are* the window's events, a DuckDB view of the stored
events with ``start <= _time < end``. The add-on events and the data model datasets
(backends/accelerate.py) are built from that view, so ``tstats``, ``from datamodel`` and
plain searches all read the window only; lookups are not events and are read whole.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from stagehunt.backends.accelerate import AcceleratedBackend, accelerate
from stagehunt.backends.base import Backend, QueryFailed, run_compiled
from stagehunt.backends.duckdb import DuckDBBackend
from stagehunt.compile.dialects import DialectUnsupported
from stagehunt.compile.prepared import Prepared
from stagehunt.escu.compiler import compile_detection, compile_through_cache
from stagehunt.escu.content import ContentError, Detection, find_content
from stagehunt.escu.library import Library, load_library
from stagehunt.escu.runner import kept_tables
from stagehunt.escu.status import Status
from stagehunt.result import ResultTable
from stagehunt.scratch import ScratchFolder
from stagehunt.sigma.cache import ConversionCache
from stagehunt.store.event_store import EventStore, quote_identifier
from stagehunt.store.schema import EVENTS_TABLE, SEQ_COLUMN
from stagehunt.watch.detections import DetectionFailed
from stagehunt.watch.windows import WatchSpec, WindowError, parse_span

#: the view of one window's events (a temporary view of the watcher's connection; the
#: prepared tables are named after it: ``__watch_window__addon_events``, ...)
WINDOW_VIEW = "__watch_window"
#: ESCU's ``stats count min(_time) as firstTime max(_time) as lastTime by ...``: fields
#: that grow as events of the same group arrive in the window, so they do not name an
#: alert (the group's other fields do: one alert per group and window)
GROWING = ("count", "firstTime", "lastTime")
_GLOB = frozenset("*?[")


@dataclass
class WindowTables:
    """The engine a window's detections run on, built once per window and store state:
    the detections of one pass that read the same window share its prepared tables.

    Every window's view has the same name, so the statements of its tables and of the
    detections are the same from one window to the next while the store's fields stay
    the same: they are kept in a cache of the watcher's own (escu/cache.py: none that
    names the clock, lookups checked by fingerprint), and a window compiles only what
    is new. Measured with ESCU's 472 ``windows_*`` detections over the real logs, four
    6-day windows: 21-23 s a window compiling everything, 8.5-8.7 s a window after the
    first (17 s), the same rows."""

    library: Library
    _key: tuple[int, int, int] | None = field(default=None, repr=False)
    _engine: tuple[Backend, Prepared | None] | None = field(default=None, repr=False)
    cache: ConversionCache = field(init=False, repr=False)
    _folder: ScratchFolder = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._folder = ScratchFolder("stagehunt-watch-escu-")
        self.cache = ConversionCache(self._folder.path)

    def engine(self, store: EventStore, start: int, end: int) -> tuple[Backend, Prepared | None]:
        """An engine over the events of ``[start, end)``, and its prepared tables (None
        without the add-ons' knowledge: the detections then read the view as stored)."""
        con = store.connection
        events, seq = quote_identifier(EVENTS_TABLE), quote_identifier(SEQ_COLUMN)
        (last,) = con.execute(f"SELECT coalesce(max({seq}), 0) FROM {events}").fetchall()[0]
        key = (start, end, int(last))
        if key == self._key and self._engine is not None:
            return self._engine
        time = quote_identifier(store.column_for("_time"))
        # the bounds are integers computed by the watcher (int() makes sure): DuckDB
        # takes no parameters in a view's definition
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW {quote_identifier(WINDOW_VIEW)} AS "
            f"SELECT * FROM {events} WHERE {time} >= {int(start)} AND {time} < {int(end)}"
        )
        schema = store.schema()
        base = DuckDBBackend(con, schema, {n: store.column_for(n) for n in schema}, WINDOW_VIEW)
        knowledge = self.library.knowledge
        if knowledge is None:
            self._engine = (base, None)
        else:
            prepared = accelerate(base, knowledge, kept=kept_tables(base, knowledge, self.cache))
            self._engine = (AcceleratedBackend(base, prepared), prepared)
        self._key = key
        return self._engine


@dataclass
class EscuDetection:
    """One ESCU detection, run on each window's events; named ``escu:<id>`` (ESCU's ids
    outlive renames, so alerts and cursors survive a content update)."""

    detection: Detection
    spec: WatchSpec
    tables: WindowTables
    name: str = field(init=False)

    def __post_init__(self) -> None:
        self.name = f"escu:{self.detection.id}"

    def run(self, store: EventStore, start: int, end: int) -> ResultTable:
        engine, prepared = self.tables.engine(store, start, end)
        library = self.tables.library
        if prepared is not None:
            cache = self.tables.cache
            outcome = compile_through_cache(library, self.detection, prepared, cache, engine.table)
        else:
            outcome = compile_detection(
                library,
                self.detection,
                prepared,
                schema=engine.schema(),
                table=engine.table,
                physical=engine.physical(),
            )
        began = datetime.fromtimestamp(start, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        where = f"ESCU detection '{self.detection.name}', window {began}"
        if outcome.status is not Status.COMPILED or outcome.compiled is None:
            raise DetectionFailed(f"{where}: {outcome.reason}")
        try:
            return run_compiled(engine, outcome.compiled)
        except (duckdb.Error, QueryFailed, DialectUnsupported) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise DetectionFailed(f"{where}: {first}") from None


def escu_detections(
    patterns: Sequence[str], content: Path | None, window: str, writes: Path
) -> tuple[list[EscuDetection], list[str]]:
    """The ESCU detections ``patterns`` name, and one ``not watched`` line for each that
    does not compile (missing content, unsupported SPL). A pattern is what ``escu run``
    takes (name, file stem, filter macro stem, id; case ignored), or a glob over names
    and file stems; one that names nothing is a `WindowError`. ``outputlookup`` writes
    go to ``writes``, never into the content."""
    spec = WatchSpec(parse_span(window), (), GROWING)
    try:
        library = load_library(find_content(content))
    except ContentError as exc:
        raise WindowError(str(exc)) from None
    library.lookups.library.writes = writes
    chosen: dict[str, Detection] = {}
    for pattern in patterns:
        for detection in _matching(library, pattern):
            chosen.setdefault(detection.id, detection)
    tables = WindowTables(library)
    out: list[EscuDetection] = []
    notes: list[str] = []
    for detection in chosen.values():
        outcome = compile_detection(library, detection)  # the add-ons' static fields
        if outcome.status is Status.COMPILED:
            out.append(EscuDetection(detection, spec, tables))
        else:
            notes.append(f"not watched: {detection.name}: {outcome.reason}")
    return out, notes


def _matching(library: Library, pattern: str) -> list[Detection]:
    try:
        return [library.find(pattern)]
    except ContentError as exc:
        if not _GLOB & set(pattern):
            raise WindowError(f"--escu: {exc}") from None
    glob = pattern.casefold().strip()
    found = [
        d
        for d in library.detections
        if fnmatch.fnmatchcase(d.name.casefold(), glob)
        or fnmatch.fnmatchcase(d.path.stem.casefold(), glob)
    ]
    if not found:
        raise WindowError(f"--escu '{pattern}': no ESCU detection matches in {library.folder}")
    return found
