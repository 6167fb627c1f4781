"""``streamstats``: for each result, statistics over the results before it (and itself
unless ``current=false``) in result order, per group of by-field values, as window
functions (docs/commands-combining.md, R1-R4)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlglot import exp

from stagehunt import semantics
from stagehunt.compile import sqlfn as q
from stagehunt.compile.combine import drop_hidden
from stagehunt.compile.commands.registry import transforms
from stagehunt.compile.eval import ExprCompiler
from stagehunt.compile.kinds import Kind, Typed
from stagehunt.compile.ordering import ordered, row_number
from stagehunt.spl import ast
from stagehunt.spl.errors import SplSemanticError, SplUnsupportedError

if TYPE_CHECKING:
    from stagehunt.compile.compiler import Compiler
    from stagehunt.compile.relation import Relation

POSITION = "__rpos"  # a result's position in result order
_ALIASES = {"c": "count", "distinct_count": "dc", "mean": "avg"}


class _Window:
    """One window (partition, order, frame) and the aggregates over it."""

    def __init__(self, rel: Relation, cmd: ast.StreamstatsCmd, c: Compiler) -> None:
        self.values = ExprCompiler(rel, c.query, c.now)
        self.by = [rel.typed(f) for f in cmd.by]
        # global=true (R2): the frame counts results of every group, so it is a RANGE over
        # the results' overall position within the group's partition
        frame = "RANGE" if cmd.global_window and cmd.window and cmd.by else "ROWS"
        if cmd.current:
            start = exp.Literal.number(cmd.window - 1) if cmd.window else "UNBOUNDED"
            end: str | exp.Expression = "CURRENT ROW"
            end_side = None
        else:
            start = exp.Literal.number(cmd.window) if cmd.window else "UNBOUNDED"
            end, end_side = exp.Literal.number(1), "PRECEDING"
        self.spec = exp.WindowSpec(
            kind=frame, start=start, start_side="PRECEDING", end=end, end_side=end_side
        )
        self.order = exp.Order(
            expressions=[ordered(q.col(POSITION), False)] if frame == "RANGE" else list(rel.order)
        )
        self.query = c.query

    def over(self, func: exp.Expression) -> exp.Expression:
        window = exp.Window(
            this=func,
            partition_by=[b.sql for b in self.by] or None,
            order=self.order.copy(),
            spec=self.spec.copy(),
        )
        # a result lacking a by-field belongs to no group: it gets no statistics (R3)
        if not self.by:
            return window
        return q.case((q.and_(*[q.not_null(b.sql) for b in self.by]), window))

    def aggregate(self, agg: ast.Aggregation) -> Typed:
        func = _ALIASES.get(agg.func, agg.func)
        if func == "count" and agg.arg is None:
            return Typed(self.over(exp.Count(this=exp.Star())), Kind.NUM)
        if agg.arg is None:
            raise SplSemanticError(f"{agg.func}() needs a field", agg.pos, self.query)
        value = self.values.compile(agg.arg)
        if value.kind is Kind.BOOL:
            if func == "count":  # count(eval(test))
                return Typed(self.over(exp.Count(this=q.case((value.sql, q.number(1))))), Kind.NUM)
            raise SplSemanticError(f"{agg.func}(eval(...)) needs a value", agg.pos, self.query)
        if value.kind is Kind.NULL:
            return Typed(exp.Literal.number(0), Kind.NUM) if func in ("count", "dc") else value
        if value.kind is Kind.MV:
            raise SplUnsupportedError(
                f"streamstats {agg.func}() of a multivalue field is not supported",
                agg.pos,
                self.query,
            )
        build = _FUNCTIONS.get(func)
        if build is None:
            raise SplUnsupportedError(
                f"streamstats function '{agg.func}' is not supported", agg.pos, self.query
            )
        return build(self, value)

    def text(self, v: Typed) -> exp.Expression:
        return self.values.string(v)

    def number(self, v: Typed) -> exp.Expression:
        return self.values.number(v)


def _count(w: _Window, v: Typed) -> Typed:
    return Typed(w.over(exp.Count(this=v.sql)), Kind.NUM)


def _dc(w: _Window, v: Typed) -> Typed:
    listed = exp.ArrayAgg(this=w.text(v))
    return Typed(q.list_len(q.fn("list_distinct", w.over(listed))), Kind.NUM)


def _numeric(func: type[exp.Expression]) -> Callable[[_Window, Typed], Typed]:
    def build(w: _Window, v: Typed) -> Typed:
        return Typed(w.over(func(this=w.number(v))), Kind.NUM)

    return build


def _extreme(largest: bool) -> Callable[[_Window, Typed], Typed]:
    """min/max: numbers take priority over strings, as in stats (6.12)."""
    agg = exp.Max if largest else exp.Min

    def build(w: _Window, v: Typed) -> Typed:
        if v.kind is Kind.NUM:
            return Typed(w.over(agg(this=v.sql)), Kind.NUM)
        num = w.number(v)
        return Typed(
            q.case(
                (
                    exp.GT(this=w.over(exp.Count(this=num)), expression=exp.Literal.number(0)),
                    q.number_to_string(w.over(agg(this=num))),
                ),
                default=w.over(agg(this=v.sql)),
            ),
            Kind.STR,
        )

    return build


def _range(w: _Window, v: Typed) -> Typed:
    x = w.number(v)
    return Typed(
        exp.Sub(this=w.over(exp.Max(this=x)), expression=w.over(exp.Min(this=x))), Kind.NUM
    )


def _first(last: bool) -> Callable[[_Window, Typed], Typed]:
    pick = exp.LastValue if last else exp.FirstValue

    def build(w: _Window, v: Typed) -> Typed:
        return Typed(w.over(exp.IgnoreNulls(this=pick(this=v.sql))), v.kind)

    return build


def _values(w: _Window, v: Typed) -> Typed:
    listed = w.over(exp.ArrayAgg(this=w.text(v)))
    values = q.fn("list_sort", q.fn("list_distinct", listed))
    nonempty = exp.GT(this=q.list_len(values), expression=exp.Literal.number(0))
    return Typed(q.case((nonempty, values)), Kind.MV)


def _list(w: _Window, v: Typed) -> Typed:
    listed = w.over(exp.ArrayAgg(this=w.text(v)))
    capped = q.fn(
        "list_slice",
        listed,
        exp.Literal.number(1),
        exp.Literal.number(semantics.LIST_MAX_VALUES),
    )
    nonempty = exp.GT(this=q.list_len(capped), expression=exp.Literal.number(0))
    return Typed(q.case((nonempty, capped)), Kind.MV)


_FUNCTIONS: dict[str, Callable[[_Window, Typed], Typed]] = {
    "count": _count,
    "dc": _dc,
    "sum": _numeric(exp.Sum),
    "avg": _numeric(exp.Avg),
    "min": _extreme(largest=False),
    "max": _extreme(largest=True),
    "range": _range,
    "first": _first(last=False),
    "last": _first(last=True),
    "values": _values,
    "list": _list,
}


@transforms(ast.StreamstatsCmd)
def streamstats(c: Compiler, rel: Relation, cmd: ast.StreamstatsCmd) -> Relation:
    rel = c.b.project(rel, [], extra_hidden=[(POSITION, row_number(list(rel.order)))])
    window = _Window(rel, cmd, c)
    outputs: list[tuple[str, Typed]] = []
    for agg in cmd.aggregations:
        if any(name == agg.alias for name, _ in outputs):
            raise SplSemanticError(f"'{agg.alias}' is named twice in streamstats", agg.pos, c.query)
        outputs.append((agg.alias, window.aggregate(agg)))
    return drop_hidden(c.b, c.b.project(rel, outputs), {POSITION})
