"""Microsoft Sentinel ``Syslog`` table rows (JSON), whose ``SyslogMessage`` carries the
event: Sysmon for Linux ``<Event>`` XML, or an auditd/AUOMS line.

The message is handed to the reader of its own format so that the same event gets the
same fields whether it came through Sentinel or not; Sentinel's ``Computer`` /
``HostName`` stand in for ``host`` when the message names none.
"""

from __future__ import annotations

from collections.abc import Mapping

from stagehunt.ingest.options import IngestOptions
from stagehunt.ingest.records import Record

__all__ = ["SHAPE", "SentinelSyslogShape"]


def _sentinel_host(obj: Mapping[str, object]) -> str | None:
    """The host Sentinel recorded for the row."""
    for key in ("Computer", "HostName"):
        value = obj.get(key)
        if isinstance(value, str) and value:
            return value
    return None


class SentinelSyslogShape:
    """Shape of a Sentinel Syslog row."""

    name = "sentinel-syslog"

    def matches(self, obj: Mapping[str, object]) -> bool:
        """An object with a text ``SyslogMessage``."""
        return isinstance(obj.get("SyslogMessage"), str)

    def to_record(self, obj: Mapping[str, object], opts: IngestOptions) -> Record | str:
        """The message's event, normalised by its own reader."""
        message = obj.get("SyslogMessage")
        if not isinstance(message, str) or not message.strip():
            return "empty SyslogMessage"
        text = message.strip()
        if text.startswith("<Event"):
            from stagehunt.ingest.winxml import event_from_xml

            record = event_from_xml(text, opts)
        elif text.startswith("type=") or "audit(" in text[:200]:
            from stagehunt.ingest.auditd import record_from_auoms

            record = record_from_auoms(text, obj, opts)
        else:
            return "SyslogMessage holds neither <Event> XML nor an audit record"
        if isinstance(record, str):
            return record
        host = _sentinel_host(obj)
        if host is not None and not record.get("host"):
            record["host"] = host
        return record


SHAPE = SentinelSyslogShape()
