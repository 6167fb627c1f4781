"""Fuzz zip archives: member names that climb out (``../``, absolute, drive letters,
backslashes), symlink members, nested archives, corrupt bytes, and zip bombs.

Property: `loading`'s accounting; each member is read or named in an error; nothing is
written outside the store's scratch folder (the archive's folder holds only the
archive afterwards); a bomb member is refused. The bomb floor is lowered to 1 MiB here
(`registry.ZIP_RATIO_FROM_BYTES`) so that a bomb costs milliseconds, not 64 MiB.
"""

from __future__ import annotations

import io
import json
import stat
import sys
import tempfile
import warnings
import zipfile
from pathlib import Path

from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness
import loading

from stagehunt.ingest import registry

registry.ZIP_RATIO_FROM_BYTES = 1 << 20
BOMB = b"\0" * (4 << 20)

_name = st.sampled_from([
    "events.jsonl", "../escape.jsonl", "../../../../tmp/escape.jsonl", "/abs/escape.jsonl",
    "C:\\Windows\\escape.jsonl", "..\\..\\escape.jsonl", "a/../../escape.jsonl", "dir/",
    "__MACOSX/._x", "nested.zip", "audit.log", "", "a" * 300, "é/ü.jsonl", "./././x",
])  # fmt: skip
_body = st.sampled_from([
    json.dumps({"_time": 1, "host": "h"}).encode() + b"\n",
    b'type=SYSCALL msg=audit(1700000000.1:1): exe="/bin/cp"\n',
    b"not events", b"", b"PK\x03\x04 a zip inside", b"/etc/passwd",
])  # fmt: skip


@st.composite
def _archive(draw: st.DrawFn) -> tuple[bytes, bool]:
    """The archive's bytes and whether it holds a bomb."""
    buf = io.BytesIO()
    bomb = False
    with warnings.catch_warnings(), zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        warnings.simplefilter("ignore", UserWarning)  # duplicate names are wanted here
        for _ in range(draw(st.integers(1, 5))):
            info = zipfile.ZipInfo(draw(_name) or "x")
            kind = draw(st.integers(0, 4))
            if kind == 0:  # a symlink member: its body is the link's target
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
            if kind == 1 and not bomb:
                bomb = True
                zf.writestr(info, BOMB, zipfile.ZIP_DEFLATED)
                continue
            zf.writestr(info, draw(_body), zipfile.ZIP_DEFLATED)
    data = buf.getvalue()
    if draw(st.integers(0, 3)) == 0:  # corrupt some bytes
        at = draw(st.integers(0, len(data) - 1))
        data = data[:at] + draw(st.binary(min_size=1, max_size=4)) + data[at + 4 :]
    return data, bomb


STRATEGY = _archive()


def check(case: tuple[bytes, bool]) -> None:
    data, bomb = case
    with tempfile.TemporaryDirectory(prefix="stagehunt-fuzz-zip-") as tmp:
        folder = Path(tmp) / "in"
        folder.mkdir()
        path = folder / "bundle.zip"
        path.write_bytes(data)
        report = loading.load_paths([path])
        assert sorted(p.name for p in Path(tmp).rglob("*")) == ["bundle.zip", "in"]
        if bomb and data.startswith(b"PK") and report.stored + len(report.errors):
            assert report.stored < len(BOMB), report
    assert not Path(tempfile.gettempdir(), "escape.jsonl").exists()


if __name__ == "__main__":
    sys.exit(harness.main("zip", STRATEGY, check))
