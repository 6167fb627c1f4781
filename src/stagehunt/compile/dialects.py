"""Rendering the compiled tree for a SQL dialect: every per-dialect difference lives here.

The compiler builds one sqlglot tree in DuckDB's vocabulary (lists, ``LAMBDA``,
``list_aggregate``, ``regexp_full_match``, ``list(x ORDER BY o)``, ``agg FILTER (WHERE)``).
sqlglot's generators translate most typed nodes by themselves (``ArraySize`` → ``SIZE``,
``ArgMin`` → ``MIN_BY``, ``Unnest`` → ``EXPLODE``, strftime formats → Java patterns).
What they do not translate, or translate with a different meaning, is rewritten by one
function per construct below, listed in :data:`SPARK_REWRITES`; ``render`` applies the
table of the dialect asked for. DuckDB needs no rewrite: the tree is DuckDB's already.

Session settings the rewritten SQL relies on (ANSI off: a failed cast is NULL like
DuckDB's ``TRY_CAST``; ``sizeOfNull`` off: ``SIZE(NULL)`` is NULL; UTC session time zone)
are :data:`SPARK_CONF`, applied by the Spark backend.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from stagehunt.compile.collapse import merge_projections
from stagehunt.compile.prune import prune_projections
from stagehunt.recursion import ensure_room

#: A rewrite gets a node of its construct and returns the node to put in its place.
Rewrite = Callable[[exp.Expression], exp.Expression]

#: Spark settings the Spark rendering assumes (one session per process, set at start).
SPARK_CONF: dict[str, str] = {
    "spark.sql.ansi.enabled": "false",
    "spark.sql.legacy.sizeOfNull": "false",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.caseSensitive": "false",
}


class DialectUnsupported(ValueError):
    """A construct the compiler emits has no equivalent in the target dialect yet."""

    def __init__(self, construct: str, dialect: str) -> None:
        super().__init__(f"{construct} is not supported on the {dialect} engine")
        self.construct = construct


def _anon(name: str, *args: exp.Expression) -> exp.Anonymous:
    return exp.Anonymous(this=name, expressions=list(args))


def _args(node: exp.Expression) -> list[exp.Expression]:
    return list(node.expressions) if isinstance(node, exp.Anonymous) else []


def _num(n: int) -> exp.Literal:
    return exp.Literal.number(n)


def _int(e: exp.Expression) -> exp.Expression:
    """Spark's array functions take INT positions; the compiler's arithmetic is BIGINT."""
    if isinstance(e, exp.Literal) and not e.is_string:
        return e
    return exp.cast(e, "INT")


def _lambda(body: exp.Expression, *names: str) -> exp.Lambda:
    return exp.Lambda(this=body, expressions=[exp.to_identifier(n) for n in names])


# ----------------------------------------------------------------- Spark rewrites, per construct


def java_regex(pattern: str) -> str:
    """An RE2 pattern (compile/regex.py writes named groups ``(?P<name>...)``) as a Java
    one: each named group becomes a plain capturing group, numbered the same (Java's
    names allow no ``_``; the compiler reads groups by number on Spark). The rest of the
    RE2 syntax the compiler emits means the same in Java."""
    out: list[str] = []
    i, n = 0, len(pattern)
    in_class = False
    while i < n:
        ch = pattern[i]
        if ch == "\\":
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
            out.append(ch)
            i += 1
            for lead in ("^", "]"):  # a ']' first in a class is a member
                if pattern.startswith(lead, i):
                    out.append(lead)
                    i += 1
            continue
        elif pattern.startswith("(?P<", i):
            close = pattern.find(">", i)
            if close > 0:
                out.append("(")
                i = close + 1
                continue
        out.append(ch)
        i += 1
    return "".join(out)


def _java(pattern: exp.Expression) -> exp.Expression:
    """A literal pattern translated by :func:`java_regex`; a computed one as it is."""
    if isinstance(pattern, exp.Literal) and pattern.is_string:
        return exp.Literal.string(java_regex(pattern.this))
    return pattern


def _spark_regex_operand(node: exp.Expression) -> exp.Expression:
    """``s RLIKE p``, ``regexp_extract(s, p, g)``, ``split(s, p)``: the pattern in Java."""
    node.set("expression", _java(node.expression))
    return node


def _spark_group_by_name(node: exp.Expression) -> exp.Expression:
    """``struct_extract(regexp_extract(s, p, [names]), 'name')`` (DuckDB reads more than
    nine groups by name) → ``regexp_extract(s, p, n)``, the name's group number."""
    found, name = node.this, node.expression
    groups = found.args.get("group") if isinstance(found, exp.RegexpExtract) else None
    if not isinstance(groups, exp.Array) or not isinstance(name, exp.Literal):
        return node
    labels = [g.this for g in groups.expressions if isinstance(g, exp.Literal)]
    if name.this not in labels:
        return node
    return exp.RegexpExtract(
        this=found.this, expression=found.expression, group=_num(labels.index(name.this) + 1)
    )


def _spark_full_match(node: exp.Expression) -> exp.Expression:
    """``regexp_full_match(s, p)`` (RE2, whole string) → ``s RLIKE '\\A(?:p)\\z'`` (Java)."""
    pattern = _java(node.expression)
    if isinstance(pattern, exp.Literal) and pattern.is_string:
        anchored: exp.Expression = exp.Literal.string(f"\\A(?:{pattern.this})\\z")
    else:
        anchored = exp.func(
            "concat", exp.Literal.string("\\A(?:"), pattern, exp.Literal.string(")\\z")
        )
    return exp.RegexpLike(this=node.this, expression=anchored)


def _spark_list_slice(node: exp.Expression) -> exp.Expression:
    """``list_slice(l, a, b)`` (1-based, both ends inclusive) → ``slice(l, a, b - a + 1)``."""
    lst, start, end = _args(node)
    length = exp.Add(this=exp.Sub(this=end, expression=start), expression=_num(1))
    length = exp.func("greatest", exp.paren(length), _num(0))
    return _anon("SLICE", lst, _int(start), _int(length))


def _spark_list_position(node: exp.Expression) -> exp.Expression:
    """``list_position`` is NULL when absent; ``array_position`` is 0 then."""
    lst, value = _args(node)
    return exp.Nullif(this=_anon("ARRAY_POSITION", lst, value), expression=_num(0))


def _spark_list_extract(node: exp.Expression) -> exp.Expression:
    lst, index = _args(node)
    return _anon("TRY_ELEMENT_AT", lst, _int(index))


def _spark_list_sum(node: exp.Expression) -> exp.Expression:
    (lst,) = _args(node)
    return _fold(lst, exp.Add(this=exp.column("acc"), expression=exp.column("x")))


def _fold(lst: exp.Expression, step: exp.Expression) -> exp.Expression:
    """``aggregate(l, NULL, (acc, x) -> ...)``: NULL for an empty list, like DuckDB."""
    start = exp.cast(exp.Null(), "DOUBLE")
    body = exp.If(
        this=exp.Is(this=exp.column("acc"), expression=exp.Null()),
        true=exp.cast(exp.column("x"), "DOUBLE"),
        false=step,
    )
    return _anon("AGGREGATE", lst, start, _lambda(body, "acc", "x"))


#: ``list_aggregate(l, 'name')`` → a Spark array function (or a fold) per aggregate name
_LIST_AGGREGATES: dict[str, Callable[[exp.Expression], exp.Expression]] = {
    "min": lambda lst: _anon("ARRAY_MIN", lst),
    "max": lambda lst: _anon("ARRAY_MAX", lst),
    "sum": lambda lst: _fold(lst, exp.Add(this=exp.column("acc"), expression=exp.column("x"))),
    "avg": lambda lst: exp.Div(
        this=_fold(lst, exp.Add(this=exp.column("acc"), expression=exp.column("x"))),
        expression=exp.Nullif(this=exp.ArraySize(this=lst), expression=_num(0)),
    ),
}


def _spark_list_aggregate(node: exp.Expression) -> exp.Expression:
    lst, name, *rest = _args(node)
    build = _LIST_AGGREGATES.get(str(name.this).lower()) if isinstance(name, exp.Literal) else None
    if build is None or rest:
        raise DialectUnsupported(f"list_aggregate({name.sql()})", "spark")
    return build(lst)


def _spark_epoch_us(node: exp.Expression) -> exp.Expression:
    (ts,) = _args(node)
    return _anon("UNIX_MICROS", ts)


def _spark_now(node: exp.Expression) -> exp.Expression:
    return exp.CurrentTimestamp()


def _spark_list_reduce(node: exp.Expression) -> exp.Expression:
    args = _args(node)
    if len(args) != 2:
        raise DialectUnsupported("list_reduce with an initial value (spath on XML)", "spark")
    lst, fn = args
    assert isinstance(fn, exp.Lambda)
    acc, x = (i.name for i in fn.expressions)
    first = exp.Bracket(this=lst, expressions=[_num(0)])
    rest = _anon("SLICE", lst, _num(2), exp.func("greatest", exp.ArraySize(this=lst), _num(1)))
    return _anon("AGGREGATE", rest, first, _lambda(fn.this, acc, x))


def _spark_ordered_list(node: exp.Expression) -> exp.Expression:
    """``list(v ORDER BY o)`` → the values of ``collect_list(struct(o, v))`` sorted by ``o``.

    A ``FILTER (WHERE c)`` around it is taken in here (``CASE WHEN c THEN struct END``:
    collect_list skips the NULLs) and marked done for :func:`_spark_filter`."""
    order = node.this
    if not isinstance(order, exp.Order):
        return node
    (key,) = order.expressions
    pair: exp.Expression = exp.Anonymous(
        this="STRUCT", expressions=[exp.alias_(key.this, "o"), exp.alias_(order.this, "v")]
    )
    parent = node.parent
    filtered = isinstance(parent, exp.Filter)
    if isinstance(parent, exp.Filter):
        pair = exp.Case().when(parent.expression.this.copy(), pair)
    collected = exp.ArraySort(this=_anon("COLLECT_LIST", pair))
    out = exp.Transform(this=collected, expression=_lambda(exp.column("v", table="p"), "p"))
    out.meta["filtered"] = filtered
    return out


def _spark_filter(node: exp.Expression) -> exp.Expression:
    """``agg(x) FILTER (WHERE c)`` → ``agg(CASE WHEN c THEN x END)``: Spark refuses FILTER
    in window aggregates (eventstats), and the CASE form means the same for aggregates that
    skip NULLs (all the compiler emits); ``count(*)`` counts a non-NULL marker instead."""
    agg, where = node.this, node.expression
    if agg.meta.get("filtered"):
        return agg
    cond = where.this
    if isinstance(agg, exp.Count) and isinstance(agg.this, exp.Star):
        return exp.Count(this=exp.Case().when(cond, _num(1)))
    agg = agg.copy()
    target = agg.this
    if target is None:
        raise DialectUnsupported(f"{agg.key} FILTER", "spark")
    agg.set("this", exp.Case().when(cond, target.copy()))
    return agg


#: strftime directive → Java DateTimeFormatter pattern (Spark's date_format)
_JAVA_TIME = {
    "Y": "yyyy", "y": "yy", "m": "MM", "d": "dd", "H": "HH", "I": "hh", "M": "mm",
    "S": "ss", "f": "SSSSSS", "p": "a", "b": "MMM", "B": "MMMM", "a": "EEE", "A": "EEEE",
    "j": "DDD", "z": "xx", "Z": "'UTC'", "%": "%",
}  # fmt: skip


def java_time_format(fmt: str) -> str:
    """A strftime format as a Java pattern: directives mapped, other text quoted."""
    out: list[str] = []
    literal: list[str] = []

    def flush() -> None:
        if literal:
            text = "".join(literal).replace("'", "''")
            out.append(f"'{text}'")
            literal.clear()

    i = 0
    while i < len(fmt):
        ch = fmt[i]
        if ch == "%" and i + 1 < len(fmt):
            directive = fmt[i + 1]
            java = _JAVA_TIME.get(directive)
            if java is None:
                raise DialectUnsupported(f"strftime directive %{directive}", "spark")
            if directive == "%":
                literal.append("%")
            else:
                flush()
                out.append(java)
            i += 2
            continue
        literal.append(ch)
        i += 1
    flush()
    return "".join(out)


def _spark_strftime(node: exp.Expression) -> exp.Expression:
    fmt = node.args.get("format")
    if not (isinstance(fmt, exp.Literal) and fmt.is_string):
        raise DialectUnsupported("strftime() with a computed format", "spark")
    return _anon("DATE_FORMAT", node.this, exp.Literal.string(java_time_format(fmt.this)))


def _spark_range(node: exp.Expression) -> exp.Expression:
    """``FROM range(n)`` names its column ``range`` in DuckDB, ``id`` in Spark."""
    if not isinstance(node.parent, exp.From):
        return node
    alias = exp.TableAlias(this=exp.to_identifier("r"), columns=[exp.to_identifier("range")])
    return exp.Table(this=node.copy(), alias=alias)


def _spark_unnest(node: exp.Expression) -> exp.Expression:
    """``UNNEST(list)`` in a select list (one row per element) is ``EXPLODE(list)``."""
    (lst,) = node.expressions
    explode = _anon("EXPLODE", lst)
    alias = node.args.get("alias")
    if alias is None:
        return explode
    name = alias.this if alias.this else alias.columns[0]
    return exp.alias_(explode, name.copy() if isinstance(name, exp.Expression) else name)


def _spark_quantile(node: exp.Expression) -> exp.Expression:
    """``quantile_cont(x, p)`` (linear interpolation) is Spark's ``percentile(x, p)``."""
    return _anon("PERCENTILE", node.this, node.expression)


def _spark_window(node: exp.Expression) -> exp.Expression:
    """Spark wants an ORDER BY in every ``row_number()`` window; where the compiler has no
    order (one group, any order is right) a constant one is given."""
    if isinstance(node.this, exp.RowNumber) and not node.args.get("order"):
        node.set("order", exp.Order(expressions=[exp.Ordered(this=_num(1))]))
    return node


def _spark_extract_all(node: exp.Expression) -> exp.Expression:
    """``regexp_extract_all(s, re[, g])``: DuckDB's group defaults to 0, Spark's to 1 (and
    sqlglot drops it), so the group is always written."""
    group = node.args.get("group") or _num(0)
    return _anon("REGEXP_EXTRACT_ALL", node.this, _java(node.expression), group)


def _spark_split_regex(node: exp.Expression) -> exp.Expression:
    text, regex = _args(node)
    return _anon("SPLIT", text, _java(regex))


def _java_replacement(rewrite: str, shift: int) -> str:
    """An RE2 rewrite string (``\\1`` a group, ``\\\\`` a backslash) as a Java one (``$1``,
    ``\\\\``, ``$`` escaped), group numbers moved up by ``shift``."""
    out: list[str] = []
    i = 0
    while i < len(rewrite):
        ch = rewrite[i]
        nxt = rewrite[i + 1] if i + 1 < len(rewrite) else ""
        if ch == "\\" and nxt.isdigit():
            out.append(f"${int(nxt) + shift}")
            i += 2
            continue
        if ch == "\\":
            out.append("\\\\")
            i += 2 if nxt == "\\" else 1
            continue
        out.append("\\$" if ch == "$" else ch)
        i += 1
    return "".join(out)


def _spark_regexp_replace(node: exp.Expression) -> exp.Expression:
    """DuckDB's ``regexp_replace(s, re, rewrite[, 'g'])`` replaces the first match (every
    match with ``g``) and reads ``\\N`` as a group; Spark's replaces every match and reads
    ``$N``. Without ``g`` the pattern is anchored after a lazy prefix kept as group 1."""
    replacement = node.args.get("replacement")
    if not (isinstance(replacement, exp.Literal) and replacement.is_string):
        raise DialectUnsupported("replace() with a computed replacement", "spark")
    modifiers = node.args.get("modifiers")
    every = isinstance(modifiers, exp.Literal) and "g" in str(modifiers.this)
    pattern = _java(node.expression)
    if every:
        return _anon(
            "REGEXP_REPLACE",
            node.this,
            pattern,
            exp.Literal.string(_java_replacement(replacement.this, 0)),
        )
    if isinstance(pattern, exp.Literal) and pattern.is_string:
        first: exp.Expression = exp.Literal.string(f"\\A(?s:(.*?))(?:{pattern.this})")
    else:
        first = exp.func(
            "concat", exp.Literal.string("\\A(?s:(.*?))(?:"), pattern, exp.Literal.string(")")
        )
    rewrite = "$1" + _java_replacement(replacement.this, 1)
    return _anon("REGEXP_REPLACE", node.this, first, exp.Literal.string(rewrite))


def _spark_json_valid(node: exp.Expression) -> exp.Expression:
    """``json_valid(s)`` → ``get_json_object(s, '$') IS NOT NULL``: Spark parses the text
    and gives NULL when it is not JSON. The JSON text ``null`` reads as not valid there;
    spath finds no value in it either way."""
    (text,) = _args(node)
    return exp.not_(
        exp.Is(this=_anon("GET_JSON_OBJECT", text, exp.Literal.string("$")), expression=exp.Null())
    )


def _spark_json_scalar(node: exp.Expression) -> exp.Expression:
    """``json_extract_string(s, path)`` is ``get_json_object`` for a path to one value;
    with a wildcard DuckDB returns a list of every match, Spark one JSON text (or the bare
    value when one element matches): not the same, so refused."""
    if node.expression.find(exp.JSONPathWildcard):
        raise DialectUnsupported("spath with a {} (every element) path", "spark")
    return node


def _spark_where(node: exp.Expression) -> exp.Expression:
    """``FROM s1 WHERE (FALSE)``: Spark (ANSI off) reads ``WHERE`` as the table's alias
    and ``(FALSE)`` as its column names; a condition without outer parentheses cannot be
    read so."""
    condition = node.this
    while isinstance(condition, exp.Paren):
        condition = condition.this
    if condition is not node.this:
        node.set("this", condition)
    return node


def _spark_one_of(node: exp.Expression) -> exp.Expression:
    """``least(x)`` / ``greatest(x)`` is ``x`` (eval's min/max of one field); Spark wants
    two arguments or more."""
    return node.this if not node.expressions else node


def _spark_like(node: exp.Expression) -> exp.Expression:
    """A LIKE without ESCAPE: DuckDB reads ``\\`` as a plain character, Spark as its default
    escape (and refuses it before most characters), so each backslash is doubled."""
    if isinstance(node.parent, exp.Escape):
        return node
    pattern = node.expression
    if isinstance(pattern, exp.Literal) and pattern.is_string:
        if "\\" in pattern.this:
            node.set("expression", exp.Literal.string(pattern.this.replace("\\", "\\\\")))
        return node
    doubled = _anon("REPLACE", pattern, exp.Literal.string("\\"), exp.Literal.string("\\\\"))
    node.set("expression", doubled)
    return node


#: field names of the structs :func:`_spark_list_zip` builds, by 0-based position
_ZIP_FIELDS = ("f1", "f2")


def _spark_list_zip(node: exp.Expression) -> exp.Expression:
    """``list_zip(a, b)`` (pairs, the shorter list padded with NULL; fields read as
    ``pair[1]``, ``pair[2]``) → ``zip_with(a, b, (x, y) -> named_struct(...))``: Spark's
    ``zip_with`` pads the same way, and :func:`_spark_zip_field` reads the named fields."""
    args = _args(node)
    if len(args) != 2:
        raise DialectUnsupported("list_zip of more than two lists", "spark")
    pair = _anon(
        "NAMED_STRUCT",
        exp.Literal.string(_ZIP_FIELDS[0]),
        exp.column("x"),
        exp.Literal.string(_ZIP_FIELDS[1]),
        exp.column("y"),
    )
    return _anon("ZIP_WITH", *args, _lambda(pair, "x", "y"))


def _zipped(lst: exp.Expression) -> bool:
    """Whether ``lst`` is a ``list_zip`` (seen through ``list_filter``, which keeps the
    elements' type), before its own rewrite: elements are visited before their list."""
    while isinstance(lst, exp.ArrayFilter):
        lst = lst.this
    return isinstance(lst, exp.Anonymous) and lst.name.lower() == "list_zip"


def _spark_zip_field(node: exp.Expression) -> exp.Expression:
    """``pair[1]`` on an element of a ``list_zip`` (a lambda's variable) → ``pair.f1``;
    every other subscript is left to sqlglot (arrays, maps)."""
    var, index = node.this, node.expressions[0] if len(node.expressions) == 1 else None
    if not (isinstance(var, exp.Column) and isinstance(index, exp.Literal)) or var.table:
        return node
    binder = node.find_ancestor(exp.Lambda)
    while binder is not None and var.name not in {i.name for i in binder.expressions}:
        binder = binder.find_ancestor(exp.Lambda)
    call = binder.parent if binder is not None else None
    if call is None or not _zipped(call.this):
        return node
    position = int(index.this)
    if not 0 <= position < len(_ZIP_FIELDS):
        return exp.Null()
    return exp.Dot(this=var.copy(), expression=exp.to_identifier(_ZIP_FIELDS[position]))


def _unsupported(construct: str) -> Rewrite:
    def fail(node: exp.Expression) -> exp.Expression:
        raise DialectUnsupported(construct, "spark")

    return fail


#: Anonymous DuckDB functions → Spark builders (by lower-case name).
_SPARK_FUNCTIONS: dict[str, Rewrite] = {
    "list_slice": _spark_list_slice,
    "list_position": _spark_list_position,
    "list_extract": _spark_list_extract,
    "list_sum": _spark_list_sum,
    "list_aggregate": _spark_list_aggregate,
    "list_reduce": _spark_list_reduce,
    "epoch_us": _spark_epoch_us,
    "get_current_timestamp": _spark_now,
    "list_zip": _spark_list_zip,
    "try_strptime": _unsupported("strptime()"),
    "range": _spark_range,
    "json_valid": _spark_json_valid,
    "regexp_split_to_array": _spark_split_regex,
    # fields named at run time (docs/commands.md): DuckDB's json_tree and maps
    "json_tree": _unsupported("spath auto-extract (json_tree)"),
    "json_each": _unsupported("fromjson (json_each)"),
    "map_extract_value": _unsupported("fields named at run time (spath, fromjson, xmlkv)"),
}


def _spark_anonymous(node: exp.Expression) -> exp.Expression:
    rewrite = _SPARK_FUNCTIONS.get(node.name.lower())
    return rewrite(node) if rewrite else node


#: Node class → rewrite, applied bottom-up (children first) on a copy of the tree.
SPARK_REWRITES: dict[type[exp.Expression], Rewrite] = {
    exp.RegexpFullMatch: _spark_full_match,
    exp.Anonymous: _spark_anonymous,
    exp.ArrayAgg: _spark_ordered_list,
    exp.Filter: _spark_filter,
    exp.Format: _unsupported('tostring(x, "commas")'),
    exp.Mode: _unsupported("mode()"),
    exp.TimeToStr: _spark_strftime,
    exp.Unnest: _spark_unnest,
    exp.PercentileCont: _spark_quantile,
    exp.Window: _spark_window,
    exp.RegexpExtractAll: _spark_extract_all,
    exp.RegexpReplace: _spark_regexp_replace,
    exp.Bracket: _spark_zip_field,
    exp.RegexpLike: _spark_regex_operand,
    exp.RegexpExtract: _spark_regex_operand,
    exp.RegexpSplit: _spark_regex_operand,
    exp.StructExtract: _spark_group_by_name,
    exp.JSONExtractScalar: _spark_json_scalar,
    exp.Where: _spark_where,
    exp.Least: _spark_one_of,
    exp.Like: _spark_like,
    exp.ILike: _spark_like,
    exp.Greatest: _spark_one_of,
    # compile/dynamic.py builds these maps with DuckDB's correlated list subqueries
    exp.MapFromEntries: _unsupported("fields named at run time (spath, fromjson, xmlkv, extract)"),
}


def prune_ctes(tree: exp.Expression) -> exp.Expression:
    """Drop the CTE columns no later query reads (in place).

    The compiler passes every field through every CTE (356 columns on the real data set);
    DuckDB prunes them itself, Spark's analyzer does not before it has built (and, for a
    CTE read twice as by ``lookup``, duplicated) the whole plan: minutes and heap space. A
    column is kept when any consumer names it (a superset: names are compared without their
    table); generators (``EXPLODE``) and the aggregates of a query without GROUP BY are
    always kept, since they change the row count."""
    with_ = tree.args.get("with_") or tree.args.get("with")
    if not isinstance(with_, exp.With):
        return tree
    ctes = list(with_.expressions)
    for i in range(len(ctes) - 1, -1, -1):
        name = ctes[i].alias_or_name.lower()
        consumers: list[exp.Expression] = [c.this for c in ctes[i + 1 :]]
        consumers.append(tree)
        needed: set[str] = set()
        used = False
        for consumer in consumers:
            if name not in _own_sources(consumer):
                continue
            used = True
            selects = _own_nodes(consumer, exp.Select)  # a UNION's sides too
            if any(isinstance(p, exp.Star) for sel in selects for p in sel.expressions):
                needed = {"*"}
                break
            needed |= {c.name.lower() for c in _own_nodes(consumer, exp.Column)}
        select = ctes[i].this
        if not used or "*" in needed or not isinstance(select, exp.Select):
            continue
        keep = [p for p in select.expressions if p.alias_or_name.lower() in needed or _vital(p)]
        if keep and len(keep) < len(select.expressions):
            select.set("expressions", keep)
    return tree


def inline_single_use_ctes(tree: exp.Expression) -> exp.Expression:
    """Move every CTE read once into its reader as a derived table (in place).

    Spark's ``InlineCTE`` rule walks the CTE references again for every CTE that reads
    another: on the corrected T1074 query (37 CTEs, three read twice by ``lookup`` and
    ``eventstats``) it took 2 of the 5 s of planning. A CTE read once means the same as
    a subquery in its place; only those read twice or more stay CTEs. Conservative: a
    name that appears anywhere else (a column of the same name) keeps its CTE."""
    with_ = tree.args.get("with_") or tree.args.get("with")
    if not isinstance(with_, exp.With):
        return tree
    ctes = {cte.alias_or_name.lower(): cte for cte in with_.expressions}
    mentions: dict[str, int] = dict.fromkeys(ctes, 0)
    sources: dict[str, list[exp.Expression]] = {name: [] for name in ctes}
    for node in tree.walk():
        if isinstance(node, exp.Identifier) and node.name.lower() in ctes:
            parent = node.parent
            owner = parent.parent if isinstance(parent, exp.TableAlias) else parent
            defines = isinstance(owner, exp.CTE)  # the CTE's own name
            qualifies = isinstance(parent, exp.Column) and node.arg_key == "table"
            if not defines and not qualifies:  # (a qualifier keeps its meaning: same alias)
                mentions[node.name.lower()] += 1
        if isinstance(node, exp.From | exp.Join):
            source = node.this
            named = isinstance(source, exp.Identifier | exp.Table) and source.name.lower() in ctes
            if named and not (isinstance(source, exp.Table) and source.args.get("db")):
                sources[source.name.lower()].append(source)
    inlined: set[str] = set()
    for name, cte in ctes.items():
        if mentions[name] != 1 or len(sources[name]) != 1:
            continue
        source = sources[name][0]
        alias = source.alias if isinstance(source, exp.Table) and source.alias else cte.alias
        body = cte.this
        body.pop()
        source.replace(exp.Subquery(this=body, alias=exp.TableAlias(this=exp.to_identifier(alias))))
        inlined.add(name)
    kept = [cte for name, cte in ctes.items() if name not in inlined]
    if kept:
        with_.set("expressions", kept)
    else:
        with_.pop()
    return tree


def _vital(projection: exp.Expression) -> bool:
    """Projections that shape the rows, not just a column: a generator changes the row
    count, an aggregate makes the query a grouping (``SELECT 0, count(*)`` is one row)."""
    if projection.find(exp.Explode, exp.Unnest):
        return True
    if any(isinstance(n, exp.Anonymous) and n.name.upper() == "EXPLODE" for n in projection.walk()):
        return True
    return bool(projection.find(exp.AggFunc)) and not projection.find(exp.Window)


def _own_nodes(select: exp.Expression, kind: type[exp.Expression]) -> list[exp.Expression]:
    """Nodes of ``kind`` in ``select`` itself, not in the CTE definitions it carries."""
    out = []
    for node in select.walk(prune=lambda n: isinstance(n, exp.With)):
        if isinstance(node, kind):
            out.append(node)
    return out


def _own_sources(select: exp.Expression) -> set[str]:
    """Names a query reads from (``FROM s3``, ``JOIN s4 AS e``), lower-case."""
    names: set[str] = set()
    for node in _own_nodes(select, exp.From) + _own_nodes(select, exp.Join):
        source = node.this
        if isinstance(source, exp.Identifier | exp.Table):
            names.add(source.name.lower())
    return names


REWRITES: dict[str, dict[type[exp.Expression], Rewrite]] = {
    "duckdb": {},
    "spark": SPARK_REWRITES,
}


def for_dialect(tree: exp.Expression, dialect: str) -> exp.Expression:
    """The tree rewritten for ``dialect``: a new tree, or ``tree`` itself when nothing
    changes (the input is never modified)."""
    if dialect == "duckdb":  # DuckDB plans every column it is given: unread ones go
        return prune_projections(tree)
    rewrites = REWRITES.get(dialect, {})
    if not rewrites:
        return tree

    root = tree.copy()
    if dialect == "spark":
        root = merge_projections(inline_single_use_ctes(prune_ctes(root)))
    # pre-order reversed: every node after its descendants, so a rewrite sees its
    # arguments already rewritten
    for node in reversed(list(root.walk())):
        rewrite = rewrites.get(type(node))
        if rewrite is None:
            continue
        new = rewrite(node)
        if new is not node:
            if node is root:
                root = new
            else:
                node.replace(new)
    return root


def render(tree: exp.Expression, dialect: str = "duckdb", pretty: bool = False) -> str:
    """SQL text of the compiled tree for ``dialect`` (``duckdb`` or ``spark``)."""
    rewritten = for_dialect(tree, dialect)
    # a rewritten tree is this call's own copy: the generator need not copy it again
    return generate(rewritten, dialect, pretty, own=rewritten is not tree)


def generate(
    tree: exp.Expression, dialect: str = "duckdb", pretty: bool = False, *, own: bool = False
) -> str:
    """SQL text of a tree already rewritten for ``dialect`` (`for_dialect`); with ``own``
    (the tree is the caller's own copy) the generator works on it without a copy."""
    ensure_room()  # sqlglot's generator recurses once per level of the tree
    return str(tree.sql(dialect=dialect, pretty=pretty, copy=not own))
