"""One pass of a watcher: take what is new under the folders, run the detections over
the windows the new records touch, emit the alerts not yet emitted.

Each step commits its own state with its own effect in one store transaction, so a
process killed anywhere resumes from the last commit (docs/reliability.md, "## watch").

Files are taken by kind (`files`): JSON lines by byte offset; whole files once settled,
through `EventStore.load`, and not again; EVTX files once settled, and again each time
they grow and settle, for the records above the highest record number stored
(`evtxlog` tells a grown log from another one).
"""

from __future__ import annotations

import hashlib
import io
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from stagehunt.ingest import evtx_reader, registry
from stagehunt.ingest.options import IngestOptions
from stagehunt.ingest.records import RECORD_ID, Record, Reject
from stagehunt.ingest.sources import Source
from stagehunt.ingest.splunk_export import UnsupportedInput
from stagehunt.store.event_store import EventStore, StoreFull, quote_identifier
from stagehunt.store.schema import EVENTS_TABLE, SEQ_COLUMN
from stagehunt.watch import alerts, evtxlog, files, state
from stagehunt.watch.detections import DetectionSource
from stagehunt.watch.sinks import FileSink, Sink, SinkError

#: Bytes of a JSON lines file taken in one transaction (whole lines within it).
CHUNK_BYTES = 32 << 20
#: Records of an EVTX file inserted at a time (all in the file's one transaction).
EVTX_BATCH = 20_000


@dataclass
class PassReport:
    """What one pass did."""

    records: int = 0
    alerts_recorded: int = 0
    alerts_emitted: int = 0
    pending: int = 0
    warnings: list[str] = field(default_factory=list)


@dataclass
class Watcher:
    """Folders watched into a store, with detections and sinks (file sink last)."""

    store: EventStore
    folders: Sequence[Path]
    detections: Sequence[DetectionSource]
    sinks: Sequence[Sink]
    opts: IngestOptions = field(default_factory=IngestOptions)
    settle: float = 10.0
    exclude: frozenset[Path] = frozenset()
    clock: Callable[[], float] = time.time

    def start(self) -> None:
        """Create the state tables, drop records of an interrupted whole-file read, and
        mark emitted the pending alerts the alert file already holds."""
        state.create(self.store.connection)
        self.store.discard_unfinished()
        for sink in self.sinks:
            if isinstance(sink, FileSink):
                present = sink.reconcile()
                con = self.store.connection
                for ident, _ in state.pending(con):
                    if ident in present:
                        state.mark_emitted(con, ident)

    def run_once(self) -> PassReport:
        report = PassReport()
        self.ingest(report)
        self.detect(report)
        self.emit(report)
        return report

    # ------------------------------------------------------------------ ingest

    def ingest(self, report: PassReport) -> None:
        known = state.files(self.store.connection)
        # absolute paths name the files in the state: `watch in/` and `watch ./in` agree
        for path in files.scan([f.resolve() for f in self.folders], self.exclude):
            try:
                self._take(path, known.get(str(path)), report)
            except StoreFull:
                raise  # the store's disk: stop, nothing half-written
            except OSError as exc:  # vanished or unreadable between scan and read
                report.warnings.append(f"{path}: cannot read: {exc.strerror or exc}")

    def _take(self, path: Path, prev: state.FileState | None, report: PassReport) -> None:
        kind = prev.kind if prev is not None else files.kind_of(path)
        if kind == files.LINES:
            self._take_lines(path, prev or state.FileState(str(path), kind), report)
        elif kind in (files.WHOLE, files.EVTX):
            self._take_whole(path, prev or state.FileState(str(path), kind), report)

    def _take_lines(self, path: Path, prev: state.FileState, report: PassReport) -> None:
        size = path.stat().st_size
        offset = prev.offset
        if offset and (size < offset or files.head_digest(path, offset) != prev.head):
            report.warnings.append(f"{path}: replaced or truncated; reading it from the start")
            offset = 0
        chunk = files.complete_lines(path, offset, CHUNK_BYTES)
        if not chunk:
            return
        end = offset + len(chunk)
        head = files.head_digest(path, end)
        records = self._records(path, offset, chunk, report)
        origin = hashlib.sha256(f"{path}\0{offset}\0{end}\0{head}".encode()).hexdigest()
        with self.store.transaction() as con:
            self.store.append(records, "watch:" + origin, str(path), "jsonl")
            state.put_file(con, replace(prev, offset=end, head=head, size=size))
        report.records += len(records)

    def _records(self, path: Path, offset: int, chunk: bytes, report: PassReport) -> list[Record]:
        """The records of a chunk of complete lines; rejects become warnings."""
        source = Source(str(path), lambda: io.BytesIO(chunk), None, len(chunk))
        try:
            _, items = registry.read_source(source, self.opts)
            taken: list[Record] = []
            for item in items:
                if isinstance(item, Reject):
                    report.warnings.append(
                        f"{path}: {item.position} after byte {offset}: {item.reason}"
                    )
                    continue
                assert isinstance(item, dict)
                item[RECORD_ID] = f"{offset}+{len(taken)}"
                taken.append(item)
        except UnsupportedInput as exc:
            report.warnings.append(f"{path}: bytes {offset}+: unsupported content: {exc.message}")
            return []
        return taken

    def _take_whole(self, path: Path, prev: state.FileState, report: PassReport) -> None:
        stat = path.stat()
        seen = (stat.st_size, stat.st_mtime_ns)
        if prev.status in ("taken", "failed", "changed"):
            if seen == (prev.size, prev.mtime_ns) or prev.status == "changed":
                return
            if prev.kind != files.EVTX:
                report.warnings.append(f"{path}: changed after it was read; not read again")
                self._put(replace(prev, status="changed"))
                return
            # an EVTX file grew (or was replaced): it settles again, then is read again
            prev = replace(prev, status="grown", size=-1, mtime_ns=-1)
        now = self.clock()
        unchanged = seen == (prev.size, prev.mtime_ns)
        settled = (unchanged and now - prev.seen_at >= self.settle) or (
            now - stat.st_mtime_ns / 1e9 >= self.settle
        )
        if not settled:
            if not unchanged:
                self._put(replace(prev, size=seen[0], mtime_ns=seen[1], seen_at=now))
            return
        taken = replace(prev, size=seen[0], mtime_ns=seen[1], status="taken")
        if prev.kind != files.EVTX:
            self._load_whole(path, taken, report)
            return
        last = 0
        if prev.status == "grown" and prev.offset > 0:
            if prev.head and evtxlog.anchor(path, prev.offset) == prev.head:
                last = prev.offset
            else:
                report.warnings.append(
                    f"{path}: no longer holds the record read last (another log, cleared or "
                    "turned over): reading it whole"
                )
        self._take_evtx(path, taken, last, report)

    def _load_whole(self, path: Path, taken: state.FileState, report: PassReport) -> None:
        """Read a whole file through `EventStore.load`, which commits the records and the
        file's content hash together: read again after a crash, the hash says "already
        stored"."""
        loaded = self.store.load([path], self.opts, jobs=1)
        report.records += loaded.stored
        report.warnings.extend(loaded.errors)
        report.warnings.extend(f"{r.path}: {r.position}: {r.reason}" for r in loaded.rejects)
        self._put(taken if loaded.files else replace(taken, status="failed"))

    def _take_evtx(self, path: Path, taken: state.FileState, last: int, report: PassReport) -> None:
        """Store an EVTX file's records numbered above ``last`` (0: all) in one
        transaction with the file's state: the highest number read and its anchor
        (`evtxlog`), size and mtime as settled. Killed before the commit, the next pass
        reads the same part again.

        One transaction, not one per batch: pyevtx-rs gives records in chunk order, which
        is not number order in a circular log that turned over, so no mark short of the
        end says "all below is stored"; batches bound the memory, not the commit. The
        file's content hash goes to ``__sources`` too, as `EventStore.load` does: a file
        whose content the store holds already is not stored again (only its highest
        number is learnt), and `stagehunt ingest` skips it later."""
        digest = files.digest(path)
        known = digest in self.store.sources()
        origin = "watch:" + hashlib.sha256(f"{path}\0{digest}".encode()).hexdigest()
        above = evtx_reader.Above(last)
        batch: list[Record] = []
        stored = 0
        warnings: list[str] = []
        with self.store.transaction() as con:
            for item in evtx_reader.read(Source.from_path(path), self.opts, above=above):
                if known:
                    continue
                if isinstance(item, Reject):
                    if evtxlog.may_follow(item.position, last):
                        warnings.append(f"{item.path}: {item.position}: {item.reason}")
                    continue
                assert isinstance(item, dict)
                batch.append(item)
                if len(batch) >= EVTX_BATCH:
                    stored += self.store.append(batch, f"{origin}:{stored}", str(path), "evtx")
                    batch = []
            if batch:
                stored += self.store.append(batch, f"{origin}:{stored}", str(path), "evtx")
            if not known:
                self.store.mark_loaded({digest: stored})
            top = max(last, above.highest)
            head = evtxlog.anchor(path, top) if top != last else taken.head
            state.put_file(con, replace(taken, offset=top, head=head))
        report.records += stored
        report.warnings.extend(warnings)

    def _put(self, file_state: state.FileState) -> None:
        with self.store.transaction() as con:
            state.put_file(con, file_state)

    # ------------------------------------------------------------------ detect

    def detect(self, report: PassReport) -> None:
        """Run each detection over every window holding records it has not seen, and
        record the new alerts with the detection's cursor in one transaction."""
        con = self.store.connection
        if not self.store.schema():
            return
        events, seq = quote_identifier(EVENTS_TABLE), quote_identifier(SEQ_COLUMN)
        (last,) = con.execute(f"SELECT max({seq}) FROM {events}").fetchall()[0]
        if last is None:
            return
        known = state.known_alerts(con)
        for detection in self.detections:
            cursor = state.cursor(con, detection.name)
            if last <= cursor:
                continue
            size = detection.spec.window
            windows = [
                int(w)
                for (w,) in con.execute(
                    f'SELECT DISTINCT CAST(floor("_time" / ?) AS BIGINT) * ? FROM {events} '
                    f'WHERE {seq} > ? AND {seq} <= ? AND "_time" IS NOT NULL ORDER BY 1',
                    [size, size, cursor, last],
                ).fetchall()
            ]
            new: list[tuple[str, str]] = []
            for start in windows:
                result = detection.run(self.store, start, start + size)
                for row in result.records():
                    ident, line = alerts.make(detection.name, detection.spec, start, row)
                    if ident not in known:
                        known.add(ident)
                        new.append((ident, line))
            with self.store.transaction() as tx:
                for ident, line in new:
                    state.add_alert(tx, ident, detection.name, line)
                state.put_cursor(tx, detection.name, int(last))
            report.alerts_recorded += len(new)

    # ------------------------------------------------------------------ emit

    def emit(self, report: PassReport) -> None:
        """Deliver pending alerts in order, to every sink (file last), then mark each
        emitted. A sink error stops the pass: the rest stay pending, in order."""
        con = self.store.connection
        waiting = state.pending(con)
        for n, (ident, line) in enumerate(waiting):
            try:
                for sink in self.sinks:
                    sink.emit(ident, line)
            except SinkError as exc:
                report.warnings.append(str(exc))
                report.pending = len(waiting) - n
                return
            state.mark_emitted(con, ident)
            report.alerts_emitted += 1


def excluded(*paths: Path | None) -> frozenset[Path]:
    """The watcher's own files (resolved), and a DuckDB store's write-ahead log."""
    out: set[Path] = set()
    for path in paths:
        if path is not None:
            resolved = path.resolve()
            out.update({resolved, resolved.with_name(resolved.name + ".wal")})
    return frozenset(out)
