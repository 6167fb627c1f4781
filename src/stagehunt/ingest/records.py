"""What every reader yields: records (field → value) or rejects (where and why).

A record maps Splunk field names to a string or a list of strings (a multivalue
field); ``_time`` is float epoch seconds. The reserved key :data:`RECORD_ID` carries the
record's identity inside its source (EventRecordID, line number, ...) so that ingesting
the same file twice stores nothing new.
"""

from __future__ import annotations

from dataclasses import dataclass

Record = dict[str, str | list[str] | float | None]

#: Reserved record key: the record's id within its source (a string). Not stored as a field.
RECORD_ID = "__rid"


@dataclass(frozen=True)
class Reject:
    """A record that could not be read: ``position`` is e.g. ``line 17`` or ``record 3``."""

    path: str
    position: str
    reason: str
