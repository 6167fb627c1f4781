"""Printing outcomes: one line per detection, reasons grouped, summaries, JSON records."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from stagehunt.escu.library import Library
from stagehunt.escu.status import Outcome, Status
from stagehunt.result import Value
from stagehunt.spl.errors import SplError

#: status words as printed (``unsupported`` reads "not supported")
LABELS = {
    Status.COMPILED: "compiled",
    Status.UNSUPPORTED: "not supported",
    Status.MISSING: "missing",
    Status.ERROR: "error",
    Status.RAN: "ran",
}


def data_sources(outcome: Outcome) -> str:
    return "; ".join(outcome.detection.data_sources) or "-"


def list_line(outcome: Outcome) -> str:
    """``escu list``: name, type, data sources, status (tab-separated, grep-friendly)."""
    d = outcome.detection
    return "\t".join((d.name, d.type or "-", data_sources(outcome), outcome.describe()))


def status_line(outcome: Outcome) -> str:
    """``escu compile``: status first, then name, then why."""
    label = LABELS[outcome.status]
    line = f"{label:13} {outcome.detection.name}"
    if outcome.status is Status.RAN:
        return f"{line}  ({outcome.rows} rows, {outcome.seconds:.2f} s)"
    if outcome.reason:
        return f"{line}  -- {outcome.reason}"
    return line


def counts(outcomes: Sequence[Outcome]) -> Counter[Status]:
    return Counter(o.status for o in outcomes)


def count_line(outcomes: Sequence[Outcome]) -> str:
    """``1613 detections: 100 compiled, 1508 not supported, 5 missing, 0 errors``."""
    c = counts(outcomes)
    parts = [
        f"{c[s]} {LABELS[s]}{'s' if s is Status.ERROR and c[s] != 1 else ''}"
        for s in Status
        if c[s] or s is not Status.RAN
    ]
    if c[Status.RAN]:
        fired = sum(1 for o in outcomes if o.fired)
        parts.append(f"{fired} fired")
    return f"{detections(len(outcomes))}: " + ", ".join(parts)


def detections(n: int) -> str:
    return f"{n} detection{'s' if n != 1 else ''}"


def grouped(outcomes: Sequence[Outcome], limit: int | None = None) -> list[str]:
    """Reasons by group, most frequent first: ``  876  command tstats``; with the
    detections' names under each group when ``limit`` is 0 or more (at most ``limit``
    names per group, 0 = all)."""
    groups: dict[str, list[Outcome]] = {}
    for o in outcomes:
        if o.group:
            groups.setdefault(o.group, []).append(o)
    lines: list[str] = []
    for group, members in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        lines.append(f"{len(members):5}  {group}")
        if limit is not None:
            shown = members if limit == 0 else members[:limit]
            lines.extend(f"         {o.detection.name}" for o in shown)
            if len(shown) < len(members):
                lines.append(f"         ... and {len(members) - len(shown)} more")
    return lines


def caret(error: SplError, width: int = 100) -> list[str]:
    """The error's one-line message, then the part of its line around the position (at
    most ``width`` characters: ESCU searches are one long line) with a caret under it."""
    start = error.query.rfind("\n", 0, error.pos) + 1
    end = error.query.find("\n", error.pos)
    line = error.query[start : end if end >= 0 else len(error.query)]
    col = error.pos - start
    lo = max(0, min(col - width // 2, len(line) - width))
    hi = min(len(line), lo + width)
    left = "..." if lo > 0 else ""
    right = "..." if hi < len(line) else ""
    return [
        error.one_line(),
        f"  {left}{line[lo:hi]}{right}",
        "  " + " " * (len(left) + col - lo) + "^",
    ]


def record(outcome: Outcome) -> dict[str, object]:
    """One detection for JSON output (rows only as far as they were kept)."""
    d = outcome.detection
    out: dict[str, object] = {
        "name": d.name,
        "id": d.id,
        "type": d.type,
        "data_sources": list(d.data_sources),
        "status": outcome.status.value,
        "rows": outcome.rows,
        "reason": outcome.reason,
        "group": outcome.group,
        "notes": outcome.notes,
        "seconds": round(outcome.seconds, 4),
    }
    if outcome.result is not None:
        results: list[dict[str, Value]] = list(outcome.result.records())
        out["results"] = results
    return out


def show_text(library: Library, outcome: Outcome) -> str:
    """``escu show``: metadata, raw search, expanded SPL, status with a caret."""
    d = outcome.detection
    lines = [
        f"name:         {d.name}",
        f"id:           {d.id or '-'}",
        f"type:         {d.type or '-'}",
        f"status:       {d.status or '-'} (ESCU)",
        f"file:         {d.path.relative_to(library.folder)}",
        f"mitre:        {', '.join(d.mitre) or '-'}",
        "data sources:",
    ]
    known = library.data_sources
    for name in d.data_sources or ("-",):
        source = known.get(name)
        where = f"  (source={source.source}, sourcetype={source.sourcetype})" if source else ""
        lines.append(f"  {name}{where}")
    lines += ["", "search (as shipped):", f"  {d.search.strip()}", ""]
    if outcome.expanded is not None:
        lines += ["search (comments blanked, macros expanded):", f"  {outcome.expanded.strip()}"]
        lines.append("")
    lines.append(f"stagehunt:    {LABELS[outcome.status]}")
    if outcome.reason:
        lines.append(f"reason:       {outcome.reason}")
    if outcome.group:
        lines.append(f"group:        {outcome.group}")
    if outcome.error is not None:
        lines += ["", *caret(outcome.error)]
    for note in outcome.notes:
        lines.append(f"note:         {note}")
    return "\n".join(lines)
