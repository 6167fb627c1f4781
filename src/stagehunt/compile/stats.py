"""``stats`` and ``eventstats`` (spl-semantics.md §6).

Events whose by-field is null are dropped (6.3); a multivalue by-field counts the event
under each value (6.4); ``values`` is distinct and byte-ordered (6.8); ``list`` keeps input
order up to 100 values (6.9); ``min``/``max`` prefer numbers (6.12); numeric functions
ignore values that are not numbers (6.13).
"""

from __future__ import annotations

import re
from dataclasses import replace

from sqlglot import exp

from stagehunt import semantics
from stagehunt.compile import sqlfn as q
from stagehunt.compile.eval import ExprCompiler
from stagehunt.compile.kinds import Kind, Typed
from stagehunt.compile.ordering import number_rows, ordered, row_number, sort_keys
from stagehunt.compile.relation import SEQ, Field, QueryBuilder, Relation, alias_for
from stagehunt.spl import ast
from stagehunt.spl.errors import SplSemanticError, SplUnsupportedError

ORD = "__ord"
_PERC = re.compile(r"^(?:perc|p|exactperc|upperperc)(\d+(?:\.\d+)?)$")
_ORDER_FUNCS = {"first", "last", "list"}
_ALIASES = {"c": "count", "distinct_count": "dc", "estdc": "dc", "estdc_error": "dc", "mean": "avg"}


def _filtered(agg: exp.Expression, cond: exp.Expression) -> exp.Expression:
    return exp.Filter(this=agg, expression=exp.Where(this=cond))


class StatsCompiler:
    def __init__(self, builder: QueryBuilder, query: str, now: float) -> None:
        self.b = builder
        self.query = query
        self.now = now

    def error(self, message: str, pos: int) -> SplSemanticError:
        return SplSemanticError(message, pos, self.query)

    # ------------------------------------------------------------------ prepare input
    def _prepare(self, rel: Relation, cmd: ast.StatsCmd) -> tuple[Relation, dict[str, str]]:
        """Add the input-order column if an order function needs it; split multivalue
        by-fields (6.4) into hidden key columns, one row per value, leaving the field
        itself whole for the aggregates. Returns the relation and by-field → key column."""
        funcs = {_ALIASES.get(a.func, a.func) for a in cmd.aggregations}
        if funcs & _ORDER_FUNCS:
            rel = self.b.project(rel, [], extra_hidden=[(ORD, row_number(list(rel.order)))])
        keys: dict[str, str] = {}
        for i, name in enumerate(cmd.by):
            f = rel.get(name)
            if f is not None and f.kind is Kind.MV:
                if cmd.name == "eventstats":
                    raise SplUnsupportedError(
                        "eventstats by a multivalue field is not supported", cmd.pos, self.query
                    )
                key = f"__by{i}"
                unnest = exp.Unnest(expressions=[q.col(f.alias)])
                rel = self.b.project(rel, [], extra_hidden=[(key, unnest)])
                keys[name] = key
        return rel, keys

    # ------------------------------------------------------------------ aggregations
    def aggregate(self, c: ExprCompiler, agg: ast.Aggregation) -> Typed:
        func = _ALIASES.get(agg.func, agg.func)
        arg = agg.arg
        if func == "count" and arg is None:
            return Typed(exp.Count(this=exp.Star()), Kind.NUM)
        if arg is None:
            raise self.error(f"{agg.func}() needs a field", agg.pos)
        value = c.compile(arg)
        if value.kind is Kind.BOOL:
            # count(eval(x>1)): count the events where the test is true
            if func == "count":
                return Typed(_filtered(exp.Count(this=exp.Star()), value.sql), Kind.NUM)
            raise self.error(f"{agg.func}(eval(...)) needs a value, not a Boolean", agg.pos)
        perc = _PERC.match(func)
        if perc:
            return self._numeric(c, value, "quantile_cont", q.number(float(perc.group(1)) / 100))
        handler = getattr(self, f"agg_{func}", None)
        if handler is None:
            raise self.error(f"unknown stats function '{agg.func}'", agg.pos)
        result: Typed = handler(c, value)
        return result

    def _present(self, v: Typed) -> exp.Expression:
        return q.not_null(v.sql)

    def _strings(self, c: ExprCompiler, v: Typed) -> exp.Expression:
        """A list aggregate of the values as strings (multivalue values flattened)."""
        if v.kind is Kind.MV:
            return q.fn("flatten", _filtered(q.fn("list", v.sql), self._present(v)))
        return _filtered(q.fn("list", c.string(v)), self._present(v))

    def agg_count(self, c: ExprCompiler, v: Typed) -> Typed:
        if v.kind is Kind.NULL:
            return Typed(exp.Literal.number(0), Kind.NUM)
        return Typed(exp.Count(this=v.sql), Kind.NUM)

    def agg_dc(self, c: ExprCompiler, v: Typed) -> Typed:
        if v.kind is Kind.NULL:
            return Typed(exp.Literal.number(0), Kind.NUM)  # semantics.DC_EMPTY_IS_ZERO
        if v.kind is Kind.MV:
            return Typed(
                q.coalesce(
                    q.list_len(q.fn("list_distinct", self._strings(c, v))), exp.Literal.number(0)
                ),
                Kind.NUM,
            )
        return Typed(exp.Count(this=exp.Distinct(expressions=[c.string(v)])), Kind.NUM)

    def agg_values(self, c: ExprCompiler, v: Typed) -> Typed:
        if v.kind is Kind.NULL:
            return v
        values = q.fn("list_sort", q.fn("list_distinct", self._strings(c, v)))
        return Typed(_nonempty(values), Kind.MV)

    def agg_list(self, c: ExprCompiler, v: Typed) -> Typed:
        if v.kind is Kind.NULL:
            return v
        if v.kind is Kind.MV:
            listed = q.fn("flatten", _filtered(_ordered_list(v.sql), self._present(v)))
        else:
            listed = _filtered(_ordered_list(c.string(v)), self._present(v))
        capped = q.fn(
            "list_slice",
            listed,
            exp.Literal.number(1),
            exp.Literal.number(semantics.LIST_MAX_VALUES),
        )
        return Typed(_nonempty(capped), Kind.MV)

    def _extreme(self, c: ExprCompiler, v: Typed, largest: bool) -> Typed:
        agg = exp.Max if largest else exp.Min
        if v.kind in (Kind.NULL, Kind.NUM):
            return v if v.kind is Kind.NULL else Typed(agg(this=v.sql), Kind.NUM)
        if v.kind is Kind.MV:  # every value of every event takes part
            flat = self._strings(c, v)
            nums = q.fn(
                "list_transform",
                q.fn("list_filter", flat, q.lam(q.is_number(q.element()))),
                q.lam(q.try_cast(q.element(), "DOUBLE")),
            )
            pick = "list_max" if largest else "list_min"
            return Typed(
                q.case(
                    (
                        exp.GT(this=q.list_len(nums), expression=exp.Literal.number(0)),
                        q.number_to_string(q.fn(pick, nums)),
                    ),
                    default=q.fn(pick, flat),
                ),
                Kind.STR,
            )
        s = v.sql
        num = q.to_number(s)
        # numbers take priority (6.12): "9" < "10"; only all-string groups compare as strings
        return Typed(
            q.case(
                (
                    exp.GT(this=exp.Count(this=num), expression=exp.Literal.number(0)),
                    q.number_to_string(agg(this=num)),
                ),
                default=agg(this=s),
            ),
            Kind.STR,
        )

    def agg_min(self, c: ExprCompiler, v: Typed) -> Typed:
        return self._extreme(c, v, largest=False)

    def agg_max(self, c: ExprCompiler, v: Typed) -> Typed:
        return self._extreme(c, v, largest=True)

    def _numbers(self, c: ExprCompiler, v: Typed) -> exp.Expression:
        """Every numeric value of a multivalue field across the group, as DOUBLEs."""
        return q.fn(
            "list_transform",
            q.fn("list_filter", self._strings(c, v), q.lam(q.is_number(q.element()))),
            q.lam(q.try_cast(q.element(), "DOUBLE")),
        )

    def _numeric(self, c: ExprCompiler, v: Typed, name: str, *args: exp.Expression) -> Typed:
        """A numeric aggregate; values that are not numbers are ignored (6.13), and every
        value of a multivalue field counts."""
        if v.kind is Kind.NULL:
            return v
        if v.kind is Kind.MV:
            return Typed(
                q.fn("list_aggregate", self._numbers(c, v), q.string(name), *args), Kind.NUM
            )
        x = v.sql if v.kind is Kind.NUM else c.number(v)
        return Typed(q.fn(name, x, *args), Kind.NUM)

    def agg_sum(self, c: ExprCompiler, v: Typed) -> Typed:
        return self._numeric(c, v, "sum")

    def agg_avg(self, c: ExprCompiler, v: Typed) -> Typed:
        return self._numeric(c, v, "avg")

    def agg_median(self, c: ExprCompiler, v: Typed) -> Typed:
        return self._numeric(c, v, "quantile_cont", q.number(0.5))

    def agg_stdev(self, c: ExprCompiler, v: Typed) -> Typed:
        return self._numeric(c, v, "stddev_samp")

    def agg_stdevp(self, c: ExprCompiler, v: Typed) -> Typed:
        return self._numeric(c, v, "stddev_pop")

    def agg_var(self, c: ExprCompiler, v: Typed) -> Typed:
        return self._numeric(c, v, "var_samp")

    def agg_varp(self, c: ExprCompiler, v: Typed) -> Typed:
        return self._numeric(c, v, "var_pop")

    def agg_sumsq(self, c: ExprCompiler, v: Typed) -> Typed:
        if v.kind is Kind.MV:
            squares = q.fn(
                "list_transform",
                self._numbers(c, v),
                q.lam(exp.Mul(this=q.element(), expression=q.element())),
            )
            return Typed(q.fn("list_sum", squares), Kind.NUM)
        if v.kind is Kind.NULL:
            return v
        x = v.sql if v.kind is Kind.NUM else c.number(v)
        return Typed(exp.Sum(this=exp.Mul(this=x, expression=x)), Kind.NUM)

    def agg_range(self, c: ExprCompiler, v: Typed) -> Typed:
        high, low = self._numeric(c, v, "max"), self._numeric(c, v, "min")
        if v.kind is Kind.NULL:
            return v
        return Typed(exp.Sub(this=high.sql, expression=low.sql), Kind.NUM)

    def agg_mode(self, c: ExprCompiler, v: Typed) -> Typed:
        if v.kind is Kind.NULL:
            return v
        return Typed(q.fn("mode", c.string(v)), Kind.STR)

    def _by_time(self, c: ExprCompiler, v: Typed, latest: bool) -> Typed:
        """earliest/latest: the value at the oldest/newest _time among events having it (6.10)."""
        if v.kind is Kind.NULL:
            return v
        time = c.rel.typed("_time")
        if isinstance(v.sql, exp.Column) and time.sql == v.sql:
            return Typed((exp.Max if latest else exp.Min)(this=v.sql), v.kind)
        if time.is_null:
            return Typed(exp.Null(), Kind.NULL)
        pick = "arg_max" if latest else "arg_min"
        return Typed(
            _filtered(q.fn(pick, v.sql, time.sql), q.and_(self._present(v), q.not_null(time.sql))),
            v.kind,
        )

    def agg_earliest(self, c: ExprCompiler, v: Typed) -> Typed:
        return self._by_time(c, v, latest=False)

    def agg_latest(self, c: ExprCompiler, v: Typed) -> Typed:
        return self._by_time(c, v, latest=True)

    def _time_of(self, c: ExprCompiler, v: Typed, latest: bool) -> Typed:
        time = c.rel.typed("_time")
        if v.kind is Kind.NULL or time.is_null:
            return Typed(exp.Null(), Kind.NULL)
        return Typed(
            _filtered((exp.Max if latest else exp.Min)(this=time.sql), self._present(v)), Kind.NUM
        )

    def agg_earliest_time(self, c: ExprCompiler, v: Typed) -> Typed:
        return self._time_of(c, v, latest=False)

    def agg_latest_time(self, c: ExprCompiler, v: Typed) -> Typed:
        return self._time_of(c, v, latest=True)

    def _by_order(self, v: Typed, last: bool) -> Typed:
        if v.kind is Kind.NULL:
            return v
        pick = "arg_max" if last else "arg_min"
        return Typed(_filtered(q.fn(pick, v.sql, q.col(ORD)), self._present(v)), v.kind)

    def agg_first(self, c: ExprCompiler, v: Typed) -> Typed:
        return self._by_order(v, last=False)

    def agg_last(self, c: ExprCompiler, v: Typed) -> Typed:
        return self._by_order(v, last=True)

    # ------------------------------------------------------------------ commands
    def _outputs(self, rel: Relation, cmd: ast.StatsCmd) -> list[tuple[str, Typed]]:
        c = ExprCompiler(rel, self.query, self.now)
        seen: set[str] = set()
        out: list[tuple[str, Typed]] = []
        for agg in cmd.aggregations:
            if agg.alias in seen:
                raise self.error(f"'{agg.alias}' is named twice in {cmd.name}", agg.pos)
            seen.add(agg.alias)
            out.append((agg.alias, self.aggregate(c, agg)))
        return out

    def stats(self, rel: Relation, cmd: ast.StatsCmd) -> Relation:
        rel, keys = self._prepare(rel, cmd)
        outputs = self._outputs(rel, cmd)
        taken: set[str] = {SEQ}
        fields: list[Field] = []
        select: list[exp.Expression] = []
        group: list[exp.Expression] = []
        conds: list[exp.Expression] = []
        by_typed: list[Typed] = []
        for name in cmd.by:
            t = Typed(q.col(keys[name]), Kind.STR) if name in keys else rel.typed(name)
            if t.is_null:  # a by-field no event has: every event is dropped (6.3)
                t = Typed(q.null_str(), Kind.STR)
            alias = alias_for(name, taken)
            fields.append(Field(name, alias, t.kind))
            select.append(q.alias(t.sql, q.ident(alias)))
            group.append(t.sql)
            conds.append(q.not_null(t.sql))
            by_typed.append(Typed(q.col(alias), t.kind))
        for name, value in outputs:
            same = next((i for i, f in enumerate(fields) if f.name == name), None)
            if value.kind is Kind.NULL:
                if same is not None:
                    del fields[same]
                continue
            alias = alias_for(name, taken)
            select.append(q.alias(value.sql, q.ident(alias)))
            if same is not None:
                # `stats count by count`: the aggregate's value takes the by-field's place;
                # groups are still formed and ordered by the by-field's own values
                fields[same] = Field(name, alias, value.kind)
            else:
                fields.append(Field(name, alias, value.kind))
        if not group:
            # no by-clause: one result row even over no events (and a constant output must
            # not turn into one row per event), so always aggregate
            select.append(q.alias(exp.Count(this=exp.Star()), q.ident("__n")))
        # built without sqlglot's defensive copies; a key used twice is copied by own()
        query = exp.select(*[q.own(e) for e in select], copy=False).from_(
            exp.to_identifier(rel.source), copy=False
        )
        if conds:
            query = query.where(q.own(q.and_(*conds)), copy=False)
        if group:
            query = query.group_by(*[q.own(g) for g in group], copy=False)
        grouped = Relation(self.b.add(query), tuple(fields), (), (), events=False)
        # number the rows in output order (6.5) so later commands keep it
        # numerically equal keys ("11", "011") are distinct groups: byte order between them
        order = [
            k for t in by_typed for k in [*sort_keys(t, desc=False), ordered(_as_text(t), False)]
        ]
        return number_rows(self.b, grouped, order)

    def eventstats(self, rel: Relation, cmd: ast.StatsCmd) -> Relation:
        prepared, _ = self._prepare(rel, cmd)
        outputs = self._outputs(prepared, cmd)
        by = [(name, prepared.typed(name)) for name in cmd.by]
        taken: set[str] = {f.alias.lower() for f in prepared.fields} | {
            h.lower() for h in prepared.hidden
        }
        agg_select: list[exp.Expression] = []
        join_keys: list[tuple[exp.Expression, str]] = []
        conds: list[exp.Expression] = []
        for name, t in by:
            if t.is_null:
                conds.append(exp.false())
                continue
            key = alias_for("k_" + name, taken)
            agg_select.append(q.alias(t.sql, q.ident(key)))
            join_keys.append((t.sql, key))
            conds.append(q.not_null(t.sql))
        agg_aliases: list[tuple[str, str, Kind]] = []
        for name, value in outputs:
            alias = alias_for("a_" + name, taken)
            agg_aliases.append((name, alias, value.kind))
            agg_select.append(
                q.alias(value.sql if value.kind is not Kind.NULL else exp.Null(), q.ident(alias))
            )
        agg_query = q.select(*agg_select).from_(exp.to_identifier(prepared.source), copy=False)
        if conds:
            agg_query = agg_query.where(q.and_(*conds))
        if join_keys:
            agg_query = agg_query.group_by(*[k for k, _ in join_keys])
        agg_name = self.b.add(agg_query)
        # join back: every event keeps its fields, gains the aggregates of its group
        on: exp.Expression = exp.true()
        if join_keys:
            on = q.and_(
                *[
                    exp.EQ(
                        this=_qualify(key_sql, prepared.source), expression=q.col(alias, agg_name)
                    )
                    for key_sql, alias in join_keys
                ]
            )
        joined_fields = [f for f in prepared.fields if f.name not in {n for n, _, _ in agg_aliases}]
        select = [q.alias(q.col(f.alias, prepared.source), q.ident(f.alias)) for f in joined_fields]
        select += [
            q.alias(q.col(h, prepared.source), q.ident(h)) for h in prepared.hidden if h != ORD
        ]
        new_fields = list(joined_fields)
        for name, alias, kind in agg_aliases:
            if kind is Kind.NULL:
                continue
            select.append(q.alias(q.col(alias, agg_name), q.ident(alias)))
            new_fields.append(Field(name, alias, kind))
        query = (
            q.select(*select)
            .from_(exp.to_identifier(prepared.source), copy=False)
            .join(exp.to_identifier(agg_name), on=on, join_type="left")
        )
        return replace(
            prepared,
            source=self.b.add(query),
            fields=tuple(new_fields),
            hidden=tuple(h for h in prepared.hidden if h != ORD),
        )


def _qualify(e: exp.Expression, table: str) -> exp.Expression:
    e = e.copy()
    for column in e.find_all(exp.Column):
        if not column.table:
            column.set("table", q.ident(table))
    return e


def _ordered_list(value: exp.Expression) -> exp.Expression:
    """``list(value ORDER BY __ord)``: values in input order (6.9)."""
    return exp.ArrayAgg(this=exp.Order(this=value, expressions=[exp.Ordered(this=q.col(ORD))]))


def _nonempty(e: exp.Expression) -> exp.Expression:
    return q.case((exp.GT(this=q.list_len(e), expression=exp.Literal.number(0)), e))


def _as_text(t: Typed) -> exp.Expression:
    return t.sql if t.kind is Kind.STR else q.number_to_string(t.sql)
