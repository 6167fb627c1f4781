"""What a watcher runs: a detection source gives a name, a watch spec (window, key)
and the results of one window. Pack detections and Sigma rules are here; ESCU
detections implement the same protocol in escu_detections.py."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from stagehunt.api import compile_query, run_on
from stagehunt.backends.duckdb import DuckDBBackend
from stagehunt.lookups import LookupLibrary
from stagehunt.packs import load_pack
from stagehunt.result import ResultTable
from stagehunt.store.event_store import EventStore
from stagehunt.watch.windows import SIGMA_WINDOW, WatchSpec, WindowError, parse_span, spec_from


class DetectionFailed(RuntimeError):
    """A detection that compiled at start failed on a window's events (one line). The
    watcher stops: the detection's cursor has not moved, so a restart runs it again."""


class DetectionSource(Protocol):
    """One detection a watcher runs, window by window."""

    @property
    def name(self) -> str: ...

    @property
    def spec(self) -> WatchSpec: ...

    def run(self, store: EventStore, start: int, end: int) -> ResultTable:
        """The detection's results over the events of ``[start, end)``."""
        ...


@dataclass(frozen=True)
class SplDetection:
    """An SPL detection whose first command is a search: the window is added to that
    search as ``earliest=``/``latest=``, Splunk's own way of bounding a run."""

    name: str
    spl: str
    spec: WatchSpec
    lookups: LookupLibrary

    def run(self, store: EventStore, start: int, end: int) -> ResultTable:
        windowed = f"earliest={start} latest={end} {self.spl}"
        return run_on(DuckDBBackend.from_store(store), windowed, lookups=self.lookups)


def pack_detection(name: str, pack_id: str = "T1074") -> SplDetection:
    """A detection of a pack, with the window and key its metadata declares;
    `WindowError` (one line) for an unknown name or a detection that cannot be windowed."""
    try:
        detection = load_pack(pack_id).detection(name)
    except KeyError as unknown:
        raise WindowError(str(unknown.args[0])) from None
    if detection.spl.lstrip().startswith("|"):
        raise WindowError(f"detection {name} starts with a generating command: no window to add")
    spec = spec_from(name, detection.watch)
    lookups = LookupLibrary(detection.lookups)
    compile_query(detection.spl, {}, lookups=lookups)  # a broken detection fails at start
    return SplDetection(name, detection.spl, spec, lookups)


def sigma_detections(paths: Sequence[Path]) -> tuple[list[SplDetection], list[str]]:
    """The detection rules under ``paths`` (Sigma YAML), converted to SPL, and one line
    for each rule that is not watched: a problem loading or converting it, or a
    correlation (a group over events, with no key to name an alert by). A match of an
    event rule is an alert: its key is the whole event (`WatchSpec.key` empty)."""
    from stagehunt.sigma.convert import convert_rules
    from stagehunt.sigma.rules import RulePathError, load_rules

    try:
        ruleset = load_rules(list(paths))
    except RulePathError as exc:
        raise WindowError(str(exc)) from None
    notes = [f"not watched: {p.path}: {p.reason}" for p in ruleset.problems]
    out: list[SplDetection] = []
    spec = WatchSpec(parse_span(SIGMA_WINDOW), ())
    lookups = LookupLibrary(None)
    for converted in convert_rules(ruleset.collection.rules):
        where = converted.rule.path
        if converted.rule.correlation:
            notes.append(f"not watched: {where}: a correlation rule")
            continue
        if not converted.ok:
            why = converted.reason or "only feeds the correlation " + ", ".join(converted.feeds)
            notes.append(f"not watched: {where}: {why}")
            continue
        for n, spl in enumerate(converted.queries):
            name = f"sigma:{converted.rule.id}" + (f"#{n + 1}" if n else "")
            out.append(SplDetection(name, spl, spec, lookups))
    return out, notes
