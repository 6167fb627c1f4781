"""The readers' property, shared by the reader fuzzers: every record read is stored or
counted rejected with a position and a reason, and nothing but the load report comes
out of a load (no exception escapes)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from stagehunt.store.event_store import EventStore, LoadReport


def load_bytes(data: bytes, name: str = "input") -> LoadReport:
    """Load ``data`` as one file named ``name`` into a fresh store and check the
    accounting; the report, for a target's own checks."""
    with tempfile.TemporaryDirectory(prefix="stagehunt-fuzz-") as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        return load_paths([path])


def load_paths(paths: list[Path]) -> LoadReport:
    """`load_bytes` for files already written."""
    with EventStore(in_memory=True) as store:
        report = store.load(paths)
        check_report(store, report)
    return report


def check_report(store: EventStore, report: LoadReport) -> None:
    """``records_read == stored + rejected``, the store holds what it says, and each
    reject says where and why."""
    assert report.records_read == report.stored + len(report.rejects), report
    for reject in report.rejects:
        assert reject.position and reject.reason, reject
    if store.schema():
        (count,) = store.connection.execute("SELECT count(*) FROM events").fetchone() or (0,)
        assert count == report.stored, (count, report.stored)
