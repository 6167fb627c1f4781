"""Files for the watch tests: the pack simulator's Windows events as a shipper writes
them (flattened Winlogbeat/NXLog JSON, one object a line, the OTRF datasets' shape), and
real EVTX files. Shared by tests/test_watch*.py and scripts/kill_test.py."""

from __future__ import annotations

import json
import re
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from stagehunt.simulate import simulate

REAL = Path("/work/shared/data/real")
EVTX = REAL / "sbousseaden-EVTX-ATTACK-SAMPLES"
#: the one real EVTX file of several chunks (15 of records, ids 1..565, and 2 empty)
PANACHE = EVTX / "PanacheSysmon_vs_AtomicRedTeam01.evtx"
_NS = "{http://schemas.microsoft.com/win/2004/08/events/event}"


def evtx_prefix(data: bytes, chunks: int) -> bytes:
    """An EVTX file as its writer leaves it after its first ``chunks`` chunks (64 KiB
    each after the 4 KiB header): the header's last chunk, next record id, chunk count
    and checksum say so (pyevtx-rs reads chunks to the end of the file without them,
    but stagehunt reports a file shorter than its header's chunk count as truncated)."""
    out = bytearray(data[: 4096 + chunks * 65536])
    (last_id,) = struct.unpack_from("<Q", out, 4096 + (chunks - 1) * 65536 + 32)
    struct.pack_into("<QQ", out, 16, chunks - 1, last_id + 1)
    struct.pack_into("<H", out, 42, chunks)
    struct.pack_into("<I", out, 124, zlib.crc32(out[:120]))
    return bytes(out)


def shipper_lines(xml_file: Path) -> list[str]:
    """Each ``<Event>`` of a simulator XML file as a flattened JSON line (EventID,
    Channel, Hostname, RecordNumber, @timestamp, then the EventData names)."""
    text = xml_file.read_text(encoding="utf-8")
    lines: list[str] = []
    for chunk in re.findall(r"<Event[ >].*?</Event>", text, flags=re.S):
        event = ET.fromstring(chunk)
        system = event.find(f"{_NS}System")
        assert system is not None
        obj: dict[str, str] = {
            "EventID": system.findtext(f"{_NS}EventID") or "",
            "Channel": system.findtext(f"{_NS}Channel") or "",
            "Hostname": system.findtext(f"{_NS}Computer") or "",
            "RecordNumber": system.findtext(f"{_NS}EventRecordID") or "",
        }
        created = system.find(f"{_NS}TimeCreated")
        assert created is not None
        obj["@timestamp"] = created.get("SystemTime", "")
        for data in event.iter(f"{_NS}Data"):
            obj[data.get("Name", "")] = data.text or ""
        lines.append(json.dumps(obj))
    return lines


def scenario_lines(scenario: str, folder: Path, seed: int = 0) -> list[str]:
    """A simulated scenario's Windows events (every XML file it writes) as shipper lines."""
    files = simulate(scenario, folder / f"sim-{scenario}", seed)
    return [line for f in sorted(files) if f.suffix == ".xml" for line in shipper_lines(f)]


@contextmanager
def held(store: Path) -> Iterator[int]:
    """Another process holding the store open (DuckDB's writer lock); yields its pid."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb,sys; c=duckdb.connect({str(store)!r}); "
            "print('open', flush=True); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "open\n"
        yield holder.pid
    finally:
        holder.communicate("")
