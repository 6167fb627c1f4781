"""Whether an EVTX file that changed is the same log grown, and where its new part starts.

A live log (a collector's ``ForwardedEvents.evtx``, a live log a shipper copies again and
again) gains records with increasing EventRecordID, and a record's bytes never change once
written (a full circular log overwrites whole old chunks; a cleared log starts again at
record 1). So the watcher keeps, for each EVTX file, the highest record id it stored and
that record's *anchor*: its id and a hash of its bytes as the file holds them (header
with the time the log wrote it, and event). The file is the same log when it still holds
that record, byte for byte; the new part is then every record above the id. Otherwise it is
another log (cleared, replaced, or turned over past the anchor) and is read whole.

Only the file's framing is read here (chunk and record headers, a few bytes each), not
the events: pyevtx-rs reads the events.
"""

from __future__ import annotations

import hashlib
import re
import struct
from pathlib import Path

_HEADER = 4096
_CHUNK = 65536
_CHUNK_MAGIC = b"ElfChnk\x00"
_RECORD_MAGIC = b"\x2a\x2a\x00\x00"
_FIRST_RECORD = 512  # records start after the chunk header and its string/template tables
_RECORD_HEAD = 24  # magic, size, record id, written time
#: reject positions of `stagehunt.ingest.evtx_reader` that name record ids
_ONE = re.compile(r"^record (\d+)$")
_SPAN = re.compile(r"^chunk with records (\d+)\.\.(\d+)$")


def anchor(path: Path, record_id: int) -> str:
    """``"<id>:<SHA-256 of its bytes>"`` of the record ``record_id`` in the file; "" if
    the file holds no such record (or is no EVTX file)."""
    with path.open("rb") as fh:
        if not fh.read(8).startswith(b"ElfFile"):
            return ""
        hinted: list[int] = []
        others: list[int] = []
        at = _HEADER
        while True:
            fh.seek(at)
            head = fh.read(48)
            if len(head) < 48:
                break
            if head.startswith(_CHUNK_MAGIC):
                first, last = struct.unpack_from("<QQ", head, 24)
                (hinted if first <= record_id <= last else others).append(at)
            at += _CHUNK
        # the chunk headers name the ids each chunk holds; a chunk still being written
        # may not say yet, so the others are searched too when the hint misses
        for start in hinted + others:
            fh.seek(start)
            found = _find(fh.read(_CHUNK), record_id)
            if found is not None:
                return f"{record_id}:{hashlib.sha256(found).hexdigest()}"
    return ""


def _find(chunk: bytes, record_id: int) -> bytes | None:
    """The bytes of record ``record_id`` in one chunk, walking its records."""
    at = _FIRST_RECORD
    while at + _RECORD_HEAD <= len(chunk) and chunk.startswith(_RECORD_MAGIC, at):
        size, rid = struct.unpack_from("<IQ", chunk, at + 4)
        if rid == record_id:
            return chunk[at : at + size]
        if size < _RECORD_HEAD:
            return None
        at += size
    return None


def may_follow(position: str, last: int) -> bool:
    """Whether a reject at ``position`` may lie above record ``last`` (in the new part);
    a position that names no record id may."""
    one = _ONE.match(position)
    if one is not None:
        return int(one.group(1)) > last
    span = _SPAN.match(position)
    if span is not None:
        return int(span.group(2)) > last
    return True
