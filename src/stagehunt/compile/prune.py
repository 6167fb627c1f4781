"""Drop the columns of a statement's CTEs that nothing after them reads.

The compiler writes one CTE per command and carries every field through each, so a
detection over the add-on events (356 fields) lists them all in every CTE: ESCU's
largest statements are over 100 KB of SQL, and DuckDB spends most of their time planning
(binding and optimising every column of every CTE), not executing. A CTE's column that no
later CTE and not the final query names is not part of the result, so it is dropped.

Names are compared case-insensitively and without regard to which CTE a later reference
reads: a name read anywhere after a CTE keeps that column (never too few). A statement
that reads columns without naming them (``*`` other than in ``count(*)``, ``COLUMNS()``,
a join ``USING``, a recursive CTE) is left as it is, and so is a CTE whose projections
decide its rows (grouping, ``DISTINCT``, aggregates, ``UNNEST``).
"""

from __future__ import annotations

from sqlglot import exp

#: A CTE with these in its projections: dropping one could change its rows.
_ROW_SHAPERS: tuple[type[exp.Expression], ...] = (exp.AggFunc, exp.Unnest, exp.Explode)
#: A CTE with these clauses: its projections take part in deciding its rows.
_ROW_CLAUSES = ("group", "distinct", "having", "qualify")


def prune_projections(tree: exp.Expression) -> exp.Expression:
    """``tree`` with unread CTE columns removed (in place); returned for chaining."""
    with_ = tree.args.get("with_") or tree.args.get("with")
    if not isinstance(with_, exp.With) or with_.args.get("recursive") or _unnamed_reads(tree):
        return tree
    ctes = [cte for cte in with_.expressions if isinstance(cte, exp.CTE)]
    if len(ctes) != len(with_.expressions):
        return tree
    read = _names(tree, skip=with_)
    for cte in reversed(ctes):
        select = cte.this
        if isinstance(select, exp.Select) and _prunable(select):
            kept = [p for p in select.expressions if p.alias_or_name.lower() in read]
            if kept and len(kept) < len(select.expressions):
                select.set("expressions", kept)
            elif not kept and len(select.expressions) > 1:
                select.set("expressions", select.expressions[:1])
        read |= _names(select)
    return tree


def _unnamed_reads(tree: exp.Expression) -> bool:
    for star in tree.find_all(exp.Star):
        if not isinstance(star.parent, exp.Count):
            return True
    for join in tree.find_all(exp.Join):
        if join.args.get("using"):
            return True
    return tree.find(exp.Columns) is not None


def _prunable(select: exp.Select) -> bool:
    if any(select.args.get(clause) for clause in _ROW_CLAUSES):
        return False
    return not any(p.find(*_ROW_SHAPERS) for p in select.expressions)


def _names(node: exp.Expression, skip: exp.Expression | None = None) -> set[str]:
    """Every name a column reference in ``node`` uses (a qualifier too: ``x.y`` may be a
    struct's field), outside ``skip``."""
    out: set[str] = set()
    for column in node.walk(prune=lambda n: n is skip):
        if isinstance(column, exp.Column):
            out.update(part.name.lower() for part in column.parts)
    return out
