"""EVTX files via pyevtx-rs (``evtx.PyEvtxParser``, chunks parsed on all cores).

Records are read as XML (``records()``), not JSON: ``_raw`` must be the event XML, as in
Splunk's XmlWinEventLog, and pyevtx-rs renders XML faster than JSON plus ``json.loads``
(measured: about 10 µs against 24 µs a record). The fields are then cut out of
pyevtx-rs' own, regular rendering by string operations and a few regular expressions
(several times faster than an XML parser); what repeats from event to event (the
``<System>`` text around time, record, process and thread ids; the ``<Data>`` names of
an event type) is read once and cached, so most events cost two regular expression
matches and a few dict updates. ``_raw`` is the event XML on one line, as Splunk holds
it: pyevtx-rs' indentation goes, every value stays as written. Any event the fast path
does not fully account for (UserData, unnamed or nested data, ...) goes through the
safe XML parser instead.

Damage never stops a file: pyevtx-rs raises per bad record or chunk, and each becomes
a `Reject` naming it. A truncated file, whose partial last chunk pyevtx-rs skips
without a word, is detected from the file header and reported too.
"""

from __future__ import annotations

import io
import operator
import re
import struct
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from itertools import compress
from typing import IO, Any, NamedTuple, cast

import evtx

from stagehunt.ingest.normalise.windows import (
    RESERVED,
    WindowsTemplate,
    clean_keys,
    fill_from_template,
    fill_windows_record,
    parse_windows_time,
    windows_template,
)
from stagehunt.ingest.options import IngestOptions
from stagehunt.ingest.records import RECORD_ID, Record, Reject
from stagehunt.ingest.sources import Source
from stagehunt.ingest.winxml import event_from_element, parse_event_xml

__all__ = ["MAGIC", "Above", "read", "read_path", "sniff"]

MAGIC = b"ElfFile\x00"
_HEADER_SIZE = 4096
_CHUNK_SIZE = 65536

_ENTITY = re.compile(r"&(?:#(\d+)|#x([0-9a-fA-F]+)|(lt|gt|amp|quot|apos));")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}
_POSITION = (
    (re.compile(r"record number (\d+)"), "record {}"),
    (re.compile(r"chunk containing record IDs (\d+\.\.\d+)"), "chunk with records {}"),
    (re.compile(r"chunk number (\d+)"), "chunk {}"),
)


def sniff(head: bytes) -> bool:
    """True for an EVTX file (its header magic)."""
    return head.startswith(MAGIC)


def _unescape(text: str) -> str:
    """Undo XML escaping (the five entities and character references)."""
    if "&" not in text:
        return text

    def one(m: re.Match[str]) -> str:
        dec, hexa, named = m.groups()
        if named:
            return _NAMED[named]
        try:
            return chr(int(dec) if dec else int(hexa, 16))
        except (ValueError, OverflowError):
            return m.group(0)

    return _ENTITY.sub(one, text)


#: The part of ``<System>`` that changes from event to event, as pyevtx-rs writes it
#: for Windows' schema: time, record id, activity ids, process and thread id.
_A = r'="([^"&\n]*)"'  # an attribute value without entity or line break
_MIDDLE = re.compile(
    rf"<TimeCreated SystemTime{_A}>\n *</TimeCreated>\n *"
    r"<EventRecordID>(\d+)</EventRecordID>\n *"
    rf"<Correlation(?: ActivityID{_A})?(?: RelatedActivityID{_A})?>\n *</Correlation>\n *"
    r'<Execution ProcessID="(\d+)" ThreadID="(\d+)">\n *</Execution>\n *'
)
_DATA_OPEN = '<Data Name="'
_DATA_SEP = '</Data>\n    <Data Name="'
_DATA_SEP_LINE = '</Data><Data Name="'
#: Line breaks and indentation between two tags of pyevtx-rs' pretty-printed XML.
_GAP = re.compile(r">\n *<")


def _system_generic(body: str) -> dict[str, object] | None:
    """Any <System> block in pyevtx-rs' layout, element by element."""
    system: dict[str, object] = {}
    for piece in body.split("<"):
        if not piece or piece[0] == "/" or piece.isspace():
            continue
        tag, sep, text = piece.partition(">")
        if not sep:
            return None
        if " " in tag:
            name, _, attrs = tag.partition(" ")
            parts = attrs.split('"')
            if len(parts) % 2 == 0:
                return None
            for i in range(0, len(parts) - 1, 2):
                key = parts[i].strip().rstrip("=")
                value = parts[i + 1]
                system[f"{name}.{key}"] = _unescape(value) if "&" in value else value
        else:
            name = tag
        text = text.strip()
        if text:
            system[name] = _unescape(text) if "&" in text else text
    return system


def _event_data(rest: str) -> tuple[Record, str] | None:
    """EventData of pyevtx-rs' layout: its non-empty values, and the element on one
    line; None if unusual.

    Done with whole-string operations (split, join, zip) so that the per-field work
    happens in C: this is the hot path of EVTX ingest. The separator between two
    ``<Data>`` elements holds ``</Data>``, which no value can hold (it would be
    ``&lt;/Data>``), so splitting on it cuts at element boundaries only, and joining
    the pieces again without the line break changes the layout, never a value.
    """
    if not rest or rest == "<EventData/>":
        return {}, rest
    if not (rest.startswith("<EventData>") and rest.endswith("</EventData>")):
        return None  # UserData, RenderingInfo, EventData attributes, ...
    body = rest[11:-12].strip()
    if not body:
        return {}, "<EventData></EventData>"
    if not (body.startswith(_DATA_OPEN) and body.endswith("</Data>")):
        return None
    parts = body[12:-7].split(_DATA_SEP)
    joined = '">'.join(parts)
    if "<" in joined:
        return None  # unnamed Data, Binary, nested elements, odd layout
    flat = joined.split('">')
    n = len(parts)
    if len(flat) != 2 * n:
        return None  # a name or value holding '">': not pyevtx-rs' escaping
    pairs = iter(flat)
    data: dict[str, str] = dict(zip(pairs, pairs, strict=True))
    if len(data) != n:
        return None  # repeated names: let the full parser build the list
    cleaned = clean_keys(tuple(data))
    if cleaned is not None:  # names as Splunk cleans them (rare: Defender's "Source Name")
        if len(set(cleaned)) != n:
            return None
        data = dict(zip(cleaned, data.values(), strict=True))
    line = f"<EventData>{_DATA_OPEN}{_DATA_SEP_LINE.join(parts)}</Data></EventData>"
    if "&" in body:
        return {k: _unescape(v) for k, v in data.items() if v}, line
    if '"></Data>' in body:  # an empty value
        return {k: v for k, v in data.items() if v}, line
    return data, line  # type: ignore[return-value]


class _Located(NamedTuple):
    """Where the pieces of an event are in pyevtx-rs' XML (`_locate`)."""

    first: int  # <Event
    start: int  # <System>
    stop: int  # just after </System>
    end: int  # </Event>
    middle: int  # <TimeCreated (-1: none)
    after: int  # <Channel> (-1: none)
    match: re.Match[str] | None  # `_MIDDLE` between them


def _locate(xml: str) -> _Located | None:
    """The event's pieces; None when it has no <Event>/<System> frame."""
    first = xml.find("<Event")
    start = xml.find("<System>", first)
    stop = xml.find("</System>", start)
    end = xml.rfind("</Event>")
    if first < 0 or start < 0 or stop < 0 or end < stop:
        return None
    stop += 9
    middle = xml.find("<TimeCreated ", start, stop)
    after = xml.find("<Channel>", middle, stop)
    m = _MIDDLE.fullmatch(xml, middle, after) if middle >= 0 and after >= 0 else None
    return _Located(first, start, stop, end, middle, after, m)


def _fast_record(xml: str, raw: str | None, opts: IngestOptions) -> Record | str | None:
    """Fields from pyevtx-rs' XML by string operations; None when the full parser is needed.

    pyevtx-rs renders every event the same regular way (one element per line, double
    quoted attributes, escaped text), so plain string operations are enough, and
    several times cheaper than an XML parser. ``<System>`` is cut in three: the parts
    before and after `_MIDDLE` repeat from event to event (provider, event id, level,
    ..., channel, computer, user), so they are read once and what they mean is kept
    as a `WindowsTemplate` (`_shape`); `_MIDDLE` reads the rest. Anything that does
    not fit exactly returns None.

    ``_raw`` is ``raw`` when given, else the event XML on one line (as Splunk's
    XmlWinEventLog holds it), made from the same pieces: the layout between tags
    goes, every value stays as written.
    """
    at = _locate(xml)
    if at is None:
        return None
    first, start, stop, end, middle, after, m = at
    if m is None:
        return _general_record(xml, first, start, middle, after, stop, end, raw, opts)
    when, rid, activity, related, pid, tid = m.groups()
    correlated = activity is not None or related is not None
    kind = (activity is not None) + 2 * (related is not None)  # which ids are present
    shape = _shape(xml[first:middle], xml[after:stop], start - first, kind, opts)
    if shape is None:
        return None
    dm = shape.data.fullmatch(xml, stop, end) if shape.data is not None else None
    if dm is not None:  # the Data names this shape had before: values by one match
        inner, found = _data_values(dm)
        if "" in found:  # empty values are no fields
            record: Record = dict(
                zip(compress(shape.names, found), compress(found, found), strict=True)
            )
        else:
            record = dict(zip(shape.names, found, strict=True))
        data_line = f"<EventData>{inner.replace(_DATA_SEP, _DATA_SEP_LINE)}</EventData>"
    else:
        event_data = _event_data(xml[stop:end].strip())
        if event_data is None:
            return None
        record, data_line = event_data
        if not RESERVED.isdisjoint(record):
            return None
        if shape.unseen:
            shape.unseen -= 1
            if not shape.unseen:
                shape.learn(xml[stop:end])
    if correlated:
        mid_line = _GAP.sub("><", xml[middle : xml.find("<Execution", middle)]).rstrip()
    else:
        mid_line = (
            f'<TimeCreated SystemTime="{when}"></TimeCreated>'
            f"<EventRecordID>{rid}</EventRecordID><Correlation></Correlation>"
        )
    template, head_line, tail_line = shape.template, shape.head_line, shape.tail_line
    if raw is None:
        raw = (
            f'{head_line}{mid_line}<Execution ProcessID="{pid}" ThreadID="{tid}"></Execution>'
            f"{tail_line}{data_line}</Event>"
        )
    if template is not None:
        if correlated:
            values = tuple(v for v in (when, rid, activity, related, pid, tid) if v is not None)
        else:
            values = (when, rid, pid, tid)
        done = fill_from_template(
            template, record, values, system_time=when, raw=raw, record_id=rid
        )
        if done is not None:
            return done
    return _general_record(xml, first, start, middle, after, stop, end, raw, opts)


def _general_record(
    xml: str,
    first: int,
    start: int,
    middle: int,
    after: int,
    stop: int,
    end: int,
    raw: str | None,
    opts: IngestOptions,
) -> Record | str | None:
    """`_fast_record` for a ``<System>`` of another layout, element by element."""
    event_data = _event_data(xml[stop:end].strip())
    if event_data is None:
        return None
    record, data_line = event_data
    if not RESERVED.isdisjoint(record):
        return None
    if middle >= 0 and after >= 0:
        parts = [xml[start + 8 : middle], xml[middle:after], xml[after : stop - 9]]
    else:
        parts = [xml[start + 8 : stop - 9]]
    system: dict[str, object] = {}
    for part in parts:  # parsed apart, so the same as `_shape`'s parts in every case
        values = _system_generic(part)
        if values is None:
            return None
        system.update(values)
    event_id = system.get("EventID")
    if not isinstance(event_id, str):
        return None
    if raw is None:
        raw = f"{_GAP.sub('><', xml[first:stop])}{data_line}</Event>"
    channel = system.get("Channel")
    computer = system.get("Computer")
    system_time = system.get("TimeCreated.SystemTime")
    record_id = system.get("EventRecordID")
    return fill_windows_record(
        record,
        channel=channel if isinstance(channel, str) else "",
        event_id=event_id,
        computer=computer if isinstance(computer, str) else None,
        system_time=system_time if isinstance(system_time, str) else None,
        system=system,
        raw=raw,
        record_id=record_id if isinstance(record_id, str) else None,
        opts=opts,
    )


class _Shape:
    """What events with the same XML around `_MIDDLE` share: their `WindowsTemplate`
    (None: they need the general rules), that XML on one line, and, once the shape
    has recurred, the ``<Data>`` names of its events as a regular expression that
    captures the values in one match."""

    __slots__ = ("data", "head_line", "names", "opts", "plans", "tail_line", "template", "unseen")

    def __init__(
        self,
        opts: IngestOptions,
        template: WindowsTemplate | None,
        head_line: str,
        tail_line: str,
    ) -> None:
        self.opts = opts
        self.template = template
        self.head_line = head_line
        self.tail_line = tail_line
        self.data: re.Pattern[str] | None = None
        self.names: tuple[str, ...] = ()
        #: which Data values are empty (None: none) -> its `RowPlan`, or None if it has none
        self.plans: dict[tuple[bool, ...] | None, RowPlan | None] = {}
        # events of this shape read the general way before its names are learnt:
        # compiling the expression costs ~2 ms, which only recurring shapes repay
        self.unseen = _LEARN_AFTER

    def learn(self, rest: str) -> None:
        """Take the ``<Data>`` names of ``rest`` (an EventData `_event_data` read) as
        the ones to expect: later events match them in one go (`_data_values`); any
        other layout does not match and goes through `_event_data` again."""
        names = tuple(_DATA_NAME.findall(rest))
        if not names or "&" in "".join(names) or not RESERVED.isdisjoint(names):
            return
        keys = clean_keys(names) or names
        if len(set(keys)) != len(names) or not RESERVED.isdisjoint(keys):
            return
        # values as [^<]* (one character class: matched several times faster than
        # [^<&]*); a value's entities are undone after the match
        fields = "\n    ".join(f'<Data Name="{re.escape(name)}">([^<]*)</Data>' for name in names)
        self.data = re.compile(rf"\s*<EventData>\n    ({fields})\n  </EventData>\s*")
        self.names = keys  # the fields the values go to


def _data_values(match: re.Match[str]) -> tuple[str, list[str]]:
    """The ``<Data>`` elements and the values of a `_Shape.data` match, unescaped."""
    inner, *found = match.groups()
    if "&" in inner:  # only values can hold one: a name with '&' is never learnt
        found = [_unescape(value) for value in found]
    return inner, found


_DATA_NAME = re.compile(r'<Data Name="([^"]*)">')
_LEARN_AFTER = 16
#: (XML before `_MIDDLE`, XML after it, correlation ids present, id of the options) →
#: its shape (keyed by id: hashing the options costs a Python call per event)
_SHAPES: dict[tuple[str, str, int, int], _Shape | None] = {}
_SHAPES_MAX = 4096


def _middle_keys(kind: int) -> tuple[str, ...]:
    """The `_MIDDLE` keys of events with these correlation ids (bit 1: ActivityID,
    bit 2: RelatedActivityID)."""
    ids = ("Correlation.ActivityID",) * (kind & 1) + ("Correlation.RelatedActivityID",) * (
        kind >> 1
    )
    return (
        "TimeCreated.SystemTime",
        "EventRecordID",
        *ids,
        "Execution.ProcessID",
        "Execution.ThreadID",
    )


def _shape(head: str, tail: str, system_at: int, kind: int, opts: IngestOptions) -> _Shape | None:
    """The `WindowsTemplate` of events with this XML around `_MIDDLE` (None: those
    need the general rules) and that XML on one line; None when it is not in
    pyevtx-rs' layout. Cached: a file holds a handful of shapes."""
    key = (head, tail, kind, id(opts))  # the entry holds opts, so the id stays its own
    try:
        found = _SHAPES[key]
        if found is None or found.opts is opts:
            return found
    except KeyError:
        pass
    before = _system_generic(head[system_at + 8 :])
    after = _system_generic(tail[:-9]) if tail.endswith("</System>") else None
    shape: _Shape | None = None
    if before is not None and after is not None:
        template = windows_template(before, _middle_keys(kind), after, opts)
        shape = _Shape(opts, template, _GAP.sub("><", head).rstrip(), _GAP.sub("><", tail))
    if len(_SHAPES) >= _SHAPES_MAX:
        _SHAPES.clear()
    _SHAPES[key] = shape
    return shape


def _position(message: str, last_id: str | None) -> str:
    """Where pyevtx-rs says the damage is, else after the last good record."""
    for pattern, fmt in _POSITION:
        m = pattern.search(message)
        if m:
            return fmt.format(m.group(1))
    return f"after record {last_id}" if last_id is not None else "start of file"


def _truncation(header: bytes, size: int) -> str | None:
    """A reason when the file holds fewer complete chunks than its ``header`` (its first
    4096 bytes) declares: pyevtx-rs skips a partial last chunk without a word."""
    if len(header) < 44:
        return None
    (declared,) = struct.unpack_from("<H", header, 42)
    body = max(0, size - _HEADER_SIZE)
    complete, partial = divmod(body, _CHUNK_SIZE)
    if partial or complete < declared:
        return (
            f"file truncated: header declares {declared} chunks, {complete} complete"
            f" present{f' plus a partial chunk of {partial} bytes' if partial else ''};"
            " records in the missing part are lost"
        )
    return None


def _header_and_size(source: Source, header: bytes | None) -> tuple[bytes, int]:
    """The file header (its first 4096 bytes) and the file size, reading only what the
    caller has not (this runs once per file, and most EVTX files hold a few records)."""
    if header is not None and len(header) >= _HEADER_SIZE and source.size is not None:
        return header[:_HEADER_SIZE], source.size
    # a file by its path: unbuffered, a single read
    with source.open() if source.path is None else open(source.path, "rb", 0) as fh:
        header = fh.read(_HEADER_SIZE)
        size = source.size
        if size is None:
            fh.seek(0, 2)
            size = fh.tell()
    return header, size


@dataclass
class Above:
    """Read only the records numbered above ``number``; ``highest`` is then the highest
    number read. The number is the record header's, the log's own count (what pyevtx-rs
    calls ``event_record_id``): it grows as the log is written, where the events'
    ``<EventRecordID>`` need not (a collector's ForwardedEvents.evtx keeps the source
    machines' ids; an exported log keeps the original's)."""

    number: int
    highest: int = 0


#: pyevtx-rs threads for a file of several chunks (0: one per core); a worker process
#: of `stagehunt.ingest.parallel` sets 1.
PARSER_THREADS = 0


def _threads(size: int | None) -> int:
    """pyevtx-rs threads for a file of ``size`` bytes (see `_parser`)."""
    return 1 if size is not None and size <= _HEADER_SIZE + _CHUNK_SIZE else PARSER_THREADS


def _parser(source: Source, size: int | None) -> tuple[Any, IO[bytes] | None]:
    """A PyEvtxParser over the file path, or over a stream for a non-file source.

    One worker thread for a file of a single chunk: a thread pool costs more than it
    saves there (measured: half the per-file time on one-chunk files); all cores else.
    """
    threads = _threads(size)
    if source.path is not None:
        return evtx.PyEvtxParser(str(source.path), number_of_threads=threads), None
    fh = source.open()
    return evtx.PyEvtxParser(fh, number_of_threads=threads), fh


def read(
    source: Source,
    opts: IngestOptions,
    header: bytes | None = None,
    rows: RowSink | None = None,
    above: Above | None = None,
) -> Iterator[Record | Reject | object]:
    """Every record of an EVTX file as a normalised record; damage as rejects.
    ``header``: the file's first bytes, when the caller has read them already;
    ``above``: only the records above a number (a watcher's grown log).

    With ``rows``, an event of a layout that has a `RowPlan` goes to ``rows`` as a
    row instead (`ROW` is yielded in its place, so that positions still count): what a
    worker that puts records in Arrow tables wants, at half the cost of a record."""
    try:
        header, size = _header_and_size(source, header)
        truncated = _truncation(header, size)
        parser, stream = _parser(source, size)
    except (OSError, RuntimeError, ValueError) as exc:
        yield Reject(source.name, "file header", f"unreadable EVTX: {exc}")
        return
    try:
        yield from _records(source.name, parser, truncated, opts, rows, above)
    finally:
        if stream is not None:
            stream.close()


def read_path(
    name: str, path: str, size: int, header: bytes, opts: IngestOptions, rows: RowSink | None
) -> Iterator[Record | Reject | object]:
    """`read` for a file on disk whose size and first bytes (at least 4096, or the whole
    file) are in hand: a worker's files, most of which hold a few records, so that the
    per-file cost is pyevtx-rs' own."""
    try:
        truncated = _truncation(header, size)
        parser = evtx.PyEvtxParser(path, number_of_threads=_threads(size))
    except (OSError, RuntimeError, ValueError) as exc:
        yield Reject(name, "file header", f"unreadable EVTX: {exc}")
        return
    yield from _records(name, parser, truncated, opts, rows)


_CHUNK_AT = re.compile(r"^chunk (\d+)$")


def read_part(
    name: str,
    data: bytes,
    first_chunk: int,
    opts: IngestOptions,
    rows: RowSink | None,
    seen: Above | None = None,
) -> Iterator[Record | Reject | object]:
    """`read` for a run of a file's chunks behind its header (`evtx_chunks.part`), the
    chunks from ``first_chunk`` on: what a worker reads of a large file. Records keep
    their numbers (the chunks' own; ``seen.highest`` is then the highest read); a
    reject naming a chunk names it as the whole file counts them."""
    try:
        parser = evtx.PyEvtxParser(io.BytesIO(data), number_of_threads=1)
    except (OSError, RuntimeError, ValueError) as exc:
        yield Reject(name, f"chunk {first_chunk}", f"unreadable EVTX: {exc}")
        return
    for item in _records(name, parser, None, opts, rows, seen):
        if isinstance(item, Reject):
            m = _CHUNK_AT.match(item.position)
            if m is not None:
                item = Reject(item.path, f"chunk {int(m.group(1)) + first_chunk}", item.reason)
        yield item


def truncation(header: bytes, size: int) -> str | None:
    """Public name of `_truncation`, for a large file read in parts."""
    return _truncation(header, size)


def _records(
    name: str,
    parser: Any,
    truncated: str | None,
    opts: IngestOptions,
    rows: RowSink | None,
    above: Above | None = None,
) -> Iterator[Record | Reject | object]:
    """The records (or rows, see `read`) and rejects of an open parser (above a
    record number, see `Above`)."""
    records = parser.records()
    last_id: str | None = None
    n = 0
    while True:
        try:
            item = next(records)
        except StopIteration:
            break
        except (RuntimeError, OSError, ValueError) as exc:
            yield Reject(name, _position(str(exc), last_id), f"corrupt EVTX: {exc}")
            continue
        n += 1
        if above is not None:
            number = item.get("event_record_id")
            if isinstance(number, int):  # pyevtx-rs always gives one; else kept
                if number <= above.number:
                    last_id = str(number)
                    continue
                above.highest = max(above.highest, number)
        rid = str(item.get("event_record_id", ""))
        xml = item.get("data")
        if not isinstance(xml, str):
            yield Reject(name, f"record {rid or n}", "pyevtx-rs returned no XML")
            continue
        parts = _parts(xml, opts) if rows is not None else None
        planned = _row(parts) if parts is not None else None
        if planned is not None:
            assert rows is not None
            rows(*planned)
            last_id = rid or last_id
            yield ROW
            continue
        outcome = _record(xml, opts)
        if parts is not None and not isinstance(outcome, str):
            _learn_plan(parts, outcome)
        if isinstance(outcome, str):
            yield Reject(name, f"record {rid or n}", outcome)
            continue
        if RECORD_ID not in outcome and rid:
            outcome[RECORD_ID] = rid
        last_id = rid or last_id
        yield outcome
    if truncated is not None:
        yield Reject(name, f"end of file (after record {last_id})", truncated)


def _record(xml: str, opts: IngestOptions) -> Record | str:
    """One pyevtx-rs XML rendering as a record: fast path, else the safe parser.

    Either way ``_raw`` is the event XML on one line; the safe parser reads the XML as
    pyevtx-rs wrote it, so its fields do not depend on that re-layout.
    """
    fast = _fast_record(xml, None, opts)
    if fast is not None:
        return fast
    raw = xml
    if xml.startswith("<?xml"):
        raw = xml[xml.find("?>") + 2 :].lstrip()
    root = parse_event_xml(raw)
    if isinstance(root, str):
        return root
    return event_from_element(root, _GAP.sub("><", raw).rstrip(), opts)


# --------------------------------------------------------------------------- rows

#: Where a `RowPlan` takes a field's value from: the event's row, a constant, or the
#: last path segment of a row value (a basename alias).
_FROM_ROW, _CONSTANT, _BASENAME = 0, 1, 2
#: What `read` yields in place of an event it gave to its row sink.
ROW = object()
#: Receives an event as a row of its layout's plan.
RowSink = Callable[["RowPlan", tuple[object, ...]], None]


class RowPlan:
    """How the events of one layout (a `_Shape` with learnt Data names, and which of
    those values are empty) become table columns without a dict per event.

    An event's row is its Data values, then ``SystemTime``, ``EventRecordID``,
    ``ProcessID``, ``ThreadID`` (the `_MIDDLE` values), epoch seconds and ``_raw``.
    Each field takes its value from a row position, a constant, or the basename of a
    row value; the fields and their order are those `fill_from_template` gives, worked
    out by replaying its steps (`_plan_for`) and checked against the record the
    general code made of the layout's first event.
    """

    __slots__ = ("keys", "sources")

    def __init__(self, keys: tuple[str, ...], sources: tuple[tuple[int, Any], ...]) -> None:
        self.keys = keys
        self.sources = sources

    def record(self, row: Sequence[object]) -> Record:
        """One row as the record it stands for (what the plan is checked with)."""
        out: Record = {}
        for key, (kind, arg) in zip(self.keys, self.sources, strict=True):
            if kind == _FROM_ROW:
                out[key] = row[arg]
            elif kind == _CONSTANT:
                out[key] = arg
            else:
                at, separator = arg
                out[key] = str(row[at]).rsplit(separator, 1)[-1]
        return out

    def scatter(
        self,
        rows: Sequence[Sequence[object]],
        positions: Sequence[int],
        columns: dict[str, list[object]],
    ) -> None:
        """Put each row's fields in ``columns`` (field -> values by position) at the
        row's position: what a table of the records would hold."""
        pairs = [
            (arg, columns[key])
            for key, (kind, arg) in zip(self.keys, self.sources, strict=True)
            if kind == _FROM_ROW
        ]
        for at, row in zip(positions, rows, strict=True):
            for i, column in pairs:
                column[at] = row[i]
        for key, (kind, arg) in zip(self.keys, self.sources, strict=True):
            column = columns[key]
            if kind == _CONSTANT:
                for at in positions:
                    column[at] = arg
            elif kind == _BASENAME:
                i, separator = arg
                for at, row in zip(positions, rows, strict=True):
                    column[at] = str(row[i]).rsplit(separator, 1)[-1]


class _Parts(NamedTuple):
    """An event `_fast_record` would read by its shape's expression and template."""

    shape: _Shape
    found: list[str]  # its Data values
    middle: tuple[str, str, str, str]  # SystemTime, EventRecordID, ProcessID, ThreadID
    inner: str  # its <Data> elements
    layout: tuple[bool, ...] | None  # which Data values are empty (None: none)


def _parts(xml: str, opts: IngestOptions) -> _Parts | None:
    """The pieces of an event of a learnt shape without correlation ids; None for any
    other event (it goes the general way)."""
    at = _locate(xml)
    if at is None or at.match is None:
        return None
    when, rid, activity, related, pid, tid = at.match.groups()
    if activity is not None or related is not None:
        return None
    shape = _shape(xml[at.first : at.middle], xml[at.after : at.stop], at.start - at.first, 0, opts)
    if shape is None or shape.data is None or shape.template is None:
        return None
    dm = shape.data.fullmatch(xml, at.stop, at.end)
    if dm is None:
        return None
    inner, found = _data_values(dm)
    layout = tuple(map(operator.not_, found)) if "" in found else None
    return _Parts(shape, found, (when, rid, pid, tid), inner, layout)


def _row(parts: _Parts) -> tuple[RowPlan, tuple[object, ...]] | None:
    """The plan and row of an event whose layout has a plan; None otherwise (the event
    goes the general way)."""
    shape, found, middle, inner, layout = parts
    plan = shape.plans.get(layout)
    if plan is None or "" in middle:
        return None
    when, rid, pid, tid = middle
    seconds = parse_windows_time(when)
    if seconds is None:
        return None
    raw = (
        f'{shape.head_line}<TimeCreated SystemTime="{when}"></TimeCreated>'
        f"<EventRecordID>{rid}</EventRecordID><Correlation></Correlation>"
        f'<Execution ProcessID="{pid}" ThreadID="{tid}"></Execution>{shape.tail_line}'
        f"<EventData>{inner.replace(_DATA_SEP, _DATA_SEP_LINE)}</EventData></Event>"
    )
    return plan, (*found, when, rid, pid, tid, seconds, raw)


def _learn_plan(parts: _Parts, record: Record) -> None:
    """Work out the plan of this event's layout, if it has none yet, from the record
    the general code made of it; kept only if the plan gives that same record."""
    shape, found, middle, _, layout = parts
    if layout in shape.plans or "" in middle:
        return
    plan = _plan_for(shape, found)
    seconds = parse_windows_time(middle[0])
    row = (*found, *middle, seconds, record.get("_raw"))
    if plan is not None and (tuple(record) != plan.keys or plan.record(row) != record):
        plan = None
    shape.plans[layout] = plan


def _plan_for(shape: _Shape, found: Sequence[str]) -> RowPlan | None:
    """`fill_from_template`'s steps on the field sources instead of values: the event
    data, the template's constants and variable System values, ``_time``, the labels,
    the copy and basename aliases, ``_raw``, the record id. A dict keeps a key where it
    was first set and the value last set, exactly as the record's updates do."""
    template = shape.template
    assert template is not None
    labels = template.labels
    if not labels.copy_bulk:
        return None
    n = len(found)
    src: dict[str, tuple[int, Any]] = {}
    for i, (name, value) in enumerate(zip(shape.names, found, strict=True)):
        if value:
            src[name] = (_FROM_ROW, i)
    src.update((k, (_CONSTANT, v)) for k, v in template.before.items())
    # the positions of the variable System values in (time, record id, pid, tid)
    variable = cast(Sequence[int], template.expand(cast(Sequence[str], (0, 1, 2, 3))))
    src.update((k, (_FROM_ROW, n + j)) for k, j in zip(template.variable, variable, strict=True))
    src.update((k, (_CONSTANT, v)) for k, v in template.after.items())
    src["_time"] = (_FROM_ROW, n + 4)
    src.update((k, (_CONSTANT, v)) for k, v in labels.tail.items())
    copied = [src.get(name) for name in labels.copy_from]
    src.update((k, c) for k, c in zip(labels.copy_to, copied, strict=True) if c is not None)
    for out_name, name, separator in labels.basename:
        source = src.get(name)
        if source is None:
            continue
        kind, arg = source
        if kind == _CONSTANT and isinstance(arg, str):
            src[out_name] = (_CONSTANT, arg.rsplit(separator, 1)[-1])
        elif kind == _FROM_ROW and arg != n + 4:
            src[out_name] = (_BASENAME, (arg, separator))
        else:
            return None
    src["_raw"] = (_FROM_ROW, n + 5)
    src[RECORD_ID] = (_FROM_ROW, n + 1)
    return RowPlan(tuple(src), tuple(src.values()))
