"""EVTX framing: the file header and its 64 KiB chunks, without the events.

An EVTX file is a 4 KiB header followed by 64 KiB chunks, each self-contained: its own
string and template tables, its records, its first and last record numbers, and two
CRC32 checksums (the chunk header's, of bytes 0..120 and 128..512; the records', of
bytes 512 up to the chunk's free-space offset). The file header names the chunk count
and the next record number, under a CRC32 of its first 120 bytes.

So a run of chunks, put behind a copy of the file's header that counts them, is an
EVTX file of its own that pyevtx-rs reads exactly as it reads those chunks in the whole
file (`part`): how the workers of `stagehunt.ingest.parallel` share one large file. The
benchmark builds a large file from real chunks the same way (`renumber`, `header`).
"""

from __future__ import annotations

import struct
import zlib

__all__ = [
    "CHUNK_SIZE",
    "HEADER_SIZE",
    "chunk_count",
    "chunk_records",
    "header",
    "part",
    "renumber",
]

HEADER_SIZE = 4096
CHUNK_SIZE = 65536
_FILE_MAGIC = b"ElfFile\x00"
_CHUNK_MAGIC = b"ElfChnk\x00"
_RECORD_MAGIC = b"\x2a\x2a\x00\x00"
_FIRST_RECORD = 512  # records start after the chunk header and its string/template tables


def chunk_count(head: bytes) -> int:
    """The chunk count a file header (its first 128 bytes at least) declares."""
    (n,) = struct.unpack_from("<H", head, 42)
    return int(n)


def header(original: bytes, chunks: int, next_record: int | None = None) -> bytes:
    """A copy of the file header ``original`` (4096 bytes) declaring ``chunks`` chunks
    (numbered 0..chunks-1) and, if given, the next record number, its checksum fixed."""
    if not original.startswith(_FILE_MAGIC) or len(original) < HEADER_SIZE:
        raise ValueError("not an EVTX file header")
    out = bytearray(original[:HEADER_SIZE])
    struct.pack_into("<QQ", out, 8, 0, max(0, chunks - 1))
    if next_record is not None:
        struct.pack_into("<Q", out, 24, next_record)
    struct.pack_into("<H", out, 42, chunks)
    struct.pack_into("<I", out, 124, zlib.crc32(bytes(out[:120])))
    return bytes(out)


def part(original_header: bytes, chunks: bytes) -> bytes:
    """An EVTX file of the whole chunks in ``chunks`` behind the file's header."""
    n = len(chunks) // CHUNK_SIZE
    return header(original_header, n) + chunks[: n * CHUNK_SIZE]


def chunk_records(chunk: bytes) -> list[tuple[int, int]]:
    """(offset, size) of each record of one chunk, walking the record headers up to its
    free-space offset."""
    (free,) = struct.unpack_from("<I", chunk, 48)
    out: list[tuple[int, int]] = []
    at = _FIRST_RECORD
    while at + 24 <= min(free, len(chunk)) and chunk.startswith(_RECORD_MAGIC, at):
        (size,) = struct.unpack_from("<I", chunk, at + 4)
        if size < 24 or at + size > len(chunk):
            break
        out.append((at, size))
        at += size
    return out


def renumber(chunk: bytes, first: int) -> tuple[bytes, int]:
    """A copy of a chunk whose records are numbered from ``first`` on (record headers
    and the chunk header's first/last number and identifier), both checksums fixed;
    and how many records it holds. Raises ValueError for a chunk that is not one."""
    if not chunk.startswith(_CHUNK_MAGIC) or len(chunk) != CHUNK_SIZE:
        raise ValueError("not an EVTX chunk")
    records = chunk_records(chunk)
    if not records:
        raise ValueError("an EVTX chunk without records")
    out = bytearray(chunk)
    for i, (at, _size) in enumerate(records):
        struct.pack_into("<Q", out, at + 8, first + i)
    last = first + len(records) - 1
    struct.pack_into("<QQQQ", out, 8, first, last, first, last)
    (free,) = struct.unpack_from("<I", out, 48)
    struct.pack_into("<I", out, 52, zlib.crc32(bytes(out[_FIRST_RECORD:free])))
    struct.pack_into("<I", out, 124, zlib.crc32(bytes(out[:120]) + bytes(out[128:512])))
    return bytes(out), len(records)
