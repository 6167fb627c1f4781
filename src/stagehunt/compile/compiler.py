"""Pipeline → one SQL statement (a chain of CTEs), one method per command.

The compiler walks the commands left to right, turning the current :class:`Relation`
into the next. Splunk's result order is carried in hidden columns (``__t``, ``__seq``)
so that order-sensitive commands (head, dedup, first/last, sort ties) see what Splunk sees.
"""

from __future__ import annotations

import fnmatch
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace

from sqlglot import exp

from stagehunt import semantics
from stagehunt.compile import binning, dialects, multisearch, regex
from stagehunt.compile import sqlfn as q
from stagehunt.compile.eval import ExprCompiler
from stagehunt.compile.kinds import NULL, Kind, Typed, kind_of_column
from stagehunt.compile.lookup import LookupCompiler
from stagehunt.compile.ordering import ordered, row_number, sort_keys
from stagehunt.compile.relation import SEQ, TIME_KEY, Field, QueryBuilder, Relation, alias_for
from stagehunt.compile.search import SearchCompiler, time_range
from stagehunt.compile.stats import StatsCompiler
from stagehunt.lookups import LookupLibrary, LookupTable
from stagehunt.spl import ast
from stagehunt.spl.errors import SplSemanticError, SplUnsupportedError
from stagehunt.store.schema import EVENTS_TABLE, SEQ_COLUMN, ColumnKind

RN = "__rn"


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

    def render(self, dialect: str = "duckdb", pretty: bool = False) -> str:
        """SQL text for ``dialect`` (``duckdb`` or ``spark``; see :mod:`.dialects`)."""
        return dialects.render(self.sql, dialect, pretty)


class Compiler:
    def __init__(
        self,
        schema: Mapping[str, ColumnKind],
        *,
        table: str = EVENTS_TABLE,
        physical: Mapping[str, str] | None = None,
        now: float | None = None,
        lookups: LookupLibrary | None = None,
    ) -> None:
        self.schema = dict(schema)
        self.lookups = lookups or LookupLibrary(None)
        self.table = table
        self.physical = dict(physical or {})
        self.now = time.time() if now is None else now
        self.b = QueryBuilder()
        self.query = ""
        self.reads_events = False
        self.event_rows = False
        self.time_range: tuple[float | None, float | None] = (None, None)

    def error(self, message: str, pos: int) -> SplSemanticError:
        return SplSemanticError(message, pos, self.query)

    # ------------------------------------------------------------------ entry
    def compile(self, pipeline: ast.Pipeline) -> CompiledQuery:
        self.query = pipeline.text
        first, *rest = pipeline.commands
        if isinstance(first, ast.SearchCmd):
            self.time_range = time_range(first.expr, self.now)
        if isinstance(first, ast.MakeresultsCmd):
            rel = self.makeresults(first)
        elif isinstance(first, ast.InputlookupCmd):
            rel = LookupCompiler(self.b, self.lookups, self.query).inputlookup(first)
        elif isinstance(first, ast.MultisearchCmd):
            rel = self.multisearch(first)
        else:
            rel = self.base()
            rest = [first, *rest]
            self.event_rows = True
        for cmd in rest:
            if not isinstance(cmd, (*multisearch.STREAMING, ast.TableCmd)):
                self.event_rows = False
            rel = self.command(rel, cmd)
        return self.finish(rel)

    def base(self) -> Relation:
        """All stored events in search order: newest first, ties in stored order (1.4)."""
        self.reads_events = True
        taken: set[str] = {TIME_KEY, SEQ}
        fields: list[Field] = []
        select: list[exp.Expression] = []
        names = sorted(self.schema, key=lambda n: (n != "_time", n == "_raw"))
        for name in names:
            alias = alias_for(name, taken)
            fields.append(Field(name, alias, kind_of_column(self.schema[name])))
            select.append(exp.alias_(q.col(self.physical.get(name, name)), q.ident(alias)))
        time_sql = (
            q.col(self.physical.get("_time", "_time")) if "_time" in self.schema else exp.Null()
        )
        select.append(exp.alias_(time_sql, q.ident(TIME_KEY)))
        select.append(exp.alias_(q.col(SEQ_COLUMN), q.ident(SEQ)))
        source = self.b.add(exp.select(*select).from_(exp.to_identifier(self.table)))
        order = (
            ordered(q.col(TIME_KEY), semantics.SEARCH_ORDER_NEWEST_FIRST),
            ordered(q.col(SEQ), False),
        )
        return Relation(source, tuple(fields), order, (TIME_KEY, SEQ))

    def makeresults(self, cmd: ast.MakeresultsCmd) -> Relation:
        now = q.number(float(int(self.now)))
        select = exp.select(
            exp.alias_(exp.cast(now, "DOUBLE"), q.ident("_time")),
            exp.alias_(q.col("range"), q.ident(SEQ)),
        ).from_(exp.Anonymous(this="range", expressions=[exp.Literal.number(cmd.count)]))
        source = self.b.add(select)
        return Relation(
            source, (Field("_time", "_time", Kind.NUM),), (ordered(q.col(SEQ), False),), (SEQ,)
        )

    def multisearch(self, cmd: ast.MultisearchCmd) -> Relation:
        """Each subsearch on its own copy of the events, then their union in search order."""
        branches: list[Relation] = []
        for pipeline in cmd.pipelines:
            rel = self.base()
            for sub in pipeline.commands:
                if not isinstance(sub, multisearch.STREAMING):
                    raise SplUnsupportedError(
                        "multisearch subsearches may only hold streaming commands "
                        "(search, where, eval, rename, fields, regex, rex, bin, ...)",
                        sub.pos,
                        self.query,
                    )
                rel = self.command(rel, sub)
            branches.append(rel)
        return multisearch.union(self.b, branches)

    def command(self, rel: Relation, cmd: ast.Command) -> Relation:
        handler = getattr(self, "cmd_" + type(cmd).__name__, None)
        if handler is None:
            raise SplUnsupportedError(
                f"command {type(cmd).__name__} is not supported", cmd.pos, self.query
            )
        result: Relation = handler(rel, cmd)
        return result

    def finish(self, rel: Relation) -> CompiledQuery:
        select = exp.select(*[exp.alias_(q.col(f.alias), q.ident(f.name)) for f in rel.fields])
        if not rel.fields:
            select = exp.select(exp.alias_(exp.Null(), q.ident("__empty")))
        if self.event_rows:
            select = select.select(exp.alias_(q.col(SEQ), q.ident("__event")), copy=False)
        select = select.from_(exp.to_identifier(rel.source))
        if rel.order:
            select = select.order_by(*rel.order)
        columns = tuple(OutputColumn(f.name, f.kind, f.name in rel.pinned) for f in rel.fields)
        return CompiledQuery(
            self.b.build(select),
            columns,
            tuple(self.lookups.loaded()),
            self.reads_events,
            self.event_rows,
            self.time_range,
        )

    # ------------------------------------------------------------------ filtering
    def cmd_SearchCmd(self, rel: Relation, cmd: ast.SearchCmd) -> Relation:
        if cmd.expr is None:
            return rel
        pred = SearchCompiler(rel, self.query, self.now).compile(cmd.expr)
        return self.b.project(rel, [], where=pred)

    def cmd_WhereCmd(self, rel: Relation, cmd: ast.WhereCmd) -> Relation:
        cond = ExprCompiler(rel, self.query, self.now).condition(cmd.expr, "the where expression")
        return self.b.project(rel, [], where=cond)

    def cmd_RegexCmd(self, rel: Relation, cmd: ast.RegexCmd) -> Relation:
        return regex.regex(self.b, rel, cmd, self.query, self.now)

    def cmd_RexCmd(self, rel: Relation, cmd: ast.RexCmd) -> Relation:
        return regex.rex(self.b, rel, cmd, self.query, self.now)

    def cmd_BinCmd(self, rel: Relation, cmd: ast.BinCmd) -> Relation:
        return binning.bin_(self.b, rel, cmd, self.query, self.now)

    def cmd_EvalCmd(self, rel: Relation, cmd: ast.EvalCmd) -> Relation:
        # left to right: later assignments see earlier ones (3.13), one CTE each
        for a in cmd.assignments:
            value = ExprCompiler(rel, self.query, self.now).value(a.expr)
            rel = self.b.project(rel, [(a.field, value)])
        return rel

    # ------------------------------------------------------------------ aggregation
    def cmd_StatsCmd(self, rel: Relation, cmd: ast.StatsCmd) -> Relation:
        compiler = StatsCompiler(self.b, self.query, self.now)
        if cmd.name == "eventstats":
            return compiler.eventstats(rel, cmd)
        return compiler.stats(rel, cmd)

    # ------------------------------------------------------------------ field selection
    def _expand(self, rel: Relation, patterns: tuple[str, ...]) -> list[str]:
        out: list[str] = []
        for p in patterns:
            if "*" in p:
                regex = re.compile(fnmatch.translate(p).replace(".*", ".*"))
                out += [n for n in rel.names() if regex.match(n) and n not in out]
            elif p not in out:
                out.append(p)
        return out

    def cmd_TableCmd(self, rel: Relation, cmd: ast.TableCmd) -> Relation:
        names = self._expand(rel, cmd.fields)
        fields: list[Field] = []
        pinned: set[str] = set()
        taken = {f.alias.lower() for f in rel.fields} | {h.lower() for h in rel.hidden}
        null_cols: list[tuple[str, str]] = []
        for name in names:
            f = rel.get(name)
            if f is None:
                if not semantics.TABLE_SHOWS_ABSENT_FIELDS:
                    continue
                alias = alias_for(name, taken)
                f = Field(name, alias, Kind.NULL)
                null_cols.append((name, alias))
            fields.append(f)
            pinned.add(name)
        select = [
            exp.alias_(q.null_str(), q.ident(f.alias)) if f.kind is Kind.NULL else q.col(f.alias)
            for f in fields
        ] + [q.col(h) for h in rel.hidden]
        source = self.b.add(exp.select(*select).from_(exp.to_identifier(rel.source)))
        return replace(rel, source=source, fields=tuple(fields), pinned=frozenset(pinned))

    def cmd_FieldsCmd(self, rel: Relation, cmd: ast.FieldsCmd) -> Relation:
        names = self._expand(rel, cmd.fields)
        if cmd.remove:
            keep = [f for f in rel.fields if f.name not in names]
        else:
            listed = [rel.get(n) for n in names]
            keep = [f for f in listed if f is not None]
            keep += [
                f
                for f in rel.fields
                if f.name.startswith("_") and f not in keep and f.name in ("_time", "_raw")
            ]
        select = [q.col(f.alias) for f in keep] + [q.col(h) for h in rel.hidden]
        source = self.b.add(exp.select(*select).from_(exp.to_identifier(rel.source)))
        return replace(
            rel, source=source, fields=tuple(keep), pinned=rel.pinned & {f.name for f in keep}
        )

    def cmd_RenameCmd(self, rel: Relation, cmd: ast.RenameCmd) -> Relation:
        for old, new in cmd.pairs:
            rel = self._rename(rel, old, new)
        return rel

    def _rename(self, rel: Relation, old: str, new: str) -> Relation:
        if "*" in old:
            regex = re.compile("^" + "(.*)".join(re.escape(p) for p in old.split("*")) + "$")
            mapping: list[tuple[str, str]] = []
            for f in rel.fields:
                m = regex.match(f.name)
                if m:
                    target = new
                    for g in m.groups():
                        target = target.replace("*", g, 1)
                    mapping.append((f.name, target))
        else:
            mapping = [(old, new)]
        for src, dst in mapping:
            if src == dst:
                continue
            value = rel.typed(src)  # absent source: the target becomes null (rule 8 rename)
            rel = self.b.project(rel, [(dst, value)], drop={src})
            if value.is_null:
                continue
        return rel

    # ------------------------------------------------------------------ ordering
    def _renumber(
        self,
        rel: Relation,
        order: list[exp.Ordered],
        limit: int | None,
        partition: list[exp.Expression] | None = None,
    ) -> Relation:
        """Number rows by ``order`` into ``__seq``, keep ``limit`` rows; that is the new order."""
        numbered = self.b.project(rel, [], extra_hidden=[(RN, row_number(order, partition))])
        where = (
            None if limit is None else exp.LTE(this=q.col(RN), expression=exp.Literal.number(limit))
        )
        hidden = [h for h in numbered.hidden if h not in (RN, SEQ, TIME_KEY)]
        select = [q.col(f.alias) for f in numbered.fields] + [q.col(h) for h in hidden]
        select.append(exp.alias_(q.col(RN), q.ident(SEQ)))
        query = exp.select(*select).from_(exp.to_identifier(numbered.source))
        if where is not None:
            query = query.where(where)
        return replace(
            numbered,
            source=self.b.add(query),
            hidden=(*hidden, SEQ),
            order=(exp.Ordered(this=q.col(SEQ)),),
        )

    def _sort_order(
        self, rel: Relation, keys: tuple[ast.SortKey, ...], reverse: bool = False
    ) -> list[exp.Ordered]:
        order: list[exp.Ordered] = []
        for key in keys:
            order += sort_keys(rel.typed(key.field), key.descending != reverse, key.coerce)
        return order + list(rel.order)  # stable: ties keep input order (7.6)

    def cmd_SortCmd(self, rel: Relation, cmd: ast.SortCmd) -> Relation:
        limit = semantics.SORT_DEFAULT_LIMIT if cmd.limit is None else cmd.limit
        return self._renumber(rel, self._sort_order(rel, cmd.keys, cmd.reverse), limit or None)

    def cmd_HeadCmd(self, rel: Relation, cmd: ast.HeadCmd) -> Relation:
        return self._renumber(rel, list(rel.order), cmd.count)

    def cmd_TailCmd(self, rel: Relation, cmd: ast.TailCmd) -> Relation:
        # the last N results, in reverse order
        reverse = [
            exp.Ordered(
                this=o.this,
                desc=not o.args.get("desc"),
                nulls_first=not o.args.get("nulls_first", False),
            )
            for o in rel.order
        ]
        return self._renumber(rel, reverse, cmd.count)

    def cmd_DedupCmd(self, rel: Relation, cmd: ast.DedupCmd) -> Relation:
        if cmd.consecutive or cmd.keepevents:
            raise SplUnsupportedError(
                "dedup consecutive=/keepevents= is not supported", cmd.pos, self.query
            )
        values = [rel.typed(f) for f in cmd.fields]
        if any(v.is_null for v in values) and not cmd.keepempty:
            return self.b.project(rel, [], where=exp.false())
        partition = [v.sql for v in values if not v.is_null]
        numbered = self.b.project(
            rel, [], extra_hidden=[(RN, row_number(list(rel.order), partition))]
        )
        keep: exp.Expression = exp.LTE(this=q.col(RN), expression=exp.Literal.number(cmd.count))
        # an event lacking any dedup field is "empty" (kept only with keepempty=true)
        present = (
            exp.false()
            if any(v.is_null for v in values)
            else q.and_(*[q.not_null(v.sql) for v in values])
        )
        if cmd.keepempty:
            keep = exp.or_(exp.Not(this=exp.paren(present)), keep)
        else:
            keep = exp.and_(present, keep)
        select = [q.col(f.alias) for f in numbered.fields] + [
            q.col(h) for h in numbered.hidden if h != RN
        ]
        query = exp.select(*select).from_(exp.to_identifier(numbered.source)).where(keep)
        rel = replace(
            numbered, source=self.b.add(query), hidden=tuple(h for h in numbered.hidden if h != RN)
        )
        if cmd.sortby:
            rel = self._renumber(rel, self._sort_order(rel, cmd.sortby), None)
        return rel

    # ------------------------------------------------------------------ values
    def cmd_FillnullCmd(self, rel: Relation, cmd: ast.FillnullCmd) -> Relation:
        names = list(cmd.fields) or [f.name for f in rel.fields if not f.name.startswith("_")]
        value = cmd.value
        assignments: list[tuple[str, Typed]] = []
        for name in names:
            t = rel.typed(name)
            if t.kind is Kind.NUM and q.looks_numeric(value):
                assignments.append(
                    (name, Typed(q.coalesce(t.sql, q.number(float(value))), Kind.NUM))
                )
            elif t.kind is Kind.MV:
                assignments.append(
                    (
                        name,
                        Typed(q.coalesce(t.sql, exp.Array(expressions=[q.string(value)])), Kind.MV),
                    )
                )
            elif t.is_null:
                assignments.append((name, Typed(q.string(value), Kind.STR)))
            else:
                as_str = t.sql if t.kind is Kind.STR else q.number_to_string(t.sql)
                assignments.append((name, Typed(q.coalesce(as_str, q.string(value)), Kind.STR)))
        return self.b.project(rel, assignments)

    def cmd_LookupCmd(self, rel: Relation, cmd: ast.LookupCmd) -> Relation:
        return LookupCompiler(self.b, self.lookups, self.query).lookup(rel, cmd)

    def cmd_MakeresultsCmd(self, rel: Relation, cmd: ast.MakeresultsCmd) -> Relation:
        raise self.error("makeresults must be the first command", cmd.pos)

    def cmd_MultisearchCmd(self, rel: Relation, cmd: ast.MultisearchCmd) -> Relation:
        raise self.error("multisearch must be the first command", cmd.pos)

    def cmd_InputlookupCmd(self, rel: Relation, cmd: ast.InputlookupCmd) -> Relation:
        raise self.error("inputlookup must be the first command", cmd.pos)


_unused = NULL
