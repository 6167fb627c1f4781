"""Raw Linux auditd logs (``/var/log/audit/audit.log``) and Azure AUOMS lines → events.

The kernel writes one logical event as several records sharing one event id
``audit(<epoch>:<serial>)``: ``SYSCALL``, ``EXECVE``, ``CWD``, ``PATH`` (one per file),
``PROCTITLE`` and, since auditd 2.x, a closing ``EOE``. A hunter wants one row per
execution with its command line, so records are grouped by event id into one event.
Records of different events may interleave; an event is complete at its ``EOE``, or
when ``flush_window`` newer events have started since it (``mappings/linux.json``), or
at the end of the file. Memory is bounded by that window, never by the file.

Untrusted strings (arguments, paths, proctitle) are written hex-encoded by auditd when
they hold spaces, quotes or control characters; they are decoded only for the keys
that carry such strings and only when unquoted.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from stagehunt.ingest.normalise.linux import (
    Fields,
    add_value,
    decode_hex,
    is_hex_encoded,
    linux_mapping,
    linux_record,
)
from stagehunt.ingest.options import IngestOptions
from stagehunt.ingest.records import Record, Reject
from stagehunt.ingest.sources import Source

__all__ = ["parse_pairs", "read", "record_from_auoms", "sniff"]

#: One audit.log record; ``node=`` comes first when auditd runs with ``name_format``.
_RECORD_RE = re.compile(
    r"(?:node=(?P<node>\S+) )?type=(?P<type>\S+) "
    r"msg=audit\((?P<ts>\d+(?:\.\d+)?):(?P<serial>\d+)\): ?(?P<body>.*)"
)
#: An AUOMS record inside a Sentinel ``SyslogMessage``: no ``msg=`` before ``audit(``.
_AUOMS_RE = re.compile(
    r"type=(?P<type>\S+) (?:msg=)?audit\((?P<ts>\d+(?:\.\d+)?):(?P<serial>\d+)\): ?(?P<body>.*)",
    re.DOTALL,
)
_SNIFF_RE = re.compile(r"(?:^|\s)(?:node=\S+ )?type=\w+ msg=audit\(\d+(?:\.\d+)?:\d+\):")
#: EXECVE arguments: ``a3=...``, long ones as ``a3_len=N a3[0]=... a3[1]=...``.
_ARG_RE = re.compile(r"a(?P<n>\d+)(?:\[(?P<part>\d+)\]|(?P<len>_len))?")
#: AUOMS writes ``cmdline``/``proctitle`` unquoted (or with unescaped inner quotes) and
#: always follows them with these keys, so the value runs up to the first of them.
_AUOMS_GREEDY = frozenset({"cmdline", "proctitle"})
_AUOMS_STOP_RE = re.compile(r" (?:redactors|containerid)=")
#: The separator before the interpreted (upper-case) fields of ``log_format=ENRICHED``.
_ENRICHED_SEP = "\x1d"

Pair = tuple[str, str | list[str], bool]


# --------------------------------------------------------------------------- sniffing


def sniff(head: bytes) -> bool:
    """True when the first non-blank line of ``head`` is an audit.log record."""
    text = head.decode("utf-8", errors="replace")
    for line in text.splitlines():
        if line.strip():
            return _SNIFF_RE.search(line) is not None
    return False


# --------------------------------------------------------------------------- key=value


def parse_pairs(body: str, *, greedy: frozenset[str] = frozenset()) -> list[Pair]:
    """Split an audit record body into ``(key, value, quoted)`` triples.

    Values are ``"quoted"`` (no escapes in auditd), ``'nested key=value'`` (user-space
    records: the inner pairs are returned in place of the outer key), ``[json array]``
    (AUOMS ``path_*``) or bare up to whitespace. Keys in ``greedy`` take the rest of
    the line up to the next AUOMS trailer key.
    """
    pairs: list[Pair] = []
    i, n = 0, len(body)
    while i < n:
        while i < n and (body[i].isspace() or body[i] == _ENRICHED_SEP):
            i += 1
        start = i
        while i < n and body[i] != "=" and not body[i].isspace():
            i += 1
        if i >= n or body[i] != "=":
            continue  # a bare word (e.g. "old" in "old auid=..."): not a field
        key = body[start:i]
        i += 1
        if key in greedy:
            stop = _AUOMS_STOP_RE.search(body, i)
            end = stop.start() if stop else n
            value = body[i:end]
            quoted = len(value) >= 2 and value[0] == value[-1] == '"'
            pairs.append((key, value[1:-1] if quoted else value, quoted))
            i = end
            continue
        opener = body[i] if i < n else ""
        if opener in "\"'":
            close = body.find(opener, i + 1)
            end = n if close < 0 else close
            inner = body[i + 1 : end]
            i = end + 1
            if opener == "'" and "=" in inner:
                pairs.extend(parse_pairs(inner, greedy=greedy))
            else:
                pairs.append((key, inner, True))
            continue
        if opener == "[":
            close = body.find("]", i)
            if close > 0:
                try:
                    items = json.loads(body[i : close + 1])
                except ValueError:
                    items = None
                if isinstance(items, list):
                    pairs.append((key, [str(v) for v in items if v not in ("", None)], True))
                    i = close + 1
                    continue
        end = i
        while end < n and not body[end].isspace() and body[end] != _ENRICHED_SEP:
            end += 1
        pairs.append((key, body[i:end], False))
        i = end
    return pairs


def _decoded(key: str, value: str, quoted: bool, record_type: str) -> str:
    """``value`` as text: hex-decoded when auditd encoded it."""
    if quoted or not is_hex_encoded(key, record_type):
        return value
    text = decode_hex(value, key=key)
    return value if text is None else text


# --------------------------------------------------------------------------- raw audit.log


@dataclass
class _Event:
    """The records of one event id seen so far."""

    ts: str
    serial: str
    node: str | None
    started: int
    lines: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    fields: Fields = field(default_factory=dict)
    args: dict[int, str] = field(default_factory=dict)
    arg_parts: dict[int, dict[int, str]] = field(default_factory=dict)
    syscall_args: list[tuple[str, str]] = field(default_factory=list)

    def add(self, record_type: str, body: str) -> None:
        """Merge one record's pairs into the event."""
        if record_type not in self.types:
            self.types.append(record_type)
        multi = record_type in linux_mapping().multi_record_types
        for key, value, quoted in parse_pairs(body):
            if isinstance(value, list):
                for item in value:
                    add_value(self.fields, key, item)
                continue
            text = _decoded(key, value, quoted, record_type)
            arg = _ARG_RE.fullmatch(key)
            if arg is not None and record_type == "EXECVE":
                self._add_arg(int(arg.group("n")), arg.group("part"), arg.group("len"), text)
                continue
            if arg is not None and record_type == "SYSCALL":
                self.syscall_args.append((key, text))  # pointers; EXECVE's aN win
                continue
            old = self.fields.get(key)
            if old is not None and not multi and (old == text or text in old):
                continue
            add_value(self.fields, key, text)

    def _add_arg(self, n: int, part: str | None, length: str | None, text: str) -> None:
        """One EXECVE argument, or one piece of a long one (``aN[i]``)."""
        if length is not None:
            return  # aN_len only announces the pieces
        if part is None:
            self.args[n] = text
        else:
            self.arg_parts.setdefault(n, {})[int(part)] = text

    def argv(self) -> list[str]:
        """The EXECVE arguments in order, long ones reassembled."""
        for n, parts in self.arg_parts.items():
            self.args[n] = "".join(parts[i] for i in sorted(parts))
        self.arg_parts.clear()
        return [self.args[n] for n in sorted(self.args)]


def read(source: Source, opts: IngestOptions) -> Iterator[Record | Reject]:
    """Yield one record per audit event of ``source``, rejects for unreadable lines."""
    window = linux_mapping().flush_window
    end_type = linux_mapping().event_end_type
    pending: dict[tuple[str | None, str, str], _Event] = {}
    started = 0
    with source.open() as fh:
        for lineno, raw in enumerate(fh, start=1):
            try:
                line = raw.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError as exc:
                yield Reject(source.name, f"line {lineno}", f"invalid UTF-8 at byte {exc.start}")
                continue
            if not line.strip():
                continue
            m = _RECORD_RE.search(line)
            if m is None:
                yield Reject(
                    source.name, f"line {lineno}", "not an auditd record (type=... msg=audit(...))"
                )
                continue
            key = (m.group("node"), m.group("ts"), m.group("serial"))
            event = pending.get(key)
            if m.group("type") == end_type:
                if event is None:
                    yield Reject(
                        source.name,
                        f"line {lineno}",
                        f"end of event {key[1]}:{key[2]} whose records were already "
                        f"flushed ({window} later events started first)",
                    )
                    continue
                event.lines.append(line)
                del pending[key]
                yield _finish(event, source, opts)
                continue
            if event is None:
                started += 1
                event = _Event(key[1], key[2], key[0], started)
                pending[key] = event
            event.lines.append(line)
            event.add(m.group("type"), m.group("body"))
            while pending:
                oldest_key, oldest = next(iter(pending.items()))
                if started - oldest.started < window:
                    break
                del pending[oldest_key]
                yield _finish(oldest, source, opts)
    for event in pending.values():
        yield _finish(event, source, opts)


def _finish(event: _Event, source: Source, opts: IngestOptions) -> Record:
    """The stored record of a complete event."""
    fields = event.fields
    args = event.argv()
    for i, arg in enumerate(args):
        fields[f"a{i}"] = arg
    if not args:
        for key, value in event.syscall_args:
            fields.setdefault(key, value)
    fields["type"] = event.types[0] if len(event.types) == 1 else list(event.types)
    fields["msg"] = f"audit({event.ts}:{event.serial}):"
    if event.node is not None:
        fields["node"] = event.node
    return linux_record(
        fields,
        time=float(event.ts),
        args=args,
        raw="\n".join(event.lines),
        source=source.name,
        host=None,
        record_id=_event_id(event.node, event.ts, event.serial),
        opts=opts,
    )


def _event_id(node: str | None, ts: str, serial: str) -> str:
    """The audit event id ``<epoch>:<serial>`` (``node:`` first when present).

    The serial alone restarts at every boot, so two events of one file could share it;
    with the timestamp the id is what auditd itself uses to name an event.
    """
    return f"{node}:{ts}:{serial}" if node else f"{ts}:{serial}"


# --------------------------------------------------------------------------- AUOMS


def record_from_auoms(message: str, obj: Mapping[str, object], opts: IngestOptions) -> Record | str:
    """An AUOMS record (Azure's auditd plugin, in a Sentinel ``SyslogMessage``) as a record.

    AUOMS has already joined the event's records into one line (``cmdline``,
    ``path_name=[...]``, ``cwd``), so the fields come out as for a raw audit.log event.
    ``_time`` is the record's own ``audit(<epoch>:...)`` time, which every AUOMS record
    carries: it has milliseconds, where the Sentinel ``EventTime`` is whole seconds and
    ``TimeGenerated`` is the time Log Analytics received the line.
    """
    m = _AUOMS_RE.search(message)
    if m is None:
        return "not an AUOMS record (type=... audit(<time>:<serial>): ...)"
    record_type = m.group("type")
    fields: Fields = {}
    for key, value, quoted in parse_pairs(m.group("body"), greedy=_AUOMS_GREEDY):
        if isinstance(value, list):
            if value:
                fields[key] = value if len(value) > 1 else value[0]
            continue
        if value == "":
            continue
        add_value(fields, key, _decoded(key, value, quoted, record_type))
    paths = fields.get("path_name")
    if paths is not None:
        fields["name"] = paths
    fields["type"] = record_type
    fields["msg"] = f"audit({m.group('ts')}:{m.group('serial')}):"
    host = _text(obj.get("Computer")) or _text(obj.get("HostName"))
    return linux_record(
        fields,
        time=float(m.group("ts")),
        raw=message,
        source=None,
        host=host,
        record_id=_event_id(None, m.group("ts"), m.group("serial")),
        opts=opts,
    )


def _text(value: object) -> str | None:
    """A non-empty string value of a parsed JSON object, else None."""
    return value if isinstance(value, str) and value else None
