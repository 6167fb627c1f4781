"""An emptiness check: a small prefix of a statement whose having no row means the
statement has none.

A detection library run over a case's logs is mostly statements that return nothing:
their search matches no event of the case (measured: 1,408 of ESCU's 1,548 statements
over the real logs return no row, 89 % of the run's time). DuckDB binds and plans each
whole statement all the same, and that, not reading the events, is what such a run pays
(most of ESCU's statements are kilobytes of SQL over a few thousand events). The
statement's streaming prefix (the CTEs that read the events and filter them, before any
grouping, window or join) is a fraction of that SQL; when it has no row, the statement
has none either, and the rest need not be planned.

Whether an empty CTE makes the statement empty is decided by SQL's own rules, not SPL's,
and only where they leave no doubt (`empty_if`): a ``SELECT`` over an empty ``FROM`` is
empty unless it aggregates without grouping (``count(*)`` of nothing is one row: a
``stats`` without ``by``); an inner join is empty when either side is; an outer join when
its preserved side is; a ``UNION`` when every part is. Anything else (a table function,
``VALUES``, ``GROUPING SETS``, ``GROUP BY ALL``, a function this module does not know to
be scalar in an ungrouped projection) keeps the statement from being checked through it.
"""

from __future__ import annotations

import re
from functools import cache
from typing import NamedTuple

import duckdb
from sqlglot import exp

from stagehunt.compile.dialects import generate
from stagehunt.compile.prune import prune_projections

__all__ = ["check", "check_text", "empty_if"]

#: Parts of a SELECT after which its rows no longer stream from its FROM one by one.
_BLOCKING: tuple[type[exp.Expression], ...] = (exp.AggFunc, exp.Window, exp.Unnest, exp.Explode)
#: Clauses of a SELECT that group, filter groups or rows after windows, or drop repeats.
_NOT_STREAMING = ("joins", "group", "having", "qualify", "distinct")
#: Functions whose value differs from one statement to the next (SPL's ``random()`` and
#: ``time()`` compile to them): a check that calls one may find what the statement does not.
_VOLATILE = re.compile(
    r"\b(?:random|setseed|uuid|gen_random_uuid|nextval|get_current_timestamp|current_timestamp"
    r"|now|get_current_time|current_time|current_date|today)\s*\(",
    re.IGNORECASE,
)


class _Cte(NamedTuple):
    """What this module needs of one CTE."""

    streaming: bool  # it and the CTE it reads only filter and compute row by row
    empty_if: frozenset[str]  # the CTEs whose emptiness empties it


def check_text(tree: exp.Expression, *, own: bool = False) -> str | None:
    """`check` as DuckDB SQL; None also when the check calls a function whose value
    changes between statements (then the check and the statement could disagree)."""
    found = check(tree, own=own)
    text = None if found is None else generate(found, own=True)
    return None if text is None or _VOLATILE.search(text) else text


def check(tree: exp.Expression, *, own: bool = False) -> exp.Expression | None:
    """``SELECT 1 FROM <cte> LIMIT 1`` over the last CTE of the statement's streaming
    prefix whose emptiness makes the statement empty, with the CTEs before it (DuckDB
    binds only those it reads) and only the columns their filters need; None when the
    statement has no such CTE, or when the check would hold every CTE of the statement
    (nothing is saved by it). With ``own``, the check takes the statement's CTEs as they
    are (the caller is done with ``tree``); else it copies them."""
    ctes = _analysed(tree)
    targets = _empty_if(tree, ctes) if ctes else frozenset()
    chosen = [i for i, (name, cte) in enumerate(ctes.items()) if name in targets and cte.streaming]
    if not chosen or chosen[-1] == len(ctes) - 1:
        return None
    with_ = tree.args["with_"]
    kept = with_.expressions[: chosen[-1] + 1]
    if not own:
        kept = [cte.copy() for cte in kept]
    select = exp.select(exp.Literal.number(1)).from_(exp.to_identifier(kept[-1].alias)).limit(1)
    select.set("with_", exp.With(expressions=kept))
    return prune_projections(select, own=True)


def empty_if(tree: exp.Expression) -> frozenset[str]:
    """The CTEs of ``tree`` (lower-case names) any of which, having no row, leaves the
    statement without a row."""
    return _empty_if(tree, _analysed(tree))


def _analysed(tree: exp.Expression) -> dict[str, _Cte]:
    """The statement's CTEs by lower-case name, in order (a CTE reads only the ones
    before it; a recursive WITH is not analysed).

    Only a CTE's projections, ``ORDER BY`` and ``QUALIFY`` are walked (for aggregates
    and windows): its ``WHERE``, where a search's filters are (most of the SQL), holds
    neither but in a subquery, which makes no row of the CTE's own."""
    with_ = tree.args.get("with_")
    if not isinstance(with_, exp.With) or with_.args.get("recursive"):
        return {}
    out: dict[str, _Cte] = {}
    for cte in with_.expressions:
        query = cte.this
        if isinstance(query, exp.Select):
            blocking, aggregates = _blocking(query)
            from_ = query.args.get("from_")
            source = _named(from_.this) if isinstance(from_, exp.From) else None
            streaming = (
                not blocking
                and not any(query.args.get(k) for k in _NOT_STREAMING)
                and (source is None or source not in out or out[source].streaming)
            )
            empty = _empty_if(query, out, aggregates)
        else:
            streaming, empty = False, _empty_if(query, out)
        out[cte.alias_or_name.lower()] = _Cte(streaming, empty)
    return out


def _blocking(select: exp.Select) -> tuple[bool, bool]:
    """Whether the SELECT's projections, ORDER BY or QUALIFY hold an aggregate, window,
    UNNEST or EXPLODE; and whether an aggregate of its own rows (outside any window and
    subquery)."""
    blocking = aggregates = False
    aggregate_names = _duckdb_aggregates()
    parts = [*select.expressions, select.args.get("order"), select.args.get("qualify")]
    stack: list[tuple[exp.Expression, bool]] = [
        (p, True) for p in parts if p is not None and not _plain(p)
    ]
    while stack:
        node, own = stack.pop()  # own: not inside a window or a subquery
        if isinstance(node, _BLOCKING):
            blocking = True
            aggregates = aggregates or (own and isinstance(node, exp.AggFunc))
        elif own and isinstance(node, exp.Anonymous) and node.name.lower() in aggregate_names:
            blocking = aggregates = True
        if own and isinstance(node, exp.Window | exp.Query | exp.Subquery):
            own = False
        for value in node.args.values():
            if isinstance(value, exp.Expression):
                stack.append((value, own))
            elif isinstance(value, list):
                stack.extend((item, own) for item in value if isinstance(item, exp.Expression))
    return blocking, aggregates


def _empty_if(
    node: exp.Expression, ctes: dict[str, _Cte], aggregates: bool | None = None
) -> frozenset[str]:
    """The CTEs whose emptiness empties ``node`` (``aggregates``: whether it aggregates
    its own rows, when its walk has told)."""
    if isinstance(node, exp.Subquery):
        return _empty_if(node.this, ctes)
    if isinstance(node, exp.Union):
        return _empty_if(node.this, ctes) & _empty_if(node.expression, ctes)
    if isinstance(node, exp.Intersect):
        return _empty_if(node.this, ctes) | _empty_if(node.expression, ctes)
    if isinstance(node, exp.Except):
        return _empty_if(node.this, ctes)
    if not isinstance(node, exp.Select) or not _keeps_empty(node, aggregates):
        return frozenset()
    from_ = node.args.get("from_")
    if not isinstance(from_, exp.From):
        return frozenset()  # SELECT 1: a row of its own
    found = _source(from_.this, ctes)
    for join in node.args.get("joins") or ():
        right = _source(join.this, ctes)
        side, kind = join.side.upper(), join.kind.upper()
        if join.args.get("method"):  # ASOF, POSITIONAL: empty when both sides are
            found &= right
        elif not side and kind in ("", "INNER", "CROSS", "SEMI"):
            found |= right
        elif (side == "LEFT" and kind in ("", "OUTER")) or (not side and kind == "ANTI"):
            pass  # the left side's rows decide
        elif side == "RIGHT" and kind in ("", "OUTER"):
            found = right
        else:  # FULL, and any other: empty when both sides are
            found &= right
    return found


def _source(node: exp.Expression, ctes: dict[str, _Cte]) -> frozenset[str]:
    """What empties a FROM or JOIN source: a CTE (and what empties it), a subquery."""
    if node.args.get("pivots"):
        return frozenset()
    if isinstance(node, exp.Subquery):
        return _empty_if(node.this, ctes)
    name = _named(node)
    cte = ctes.get(name) if name is not None else None
    if name is None or cte is None:
        return frozenset()  # a table function, VALUES, UNNEST, a stored table, ...
    return cte.empty_if | {name}


def _named(node: exp.Expression) -> str | None:
    """The lower-case name of a FROM or JOIN source that names a table (the compiler
    names its CTEs with bare identifiers), else None."""
    if isinstance(node, exp.Table) and isinstance(node.this, exp.Identifier):
        node = node.this if not node.args.get("db") else node
    return str(node.name).lower() if isinstance(node, exp.Identifier) else None


def _plain(node: exp.Expression) -> bool:
    """A column, or a column under another name: most of a pruned statement's projections."""
    return isinstance(node.this if isinstance(node, exp.Alias) else node, exp.Column)


def _keeps_empty(select: exp.Select, aggregates: bool | None = None) -> bool:
    """Whether the SELECT has no row when its FROM has none: it groups by plain
    expressions, or holds no aggregate at all (``aggregates``: whether it does, when
    known)."""
    group = select.args.get("group")
    if isinstance(group, exp.Group):
        plain = not any(group.args.get(k) for k in ("all", "grouping_sets", "cube", "rollup"))
        return plain and not any(
            isinstance(e, exp.Rollup | exp.Cube | exp.GroupingSets) for e in group.expressions
        )
    if select.args.get("having") is not None:
        return False
    return not (_blocking(select)[1] if aggregates is None else aggregates)


@cache
def _duckdb_aggregates() -> frozenset[str]:
    """DuckDB's aggregate function names (what an unknown function's name may be)."""
    con = duckdb.connect()
    try:
        rows = con.execute(
            "SELECT DISTINCT lower(function_name) FROM duckdb_functions()"
            " WHERE function_type = 'aggregate'"
        ).fetchall()
    finally:
        con.close()
    return frozenset(str(r[0]) for r in rows)
