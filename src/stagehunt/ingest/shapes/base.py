"""The interface of a JSON record shape."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from stagehunt.ingest.options import IngestOptions
from stagehunt.ingest.records import Record


class Shape(Protocol):
    """One shipper's JSON layout of an event."""

    #: short name shown in summaries, e.g. ``"pyevtx-json"``
    name: str

    def matches(self, obj: Mapping[str, object]) -> bool:
        """True when ``obj`` (a parsed JSON object) is in this shape."""
        ...

    def to_record(self, obj: Mapping[str, object], opts: IngestOptions) -> Record | str:
        """The normalised record, or a one-line reason why it cannot be read."""
        ...
