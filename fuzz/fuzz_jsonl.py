"""Fuzz the JSON lines reader (Splunk exports and the shipper shapes).

A valid first object (it decides the shape), then lines that are objects with odd keys
and values (nesting, huge and non-finite numbers, lone surrogates, lists), or broken
JSON, or bytes that are not UTF-8 (a NUL byte anywhere makes the file binary: one
error naming it, by design). Property: `loading`'s accounting, and each line that
is not JSON is rejected with its own line number.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness
import loading

FIRST = [
    {"_time": "2024-01-01T00:00:00Z", "host": "h", "_raw": "a=b", "sourcetype": "x"},
    {"Timestamp": "2024-01-01T00:00:00Z", "DeviceName": "d", "ActionType": "ProcessCreated",
     "ProcessCommandLine": "cmd"},
    {"@timestamp": "2024-01-01T00:00:00Z", "event": {"code": "1"}, "winlog": {"channel": "c"}},
    {"Event": {"System": {"EventID": 1, "EventRecordID": 1}, "EventData": {"Image": "x"}}},
    {"result": {"_time": "1700000000", "host": "h", "_raw": "r"}, "preview": False},
]  # fmt: skip
_keys = st.sampled_from(["_time", "host", "_raw", "", "a b", "x", "EventCode", "é", "__rid",
                         "Timestamp", "DeviceName", "Event", "result", "@timestamp"])  # fmt: skip
_scalar = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**30), 10**30), st.floats(), st.text(max_size=8),
    st.sampled_from(["\ud800", "1e999", "NaN", "-Infinity", "2024-13-45T99:99:99Z"]),
)  # fmt: skip
_json = st.recursive(
    _scalar,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(_keys, inner, max_size=4)),
    max_leaves=12,
)
_broken = st.one_of(
    st.sampled_from(['{"a": 1', "{'a': 1}", "[1,", "{}}", "NaNx", '{"a":}', "\x00", "{" * 50]),
    st.text(max_size=20).filter(lambda s: s.strip() != "" and "\n" not in s),
)


def _good(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=True)


@st.composite
def _file(draw: st.DrawFn) -> tuple[bytes, set[int]]:
    """The file's bytes and the line numbers that are not JSON."""
    lines = [_good(draw(st.sampled_from(FIRST)))]
    bad: set[int] = set()
    for _ in range(draw(st.integers(0, 8))):
        kind = draw(st.integers(0, 2))
        if kind == 0:
            lines.append(_good(draw(st.dictionaries(_keys, _json, max_size=5))))
        elif kind == 1:
            lines.append(draw(_broken))
        else:
            lines.append(_good(draw(_json)))
    out = []
    for n, line in enumerate(lines, start=1):
        try:
            json.loads(line)
        except ValueError:
            bad.add(n)
        out.append(line.encode("utf-8", errors="surrogatepass"))
    return b"\n".join(out) + b"\n", bad


STRATEGY = _file()


def check(case: tuple[bytes, set[int]]) -> None:
    data, bad = case
    report = loading.load_bytes(data, "events.jsonl")
    rejected = {r.position for r in report.rejects}
    if b"\x00" in data.split(b"\n", 1)[0]:  # NUL in the first line: binary, one error
        assert report.files == 0 and "binary content" in report.errors[0], report.errors
        return
    # NUL bytes further on (a file cut by a crash) are those lines' problem: rejects
    assert not report.errors, report.errors
    for n in bad:
        assert f"line {n}" in rejected, (n, report.rejects)


if __name__ == "__main__":
    sys.exit(harness.main("jsonl", STRATEGY, check))
