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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from itertools import compress
from operator import itemgetter
from typing import Any

from stagehunt.ingest.options import IngestOptions
from stagehunt.ingest.records import RECORD_ID, Record

__all__ = [
    "RESERVED",
    "WindowsTemplate",
    "clean_key",
    "clean_keys",
    "field_value",
    "fill_from_template",
    "fill_windows_record",
    "parse_windows_time",
    "windows_record",
    "windows_template",
]

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


_UNCLEAN = re.compile(r"[^A-Za-z0-9_]")
_LEADING = re.compile(r"^[0-9_]+")
#: event data names that need cleaning, joined by "," (a character a clean name never has)
_UNCLEAN_NAMES = re.compile(r"[^A-Za-z0-9_,]|(?:^|,)[0-9_]")
_CLEANED: dict[str, str] = {}


def clean_key(name: str) -> str:
    """An event data name as Splunk's search-time extraction names the field.

    Splunk_TA_windows extracts ``<Data Name="...">`` pairs with a key/value transform, and
    transforms.conf's ``CLEAN_KEYS`` (default true) replaces every character other than
    a-z, A-Z, 0-9 with an underscore and strips leading underscores and digits: Windows
    Defender's ``Source Name`` is searched as ``Source_Name``, as the classic Security
    format's ``New Process Name`` is ``New_Process_Name``. A name that would clean to
    nothing is kept as it is.
    """
    cleaned = _CLEANED.get(name)
    if cleaned is None:
        cleaned = _LEADING.sub("", _UNCLEAN.sub("_", name)) or name
        if len(_CLEANED) < _CACHE_MAX:
            _CLEANED[name] = cleaned
    return cleaned


def clean_keys(names: Sequence[str]) -> tuple[str, ...] | None:
    """`clean_key` of each name; None when all are clean already (the common case,
    checked in one regular expression search)."""
    if not _UNCLEAN_NAMES.search(",".join(names)):
        return None
    return tuple(map(clean_key, names))


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


_MINUTE_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})")


@lru_cache(maxsize=4096)
def _minute_epoch(prefix: str) -> int | None:
    """Epoch seconds of a ``YYYY-MM-DDTHH:MM`` prefix (cached: events cluster)."""
    m = _MINUTE_RE.fullmatch(prefix)
    if m is None:
        return None
    day = _day_epoch(prefix[:10])
    hour, minute = int(m.group(4)), int(m.group(5))
    if day is None or hour > 23 or minute > 59:
        return None
    return day + hour * 3600 + minute * 60


def parse_windows_time(text: str) -> float | None:
    """Epoch seconds of a SystemTime / UtcTime value, or None if it is not one.

    Handles what Windows and its shippers write: ``2019-05-11T09:50:08.2489900Z``
    (7-digit fractions), pyevtx-rs' 6 digits, Sysmon's ``2019-05-11 09:50:08.248``
    (UTC, no zone), 9-digit Linux fractions and ``+hh:mm`` offsets. Hand-rolled
    because ``datetime.fromisoformat`` rejects 7- and 9-digit fractions, and cheap
    because it runs once per event.
    """
    if (  # fast path: the exact shape Windows and pyevtx-rs write, 2019-05-11T09:50:08.24899Z
        len(text) > 20
        and text[-1] == "Z"
        and text[19] == "."
        and text[16] == ":"
        and text[10] == "T"
    ):
        base = _minute_epoch(text[:16])
        sec, fraction = text[17:19], text[20:-1]
        if base is not None and sec.isdecimal() and fraction.isdecimal() and int(sec) <= 60:
            seconds: float = float(base + int(sec))
            seconds += int(fraction) / 10 ** len(fraction)
            return seconds
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
    ``event_data`` holds EventData / UserData values by name; they keep their names
    (cleaned as Splunk cleans them, `clean_key`), except that they never replace
    ``_time``, ``_raw``, ``index``, ``sourcetype``, ``source`` or ``host``.
    ``system_time`` is the SystemTime text or epoch seconds; when absent, ``UtcTime``
    is used. Returns a reason string when the event cannot be
    normalised (no event id, no usable time).
    """
    record: Record = {}
    cleaned = clean_keys(tuple(event_data))
    for name, value in event_data.items():
        converted = value if type(value) is str else field_value(value)
        if not converted or not name:
            continue
        if cleaned is not None:
            name = clean_key(name)
            if name in record:  # two names that clean alike: one multivalue field
                before = record[name]
                record[name] = [
                    *(before if isinstance(before, list) else [str(before)]),
                    *(converted if isinstance(converted, list) else [converted]),
                ]
                continue
        if name not in RESERVED:
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
    EVTX hot path.

    This runs once per event, so whatever depends only on the keys of ``system`` or on
    (channel, event id, host, options) is worked out once and cached (`_SystemPlan`,
    `_Labels`); per event there remain a few bulk dict updates, each done in C, with
    the field-by-field rules applied only when a bulk step would break them.
    """
    event_code = event_id if type(event_id) is str else field_value(event_id)
    if not isinstance(event_code, str) or not event_code or not event_code.strip():
        return "event has no EventID"
    channel_name = channel if type(channel) is str else ""
    host = computer if type(computer) is str else field_value(computer)
    key = (channel_name, event_code, host, opts.sourcetype_style, opts.index)
    labels = _LABELS.get(key)
    if labels is None:
        labels = _labels(channel_name, event_code, host if isinstance(host, str) else None, opts)
        if len(_LABELS) >= _CACHE_MAX:
            _LABELS.clear()
        _LABELS[key] = labels

    # System values fill the fields the event data does not have; the first
    # non-empty accepted key of a field wins.
    plan = _system_plan(tuple(system))
    values = plan.get(system) if plan.get is not None else ()
    if (
        plan.bulk
        and "" not in values
        and set(map(type, values)) <= _TEXT
        and record.keys().isdisjoint(plan.outs)
    ):
        record.update(zip(plan.outs, values, strict=True))  # type: ignore[arg-type]
    else:
        for name, out_name in plan.pairs:
            if out_name not in record:
                value = system[name]
                converted = value if type(value) is str else field_value(value)
                if converted:
                    record[out_name] = converted
    record.update(labels.head)

    # _time: SystemTime, else the first time field in the event data.
    when: float | None = None
    if type(system_time) is str:
        if system_time:
            when = parse_windows_time(system_time)
            if when is None:
                return f"unreadable SystemTime {system_time!r}"
    elif isinstance(system_time, int | float) and not isinstance(system_time, bool):
        when = float(system_time)
    if when is None:
        for name in labels.time_fields:
            value = record.get(name)
            if isinstance(value, str):
                when = parse_windows_time(value)
                if when is not None:
                    break
    if when is None:
        return "event has no readable time (SystemTime/UtcTime)"
    return _finish(record, labels, when, raw, record_id)


def _finish(
    record: Record, labels: _Labels, when: float, raw: str | None, record_id: str | None
) -> Record:
    """The fields after the System ones: time, labels, aliases, ``_raw``, record id."""
    record["_time"] = when
    record.update(labels.tail)
    if labels.copy_bulk:
        # record values are never empty, so "present" is "truthy": compress keeps those
        copied = tuple(map(record.get, labels.copy_from))
        record.update(compress(zip(labels.copy_to, copied, strict=True), copied))
    else:
        for out_name, src in labels.copy:
            value = record.get(src)
            if value is not None:
                record[out_name] = value
    for out_name, src, separator in labels.basename:
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


@dataclass(frozen=True)
class WindowsTemplate:
    """What `fill_windows_record` would do for events whose ``system`` mapping has the
    same keys and the same values except a few variable ones: worked out once by
    `windows_template`, applied per event by `fill_from_template` (the EVTX hot path,
    where provider, event id, level, channel, computer, ... repeat from event to event).
    """

    before: Mapping[str, str]  # fields from the constant values before the variable ones
    variable: tuple[str, ...]  # fields from the variable values, in order
    expand: Callable[[Sequence[str]], Sequence[str]]  # variable values → one per field
    after: Mapping[str, str]  # fields from the constant values after, then EventID, ...
    outs: frozenset[str]  # every field a System value feeds
    labels: _Labels


def windows_template(
    before: Mapping[str, object],
    variable: Sequence[str],
    after: Mapping[str, object],
    opts: IngestOptions,
) -> WindowsTemplate | None:
    """The template of events whose ``system`` mapping is ``before``, then the
    ``variable`` keys, then ``after`` (in that order, with ``EventID``, ``Channel``
    and ``Computer`` among the constant values); None when the event needs the
    general rules (a field fed by two keys, a repeated key, a non-text value, ...)."""
    keys = [*before, *variable, *after]
    if len(set(keys)) != len(keys) or not set(variable).isdisjoint(_EVENT_KEYS):
        return None
    constant = {**before, **after}
    if any(type(value) is not str for value in constant.values()):
        return None
    event_id, channel = constant.get("EventID"), constant.get("Channel", "")
    if not isinstance(event_id, str) or not event_id.strip() or not isinstance(channel, str):
        return None
    computer = constant.get("Computer")
    index = _system_index()
    fed: set[str] = set()
    parts: list[dict[str, str]] = [{}, {}]
    var_outs: list[str] = []
    var_index: list[int] = []
    for key in keys:
        outs = index.get(key, ())
        if not fed.isdisjoint(outs):
            return None  # first non-empty wins: the general rules decide
        fed.update(outs)
        if key in before or key in after:
            value = constant[key]
            if value:
                parts[0 if key in before else 1].update(dict.fromkeys(outs, value))  # type: ignore[arg-type]
        else:
            var_outs.extend(outs)
            var_index.extend([variable.index(key)] * len(outs))
    labels = _labels(channel, event_id, computer if isinstance(computer, str) else None, opts)
    expand = itemgetter(*var_index) if len(var_index) > 1 else lambda v: (v[var_index[0]],)
    return WindowsTemplate(
        before=parts[0],
        variable=tuple(var_outs),
        expand=expand if var_index else lambda v: (),
        after={**parts[1], **labels.head},
        outs=frozenset(fed),
        labels=labels,
    )


def fill_from_template(
    template: WindowsTemplate,
    record: Record,
    values: Sequence[str],
    *,
    system_time: str,
    raw: str | None,
    record_id: str | None,
) -> Record | str | None:
    """`fill_windows_record` by a template: ``record`` holds the event data (non-empty
    values, no reserved names), ``values`` the variable System values in the
    template's order, ``system_time`` the SystemTime (one of them). None when the
    general rules are needed after all (event data named like a System field, an
    empty value): the caller then calls `fill_windows_record`, which gives the same
    record as this function whenever this function gives one."""
    if "" in values or not record.keys().isdisjoint(template.outs):
        return None
    when = parse_windows_time(system_time)
    if when is None:
        return f"unreadable SystemTime {system_time!r}"
    record.update(template.before)
    record.update(zip(template.variable, template.expand(values), strict=True))
    record.update(template.after)
    return _finish(record, template.labels, when, raw, record_id)


#: Entries kept in the per-event caches below (cleared when full).
_CACHE_MAX = 4096
_TEXT = frozenset({str})
#: ``system`` keys that name the event rather than fill a field of the same name.
_EVENT_KEYS = frozenset({"EventID", "Channel", "Computer"})


@dataclass(frozen=True)
class _SystemPlan:
    """How the values of a ``system`` mapping with given keys become fields."""

    pairs: tuple[tuple[str, str], ...]  # (system key, output field), in order
    outs: tuple[str, ...]  # output fields of ``pairs``
    get: Callable[[Mapping[str, object]], tuple[object, ...]] | None  # values, in order
    bulk: bool  # two or more fields, none fed twice: values may go in one update


@lru_cache(maxsize=256)
def _system_plan(keys: tuple[str, ...]) -> _SystemPlan:
    """The `_SystemPlan` of a ``system`` mapping with exactly these keys (readers
    produce a handful of layouts)."""
    index = _system_index()
    pairs = tuple((key, out_name) for key in keys for out_name in index.get(key, ()))
    outs = tuple(out_name for _, out_name in pairs)
    get = itemgetter(*(key for key, _ in pairs)) if len(pairs) > 1 else None
    return _SystemPlan(pairs, outs, get, bulk=get is not None and len(set(outs)) == len(outs))


@dataclass(frozen=True)
class _Labels:
    """The per-event constants of one (channel, event id, host, options)."""

    head: Mapping[str, str]  # EventID/EventCode/..., Channel, Computer/host/dest
    tail: Mapping[str, str]  # index, sourcetype, source
    time_fields: tuple[str, ...]
    copy: tuple[tuple[str, str], ...]
    copy_from: tuple[str, ...]
    copy_to: tuple[str, ...]
    copy_bulk: bool  # no copy reads another copy's output: all may be read first
    basename: tuple[tuple[str, str, str], ...]


_LABELS: dict[tuple[str, str, object, str, str | None], _Labels] = {}


def _labels(channel: str, event_id: str, host: str | None, opts: IngestOptions) -> _Labels:
    """What every event of ``channel`` / ``event_id`` from ``host`` gets."""
    m = _mapping()
    event_code = event_id.strip()
    channel_name = channel.strip()
    plan = _plan(m.channels.get(channel_name.casefold(), channel_name), event_code)
    head = dict.fromkeys(m.event_fields["EventID"], event_code)
    if channel_name:
        head.update(dict.fromkeys(m.event_fields["Channel"], channel_name))
    if host:
        head.update(dict.fromkeys(m.event_fields["Computer"], host))
    tail = {
        "index": opts.index or plan.index or m.default_index,
        "sourcetype": plan.sourcetype[opts.sourcetype_style],
        "source": plan.source,
    }
    copy_to = tuple(out_name for out_name, _ in plan.copy)
    copy_from = tuple(src for _, src in plan.copy)
    return _Labels(
        head=head,
        tail=tail,
        time_fields=m.time_fields,
        copy=plan.copy,
        copy_from=copy_from,
        copy_to=copy_to,
        copy_bulk=set(copy_from).isdisjoint(copy_to),
        basename=plan.basename,
    )
