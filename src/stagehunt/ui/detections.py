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
from stagehunt.spl.macros import MacroLibrary
from stagehunt.ui.jobs import Context

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
            "runnable": bool(self.spl),
        }


def catalogue(pack_id: str = "T1074") -> dict[str, Runnable]:
    """The pack's detections, then its hunting queries (``hunting/*.spl``), by name."""
    pack = load_pack(pack_id)
    out: dict[str, Runnable] = {}
    for d in pack.detections.values():
        out[d.name] = Runnable(d.name, "detection", d.description, d.spl, d.lookups)
    hunting = pack.folder / str(pack.meta.get("documents", {}).get("hunting", "hunting"))
    lookups = pack.folder / "lookups"
    questions = _questions(hunting / "README.md")
    for path in sorted(hunting.glob("*.spl")):
        spl = path.read_text(encoding="utf-8").rstrip("\n")
        name = f"{pack.id}.hunting.{path.stem}"
        out[name] = Runnable(
            name,
            "hunting",
            questions.get(path.name, ""),
            spl,
            lookups if lookups.is_dir() else None,
        )
    return out


def sigma_catalogue(pack_id: str = "T1074") -> dict[str, Runnable]:
    """The pack's Sigma rules (``sigma/*.yml``) as the SPL pySigma's Splunk backend makes
    of them (sigma/convert.py, as ``stagehunt sigma`` runs them). A rule that only feeds a
    correlation, or does not convert, is listed with why, and no SPL to run."""
    from stagehunt.sigma.convert import convert_rules
    from stagehunt.sigma.rules import load_rules

    pack = load_pack(pack_id)
    folder = pack.folder / "sigma"
    if not folder.is_dir():
        return {}
    out: dict[str, Runnable] = {}
    for converted in convert_rules(load_rules([folder]).collection.rules):
        rule = converted.rule
        name = f"sigma: {rule.title}"
        if converted.ok:
            text = f"{rule.level} · {Path(rule.path).name}"
            out[name] = Runnable(name, "sigma", text, converted.queries[0], None)
        else:
            why = "feeds a correlation" if converted.feeds else "does not convert"
            out[name] = Runnable(name, "sigma", f"{why}: not run alone", "", None)
    return out


class EscuCatalogue:
    """Splunk's ESCU detections from a security_content folder (``stagehunt escu``'s
    library): listed by name, each run with its macros expanded, the content's lookups
    and the bundled add-ons' fields and data models, as ``stagehunt escu run`` compiles
    them (the add-on layer built inside each statement, not prepared once per run)."""

    def __init__(self, folder: Path) -> None:
        from stagehunt.escu.library import load_library

        self.library = load_library(folder)
        self.by_name = {f"escu: {d.name}": d for d in self.library.detections}

    def runnables(self) -> dict[str, Runnable]:
        out = {}
        for name, d in self.by_name.items():
            text = " ".join(d.description.split())
            text = text if len(text) <= 240 else text[:239] + "…"
            out[name] = Runnable(name, "escu", f"{d.type} · {text}", d.search, None)
        return out

    def search(self, name: str) -> tuple[str, Context]:
        """The detection's SPL, macros expanded, and how it compiles. Raises SplError (an
        unknown macro included) when it cannot be expanded."""
        from stagehunt.escu.compiler import expand

        spl = expand(self.library, self.by_name[name])
        lookups = self.library.lookups.library
        return spl, Context(MacroLibrary(), lookups.view, self.library.knowledge)


def _questions(readme: Path) -> dict[str, str]:
    """The README's table: file → the question the query answers (its second column)."""
    if not readme.is_file():
        return {}
    out = {}
    for line in readme.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and cells[0].startswith("`") and cells[0].endswith(".spl`"):
            out[cells[0].strip("`")] = cells[1].replace("`", "")
    return out


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
