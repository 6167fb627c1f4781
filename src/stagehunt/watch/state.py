"""The watcher's state, kept in the store next to the records it describes, so one
DuckDB transaction commits both: file positions, the last record each detection has
seen, and the alerts (pending until every sink has them, then emitted)."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

FILES = "__watch_files"
CURSORS = "__watch_cursors"
ALERTS = "__watch_alerts"

_SCHEMA = (
    f"CREATE TABLE IF NOT EXISTS {FILES} (path VARCHAR, kind VARCHAR, "
    "offset_ BIGINT, head VARCHAR, size BIGINT, mtime_ns BIGINT, seen_at DOUBLE, status VARCHAR)",
    f"CREATE TABLE IF NOT EXISTS {CURSORS} (detection VARCHAR, seq BIGINT)",
    f"CREATE TABLE IF NOT EXISTS {ALERTS} (ord BIGINT, id VARCHAR, detection VARCHAR, "
    "line VARCHAR, emitted BOOLEAN)",
)


@dataclass(frozen=True)
class FileState:
    """What the watcher knows of one file.

    JSON lines: ``offset`` is the end of the last complete line stored, ``head`` the
    SHA-256 of the file's first bytes up to 4 KiB (a replaced file has another head).
    Whole files: ``size``/``mtime_ns`` as first seen unchanged since ``seen_at`` (the
    watcher's clock), ``status`` "seen", "taken", "failed" or "changed" (after taken).
    EVTX files also: ``offset`` the highest EventRecordID stored from the file (0:
    none), ``head`` that record's anchor (`stagehunt.watch.evtxlog.anchor`), and
    status "grown" while a change after taken settles (it is then read again)."""

    path: str
    kind: str
    offset: int = 0
    head: str = ""
    size: int = -1
    mtime_ns: int = -1
    seen_at: float = 0.0
    status: str = "seen"


def create(con: duckdb.DuckDBPyConnection) -> None:
    """Create the state tables if missing."""
    for statement in _SCHEMA:
        con.execute(statement)


def files(con: duckdb.DuckDBPyConnection) -> dict[str, FileState]:
    """Every file the watcher has seen, by path."""
    rows = con.execute(
        f"SELECT path, kind, offset_, head, size, mtime_ns, seen_at, status FROM {FILES}"
    ).fetchall()
    return {str(r[0]): FileState(*r) for r in rows}


def put_file(con: duckdb.DuckDBPyConnection, state: FileState) -> None:
    """Replace one file's row (call inside the transaction that stores its records)."""
    con.execute(f"DELETE FROM {FILES} WHERE path = ?", [state.path])
    con.execute(
        f"INSERT INTO {FILES} VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            state.path,
            state.kind,
            state.offset,
            state.head,
            state.size,
            state.mtime_ns,
            state.seen_at,
            state.status,
        ],
    )


def cursor(con: duckdb.DuckDBPyConnection, detection: str) -> int:
    """The last record (``__seq``) the detection has run over; -1 before any."""
    row = con.execute(f"SELECT seq FROM {CURSORS} WHERE detection = ?", [detection]).fetchall()
    return int(row[0][0]) if row else -1


def put_cursor(con: duckdb.DuckDBPyConnection, detection: str, seq: int) -> None:
    con.execute(f"DELETE FROM {CURSORS} WHERE detection = ?", [detection])
    con.execute(f"INSERT INTO {CURSORS} VALUES (?, ?)", [detection, seq])


def known_alerts(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Ids of every alert recorded, pending or emitted."""
    return {str(r[0]) for r in con.execute(f"SELECT id FROM {ALERTS}").fetchall()}


def add_alert(con: duckdb.DuckDBPyConnection, alert_id: str, detection: str, line: str) -> None:
    """Record an alert as pending; its line is what every sink receives, byte for byte."""
    con.execute(
        f"INSERT INTO {ALERTS} SELECT coalesce(max(ord), 0) + 1, ?, ?, ?, false FROM {ALERTS}",
        [alert_id, detection, line],
    )


def pending(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """Alerts recorded but not yet emitted, in the order recorded: (id, line)."""
    rows = con.execute(f"SELECT id, line FROM {ALERTS} WHERE NOT emitted ORDER BY ord").fetchall()
    return [(str(i), str(line)) for i, line in rows]


def mark_emitted(con: duckdb.DuckDBPyConnection, alert_id: str) -> None:
    con.execute(f"UPDATE {ALERTS} SET emitted = true WHERE id = ?", [alert_id])
