"""A plain row-by-row interpreter of SPL, written from ``shared/spl-semantics.md``.

This is the oracle of the property tests: it shares only the parser (``stagehunt.spl``) and
the table of UNCONFIRMED choices (``stagehunt.semantics``) with the engine, never the
compiler. Every function is deliberately naive: one Python loop per command, one value at
a time. Rule numbers (``2.2.6``…) refer to the spec.

Value model
    A result is a ``dict`` from field name to value; an absent key is null (rule 1.1).
    A value is a ``str`` (everything read from events), a number (``int``/``float``, made
    by eval/stats), or a ``list[str]`` (a multivalue). ``_time`` is a ``float``.
    Inside expressions ``bool`` and ``None`` also occur (conditions, null).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from typing import Any

from stagehunt import semantics
from stagehunt.spl import ast
from stagehunt.spl.parser import parse

Value = str | int | float | list[str]
Row = dict[str, Any]

_NUMBER_RE = re.compile(semantics.NUMBER_PATTERN)


class Unsupported(Exception):
    """The reference evaluator does not model this construct."""


@dataclass(frozen=True)
class Output:
    """Final table: column names and one tuple per result."""

    columns: list[str]
    rows: list[tuple[Any, ...]]


# --------------------------------------------------------------------------- value helpers


def is_number(v: object) -> bool:
    """A Python number that is not a bool."""
    return isinstance(v, int | float) and not isinstance(v, bool)


def parse_number(s: str) -> float | None:
    """The number a string denotes (3.6: full match of ``NUMBER_PATTERN``), else None."""
    if _NUMBER_RE.fullmatch(s):
        return float(s)
    return None


def as_number(v: object) -> float | None:
    """Numeric view of a scalar value (numbers, numeric strings), else None."""
    if is_number(v):
        return float(v)  # type: ignore[arg-type]
    if isinstance(v, str):
        return parse_number(v)
    return None


def render(v: object) -> str:
    """String form of a scalar value: numbers without a trailing ``.0`` (3.5)."""
    if isinstance(v, bool):
        return "True" if v else "False"
    if is_number(v):
        f = float(v)  # type: ignore[arg-type]
        if f.is_integer() and abs(f) < 1e15:
            return str(int(f))
        return repr(f)
    if isinstance(v, str):
        return v
    raise Unsupported(f"cannot render {v!r} as a string")


def scalar(v: object) -> object:
    """A multivalue used where one value is needed gives its first value."""
    if isinstance(v, list):
        if not semantics.MULTIVALUE_SCALAR_USES_FIRST:
            raise Unsupported("scalar use of a multivalue")
        return v[0] if v else None
    return v


def values_of(v: object) -> list[Any]:
    """The individual values of a field: [] for null, the list for a multivalue."""
    if v is None:
        return []
    if isinstance(v, list):
        return list(v)
    return [v]


def byte_key(s: str) -> bytes:
    """Lexicographic order of 6.8: UTF-8 byte order."""
    return s.encode("utf-8")


# --------------------------------------------------------------------------- search


def glob_regex(pattern: str) -> re.Pattern[str]:
    """Whole-value, case-insensitive glob where only ``*`` is special (2.2.1, 2.2.4, 2.3.3)."""
    body = ".*".join(re.escape(part) for part in pattern.split("*"))
    return re.compile(body, re.IGNORECASE | re.DOTALL)


def glob_match(value: object, pattern: str, case_sensitive: bool = False) -> bool:
    """One scalar value against a search value."""
    rx = glob_regex(pattern)
    if case_sensitive:
        rx = re.compile(rx.pattern, re.DOTALL)
    return rx.fullmatch(render(value)) is not None


def search_compare(value: object, op: str, target: str) -> bool:
    """``< > <= >=`` in search (2.2.3): numeric when both are numbers, else lexicographic."""
    a, b = as_number(value), parse_number(target)
    left: Any
    right: Any
    if a is not None and b is not None:
        left, right = a, b
    else:
        left, right = byte_key(render(value)), byte_key(target)
    return {
        "<": left < right,
        ">": left > right,
        "<=": left <= right,
        ">=": left >= right,
    }[op]


def search_matches(expr: ast.SearchExpr, row: Row) -> bool:
    """Does a result satisfy a search expression (section 2)? Two-valued logic."""
    if isinstance(expr, ast.SearchAnd):
        return all(search_matches(e, row) for e in expr.items)
    if isinstance(expr, ast.SearchOr):
        return any(search_matches(e, row) for e in expr.items)
    if isinstance(expr, ast.SearchNot):
        # 2.2.6: NOT f=v also keeps results without f.
        return not search_matches(expr.item, row)
    if isinstance(expr, ast.FieldIn):
        # 2.2.7: IN is the OR of field=value terms.
        return any(
            search_matches(ast.FieldMatch(expr.field, "=", v, expr.pos), row) for v in expr.values
        )
    if isinstance(expr, ast.FieldMatch):
        vals = values_of(row.get(expr.field))
        pat = expr.value
        if pat.term:
            raise Unsupported("TERM()")
        if expr.op == "=":
            # 2.2.1/2.2.2 whole-value string match; 2.2.10 any value of a multivalue.
            return any(glob_match(v, pat.text, pat.case_sensitive) for v in vals)
        if expr.op == "!=":
            # 2.2.6: the field must exist; on a multivalue, no value may match.
            if not vals:
                return False
            if semantics.MULTIVALUE_NOT_EQUAL_MEANS_NONE_MATCH:
                return not any(glob_match(v, pat.text, pat.case_sensitive) for v in vals)
            return any(not glob_match(v, pat.text, pat.case_sensitive) for v in vals)
        # 2.2.3: range operators; events lacking the field never match.
        return any(search_compare(v, expr.op, pat.text) for v in vals)
    if isinstance(expr, ast.TermMatch):
        if expr.value.text == "*" and not expr.value.quoted:
            return True
        raise Unsupported("bare search terms against _raw")
    raise Unsupported(f"search expression {type(expr).__name__}")


# --------------------------------------------------------------------------- eval


def _kleene_and(a: object, b: object) -> bool | None:
    if a is False or b is False:
        return False
    if a is None or b is None:
        return None
    return True


def _kleene_or(a: object, b: object) -> bool | None:
    if a is True or b is True:
        return True
    if a is None or b is None:
        return None
    return False


def _as_bool(v: object) -> bool | None:
    if v is None or isinstance(v, bool):
        return v
    raise Unsupported(f"non-boolean {v!r} used as a condition")


def _compare_scalars(a: object, op: str, b: object) -> bool:
    """3.6/3.7: numeric when both sides are numbers, else case-sensitive string order."""
    na, nb = as_number(a), as_number(b)
    left: Any
    right: Any
    if na is not None and nb is not None:
        left, right = na, nb
    else:
        left, right = byte_key(render(a)), byte_key(render(b))
    if op == "=":
        return bool(left == right)
    if op == "!=":
        return bool(left != right)
    if op == "<":
        return bool(left < right)
    if op == ">":
        return bool(left > right)
    if op == "<=":
        return bool(left <= right)
    if op == ">=":
        return bool(left >= right)
    raise Unsupported(op)


def compare(a: object, op: str, b: object) -> bool | None:
    """Comparison with null (3.12: null) and multivalue any-match (3.14)."""
    if a is None or b is None:
        return None
    if isinstance(a, bool) or isinstance(b, bool):
        raise Unsupported("comparing booleans")
    left = a if isinstance(a, list) else [a]
    right = b if isinstance(b, list) else [b]
    if (len(left) > 1 or len(right) > 1) and not semantics.MULTIVALUE_ANY_MATCH:
        raise Unsupported("multivalue comparison")
    return any(_compare_scalars(x, op, y) for x in left for y in right)


def arith(op: str, a: object, b: object) -> object:
    """``+ - * / %`` with null propagation (3.11) and division by zero → null (3.8)."""
    a, b = scalar(a), scalar(b)
    if a is None or b is None:
        return None
    na, nb = as_number(a), as_number(b)
    if op == "+" and (na is None or nb is None):
        # 3.5: '+' concatenates two strings.
        if isinstance(a, str) and isinstance(b, str):
            return a + b
        return None
    if na is None or nb is None:
        return None
    if op == "+":
        return na + nb
    if op == "-":
        return na - nb
    if op == "*":
        return na * nb
    if op == "/":
        return None if nb == 0 else na / nb
    if op == "%":
        return None if nb == 0 else math.fmod(na, nb)
    raise Unsupported(op)


def round_half_away(x: float, digits: int = 0) -> float:
    """round() of section 4 (T12: halves away from zero)."""
    mode = ROUND_HALF_UP if semantics.ROUND_HALF_AWAY_FROM_ZERO else ROUND_HALF_EVEN
    q = Decimal(1).scaleb(-digits)
    return float(Decimal(repr(x)).quantize(q, rounding=mode))


def _str_arg(v: object) -> str | None:
    v = scalar(v)
    return None if v is None else render(v)


def _mv(v: object) -> list[Any] | None:
    if v is None:
        return None
    return v if isinstance(v, list) else [v]


def _mv_result(vals: list[str]) -> object:
    """A multivalue result; an empty one is null."""
    return list(vals) if vals else None


def call(name: str, args: Sequence[ast.Expr], row: Row) -> object:
    """Evaluate an eval function (section 4)."""

    def ev(i: int) -> object:
        return evaluate(args[i], row)

    n = len(args)
    if name == "if" and n == 3:
        return ev(1) if _as_bool(ev(0)) is True else ev(2)
    if name == "case" and n % 2 == 0:
        for i in range(0, n, 2):
            if _as_bool(ev(i)) is True:
                return ev(i + 1)
        return None
    if name == "coalesce" and n >= 1:
        for i in range(n):
            v = ev(i)
            if v is not None:
                return v
        return None
    if name == "match" and n == 2:
        s, rx = _str_arg(ev(0)), _str_arg(ev(1))
        if s is None or rx is None:
            return None
        return re.search(rx, s) is not None
    if name in ("lower", "upper") and n == 1:
        v = ev(0)
        fn: Callable[[str], str] = str.lower if name == "lower" else str.upper
        if v is None:
            return None
        if isinstance(v, list):
            return [fn(x) for x in v]  # section 4: applied per value
        return fn(render(v))
    if name == "len" and n == 1:
        s = _str_arg(ev(0))
        return None if s is None else len(s)
    if name == "tostring" and n == 1:
        v = scalar(ev(0))
        return None if v is None else render(v)
    if name == "tonumber" and n == 1:
        v = scalar(ev(0))
        if v is None:
            return None
        return as_number(v)
    if name in ("isnull", "isnotnull") and n == 1:
        return (ev(0) is None) == (name == "isnull")
    if name == "null" and n == 0:
        return None
    if name == "true" and n == 0:
        return True
    if name == "false" and n == 0:
        return False
    if name == "abs" and n == 1:
        x = as_number(scalar(ev(0)))
        return None if x is None else abs(x)
    if name == "round" and n in (1, 2):
        x = as_number(scalar(ev(0)))
        d = as_number(scalar(ev(1))) if n == 2 else 0.0
        if x is None or d is None:
            return None
        return round_half_away(x, int(d))
    if name == "mvcount" and n == 1:
        mv = _mv(ev(0))
        return None if mv is None else len(mv)
    if name == "mvindex" and n in (2, 3):
        mv = _mv(ev(0))
        start = as_number(scalar(ev(1)))
        end = as_number(scalar(ev(2))) if n == 3 else start
        if mv is None or start is None or end is None:
            return None
        size = len(mv)
        s, e = int(start), int(end)
        s = s + size if s < 0 else s
        e = e + size if e < 0 else e
        if not (0 <= s < size) or not (0 <= e < size) or e < s:
            return None  # section 4: out of range → null
        picked = mv[s : e + 1]
        return picked[0] if n == 2 else list(picked)
    if name == "split" and n == 2:
        s, delim = _str_arg(ev(0)), _str_arg(ev(1))
        if s is None or delim is None:
            return None
        return _mv_result(list(s) if delim == "" else s.split(delim))
    if name == "mvjoin" and n == 2:
        mv, delim = _mv(ev(0)), _str_arg(ev(1))
        if mv is None or delim is None:
            return None
        return delim.join(render(x) for x in mv)
    raise Unsupported(f"eval function {name}/{n}")


def evaluate(expr: ast.Expr, row: Row) -> object:
    """Value of an eval expression for one result (section 3)."""
    if isinstance(expr, ast.Str):
        return expr.value
    if isinstance(expr, ast.Num):
        return expr.value
    if isinstance(expr, ast.FieldRef):
        v = row.get(expr.name)
        return list(v) if isinstance(v, list) else v
    if isinstance(expr, ast.UnaryOp):
        v = evaluate(expr.operand, row)
        if expr.op == "NOT":
            b = _as_bool(v)
            if b is None:
                if semantics.THREE_VALUED_NOT:
                    return None
                return True
            return not b
        if expr.op == "-":
            x = as_number(scalar(v))
            return None if x is None else -x
        raise Unsupported(expr.op)
    if isinstance(expr, ast.BinOp):
        op = expr.op
        if op in ("AND", "OR", "XOR"):
            a = _as_bool(evaluate(expr.left, row))
            b = _as_bool(evaluate(expr.right, row))
            if op == "AND":
                return _kleene_and(a, b)
            if op == "OR":
                return _kleene_or(a, b)
            return None if a is None or b is None else a != b
        left = evaluate(expr.left, row)
        right = evaluate(expr.right, row)
        if op in ("=", "!=", "<", ">", "<=", ">="):
            return compare(left, op, right)
        if op == ".":
            a, b = scalar(left), scalar(right)
            if a is None or b is None:
                return None  # 3.11
            return render(a) + render(b)
        if op in ("+", "-", "*", "/", "%"):
            return arith(op, left, right)
        raise Unsupported(f"operator {op}")
    if isinstance(expr, ast.Call):
        return call(expr.name, expr.args, row)
    raise Unsupported(f"expression {type(expr).__name__}")


# --------------------------------------------------------------------------- ordering


def auto_cmp(a: object, b: object) -> int:
    """7.4 auto ordering of two non-null scalars: numbers (numerically) before strings
    (byte order)."""
    na, nb = as_number(a), as_number(b)
    if na is not None and nb is not None:
        return (na > nb) - (na < nb)
    if na is not None:
        return -1 if semantics.SORT_NUMBERS_BEFORE_STRINGS else 1
    if nb is not None:
        return 1 if semantics.SORT_NUMBERS_BEFORE_STRINGS else -1
    ka, kb = byte_key(render(a)), byte_key(render(b))
    return (ka > kb) - (ka < kb)


def key_cmp(a: object, b: object, coerce: str = "auto") -> int:
    """Compare two sort-key values; ``None`` means missing."""
    a, b = scalar(a), scalar(b)
    if coerce == "str":
        ka, kb = byte_key(render(a)), byte_key(render(b))
        return (ka > kb) - (ka < kb)
    if coerce != "auto":
        raise Unsupported(f"sort {coerce}()")
    return auto_cmp(a, b)


def sort_rows(rows: list[Row], keys: Sequence[ast.SortKey]) -> list[Row]:
    """Stable multi-key sort; missing values last in both directions (7.5)."""

    def cmp(r1: Row, r2: Row) -> int:
        for k in keys:
            a, b = scalar(r1.get(k.field)), scalar(r2.get(k.field))
            if a is None and b is None:
                continue
            if a is None:
                return 1
            if b is None:
                return -1
            c = key_cmp(a, b, k.coerce)
            if c:
                return -c if k.descending else c
        return 0

    if not semantics.SORT_STABLE:
        raise Unsupported("unstable sort")
    return sorted(rows, key=functools.cmp_to_key(cmp))


# --------------------------------------------------------------------------- stats


def aggregate(agg: ast.Aggregation, rows: list[Row]) -> object:
    """One stats function over the rows of a group (section 6)."""
    func = agg.func
    if func == "count" and agg.arg is None:
        return len(rows)
    if agg.param is not None:
        raise Unsupported(f"stats {func}{agg.param}")
    if not isinstance(agg.arg, ast.FieldRef):
        raise Unsupported("stats over eval()")
    fname = agg.arg.name
    field_values = [row.get(fname) for row in rows]
    flat = [x for v in field_values for x in values_of(v)]
    if func == "count":
        # 6.6: number of events where the field has a value.
        return sum(1 for v in field_values if v is not None)
    if func in ("dc", "distinct_count"):
        return len({render(x) for x in flat})  # 6.7 (T10: 0 when empty)
    if func == "values":
        distinct = sorted({render(x) for x in flat}, key=byte_key)  # 6.8
        return distinct or None
    if func == "list":
        return [render(x) for x in flat][: semantics.LIST_MAX_VALUES] or None  # 6.9
    if func in ("min", "max"):
        # 6.12: numbers if there are any, else lexicographic.
        nums = [n for n in (as_number(x) for x in flat) if n is not None]
        if nums:
            return min(nums) if func == "min" else max(nums)
        strs = [render(x) for x in flat]
        if not strs:
            return None
        return (min if func == "min" else max)(strs, key=byte_key)
    if func in ("sum", "avg", "mean"):
        nums = [n for n in (as_number(x) for x in flat) if n is not None]  # 6.13
        if not nums:
            return None
        return sum(nums) if func == "sum" else sum(nums) / len(nums)
    if func in ("earliest", "latest"):
        if fname != "_time":
            raise Unsupported("earliest/latest of a field other than _time")
        times = [as_number(x) for x in flat]
        present = [t for t in times if t is not None]
        if not present:
            return None
        return min(present) if func == "earliest" else max(present)  # 6.10
    if func in ("first", "last"):
        present = [v for v in field_values if v is not None]  # 6.11: input order
        if not present:
            return None
        return present[0] if func == "first" else present[-1]
    raise Unsupported(f"stats function {func}")


def run_stats(cmd: ast.StatsCmd, rows: list[Row]) -> list[Row]:
    """stats (6.1–6.5)."""
    if cmd.name != "stats":
        raise Unsupported(cmd.name)
    if not cmd.by:
        return [{agg.alias: aggregate(agg, rows) for agg in cmd.aggregations}]
    groups: dict[tuple[str, ...], tuple[tuple[Any, ...], list[Row]]] = {}
    for row in rows:
        combos: list[tuple[Any, ...]] = [()]
        for f in cmd.by:
            vals = values_of(row.get(f))  # 6.4: each value of a multivalue
            combos = [(*c, v) for c in combos for v in vals]  # 6.3: null → no combo
        for combo in combos:
            gkey = tuple(render(v) for v in combo)
            if gkey not in groups:
                groups[gkey] = (combo, [])
            groups[gkey][1].append(row)

    def group_cmp(g1: tuple[Any, ...], g2: tuple[Any, ...]) -> int:
        for a, b in zip(g1, g2, strict=True):
            c = auto_cmp(a, b)
            if c:
                return c
            # Numerically equal keys ("11", "011") are distinct groups (6.7: values are
            # strings); 6.5 leaves their order open: byte order, before the next by-field.
            ka, kb = byte_key(render(a)), byte_key(render(b))
            if ka != kb:
                return -1 if ka < kb else 1
        return 0

    ordered = list(groups.values())
    if semantics.STATS_OUTPUT_SORTED_BY_GROUP:
        ordered.sort(key=functools.cmp_to_key(lambda x, y: group_cmp(x[0], y[0])))
    out: list[Row] = []
    for combo, members in ordered:
        result: Row = dict(zip(cmd.by, combo, strict=True))
        for agg in cmd.aggregations:
            result[agg.alias] = aggregate(agg, members)
        out.append(result)
    return out


# --------------------------------------------------------------------------- commands


def _set(row: Row, name: str, value: object) -> None:
    """Assign a value; null removes the field (3.10)."""
    if isinstance(value, bool):
        raise Unsupported("eval result cannot be a Boolean (3.9)")
    if value is None:
        row.pop(name, None)
    else:
        row[name] = value


def run_dedup(cmd: ast.DedupCmd, rows: list[Row]) -> list[Row]:
    """dedup f… (section 8): first N per combination in current order."""
    if cmd.consecutive or cmd.sortby or cmd.keepevents:
        raise Unsupported("dedup options")
    seen: dict[tuple[Any, ...], int] = {}
    out: list[Row] = []
    for row in rows:
        vals = [row.get(f) for f in cmd.fields]
        if any(v is None for v in vals):
            if cmd.keepempty:
                out.append(row)
            continue
        key = tuple(tuple(render(x) for x in v) if isinstance(v, list) else render(v) for v in vals)
        if seen.get(key, 0) < cmd.count:
            seen[key] = seen.get(key, 0) + 1
            out.append(row)
    return out


def run_rename(cmd: ast.RenameCmd, rows: list[Row]) -> list[Row]:
    """rename a AS b (section 8): a missing a nulls b."""
    for old, new in cmd.pairs:
        if "*" in old or "*" in new:
            raise Unsupported("wildcard rename")
        for row in rows:
            value = row.pop(old, None)
            _set(row, new, value)
    return rows


def run_command(cmd: ast.Command, rows: list[Row]) -> tuple[list[Row], list[str] | None]:
    """Apply one command; also returns the table columns when the command fixes them."""
    if isinstance(cmd, ast.SearchCmd):
        if cmd.expr is None:
            return rows, None
        expr = cmd.expr
        return [r for r in rows if search_matches(expr, r)], None
    if isinstance(cmd, ast.WhereCmd):
        return [r for r in rows if _as_bool(evaluate(cmd.expr, r)) is True], None  # 5.1
    if isinstance(cmd, ast.EvalCmd):
        for row in rows:
            for a in cmd.assignments:  # 3.13: left to right
                _set(row, a.field, evaluate(a.expr, row))
        return rows, None
    if isinstance(cmd, ast.StatsCmd):
        out = run_stats(cmd, rows)
        return out, [*cmd.by, *(a.alias for a in cmd.aggregations)]
    if isinstance(cmd, ast.SortCmd):
        if cmd.reverse:
            raise Unsupported("sort … d")
        ordered = sort_rows(rows, cmd.keys)
        limit = semantics.SORT_DEFAULT_LIMIT if cmd.limit is None else cmd.limit
        return (ordered[:limit] if limit else ordered), None
    if isinstance(cmd, ast.TableCmd):
        if any("*" in f for f in cmd.fields):
            raise Unsupported("table wildcards")
        cols = list(dict.fromkeys(cmd.fields))
        return [{f: r[f] for f in cols if f in r} for r in rows], cols
    if isinstance(cmd, ast.FieldsCmd):
        if any("*" in f for f in cmd.fields):
            raise Unsupported("fields wildcards")
        if cmd.remove:
            return [{k: v for k, v in r.items() if k not in cmd.fields} for r in rows], None
        keep = set(cmd.fields) | {"_time", "_raw"}  # internal fields stay (section 8)
        return [{k: v for k, v in r.items() if k in keep} for r in rows], None
    if isinstance(cmd, ast.RenameCmd):
        return run_rename(cmd, rows), None
    if isinstance(cmd, ast.HeadCmd):
        return rows[: cmd.count], None
    if isinstance(cmd, ast.TailCmd):
        # Splunk tail: the last N, returned in reverse order (Search Reference, tail).
        return (rows[-cmd.count :][::-1] if cmd.count else []), None
    if isinstance(cmd, ast.DedupCmd):
        return run_dedup(cmd, rows), None
    if isinstance(cmd, ast.FillnullCmd):
        if not cmd.fields:
            raise Unsupported("fillnull without a field list")
        for row in rows:
            for f in cmd.fields:
                if row.get(f) is None:
                    row[f] = cmd.value
        return rows, None
    raise Unsupported(f"command {type(cmd).__name__}")


def default_order(records: Iterable[dict[str, Any]]) -> list[Row]:
    """1.4: newest ``_time`` first; equal times keep stored (input) order."""
    rows = [dict(r) for r in records]
    for r in rows:
        if "_time" in r and r["_time"] is not None:
            r["_time"] = float(r["_time"])
        for k, v in list(r.items()):
            if isinstance(v, list):
                r[k] = list(v)
    if semantics.SEARCH_ORDER_NEWEST_FIRST:
        # sorted() is stable, so ties stay in input order.
        rows = sorted(rows, key=lambda r: -(r.get("_time") or 0.0))
    return rows


def run_pipeline(
    pipeline: ast.Pipeline, records: Iterable[dict[str, Any]]
) -> tuple[list[Row], list[str] | None]:
    """Run every command; returns the results and the columns fixed by the last
    stats/table (None when no such command ran)."""
    rows = default_order(records)
    columns: list[str] | None = None
    for cmd in pipeline.commands:
        rows, cols = run_command(cmd, rows)
        if cols is not None:
            columns = cols
        elif isinstance(cmd, ast.EvalCmd) and columns is not None:
            columns = columns + [a.field for a in cmd.assignments if a.field not in columns]
        elif isinstance(cmd, ast.RenameCmd) and columns is not None:
            columns = _renamed_columns(columns, cmd)
        elif isinstance(cmd, ast.FieldsCmd) and columns is not None:
            columns = [
                c
                for c in columns
                if (c not in cmd.fields) == cmd.remove or (not cmd.remove and c == "_time")
            ]
    return rows, columns


def _renamed_columns(columns: list[str], cmd: ast.RenameCmd) -> list[str]:
    cols = list(columns)
    for old, new in cmd.pairs:
        if old in cols:
            if new in cols and new != old:
                cols.remove(new)
            cols[cols.index(old)] = new
    return cols


def run(spl: str, records: Iterable[dict[str, Any]]) -> Output:
    """Run a query ending in ``table`` or ``stats`` (which fix the columns)."""
    rows, columns = run_pipeline(parse(spl), records)
    if columns is None:
        raise Unsupported("the reference evaluator needs a final table or stats")
    return Output(columns, [tuple(r.get(c) for c in columns) for r in rows])
