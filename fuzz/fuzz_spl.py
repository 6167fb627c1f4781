"""Fuzz SPL parse + compile + run on a small in-memory store.

Inputs are token soup from SPL's grammar pieces and mutations of real queries (the
T1074 pack's, ESCU's detections when present). Property: a query gives a result
(written as jsonl) or a documented error (`SplError`, or one of the engine's run-time
errors of docs/reliability.md), never another exception.
"""

from __future__ import annotations

import io
import json
import re
import sys
from functools import cache
from pathlib import Path

import duckdb
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness

from stagehunt.api import stream_on
from stagehunt.backends.base import QueryFailed
from stagehunt.backends.duckdb import DuckDBBackend
from stagehunt.compile.dialects import DialectUnsupported
from stagehunt.lookups import LookupLibrary
from stagehunt.render.formats import write
from stagehunt.scratch import ScratchFolder
from stagehunt.spl.errors import SplError
from stagehunt.spl.macros import MacroLibrary
from stagehunt.store.event_store import EventStore

ROOT = Path(__file__).resolve().parents[1]

#: What the engine may refuse while the query runs (docs/reliability.md, "Errors while
#: the query runs"): a pattern built from the data, a cast, an out-of-range argument.
#: A binder or parser error would be SQL the compiler should never have written, except
#: RE2 refusing a pattern written in the query, which DuckDB reports while binding.
RUN_TIME_ERRORS = (
    QueryFailed,
    duckdb.InvalidInputException,
    duckdb.ConversionException,
    duckdb.OutOfRangeException,
)

PIECES = [
    "search", "| search", "| eval", "| where", "| stats", "| eventstats", "| streamstats",
    "| table", "| fields", "| rename", "| rex", "| regex", "| head", "| tail", "| sort",
    "| dedup", "| makeresults", "| append", "| join", "| lookup", "| inputlookup",
    "| outputlookup", "| spath", "| bin", "| timechart", "| chart", "| tstats", "| fillnull",
    "| mvexpand", "| top", "| rare", "| transaction", "| multisearch", "| convert",
    "| fieldformat", "| return", "| format", "| xmlkv", "| fromjson", "| extract", "|",
    "[", "]", "(", ")", "=", "==", "!=", "<", "<=", ">", ">=", "AND", "OR", "NOT", "XOR",
    "by", "BY", "as", "AS", "OVER", "count", "count=3", "dc(", "values(", "sum(", "avg(",
    "latest(", "if(", "case(", "match(", "like(", "replace(", "substr(", "mvindex(",
    "mvcount(", "split(", "mvjoin(", "strftime(", "strptime(", "tonumber(", "tostring(",
    "len(", "lower(", "coalesce(", "isnull(", "cidrmatch(", "pow(", "round(", "true()",
    "null()", "now()", "relative_time(", '"', "'", "`", "`m1`", "`m2(x)`", "`loop`", ",",
    "*", "+", "-", "/", "%", ".", "0", "1", "2", "-1", "0.5", "1e999", "99999999999999999999",
    "EventCode", "host", "_time", "_raw", "x", "mv", "CommandLine", "TargetFilename",
    "User", "\\", "\\\\", "\n", " ", "$x$", "earliest=-1d", "latest=now", "span=1h",
    "max=0", "limit=2", "field=x", "mode=sed", '"s/a/b/g"', '"(?<f>\\w+)"', '"(?i)a"',
    '"*\\\\Temp\\\\*"', "t1074_allowlist", "sep=,", "desc", "asc", "-", "+", "#", "```c```",
    "index=wineventlog", "sourcetype=*", "source::x", "TERM(a)", "CASE(A)", "datamodel=",
    "Endpoint.Processes", "summariesonly=t", "where", "nodename=", "keepempty=t",
]  # fmt: skip

#: The records every query runs on: numbers, strings, a multivalue, a missing field.
RECORDS = [
    {"_time": 1700000000 + i, "host": f"h{i % 2}", "EventCode": str(1 + 10 * (i % 2)),
     "CommandLine": f"robocopy C:\\Temp\\{i} D:\\x", "TargetFilename": f"C:\\Temp\\f{i}.zip",
     "User": "bob" if i else "", "x": str(i - 1), "mv": ["a", "b", str(i)],
     "_raw": f"<Event>{i} a=b</Event>", "index": "wineventlog",
     "sourcetype": "XmlWinEventLog:Microsoft-Windows-Sysmon/Operational"}
    for i in range(4)
]  # fmt: skip

MACROS = """
[m1]
definition = EventCode=1

[m2(1)]
args = a
definition = eval y=$a$

[loop]
definition = `loop`
"""


@cache
def corpus() -> list[str]:
    """Real queries: the T1074 pack's SPL, and ESCU's searches with macro calls blanked
    (ESCU's macros are not loaded here) when the data folder is present."""
    queries = [
        p.read_text("utf-8") for p in sorted((ROOT / "src/stagehunt/content/T1074").rglob("*.spl"))
    ]
    data = harness.shared_data()
    escu = data / "security_content" / "detections" if data else None
    if escu is not None and escu.is_dir():
        import yaml

        for path in sorted(escu.rglob("*.yml"))[::7]:
            doc = yaml.load(path.read_text("utf-8"), Loader=yaml.CSafeLoader)
            search = doc.get("search") if isinstance(doc, dict) else None
            if isinstance(search, str):
                queries.append(re.sub(r"`[^`]*`", "", search))
    return queries


class _World:
    """One store, lookups folder and macro library shared by every input."""

    def __init__(self) -> None:
        self._folder = ScratchFolder("stagehunt-fuzz-spl-")  # removed at exit
        self.tmp = self._folder.path
        data = self.tmp / "events.jsonl"
        data.write_text("".join(json.dumps(r) + "\n" for r in RECORDS), encoding="utf-8")
        self.store = EventStore(in_memory=True)
        self.store.load([data])
        lookups = self.tmp / "lookups"
        lookups.mkdir()
        (lookups / "t1074_allowlist.csv").write_text("Image,note\n*robocopy*,ok\n", "utf-8")
        (lookups / "transforms.conf").write_text(
            "[t1074_allowlist]\nfilename = t1074_allowlist.csv\nmatch_type = WILDCARD(Image)\n",
            "utf-8",
        )
        self.lookups = lookups
        self.macros = MacroLibrary.from_text(MACROS)


@cache
def world() -> _World:
    return _World()


def check(spl: str) -> None:
    """A result (every row written as jsonl) or a documented error."""
    w = world()
    backend = DuckDBBackend.from_store(w.store)
    try:
        stream = stream_on(backend, spl, macros=w.macros, lookups=LookupLibrary(w.lookups))
        write(stream.columns, (b.rows for b in stream.batches), "jsonl", io.StringIO())
    except (SplError, DialectUnsupported, *RUN_TIME_ERRORS):
        pass
    except duckdb.BinderException as exc:
        # RE2 refusing a constant pattern is raised while DuckDB binds the statement
        if "Pattern failed to parse" not in str(exc):
            raise


def _mutate(query: str, edits: list[tuple[int, int, int, str]]) -> str:
    """Apply edits (kind, at, length, piece) to a real query: insert a piece, delete or
    repeat a slice, cut the end."""
    for kind, at, length, piece in edits:
        i = at % (len(query) + 1)
        if kind == 0:
            query = query[:i] + piece + query[i:]
        elif kind == 1:
            query = query[:i] + query[i + length :]
        elif kind == 2:
            query = query[:i] + query[i : i + length] * 2 + query[i:]
        else:
            query = query[:i]
    return query


_piece = st.sampled_from(PIECES)
_soup = st.lists(st.one_of(_piece, st.text(max_size=3)), max_size=25).map(" ".join)
_edit = st.tuples(
    st.integers(0, 3), st.integers(0, 10_000), st.integers(0, 40), st.one_of(_piece, st.text())
)


@st.composite
def _mutant(draw: st.DrawFn) -> str:
    return _mutate(draw(st.sampled_from(corpus())), draw(st.lists(_edit, max_size=6)))


STRATEGY = st.one_of(_soup, _mutant(), _soup.map(lambda s: "| makeresults " + s))


if __name__ == "__main__":
    sys.exit(harness.main("spl", STRATEGY, check))
