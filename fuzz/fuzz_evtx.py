"""Fuzz the EVTX reader with real files damaged at chunk and record level.

Seeds are small real EVTX files (one chunk each) and a three-chunk file cut from a larger
one (its header rewritten to say three chunks). Mutations: chunks dropped, repeated or
swapped; chunk header bytes overwritten; a record's size field or bytes rewritten;
bytes flipped anywhere; the file cut short. Property (`loading`): every record is
stored or counted rejected with a reason; no exception escapes.
"""

from __future__ import annotations

import struct
import sys
import zlib
from functools import cache
from pathlib import Path

from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness
import loading

HEADER = 4096
CHUNK = 65536
RECORD_MAGIC = b"\x2a\x2a\x00\x00"


def _with_chunks(data: bytes, chunks: int) -> bytes:
    """The file cut to ``chunks`` chunks, its header saying so (last chunk number, chunk
    count, and the header's CRC32 over its first 120 bytes)."""
    head = bytearray(data[:HEADER])
    struct.pack_into("<Q", head, 24, chunks - 1)
    struct.pack_into("<H", head, 42, chunks)
    struct.pack_into("<I", head, 124, zlib.crc32(bytes(head[:120])))
    return bytes(head) + data[HEADER : HEADER + chunks * CHUNK]


@cache
def seeds() -> list[bytes]:
    """Real EVTX files to damage: a few of one chunk, one of three chunks."""
    data = harness.shared_data()
    if data is None:
        return []
    files = sorted(p for p in (data / "real").rglob("*.evtx") if p.stat().st_size <= 70_000)
    small = [p.read_bytes() for p in files[:: max(1, len(files) // 6)][:6]]
    big = sorted(
        (p for p in (data / "real").rglob("*.evtx") if p.stat().st_size >= HEADER + 3 * CHUNK),
        key=lambda p: p.stat().st_size,
    )
    return small + ([_with_chunks(big[0].read_bytes(), 3)] if big else [])


def _records(data: bytes) -> list[int]:
    """Offsets of the record signatures (some may be inside data: that is fine)."""
    found, at = [], data.find(RECORD_MAGIC, HEADER)
    while at >= 0:
        found.append(at)
        at = data.find(RECORD_MAGIC, at + 1)
    return found


def mutate(data: bytes, ops: list[tuple[int, int, int, bytes]]) -> bytes:
    """Apply (kind, which, value, bytes) operations to an EVTX file."""
    out = bytearray(data)
    for kind, which, value, blob in ops:
        chunks = max(1, (len(out) - HEADER) // CHUNK)
        c = HEADER + (which % chunks) * CHUNK
        if kind == 0:  # drop a chunk
            del out[c : c + CHUNK]
        elif kind == 1:  # repeat a chunk
            out[c:c] = out[c : c + CHUNK]
        elif kind == 2:  # overwrite chunk header bytes (magic, numbers, offsets, CRCs)
            at = c + value % 512
            out[at : at + len(blob)] = blob
        elif kind == 3:  # a record's size, id or timestamp field
            recs = _records(bytes(out))
            if recs:
                at = recs[which % len(recs)] + 4 + 4 * (value % 5)
                out[at : at + 4] = struct.pack("<I", value & 0xFFFFFFFF)
        elif kind == 4:  # bytes inside a record (its BinXML)
            recs = _records(bytes(out))
            if recs:
                at = recs[which % len(recs)] + 24 + value % 512
                out[at : at + len(blob)] = blob
        elif kind == 5:  # flip bytes anywhere
            at = value % max(1, len(out))
            out[at : at + len(blob)] = bytes(b ^ 0xFF for b in blob)
        else:  # cut the file
            del out[value % max(1, len(out)) :]
    return bytes(out)


_op = st.tuples(
    st.integers(0, 6), st.integers(0, 1 << 16), st.integers(0, (1 << 32) - 1),
    st.binary(min_size=1, max_size=8),
)  # fmt: skip


@st.composite
def _damaged(draw: st.DrawFn) -> bytes:
    return mutate(draw(st.sampled_from(seeds())), draw(st.lists(_op, min_size=1, max_size=4)))


STRATEGY = _damaged()


def check(data: bytes) -> None:
    loading.load_bytes(data, "damaged.evtx")


if __name__ == "__main__":
    sys.exit(harness.main("evtx", STRATEGY, check))
