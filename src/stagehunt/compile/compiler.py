"""Pipeline → one SQL statement (a chain of CTEs).

The compiler walks the commands left to right, turning the current :class:`Relation`
into the next; what each command does is in its module under ``compile/commands/``.
Splunk's result order is carried in hidden columns (``__t``, ``__seq``) so that
order-sensitive commands (head, dedup, first/last, sort ties) see what Splunk sees.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from sqlglot import exp

from stagehunt import semantics
from stagehunt.compile import dialects, emptiness
from stagehunt.compile import knowledge as knowledge_layer
from stagehunt.compile import sqlfn as q
from stagehunt.compile.commands import GENERATORS, TRANSFORMS, is_streaming
from stagehunt.compile.kinds import Kind, kind_of_column
from stagehunt.compile.ordering import ordered
from stagehunt.compile.outputs import DeferredTable, LookupOutput
from stagehunt.compile.prepared import PreparedTable
from stagehunt.compile.reads import ALWAYS_READ, fields_read
from stagehunt.compile.relation import (
    SEQ,
    TIME_KEY,
    Field,
    QueryBuilder,
    Relation,
    alias_for,
    materialize,
    parenthesize,
    referenced_names,
)
from stagehunt.compile.search import time_range
from stagehunt.knowledge import Knowledge
from stagehunt.knowledge import bundled as bundled_knowledge
from stagehunt.lookups import LookupLibrary, LookupTable
from stagehunt.recursion import ensure_room
from stagehunt.spl import ast
from stagehunt.spl.errors import SplSemanticError, SplUnsupportedError
from stagehunt.spl.macros import MacroLibrary
from stagehunt.store.schema import EVENTS_TABLE, SEQ_COLUMN, ColumnKind


@dataclass(frozen=True)
class OutputColumn:
    name: str
    kind: Kind
    pinned: bool  # shown even when every value is null (named by `table`)


@dataclass(frozen=True)
class CompiledQuery:
    sql: exp.Expression
    columns: tuple[OutputColumn, ...]
    #: lookup tables the statement reads; register them on the connection before running
    tables: tuple[LookupTable, ...] = ()
    #: False for pipelines that start with a generating command (makeresults, inputlookup)
    reads_events: bool = True
    #: True when every result row is one stored event: the statement then selects the
    #: event's store position (``__seq``) after the visible columns
    event_rows: bool = False
    #: ``[earliest, latest)`` of the leading search (None: unbounded): storage may prune
    time_range: tuple[float | None, float | None] = (None, None)
    #: lookups ``outputlookup`` writes once the statement has run (in pipeline order)
    outputs: tuple[LookupOutput, ...] = ()
    #: tables built from the data before the statement runs (in pipeline order)
    deferred: tuple[DeferredTable, ...] = ()
    #: data model datasets (``Model.Dataset``) the statement reads from prepared tables
    datasets: tuple[str, ...] = ()
    #: the statement as DuckDB SQL when it was read back from a cache of compiled
    #: statements (escu/cache.py): ``sql`` is then an empty SELECT and the text runs as
    #: it is (only statements that need nothing else are kept there)
    text: str | None = None
    #: DuckDB SQL that returns no row only when the statement returns none, run first
    #: where most statements return nothing (a library run, compile/emptiness.py); never
    #: set for a statement with effects besides its rows
    empty_check: str | None = None

    def with_duckdb_text(self) -> CompiledQuery:
        """This query with its DuckDB SQL as `text` and its `empty_check`, the statement
        pruned once for both (what a cache of statements keeps)."""
        if self.text is not None:
            return self
        pruned = dialects.for_dialect(self.sql, "duckdb")
        own = pruned is not self.sql
        text = dialects.generate(pruned, own=own)
        return replace(self, text=text, empty_check=self._empty_check(pruned, own))

    def _empty_check(self, pruned: exp.Expression, own: bool) -> str | None:
        """The check of the statement ``pruned`` (its DuckDB tree), when it may have one.
        The check only saves time: should working it out fail, the statement runs."""
        if not self._checkable():
            return None
        try:
            return emptiness.check_text(pruned, own=own)
        except Exception:  # an optimisation's failure is no detection's
            return None

    def _checkable(self) -> bool:
        """Whether an empty check may stand for running the statement: not when it has
        effects besides its rows (``outputlookup``, tables built first)."""
        return not (self.outputs or self.deferred)

    def render(self, dialect: str = "duckdb", pretty: bool = False) -> str:
        """SQL text for ``dialect`` (``duckdb`` or ``spark``; see :mod:`.dialects`)."""
        if self.text is not None:
            if dialect != "duckdb":
                raise ValueError(f"a cached statement is DuckDB SQL, not {dialect}")
            return self.text
        return dialects.render(self.sql, dialect, pretty)


#: Runs a compiled statement on the engine the query is compiled for (Compiler.probe).
Probe = Callable[[CompiledQuery], list[tuple[object, ...]]]


class Compiler:
    def __init__(
        self,
        schema: Mapping[str, ColumnKind],
        *,
        table: str = EVENTS_TABLE,
        physical: Mapping[str, str] | None = None,
        now: float | None = None,
        lookups: LookupLibrary | None = None,
        knowledge: Knowledge | None = None,
        probe: Probe | None = None,
        macros: MacroLibrary | None = None,
        datasets: Mapping[str, PreparedTable] | None = None,
    ) -> None:
        self.schema = dict(schema)
        #: data model datasets the engine holds as tables (compile/prepared.py), by
        #: ``Model.Dataset``; the others are built from the events
        self.datasets: Mapping[str, PreparedTable] = datasets if datasets is not None else {}
        self.datasets_read: list[str] = []
        #: expands macros in search text found while compiling (map's template)
        self.macros = macros or MacroLibrary()
        #: runs a statement on the data while compiling (chart/timechart split-by columns);
        #: None when compiling without an engine
        self._probe = probe
        #: add-ons and data models applied at search time (None: events as stored)
        self.knowledge = knowledge
        self._base: Relation | None = None
        self._stored: Relation | None = None
        self.lookups = lookups or LookupLibrary(None)
        self.table = table
        self.physical = dict(physical or {})
        self.now = time.time() if now is None else now
        self.b = QueryBuilder()
        self.query = ""
        self.reads_events = False
        self.event_rows = False
        self.time_range: tuple[float | None, float | None] = (None, None)
        #: event fields the statement can read (None: any; see compile/reads.py)
        self.reads: frozenset[str] | None = None
        self.outputs: list[LookupOutput] = []
        self.deferred: list[DeferredTable] = []

    def error(self, message: str, pos: int) -> SplSemanticError:
        return SplSemanticError(message, pos, self.query)

    def probe(self, select: exp.Select, what: str, pos: int) -> list[tuple[object, ...]]:
        """Rows of ``select`` over this statement's CTEs so far, run on the data now:
        for output columns named by values (chart ... by). Refused without an engine."""
        if self._probe is None:
            raise SplUnsupportedError(
                f"{what} names its columns after the data's values: it compiles only "
                "against data (run it, or --explain it on an engine)",
                pos,
                self.query,
            )
        for name, cte in self.b.ctes:
            select = select.with_(exp.to_identifier(name), as_=cte.copy(), copy=False)
        statement = CompiledQuery(
            parenthesize(select),
            (),
            tuple(self.lookups.loaded()),
            self.reads_events,
            deferred=tuple(self.deferred),
        )
        return self._probe(statement)

    # ------------------------------------------------------------------ entry
    def compile(self, pipeline: ast.Pipeline) -> CompiledQuery:
        ensure_room()  # expressions compile recursively, one call per level of nesting
        self.query = pipeline.text
        first = pipeline.commands[0]
        if isinstance(first, ast.SearchCmd):
            self.time_range = time_range(first.expr, self.now)
        self.event_rows = type(first) not in GENERATORS
        self.reads = fields_read(pipeline)
        rel = self.pipeline(pipeline)
        if any(not _keeps_events(cmd) for cmd in pipeline.commands):
            self.event_rows = False
        return self.finish(rel)

    def pipeline(self, pipeline: ast.Pipeline) -> Relation:
        """The results of a (sub)pipeline, as CTEs of this statement: a generating
        command starts it, otherwise the stored events in search order."""
        first, *rest = pipeline.commands
        generate = GENERATORS.get(type(first))
        if generate is not None:
            rel: Relation = generate(self, first)
        else:
            rel = self.base()
            rest = [first, *rest]
        for cmd in rest:
            rel = self.command(rel, cmd)
        return rel

    def base(self) -> Relation:
        """All stored events in search order: newest first, ties in stored order (1.4),
        with the add-ons' search-time fields when there is knowledge (K1). Built once per
        statement: every pipeline that reads events starts from the same CTEs."""
        if self._base is not None:
            return self._base
        inline = self.knowledge is not None and bool(self.knowledge.addons)
        if self.reads is not None and not inline:
            # later commands name every field they read: carry only those
            keep = self.reads | ALWAYS_READ
            schema = {name: kind for name, kind in self.schema.items() if name in keep}
            self.reads_events = True
            self._base = self.table_relation(self.table, schema, self.physical)
            return self._base
        base = self.events()
        if self.knowledge is not None:
            base = knowledge_layer.apply(self, base, self.knowledge, self.reads)
        if self.reads is not None:
            keep = self.reads | ALWAYS_READ
            base = replace(base, fields=tuple(f for f in base.fields if f.name in keep))
        self._base = base
        return self._base

    def events(self) -> Relation:
        """The stored events as they are, in search order (built once per statement)."""
        self.reads_events = True
        if self._stored is None:
            self._stored = self._events()
        return self._stored

    def reuse(self, ctes: list[tuple[str, exp.Select]], stored: Relation | None) -> None:
        """Start this statement with CTEs an earlier statement built from the same events
        (compile/datamodel.py caches a dataset's rows: they do not depend on the query);
        they must be parenthesised already (:func:`.relation.parenthesize`)."""
        assert not self.b.ctes, "only a statement's first CTEs can be reused"
        self.b.ctes.extend(ctes)
        self.b.done.update(id(select) for _, select in ctes)
        if stored is not None:
            self.reads_events = True
            self._stored = stored

    def data_knowledge(self) -> Knowledge:
        """What data model commands (tstats, datamodel, from) read: the caller's knowledge,
        else the bundled add-ons and CIM models (docs/cim.md D1)."""
        return self.knowledge if self.knowledge is not None else bundled_knowledge()

    def _events(self) -> Relation:
        return self.table_relation(self.table, self.schema, self.physical)

    def table_relation(
        self, table: str, schema: Mapping[str, ColumnKind], physical: Mapping[str, str]
    ) -> Relation:
        """The rows of an event-like table (stored events, or a prepared table: see
        compile/prepared.py) in search order: newest first, ties in stored order (1.4)."""
        taken: set[str] = {TIME_KEY, SEQ}
        fields: list[Field] = []
        select: list[exp.Expression] = []
        names = sorted(schema, key=lambda n: (n != "_time", n == "_raw"))
        for name in names:
            alias = alias_for(name, taken)
            fields.append(Field(name, alias, kind_of_column(schema[name])))
            select.append(q.alias(q.col(physical.get(name, name)), q.ident(alias)))
        time_sql = q.col(physical.get("_time", "_time")) if "_time" in schema else exp.Null()
        select.append(q.alias(time_sql, q.ident(TIME_KEY)))
        select.append(q.alias(q.col(SEQ_COLUMN), q.ident(SEQ)))
        source = self.b.add(q.select(*select).from_(exp.to_identifier(table), copy=False))
        order = (
            ordered(q.col(TIME_KEY), semantics.SEARCH_ORDER_NEWEST_FIRST),
            ordered(q.col(SEQ), False),
        )
        return Relation(source, tuple(fields), order, (TIME_KEY, SEQ))

    def command(self, rel: Relation, cmd: ast.Command) -> Relation:
        """Apply one command to the results so far (its module in compile/commands/)."""
        entry = TRANSFORMS.get(type(cmd))
        if entry is not None:
            if rel.dynamic:  # fields named at run time become fields before a command uses them
                rel = materialize(self.b, rel, referenced_names(cmd))
            result: Relation = entry.run(self, rel, cmd)
            return result
        if type(cmd) in GENERATORS:
            name = type(cmd).__name__.removesuffix("Cmd").lower()
            raise self.error(f"{name} must be the first command", cmd.pos)
        raise SplUnsupportedError(
            f"command {type(cmd).__name__} is not supported", cmd.pos, self.query
        )

    def finish(self, rel: Relation) -> CompiledQuery:
        select = q.select(*[q.alias(q.col(f.alias), q.ident(f.name)) for f in rel.fields])
        if not rel.fields:
            select = q.select(q.alias(exp.Null(), q.ident("__empty")))
        if self.event_rows:
            select = select.select(q.alias(q.col(SEQ), q.ident("__event")), copy=False)
        select = select.from_(exp.to_identifier(rel.source), copy=False)
        if rel.order:
            select = select.order_by(*[q.own(o) for o in rel.order], copy=False)
        columns = tuple(OutputColumn(f.name, f.kind, f.name in rel.pinned) for f in rel.fields)
        return CompiledQuery(
            self.b.build(select),
            columns,
            tuple(self.lookups.loaded()),
            self.reads_events,
            self.event_rows,
            self.time_range,
            tuple(self.outputs),
            tuple(self.deferred),
            tuple(self.datasets_read),
        )


def _keeps_events(cmd: ast.Command) -> bool:
    """Whether every result after ``cmd`` is still one stored event (table keeps them too)."""
    return is_streaming(cmd) or isinstance(cmd, ast.TableCmd)
