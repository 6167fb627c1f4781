"""The row filter of a compiled query that only filters events (issue 14, one pass).

Why: a rule library is mostly searches that keep or drop each event on its own (Sigma's
Splunk backend writes a ``search``, sometimes a ``regex`` or ``rex``/``eval``). Running
each as its own statement scans the events once per rule. When a query's statement is a
chain of CTEs that each select from the one before, row for row (no join, aggregate,
window, ``UNNEST``, ``LIMIT``, ``DISTINCT`` or subquery), then whether an event is in the
result depends on that event alone, and the conditions of every ``WHERE`` in the chain,
with the columns they name replaced by what they stand for in the stored table, make one
predicate over the table's columns. Many such predicates can then share one scan
(``sigma/onepass.py``). Anything else gives ``None``: the query runs as its own statement.

The predicate keeps the query's three-valued logic (each ``WHERE`` keeps rows where its
condition is true; their conjunction is true exactly when each is).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlglot import exp

from stagehunt.compile.compiler import CompiledQuery
from stagehunt.compile.relation import SEQ, parenthesize

#: Nodes that make a row's fate depend on other rows, or the row count change.
_NOT_ROW_LOCAL = (
    exp.AggFunc,
    exp.Window,
    exp.Unnest,
    exp.Explode,
    exp.Subquery,
    exp.Select,
    exp.Lambda,  # a lambda's own variables are columns too: not substituted safely
    exp.Join,
    exp.Union,
    exp.Rand,
)


#: The parts of a SELECT that keep it row for row (sqlglot's argument names).
_ROW_FOR_ROW = frozenset({"expressions", "from_", "where", "order", "with_"})


@dataclass(frozen=True)
class RowFilter:
    """``table`` rows are in the query's result exactly when ``predicate`` is true."""

    table: str
    predicate: exp.Expression
    #: the predicate's top-level ``AND`` terms, in order (their conjunction is ``predicate``)
    conjuncts: tuple[exp.Expression, ...]
    #: the result's visible columns: (name, the table column it shows, or None when the
    #: value is computed), in order
    outputs: tuple[tuple[str, str | None], ...]

    def shows_stored(self, physical: Mapping[str, str]) -> bool:
        """Whether the result shows exactly the stored fields ``physical`` maps to their
        columns (field -> column), each under its own name: then a kept event's row is
        its stored fields."""
        names = [name for name, _ in self.outputs]
        return (
            len(names) == len(set(names))
            and set(names) == set(physical)
            and all(
                column is not None and physical[name] == column for name, column in self.outputs
            )
        )


def _plain(select: exp.Expression) -> exp.Expression | None:
    """The single table or CTE ``select`` reads, if it is a row-for-row select of it."""
    if not isinstance(select, exp.Select):
        return None
    if any(value for key, value in select.args.items() if key not in _ROW_FOR_ROW):
        return None  # joins, GROUP BY, LIMIT, DISTINCT, QUALIFY, ...
    source = select.args.get("from_")
    if source is None:
        return None
    if isinstance(source.this, exp.Identifier):  # how the compiler names a CTE or table
        return source.this
    if not isinstance(source.this, exp.Table) or source.this.args.get("db"):
        return None
    for item in select.expressions:
        if item.find(*_NOT_ROW_LOCAL) is not None:
            return None
    where = select.args.get("where")
    if where is not None and where.find(*_NOT_ROW_LOCAL) is not None:
        return None
    return source.this


def _substitute(node: exp.Expression, names: dict[str, exp.Expression]) -> exp.Expression | None:
    """``node`` with every column replaced by (a copy of) its definition, in place (None:
    a column with no definition, so the query is not a plain chain)."""
    missing = False

    def swap(n: exp.Expression) -> exp.Expression:
        nonlocal missing
        if isinstance(n, exp.Column) and not n.table:
            found = names.get(n.name.lower())
            if found is None:
                missing = True
                return n
            return found.copy()
        return n

    out = node.transform(swap, copy=False)
    return None if missing else out


def _truth(e: exp.Expression) -> bool | None:
    """True/False for a constant boolean (possibly in parentheses), else None."""
    while isinstance(e, exp.Paren):
        e = e.this
    return bool(e.this) if isinstance(e, exp.Boolean) else None


def fold(e: exp.Expression) -> exp.Expression:
    """``e`` with constant ``TRUE``/``FALSE`` folded through ``AND``, ``OR``, ``NOT`` and
    ``COALESCE(b, FALSE)``, as three-valued logic allows (``x OR FALSE`` is ``x``, ``x AND
    FALSE`` is ``FALSE``, also when ``x`` is NULL). Fields a table lacks compile to
    ``FALSE``; folding them away keeps a rule's terms to those that can hold. Iterative,
    bottom-up: the trees are deep."""
    order: list[exp.Expression] = []
    stack = [e]
    while stack:
        node = stack.pop()
        order.append(node)
        if isinstance(node, exp.And | exp.Or):
            stack += [node.this, node.expression]
        elif isinstance(node, exp.Not | exp.Paren) or (
            isinstance(node, exp.Coalesce) and len(node.expressions) == 1
        ):
            stack.append(node.this)
    done: dict[int, exp.Expression] = {}

    def get(n: exp.Expression) -> exp.Expression:
        return done.get(id(n), n)

    for node in reversed(order):
        out: exp.Expression = node
        if isinstance(node, exp.And | exp.Or):
            a, b = get(node.this), get(node.expression)
            ta, tb = _truth(a), _truth(b)
            absorbing = isinstance(node, exp.Or)  # TRUE absorbs OR, FALSE absorbs AND
            if ta is absorbing or tb is absorbing:
                out = exp.Boolean(this=absorbing)
            elif ta is not None:
                out = b
            elif tb is not None:
                out = a
            else:
                out = node.__class__(this=a, expression=b)
        elif isinstance(node, exp.Not):
            inner = get(node.this)
            t = _truth(inner)
            out = exp.Boolean(this=not t) if t is not None else exp.Not(this=inner)
        elif isinstance(node, exp.Paren):
            inner = get(node.this)
            out = inner if _truth(inner) is not None else exp.Paren(this=inner)
        elif isinstance(node, exp.Coalesce) and len(node.expressions) == 1:
            inner = get(node.this)
            t, fallback = _truth(inner), _truth(node.expressions[0])
            if t is not None:
                out = inner
            elif fallback is not None:
                out = exp.Coalesce(this=inner, expressions=[node.expressions[0]])
        done[id(node)] = out
    return get(e)


def _output(item: exp.Expression) -> tuple[str, exp.Expression]:
    if isinstance(item, exp.Alias):
        return item.alias.lower(), item.this
    if isinstance(item, exp.Column):
        return item.name.lower(), item
    raise ValueError("unnamed select item")


def _conjuncts(e: exp.Expression) -> list[exp.Expression]:
    while isinstance(e, exp.Paren):
        e = e.this
    if isinstance(e, exp.Coalesce) and not e.expressions and isinstance(e.this, exp.Boolean):
        return [e.this]
    if isinstance(e, exp.And):
        return _conjuncts(e.this) + _conjuncts(e.expression)
    return [e]


def row_filter(compiled: CompiledQuery) -> RowFilter | None:
    """The predicate over the stored table that selects ``compiled``'s results, when its
    statement only filters events one by one (module docstring); else None. The predicate
    is made of ``compiled``'s own nodes (copying a library's trees cost more than compiling
    them): ``compiled`` is not to be run afterwards."""
    if not compiled.event_rows or compiled.tables or compiled.deferred or compiled.datasets:
        return None
    final = compiled.sql
    if not isinstance(final, exp.Select) or final.args.get("where") or _plain(final) is None:
        return None
    ctes = {cte.alias: cte.this for cte in final.ctes}
    if not ctes:
        return None
    chain: list[exp.Select] = []
    source = _plain(final)
    while source is not None and source.name in ctes:
        select = ctes.pop(source.name)
        chain.append(select)
        source = _plain(select)
    if source is None or ctes or not chain:
        return None  # unused or unreachable CTEs: not a simple chain
    table = source.name
    chain.reverse()
    names: dict[str, exp.Expression] | None = None
    terms: list[exp.Expression] = []
    try:
        for select in chain:
            mapping: dict[str, exp.Expression] = {}
            for item in select.expressions:
                name, value = _output(item)
                if names is None:  # the first CTE reads the stored table itself
                    if not isinstance(value, exp.Column):
                        return None
                    mapping[name] = value
                    continue
                if isinstance(value, exp.Column) and not value.table:
                    found = names.get(value.name.lower())  # passed on: shared, not copied
                    if found is None:
                        return None
                    mapping[name] = found
                    continue
                swapped = _substitute(value, names)
                if swapped is None:
                    return None
                mapping[name] = swapped
            where = select.args.get("where")
            if where is not None:
                if names is None:
                    return None  # the stored table's own filter is not modelled
                swapped = _substitute(where.this, names)
                if swapped is None:
                    return None
                terms.extend(_conjuncts(fold(swapped)))
            names = mapping
    except ValueError:
        return None
    if names is None or SEQ.lower() not in names:
        return None
    outputs: list[tuple[str, str | None]] = []
    for item in final.expressions:
        try:
            name, value = _output(item)
        except ValueError:
            return None
        if name == "__event":
            continue
        shown = names.get(value.name.lower()) if isinstance(value, exp.Column) else None
        outputs.append((item.alias_or_name, shown.name if isinstance(shown, exp.Column) else None))
    terms = [t for t in terms if not (isinstance(t, exp.Boolean) and t.this)]  # TRUE: no test
    if any(isinstance(t, exp.Boolean) and not t.this for t in terms):
        terms = [exp.false()]  # the query keeps no event (a field the table lacks, say)
    if not terms:
        terms = [exp.true()]
    conjuncts = tuple(
        t if isinstance(t, exp.Boolean | exp.Column) else parenthesize(exp.paren(t, copy=False))
        for t in terms
    )
    predicate = exp.and_(*conjuncts, copy=False) if len(conjuncts) > 1 else conjuncts[0]
    return RowFilter(table, predicate, conjuncts, tuple(outputs))


#: Prefix of the column that holds a stored column's lowercase (`share_lower`).
LOWER_PREFIX = "__lower:"


def share_lower(terms: tuple[exp.Expression, ...]) -> tuple[str, ...]:
    """Replace, in place, every ``LOWER(<column>)`` of ``terms`` by the column
    ``LOWER_PREFIX + <column>``; returns those columns' names (sorted).

    Why: Splunk's case-insensitive matching compiles to ``LOWER(field)`` once per value
    compared, and a rule with a thousand values (SigmaHQ's emoji and driver lists) lowered
    the same command line a thousand times per event: 250 s of a 100k-event run. The
    evaluator computes each lowercase once per event instead (`sigma.onepass`)."""
    found: set[str] = set()
    for term in terms:
        for node in list(term.find_all(exp.Lower)):
            inner = node.this
            if isinstance(inner, exp.Column) and not inner.table:
                found.add(inner.name)
                node.replace(
                    exp.column(exp.Identifier(this=LOWER_PREFIX + inner.name, quoted=True))
                )
    return tuple(sorted(found))


def _term_bounds() -> list[tuple[str, str]]:
    """(start, end) around a bare term's regex (`search.term_regex`), for both breakers."""
    from stagehunt.compile.search import term_regex

    out: list[tuple[str, str]] = []
    for term in (False, True):
        empty = term_regex("", term)  # "(^|B)($|B)"
        cut = empty.index("($|")
        out.append((empty[:cut], empty[cut:]))
    return out


def guard_terms(terms: tuple[exp.Expression, ...]) -> None:
    """Put a cheap necessary condition, in place, before each bare-term regex of ``terms``.

    Why: a bare term (Sigma's keywords) compiles to ``regexp_matches(_raw,
    '(?i)(^|<breakers>)term($|<breakers>)')``; with that leading alternation RE2 cannot skip
    ahead to the term and reads every event's ``_raw`` slowly: one keyword rule with no log
    source took 46 s of a 100k-event run. ``regexp_matches(_raw, '(?i)term')`` holds
    whenever the full pattern does and runs about six times faster: ``CASE WHEN <cheap>
    THEN <full> WHEN _raw IS NOT NULL THEN FALSE END`` evaluates the full pattern only
    where the cheap one holds (DuckDB evaluates an ``AND`` outside a filter on every row,
    a ``THEN`` only on its rows), and is NULL where ``_raw`` is, as the full pattern is.
    The result is unchanged."""
    bounds = _term_bounds()
    for term in terms:
        for node in list(term.find_all(exp.RegexpLike)):
            pattern = node.expression
            if not (isinstance(pattern, exp.Literal) and pattern.is_string):
                continue
            text = pattern.this
            flags = "(?i)" if text.startswith("(?i)") else ""
            body = text[len(flags) :]
            for start, end in bounds:
                if body.startswith(start) and body.endswith(end):
                    core = body[len(start) : len(body) - len(end)]
                    break
            else:
                continue
            if not core or core.startswith("[^") or core.endswith("]*"):
                continue  # a wildcard at either end: no literal to look for first
            value = node.this
            cheap = exp.RegexpLike(
                this=value.copy(), expression=exp.Literal.string(f"{flags}(?:{core})")
            )
            present = exp.Not(this=exp.Is(this=value.copy(), expression=exp.Null()))
            guarded = (
                exp.Case()
                .when(cheap, node.copy(), copy=False)
                .when(present, exp.false(), copy=False)
            )
            node.replace(guarded)
