"""``bin`` / ``bucket``: floor a numeric field (usually ``_time``) to multiples of a span.

Sigma correlation rules converted by pySigma's Splunk backend group events into fixed
windows with ``| bin _time span=5m | stats ... by _time``. Spans in seconds are aligned to
the epoch (which is midnight UTC for day spans: times are UTC, semantics.DISPLAY_TIMEZONE);
month spans are aligned to calendar months counted from January 1970.
"""

from __future__ import annotations

from sqlglot import exp

from stagehunt.compile import sqlfn as q
from stagehunt.compile.eval import ExprCompiler
from stagehunt.compile.kinds import NULL, Kind, Typed
from stagehunt.compile.relation import QueryBuilder, Relation
from stagehunt.spl import ast


def _floor_span(value: exp.Expression, span: float) -> exp.Expression:
    return exp.Mul(
        this=q.fn("floor", exp.Div(this=value, expression=q.number(span))),
        expression=q.number(span),
    )


def _floor_months(value: exp.Expression, months: int) -> exp.Expression:
    ts = q.fn("to_timestamp", value)
    index = exp.Add(
        this=exp.Mul(
            this=exp.Sub(this=q.fn("year", ts), expression=q.number(1970)),
            expression=q.number(12),
        ),
        expression=exp.Sub(this=q.fn("month", ts), expression=q.number(1)),
    )
    start = _floor_span(index, float(months))
    year = exp.Add(
        this=q.fn("floor", exp.Div(this=start, expression=q.number(12))), expression=q.number(1970)
    )
    month = exp.Add(this=q.fn("mod", q.cast(start, "BIGINT"), q.number(12)), expression=q.number(1))
    date = q.fn("make_date", q.cast(year, "BIGINT"), q.cast(month, "BIGINT"), q.number(1))
    return q.cast(q.fn("epoch", date), "DOUBLE")


def bin_(b: QueryBuilder, rel: Relation, cmd: ast.BinCmd, query: str, now: float) -> Relation:
    """Replace (or, with AS, add) the field by the start of its bin; non-numbers give null."""
    source = rel.typed(cmd.field)
    if source.is_null:
        return b.project(rel, [(cmd.alias, NULL)])
    value = ExprCompiler(rel, query, now).number(source)
    floored = _floor_months(value, cmd.months) if cmd.months else _floor_span(value, cmd.span)
    return b.project(rel, [(cmd.alias, Typed(floored, Kind.NUM))])
