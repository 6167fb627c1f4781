"""Eval functions (spl-semantics.md §4 plus math, multivalue, hash and time functions).

Each function is a small handler registered with its arity. Handlers get the expression
compiler and the call node, so a function that needs raw arguments (``case`` conditions,
``mvfilter``'s predicate over a field) can compile them its own way.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from sqlglot import exp

from stagehunt import semantics
from stagehunt.compile import sqlfn as q
from stagehunt.compile.eval import ExprCompiler, first_value, like
from stagehunt.compile.kinds import NULL, Kind, Typed
from stagehunt.compile.timespec import relative_time
from stagehunt.spl import ast

Handler = Callable[[ExprCompiler, ast.Call], Typed]


@dataclass(frozen=True)
class Function:
    handler: Handler
    min_args: int
    max_args: int | None  # None = variadic


FUNCTIONS: dict[str, Function] = {}


def register(name: str, min_args: int, max_args: int | None = -1) -> Callable[[Handler], Handler]:
    def wrap(handler: Handler) -> Handler:
        FUNCTIONS[name] = Function(handler, min_args, min_args if max_args == -1 else max_args)
        return handler

    return wrap


def call(c: ExprCompiler, node: ast.Call) -> Typed:
    fn = FUNCTIONS.get(node.name)
    if fn is None:
        raise c.error(f"unknown function '{node.name}'", node.pos)
    n = len(node.args)
    if n < fn.min_args or (fn.max_args is not None and n > fn.max_args):
        if fn.max_args == fn.min_args:
            expected = str(fn.min_args)
        elif fn.max_args is None:
            expected = f"at least {fn.min_args}"
        else:
            expected = f"{fn.min_args} to {fn.max_args}"
        raise c.error(f"{node.name}() takes {expected} argument(s), got {n}", node.pos)
    return fn.handler(c, node)


def unify(c: ExprCompiler, values: list[Typed]) -> tuple[Kind, list[exp.Expression]]:
    """One kind for values that meet in one column (if/case/coalesce branches)."""
    kinds = {v.kind for v in values if v.kind is not Kind.NULL}
    if not kinds:
        return Kind.NULL, [exp.Null() for _ in values]
    if kinds == {Kind.NUM}:
        return Kind.NUM, [
            v.sql if v.kind is Kind.NUM else q.cast(exp.Null(), "DOUBLE") for v in values
        ]
    if Kind.MV in kinds:
        out = []
        for v in values:
            if v.kind is Kind.MV:
                out.append(v.sql)
            elif v.kind is Kind.NULL:
                out.append(q.cast(exp.Null(), "VARCHAR[]"))
            else:
                out.append(exp.Array(expressions=[c.string(v)]))
        return Kind.MV, out
    return Kind.STR, [c.string(v) if v.kind is not Kind.NULL else q.null_str() for v in values]


def _args(c: ExprCompiler, node: ast.Call) -> list[Typed]:
    return [c.compile(a) for a in node.args]


def _str_fn(sql_name: str) -> Handler:
    def handler(c: ExprCompiler, node: ast.Call) -> Typed:
        args = _args(c, node)
        if args[0].is_null:
            return NULL
        return Typed(q.fn(sql_name, c.string(args[0]), *[c.string(a) for a in args[1:]]), Kind.STR)

    return handler


def _num_fn(builder: Callable[..., exp.Expression]) -> Handler:
    def handler(c: ExprCompiler, node: ast.Call) -> Typed:
        args = _args(c, node)
        if any(a.is_null for a in args):
            return NULL
        return Typed(builder(*[c.number(a) for a in args]), Kind.NUM)

    return handler


def _literal_string(c: ExprCompiler, node: ast.Expr, what: str) -> str:
    if not isinstance(node, ast.Str):
        raise c.error(f"{what} must be a double-quoted string literal", node.pos)
    return node.value


# ----------------------------------------------------------------- conditional


@register("if", 3)
def _if(c: ExprCompiler, node: ast.Call) -> Typed:
    cond = c.condition(node.args[0], "the first argument of if()")
    kind, (yes, no) = unify(c, [c.value(node.args[1]), c.value(node.args[2])])
    if kind is Kind.NULL:
        return NULL
    return Typed(q.case((cond, yes), default=no), kind)


@register("case", 2, None)
def _case(c: ExprCompiler, node: ast.Call) -> Typed:
    if len(node.args) % 2:
        raise c.error("case() takes condition/value pairs", node.pos)
    conds = [c.condition(a, "each odd argument of case()") for a in node.args[::2]]
    kind, values = unify(c, [c.value(a) for a in node.args[1::2]])
    if kind is Kind.NULL:
        return NULL
    return Typed(q.case(*zip(conds, values, strict=True)), kind)  # no default: NULL (§4)


@register("true", 0)
def _true(c: ExprCompiler, node: ast.Call) -> Typed:
    return Typed(exp.true(), Kind.BOOL)


@register("false", 0)
def _false(c: ExprCompiler, node: ast.Call) -> Typed:
    return Typed(exp.false(), Kind.BOOL)


@register("null", 0)
def _null(c: ExprCompiler, node: ast.Call) -> Typed:
    return NULL


@register("coalesce", 1, None)
def _coalesce(c: ExprCompiler, node: ast.Call) -> Typed:
    values = [c.value(a) for a in node.args]
    present = [v for v in values if not v.is_null]
    if not present:
        return NULL
    kind, sqls = unify(c, present)
    return Typed(q.coalesce(*sqls) if len(sqls) > 1 else sqls[0], kind)


@register("nullif", 2)
def _nullif(c: ExprCompiler, node: ast.Call) -> Typed:
    a, b = _args(c, node)
    if a.is_null:
        return NULL
    if b.is_null:
        return a
    equal = c.comparison("=", a, b).sql
    return Typed(q.case((equal, q.cast(exp.Null(), _sql_type(a.kind))), default=a.sql), a.kind)


def _pattern(c: ExprCompiler, arg: ast.Expr, value: Typed) -> exp.Expression:
    """A regex argument: a literal is translated to RE2 at compile time, so a PCRE-only
    construct (look-around, back-references) is a located error, not a failed run; a
    pattern computed from data goes to the engine as it is."""
    if isinstance(arg, ast.Str):
        from stagehunt.compile.regex import translate

        return q.string(translate(arg.value, arg.pos, c.query).text)
    return c.string(value)


def _sql_type(kind: Kind) -> str:
    return {Kind.NUM: "DOUBLE", Kind.MV: "VARCHAR[]", Kind.BOOL: "BOOLEAN"}.get(kind, "VARCHAR")


@register("match", 2)
def _match(c: ExprCompiler, node: ast.Call) -> Typed:
    subject = c.compile(node.args[0])
    regex = c.compile(node.args[1])
    if subject.is_null or regex.is_null:
        return Typed(q.cast(exp.Null(), "BOOLEAN"), Kind.BOOL)
    pattern = _pattern(c, node.args[1], regex)
    if subject.kind is Kind.MV:
        hits = q.fn("list_filter", subject.sql, q.lam(q.fn("regexp_matches", q.element(), pattern)))
        return Typed(exp.GT(this=q.list_len(hits), expression=exp.Literal.number(0)), Kind.BOOL)
    return Typed(q.fn("regexp_matches", c.string(subject), pattern), Kind.BOOL)


@register("like", 2)
def _like(c: ExprCompiler, node: ast.Call) -> Typed:
    return like(c.compile(node.args[0]), c.compile(node.args[1]))


@register("in", 1, None)
def _in(c: ExprCompiler, node: ast.Call) -> Typed:
    subject = c.compile(node.args[0])
    values = [c.compile(a) for a in node.args[1:]]
    literals = [v.sql.this for v in values if isinstance(v.sql, exp.Literal) and v.sql.is_string]
    if subject.kind is Kind.STR and values and len(literals) == len(values):
        return Typed(_in_strings(subject.sql, literals), Kind.BOOL)
    tests = [c.comparison("=", subject, v).sql for v in values]
    if not tests:
        return Typed(exp.false(), Kind.BOOL)
    return Typed(exp.paren(q.or_(*tests), copy=False), Kind.BOOL)


def _in_strings(subject: exp.Expression, literals: list[str]) -> exp.Expression:
    """``in(x, "a", "1", ...)`` for a string field and string literals, as ``=`` compares
    each (3.6): the numeric literals numerically when x is a number, the others (and x
    when it is not a number) as strings. One test of x for all the values."""
    numbers = [float(t) for t in literals if q.looks_numeric(t)]
    texts = [q.string(t) for t in literals if not q.looks_numeric(t)]
    tests: list[exp.Expression] = []
    if numbers:
        as_number = exp.In(
            this=q.try_cast(subject, "DOUBLE"), expressions=[q.number(n) for n in numbers]
        )
        tests.append(exp.and_(q.is_number(subject), as_number))
    if texts:
        tests.append(exp.In(this=subject, expressions=texts))
    return exp.paren(q.or_(*tests), copy=False)


@register("cidrmatch", 2)
def _cidrmatch(c: ExprCompiler, node: ast.Call) -> Typed:
    from stagehunt.compile.search import cidr_match

    cidr = _literal_string(c, node.args[0], "the CIDR of cidrmatch()")
    if not re.fullmatch(r"\d{1,3}(\.\d{1,3}){3}/\d{1,2}", cidr):
        raise c.error(f"cidrmatch() supports IPv4 CIDR only, got '{cidr}'", node.args[0].pos)
    ip = c.compile(node.args[1])
    if ip.is_null:
        return Typed(q.cast(exp.Null(), "BOOLEAN"), Kind.BOOL)
    return Typed(q.coalesce(cidr_match(cidr, c.string(ip)), exp.false()), Kind.BOOL)


@register("validate", 2, None)
def _validate(c: ExprCompiler, node: ast.Call) -> Typed:
    if len(node.args) % 2:
        raise c.error("validate() takes condition/value pairs", node.pos)
    pairs = []
    for cond, value in zip(node.args[::2], node.args[1::2], strict=True):
        pairs.append(
            (exp.Not(this=exp.paren(c.condition(cond), copy=False)), c.string(c.value(value)))
        )
    return Typed(q.case(*pairs), Kind.STR)


# ----------------------------------------------------------------- informational


@register("isnull", 1)
def _isnull(c: ExprCompiler, node: ast.Call) -> Typed:
    a = c.compile(node.args[0])
    return Typed(exp.true() if a.is_null else q.is_null(a.sql), Kind.BOOL)


@register("isnotnull", 1)
def _isnotnull(c: ExprCompiler, node: ast.Call) -> Typed:
    a = c.compile(node.args[0])
    return Typed(exp.false() if a.is_null else q.not_null(a.sql), Kind.BOOL)


FUNCTIONS["isnotempty"] = FUNCTIONS["isnotnull"]


def _numeric_test(c: ExprCompiler, node: ast.Expr) -> tuple[Typed, exp.Expression]:
    """The argument and whether it is a number. Field values that parse as numbers are
    numbers (rule 1.1); a quoted string literal stays a string."""
    a = c.compile(node)
    if a.kind is Kind.NUM:
        return a, q.not_null(a.sql)
    if a.kind is Kind.STR and not isinstance(node, ast.Str):
        return a, q.coalesce(q.is_number(a.sql), exp.false())
    return a, exp.false()


@register("isnum", 1)
def _isnum(c: ExprCompiler, node: ast.Call) -> Typed:
    return Typed(_numeric_test(c, node.args[0])[1], Kind.BOOL)


@register("isint", 1)
def _isint(c: ExprCompiler, node: ast.Call) -> Typed:
    a, numeric = _numeric_test(c, node.args[0])
    if a.kind not in (Kind.NUM, Kind.STR):
        return Typed(exp.false(), Kind.BOOL)
    n = c.number(a)
    whole = q.coalesce(exp.EQ(this=n, expression=q.fn("trunc", n)), exp.false())
    return Typed(exp.and_(numeric, whole), Kind.BOOL)


@register("isstr", 1)
def _isstr(c: ExprCompiler, node: ast.Call) -> Typed:
    a, numeric = _numeric_test(c, node.args[0])
    if a.kind in (Kind.STR, Kind.MV):
        return Typed(exp.and_(q.not_null(a.sql), exp.Not(this=exp.paren(numeric))), Kind.BOOL)
    return Typed(exp.false(), Kind.BOOL)


@register("isbool", 1)
def _isbool(c: ExprCompiler, node: ast.Call) -> Typed:
    return Typed(
        exp.true() if c.compile(node.args[0]).kind is Kind.BOOL else exp.false(), Kind.BOOL
    )


@register("typeof", 1)
def _typeof(c: ExprCompiler, node: ast.Call) -> Typed:
    a, numeric = _numeric_test(c, node.args[0])
    if a.kind is Kind.NULL:
        return Typed(q.string("Invalid"), Kind.STR)
    if a.kind is Kind.BOOL:
        return Typed(q.string("Boolean"), Kind.STR)
    if a.kind is Kind.MV:
        label: exp.Expression = q.string("Multivalue")
    else:
        label = q.case((numeric, q.string("Number")), default=q.string("String"))
    return Typed(q.case((q.is_null(a.sql), q.string("Invalid")), default=label), Kind.STR)


# ----------------------------------------------------------------- text


@register("len", 1)
def _len(c: ExprCompiler, node: ast.Call) -> Typed:
    a = c.compile(node.args[0])
    if a.is_null:
        return NULL
    return Typed(q.fn("length", c.string(a)), Kind.NUM)


def _case_fn(sql_name: str) -> Handler:
    def handler(c: ExprCompiler, node: ast.Call) -> Typed:
        a = c.compile(node.args[0])
        if a.is_null:
            return NULL
        if a.kind is Kind.MV:  # lower/upper work per value on multivalue fields (§4)
            return Typed(q.fn("list_transform", a.sql, q.lam(q.fn(sql_name, q.element()))), Kind.MV)
        return Typed(q.fn(sql_name, c.string(a)), Kind.STR)

    return handler


register("lower", 1)(_case_fn("lower"))
register("upper", 1)(_case_fn("upper"))


@register("replace", 3)
def _replace(c: ExprCompiler, node: ast.Call) -> Typed:
    s, regex, repl = _args(c, node)
    if s.is_null:
        return NULL
    replacement = c.string(repl)
    if isinstance(node.args[2], ast.Str):  # PCRE \1 back-references are RE2's \1 too
        replacement = q.string(node.args[2].value)
    pattern = _pattern(c, node.args[1], regex)
    return Typed(q.fn("regexp_replace", c.string(s), pattern, replacement, q.string("g")), Kind.STR)


@register("substr", 2, 3)
def _substr(c: ExprCompiler, node: ast.Call) -> Typed:
    args = _args(c, node)
    if args[0].is_null:
        return NULL
    s = c.string(args[0])
    start = c.number(args[1])
    # 1-based; negative start counts from the end (§4 substr)
    begin = q.case(
        (
            exp.LT(this=start, expression=exp.Literal.number(0)),
            exp.Add(
                this=exp.Add(this=q.fn("length", s), expression=start),
                expression=exp.Literal.number(1),
            ),
        ),
        default=start,
    )
    begin = q.cast(begin, "BIGINT")
    if len(args) == 3:
        return Typed(q.fn("substring", s, begin, q.cast(c.number(args[2]), "BIGINT")), Kind.STR)
    return Typed(q.fn("substring", s, begin), Kind.STR)


def _trim_fn(sql_name: str) -> Handler:
    def handler(c: ExprCompiler, node: ast.Call) -> Typed:
        args = _args(c, node)
        if args[0].is_null:
            return NULL
        chars = c.string(args[1]) if len(args) > 1 else q.string(" \t")
        return Typed(q.fn(sql_name, c.string(args[0]), chars), Kind.STR)

    return handler


register("trim", 1, 2)(_trim_fn("trim"))
register("ltrim", 1, 2)(_trim_fn("ltrim"))
register("rtrim", 1, 2)(_trim_fn("rtrim"))


@register("urldecode", 1)
def _urldecode(c: ExprCompiler, node: ast.Call) -> Typed:
    a = c.compile(node.args[0])
    if a.is_null:
        return NULL
    return Typed(q.fn("url_decode", c.string(a)), Kind.STR)


def _hash_fn(sql_name: str) -> Handler:
    def handler(c: ExprCompiler, node: ast.Call) -> Typed:
        a = c.compile(node.args[0])
        if a.is_null:
            return NULL
        return Typed(q.fn(sql_name, c.string(a)), Kind.STR)

    return handler


for _name in ("md5", "sha1", "sha256", "sha512"):
    register(_name, 1)(_hash_fn(_name))


# ----------------------------------------------------------------- conversion


@register("tonumber", 1, 2)
def _tonumber(c: ExprCompiler, node: ast.Call) -> Typed:
    args = _args(c, node)
    a = args[0]
    if a.is_null:
        return NULL
    if a.kind is Kind.NUM:
        return a
    s = c.string(a)
    if (
        isinstance(node.args[0], ast.Str)
        and len(args) == 1
        and not q.looks_numeric(node.args[0].value)
    ):
        # an unparsable literal is a search error (§4 tonumber); field values give null
        raise c.error(
            f'tonumber() cannot parse the literal "{node.args[0].value}"', node.args[0].pos
        )
    if len(args) == 1:
        return Typed(q.to_number(s), Kind.NUM)
    base = args[1]
    if not isinstance(node.args[1], ast.Num) or base.kind is not Kind.NUM:
        raise c.error("tonumber() base must be a number literal", node.args[1].pos)
    b = int(node.args[1].value)
    if b == 10:
        return Typed(q.to_number(s), Kind.NUM)
    if b == 16:
        valid = q.fn("regexp_full_match", s, q.string(r"(0[xX])?[0-9A-Fa-f]+"))
        text = q.fn("regexp_replace", s, q.string("^0[xX]"), q.string(""))
        value = q.try_cast(exp.DPipe(this=q.string("0x"), expression=text), "BIGINT")
        return Typed(q.case((valid, q.cast(value, "DOUBLE"))), Kind.NUM)
    if b == 2:
        valid = q.fn("regexp_full_match", s, q.string("[01]+"))
        value = q.try_cast(exp.DPipe(this=q.string("0b"), expression=s), "BIGINT")
        return Typed(q.case((valid, q.cast(value, "DOUBLE"))), Kind.NUM)
    if b == 8:
        digits = q.fn("regexp_full_match", s, q.string("[0-7]+"))
        as_list = q.fn("string_split", s, q.string(""))
        # sum(d * 8^(n-i)) over digits; expressed with list_reduce is awkward: use a fold
        folded = q.fn(
            "list_reduce",
            q.fn("list_transform", as_list, q.lam(q.cast(q.element(), "BIGINT"))),
            exp.Lambda(
                this=exp.Add(
                    this=exp.Mul(this=exp.column("acc"), expression=exp.Literal.number(8)),
                    expression=exp.column("d"),
                ),
                expressions=[exp.to_identifier("acc"), exp.to_identifier("d")],
            ),
        )
        return Typed(q.case((digits, q.cast(folded, "DOUBLE"))), Kind.NUM)
    raise c.error(f"tonumber() base {b} is not supported (2, 8, 10, 16 are)", node.args[1].pos)


@register("tostring", 1, 2)
def _tostring(c: ExprCompiler, node: ast.Call) -> Typed:
    args = _args(c, node)
    a = args[0]
    if a.is_null:
        return NULL
    if len(args) == 1:
        return Typed(c.string(a), Kind.STR)
    fmt = _literal_string(c, node.args[1], "the tostring() format")
    n = c.number(a)
    if fmt == "hex":
        return Typed(
            exp.DPipe(
                this=q.string("0x"), expression=q.fn("upper", q.fn("to_hex", q.cast(n, "BIGINT")))
            ),
            Kind.STR,
        )
    if fmt == "commas":
        rounded = q.fn("round", n, exp.Literal.number(2))
        return Typed(q.fn("format", q.string("{:,}"), rounded), Kind.STR)
    if fmt == "duration":
        secs = q.cast(q.fn("floor", n), "BIGINT")
        return Typed(
            q.fn(
                "format",
                q.string("{:02d}:{:02d}:{:02d}"),
                exp.IntDiv(this=secs, expression=exp.Literal.number(3600)),
                exp.Mod(
                    this=exp.IntDiv(this=secs, expression=exp.Literal.number(60)),
                    expression=exp.Literal.number(60),
                ),
                exp.Mod(this=secs, expression=exp.Literal.number(60)),
            ),
            Kind.STR,
        )
    if fmt == "binary":
        return Typed(q.fn("bin", q.cast(n, "BIGINT")), Kind.STR)
    raise c.error(f"unknown tostring() format '{fmt}'", node.args[1].pos)


# ----------------------------------------------------------------- math


register("abs", 1)(_num_fn(lambda x: q.fn("abs", x)))
register("ceil", 1)(_num_fn(lambda x: q.fn("ceil", x)))
register("ceiling", 1)(_num_fn(lambda x: q.fn("ceil", x)))
register("floor", 1)(_num_fn(lambda x: q.fn("floor", x)))
register("sqrt", 1)(
    _num_fn(lambda x: q.fn("sqrt", q.case((exp.GTE(this=x, expression=exp.Literal.number(0)), x))))
)
register("exp", 1)(_num_fn(lambda x: q.fn("exp", x)))
register("pow", 2)(_num_fn(lambda x, y: q.fn("pow", x, y)))
register("exact", 1)(_num_fn(lambda x: x))
register("pi", 0)(_num_fn(lambda: q.fn("pi")))
register("ln", 1)(
    _num_fn(lambda x: q.fn("ln", q.case((exp.GT(this=x, expression=exp.Literal.number(0)), x))))
)


@register("log", 1, 2)
def _log(c: ExprCompiler, node: ast.Call) -> Typed:
    args = _args(c, node)
    if any(a.is_null for a in args):
        return NULL
    x = c.number(args[0])
    positive = q.case((exp.GT(this=x, expression=exp.Literal.number(0)), x))
    base = c.number(args[1]) if len(args) > 1 else exp.Literal.number(10)
    return Typed(
        exp.Div(
            this=q.fn("ln", positive),
            expression=exp.Nullif(this=q.fn("ln", base), expression=exp.Literal.number(0)),
        ),
        Kind.NUM,
    )


@register("round", 1, 2)
def _round(c: ExprCompiler, node: ast.Call) -> Typed:
    args = _args(c, node)
    if any(a.is_null for a in args):
        return NULL
    x = c.number(args[0])
    digits = q.cast(c.number(args[1]), "INTEGER") if len(args) > 1 else exp.Literal.number(0)
    # DuckDB's round() on DOUBLE rounds halves away from zero (semantics.ROUND_HALF_AWAY_FROM_ZERO)
    return Typed(q.fn("round", q.cast(x, "DOUBLE"), digits), Kind.NUM)


@register("random", 0)
def _random(c: ExprCompiler, node: ast.Call) -> Typed:
    return Typed(
        q.cast(
            q.fn("floor", exp.Mul(this=q.fn("random"), expression=exp.Literal.number(2147483647))),
            "BIGINT",
        ),
        Kind.NUM,
    )


def _minmax(largest: bool) -> Handler:
    def handler(c: ExprCompiler, node: ast.Call) -> Typed:
        """eval max/min: numbers compare numerically; strings are greater than numbers (§4)."""
        args = [a for a in _args(c, node) if not a.is_null]
        if not args:
            return NULL
        pick = "greatest" if largest else "least"
        if all(a.kind is Kind.NUM for a in args):
            return Typed(q.fn(pick, *[a.sql for a in args]), Kind.NUM)
        texts = [c.string(a) for a in args]
        nums = [
            a.sql if a.kind is Kind.NUM else q.to_number(t)
            for a, t in zip(args, texts, strict=True)
        ]
        strs = [
            q.case((exp.Not(this=q.is_number(t)), t))
            for a, t in zip(args, texts, strict=True)
            if a.kind is not Kind.NUM
        ]
        best_num = q.number_to_string(q.fn(pick, *nums))
        best_str = q.fn(pick, *strs)
        # greatest/least ignore NULLs: max prefers any string, min prefers any number
        if largest:
            return Typed(q.coalesce(best_str, best_num), Kind.STR)
        return Typed(q.coalesce(best_num, best_str), Kind.STR)

    return handler


register("max", 1, None)(_minmax(True))
register("min", 1, None)(_minmax(False))


# ----------------------------------------------------------------- multivalue


def _mv(c: ExprCompiler, t: Typed) -> exp.Expression:
    """A value as a list (a single value is a one-value list)."""
    if t.kind is Kind.MV:
        return t.sql
    return q.case((q.not_null(t.sql), exp.Array(expressions=[c.string(t)])))


def _nonempty(e: exp.Expression) -> exp.Expression:
    """An empty list is no value at all."""
    return q.case((exp.GT(this=q.list_len(e), expression=exp.Literal.number(0)), e))


@register("mvcount", 1)
def _mvcount(c: ExprCompiler, node: ast.Call) -> Typed:
    a = c.compile(node.args[0])
    if a.is_null:
        return NULL
    return Typed(q.list_len(_mv(c, a)), Kind.NUM)


@register("mvindex", 2, 3)
def _mvindex(c: ExprCompiler, node: ast.Call) -> Typed:
    args = _args(c, node)
    if args[0].is_null:
        return NULL
    lst = _mv(c, args[0])
    n = q.list_len(lst)

    def norm(i: exp.Expression) -> exp.Expression:  # 0-based, negative from the end
        idx = q.cast(i, "BIGINT")
        return q.case(
            (exp.LT(this=idx, expression=exp.Literal.number(0)), exp.Add(this=n, expression=idx)),
            default=idx,
        )

    start = norm(c.number(args[1]))
    in_range = exp.and_(
        exp.GTE(this=start, expression=exp.Literal.number(0)), exp.LT(this=start, expression=n)
    )
    if len(args) == 2:
        item = q.fn("list_extract", lst, exp.Add(this=start, expression=exp.Literal.number(1)))
        return Typed(q.case((in_range, item)), Kind.STR)
    end = norm(c.number(args[2]))
    sliced = q.fn(
        "list_slice",
        lst,
        exp.Add(this=start, expression=exp.Literal.number(1)),
        exp.Add(this=end, expression=exp.Literal.number(1)),
    )
    return Typed(
        q.case((exp.and_(in_range, exp.GTE(this=end, expression=start)), _nonempty(sliced))),
        Kind.MV,
    )


@register("mvjoin", 2)
def _mvjoin(c: ExprCompiler, node: ast.Call) -> Typed:
    a, d = _args(c, node)
    if a.is_null:
        return NULL
    return Typed(q.fn("array_to_string", _mv(c, a), c.string(d)), Kind.STR)


@register("split", 2)
def _split(c: ExprCompiler, node: ast.Call) -> Typed:
    a, d = _args(c, node)
    if a.is_null:
        return NULL
    return Typed(q.fn("string_split", c.string(a), c.string(d)), Kind.MV)


@register("mvfind", 2)
def _mvfind(c: ExprCompiler, node: ast.Call) -> Typed:
    a, r = _args(c, node)
    if a.is_null:
        return NULL
    hits = q.fn(
        "list_transform", _mv(c, a), q.lam(q.fn("regexp_matches", q.element(), c.string(r)))
    )
    pos = q.fn("list_position", hits, exp.true())
    return Typed(exp.Sub(this=pos, expression=exp.Literal.number(1)), Kind.NUM)


@register("mvfilter", 1)
def _mvfilter(c: ExprCompiler, node: ast.Call) -> Typed:
    fields = sorted({n.name for n in _field_refs(node.args[0])})
    if len(fields) != 1:
        raise c.error("mvfilter() needs a predicate over exactly one field", node.pos)
    target = c.rel.typed(fields[0])
    if target.is_null:
        return NULL
    c.bound[fields[0]] = Typed(q.element(), Kind.STR)
    try:
        pred = c.condition(node.args[0], "the mvfilter() predicate")
    finally:
        del c.bound[fields[0]]
    return Typed(_nonempty(q.fn("list_filter", _mv(c, target), q.lam(pred))), Kind.MV)


@register("mvmap", 2)
def _mvmap(c: ExprCompiler, node: ast.Call) -> Typed:
    target = c.compile(node.args[0])
    if not isinstance(node.args[0], ast.FieldRef):
        raise c.error("mvmap() needs a field as its first argument", node.pos)
    if target.is_null:
        return NULL
    name = node.args[0].name
    c.bound[name] = Typed(q.element(), Kind.STR)
    try:
        mapped = c.value(node.args[1])
    finally:
        del c.bound[name]
    return Typed(q.fn("list_transform", _mv(c, target), q.lam(c.string(mapped))), Kind.MV)


def _field_refs(node: ast.Expr) -> list[ast.FieldRef]:
    if isinstance(node, ast.FieldRef):
        return [node]
    if isinstance(node, ast.BinOp):
        return _field_refs(node.left) + _field_refs(node.right)
    if isinstance(node, ast.UnaryOp):
        return _field_refs(node.operand)
    if isinstance(node, ast.Call):
        return [r for a in node.args for r in _field_refs(a)]
    return []


@register("mvsort", 1)
def _mvsort(c: ExprCompiler, node: ast.Call) -> Typed:
    a = c.compile(node.args[0])
    if a.is_null:
        return NULL
    return Typed(q.fn("list_sort", _mv(c, a)), Kind.MV)


@register("mvdedup", 1)
def _mvdedup(c: ExprCompiler, node: ast.Call) -> Typed:
    a = c.compile(node.args[0])
    if a.is_null:
        return NULL
    lst = _mv(c, a)
    # keep first occurrences in order: an element stays if its first position is its own
    indexed = q.fn(
        "list_filter",
        q.fn("list_zip", lst, q.fn("generate_series", exp.Literal.number(1), q.list_len(lst))),
        q.lam(
            exp.EQ(
                this=q.fn("list_position", lst, q.item(q.element(), 1)),
                expression=q.item(q.element(), 2),
            )
        ),
    )
    return Typed(q.fn("list_transform", indexed, q.lam(q.item(q.element(), 1))), Kind.MV)


@register("mvappend", 1, None)
def _mvappend(c: ExprCompiler, node: ast.Call) -> Typed:
    parts = [a for a in _args(c, node) if not a.is_null]
    if not parts:
        return NULL
    lists = [q.coalesce(_mv(c, p), q.cast(exp.Array(expressions=[]), "VARCHAR[]")) for p in parts]
    combined = lists[0]
    for other in lists[1:]:
        combined = q.fn("list_concat", combined, other)
    return Typed(_nonempty(combined), Kind.MV)


@register("mvzip", 2, 3)
def _mvzip(c: ExprCompiler, node: ast.Call) -> Typed:
    args = _args(c, node)
    if args[0].is_null or args[1].is_null:
        return NULL
    delim = c.string(args[2]) if len(args) == 3 else q.string(",")
    a, b = _mv(c, args[0]), _mv(c, args[1])
    n = q.fn("least", q.list_len(a), q.list_len(b))
    pairs = q.fn(
        "list_zip",
        q.fn("list_slice", a, exp.Literal.number(1), n),
        q.fn("list_slice", b, exp.Literal.number(1), n),
    )
    joined = q.lam(
        exp.DPipe(
            this=exp.DPipe(this=q.item(q.element(), 1), expression=delim),
            expression=q.item(q.element(), 2),
        )
    )
    return Typed(_nonempty(q.fn("list_transform", pairs, joined)), Kind.MV)


@register("mvrange", 2, 3)
def _mvrange(c: ExprCompiler, node: ast.Call) -> Typed:
    args = _args(c, node)
    start, end = c.number(args[0]), c.number(args[1])
    step = c.number(args[2]) if len(args) == 3 else exp.Literal.number(1)
    series = q.fn("range", q.cast(start, "BIGINT"), q.cast(end, "BIGINT"), q.cast(step, "BIGINT"))
    return Typed(
        _nonempty(q.fn("list_transform", series, q.lam(q.cast(q.element(), "VARCHAR")))), Kind.MV
    )


# ----------------------------------------------------------------- time


@register("now", 0)
def _now(c: ExprCompiler, node: ast.Call) -> Typed:
    return Typed(q.number(c.now), Kind.NUM)  # search start time (rule 1.3)


@register("time", 0)
def _time(c: ExprCompiler, node: ast.Call) -> Typed:
    micros = q.fn("epoch_us", q.fn("get_current_timestamp"))
    return Typed(exp.Div(this=micros, expression=exp.Literal.number(1000000.0)), Kind.NUM)


def _timestamp(epoch: exp.Expression) -> exp.Expression:
    """Epoch seconds → naive UTC TIMESTAMP (display time zone: semantics.DISPLAY_TIMEZONE)."""
    return q.fn(
        "make_timestamp",
        q.cast(
            q.fn("round", exp.Mul(this=epoch, expression=exp.Literal.number(1000000))), "BIGINT"
        ),
    )


_SPLUNK_TO_DUCKDB_FORMAT = {
    "%N": "%g", "%3N": "%g", "%6N": "%f", "%9N": "%n", "%Q": "%g", "%3Q": "%g", "%6Q": "%f",
    "%e": "%-d", "%k": "%-H", "%T": "%H:%M:%S", "%F": "%Y-%m-%d", "%D": "%m/%d/%y",
    "%+": "%a %b %-d %H:%M:%S %Z %Y", "%s": "%s", "%l": "%-I", "%R": "%H:%M",
}  # fmt: skip


def translate_time_format(fmt: str) -> str:
    """Splunk's strftime variables (TIMEFMT) in DuckDB's spelling."""
    return re.sub(
        r"%(\d?[NQ]|[eTFDk+lR])",
        lambda m: _SPLUNK_TO_DUCKDB_FORMAT.get(m.group(0), m.group(0)),
        fmt,
    )


@register("strftime", 2)
def _strftime(c: ExprCompiler, node: ast.Call) -> Typed:
    t = c.compile(node.args[0])
    if t.is_null:
        return NULL
    fmt = _literal_string(c, node.args[1], "the strftime() format")
    return Typed(format_epoch(c.number(t), fmt), Kind.STR)


def format_epoch(epoch: exp.Expression, fmt: str) -> exp.Expression:
    """Epoch seconds as text in Splunk's time format ``fmt`` (UTC: DISPLAY_TIMEZONE); shared
    by strftime() and ``convert ctime()``."""
    if "%s" in fmt:
        fmt = fmt.replace("%s", "\x00")
    out: exp.Expression = q.fn("strftime", _timestamp(epoch), q.string(translate_time_format(fmt)))
    if "\x00" in fmt:
        out = q.fn(
            "replace",
            out,
            q.string("\x00"),
            q.cast(q.cast(q.fn("floor", epoch), "BIGINT"), "VARCHAR"),
        )
    return out


def parse_time(text: exp.Expression, fmt: str) -> exp.Expression:
    """Text in Splunk's time format ``fmt`` as epoch seconds (NULL when it does not parse);
    shared by strptime() and ``convert mktime()``."""
    parsed = q.fn("try_strptime", text, q.string(translate_time_format(fmt)))
    return exp.Div(this=q.fn("epoch_us", parsed), expression=exp.Literal.number(1000000.0))


@register("strptime", 2)
def _strptime(c: ExprCompiler, node: ast.Call) -> Typed:
    s = c.compile(node.args[0])
    if s.is_null:
        return NULL
    fmt = _literal_string(c, node.args[1], "the strptime() format")
    return Typed(parse_time(c.string(s), fmt), Kind.NUM)


@register("relative_time", 2)
def _relative_time(c: ExprCompiler, node: ast.Call) -> Typed:
    spec = _literal_string(c, node.args[1], "the relative_time() specifier")
    t = c.compile(node.args[0])
    if t.is_null:
        return NULL
    if isinstance(node.args[0], ast.Num) or (
        isinstance(node.args[0], ast.Call) and node.args[0].name == "now"
    ):
        base = c.now if isinstance(node.args[0], ast.Call) else node.args[0].value
        try:
            return Typed(q.number(relative_time(base, spec)), Kind.NUM)
        except ValueError as err:
            raise c.error(str(err), node.args[1].pos) from None
    return Typed(_relative_time_sql(c, c.number(t), spec, node), Kind.NUM)


def _relative_time_sql(
    c: ExprCompiler, epoch: exp.Expression, spec: str, node: ast.Call
) -> exp.Expression:
    """relative_time() on a per-row time: offsets as intervals, snapping with date_trunc."""
    try:
        relative_time(0.0, spec)  # validate
    except ValueError as err:
        raise c.error(str(err), node.args[1].pos) from None
    offset, _, snap = spec.partition("@")
    ts: exp.Expression = _timestamp(epoch)
    units = {
        "s": "second",
        "m": "minute",
        "h": "hour",
        "d": "day",
        "w": "week",
        "mon": "month",
        "q": "quarter",
        "y": "year",
    }
    from stagehunt.compile.timespec import _UNITS

    for sign, amount, unit in re.findall(r"([+-])(\d*)([A-Za-z]+)", offset):
        n = int(amount or 1) * (-1 if sign == "-" else 1)
        name = units[_UNITS[unit.lower()]]
        interval = exp.Interval(this=q.string(str(n)), unit=exp.var(name.upper()))
        ts = exp.Add(this=ts, expression=interval)
    if snap:
        m = re.match(r"[A-Za-z]+", snap)
        assert m is not None
        word = m.group(0).lower()
        unit_name = "week" if word.startswith("w") else units[_UNITS[word]]
        if unit_name == "week":
            raise c.error(
                "relative_time() snapping to weeks needs a literal time", node.args[1].pos
            )
        ts = q.fn("date_trunc", q.string(unit_name), ts)
    return exp.Div(this=q.fn("epoch_us", ts), expression=exp.Literal.number(1000000.0))


@register("searchmatch", 1)
def _searchmatch(c: ExprCompiler, node: ast.Call) -> Typed:
    from stagehunt.compile.search import SearchCompiler
    from stagehunt.spl.parser import Parser

    text = _literal_string(c, node.args[0], "the searchmatch() argument")
    sub = Parser(text)
    expr = sub.search_and()
    return Typed(SearchCompiler(c.rel, text, c.now).compile(expr), Kind.BOOL)


@register("json_extract", 1, None)
def _json_extract(c: ExprCompiler, node: ast.Call) -> Typed:
    args = _args(c, node)
    if args[0].is_null:
        return NULL
    if len(args) == 1:
        return Typed(c.string(args[0]), Kind.STR)
    path = c.string(args[1])
    return Typed(
        q.fn(
            "json_extract_string",
            c.string(args[0]),
            exp.DPipe(this=q.string("$."), expression=path),
        ),
        Kind.STR,
    )


_unused = (semantics, first_value)
