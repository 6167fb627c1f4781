"""Run converted Sigma rules on one store: loaded once, every rule's SPL on it.

The output is what ``hunt`` prints, one row per match with the rule's id, title and level
first: a matched event for a detection rule, a matched group (window, group-by values,
count) for a correlation rule. A query our engine cannot compile or run is recorded on its
rule with the one-line reason; the other rules go on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import duckdb

from stagehunt.api import compile_for, execute
from stagehunt.result import ResultTable, Value
from stagehunt.sigma.convert import Converted, RuleInfo
from stagehunt.spl.errors import SplError
from stagehunt.store.event_store import EventStore

#: Columns put first in every output row.
RULE_COLUMNS = ("sigma_id", "sigma_title", "sigma_level")
#: Event fields shown right after the rule, when present; the others follow sorted by name.
LEAD_FIELDS = ("_time", "host", "source", "EventCode")
#: Not shown: the raw text repeats the fields (``search`` still shows it).
HIDDEN_FIELDS = frozenset({"_raw"})


@dataclass
class RuleRun:
    rule: RuleInfo
    rows: list[dict[str, Value]] = field(default_factory=list)
    #: store positions of the matched events (detection rules); None for correlations
    events: set[int] | None = None
    error: str | None = None

    @property
    def matches(self) -> int:
        """Matched events (detection rule) or matched groups (correlation)."""
        return len(self.events) if self.events is not None else len(self.rows)


def _engine_error(error: Exception) -> str:
    if isinstance(error, SplError):
        return " ".join(error.render().split())
    first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return f"the query failed while running: {first}"


def run_one(converted: Converted, store: EventStore) -> RuleRun:
    run = RuleRun(converted.rule)
    seen: set[int] = set()
    event_rule = True
    for spl in converted.queries:
        try:
            result, events = execute(compile_for(spl, store), store)
        except (SplError, duckdb.Error) as e:
            return RuleRun(converted.rule, error=_engine_error(e))
        if events is None:
            event_rule = False
            run.rows += [dict(zip(result.columns, row, strict=True)) for row in result.rows]
            continue
        for seq, row in zip(events, result.rows, strict=True):
            if seq not in seen:  # several queries of one rule: an event counts once
                seen.add(seq)
                run.rows.append(dict(zip(result.columns, row, strict=True)))
    run.events = seen if event_rule else None
    return run


def run_rules(converted: Sequence[Converted], store: EventStore) -> list[RuleRun]:
    """Run every rule that converted (in the given order)."""
    return [run_one(c, store) for c in converted if c.ok]


def as_table(runs: Sequence[RuleRun]) -> ResultTable:
    """All matches as one table: rule columns, lead fields, then the rest by name."""
    present: set[str] = set()
    for run in runs:
        for row in run.rows:
            present |= {k for k, v in row.items() if v is not None}
    present -= HIDDEN_FIELDS
    lead = [f for f in LEAD_FIELDS if f in present]
    rest = sorted(present - set(lead) - set(RULE_COLUMNS), key=lambda n: (n.lower(), n))
    columns = [*RULE_COLUMNS, *lead, *rest]
    rows: list[tuple[Value, ...]] = []
    for run in runs:
        head: tuple[Value, ...] = (run.rule.id, run.rule.title, run.rule.level or None)
        for row in run.rows:
            rows.append(head + tuple(row.get(c) for c in columns[len(RULE_COLUMNS) :]))
    return ResultTable(columns, rows, "")
