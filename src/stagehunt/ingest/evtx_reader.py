"""EVTX files via pyevtx-rs (``evtx.PyEvtxParser``, chunks parsed on all cores).

Records are read as XML (``records()``), not JSON: ``_raw`` must be the event XML, as in
Splunk's XmlWinEventLog, and the XML costs no more to produce than the JSON. The fields
are then cut out of pyevtx-rs' own, regular rendering with a few regular expressions
(measured: several times faster than an XML parser, which is what keeps ingest near
the raw ``records_json()`` rate); any event the fast path does not fully account for
(UserData, unnamed or nested data, ...) goes through the safe XML parser instead.

Damage never stops a file: pyevtx-rs raises per bad record or chunk, and each becomes
a `Reject` naming it. A truncated file, whose partial last chunk pyevtx-rs skips
without a word, is detected from the file header and reported too.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterator
from typing import IO, Any

import evtx

from stagehunt.ingest.normalise.windows import RESERVED, fill_windows_record
from stagehunt.ingest.options import IngestOptions
from stagehunt.ingest.records import RECORD_ID, Record, Reject
from stagehunt.ingest.sources import Source
from stagehunt.ingest.winxml import event_from_element, parse_event_xml

__all__ = ["MAGIC", "read", "sniff"]

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


#: System elements with text, as pyevtx-rs renders them (``<Name>`` or ``<Name attr=..>``).
_SYS_TEXT = (
    ("EventID", "<EventID"),
    ("Version", "<Version>"),
    ("Level", "<Level>"),
    ("Task", "<Task>"),
    ("Opcode", "<Opcode>"),
    ("Keywords", "<Keywords>"),
    ("EventRecordID", "<EventRecordID>"),
    ("Channel", "<Channel>"),
    ("Computer", "<Computer>"),
)
#: System attributes; each name occurs once in ``<System>``.
_SYS_ATTR = (
    ("Provider.Name", ' Name="'),
    ("Provider.Guid", ' Guid="'),
    ("Provider.EventSourceName", ' EventSourceName="'),
    ("EventID.Qualifiers", ' Qualifiers="'),
    ("TimeCreated.SystemTime", ' SystemTime="'),
    ("Correlation.ActivityID", ' ActivityID="'),
    ("Correlation.RelatedActivityID", ' RelatedActivityID="'),
    ("Execution.ProcessID", ' ProcessID="'),
    ("Execution.ThreadID", ' ThreadID="'),
    ("Security.UserID", ' UserID="'),
)
#: Elements pyevtx-rs always writes in <System> (each with a closing tag).
_SYS_ELEMENTS = 13
_DATA_SEP = '</Data>\n    <Data Name="'


def _system_fields(body: str) -> dict[str, object] | None:
    """The <System> values by targeted search; None when the block has anything else."""
    if body.count("</") != _SYS_ELEMENTS:
        return None
    system: dict[str, object] = {}
    for key, marker in _SYS_TEXT:
        i = body.find(marker)
        if i < 0:
            continue
        i = body.find(">", i) + 1
        text = body[i : body.find("<", i)].strip()
        if text:
            system[key] = _unescape(text) if "&" in text else text
    attrs = 0
    for key, marker in _SYS_ATTR:
        i = body.find(marker)
        if i < 0:
            continue
        i += len(marker)
        value = body[i : body.find('"', i)]
        system[key] = _unescape(value) if "&" in value else value
        attrs += 1
    if body.count('="') != attrs:
        return None  # an attribute this table does not know: take the general path
    return system


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


def _event_data(rest: str) -> Record | None:
    """EventData of pyevtx-rs' layout as a record of non-empty values; None if unusual.

    Done with whole-string operations (count, split, join, zip) so that the per-field
    work happens in C: this is the hot path of EVTX ingest.
    """
    if not rest or rest == "<EventData/>":
        return {}
    if not (rest.startswith("<EventData>") and rest.endswith("</EventData>")):
        return None  # UserData, RenderingInfo, EventData attributes, ...
    body = rest[11:-12].strip()
    if not body:
        return {}
    n = body.count('<Data Name="')
    if body.count("<") != 2 * n or body.count('">') != n or body.count(_DATA_SEP) != n - 1:
        return None  # unnamed Data, Binary, nested elements, odd layout
    if not (body.startswith('<Data Name="') and body.endswith("</Data>")):
        return None
    flat = '">'.join(body[12:-7].split(_DATA_SEP)).split('">')
    pairs = iter(flat)
    data: dict[str, str] = dict(zip(pairs, pairs, strict=True))
    if len(data) != n:
        return None  # repeated names: let the full parser build the list
    if "&" in body:
        return {k: _unescape(v) for k, v in data.items() if v}
    return {k: v for k, v in data.items() if v}


def _fast_record(xml: str, raw: str, opts: IngestOptions) -> Record | str | None:
    """Fields from pyevtx-rs' XML by string operations; None when the full parser is needed.

    pyevtx-rs renders every event the same regular way (one element per line, double
    quoted attributes, escaped text), so plain string search is enough and several
    times cheaper than an XML parser. Anything that does not fit exactly returns None.
    """
    start = xml.find("<System>")
    stop = xml.find("</System>", start)
    end = xml.rfind("</Event>")
    if start < 0 or stop < 0 or end < stop:
        return None
    body = xml[start + 8 : stop]
    system = _system_fields(body)
    if system is None:
        system = _system_generic(body)
        if system is None:
            return None
    record = _event_data(xml[stop + 9 : end].strip())
    if record is None or not RESERVED.isdisjoint(record):
        return None
    event_id = system.get("EventID")
    if not isinstance(event_id, str):
        return None
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


def _position(message: str, last_id: str | None) -> str:
    """Where pyevtx-rs says the damage is, else after the last good record."""
    for pattern, fmt in _POSITION:
        m = pattern.search(message)
        if m:
            return fmt.format(m.group(1))
    return f"after record {last_id}" if last_id is not None else "start of file"


def _truncation(fh: IO[bytes], size: int | None) -> tuple[str | None, int]:
    """The file size, and a reason when the file holds fewer complete chunks than its
    header declares (pyevtx-rs skips a partial last chunk without a word)."""
    header = fh.read(_HEADER_SIZE)
    if size is None:
        fh.seek(0, 2)
        size = fh.tell()
    if len(header) < 44:
        return None, size
    (declared,) = struct.unpack_from("<H", header, 42)
    body = max(0, size - _HEADER_SIZE)
    complete, partial = divmod(body, _CHUNK_SIZE)
    if partial or complete < declared:
        reason = (
            f"file truncated: header declares {declared} chunks, {complete} complete"
            f" present{f' plus a partial chunk of {partial} bytes' if partial else ''};"
            " records in the missing part are lost"
        )
        return reason, size
    return None, size


def _parser(source: Source, size: int | None) -> tuple[Any, IO[bytes] | None]:
    """A PyEvtxParser over the file path, or over a stream for a non-file source.

    One worker thread for a file of a single chunk: a thread pool costs more than it
    saves there (measured: half the per-file time on one-chunk files); all cores else.
    """
    threads = 1 if size is not None and size <= _HEADER_SIZE + _CHUNK_SIZE else 0
    if source.path is not None:
        return evtx.PyEvtxParser(str(source.path), number_of_threads=threads), None
    fh = source.open()
    return evtx.PyEvtxParser(fh, number_of_threads=threads), fh


def read(source: Source, opts: IngestOptions) -> Iterator[Record | Reject]:
    """Every record of an EVTX file as a normalised record; damage as rejects."""
    name = source.name
    try:
        with source.open() as fh:
            truncated, size = _truncation(fh, source.size)
        parser, stream = _parser(source, size)
    except (OSError, RuntimeError, ValueError) as exc:
        yield Reject(name, "file header", f"unreadable EVTX: {exc}")
        return
    try:
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
            rid = str(item.get("event_record_id", ""))
            xml = item.get("data")
            if not isinstance(xml, str):
                yield Reject(name, f"record {rid or n}", "pyevtx-rs returned no XML")
                continue
            outcome = _record(xml, opts)
            if isinstance(outcome, str):
                yield Reject(name, f"record {rid or n}", outcome)
                continue
            if RECORD_ID not in outcome and rid:
                outcome[RECORD_ID] = rid
            last_id = rid or last_id
            yield outcome
    finally:
        if stream is not None:
            stream.close()
    if truncated is not None:
        yield Reject(name, f"end of file (after record {last_id})", truncated)


def _record(xml: str, opts: IngestOptions) -> Record | str:
    """One pyevtx-rs XML rendering as a record: fast path, else the safe parser."""
    raw = xml
    if xml.startswith("<?xml"):
        raw = xml[xml.find("?>") + 2 :].lstrip()
    fast = _fast_record(xml, raw, opts)
    if fast is not None:
        return fast
    root = parse_event_xml(raw)
    if isinstance(root, str):
        return root
    return event_from_element(root, raw, opts)
