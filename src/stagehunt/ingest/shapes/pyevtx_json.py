"""pyevtx-rs JSON (``{"Event": {"System": ..., "EventData": ...}}``), e.g. ``evtx_dump -o
jsonl`` output and the SigmaHQ regression ``.json`` twins of their ``.evtx`` files.

The same event read from the ``.evtx`` and from this JSON must give the same fields, so
the JSON is mapped onto the same System keys the EVTX reader produces (``Provider.Name``,
``TimeCreated.SystemTime``, ...) and handed to the same normaliser.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from stagehunt.ingest.normalise.windows import field_value, windows_record
from stagehunt.ingest.options import IngestOptions
from stagehunt.ingest.records import Record

__all__ = ["SHAPE", "PyEvtxJsonShape"]

_ATTRS = "#attributes"
_TEXT = "#text"


def _system(obj: Mapping[str, object]) -> dict[str, object]:
    """System as flat keys: element text under its name, attributes as ``Elem.Attr``."""
    out: dict[str, object] = {}
    for name, value in obj.items():
        if isinstance(value, Mapping):
            attrs = value.get(_ATTRS)
            if isinstance(attrs, Mapping):
                for attr, attr_value in attrs.items():
                    out[f"{name}.{attr}"] = attr_value
            if _TEXT in value:
                out[name] = value[_TEXT]
        elif value is not None:
            out[name] = value
    return out


def _flatten(value: object, name: str, out: dict[str, object]) -> None:
    """UserData / nested EventData: leaves under their own (local) names."""
    if isinstance(value, Mapping):
        for key, child in value.items():
            if key == _ATTRS:
                continue
            _flatten(child, name if key == _TEXT else key, out)
        return
    if value is None:
        return
    if name in out:
        old = out[name]
        out[name] = [*old, value] if isinstance(old, list) else [old, value]
    else:
        out[name] = value


def _event_data(event: Mapping[str, object]) -> dict[str, object]:
    """EventData values by name; unnamed ``Data`` values under ``Data``; UserData flattened."""
    out: dict[str, object] = {}
    data = event.get("EventData")
    if isinstance(data, Mapping):
        for name, value in data.items():
            if name == _ATTRS:
                continue
            if isinstance(value, Mapping) and _TEXT in value:
                out[name] = value[_TEXT]  # unnamed <Data>: {"Data": {"#text": [...]}}
            elif isinstance(value, Mapping):
                _flatten(value, name, out)
            else:
                out[name] = value
    user = event.get("UserData")
    if isinstance(user, Mapping):
        _flatten(user, "UserData", out)
    return out


class PyEvtxJsonShape:
    """Shape of pyevtx-rs' JSON rendering of one event."""

    name = "pyevtx-json"

    def matches(self, obj: Mapping[str, object]) -> bool:
        """An object whose ``Event`` holds a ``System`` object."""
        event = obj.get("Event")
        return isinstance(event, Mapping) and isinstance(event.get("System"), Mapping)

    def to_record(self, obj: Mapping[str, object], opts: IngestOptions) -> Record | str:
        """Normalise; ``_raw`` is the object as compact JSON (the record's source text)."""
        event = obj.get("Event")
        if not isinstance(event, Mapping):
            return "no Event object"
        raw_system = event.get("System")
        if not isinstance(raw_system, Mapping):
            return "no Event.System object"
        system = _system(raw_system)
        event_id = field_value(system.get("EventID"))
        if not isinstance(event_id, str):
            return "no Event.System.EventID"
        channel = field_value(system.get("Channel"))
        computer = field_value(system.get("Computer"))
        system_time = field_value(system.get("TimeCreated.SystemTime"))
        record_id = field_value(system.get("EventRecordID"))
        return windows_record(
            channel=channel if isinstance(channel, str) else "",
            event_id=event_id,
            computer=computer if isinstance(computer, str) else None,
            system_time=system_time if isinstance(system_time, str) else None,
            event_data=_event_data(event),
            system=system,
            raw=json.dumps(obj, ensure_ascii=False, separators=(",", ":")),
            record_id=record_id if isinstance(record_id, str) else None,
            opts=opts,
        )


SHAPE = PyEvtxJsonShape()
