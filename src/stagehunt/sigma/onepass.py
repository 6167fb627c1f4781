"""Many row filters over the events: one lean statement each, or 63 per statement (issue 14).

Why: SigmaHQ's Windows library is ~2,400 rules, nearly all of which keep or drop each
event on its own (`compile.predicate.row_filter`). Run as a full statement each, every rule
carried all of a store's fields through three CTEs (~17 KB of SQL, ~25 ms of DuckDB
planning). A row filter's terms run instead as ``SELECT "__seq" FROM events WHERE <terms>``
(strategy ``alone``), reading only the rule's columns, or 63 rules per statement (strategy
``mask``), each event getting a bit mask of the rules it matches:

    SELECT s, m FROM (SELECT "__seq" AS s, (<mask>)::BIGINT AS m FROM events) WHERE m <> 0

    <mask> = CASE WHEN <shared term> THEN (CASE WHEN <rule 0's other terms> THEN 1 ELSE 0 END)
                                        | (CASE WHEN <rule 1's other terms> THEN 2 ELSE 0 END)
             ELSE 0 END | ...

In a mask the most shared term (a log source's ``Channel``/``EventCode``) is tested once
for the rules that have it (`mask`); a ``THEN`` is evaluated only on the rows its ``WHEN``
holds for, and a NULL ``WHEN`` takes the ``ELSE``, as a ``WHERE`` drops a NULL: a bit is set
exactly when the rule's filter is true. Measured over SigmaHQ's Windows rules and 100k real
events (bench/RESULTS.md) the masks gave the same matches in 111.6 s against 60.8 s for
one statement per rule (most events are process creations, which ~1,000 rules all read;
a statement per rule lets DuckDB push and order each rule's terms as filters), hence
`DEFAULT`. Either way: filters are sorted by their terms and taken 63 at a time (progress
is reported per batch); a filter with a ``FALSE`` term matches nothing and is not run
(fields the store lacks compile to ``FALSE``); a batch whose statement fails is rerun one
filter per statement, so an error is that rule's alone; the lowercase of a column the
terms compare is computed once per event (``"__lower:<column>"``,
`compile.predicate.share_lower`).

Statements are assembled from SQL the compiler rendered (each term a complete,
parenthesised expression; `compile.predicate`), joined only with ``AND``, ``CASE`` and
``|``; column names are quoted identifiers: no user text is pasted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field

import duckdb

from stagehunt.compile.predicate import LOWER_PREFIX

#: Rules per statement: one bit each of a BIGINT mask (the sign bit left alone).
BATCH = 63
#: ``alone``: one lean statement per rule; ``mask``: one statement per batch (below).
STRATEGIES = ("alone", "mask")
#: Measured on SigmaHQ's Windows rules over 100k real events (bench/RESULTS.md).
DEFAULT = "alone"


class _OneByOne(Exception):
    """Evaluate this batch one filter per statement."""


#: A term that makes a conjunction false whatever the event.
FALSE = "FALSE"


@dataclass(frozen=True)
class Filter:
    """One rule's row filter: the terms of its ``AND`` (rendered SQL over the table)."""

    key: Hashable
    terms: tuple[str, ...]
    #: columns whose lowercase the terms read as ``"__lower:<column>"``
    #: (`compile.predicate.share_lower`): computed once per event
    lowered: tuple[str, ...] = ()


@dataclass
class Outcome:
    """Matched store positions by rule key, and the rules whose filter failed (why)."""

    matches: dict[Hashable, set[int]] = field(default_factory=dict)
    errors: dict[Hashable, duckdb.Error] = field(default_factory=dict)
    statements: int = 0


def _conjunction(terms: Sequence[str]) -> str:
    return " AND ".join(terms) if terms else "TRUE"


def mask(items: Sequence[tuple[frozenset[str], int]]) -> str:
    """A BIGINT whose bit ``b`` is set when every term of the item with bit ``b`` holds.

    The most shared term is tested once for all the items that have it (``CASE WHEN t THEN
    <their mask without t> ELSE 0 END``); DuckDB evaluates a ``THEN`` only on the rows its
    ``WHEN`` holds for. A ``WHEN`` that is NULL takes the ``ELSE``, as ``WHERE`` drops a NULL.
    """
    parts: list[str] = []
    pending = list(items)
    while pending:
        counts = Counter(term for terms, _ in pending for term in terms)
        best = min(counts.items(), key=lambda kv: (-kv[1], kv[0]), default=None)
        if best is None or best[1] < 2:
            for terms, bit in pending:
                value = str(1 << bit)
                parts.append(
                    f"CASE WHEN {_conjunction(sorted(terms))} THEN {value} ELSE 0 END"
                    if terms
                    else value
                )
            break
        term = best[0]
        inner = [(terms - {term}, bit) for terms, bit in pending if term in terms]
        pending = [(terms, bit) for terms, bit in pending if term not in terms]
        parts.append(f"CASE WHEN {term} THEN {mask(inner)} ELSE 0 END")
    return " | ".join(f"({p})" for p in parts) if len(parts) > 1 else parts[0]


def batch_sql(filters: Sequence[Filter], table: str, seq: str) -> str:
    """One statement: (store position, bit mask of the ``filters`` it matches) for every
    event that matches one (bit ``i`` is ``filters[i]``; at most `BATCH` filters)."""
    assert 0 < len(filters) <= BATCH
    m = mask([(frozenset(f.terms), i) for i, f in enumerate(filters)])
    source = _source(table, [c for f in filters for c in f.lowered])
    return (
        f"SELECT s, m FROM (SELECT {_quote(seq)} AS s, ({m})::BIGINT AS m"
        f" FROM {source}) WHERE m <> 0"
    )


def _source(table: str, lowered: Sequence[str]) -> str:
    """The table, with the lowercase of each ``lowered`` column beside it."""
    if not lowered:
        return _quote(table)
    extra = ", ".join(
        f"LOWER({_quote(c)}) AS {_quote(LOWER_PREFIX + c)}" for c in sorted(set(lowered))
    )
    return f"(SELECT *, {extra} FROM {_quote(table)}) AS {_quote(table)}"


def single_sql(f: Filter, table: str, seq: str) -> str:
    source = _source(table, f.lowered)
    return f"SELECT {_quote(seq)} FROM {source} WHERE {_conjunction(f.terms)}"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def evaluate(
    con: duckdb.DuckDBPyConnection,
    filters: Sequence[Filter],
    table: str,
    seq: str,
    batch: int = BATCH,
    progress: Callable[[int, int], None] | None = None,
    *,
    strategy: str = DEFAULT,
) -> Outcome:
    """Every filter's matches over ``table``: a statement per filter (``alone``) or per
    batch of filters (``mask``); see the module docstring for which is faster where.
    ``progress(done, total)`` is called after each batch (counts of filters)."""
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r} (one of {', '.join(STRATEGIES)})")
    out = Outcome()
    live: list[Filter] = []
    for f in filters:
        if FALSE in f.terms:
            out.matches[f.key] = set()
        else:
            live.append(f)
    live.sort(key=lambda f: f.terms)
    done = len(filters) - len(live)
    for start in range(0, len(live), batch):
        chunk = live[start : start + batch]
        for f in chunk:
            out.matches[f.key] = set()
        try:
            if strategy == "alone":
                raise _OneByOne
            out.statements += 1
            rows = con.execute(batch_sql(chunk, table, seq)).fetchall()
        except (duckdb.Error, _OneByOne):
            for f in chunk:
                try:
                    out.statements += 1
                    found = con.execute(single_sql(f, table, seq)).fetchall()
                except duckdb.Error as e:
                    del out.matches[f.key]
                    out.errors[f.key] = e
                    continue
                out.matches[f.key] = {int(r[0]) for r in found}
        else:
            for seq_, bits in rows:
                for i, f in enumerate(chunk):
                    if bits >> i & 1:
                        out.matches[f.key].add(int(seq_))
        done += len(chunk)
        if progress is not None:
            progress(done, len(filters))
    return out
