"""Fuzz the Windows event XML reader, entity tricks included.

Documents are events built from pieces (System fields, EventData, text with markup
characters), mangled by cuts and inserted markup, some behind a DOCTYPE declaring an
internal entity, a billion-laughs chain or an external entity naming a file with a
secret marker. Property: `loading`'s accounting, and no entity is ever expanded (the
marker and the laughs appear in no stored field but ``_raw``, and never doubled).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness
import loading

from stagehunt.scratch import ScratchFolder
from stagehunt.store.event_store import EventStore

MARK = "ZQXENTITYZQX"
SECRET = "ZQXSECRETZQX"
#: in a folder of this run's own, removed at exit (it used to stay in the temporary folder)
_SECRET_FOLDER = ScratchFolder("stagehunt-fuzz-xml-")
_SECRET_FILE = _SECRET_FOLDER.path / "secret.txt"

_text = st.text(alphabet=st.sampled_from(list("ab1 <>&;\"'/=\\é\u2028\x00-")), max_size=12)
_value = st.one_of(_text, st.sampled_from(["&e;", "&lol9;", "&ext;", "&amp;", "&#65;", "&#0;",
                                           "<![CDATA[x]]>", "&#x110000;", "]]>", "&"]))  # fmt: skip


@st.composite
def _event(draw: st.DrawFn) -> str:
    data = "".join(
        f'<Data Name="{draw(st.sampled_from(["CommandLine", "Image", "a b", "", "x"]))}">'
        f"{draw(_value)}</Data>"
        for _ in range(draw(st.integers(0, 3)))
    )
    return (
        '<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System>'
        f"<EventID>{draw(st.sampled_from(['1', '11', '4688', '-1', 'x', '99999999999']))}"
        f"</EventID><Channel>{draw(_value)}</Channel><Computer>{draw(_value)}</Computer>"
        f"<TimeCreated SystemTime='{draw(st.sampled_from(['2024-01-01T00:00:00Z', 'x', '']))}'/>"
        f"<EventRecordID>{draw(st.integers(-1, 5))}</EventRecordID>"
        f"</System><EventData>{data}</EventData></Event>"
    )


def _doctype(kind: int) -> str:
    if kind == 0:
        return ""
    if kind == 1:
        return f'<!DOCTYPE Event [<!ENTITY e "{MARK}">]>'
    if kind == 2:
        laughs = "".join(
            f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10)
        )
        return f'<!DOCTYPE Event [<!ENTITY lol0 "{MARK}">{laughs}]>'
    return f'<!DOCTYPE Event [<!ENTITY ext SYSTEM "file://{_SECRET_FILE}">]>'


@st.composite
def _document(draw: st.DrawFn) -> bytes:
    events = draw(st.lists(_event(), min_size=1, max_size=4))
    text = draw(st.sampled_from(['<?xml version="1.0"?>', ""])) + draw(
        st.sampled_from([_doctype(k) for k in range(4)])
    )
    wrap = draw(st.booleans())
    text += ("<Events>" if wrap else "") + "\n".join(events) + ("</Events>" if wrap else "")
    for at, piece in draw(st.lists(st.tuples(st.integers(0, 5000), _value), max_size=3)):
        i = at % (len(text) + 1)
        text = text[:i] + piece + text[i:]
    encoding = draw(st.sampled_from(["utf-8", "utf-16"]))
    return text.encode(encoding, errors="surrogatepass")


STRATEGY = _document()


def check(data: bytes) -> None:
    _SECRET_FILE.write_text(SECRET, encoding="utf-8")
    with tempfile.TemporaryDirectory(prefix="stagehunt-fuzz-") as tmp:
        path = Path(tmp) / "events.xml"
        path.write_bytes(data)
        with EventStore(in_memory=True) as store:
            report = store.load([path])
            loading.check_report(store, report)
            if not store.schema():
                return
            raw = store.column_for("_raw") if "_raw" in store.schema() else None
            cursor = store.connection.execute("SELECT * FROM events")
            names = [d[0] for d in cursor.description]
            for row in cursor.fetchall():
                for column, value in zip(names, row, strict=True):
                    text = str(value or "")
                    assert SECRET not in text, ("external entity read", column, text)
                    assert MARK * 2 not in text, ("entity expanded", column, text)
                    if column != raw:
                        assert MARK not in text, ("entity expanded", column, text)


if __name__ == "__main__":
    sys.exit(harness.main("xml", STRATEGY, check))
