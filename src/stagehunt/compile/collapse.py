"""Merge a query into the plain projection it reads, before Spark sees the tree.

The compiler writes one SELECT per command (an ``eval`` is a projection over the previous
result), so the corrected T1074 query reaches Spark as 37 nested SELECTs. Spark's analyzer
resolves one level of them per pass over the whole plan (the corrected query took 25
passes), so planning grows with the square of the depth. DuckDB flattens such chains
itself; Spark's ``CollapseProject`` runs only after analysis.

``SELECT f(x) FROM (SELECT a + b AS x FROM t WHERE p) AS s WHERE q(x)`` means the same as
``SELECT f(a + b) FROM t WHERE p AND q(a + b)`` when the inner query only computes
columns and filters: no grouping, window, DISTINCT, LIMIT, ORDER, join or generator. An
inner column that is not a plain column or literal is substituted only where the outer
query reads it once, so no expression is computed twice (Spark's own rule for
``CollapseProject``).
"""

from __future__ import annotations

from sqlglot import exp

#: Inner queries with these are not plain projections (or change the row count).
_BLOCKERS: tuple[type[exp.Expression], ...] = (
    exp.AggFunc,
    exp.Window,
    exp.Explode,
    exp.Unnest,
    exp.Subquery,
    exp.Rand,
)
_CLAUSES = ("group", "having", "qualify", "distinct", "limit", "order", "joins", "laterals")


def merge_projections(tree: exp.Expression) -> exp.Expression:
    """Every SELECT that reads a plain projection through a derived table, merged into it
    (in place; innermost first, so chains collapse whole)."""
    for select in reversed(list(tree.find_all(exp.Select))):
        while _merge_once(select):
            pass
    return tree


def _merge_once(outer: exp.Select) -> bool:
    source = outer.args.get("from_") or outer.args.get("from")
    if not isinstance(source, exp.From) or not isinstance(source.this, exp.Subquery):
        return False
    if outer.args.get("joins") or outer.args.get("laterals"):
        return False
    if any(isinstance(p, exp.Star) or p.find(exp.Star) for p in outer.expressions):
        return False  # ``*`` would name the inner source's columns instead
    derived = source.this
    inner = derived.this
    if not isinstance(inner, exp.Select) or not _plain(inner):
        return False
    alias = derived.alias.lower()
    produced: dict[str, exp.Expression] = {}
    for projection in inner.expressions:
        if isinstance(projection, exp.Star):
            return False
        name = projection.alias_or_name.lower()
        if name in produced:
            return False
        produced[name] = projection.this if isinstance(projection, exp.Alias) else projection
    reads = _own_columns(outer)
    counts: dict[str, int] = {}
    for column in reads:
        if column.table and column.table.lower() != alias:
            return False  # a struct field (``p.v``) or another source: leave it
        name = column.name.lower()
        if name not in produced:
            return False
        counts[name] = counts.get(name, 0) + 1
    for name, count in counts.items():
        value = produced[name]
        if count > 1 and not isinstance(value, exp.Column | exp.Literal | exp.Null):
            return False
    if _shadowed(outer, reads, produced):
        return False
    for projection in list(outer.expressions):
        if isinstance(projection, exp.Column):  # keep its output name once substituted
            named = exp.Alias(alias=exp.to_identifier(projection.name, quoted=True))
            projection.replace(named)
            named.set("this", projection)  # the same node: ``reads`` still holds it
    for column in reads:
        column.replace(produced[column.name.lower()].copy())
    inner_where = inner.args.get("where")
    outer_where = outer.args.get("where")
    if inner_where is not None:
        condition = inner_where.this
        if outer_where is not None:
            condition = exp.and_(exp.paren(condition), exp.paren(outer_where.this))
        outer.set("where", exp.Where(this=condition))
    inner_from = inner.args.get("from_") or inner.args.get("from")
    outer.set("from_" if "from_" in outer.args else "from", inner_from)
    return True


def _shadowed(
    outer: exp.Select, reads: list[exp.Column], produced: dict[str, exp.Expression]
) -> bool:
    """Would a name in ORDER BY / GROUP BY / HAVING come to mean another value? Those
    clauses read the SELECT's own output names first: ``SELECT bin(t) AS _time ... ORDER
    BY __t`` with ``__t`` being the inner ``_time`` must not become ``ORDER BY _time``."""
    outputs: dict[str, exp.Expression | None] = {}
    for projection in outer.expressions:
        value = projection.this if isinstance(projection, exp.Alias) else projection
        if isinstance(value, exp.Column) and not value.table:
            outputs[projection.alias_or_name.lower()] = produced.get(value.name.lower())
        else:
            outputs[projection.alias_or_name.lower()] = None  # computed: another value
    for column in reads:
        clause = column
        while clause.parent is not None and clause.parent is not outer:
            clause = clause.parent
        if clause.arg_key not in ("order", "group", "having", "qualify"):
            continue
        replacement = produced[column.name.lower()]
        named = [replacement] if isinstance(replacement, exp.Column) else []
        for inner in named + list(replacement.find_all(exp.Column)):
            name = inner.name.lower()
            if name in outputs:
                same = outputs[name]
                if not (isinstance(same, exp.Column) and same.name.lower() == name):
                    return True
    return False


def _plain(select: exp.Select) -> bool:
    """Columns computed from one source and a filter, nothing that groups, orders, numbers
    rows or changes their count."""
    if any(select.args.get(clause) for clause in _CLAUSES):
        return False
    if select.args.get("with_") or select.args.get("with"):
        return False
    source = select.args.get("from_") or select.args.get("from")
    if not isinstance(source, exp.From):
        return False
    for projection in select.expressions:
        if projection.find(*_BLOCKERS):
            return False
        if any(
            isinstance(n, exp.Anonymous) and n.name.upper() in _GENERATORS
            for n in projection.walk()
        ):
            return False
    where = select.args.get("where")
    return where is None or not where.find(exp.Subquery, exp.Window, exp.AggFunc)


#: Functions written as plain calls that change the row count or are not deterministic.
_GENERATORS = frozenset(
    {"EXPLODE", "EXPLODE_OUTER", "POSEXPLODE", "INLINE", "STACK", "UUID", "RAND", "RANDN"}
)


def _own_columns(select: exp.Select) -> list[exp.Column]:
    """The columns ``select`` itself reads: not those of a nested query, not the
    parameters of a lambda (``p -> p.v``)."""
    out: list[exp.Column] = []
    stack: list[tuple[exp.Expression, frozenset[str]]] = [
        (child, frozenset())
        for child in select.iter_expressions()
        if child.arg_key not in ("from", "from_")
    ]
    while stack:
        node, bound = stack.pop()
        if isinstance(node, exp.Select | exp.Subquery):
            continue
        if isinstance(node, exp.Lambda):
            names = frozenset(p.name.lower() for p in node.expressions)
            stack.append((node.this, bound | names))
            continue
        if isinstance(node, exp.Column):
            if (node.table or node.name).lower() not in bound:  # ``p`` or ``p.v`` of a lambda
                out.append(node)
            continue
        stack.extend((child, bound) for child in node.iter_expressions())
    return out
