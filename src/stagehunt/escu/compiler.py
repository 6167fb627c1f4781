"""Compile ESCU detections one by one into :class:`~stagehunt.escu.status.Outcome`\\ s.

Each detection's search is expanded (comments blanked, macros from the library's layers),
then compiled with the library's lookups and the add-ons' knowledge. Whatever goes wrong
becomes that detection's status; nothing stops the others and nothing is skipped.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import partial

from stagehunt.api import compile_query
from stagehunt.compile import CompiledQuery
from stagehunt.compile.lookup import LookupUnavailable
from stagehunt.compile.prepared import Prepared, PreparedTable
from stagehunt.escu import cache as statements
from stagehunt.escu.content import Detection
from stagehunt.escu.library import Library
from stagehunt.escu.lookups import ABSENT as LOOKUP_ORIGINS
from stagehunt.escu.macros import ABSENT
from stagehunt.escu.status import Outcome, Status, command_at, group_of
from stagehunt.garbage import collected_in_batches
from stagehunt.knowledge import Knowledge
from stagehunt.lookups import LookupTable
from stagehunt.sigma.cache import ConversionCache
from stagehunt.spl.errors import SplError
from stagehunt.spl.macros import MacroLibrary, UnknownMacro
from stagehunt.store.schema import EVENTS_TABLE, ColumnKind
from stagehunt.terminate import check as check_stop

_NO_MACROS = MacroLibrary()


def expand(library: Library, detection: Detection, used: list[str] | None = None) -> str:
    """The detection's SPL with comments blanked and every macro expanded."""
    return library.macros.library.expand(detection.search, used)


def compile_detection(
    library: Library,
    detection: Detection,
    prepared: Prepared | None = None,
    *,
    schema: Mapping[str, ColumnKind] | None = None,
    table: str = EVENTS_TABLE,
    physical: Mapping[str, str] | None = None,
    now: float | None = None,
) -> Outcome:
    """One detection's outcome: ``compiled`` with its query, or why not. With the
    library's knowledge, the query reads ``prepared`` tables (the add-on events and the
    datasets; the library's static ones when none are given: compile/prepared.py);
    without it, the stored events (``schema``, ``table``, ``physical``) as they are.
    ``now``: the search's start time (``now()``, time modifiers), else the clock's."""
    start = time.perf_counter()
    target = _Target(schema or {}, table, physical or {}, None, {})
    prepared = prepared or library.prepared()
    if prepared is not None:
        events = prepared.events
        target = _Target(
            events.schema, events.table, events.physical, prepared.knowledge, prepared.datasets
        )
    outcome = _compile(library, detection, target, now)
    outcome.seconds = time.perf_counter() - start
    return outcome


def cached_detection(
    library: Library,
    detection: Detection,
    prepared: Prepared,
    cache: ConversionCache,
    target: str,
    *,
    statement: bool = True,
) -> Outcome | statements.ClockBound | None:
    """The detection's outcome from ``cache`` (escu/cache.py; ``target`` its
    `target_key`): its statement, the datasets it reads built, or its kept failure;
    without ``statement``, a compiled outcome may come without its query (only the
    status was kept). None when it is not there (compile it), `statements.ClockBound`
    when it compiles to its start time (compile it, and do not try to keep it)."""
    start = time.perf_counter()
    used: list[str] = []
    try:
        expanded = expand(library, detection, used)
    except SplError:  # compiling says why
        return None
    entry = statements.get(cache, expanded, target, library.lookups.library, statement=statement)
    if entry is None or isinstance(entry, statements.ClockBound):
        return entry
    notes = _override_notes(library, used)
    if isinstance(entry, statements.CachedFailure):
        outcome = Outcome(
            detection,
            Status.UNSUPPORTED,
            expanded,
            reason=entry.reason,
            group=entry.group,
            error=entry.error,
            notes=notes,
        )
    else:
        compiled = None
        if isinstance(entry, statements.CachedStatement):
            for name in entry.datasets:  # prepared on first read, as compiling would
                prepared.datasets[name]
            compiled = entry.compiled()
        notes.extend(_lookup_notes(library, entry.tables))
        outcome = Outcome(detection, Status.COMPILED, expanded, notes=notes, compiled=compiled)
    outcome.seconds = time.perf_counter() - start
    return outcome


def compile_all(
    library: Library,
    detections: Iterable[Detection] | None = None,
    prepared: Prepared | None = None,
    *,
    cache: ConversionCache | None = None,
    table: str | None = None,
    statements_needed: bool = True,
) -> Iterator[Outcome]:
    """Each detection's outcome, in order. With a ``cache`` (and the library's knowledge),
    each is read from it when kept there, else compiled and kept when it can be
    (`compile_through_cache`; ``table``: the events table statements run over, by default
    the prepared add-on events'; without ``statements_needed``, a compiled outcome may
    come without its query, and only its status is kept)."""
    chosen = library.detections if detections is None else detections
    prepared = prepared or library.prepared()
    if cache is None or prepared is None:
        for detection in collected_in_batches(chosen):
            yield compile_detection(library, detection, prepared)
        return
    target = statements.target_key(prepared)
    table = table or prepared.events.table
    for detection in collected_in_batches(chosen):
        yield compile_through_cache(
            library, detection, prepared, cache, table, target, statement=statements_needed
        )


def compile_through_cache(
    library: Library,
    detection: Detection,
    prepared: Prepared,
    cache: ConversionCache,
    table: str,
    target: str | None = None,
    *,
    statement: bool = True,
) -> Outcome:
    """One detection's outcome read from ``cache`` when there (``target``:
    `statements.target_key` of ``prepared``), else compiled, and kept when its statement
    is storable or it failed in a way that can be kept (escu/cache.py); without
    ``statement``, a compiled one is kept as its status only."""
    target = target or statements.target_key(prepared)
    kept = cached_detection(library, detection, prepared, cache, target, statement=statement)
    if isinstance(kept, Outcome):
        return kept
    now = time.time()
    outcome = compile_detection(library, detection, prepared, now=now)
    if kept is not None:  # compiles to its start time: nothing to keep
        return outcome
    compiled, spl = outcome.compiled, outcome.expanded
    if compiled and spl and not statement:
        statements.put_status(cache, spl, target, compiled)
    elif compiled and spl and statements.storable(compiled, table):
        # rendered once: kept, and run as that text
        again = partial(_at, library, detection, prepared)
        outcome.compiled = statements.put(cache, spl, target, compiled, now=now, again=again)
    elif outcome.status is Status.UNSUPPORTED and outcome.error is not None and spl:
        assert outcome.reason is not None and outcome.group is not None
        failure = statements.CachedFailure(
            outcome.reason, outcome.group, outcome.error, outcome.lookups_read
        )
        why = partial(_why_at, library, detection, prepared)
        statements.put_failure(cache, spl, target, failure, now=now, again=why)
    return outcome


def _at(
    library: Library, detection: Detection, prepared: Prepared, now: float
) -> CompiledQuery | None:
    """The detection compiled as if its search started at ``now``."""
    return compile_detection(library, detection, prepared, now=now).compiled


def _why_at(
    library: Library, detection: Detection, prepared: Prepared, now: float
) -> tuple[str, str] | None:
    """Why the detection does not compile as if its search started at ``now`` (reason,
    group), or None when it does."""
    outcome = compile_detection(library, detection, prepared, now=now)
    if outcome.reason is None or outcome.group is None:
        return None
    return outcome.reason, outcome.group


@dataclass(frozen=True)
class _Target:
    """What a detection is compiled for: the events' table and fields, the knowledge
    still to apply, the datasets held as tables."""

    schema: Mapping[str, ColumnKind]
    table: str
    physical: Mapping[str, str]
    knowledge: Knowledge | None
    datasets: Mapping[str, PreparedTable]


def _compile(
    library: Library, detection: Detection, target: _Target, now: float | None = None
) -> Outcome:
    used: list[str] = []
    try:
        expanded = expand(library, detection, used)
    except UnknownMacro as err:
        why = ABSENT.get(err.key, "not in the content's macros/ and not built in")
        return _failed(detection, Status.MISSING, None, err, f"macro `{err.key}`: {why}")
    except SplError as err:
        return _failed(detection, Status.UNSUPPORTED, None, err)
    outcome = Outcome(detection, Status.COMPILED, expanded)
    outcome.notes.extend(_override_notes(library, used))
    lookups = library.lookups.library.view()
    try:
        outcome.compiled = compile_query(
            expanded,
            target.schema,
            table=target.table,
            physical=target.physical,
            macros=_NO_MACROS,
            lookups=lookups,
            knowledge=target.knowledge,
            datasets=target.datasets,
            now=now,
        )
    except LookupUnavailable as err:
        if not err.missing:
            return _failed(detection, Status.ERROR, expanded, err, notes=outcome.notes)
        origin = LOOKUP_ORIGINS.get(err.lookup)
        reason = f"{err.message} ({origin})" if origin else None
        return _failed(detection, Status.MISSING, expanded, err, reason, outcome.notes)
    except SplError as err:
        failed = _failed(detection, Status.UNSUPPORTED, expanded, err, notes=outcome.notes)
        failed.lookups_read = tuple(lookups.loaded())
        return failed
    except Exception as exc:  # a stagehunt bug: say so for this detection, go on
        check_stop()  # or DuckDB's report of Ctrl-C or SIGTERM: then the run stops
        outcome.status = Status.ERROR
        outcome.reason = f"internal error while compiling: {type(exc).__name__}: {exc}"
        outcome.group = f"internal error ({type(exc).__name__})"
        return outcome
    outcome.notes.extend(_lookup_notes(library, lookups.loaded()))
    return outcome


def _lookup_notes(library: Library, tables: Iterable[LookupTable]) -> list[str]:
    """What a user should know about the lookups a detection reads."""
    notes: list[str] = []
    for table in tables:
        if table.note:
            notes.append(table.note)
        ignored = library.lookups.ignored.get(table.name)
        if ignored:
            notes.append(f"lookup '{table.name}': ignored keys: {', '.join(ignored)}")
    return notes


def _override_notes(library: Library, used: list[str]) -> list[str]:
    notes: list[str] = []
    for key in dict.fromkeys(used):
        override = library.macros.overrides.get(key)
        if override is not None:
            notes.append(f"macro `{key}` from {override.origin}: {override.reason}")
    return notes


def _failed(
    detection: Detection,
    status: Status,
    expanded: str | None,
    err: SplError,
    reason: str | None = None,
    notes: list[str] | None = None,
) -> Outcome:
    command = command_at(err.query, err.pos)
    kind = "" if status is Status.MISSING else f"{err.kind} "
    group = _missing_group(err) if status is Status.MISSING else group_of(err.message, command)
    return Outcome(
        detection,
        status,
        expanded,
        reason=f"{kind}at {err.line}:{err.column}: {reason or err.message}",
        group=group,
        error=err,
        notes=list(notes or []),
    )


def _missing_group(err: SplError) -> str:
    if isinstance(err, UnknownMacro):
        return f"macro `{err.key}`"
    if isinstance(err, LookupUnavailable):
        return f"lookup {err.lookup}"
    return err.message
