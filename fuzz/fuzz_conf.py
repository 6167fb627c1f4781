"""Fuzz macros.conf and transforms.conf parsing.

Files are built from stanza headers, settings (continued lines, args, match types,
numbers out of range), comments and junk, sometimes with bytes that are not UTF-8.
Property: a macros.conf reads into a library whose every macro expands in a query to
text or an `SplError`; a transforms.conf in a lookups folder gives each lookup a table
or a `LookupError_` (what the compiler turns into a located error), never another
exception.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent))
import contextlib

import harness

from stagehunt.lookups.library import LookupError_, LookupLibrary
from stagehunt.spl.errors import SplError
from stagehunt.spl.macros import MacroFileError, MacroLibrary

_header = st.sampled_from(["[m]", "[m(1)]", "[m(2)]", "[n]", "[t]", "[t(x)]", "[", "[]", "[ m ]",
                           "[default]", "[lk]", "[lk.csv]"])  # fmt: skip
_setting = st.sampled_from([
    "definition = EventCode=1", "definition = `n`", "definition = `m`", "definition = $a$ $b$",
    "definition = eval x=$a$ \\", "args = a", "args = a, b", "args = ,", "args = $", "iseval = 1",
    "definition = `m(1)`", "definition = `m(`", "validation = x", "filename = lk.csv",
    "filename = ../lk.csv", "filename = /etc/passwd", "filename = ", "match_type = WILDCARD(a)",
    "match_type = CIDR(b), WILDCARD(", "match_type = CIDR(a)", "max_matches = 0",
    "max_matches = 9999999999999999999999", "max_matches = x", "min_matches = -1",
    "min_matches = 5", "default_match = d", "case_sensitive_match = false", "collection = c",
    "fields_list = a, b", "external_type = kvstore", "= x", "x", "# comment", "\\", "",
])  # fmt: skip
_line = st.one_of(_header, _setting, st.text(max_size=12))


@st.composite
def _conf(draw: st.DrawFn) -> bytes:
    text = "\n".join(draw(st.lists(_line, max_size=14))).encode("utf-8", errors="surrogatepass")
    if draw(st.integers(0, 5)) == 0:
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.binary(min_size=1, max_size=3)) + text[at:]
    return text


STRATEGY = st.tuples(_conf(), st.sampled_from(["macros", "transforms"]))

CSV = "a,b\n*x*,10.0.0.0/8\ny,not-a-network\n"


def _macros(path: Path, data: bytes) -> None:
    """Read the file (`MacroFileError` when not UTF-8), then call every macro."""
    path.write_bytes(data)
    try:
        library = MacroLibrary.from_file(path)
    except MacroFileError:
        return
    for key, macro in library.macros.items():
        call = key.split("(")[0] + (f"({','.join('1' for _ in macro.args)})" if macro.args else "")
        with contextlib.suppress(SplError):
            library.expand(f"search `{call}` | head 1")


def check(case: tuple[bytes, str]) -> None:
    data, kind = case
    with tempfile.TemporaryDirectory(prefix="stagehunt-fuzz-conf-") as tmp:
        if kind == "macros":
            _macros(Path(tmp) / "macros.conf", data)
            return
        folder = Path(tmp) / "lookups"
        folder.mkdir()
        (folder / "transforms.conf").write_bytes(data)
        (folder / "lk.csv").write_text(CSV, encoding="utf-8")
        try:
            library = LookupLibrary(folder)
        except LookupError_:
            return
        for name in ("m", "n", "t", "lk", "lk.csv", "default"):
            with contextlib.suppress(LookupError_):
                library.get(name)


if __name__ == "__main__":
    sys.exit(harness.main("conf", STRATEGY, check))
