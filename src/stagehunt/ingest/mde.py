"""Microsoft Defender for Endpoint advanced-hunting exports (DeviceProcessEvents,
DeviceFileEvents) as CSV; the JSON form goes through ``shapes/mde.py``.

Both use :func:`mde_record`, which applies ``mappings/mde.json``: every column is kept
under Microsoft's own name (a KQL hunt and an SPL hunt then see the same fields), the
table decides the sourcetype (``mde:DeviceProcessEvents`` / ``mde:DeviceFileEvents``),
and CIM names are added so Endpoint-style SPL (``process``, ``file_path``, ``user``)
works on Defender data too.
"""

from __future__ import annotations

import codecs
import csv
import json
import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import IO

from stagehunt.ingest.options import IngestOptions
from stagehunt.ingest.records import RECORD_ID, Record, Reject
from stagehunt.ingest.sources import Source
from stagehunt.ingest.splunk_export import parse_time

__all__ = ["mde_record", "read_csv", "sniff_csv_header", "sniff_object"]

#: Azure Log Analytics exports name datetime columns ``Timestamp [UTC]``.
_UTC_SUFFIX_RE = re.compile(r"\s*\[UTC\]$", re.IGNORECASE)
#: Log Analytics' CSV time format, e.g. ``5/10/2021, 1:22:33.123 PM``.
_US_TIME_FORMATS = ("%m/%d/%Y, %I:%M:%S.%f %p", "%m/%d/%Y, %I:%M:%S %p", "%m/%d/%Y %I:%M:%S %p")


@dataclass(frozen=True)
class _Table:
    """One advanced-hunting table's labels and CIM aliases."""

    name: str
    sourcetype: str
    action_prefixes: tuple[str, ...]
    only_columns: frozenset[str]
    aliases: tuple[tuple[str, tuple[str, ...]], ...]
    joined: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]


@dataclass(frozen=True)
class _Mapping:
    """The data in ``mappings/mde.json``."""

    index: str
    time_column: str
    host_column: str
    id_columns: tuple[str, ...]
    required: frozenset[str]
    tables: tuple[_Table, ...]


@cache
def _mapping() -> _Mapping:
    """Load the mapping once (package data)."""
    text = resources.files("stagehunt.ingest").joinpath("mappings/mde.json").read_text("utf-8")
    data = json.loads(text)
    tables = tuple(
        _Table(
            name=name,
            sourcetype=str(t["sourcetype"]),
            action_prefixes=tuple(t["action_prefixes"]),
            only_columns=frozenset(t["only_columns"]),
            aliases=tuple((k, tuple(v)) for k, v in t["aliases"].items()),
            joined=tuple((k, tuple((p[0], p[1]) for p in v)) for k, v in t["joined"].items()),
        )
        for name, t in data["tables"].items()
    )
    return _Mapping(
        index=str(data["index"]),
        time_column=str(data["time_column"]),
        host_column=str(data["host_column"]),
        id_columns=tuple(data["id_columns"]),
        required=frozenset(data["required_columns"]),
        tables=tables,
    )


def _column_name(header: str) -> str:
    """A header cell as the field name: ``Timestamp [UTC]`` → ``Timestamp``."""
    return _UTC_SUFFIX_RE.sub("", header.strip())


def sniff_csv_header(columns: list[str]) -> bool:
    """True when a CSV header is an MDE DeviceProcessEvents/DeviceFileEvents export."""
    m = _mapping()
    names = {_column_name(c) for c in columns}
    if not m.required <= names:
        return False
    return any(names & t.only_columns for t in m.tables) or "FolderPath" in names


def sniff_object(obj: Mapping[str, object]) -> bool:
    """True when a parsed JSON object is one MDE advanced-hunting row."""
    m = _mapping()
    if not m.required <= obj.keys():
        return False
    return any(obj.keys() & t.only_columns for t in m.tables) or "FolderPath" in obj


def _table(row: Mapping[str, object]) -> _Table | None:
    """Which table a row comes from: Sentinel's ``Type`` column, ActionType, then columns."""
    tables = _mapping().tables
    kind = row.get("Type")
    for t in tables:
        if kind == t.name:
            return t
    action = row.get("ActionType")
    if isinstance(action, str):
        for t in tables:
            if action.startswith(t.action_prefixes):
                return t
    for t in tables:
        if any(row.get(c) not in (None, "") for c in t.only_columns):
            return t
    return None


def mde_record(
    row: Mapping[str, object], opts: IngestOptions, *, raw: str | None, fallback_id: str | None
) -> Record | str:
    """One MDE row as a record, or the reason it cannot be read.

    ``raw`` is the row's source text (``_raw``); ``fallback_id`` identifies the row when
    it has no ``ReportId`` (e.g. the line number), so re-ingesting adds nothing.
    """
    m = _mapping()
    table = _table(row)
    if table is None:
        return "not a DeviceProcessEvents or DeviceFileEvents row (no ActionType/columns match)"
    record: Record = {}
    for key, value in row.items():
        text = _value(value)
        if text is not None:
            record[_column_name(key)] = text
    stamp = record.get(m.time_column)
    if not isinstance(stamp, str):
        return f"no {m.time_column}"
    epoch = _parse_time(stamp)
    if epoch is None:
        return f"unparsable {m.time_column} {stamp!r}"
    _add_aliases(record, table)
    host = record.get(m.host_column)
    if isinstance(host, str):
        record["host"] = host
    record["index"] = opts.index or m.index
    record["sourcetype"] = table.sourcetype
    record["_time"] = epoch
    if raw is not None:
        record["_raw"] = raw
    ids = [record.get(c) for c in m.id_columns]
    if ids[-1] is not None:
        record[RECORD_ID] = ":".join(str(i) for i in ids if i is not None)
    elif fallback_id is not None:
        record[RECORD_ID] = fallback_id
    return record


def _add_aliases(record: Record, table: _Table) -> None:
    """Add the table's CIM names; ``user`` is ``Domain\\Name`` as Windows writes it."""
    for alias, columns in table.aliases:
        for column in columns:
            value = record.get(column)
            if isinstance(value, str):
                record.setdefault(alias, value)
                break
    for alias, pairs in table.joined:
        for domain_col, name_col in pairs:
            name = record.get(name_col)
            if not isinstance(name, str):
                continue
            domain = record.get(domain_col)
            record.setdefault(alias, f"{domain}\\{name}" if isinstance(domain, str) else name)
            break


def _value(value: object) -> str | None:
    """A cell or JSON value as Splunk holds it; None (absent) when empty."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _parse_time(text: str) -> float | None:
    """Epoch seconds from MDE's ISO time (7 fraction digits) or Log Analytics' US format.

    Both are UTC: the portal writes ``Z``; Log Analytics labels the column ``[UTC]``.
    """
    epoch = parse_time(text)
    if epoch is not None:
        return epoch
    for fmt in _US_TIME_FORMATS:
        try:
            moment = datetime.strptime(text.strip(), fmt)
        except ValueError:
            continue
        return moment.replace(tzinfo=UTC).timestamp()
    return None


# --------------------------------------------------------------------------- CSV


def read_csv(source: Source, opts: IngestOptions) -> Iterator[Record | Reject]:
    """Yield one record per CSV row; a row that cannot be read is a `Reject` in place.

    ``_raw`` is the row's text as written (a quoted cell may span lines); positions
    are the line on which the row starts.
    """
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # command lines can be long
    with source.open() as fh:
        lines = _LineTap(fh)
        reader = csv.reader(lines)
        header: list[str] | None = None
        while True:
            start = lines.lineno + 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield Reject(source.name, f"line {start}", f"malformed CSV: {exc}")
                lines.take()
                if header is None:
                    return
                continue
            raw = lines.take()
            if lines.bad:
                lines.bad = False
                yield Reject(source.name, f"line {start}", "invalid UTF-8")
                if header is None:
                    return
                continue
            if not row:
                continue
            if header is None:
                header = [_column_name(c) for c in row]
                if not sniff_csv_header(header):
                    yield Reject(source.name, f"line {start}", "not an MDE export header")
                    return
                continue
            if len(row) != len(header):
                yield Reject(
                    source.name,
                    f"line {start}",
                    f"{len(row)} values but the header has {len(header)}",
                )
                continue
            outcome = mde_record(
                dict(zip(header, row, strict=True)), opts, raw=raw, fallback_id=f"line {start}"
            )
            if isinstance(outcome, str):
                yield Reject(source.name, f"line {start}", outcome)
            else:
                yield outcome


class _LineTap:
    """Decoded lines for the csv module, remembering the text of the row being read."""

    def __init__(self, fh: IO[bytes]) -> None:
        self._fh = fh
        self._taken: list[str] = []
        self.lineno = 0
        self.bad = False

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        raw = self._fh.readline()
        if not raw:
            raise StopIteration
        self.lineno += 1
        if self.lineno == 1 and raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8) :]
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            self.bad = True
            line = raw.decode("utf-8", errors="replace")
        self._taken.append(line)
        return line

    def take(self) -> str:
        """The text consumed since the last call, without its final line break."""
        text = "".join(self._taken).rstrip("\r\n")
        self._taken.clear()
        return text
