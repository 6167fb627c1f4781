"""Streaming readers of Splunk search exports (JSON lines, JSON array, CSV).

A hunt starts from whatever a Splunk user could export, so the format is found by
looking at the content, not the file name. Every reader streams: memory is bounded
by the largest single record, never by the file.

Values are normalised to what Splunk itself would hold: every value is a string or
a list of strings (a multivalue field), except ``_time``, which becomes float epoch
seconds so the store can sort and bucket it. Empty values are absent fields, as in
Splunk. A record that cannot be read is not dropped: it comes out as a `Reject`
saying where and why, and reading continues where the format allows it.

Supported content:

* JSON lines: one object per line, flat (``{"host": "a", ...}``) or in Splunk's
  export wrapper (``{"preview": false, "offset": 0, "result": {...}}``). Wrapper
  lines that carry no ``result`` (``lastrow``/``messages`` only) are not records.
* A single JSON array of objects (parsed incrementally, chunk by chunk).
* CSV with a header row, as written by Splunk: a multivalue field ``f`` comes with
  an extra column ``__mv_f`` holding ``$v1$;$v2$`` (``$$`` is an escaped ``$``).
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import math
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Literal

from stagehunt.ingest.records import Record, Reject
from stagehunt.ingest.sources import Source

__all__ = [
    "CHUNK_SIZE",
    "Format",
    "Record",
    "Reject",
    "UnsupportedInput",
    "iter_records",
    "normalise_object",
    "parse_mv",
    "parse_time",
    "sniff_format",
]

#: Turns one parsed JSON value into a record, a reject reason, or None (not a record).
Converter = Callable[[object], "Record | str | None"]
#: The content kinds `sniff_format` recognises.
Format = Literal["jsonl", "json-array", "json-stream", "csv"]

#: Characters read at a time from a JSON array file.
CHUNK_SIZE = 1 << 20
#: Bytes looked at to recognise the format.
_SNIFF_BYTES = 64 * 1024
#: A single JSON array element larger than this is reported instead of buffered on.
_MAX_RECORD_CHARS = 256 * 1024 * 1024
#: A decode error this close to the end of the buffer may just be a record cut by
#: the chunk boundary (a truncated literal, number or escape), so read more first.
_END_MARGIN = 16

#: Keys of Splunk's JSON export wrapper around each result.
_WRAPPER_KEYS = frozenset({"preview", "offset", "init_offset", "lastrow", "messages", "result"})
#: Wrapper keys that mark a line as export metadata rather than an event.
_META_MARKERS = frozenset({"preview", "lastrow", "messages"})
_MV_PREFIX = "__mv_"
_TIME = "_time"
_NUMBER_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_FRACTION_RE = re.compile(r"(?<=\d)[.,](\d+)")
#: A zone written after whitespace, e.g. ``2024-03-01 10:00:00.000 UTC`` / `` +0100``.
_SPACED_ZONE_RE = re.compile(
    r"(?P<body>.*\d)\s+(?P<zone>Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)", re.IGNORECASE
)
_UTC_NAME_RE = re.compile(r"(?P<body>.*\d)(?:UTC|GMT)", re.IGNORECASE)
_FIELD_NAME_RE = re.compile(r"[A-Za-z_][\w.:@\-]*")
#: A \uD800-\uDFFF escape: JSON may encode a lone surrogate, which is not text.
_SURROGATE_ESCAPE_RE = re.compile(r"\\u[dD][89a-fA-F]")


class UnsupportedInput(ValueError):
    """The file's content is not a Splunk export this module can read."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --------------------------------------------------------------------------- sniffing


def sniff_format(path: Path | Source) -> Format:
    """Tell which export format ``path`` holds by looking at its first bytes.

    Empty (or whitespace-only) files are ``"jsonl"`` with no records: Splunk writes
    an empty file for a search without results. Raises `UnsupportedInput` for
    anything else that is not JSON lines, a JSON array or a CSV with a header, and
    `OSError` if the file cannot be read.
    """
    return sniff_head(_source(path).head(_SNIFF_BYTES))


def sniff_head(head: bytes) -> Format:
    """`sniff_format` on the first bytes of a file."""
    if head.startswith(b"\x1f\x8b"):
        raise UnsupportedInput("gzip-compressed; decompress it first")
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise UnsupportedInput("UTF-16 text; convert it to UTF-8 first")
    # Only the first line must be text here: in JSON lines, a bad byte or a run of NULs
    # further on (a shipper's file cut by a crash) is one line's problem, a `Reject`.
    first, newline, rest = head.partition(b"\n")
    if b"\x00" in first:
        raise UnsupportedInput("binary content (NUL bytes), not a text export")
    found = _text_format(first, newline, rest)
    if found != "jsonl" and b"\x00" in head:
        raise UnsupportedInput("binary content (NUL bytes), not a text export")
    return found


def _text_format(first: bytes, newline: bytes, rest: bytes) -> Format:
    """The export format the first line (and blank lines after it) tells."""
    try:
        text = codecs.getincrementaldecoder("utf-8-sig")().decode(first, final=False)
    except UnicodeDecodeError as exc:
        raise UnsupportedInput(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    if not text.strip():  # leading blank lines: look further
        text += (newline + rest).decode("utf-8", errors="replace")
    stripped = text.lstrip()
    if not stripped:
        return "jsonl"
    if stripped[0] == "[":
        return "json-array"
    first_line = stripped.split("\n", 1)[0].strip()
    if stripped[0] == "{":
        if first_line == "{":
            return "json-stream"  # pretty-printed object(s), e.g. pyevtx-rs JSON output
        return "jsonl"
    try:
        header = next(csv.reader([first_line]))
    except (csv.Error, StopIteration):
        header = []
    if _looks_like_csv_header(header):
        return "csv"
    raise UnsupportedInput("not JSON lines, a JSON array, or CSV with a header row")


def _looks_like_csv_header(header: list[str]) -> bool:
    """A header names at least one field; a lone column must look like a field name.

    The single-column check keeps plain text (a raw log file, a TSV) from being read
    as a one-column CSV where each line is a value.
    """
    if not header or any(not name or len(name) > 200 for name in header):
        return False
    if header[0].lstrip().startswith(("#", "<", "{", "[")):
        return False  # a Markdown title, markup or JSON is not a CSV header
    if len(header) == 1:
        return _FIELD_NAME_RE.fullmatch(header[0]) is not None
    return True


# --------------------------------------------------------------------------- entry point


def _source(path: Path | Source) -> Source:
    return path if isinstance(path, Source) else Source.from_path(Path(path))


def iter_records(
    path: Path | Source,
    *,
    chunk_size: int = CHUNK_SIZE,
    convert: Converter | None = None,
) -> Iterator[Record | Reject]:
    """Yield the records of one export file, in file order, with rejects in place.

    The format is sniffed first (`UnsupportedInput` if unknown, `OSError` if the
    file cannot be opened). ``chunk_size`` is the number of characters read at a
    time from a JSON array; other formats are read line by line.
    """
    source = _source(path)
    fmt = sniff_format(source)
    to_record = convert or record_from_json
    if fmt == "jsonl":
        return _iter_jsonl(source, to_record)
    if fmt == "json-array":
        return _iter_json_array(source, chunk_size, to_record)
    if fmt == "json-stream":
        return _iter_json_array(source, chunk_size, to_record, stream=True)
    return _iter_csv(source)


# --------------------------------------------------------------------------- JSON


class _Num(str):
    """A JSON number kept as its source text, so ``1.50`` stays ``1.50``.

    A str subclass so nested structures can be re-encoded with the number unquoted.
    """

    __slots__ = ()


_DECODER = json.JSONDecoder(parse_float=_Num, parse_int=_Num, parse_constant=_Num)


def _loads(text: str) -> object:
    """Parse JSON keeping numbers (and NaN/Infinity) as their source text."""
    return _DECODER.decode(text)


def _iter_jsonl(source: Source, convert: Converter) -> Iterator[Record | Reject]:
    """Read JSON lines; a bad line is a `Reject` and reading goes on with the next."""
    name = source.name
    with source.open() as f:
        for lineno, raw in enumerate(f, start=1):
            if lineno == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8) :]
            try:
                line = raw.decode("utf-8").strip()
            except UnicodeDecodeError as exc:
                yield Reject(name, f"line {lineno}", f"invalid UTF-8 at byte {exc.start}")
                continue
            if not line:
                continue
            try:
                value = _loads(line)
            except json.JSONDecodeError as exc:
                yield Reject(name, f"line {lineno}", f"malformed JSON: {exc}")
                continue
            outcome = _with_raw(convert(value), convert, line)
            if outcome is None:
                continue
            if not isinstance(outcome, str) and _SURROGATE_ESCAPE_RE.search(line):
                outcome = _check_text(outcome)
            if isinstance(outcome, str):
                yield Reject(name, f"line {lineno}", outcome)
            else:
                yield outcome


def _with_raw(outcome: Record | str | None, convert: Converter, text: str) -> Record | str | None:
    """Give a shipper's JSON event its own text as ``_raw`` when the shape set none."""
    if (
        isinstance(outcome, dict)
        and "_raw" not in outcome
        and getattr(convert, "raw_is_source_text", False)
    ):
        outcome["_raw"] = text.strip()
    return outcome


def unwrap(value: object) -> dict[str, object] | str | None:
    """The event object of one JSON value: Splunk's export wrapper removed; a reason
    string for a non-object; None for export metadata lines (not records)."""
    if not isinstance(value, dict):
        return f"not a JSON object but {_json_kind(value)}"
    result = value.get("result")
    if isinstance(result, dict) and value.keys() <= _WRAPPER_KEYS:
        return result
    if "result" not in value and value.keys() <= _WRAPPER_KEYS and value.keys() & _META_MARKERS:
        return None
    return value


def record_from_json(value: object) -> Record | str | None:
    """A record, a reject reason, or None for Splunk export metadata (not a record)."""
    obj = unwrap(value)
    if obj is None or isinstance(obj, str):
        return obj
    return normalise_object(obj)


def _check_text(record: Record) -> Record | str:
    """The record, or a reject reason if a name or value holds a lone surrogate.

    Such strings cannot be stored (they are not valid Unicode text); only records
    whose source has a surrogate escape are checked, so the cost is rarely paid.
    """
    for key, value in record.items():
        texts = value if isinstance(value, list) else [value]
        for text in [key, *texts]:
            if isinstance(text, str):
                try:
                    text.encode("utf-8")
                except UnicodeEncodeError:
                    return f"invalid Unicode in field {key!r}: lone surrogate escape"
    return record


def _json_kind(value: object) -> str:
    """Name a parsed JSON value's type for messages."""
    if isinstance(value, list):
        return "an array"
    if isinstance(value, _Num):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    return "null"


class _ArrayReader:
    """Incremental reader of one top-level JSON array, chunk by chunk.

    ``json.JSONDecoder.raw_decode`` parses one element from a text buffer; when an
    element is cut by the end of the buffer, more text is read and the element is
    parsed again. Reads grow with the pending element, so the re-parsing costs
    stay linear in the file size.
    """

    def __init__(self, stream: IO[str], chunk_size: int) -> None:
        self._stream = stream
        self._chunk_size = max(1, chunk_size)
        self.buf = ""
        self.pos = 0
        self.eof = False

    def fill(self) -> bool:
        """Read more text (at least as much as is pending); False at end of file."""
        if self.eof:
            return False
        if self.pos:
            self.buf = self.buf[self.pos :]
            self.pos = 0
        chunk = self._stream.read(max(self._chunk_size, len(self.buf)))
        if not chunk:
            self.eof = True
            return False
        self.buf += chunk
        return True

    def peek(self) -> str:
        """The next non-whitespace character (consumed whitespace), or "" at end."""
        while True:
            while self.pos < len(self.buf) and self.buf[self.pos] in " \t\r\n":
                self.pos += 1
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self.fill():
                return ""

    def decode(self) -> tuple[object, int]:
        """Parse the next JSON value and return it with its start offset in ``buf``.

        Raises `json.JSONDecodeError` if the value is malformed.
        """
        while True:
            try:
                value, end = _DECODER.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                if self.eof or not self._maybe_incomplete(exc):
                    raise
                self._grow(exc)
                continue
            # A number or literal at the very end may continue in the next chunk.
            if end >= len(self.buf) and not self.eof and self.fill():
                continue
            start, self.pos = self.pos, end
            return value, start

    def _maybe_incomplete(self, exc: json.JSONDecodeError) -> bool:
        """True when the error may only mean the buffer ends inside the element."""
        return exc.msg.startswith("Unterminated string") or exc.pos >= len(self.buf) - _END_MARGIN

    def _grow(self, exc: json.JSONDecodeError) -> None:
        """Read more of a pending element, refusing elements too large to hold."""
        if len(self.buf) - self.pos > _MAX_RECORD_CHARS:
            raise json.JSONDecodeError(
                f"record larger than {_MAX_RECORD_CHARS} characters", exc.doc, exc.pos
            )
        self.fill()


def _iter_json_array(
    source: Source, chunk_size: int, convert: Converter, stream: bool = False
) -> Iterator[Record | Reject]:
    """Read a JSON array element by element without loading the whole file.

    A malformed element ends the reading (there is no safe place to resume inside
    a JSON document); it comes out as a `Reject` that says the rest was not read.
    Text that is not UTF-8 ends the reading the same way.
    """
    name = source.name
    done = [0]  # elements fully read, for the position of a decoding failure
    with source.open() as raw, io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as f:
        try:
            reader = _ArrayReader(f, chunk_size)
            elements = _stream_elements if stream else _array_elements
            yield from elements(reader, name, done, convert)
        except UnicodeDecodeError as exc:
            yield Reject(
                name,
                f"after record {done[0]}",
                f"invalid UTF-8 ({exc.reason}); rest of file not read",
            )


class _StopReading(Exception):
    """A malformed element: no safe place to resume inside a JSON document."""


def _next_element(
    reader: _ArrayReader, name: str, done: list[int], convert: Converter
) -> Record | Reject | None:
    """Decode and convert the element ``reader`` is at (None: not a record).

    Raises `_StopReading` (after which the caller yields the reject it carries) when
    the element is malformed.
    """
    count = done[0] + 1
    reader.peek()  # raw_decode does not skip leading whitespace
    try:
        value, start = reader.decode()
    except json.JSONDecodeError as exc:
        raise _StopReading(
            Reject(name, f"record {count}", f"malformed JSON: {exc.msg}; rest of file not read")
        ) from None
    done[0] = count
    outcome = _with_raw(convert(value), convert, reader.buf[start : reader.pos])
    if (
        isinstance(outcome, dict)
        and _SURROGATE_ESCAPE_RE.search(reader.buf, start, reader.pos) is not None
    ):
        outcome = _check_text(outcome)
    if isinstance(outcome, str):
        return Reject(name, f"record {count}", outcome)
    return outcome


def _stream_elements(
    reader: _ArrayReader, name: str, done: list[int], convert: Converter
) -> Iterator[Record | Reject]:
    """JSON values one after another (pretty-printed documents, concatenated)."""
    while reader.peek():
        try:
            item = _next_element(reader, name, done, convert)
        except _StopReading as stop:
            yield stop.args[0]
            return
        if item is not None:
            yield item


def _array_elements(
    reader: _ArrayReader, name: str, done: list[int], convert: Converter
) -> Iterator[Record | Reject]:
    """The records of the array ``reader`` is at; ``done[0]`` counts elements read."""
    if reader.peek() != "[":
        yield Reject(name, "record 1", "malformed JSON: expected '[' at start of file")
        return
    reader.pos += 1
    if reader.peek() == "]":
        reader.pos += 1
    else:
        while True:
            try:
                item = _next_element(reader, name, done, convert)
            except _StopReading as stop:
                yield stop.args[0]
                return
            if item is not None:
                yield item
            count = done[0]
            sep = reader.peek()
            if sep == ",":
                reader.pos += 1
                continue
            if sep == "]":
                reader.pos += 1
                break
            found = repr(sep) if sep else "end of file"
            yield Reject(
                name,
                f"after record {count}",
                f"malformed JSON: expected ',' or ']' but found {found}; rest of file not read",
            )
            return
    if reader.peek():
        yield Reject(name, f"after record {done[0]}", "unexpected data after the JSON array")


# --------------------------------------------------------------------------- CSV


def _iter_csv(source: Source) -> Iterator[Record | Reject]:
    """Read a Splunk CSV export, joining ``__mv_<field>`` columns into multivalues.

    Positions are the line on which a record starts (a quoted value may span lines).
    """
    name = source.name
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # _raw can be long; the default is 128 KiB
    bad_lines: set[int] = set()
    with source.open() as f:
        reader = csv.reader(_decoded_lines(f, bad_lines))
        plan: _CsvPlan | None = None
        while True:
            start = reader.line_num + 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                if plan is None:
                    raise UnsupportedInput(f"malformed CSV header: {exc}") from None
                yield Reject(name, f"line {start}", f"malformed CSV: {exc}")
                continue
            if not row:
                continue
            bad = [n for n in range(start, reader.line_num + 1) if n in bad_lines]
            if plan is None:
                if bad:
                    raise UnsupportedInput(f"header line {start} is not UTF-8")
                header = _csv_plan(row)
                if isinstance(header, str):
                    raise UnsupportedInput(header)
                plan = header
                continue
            if bad:
                bad_lines.difference_update(bad)
                yield Reject(name, f"line {start}", "invalid UTF-8")
                continue
            if len(row) != plan.width:
                yield Reject(
                    name, f"line {start}", f"{len(row)} values but the header has {plan.width}"
                )
                continue
            outcome = _csv_record(row, plan)
            if isinstance(outcome, str):
                yield Reject(name, f"line {start}", outcome)
            else:
                yield outcome


def _decoded_lines(f: IO[bytes], bad_lines: set[int]) -> Iterator[str]:
    """Decode lines one by one, noting (not raising on) lines that are not UTF-8.

    Lines are kept with their ending so the csv module sees quoted newlines intact.
    """
    for lineno, raw in enumerate(f, start=1):
        if lineno == 1 and raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8) :]
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError:
            bad_lines.add(lineno)
            yield raw.decode("utf-8", errors="replace")


@dataclass(frozen=True)
class _CsvPlan:
    """Which header columns are plain fields and which carry a field's multivalues."""

    width: int
    fields: tuple[tuple[int, str], ...]
    multivalues: tuple[tuple[int, str], ...]


def _csv_plan(header: list[str]) -> _CsvPlan | str:
    """Split a header into field columns and ``__mv_`` columns, or say why it is unusable."""
    seen: set[str] = set()
    fields: list[tuple[int, str]] = []
    multivalues: list[tuple[int, str]] = []
    for index, column in enumerate(header):
        if not column:
            return f"empty column name in header (column {index + 1})"
        if column in seen:
            return f"duplicate column {column!r} in header"
        seen.add(column)
        if column.startswith(_MV_PREFIX) and len(column) > len(_MV_PREFIX):
            multivalues.append((index, column[len(_MV_PREFIX) :]))
        else:
            fields.append((index, column))
    return _CsvPlan(len(header), tuple(fields), tuple(multivalues))


def _csv_record(row: list[str], plan: _CsvPlan) -> Record | str:
    """Build a record from a CSV row; a non-empty ``__mv_`` cell overrides its field."""
    record: Record = {}
    for index, field in plan.fields:
        cell = row[index]
        if cell != "":
            record[field] = cell
    for index, field in plan.multivalues:
        cell = row[index]
        if cell == "":
            continue
        values = parse_mv(cell)
        if values is None:
            return f"malformed {_MV_PREFIX}{field} value {cell!r}"
        record[field] = values
    return _finish(record)


def parse_mv(cell: str) -> list[str] | None:
    """Decode Splunk's CSV multivalue encoding ``$v1$;$v2$`` (``$$`` = ``$``); None if malformed."""
    values: list[str] = []
    i, n = 0, len(cell)
    while True:
        if i >= n or cell[i] != "$":
            return None
        i += 1
        parts: list[str] = []
        while True:
            j = cell.find("$", i)
            if j < 0:
                return None
            parts.append(cell[i:j])
            if j + 1 < n and cell[j + 1] == "$":
                parts.append("$")
                i = j + 2
                continue
            i = j + 1
            break
        values.append("".join(parts))
        if i == n:
            return values
        if cell[i] != ";":
            return None
        i += 1


# --------------------------------------------------------------------------- normalising


def normalise_object(obj: dict[str, object]) -> Record | str:
    """Turn one parsed JSON object into a record, or return a reject reason.

    Nested objects flatten into dotted names like Splunk's ``spath`` (``a.b``); two
    sources for one name (``"a.b"`` and ``{"a": {"b": ..}}``) merge into a multivalue.
    """
    record: Record = {}
    _flatten(obj, "", record)
    return _finish(record)


def _flatten(obj: dict[str, object], prefix: str, record: Record) -> None:
    """Add the fields of ``obj`` (names prefixed by ``prefix``) to ``record``."""
    for key, raw in obj.items():
        name = prefix + key if prefix else key
        value: str | list[str]
        if isinstance(raw, str):  # the common case first: this runs for every value
            if not raw:
                continue
            value = str(raw)  # a plain str, also for a number's text
        elif isinstance(raw, dict):
            _flatten(raw, name + ".", record)
            continue
        else:
            other = _scalar_or_list(raw)
            if other is None:
                continue
            value = other
        old = record.get(name)
        if old is None:
            record[name] = value
        else:
            merged = old if isinstance(old, list) else [str(old)]
            record[name] = merged + (value if isinstance(value, list) else [value])


def _scalar_or_list(raw: object) -> str | list[str] | None:
    """Normalise a non-object JSON value; None means the field is absent."""
    if isinstance(raw, list):
        items = [_element(item) for item in raw if item is not None]
        return items or None
    if raw is None:
        return None
    text = _text(raw)
    return text if text != "" else None


def _element(item: object) -> str:
    """One multivalue element: scalars as text, nested structures as compact JSON."""
    if isinstance(item, dict | list):
        return _compact_json(item)
    return _text(item)


def _text(raw: object) -> str:
    """A JSON scalar as Splunk holds it: numbers as written, booleans lower-case."""
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, str):
        return str(raw)  # plain str, also for _Num
    raise TypeError(f"unexpected JSON value {raw!r}")


def _compact_json(value: object) -> str:
    """Encode a parsed JSON value compactly, numbers kept exactly as in the source."""
    if isinstance(value, dict):
        items = ",".join(
            f"{json.dumps(k, ensure_ascii=False)}:{_compact_json(v)}" for k, v in value.items()
        )
        return "{" + items + "}"
    if isinstance(value, list):
        return "[" + ",".join(_compact_json(v) for v in value) + "]"
    if isinstance(value, _Num):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return json.dumps(value, ensure_ascii=False)


def _finish(record: Record) -> Record | str:
    """Convert ``_time`` to float epoch seconds; a reason string if it cannot be."""
    if _TIME not in record:
        return record
    value = record[_TIME]
    epoch = parse_time(value) if isinstance(value, str) else None
    if epoch is None:
        return f"unparsable _time {value!r}"
    record[_TIME] = epoch
    return record


def parse_time(text: str) -> float | None:
    """Epoch seconds from a ``_time`` value, or None if it is not a time.

    Accepts epoch seconds (``1709287200`` or ``1709287200.5``) and ISO-8601 with or
    without offset (``2024-03-01T10:00:00.000+00:00``, ``...Z``, Splunk's
    ``2024-03-01 10:00:00.000 UTC``). Without an offset the time is UTC. The
    fraction is added separately so digits beyond microseconds are not lost.
    """
    s = text.strip()
    if _NUMBER_RE.fullmatch(s):
        epoch = float(s)
        return epoch if math.isfinite(epoch) else None
    m = _SPACED_ZONE_RE.fullmatch(s) or _UTC_NAME_RE.fullmatch(s)
    if m is not None:
        zone = m.groupdict().get("zone") or "Z"
        s = m.group("body") + ("+00:00" if zone.upper() in ("Z", "UTC", "GMT") else zone)
    fraction = 0.0
    fm = _FRACTION_RE.search(s)
    if fm is not None and ":" in s[: fm.start()]:
        fraction = float("0." + fm.group(1))
        s = s[: fm.start()] + s[fm.end() :]
    try:
        moment = datetime.fromisoformat(s)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return math.floor(moment.timestamp()) + fraction
