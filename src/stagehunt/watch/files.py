"""Which files under the watched folders hold something new, and how much of a file
may be taken now.

Two kinds of file:

* JSON lines (a ``.json``/``.jsonl``/``.ndjson`` file, or any file, whose first line
  is one JSON object) grow by appends. Only complete lines are taken: the bytes from
  the committed offset up to the last newline. A line still being written (no
  newline yet) waits for the next poll.
* Everything else (EVTX, event XML, CSV, auditd, zips) is a whole file, read once it
  has settled: no write for ``settle`` seconds, by either clock: its size and
  modification time unchanged on polls ``settle`` seconds apart (the watcher's clock,
  right for a share whose clock differs), or its modification time ``settle`` seconds
  old (so a one-pass run takes finished files at once).
* EVTX files are whole files that may grow (a collector's live log): once taken, a
  change settles again and the records above the highest one stored are taken
  (`stagehunt.watch.evtxlog` says whether it is still the same log).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from pathlib import Path

from stagehunt.ingest.evtx_reader import MAGIC

LINES = "lines"
WHOLE = "whole"
EVTX = "evtx"
#: Bytes hashed to recognise a file that was replaced by another (rotation).
HEAD_BYTES = 4096
_LINE_SUFFIXES = frozenset({".json", ".jsonl", ".ndjson"})
_SNIFF = 64 * 1024


def scan(folders: Iterable[Path], exclude: frozenset[Path]) -> Iterator[Path]:
    """Files under the folders, in name order; hidden files (a shipper's ``.part``)
    and the watcher's own files (store, alert file) left out."""
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if any(part.startswith(".") for part in path.relative_to(folder).parts):
                continue
            if path.is_file() and path.resolve() not in exclude:
                yield path


def kind_of(path: Path) -> str | None:
    """LINES, EVTX or WHOLE; None while it cannot tell (empty, or a first line not
    complete)."""
    with path.open("rb") as fh:
        head = fh.read(_SNIFF)
    if not head:
        return None
    if head.startswith(MAGIC):
        return EVTX
    if len(head) < len(MAGIC) and MAGIC.startswith(head):
        return None  # an EVTX header not written whole yet
    first, newline, _ = head.partition(b"\n")
    looks_json = path.suffix.lower() in _LINE_SUFFIXES or head.lstrip()[:1] == b"{"
    if not looks_json:
        return WHOLE
    if not newline:
        return None if len(head) < _SNIFF else WHOLE
    try:
        value = json.loads(first)
    except ValueError:
        return WHOLE  # a pretty-printed document or an array: read whole once settled
    return LINES if isinstance(value, dict) else WHOLE


def head_digest(path: Path, upto: int) -> str:
    """SHA-256 of the first ``min(upto, HEAD_BYTES)`` bytes."""
    with path.open("rb") as fh:
        return hashlib.sha256(fh.read(min(upto, HEAD_BYTES))).hexdigest()


def digest(path: Path) -> str:
    """SHA-256 of the whole file: its content's identity in the store's ``__sources``."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def complete_lines(path: Path, offset: int, limit: int) -> bytes:
    """The complete lines from ``offset`` on (at most ``limit`` bytes, whole lines
    only); empty when no newline follows ``offset`` yet."""
    with path.open("rb") as fh:
        fh.seek(offset)
        data = fh.read(limit)
    end = data.rfind(b"\n")
    return data[: end + 1] if end >= 0 else b""
