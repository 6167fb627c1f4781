"""Shape: Microsoft Defender for Endpoint advanced-hunting rows as JSON objects.

A JSON export (portal download, API ``Results`` rows, one object per line) carries the
same columns as the CSV export, so both go through :func:`stagehunt.ingest.mde.mde_record`.
"""

from __future__ import annotations

from collections.abc import Mapping

from stagehunt.ingest.mde import mde_record, sniff_object
from stagehunt.ingest.options import IngestOptions
from stagehunt.ingest.records import Record


class MdeShape:
    """DeviceProcessEvents / DeviceFileEvents rows (``Timestamp``, ``DeviceName``, ...)."""

    name = "mde-json"

    def matches(self, obj: Mapping[str, object]) -> bool:
        """Advanced-hunting columns at top level: Timestamp, DeviceName, ActionType, ..."""
        return sniff_object(obj)

    def to_record(self, obj: Mapping[str, object], opts: IngestOptions) -> Record | str:
        """The row as a record; ``_raw`` and the line-number id are left to the reader."""
        return mde_record(obj, opts, raw=None, fallback_id=None)


SHAPE = MdeShape()
