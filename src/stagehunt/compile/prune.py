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

from collections.abc import Iterable
from typing import NamedTuple

from sqlglot import exp

#: A CTE with these in its projections: dropping one could change its rows.
_ROW_SHAPERS: tuple[type[exp.Expression], ...] = (exp.AggFunc, exp.Unnest, exp.Explode)
#: A CTE with these clauses: its projections take part in deciding its rows.
_ROW_CLAUSES = ("group", "distinct", "having", "qualify")


class _Reads(NamedTuple):
    """What a part of the statement reads, from one walk of it."""

    names: set[str]  # every name a column reference uses (a qualifier too)
    unnamed: bool  # reads columns without naming them
    shapes_rows: bool  # holds an aggregate, UNNEST or EXPLODE


def prune_projections(tree: exp.Expression, *, own: bool = False) -> exp.Expression:
    """``tree`` without its unread CTE columns: a new tree when any goes, else ``tree``
    itself (never modified: a cached dataset's CTEs are shared by many statements),
    unless it is the caller's ``own``: then its CTEs lose the columns in place.

    The statement is walked once (this runs on every render for DuckDB), each CTE's
    projections apart from the rest of it, so that the names a dropped projection read
    no longer keep the columns of the CTEs before it. Only what stays is copied.
    """
    kept = _kept_projections(tree)
    if not kept:
        return tree
    with_ = tree.args.get("with_") or tree.args.get("with")
    assert isinstance(with_, exp.With)
    if own:
        for cte in with_.expressions:
            stays = kept.get(id(cte.this))
            if stays is not None:
                cte.this.set("expressions", stays)
        return tree
    ctes = []
    for cte in with_.expressions:
        select = cte.this
        stays = kept.get(id(select))
        copied = (
            select.copy() if stays is None else _copy(select, expressions=[p.copy() for p in stays])
        )
        ctes.append(_copy(cte, this=copied))
    return _copy(tree, **{with_.arg_key: _copy(with_, expressions=ctes)})


def _kept_projections(tree: exp.Expression) -> dict[int, list[exp.Expression]]:
    """The projections that stay, by ``id`` of each CTE select that loses some."""
    with_ = tree.args.get("with_") or tree.args.get("with")
    if not isinstance(with_, exp.With) or with_.args.get("recursive"):
        return {}
    ctes = with_.expressions
    if not all(isinstance(cte, exp.CTE) for cte in ctes):
        return {}
    body = _reads(child for _, child in _children(tree) if child is not with_)
    if body.unnamed:
        return {}
    parts: list[tuple[exp.Expression, _Reads, list[_Reads]]] = []
    for cte in ctes:
        select = cte.this
        if isinstance(select, exp.Select):
            own = _reads(child for key, child in _children(select) if key != "expressions")
            projections = [_reads((p,)) for p in select.expressions]
        else:
            own, projections = _reads((select,)), []
        if own.unnamed or any(p.unnamed for p in projections):
            return {}
        parts.append((select, own, projections))
    kept: dict[int, list[exp.Expression]] = {}
    read = body.names
    for select, own, projections in reversed(parts):
        if (
            isinstance(select, exp.Select)
            and not any(select.args.get(clause) for clause in _ROW_CLAUSES)
            and not any(p.shapes_rows for p in projections)
        ):
            keep = [p.alias_or_name.lower() in read for p in select.expressions]
            if not any(keep):  # nothing read: one column stays, so the CTE keeps its rows
                keep = [i == 0 for i in range(len(keep))]
            if not all(keep):
                kept[id(select)] = [p for p, k in zip(select.expressions, keep, strict=True) if k]
                projections = [r for r, k in zip(projections, keep, strict=True) if k]
        read = read | own.names
        for r in projections:
            read |= r.names
    return kept


def _copy(node: exp.Expression, **replaced: object) -> exp.Expression:
    """A copy of ``node`` with ``replaced`` arguments as given and the others copied."""
    args: dict[str, object] = {}
    for key, value in node.args.items():
        if key in replaced:
            args[key] = replaced[key]
        elif isinstance(value, exp.Expression):
            args[key] = value.copy()
        elif isinstance(value, list):
            args[key] = [v.copy() if isinstance(v, exp.Expression) else v for v in value]
        else:
            args[key] = value
    copy = type(node)(**args)
    copy.comments = list(node.comments) if node.comments else None
    return copy


def _children(node: exp.Expression) -> Iterable[tuple[str, exp.Expression]]:
    """``node``'s direct children, each with the name of the argument holding it."""
    for key, value in node.args.items():
        if isinstance(value, exp.Expression):
            yield key, value
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, exp.Expression):
                    yield key, item


def _reads(nodes: Iterable[exp.Expression]) -> _Reads:
    """One walk of ``nodes`` and everything under them."""
    names: set[str] = set()
    unnamed = shapes_rows = False
    stack = list(nodes)
    while stack:
        node = stack.pop()
        if isinstance(node, exp.Column):
            names.update(part.name.lower() for part in node.parts)
        elif isinstance(node, exp.Star):
            unnamed = unnamed or not isinstance(node.parent, exp.Count)
        elif isinstance(node, exp.Columns) or (
            isinstance(node, exp.Join) and node.args.get("using")
        ):
            unnamed = True
        elif isinstance(node, _ROW_SHAPERS):
            shapes_rows = True
        for value in node.args.values():
            if isinstance(value, exp.Expression):
                stack.append(value)
            elif isinstance(value, list):
                stack.extend(item for item in value if isinstance(item, exp.Expression))
    return _Reads(names, unnamed, shapes_rows)
