"""Shape: flattened Winlogbeat / NXLog / HELK JSON, as in the OTRF Security-Datasets.

These shippers put ``<System>`` values and EventData side by side at the top level
(``EventID``, ``Channel``, ``Hostname``, ``Image``, ``CommandLine``, ...). This shape
splits them again with ``mappings/otrf.json`` and hands the event to
:func:`~stagehunt.ingest.normalise.windows.windows_record`, so an event read from
these files gets exactly the fields it gets from its ``.evtx``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources

from stagehunt.ingest.normalise.windows import windows_record
from stagehunt.ingest.options import IngestOptions
from stagehunt.ingest.records import Record

__all__ = ["SHAPE", "OtrfShape"]

_DECIMAL_RE = re.compile(r"-?\d+")


@dataclass(frozen=True)
class _Mapping:
    """The data in ``mappings/otrf.json``."""

    event_id_key: str
    channel_key: str
    computer_key: str
    record_id_key: str
    time_keys: tuple[str, ...]
    system: Mapping[str, str]
    metadata: frozenset[str]
    nxlog_marker: tuple[str, ...]
    nxlog_metadata: frozenset[str]
    nxlog_user_keys: frozenset[str]
    nxlog_event_types: frozenset[str]


@cache
def _mapping() -> _Mapping:
    """Load the mapping once (package data)."""
    text = resources.files("stagehunt.ingest").joinpath("mappings/otrf.json").read_text("utf-8")
    data = json.loads(text)
    return _Mapping(
        event_id_key=data["event_id_key"],
        channel_key=data["channel_key"],
        computer_key=data["computer_key"],
        record_id_key=data["record_id_key"],
        time_keys=tuple(data["time_keys"]),
        system=dict(data["system"]),
        metadata=frozenset(data["metadata"]),
        nxlog_marker=tuple(data["nxlog_marker"]),
        nxlog_metadata=frozenset(data["nxlog_metadata"]),
        nxlog_user_keys=frozenset(data["nxlog_user_keys"]),
        nxlog_event_types=frozenset(data["nxlog_event_type_values"]),
    )


class OtrfShape:
    """One flattened Windows event per JSON object (top-level ``EventID`` + ``Channel``)."""

    name = "otrf-flat"

    def matches(self, obj: Mapping[str, object]) -> bool:
        """Top-level EventID and Channel, not nested in ``Event``/``winlog`` objects."""
        m = _mapping()
        return (
            m.event_id_key in obj
            and m.channel_key in obj
            and not isinstance(obj.get("Event"), Mapping)
            and not isinstance(obj.get("winlog"), Mapping)
        )

    def to_record(self, obj: Mapping[str, object], opts: IngestOptions) -> Record | str:
        """Split the object into System values and EventData, then normalise."""
        m = _mapping()
        channel = obj.get(m.channel_key)
        if not isinstance(channel, str) or not channel:
            return f"no {m.channel_key}"
        event_id = obj.get(m.event_id_key)
        if not isinstance(event_id, str) or not event_id:
            return f"no {m.event_id_key}"
        nxlog = any(key in obj for key in m.nxlog_marker)
        skip = {m.event_id_key, m.channel_key, m.computer_key} | m.metadata
        if nxlog:
            skip |= m.nxlog_metadata
            if "UserID" in obj:
                skip |= m.nxlog_user_keys
            if "EventTypeOrignal" not in obj and obj.get("EventType") in m.nxlog_event_types:
                skip.add("EventType")
        system: dict[str, object] = {}
        event_data: dict[str, object] = {}
        for key, value in obj.items():
            if key in m.system:
                system[m.system[key]] = value
            elif key not in skip:
                event_data[key] = value
        keywords = system.get("Keywords")
        if isinstance(keywords, str) and _DECIMAL_RE.fullmatch(keywords):
            # NXLog writes the 64-bit keyword mask as a signed decimal; the XML has hex.
            system["Keywords"] = f"0x{int(keywords) & 0xFFFFFFFFFFFFFFFF:016x}"
        computer = obj.get(m.computer_key)
        record_id = obj.get(m.record_id_key)
        return windows_record(
            channel=channel,
            event_id=event_id,
            computer=computer if isinstance(computer, str) else None,
            system_time=_time(obj, m.time_keys),
            event_data=event_data,
            system=system,
            raw=None,
            record_id=record_id if isinstance(record_id, str) else None,
            opts=opts,
        )


def _time(obj: Mapping[str, object], keys: tuple[str, ...]) -> str | None:
    """The shipper's event time: the first of ``keys`` present as text."""
    for key in keys:
        value = obj.get(key)
        if isinstance(value, str) and value:
            return value
    return None


SHAPE = OtrfShape()
