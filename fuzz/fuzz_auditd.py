"""Fuzz the auditd / AUOMS reader: audit.log lines built from record types, key=value
pairs (quoted, hex-encoded, EXECVE arguments split in parts) and mangled by cuts.
Property: `loading`'s accounting; no exception escapes."""

from __future__ import annotations

import sys
from pathlib import Path

from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness
import loading

_type = st.sampled_from(["SYSCALL", "EXECVE", "PATH", "CWD", "PROCTITLE", "USER_CMD",
                         "AUOMS_EXECVE", "UNKNOWN[1330]", "CONFIG_CHANGE", "x"])  # fmt: skip
_key = st.sampled_from(["a0", "a1", "a2[0]", "a2[1]", "a2_len", "argc", "exe", "comm", "name",
                        "cwd", "proctitle", "cmdline", "uid", "auid", "syscall", "key", "pid",
                        "msg", "node", "type", "x"])  # fmt: skip
_val = st.one_of(
    st.sampled_from(['"cp"', '"/tmp/a b"', "2F746D70", "2F746D7", "(null)", "''", '"', "=", "-1",
                     "99999999999999999999", "'a=b c'", '"\\"x"']),
    st.text(alphabet=st.sampled_from(list('ab"= \'\x1d\\:)(%')), max_size=8),
)  # fmt: skip


@st.composite
def _line(draw: st.DrawFn) -> str:
    stamp = draw(st.sampled_from(["1700000000.123:42", "1700000000:1", "x:1", "1e99:2", "0.0:0"]))
    pairs = " ".join(f"{draw(_key)}={draw(_val)}" for _ in range(draw(st.integers(0, 6))))
    node = draw(st.sampled_from(["", "node=h1 "]))
    line = f"{node}type={draw(_type)} msg=audit({stamp}): {pairs}"
    cut = draw(st.integers(0, len(line) + 5))
    return line[:cut] if draw(st.integers(0, 4)) == 0 else line


@st.composite
def _file(draw: st.DrawFn) -> bytes:
    first = 'type=SYSCALL msg=audit(1700000000.1:1): arch=c000003e syscall=59 exe="/bin/cp"'
    lines = [first, *draw(st.lists(_line(), max_size=10))]
    data = "\n".join(lines).encode("utf-8", errors="surrogatepass")
    return harness.maybe_spliced(draw, data)


STRATEGY = _file()


def check(data: bytes) -> None:
    loading.load_bytes(data, "audit.log")


if __name__ == "__main__":
    sys.exit(harness.main("auditd", STRATEGY, check))
