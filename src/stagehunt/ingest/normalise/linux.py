"""Linux auditd events (raw ``audit.log``, Azure AUOMS) → Splunk ``linux:audit`` fields.

Readers parse their format into auditd key/value pairs; this module applies the mapping
(``mappings/linux.json``) the same way for every Linux source, so a query written for one
works on the other: auditd keys are kept under their own names, CIM Endpoint.Processes
aliases are added, and the labels (``index=linux``, ``sourcetype=linux:audit``) keep a
Windows query from matching Linux data by accident.
"""

from __future__ import annotations

import json
import os.path
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources

from stagehunt.ingest.options import IngestOptions
from stagehunt.ingest.records import RECORD_ID, Record

#: Field values: one string or a multivalue (PATH records repeat ``name``, ``inode``, ...).
Fields = dict[str, str | list[str]]

_HEX_RE = re.compile(r"(?:[0-9A-Fa-f]{2})+")


@dataclass(frozen=True)
class LinuxMapping:
    """The data in ``mappings/linux.json``."""

    index: str
    sourcetype: str
    aliases: tuple[tuple[str, tuple[str, ...]], ...]
    hex_fields: frozenset[str]
    execve_arg: re.Pattern[str]
    multi_record_types: frozenset[str]
    event_end_type: str
    flush_window: int


@cache
def linux_mapping() -> LinuxMapping:
    """Load the mapping once; it is package data, so a failure here is a packaging bug."""
    text = resources.files("stagehunt.ingest").joinpath("mappings/linux.json").read_text("utf-8")
    data = json.loads(text)
    return LinuxMapping(
        index=str(data["index"]),
        sourcetype=str(data["sourcetype"]),
        aliases=tuple((str(k), tuple(str(s) for s in v)) for k, v in data["aliases"].items()),
        hex_fields=frozenset(str(f) for f in data["hex_fields"]),
        execve_arg=re.compile(str(data["execve_arg_pattern"])),
        multi_record_types=frozenset(str(t) for t in data["multi_record_types"]),
        event_end_type=str(data["event_end_type"]),
        flush_window=int(data["flush_window"]),
    )


def is_hex_encoded(key: str, record_type: str) -> bool:
    """True when auditd may write ``key``'s value hex-encoded (an untrusted string).

    Only these keys are decoded: other unquoted hex values (``a0=558e251634a0`` in a
    SYSCALL record, ``arch=c000003e``) are numbers and must stay as written.
    """
    m = linux_mapping()
    if key in m.hex_fields:
        return True
    return record_type == "EXECVE" and m.execve_arg.match(key) is not None


def decode_hex(value: str, *, key: str) -> str | None:
    """The text of an unquoted hex value, or None when ``value`` is not hex.

    NUL separates arguments in ``proctitle`` (and is the terminator elsewhere): it
    becomes a space, as ``ausearch -i`` shows it; ``\\x01`` separates several rule keys
    in ``key`` and becomes a comma, as AUOMS writes it. Bytes that are not UTF-8 are
    replaced rather than dropped so the rest of the value survives.
    """
    if not _HEX_RE.fullmatch(value):
        return None
    data = bytes.fromhex(value)
    if key == "key":
        data = data.replace(b"\x01", b",")
    return data.rstrip(b"\x00").replace(b"\x00", b" ").decode("utf-8", errors="replace")


def add_value(fields: Fields, key: str, value: str) -> None:
    """Add ``key=value`` to an event, turning a repeated key into a multivalue."""
    old = fields.get(key)
    if old is None:
        fields[key] = value
    elif isinstance(old, list):
        old.append(value)
    else:
        fields[key] = [old, value]


def linux_record(
    fields: Fields,
    *,
    time: float | None,
    args: Sequence[str] = (),
    raw: str,
    source: str | None,
    host: str | None,
    record_id: str | None,
    opts: IngestOptions,
) -> Record:
    """One Linux event as stored: auditd keys + CIM aliases + Splunk's default fields.

    ``args`` are the EXECVE arguments in order (empty when the event has none);
    ``host`` is used when the event itself names no ``node``.
    """
    m = linux_mapping()
    record: Record = dict(fields)
    for alias, keys in m.aliases:
        if alias in record:
            continue
        for key in keys:
            value = fields.get(key)
            if value is not None:
                record[alias] = value if isinstance(value, str) else list(value)
                break
    if host:
        record.setdefault("host", host)
        record.setdefault("dest", host)
    command = command_line(fields, args)
    if command is not None:
        record.setdefault("cmdline", command)
        record.setdefault("process", command)
    name = process_name(fields)
    if name is not None:
        record.setdefault("process_name", name)
    user = _user(fields)
    if user is not None:
        record.setdefault("user", user)
    record["index"] = opts.index or m.index
    record["sourcetype"] = m.sourcetype
    if source is not None:
        record["source"] = source
    record["_raw"] = raw
    if time is not None:
        record["_time"] = time
    if record_id is not None:
        record[RECORD_ID] = record_id
    return record


def command_line(fields: Mapping[str, str | list[str]], args: Sequence[str]) -> str | None:
    """The full command line: AUOMS ``cmdline``, else EXECVE args joined, else proctitle.

    EXECVE arguments are the exact argv; ``proctitle`` is cut by the kernel at 128
    bytes, so it is only the last resort (it is all a failed execve has).
    """
    given = _first(fields.get("cmdline"))
    if given:
        return given
    if args:
        return " ".join(args)
    return _first(fields.get("proctitle")) or None


def process_name(fields: Mapping[str, str | list[str]]) -> str | None:
    """The executable's file name (CIM ``process_name``): from ``exe``, else ``comm``.

    ``comm`` is truncated by the kernel to 15 characters, so ``exe`` is preferred.
    """
    exe = _first(fields.get("exe"))
    if exe and exe not in ("(null)", "?"):
        return os.path.basename(exe) or exe
    comm = _first(fields.get("comm"))
    return comm if comm and comm != "(null)" else None


def _user(fields: Mapping[str, str | list[str]]) -> str | None:
    """CIM ``user``: a user name when the log has one (enriched ``UID``, AUOMS ``user``,
    ``acct``), else the numeric ``uid`` so the field is never silently missing."""
    for key in ("user", "UID", "acct", "uid"):
        value = _first(fields.get(key))
        if value:
            return value
    return None


def _first(value: str | list[str] | None) -> str | None:
    """A single value: the first of a multivalue."""
    if isinstance(value, list):
        return value[0] if value else None
    return value
