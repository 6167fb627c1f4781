"""Windows events (EVTX, event XML, shipper JSON) → Splunk's XmlWinEventLog fields.

Every Windows reader (EVTX, event XML, pyevtx-rs JSON, shipper JSON shapes) calls
`windows_record` so that the same event gets the same fields whatever it came in. What
becomes which field is data, in ``ingest/mappings/windows.json``; this module only applies
it. The names follow Splunk_TA_windows' generic ``[XmlWinEventLog]`` extraction (System
element texts and attributes under their own names, ``EventCode`` from ``EventID``) and
the CIM aliases of the Sysmon and Windows add-ons (spl-semantics §9).
"""

from __future__ import annotations

import calendar
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from stagehunt.ingest.options import IngestOptions
from stagehunt.ingest.records import RECORD_ID, Record

__all__ = ["RESERVED", "field_value", "fill_windows_record", "parse_windows_time", "windows_record"]

#: Fields the normaliser owns: event data never overwrites them.
RESERVED = frozenset({"_time", "_raw", "index", "sourcetype", "source", "host", RECORD_ID})

_TIME_RE = re.compile(
    r"\s*(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?\s*"
    r"(Z|UTC|[+-]\d{2}:?\d{2})?\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class _Alias:
    """One alias rule of the mapping: where it applies and what it derives."""

    channels: frozenset[str]
    event_ids: frozenset[str] | None
    copy: tuple[tuple[str, str], ...]
    basename: tuple[tuple[str, str], ...]
    separator: str


@dataclass(frozen=True)
class _Mapping:
    """``windows.json`` parsed once into the shapes the hot path wants."""

    default_index: str
    sourcetype: Mapping[str, str]
    source: str
    channels: Mapping[str, str]  # casefolded → canonical spelling
    overrides: Mapping[str, Mapping[str, str]]
    event_fields: Mapping[str, tuple[str, ...]]
    system_fields: tuple[tuple[str, tuple[str, ...]], ...]
    time_fields: tuple[str, ...]
    aliases: Mapping[str, tuple[_Alias, ...]]  # canonical channel → rules


@lru_cache(maxsize=1)
def _mapping() -> _Mapping:
    """Load and index the mapping (cached: read once per process)."""
    text = resources.files("stagehunt.ingest").joinpath("mappings/windows.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    aliases: dict[str, list[_Alias]] = {}
    for rule in data["aliases"]:
        ids = rule.get("event_ids")
        alias = _Alias(
            channels=frozenset(rule["channels"]),
            event_ids=frozenset(ids) if ids is not None else None,
            copy=tuple(rule.get("copy", {}).items()),
            basename=tuple(rule.get("basename", {}).items()),
            separator=rule.get("separator", "\\"),
        )
        for channel in alias.channels:
            aliases.setdefault(channel, []).append(alias)
    return _Mapping(
        default_index=data["default_index"],
        sourcetype=data["sourcetype"],
        source=data["source"],
        channels={c.casefold(): c for c in data["channels"]},
        overrides={k: v for k, v in data["channel_overrides"].items()},
        event_fields={k: tuple(v) for k, v in data["event_fields"].items()},
        system_fields=tuple(
            (k, tuple(v)) for k, v in data["system_fields"].items() if not k.startswith("_")
        ),
        time_fields=tuple(data["time_fields"]),
        aliases={k: tuple(v) for k, v in aliases.items()},
    )


def field_value(value: object) -> str | list[str] | None:
    """A source value as Splunk holds it: text, a list of texts, or absent.

    Numbers become their text (JSON numbers arrive as their source text already),
    booleans ``true``/``false`` (as pyevtx-rs renders them), empty strings absent.
    """
    if value is None:
        return None
    if isinstance(value, str):
        return str(value) if value else None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list | tuple):
        items = [v for v in (field_value(x) for x in value) if isinstance(v, str)]
        if not items:
            return None
        return items[0] if len(items) == 1 else items
    if isinstance(value, Mapping):
        text = value.get("#text")
        return field_value(text) if text is not None else None
    return str(value)


@lru_cache(maxsize=4096)
def _day_epoch(day: str) -> int | None:
    """Epoch seconds at 00:00 UTC of a ``YYYY-MM-DD`` day (cached: events cluster)."""
    try:
        year, month, dom = int(day[0:4]), int(day[5:7]), int(day[8:10])
    except ValueError:
        return None
    if not (1 <= month <= 12 and 1 <= dom <= calendar.monthrange(year, month)[1]):
        return None
    return calendar.timegm((year, month, dom, 0, 0, 0, 0, 0, 0))


def parse_windows_time(text: str) -> float | None:
    """Epoch seconds of a SystemTime / UtcTime value, or None if it is not one.

    Handles what Windows and its shippers write: ``2019-05-11T09:50:08.2489900Z``
    (7-digit fractions), pyevtx-rs' 6 digits, Sysmon's ``2019-05-11 09:50:08.248``
    (UTC, no zone), 9-digit Linux fractions and ``+hh:mm`` offsets. Hand-rolled
    because ``datetime.fromisoformat`` rejects 7- and 9-digit fractions, and cheap
    because it runs once per event.
    """
    m = _TIME_RE.match(text)
    if m is None:
        return None
    hour, minute, second, frac, zone = m.group(4, 5, 6, 7, 8)
    day = _day_epoch(text[m.start(1) : m.end(3)])
    if day is None or int(hour) > 23 or int(minute) > 59 or int(second) > 60:
        return None
    value = float(day + int(hour) * 3600 + int(minute) * 60 + int(second))
    if frac:
        value += int(frac) / 10 ** len(frac)
    if zone and zone[0] in "+-":
        digits = zone[1:].replace(":", "")
        offset = int(digits[:2]) * 3600 + int(digits[2:]) * 60
        value -= offset if zone[0] == "+" else -offset
    return value


@dataclass(frozen=True)
class _Plan:
    """What one (channel, event id) gets: labels and alias steps, computed once."""

    index: str | None  # None: the mapping's default index
    sourcetype: Mapping[str, str]
    source: str
    copy: tuple[tuple[str, str], ...]
    basename: tuple[tuple[str, str, str], ...]


@lru_cache(maxsize=1024)
def _plan(channel: str, event_code: str) -> _Plan:
    """The labels and aliases of events from ``channel`` with ``event_code``."""
    m = _mapping()
    copy: list[tuple[str, str]] = []
    base: list[tuple[str, str, str]] = []
    for alias in m.aliases.get(channel, ()):
        if alias.event_ids is None or event_code in alias.event_ids:
            copy.extend(alias.copy)
            base.extend((out, src, alias.separator) for out, src in alias.basename)
    override = m.overrides.get(channel)
    if override is not None:
        kinds = {style: override["sourcetype"] for style in m.sourcetype}
        return _Plan(override["index"], kinds, override["source"], tuple(copy), tuple(base))
    kinds = {style: fmt.format(channel=channel) for style, fmt in m.sourcetype.items()}
    return _Plan(None, kinds, m.source.format(channel=channel), tuple(copy), tuple(base))


@lru_cache(maxsize=1)
def _system_index() -> dict[str, tuple[str, ...]]:
    """Accepted ``system`` key → the output fields it feeds."""
    index: dict[str, list[str]] = {}
    for out_name, keys in _mapping().system_fields:
        for key in keys:
            index.setdefault(key, []).append(out_name)
    return {k: tuple(v) for k, v in index.items()}


def windows_record(
    *,
    channel: str,
    event_id: str,
    computer: str | None,
    system_time: str | float | None,
    event_data: Mapping[str, object],
    system: Mapping[str, object],
    raw: str | None,
    record_id: str | None,
    opts: IngestOptions,
) -> Record | str:
    """One Windows event as the fields Splunk's Windows/Sysmon add-ons extract.

    ``system`` holds the other ``<System>`` values, keyed by Splunk's names (``Name``,
    ``Guid``, ``EventRecordID``, ``Version``, ``Level``, ``Task``, ``Opcode``,
    ``Keywords``, ``ProcessID``, ``ThreadID``, ``UserID``, ``ActivityID``, ``Qualifiers``)
    or by XML path (``Provider.Name``, ``Execution.ProcessID``, ``Security.UserID``, ...;
    ``system_fields`` in the mapping lists the accepted keys; other keys are ignored).
    ``event_data`` holds EventData / UserData values by name; they keep their names,
    except that they never replace ``_time``, ``_raw``, ``index``, ``sourcetype``,
    ``source`` or ``host``. ``system_time`` is the SystemTime text or epoch seconds;
    when absent, ``UtcTime`` is used. Returns a reason string when the event cannot be
    normalised (no event id, no usable time).
    """
    record: Record = {}
    for name, value in event_data.items():
        if type(value) is str:  # the common case, kept cheap
            if value and name not in RESERVED:
                record[name] = value
            continue
        converted = field_value(value)
        if converted is not None and name and name not in RESERVED:
            record[name] = converted
    return fill_windows_record(
        record,
        channel=channel,
        event_id=event_id,
        computer=computer,
        system_time=system_time,
        system=system,
        raw=raw,
        record_id=record_id,
        opts=opts,
    )


def fill_windows_record(
    record: Record,
    *,
    channel: str,
    event_id: str,
    computer: str | None,
    system_time: str | float | None,
    system: Mapping[str, object],
    raw: str | None,
    record_id: str | None,
    opts: IngestOptions,
) -> Record | str:
    """`windows_record` for a reader that has already put the event data in ``record``
    (non-empty values, no reserved names): completes it in place, saving a copy on the
    EVTX hot path."""
    m = _mapping()
    event_code = event_id if type(event_id) is str else field_value(event_id)
    if not isinstance(event_code, str) or not event_code or not event_code.strip():
        return "event has no EventID"
    event_code = event_code.strip()
    channel_name = channel.strip() if isinstance(channel, str) else ""
    canonical = m.channels.get(channel_name.casefold(), channel_name)
    plan = _plan(canonical, event_code)

    sys_index = _system_index()
    for key, value in system.items():
        outs = sys_index.get(key)
        if outs is None:
            continue
        converted = value if type(value) is str else field_value(value)
        if converted is None or converted == "":
            continue
        for out_name in outs:
            if out_name not in record:
                record[out_name] = converted
    for out_name in m.event_fields["EventID"]:
        record[out_name] = event_code
    if channel_name:
        for out_name in m.event_fields["Channel"]:
            record[out_name] = channel_name
    host = computer if type(computer) is str else field_value(computer)
    if isinstance(host, str) and host:
        for out_name in m.event_fields["Computer"]:
            record[out_name] = host

    # _time: SystemTime, else the first time field in the event data.
    when: float | None = None
    if isinstance(system_time, int | float) and not isinstance(system_time, bool):
        when = float(system_time)
    elif isinstance(system_time, str) and system_time:
        when = parse_windows_time(system_time)
        if when is None:
            return f"unreadable SystemTime {system_time!r}"
    if when is None:
        for name in m.time_fields:
            value = record.get(name)
            if isinstance(value, str):
                when = parse_windows_time(value)
                if when is not None:
                    break
    if when is None:
        return "event has no readable time (SystemTime/UtcTime)"
    record["_time"] = when
    record["index"] = opts.index or plan.index or m.default_index
    record["sourcetype"] = plan.sourcetype[opts.sourcetype_style]
    record["source"] = plan.source
    for out_name, src in plan.copy:
        value = record.get(src)
        if value is not None:
            record[out_name] = value
    for out_name, src, separator in plan.basename:
        value = record.get(src)
        if isinstance(value, str):
            record[out_name] = value.rsplit(separator, 1)[-1]
    if raw is not None:
        record["_raw"] = raw
    if record_id is not None:
        rid = record_id if type(record_id) is str else field_value(record_id)
        if isinstance(rid, str) and rid:
            record[RECORD_ID] = rid
    return record
