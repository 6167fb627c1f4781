"""Small sqlglot builders shared by the compiler modules.

Everything that turns user text into SQL goes through :func:`string` (a quoted literal) or
:func:`ident` (a quoted identifier); nothing is pasted into SQL text.
"""

from __future__ import annotations

import math
from functools import cache

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect

from stagehunt import semantics

LAMBDA_VAR = "__v"


def ident(name: str) -> exp.Identifier:
    """A quoted identifier (built directly: ``to_identifier`` tests the name with a regex
    first, a quarter of compiling a detection)."""
    return exp.Identifier(this=name, quoted=True)


def col(name: str, table: str | None = None) -> exp.Column:
    return exp.Column(this=ident(name), table=ident(table) if table else None)


def string(value: str) -> exp.Literal:
    return exp.Literal.string(value)


def number(value: float) -> exp.Expression:
    if math.isnan(value) or math.isinf(value):
        return cast(string(repr(value)), "DOUBLE")
    if float(value).is_integer() and abs(value) < 1e15:
        return exp.Literal.number(int(value))
    # a DOUBLE, not DuckDB's default DECIMAL for 2.5 (Splunk numbers are doubles, rule 3.8)
    return cast(exp.Literal.number(repr(float(value))), "DOUBLE")


#: DuckDB's dialect, made once: by name, sqlglot builds a new one at every call.
_DUCKDB = Dialect.get_or_raise("duckdb")


def fn(name: str, *args: exp.Expression) -> exp.Expression:
    """A function call in DuckDB's spelling (sqlglot maps known names to typed nodes);
    arguments are copied only when they already sit in another tree (:func:`own`)."""
    return exp.func(name, *[own(a) for a in args], copy=False, dialect=_DUCKDB)


@cache
def _data_type(to: str) -> exp.DataType:
    return exp.DataType.build(to)


def cast(e: exp.Expression, to: str) -> exp.Expression:
    """``CAST(e AS to)``: the type is parsed once per name (sqlglot parses the text at
    every ``exp.cast``, a fifth of compiling a detection's add-on fields)."""
    return exp.Cast(this=own(e), to=_data_type(to).copy())


def try_cast(e: exp.Expression, to: str) -> exp.Expression:
    return exp.TryCast(this=own(e), to=_data_type(to).copy())


def case(
    *whens: tuple[exp.Expression, exp.Expression], default: exp.Expression | None = None
) -> exp.Case:
    """``CASE WHEN ... END`` built in one step: ``Case.when`` copies the whole expression
    at each branch, quadratic for the add-ons' long case() lookups."""
    ifs = [exp.If(this=own(cond), true=own(value)) for cond, value in whens]
    return exp.Case(ifs=ifs, default=own(default) if default is not None else None)


def alias(e: exp.Expression, name: str | exp.Identifier) -> exp.Alias:
    """``e AS name`` (``e`` copied only when it sits in another tree: :func:`own`)."""
    return exp.Alias(this=own(e), alias=name if isinstance(name, exp.Identifier) else ident(name))


def select(*items: exp.Expression) -> exp.Select:
    """``SELECT items`` (each copied only when it sits in another tree: :func:`own`)."""
    return exp.Select(expressions=[own(i) for i in items])


def own(e: exp.Expression) -> exp.Expression:
    """``e`` to place in a new tree: a copy only when it already sits in another (a node
    has one parent), so that building large expressions does not copy them again."""
    return e.copy() if e.parent is not None else e


def as_filter(pred: exp.Expression) -> exp.Expression:
    """``pred`` as a WHERE reads it. A filter drops a row whether its predicate is NULL or
    FALSE, so in positive positions (under AND, OR and parentheses only, never under NOT)
    ``COALESCE(p, FALSE)`` is ``p``: replacing NULL by FALSE there can only lower a
    three-valued result, and a TRUE stays TRUE. Without the wrapper DuckDB can push the
    comparisons into the scan and factor terms the branches share (``EventCode = '11'
    OR EventCode = '1'``). Works on a tree it owns (see :func:`own`)."""
    holder = exp.Paren(this=own(pred))
    stack: list[exp.Expression] = [holder.this]
    while stack:
        node = stack.pop()
        if (
            isinstance(node, exp.Coalesce)
            and len(node.expressions) == 1
            and isinstance(node.expressions[0], exp.Boolean)
            and node.expressions[0].this is False
        ):
            inner = node.this
            node.replace(inner)
            stack.append(inner)
        elif isinstance(node, (exp.And, exp.Or)):  # not Xor: NULL there is not FALSE
            stack.extend((node.this, node.expression))
        elif isinstance(node, exp.Paren):
            stack.append(node.this)
    return holder.this.pop()


def _balanced(items: tuple[exp.Expression, ...], join: type[exp.Connector]) -> exp.Expression:
    """A balanced tree of ``join``: a Sigma rule's hundreds of OR'd values would otherwise
    nest hundreds deep, past the recursion limit of sqlglot's printer."""
    if len(items) == 1:
        return items[0]
    mid = len(items) // 2
    return join(this=_balanced(items[:mid], join), expression=_balanced(items[mid:], join))


def and_(*items: exp.Expression) -> exp.Expression:
    return _balanced(items, exp.And)


def or_(*items: exp.Expression) -> exp.Expression:
    return _balanced(items, exp.Or)


def not_(e: exp.Expression) -> exp.Expression:
    return exp.Not(this=exp.paren(e, copy=False))


def is_null(e: exp.Expression) -> exp.Expression:
    return exp.Is(this=e, expression=exp.Null())


def not_null(e: exp.Expression) -> exp.Expression:
    return exp.Not(this=exp.Is(this=e, expression=exp.Null()))


def coalesce(*items: exp.Expression) -> exp.Expression:
    return exp.Coalesce(this=items[0], expressions=list(items[1:]))


def lam(body: exp.Expression) -> exp.Lambda:
    """``LAMBDA __v : body`` over one list element (``element()`` refers to it)."""
    return exp.Lambda(this=body, expressions=[exp.to_identifier(LAMBDA_VAR)])


def element() -> exp.Column:
    return exp.column(LAMBDA_VAR)


def null_str() -> exp.Expression:
    return cast(exp.Null(), "VARCHAR")


# ----------------------------------------------------------------- numbers as Splunk sees them


def is_number(e: exp.Expression) -> exp.Expression:
    """True when a string value parses as a number (rule 3.6, pattern in semantics)."""
    return fn("regexp_full_match", e, string(semantics.NUMBER_PATTERN))


def to_number(e: exp.Expression) -> exp.Expression:
    """The string as a DOUBLE, or NULL when it is not a number."""
    return case((is_number(e), try_cast(e, "DOUBLE")))


def number_to_string(e: exp.Expression) -> exp.Expression:
    """Render a number the way Splunk shows it: integers without a fraction."""
    integral = exp.And(  # built directly: ``exp.and_`` copies both sides again
        this=exp.EQ(this=own(e), expression=fn("trunc", e)),
        expression=exp.LT(this=fn("abs", e), expression=exp.Literal.number("1e15")),
    )
    return case(
        (integral, cast(cast(e, "BIGINT"), "VARCHAR")),
        default=cast(cast(e, "DOUBLE"), "VARCHAR"),
    )


def looks_numeric(text: str) -> bool:
    import re

    return re.fullmatch(semantics.NUMBER_PATTERN, text) is not None


def render_number(value: float) -> str:
    """Python twin of :func:`number_to_string` for literals folded at compile time."""
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


def item(lst: exp.Expression, index: int) -> exp.Expression:
    """``lst[index]`` with a 1-based literal index (None when out of range)."""
    return exp.Bracket(this=lst, expressions=[exp.Literal.number(index - 1)])


def list_len(lst: exp.Expression) -> exp.Expression:
    """Number of elements of a list (NULL for NULL): a typed node every dialect knows."""
    return exp.ArraySize(this=lst)
