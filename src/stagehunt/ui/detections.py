"""The detections view: the pack's detections and hunting queries, each run as a search
job, and the search that shows the events behind one hit.

A hit of a ``stats ... by`` detection is a group; its events are the detection's base
search (the text before its first top-level pipe) narrowed by the hit's values of the
fields the events have (``host``, ``Image``, ``CommandLine``...). The values are quoted
as SPL strings, so the drill-down is SPL the compiler reads like any other.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stagehunt.packs import load_pack

#: field names written bare in a drill-down search (others are left out)
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.]*")


@dataclass(frozen=True)
class Runnable:
    """A query the view lists: its name, kind, SPL and the lookups folder it needs."""

    name: str
    kind: str  # "detection" or "hunting"
    description: str
    spl: str
    lookups: Path | None

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "description": self.description,
            "spl": self.spl,
        }


def catalogue(pack_id: str = "T1074") -> dict[str, Runnable]:
    """The pack's detections, then its hunting queries (``hunting/*.spl``), by name."""
    pack = load_pack(pack_id)
    out: dict[str, Runnable] = {}
    for d in pack.detections.values():
        out[d.name] = Runnable(d.name, "detection", d.description, d.spl, d.lookups)
    hunting = pack.folder / str(pack.meta.get("documents", {}).get("hunting", "hunting"))
    lookups = pack.folder / "lookups"
    for path in sorted(hunting.glob("*.spl")):
        spl = path.read_text(encoding="utf-8").rstrip("\n")
        name = f"{pack.id}.hunting.{path.stem}"
        out[name] = Runnable(
            name, "hunting", _first_comment(spl), spl, lookups if lookups.is_dir() else None
        )
    return out


def _first_comment(spl: str) -> str:
    for line in spl.splitlines():
        text = line.strip()
        if text.startswith("```") and text.endswith("```") and len(text) > 6:
            return text.strip("`").strip()
    return ""


def base_search(spl: str) -> str:
    """The text before the first pipe outside quotes, brackets and comments: the events
    a detection starts from (empty for a query that starts with a generating command)."""
    depth = 0
    quoted = False
    i = 0
    while i < len(spl):
        c = spl[i]
        if quoted:
            if c == "\\":
                i += 2
                continue
            if c == '"':
                quoted = False
        elif spl.startswith("```", i):
            end = spl.find("```", i + 3)
            i = len(spl) if end < 0 else end + 3
            continue
        elif c == '"':
            quoted = True
        elif c in "[(":
            depth += 1
        elif c in "])":
            depth -= 1
        elif c == "|" and depth == 0:
            return spl[:i].strip()
        i += 1
    return spl.strip()


def quote(value: str) -> str:
    """An SPL string literal: backslashes and double quotes escaped."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def drilldown(spl: str, hit: Mapping[str, Any], event_fields: Sequence[str]) -> str | None:
    """The search for the events behind ``hit``: the base search AND the hit's single
    values of the events' own fields (a multivalue hit value: any of them). None when the
    detection has no base search."""
    base = base_search(spl)
    if not base:
        return None
    known = set(event_fields)
    terms = []
    for name, value in hit.items():
        if name not in known or not _NAME.fullmatch(name) or value is None:
            continue
        if isinstance(value, list):
            if not value:
                continue
            terms.append("(" + " OR ".join(f"{name}={quote(str(v))}" for v in value) + ")")
        else:
            terms.append(f"{name}={quote(str(value))}")
    return f"({base})" + ("\n" + " ".join(terms) if terms else "")
