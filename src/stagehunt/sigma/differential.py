"""Differential check: our engine against an independent one on the same events.

Both sides start from the same Sigma rules and the same stored events (every EVTX under a
folder, read by our ingest into one store). Ours: pySigma's Splunk backend -> SPL -> our
engine on DuckDB. Theirs: pySigma's SQLite backend -> SQL -> SQLite, over one flat table
``logs`` built from the store the way Zircolite builds its table (one TEXT COLLATE NOCASE
column per field, a multivalue field as its first value, ``REGEXP`` as Python's ``re.search``).
Each (rule, event) pair gets a verdict from each side; the report gives the agreement rate
and every rule where the matched event sets differ, with the events.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sigma.backends.sqlite import sqliteBackend
from sigma.rule import SigmaRule

from stagehunt.ingest.options import IngestOptions
from stagehunt.sigma.convert import Converted, convert_rules
from stagehunt.sigma.pipelines import sqlite_pipeline
from stagehunt.sigma.rules import load_rules
from stagehunt.sigma.run import run_one
from stagehunt.store.event_store import EventStore
from stagehunt.store.schema import EVENTS_TABLE, SEQ_COLUMN, is_hidden

DEFAULT_CATEGORIES = ("process_creation", "file_event")
EVENT_KEY = "sh_event"
#: Fields shown for a disagreeing event.
SHOWN = ("EventID", "Image", "CommandLine", "ParentImage", "TargetFilename", "OriginalFileName")


@dataclass
class RuleDiff:
    rule: str
    title: str
    ours: set[int]
    theirs: set[int]

    @property
    def only_ours(self) -> set[int]:
        return self.ours - self.theirs

    @property
    def only_theirs(self) -> set[int]:
        return self.theirs - self.ours


@dataclass
class DiffResult:
    events: int
    files: int
    compared: list[RuleDiff] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (rule, why)
    details: dict[int, dict[str, str]] = field(default_factory=dict)

    @property
    def verdicts(self) -> int:
        return self.events * len(self.compared)

    @property
    def disagreements(self) -> int:
        return sum(len(d.only_ours) + len(d.only_theirs) for d in self.compared)


def _regexp(pattern: str, value: object) -> bool:
    return value is not None and re.search(pattern, str(value)) is not None


def connect_sqlite(path: str = ":memory:") -> sqlite3.Connection:
    """A SQLite connection with ``REGEXP`` as Zircolite defines it (Python's ``re.search``)."""
    con = sqlite3.connect(path)
    con.create_function("REGEXP", 2, _regexp, deterministic=True)
    return con


def sqlite_table(
    store: EventStore, path: str = ":memory:", key: str = EVENT_KEY
) -> sqlite3.Connection:
    """The store's events as one SQLite table ``logs`` (Zircolite's layout), in store
    order, each row's ``key`` its ``__seq``; read from DuckDB in batches."""
    con = connect_sqlite(path)
    names: list[str] = []
    taken: set[str] = {key.lower()}
    # SQLite column names are case-insensitive: on a clash (`User` / CIM alias `user`) the
    # capitalised Windows name is kept
    for name in sorted(store.schema(), key=lambda n: (not n[:1].isupper(), n)):
        if is_hidden(name) or name.lower() in taken:
            continue
        taken.add(name.lower())
        names.append(name)
    cols = ", ".join(f'"{n.replace(chr(34), chr(34) * 2)}" TEXT COLLATE NOCASE' for n in names)
    con.execute(f"CREATE TABLE logs ({key} INTEGER PRIMARY KEY, {cols})")
    physical = ['"' + store.column_for(n).replace('"', '""') + '"' for n in names]
    sql = f'SELECT "{SEQ_COLUMN}", {", ".join(physical)} FROM {EVENTS_TABLE} ORDER BY 1'
    marks = ", ".join("?" * (len(names) + 1))
    for batch in store.connection.cursor().sql(sql).to_arrow_reader(50_000):
        columns = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
        rows = [(r[0], *map(_flat, r[1:])) for r in zip(*columns, strict=True)]
        con.executemany(f"INSERT INTO logs VALUES ({marks})", rows)
    con.commit()
    return con


def _flat(v: object) -> object:
    """A stored value as Zircolite's table holds it: text, the first of several values."""
    if isinstance(v, list):
        return v[0] if v else None
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return None if v is None else str(v)


def _selected(rules: Sequence[object], categories: Sequence[str]) -> list[SigmaRule]:
    return [
        r
        for r in rules
        if isinstance(r, SigmaRule)
        and r.logsource.product == "windows"
        and r.logsource.category in categories
    ]


def sqlite_queries(rules: Sequence[SigmaRule]) -> dict[int, str | Exception]:
    """Each rule (by ``id``) as pySigma's SQLite backend writes it (the Zircolite way), or
    why it does not convert to one query."""
    out: dict[int, str | Exception] = {}
    backend = sqliteBackend(sqlite_pipeline(), collect_errors=True)
    for rule in rules:
        seen = len(backend.errors)
        try:
            queries = backend.convert_rule(rule)
        except Exception as e:
            out[id(rule)] = e
            continue
        if len(backend.errors) > seen:
            out[id(rule)] = backend.errors[-1][1]
        elif len(queries) != 1:
            out[id(rule)] = ValueError(f"{len(queries)} SQL queries")
        else:
            out[id(rule)] = str(queries[0])
    return out


def differential(data: Path, rule_dirs: Sequence[Path], categories: Sequence[str]) -> DiffResult:
    files = sorted(p for p in data.rglob("*") if p.suffix.lower() == ".evtx" and p.is_file())
    ruleset = load_rules(list(rule_dirs))
    rules = _selected(ruleset.collection.rules, categories)
    ours_conv: dict[int, Converted] = {
        id(r): c for r, c in zip(rules, convert_rules(rules), strict=True)
    }
    theirs_sql = sqlite_queries(rules)
    with EventStore(in_memory=True) as store:
        store.load(files, IngestOptions())
        total = store.connection.execute(f"SELECT count(*) FROM {EVENTS_TABLE}").fetchone()
        result = DiffResult(int(total[0]) if total else 0, len(files))
        lite = sqlite_table(store)
        for rule in rules:
            label = f"{rule.title} ({rule.id})"
            conv, sql = ours_conv[id(rule)], theirs_sql[id(rule)]
            if not conv.ok:
                result.skipped.append((label, f"Splunk backend: {conv.reason}"))
                continue
            if isinstance(sql, Exception):
                result.skipped.append((label, f"SQLite backend: {type(sql).__name__}: {sql}"))
                continue
            run = run_one(conv, store)
            if run.error is not None or run.events is None:
                result.skipped.append((label, f"our engine: {run.error}"))
                continue
            try:
                cur = lite.execute(sql)
            except sqlite3.Error as e:
                result.skipped.append((label, f"SQLite: {e}"))
                continue
            key = [d[0] for d in cur.description].index(EVENT_KEY)
            theirs = {int(row[key]) for row in cur.fetchall()}
            diff = RuleDiff(str(rule.id), rule.title or "", set(run.events), theirs)
            result.compared.append(diff)
        wanted = sorted({e for d in result.compared for e in d.only_ours | d.only_theirs})
        cols = ", ".join(f'"{c}"' for c in SHOWN if c.lower() in _columns(lite))
        for seq in wanted:
            cur = lite.execute(f"SELECT {cols} FROM logs WHERE {EVENT_KEY} = ?", (seq,))
            row = cur.fetchone()
            result.details[seq] = {d[0]: v for d, v in zip(cur.description, row, strict=True) if v}
        lite.close()
    return result


def _columns(con: sqlite3.Connection) -> set[str]:
    return {row[1].lower() for row in con.execute("PRAGMA table_info(logs)")}


def report_lines(result: DiffResult) -> list[str]:
    lines = [
        f"{result.files} EVTX files, {result.events} events; {len(result.compared)} rules compared,"
        f" {len(result.skipped)} not compared",
    ]
    for label, why in result.skipped:
        lines.append(f"  not compared: {label}: {why}")
    agree = result.verdicts - result.disagreements
    rate = 100 * agree / result.verdicts if result.verdicts else 100.0
    same = sum(1 for d in result.compared if d.ours == d.theirs)
    fired = sum(1 for d in result.compared if d.ours or d.theirs)
    lines.append(
        f"(rule, event) verdicts: {result.verdicts}; agree {agree} ({rate:.4f}%);"
        f" disagree {result.disagreements}"
    )
    matched = sum(len(d.ours | d.theirs) for d in result.compared)
    both = sum(len(d.ours & d.theirs) for d in result.compared)
    lines.append(
        f"matched pairs (either side): {matched}; on both sides {both};"
        f" rules with identical event sets {same}/{len(result.compared)}"
        f" ({fired} fired on either side)"
    )
    for d in result.compared:
        if d.ours == d.theirs:
            continue
        lines.append(f"DIFF {d.title} ({d.rule}): ours {len(d.ours)}, SQLite {len(d.theirs)}")
        for side, events in (("only ours", d.only_ours), ("only SQLite", d.only_theirs)):
            for e in sorted(events):
                shown = "; ".join(f"{k}={v}" for k, v in result.details.get(e, {}).items())
                lines.append(f"  {side}: event {e}: {shown}")
    return lines
