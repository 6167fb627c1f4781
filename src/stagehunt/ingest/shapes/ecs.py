"""Shape: Elastic Winlogbeat / Elastic Agent events in ECS (``winlog.*`` objects).

Winlogbeat keeps the event's EventData under ``winlog.event_data`` and the ``<System>``
values under other ``winlog`` keys (field reference: Elastic's "Winlogbeat fields"
page, ``exported-fields-winlog``). This shape maps them back to the event's own names
and hands the event to :func:`~stagehunt.ingest.normalise.windows.windows_record`, so
it gets the fields it would get from its ``.evtx``. Both nested objects and
dot-flattened keys (``"winlog.channel": ...``, as Kibana's CSV/JSON exports write them)
are read.

Winlogbeat renders some System values as names (``winlog.opcode: "Info"``,
``winlog.keywords: ["Audit Success"]``, ``log.level: "information"``) where the XML
has numbers; those are not passed on as ``Opcode``/``Keywords``/``Level``, which would
then differ from the same event read from EVTX.
"""

from __future__ import annotations

from collections.abc import Mapping

from stagehunt.ingest.normalise.windows import windows_record
from stagehunt.ingest.options import IngestOptions
from stagehunt.ingest.records import Record

__all__ = ["SHAPE", "EcsShape"]

#: ``<System>`` name (as windows_record takes it) → ECS path.
_SYSTEM = {
    "Name": "winlog.provider_name",
    "Guid": "winlog.provider_guid",
    "EventRecordID": "winlog.record_id",
    "Version": "winlog.version",
    "Task": "winlog.task",
    "ProcessID": "winlog.process.pid",
    "ThreadID": "winlog.process.thread.id",
    "UserID": "winlog.user.identifier",
    "ActivityID": "winlog.activity_id",
    "RelatedActivityID": "winlog.related_activity_id",
}


def _get(obj: Mapping[str, object], path: str) -> object:
    """The value at a dotted ``path``, nested (``{"a": {"b": 1}}``) or flat (``{"a.b": 1}``)."""
    if path in obj:
        return obj[path]
    head, _, rest = path.partition(".")
    if not rest:
        return None
    inner = obj.get(head)
    if isinstance(inner, Mapping):
        return _get(inner, rest)
    for key, value in obj.items():  # partly flattened: {"winlog.process": {"pid": 1}}
        if path.startswith(key + ".") and isinstance(value, Mapping):
            return _get(value, path[len(key) + 1 :])
    return None


def _data(obj: Mapping[str, object], prefix: str) -> dict[str, object]:
    """The members of the object at ``prefix`` (``winlog.event_data``), nested or flat."""
    found = _get(obj, prefix)
    data: dict[str, object] = dict(found) if isinstance(found, Mapping) else {}
    dotted = prefix + "."
    for key, value in obj.items():
        if key.startswith(dotted):
            data[key[len(dotted) :]] = value
    return data


def _text(value: object) -> str | None:
    """A scalar as text (numbers arrive as their source text), else None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        return value or None
    if isinstance(value, int | float):
        return str(value)
    return None


class EcsShape:
    """One Winlogbeat ECS event per JSON object."""

    name = "winlogbeat-ecs"

    def matches(self, obj: Mapping[str, object]) -> bool:
        """A ``winlog`` object (or ``winlog.*`` keys) naming the channel or event id."""
        return _get(obj, "winlog.channel") is not None or _get(obj, "winlog.event_id") is not None

    def to_record(self, obj: Mapping[str, object], opts: IngestOptions) -> Record | str:
        """Map ``winlog.*`` back to the event's System and EventData names; normalise."""
        channel = _text(_get(obj, "winlog.channel"))
        if channel is None:
            return "no winlog.channel"
        event_id = _text(_get(obj, "winlog.event_id")) or _text(_get(obj, "event.code"))
        if event_id is None:
            return "no winlog.event_id or event.code"
        event_data = _data(obj, "winlog.event_data")
        for key, value in _data(obj, "winlog.user_data").items():
            event_data.setdefault(key, value)
        system: dict[str, object] = {}
        for name, path in _SYSTEM.items():
            value = _text(_get(obj, path))
            if value is not None:
                system[name] = value
        computer = _text(_get(obj, "winlog.computer_name")) or _text(_get(obj, "host.name"))
        return windows_record(
            channel=channel,
            event_id=event_id,
            computer=computer,
            system_time=_text(_get(obj, "@timestamp")),
            event_data=event_data,
            system=system,
            raw=_text(_get(obj, "event.original")),
            record_id=_text(_get(obj, "winlog.record_id")),
            opts=opts,
        )


SHAPE = EcsShape()
