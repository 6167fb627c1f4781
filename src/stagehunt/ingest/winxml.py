"""Windows event XML: ``wevtutil qe /f:xml`` output, ``<Events>`` documents, Splunk's
XmlWinEventLog ``_raw`` one event per line, and single events embedded elsewhere.

Such a file is rarely one well-formed document (wevtutil concatenates events with no
root), and one broken event must not cost the rest, so the stream is cut into
``<Event>…</Event>`` pieces by a scanner and each piece is parsed on its own. Memory is
bounded by the largest event (capped), never by the file. Parsing goes through
defusedxml with DTDs refused: entities are never expanded, so an entity bomb is a
reject with a reason, never a hang or an out-of-memory.
"""

from __future__ import annotations

import codecs
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from typing import IO

import defusedxml.ElementTree as SafeET  # type: ignore[import-untyped]
from defusedxml.common import DefusedXmlException  # type: ignore[import-untyped]

from stagehunt.ingest.normalise.windows import windows_record
from stagehunt.ingest.options import IngestOptions
from stagehunt.ingest.records import Record, Reject
from stagehunt.ingest.sources import Source

__all__ = ["event_from_element", "event_from_xml", "parse_event_xml", "read", "sniff"]

#: Characters decoded per read.
_CHUNK = 1 << 20
#: One event larger than this is rejected instead of buffered (real events are < 1 MB).
MAX_EVENT_CHARS = 64 * 1024 * 1024

_EVENT_START = re.compile(r"<(?:[A-Za-z_][\w.-]*:)?Event[\s>]")
_EVENT_END = re.compile(r"</(?:[A-Za-z_][\w.-]*:)?Event\s*>")
#: Markup allowed between events: declarations, the <Events> wrapper, comments.
_GAP_MARKUP = re.compile(
    r"<\?xml[^>]*\?>|</?(?:[A-Za-z_][\w.-]*:)?Events(?:\s[^>]*)?>|<!--.*?-->", re.DOTALL
)
_DOCTYPE = re.compile(r"<!DOCTYPE", re.IGNORECASE)
_SNIFF_START = re.compile(
    rb"^\s*(?:<\?xml[^>]*\?>\s*)?(?:<!--.*?-->\s*)*<(?:\w+:)?Events?[\s>]", re.S
)


def sniff(head: bytes) -> bool:
    """True when the bytes start like Windows event XML (UTF-8 or UTF-16)."""
    text = _decode_head(head)
    if text is None:
        return False
    data = text.lstrip("\ufeff").encode("utf-8", errors="replace")
    if _SNIFF_START.match(data):
        return True
    # A declaration or DTD first (e.g. an entity bomb): XML naming <Event> early on.
    stripped = data.lstrip()
    return stripped.startswith((b"<?xml", b"<!DOCTYPE")) and b"<Event" in data[:_SNIFF_LIMIT]


_SNIFF_LIMIT = 16 * 1024


def _decode_head(head: bytes) -> str | None:
    """The head as text, honouring a UTF-16 BOM; None when it is not text."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return head.decode("utf-16", errors="ignore")
    return head.decode("utf-8", errors="ignore")


def _local(tag: str) -> str:
    """An element name without its ``{namespace}``."""
    return tag.rsplit("}", 1)[-1]


def _add(target: dict[str, object], name: str, value: str) -> None:
    """Set a field, turning a repeated name into a multivalue list (nothing lost)."""
    if name not in target:
        target[name] = value
        return
    old = target[name]
    if isinstance(old, list):
        old.append(value)
    else:
        target[name] = [old, value]


def _flatten(elem: ET.Element, out: dict[str, object]) -> None:
    """UserData and friends: every leaf element under its local name."""
    children = list(elem)
    if not children:
        _add(out, _local(elem.tag), elem.text or "")
        return
    for child in children:
        _flatten(child, out)


def event_from_element(event: ET.Element, raw: str | None, opts: IngestOptions) -> Record | str:
    """A parsed ``<Event>`` element as a normalised record (or a reason)."""
    system: dict[str, object] = {}
    event_data: dict[str, object] = {}
    for part in event:
        section = _local(part.tag)
        if section == "System":
            for child in part:
                name = _local(child.tag)
                text = (child.text or "").strip()
                if text:
                    system[name] = text
                for attr, value in child.attrib.items():
                    system[f"{name}.{_local(attr)}"] = value
        elif section == "EventData":
            for child in part:
                name = _local(child.tag)
                if name == "Data":
                    key = child.get("Name")
                    _add(event_data, key if key else "Data", child.text or "")
                else:
                    _flatten(child, event_data)
        elif section == "UserData":
            for child in part:
                _flatten(child, event_data)
        elif section == "RenderingInfo":
            message = part.find("{*}Message")
            if message is not None and message.text:
                event_data.setdefault("Message", message.text)
    return _to_record(system, event_data, raw, opts)


def _to_record(
    system: Mapping[str, object],
    event_data: Mapping[str, object],
    raw: str | None,
    opts: IngestOptions,
) -> Record | str:
    """Hand the parts of one event to the normaliser."""
    event_id = system.get("EventID")
    if not isinstance(event_id, str):
        return "no <System><EventID>"
    channel = system.get("Channel")
    computer = system.get("Computer")
    system_time = system.get("TimeCreated.SystemTime")
    record_id = system.get("EventRecordID")
    return windows_record(
        channel=channel if isinstance(channel, str) else "",
        event_id=event_id,
        computer=computer if isinstance(computer, str) else None,
        system_time=system_time if isinstance(system_time, str) else None,
        event_data=event_data,
        system=system,
        raw=raw,
        record_id=record_id if isinstance(record_id, str) else None,
        opts=opts,
    )


def parse_event_xml(xml: str) -> ET.Element | str:
    """Parse one event safely: the root element, or a reason it cannot be read.

    Real producers emit slightly broken XML that Splunk's regex extraction reads anyway:
    Sysmon for Linux writes ``&lt unknown process&gt`` (no ``;``), and syslog cuts long
    messages mid-element. Such an event is parsed again after `_repair`, so it is not
    lost; a DTD is never repaired, only refused.
    """
    if _DOCTYPE.search(xml):
        return "DTD refused: entity declarations are never expanded (possible XML entity bomb)"
    outcome = _parse_strict(xml)
    if isinstance(outcome, str) and outcome.startswith("malformed"):
        repaired = _repair(xml)
        if repaired != xml:
            second = _parse_strict(repaired)
            if not isinstance(second, str):
                return second
    return outcome


def _parse_strict(xml: str) -> ET.Element | str:
    """defusedxml parse of one ``<Event>`` (DTDs and entities forbidden)."""
    try:
        root: ET.Element = SafeET.fromstring(xml, forbid_dtd=True)
    except DefusedXmlException as exc:
        return f"refused unsafe XML: {type(exc).__name__}"
    except ET.ParseError as exc:
        return f"malformed XML: {exc}"
    if _local(root.tag) != "Event":
        return f"not an <Event> element but <{_local(root.tag)}>"
    return root


_BARE_ENTITY = re.compile(r"&(lt|gt|amp|quot|apos)(?![;\w])")
_TAG = re.compile(r"<(/?)([\w:.-]+)[^<>]*?(/?)>")


def _repair(xml: str) -> str:
    """Fix the two known producer bugs: entities without ``;``, and a cut-off end
    (the partial tag is dropped and open elements are closed, keeping the text)."""
    fixed = _BARE_ENTITY.sub(r"&\1;", xml.rstrip())
    if fixed.rfind("<") > fixed.rfind(">"):
        fixed = fixed[: fixed.rfind("<")]
    amp = fixed.rfind("&")
    if amp > fixed.rfind(";") and amp > fixed.rfind(">"):
        fixed = fixed[:amp]  # a cut entity reference
    stack: list[str] = []
    for m in _TAG.finditer(fixed):
        closing, name, empty = m.groups()
        if empty or name.startswith(("?", "!")):
            continue
        if closing:
            if stack and stack[-1] == name:
                stack.pop()
        else:
            stack.append(name)
    return fixed + "".join(f"</{name}>" for name in reversed(stack))


def event_from_xml(xml: str, opts: IngestOptions) -> Record | str:
    """One ``<Event>`` XML text as a normalised record, or a one-line reason.

    Used for XML embedded in other formats (Sysmon for Linux in Sentinel's
    ``SyslogMessage``); ``_raw`` is the XML text.
    """
    root = parse_event_xml(xml.strip())
    if isinstance(root, str):
        return root
    return event_from_element(root, xml, opts)


def _text_stream(fh: IO[bytes]) -> Iterator[str]:
    """Decoded text chunks: UTF-16 when the file has its BOM, else UTF-8."""
    first = fh.read(_CHUNK)
    if first.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        decoder = codecs.getincrementaldecoder("utf-16")(errors="replace")
    else:
        decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="replace")
    chunk = first
    while chunk:
        text = decoder.decode(chunk)
        if text:
            yield text
        chunk = fh.read(_CHUNK)
    tail = decoder.decode(b"", final=True)
    if tail:
        yield tail


def _gap_rejects(gap: str, name: str, position: str) -> Iterator[Reject]:
    """Report anything between events that is not harmless markup."""
    if _DOCTYPE.search(gap):
        yield Reject(
            name,
            position,
            "DTD refused: entity declarations are never expanded (possible XML entity bomb)",
        )
        return
    rest = _GAP_MARKUP.sub("", gap).strip()
    if rest:
        snippet = rest[:60].replace("\n", " ")
        yield Reject(name, position, f"text outside <Event> elements: {snippet!r}")


def read(source: Source, opts: IngestOptions) -> Iterator[Record | Reject]:
    """Every ``<Event>`` in the source, in order; bad ones as rejects with their line."""
    with source.open() as fh:
        yield from _read_text(_text_stream(fh), source.name, opts)


def _read_text(chunks: Iterator[str], name: str, opts: IngestOptions) -> Iterator[Record | Reject]:
    """The scanner: cut the text into events and parse each one."""
    buf = ""
    line = 1  # line number of buf[0]
    n = 0
    skipping = False  # inside an oversized event, looking for its end
    exhausted = False
    while True:
        if not exhausted:
            chunk = next(chunks, None)
            if chunk is None:
                exhausted = True
            else:
                buf += chunk
        pos = 0
        while True:
            if skipping:
                end = _EVENT_END.search(buf, pos)
                if end is None:
                    break
                line += buf.count("\n", pos, end.end())
                pos = end.end()
                skipping = False
                continue
            start = _EVENT_START.search(buf, pos)
            if start is None:
                break
            gap_line = line
            line += buf.count("\n", pos, start.start())
            yield from _gap_rejects(buf[pos : start.start()], name, f"line {gap_line}")
            pos = start.start()
            end = _EVENT_END.search(buf, pos)
            if end is None:
                if len(buf) - pos > MAX_EVENT_CHARS:
                    n += 1
                    yield Reject(
                        name,
                        f"event {n} (line {line})",
                        f"event larger than {MAX_EVENT_CHARS} characters; skipped",
                    )
                    skipping = True
                    pos = len(buf)
                break
            n += 1
            xml = buf[pos : end.end()]
            position = f"event {n} (line {line})"
            line += xml.count("\n")
            pos = end.end()
            root = parse_event_xml(xml)
            outcome = root if isinstance(root, str) else event_from_element(root, xml, opts)
            yield Reject(name, position, outcome) if isinstance(outcome, str) else outcome
        if exhausted:
            rest = buf[pos:]
            if skipping:
                pass
            elif _EVENT_START.search(rest):
                start = _EVENT_START.search(rest)
                assert start is not None
                yield from _gap_rejects(rest[: start.start()], name, f"line {line}")
                n += 1
                at = line + rest.count("\n", 0, start.start())
                yield Reject(
                    name, f"event {n} (line {at})", "unterminated <Event> (truncated file?)"
                )
            else:
                yield from _gap_rejects(rest, name, f"line {line}")
            return
        # keep the unfinished tail; drop what was consumed
        if pos:
            buf = buf[pos:]
        elif skipping:
            line += buf.count("\n")
            buf = buf[-64:]
