"""Fuzz the Defender (MDE) CSV reader: an advanced-hunting header (columns shuffled,
repeated or dropped) and rows with quoting, embedded newlines, too many or too few
cells, odd timestamps and bytes that are not UTF-8. Property: `loading`'s accounting;
no exception escapes."""

from __future__ import annotations

import sys
from pathlib import Path

from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness
import loading

COLUMNS = ["Timestamp", "DeviceName", "ActionType", "ProcessCommandLine", "FolderPath",
           "FileName", "AccountName", "ReportId", "DeviceId", "InitiatingProcessCommandLine",
           "PreviousFileName", "Type", "Source Name"]  # fmt: skip
_cell = st.one_of(
    st.sampled_from(["2024-01-01T00:00:00Z", "2024-01-01 00:00:00.1234567", "x", "",
                     "ProcessCreated", "FileCreated", '"a,b"', '"a""b"', '"multi\nline"',
                     '"unclosed', "1e999", "C:\\Temp\\a.zip", "=cmd|' /C calc'!A0"]),
    st.text(alphabet=st.sampled_from(list('a,"\n\r\\ é')), max_size=6),
)  # fmt: skip


@st.composite
def _file(draw: st.DrawFn) -> bytes:
    extra = draw(st.lists(st.sampled_from(COLUMNS[3:]), max_size=6))
    header = ["Timestamp", "DeviceName", "ActionType", "ProcessCommandLine", *extra]
    width = len(header)
    rows = []
    for _ in range(draw(st.integers(0, 6))):
        n = draw(st.sampled_from([width, width, width - 1, width + 2, 0]))
        rows.append(",".join(draw(_cell) for _ in range(max(0, n))))
    data = "\n".join([",".join(header), *rows]).encode("utf-8")
    return harness.maybe_spliced(draw, data, start=len(header[0]) + 1, most=3)


STRATEGY = _file()


def check(data: bytes) -> None:
    loading.load_bytes(data, "DeviceProcessEvents.csv")


if __name__ == "__main__":
    sys.exit(harness.main("defender_csv", STRATEGY, check))
