"""``convert``: field values converted in place or into ``AS`` fields (docs/commands.md,
C-convert-1..12; Search Reference, convert).

Each function works on one value at a time (each value of a multivalue field); a value the
function cannot convert stays as it was (semantics.CONVERT_KEEPS_UNCONVERTIBLE), except
under ``num()``, which removes it. Converted numbers are written as Splunk prints numbers
(``615``, ``1.5``); the field then holds text unless every value is a number (``num()``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlglot import exp

from stagehunt.compile import sqlfn as q
from stagehunt.compile import wildcards
from stagehunt.compile.commands.registry import transforms
from stagehunt.compile.eval import ExprCompiler
from stagehunt.compile.functions import format_epoch, parse_time
from stagehunt.compile.kinds import Kind, Typed
from stagehunt.spl import ast

if TYPE_CHECKING:
    from stagehunt.compile.compiler import Compiler
    from stagehunt.compile.relation import Relation

_NUM = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
#: C-convert-5: "[D+]HH:MM:SS" (fractional seconds allowed)
_DURATION = r"(?:(\d+)\+)?(\d+):(\d+):(\d+(?:\.\d+)?)"
#: C-convert-8: "[MM:]SS.SSS"
_MSTIME = r"(?:(\d+):)?(\d+(?:\.\d+)?)"
#: C-convert-6: a positive number and an optional k, m or g
_MEMK = r"(\d+(?:\.\d*)?|\.\d+)\s*([kKmMgG]?)"
#: C-convert-11: a number at the start of the value, the rest dropped
_LEADING_NUMBER = rf"\s*({_NUM})"
#: C-convert-3: numbers auto() recognises: plain, or with thousands commas
_COMMA_NUMBER = r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?"


@transforms(ast.ConvertCmd, streaming=True)
def convert(c: Compiler, rel: Relation, cmd: ast.ConvertCmd) -> Relation:
    names = rel.names()
    # C-convert-9: none(f) exempts the fields it matches from the command's other functions
    exempt = {n for conv in cmd.conversions if conv.func == "none" for n in _expand(names, conv)}
    for conv in cmd.conversions:
        if conv.func == "none":
            continue
        for src, dst, _ in wildcards.mapping(rel.names(), conv.field, conv.alias or conv.field):
            if src in exempt or (src.startswith("_") and "*" in conv.field and src != "_time"):
                continue
            value = rel.typed(src)
            if value.is_null:
                continue
            ec = ExprCompiler(rel, c.query, c.now)
            rel = c.b.project(rel, [(dst, _converted(ec, conv.func, value, cmd.timeformat))])
    return rel


def _expand(names: list[str], conv: ast.Conversion) -> list[str]:
    return wildcards.expand(names, conv.field)


def _converted(c: ExprCompiler, func: str, value: Typed, timeformat: str) -> Typed:
    if func == "ctime" and value.kind is Kind.NUM:
        return _ctime_of_number(c, value, timeformat)
    if func == "ctime":
        return _per_value(c, value, lambda s: _ctime(s, timeformat), keep=True)
    if func == "num":
        if value.kind is Kind.NUM:
            return value
        return _per_value(c, value, _auto_number, keep=False, numeric=True)
    if func == "auto":
        if value.kind is Kind.NUM:
            return value
        return _auto(c, value)
    if value.kind is Kind.NUM and func in ("mstime", "rmunit", "memk", "rmcomma", "dur2sec"):
        return value  # a number is already in seconds / kilobytes / without unit or commas
    conversion: Callable[[exp.Expression], exp.Expression] = {
        "mktime": lambda s: q.number_to_string(parse_time(s, timeformat)),
        "dur2sec": _dur2sec,
        "mstime": _mstime,
        "memk": _memk,
        "rmcomma": lambda s: q.fn("replace", s, q.string(","), q.string("")),
        "rmunit": _rmunit,
    }[func]
    return _per_value(c, value, conversion, keep=True)


def _per_value(
    c: ExprCompiler,
    value: Typed,
    conversion: Callable[[exp.Expression], exp.Expression],
    *,
    keep: bool,
    numeric: bool = False,
) -> Typed:
    """Apply ``conversion`` (text → text, NULL = cannot convert) to the value or to each value
    of a multivalue field; ``keep``: an unconvertible value stays, else it is removed."""
    if value.kind is Kind.MV:

        def one(e: exp.Expression) -> exp.Expression:
            return q.coalesce(conversion(e), e) if keep else conversion(e)

        out = q.fn("list_transform", value.sql, q.lam(one(q.element())))
        if not keep:
            out = q.fn("list_filter", out, q.lam(q.not_null(q.element())))
            out = q.case((exp.GT(this=q.list_len(out), expression=exp.Literal.number(0)), out))
        return Typed(out, Kind.MV)
    if value.kind is Kind.NUM:
        text = c.string(value)
        return Typed(conversion(text) if not keep else q.coalesce(conversion(text), text), Kind.STR)
    text = c.string(value)
    if numeric:
        return Typed(q.to_number(conversion(text)), Kind.NUM)
    return Typed(q.coalesce(conversion(text), text) if keep else conversion(text), Kind.STR)


def _full(text: exp.Expression, regex: str) -> exp.Expression:
    return q.fn("regexp_full_match", text, q.string(regex))


def _group(text: exp.Expression, regex: str, n: int) -> exp.Expression:
    """Group ``n`` of a full match as a DOUBLE, 0 when the group did not take part."""
    found = q.fn("regexp_extract", text, q.string(f"^{regex}$"), exp.Literal.number(n))
    return q.coalesce(
        q.try_cast(exp.Nullif(this=found, expression=q.string("")), "DOUBLE"), q.number(0)
    )


def _ctime(text: exp.Expression, timeformat: str) -> exp.Expression:
    """C-convert-4: an epoch number as text in ``timeformat`` (UTC); other values: NULL."""
    return q.case((q.is_number(text), format_epoch(q.to_number(text), timeformat)))


def _ctime_of_number(c: ExprCompiler, value: Typed, timeformat: str) -> Typed:
    """C-convert-4 on a number (``stats min(_time) as firstTime | convert ctime(...)``,
    ESCU's ``security_content_ctime`` in nearly every detection): the number's text is a
    number exactly when it is finite, and reads back as the same number, so the time is
    formatted from the number itself; an infinity or NaN stays as its text. The same
    values as the text route, without printing the number four times and testing it."""
    finite = exp.LT(this=exp.Abs(this=q.own(value.sql)), expression=q.number(math.inf))
    formatted = q.case((finite, format_epoch(q.own(value.sql), timeformat)))
    return Typed(q.coalesce(formatted, c.string(value)), Kind.STR)


def _sum(*terms: tuple[exp.Expression, float]) -> exp.Expression:
    total: exp.Expression | None = None
    for term, factor in terms:
        part = term if factor == 1 else exp.Mul(this=term, expression=q.number(factor))
        total = part if total is None else exp.Add(this=total, expression=part)
    assert total is not None
    return total


def _dur2sec(text: exp.Expression) -> exp.Expression:
    seconds = _sum(
        (_group(text, _DURATION, 1), 86400),
        (_group(text, _DURATION, 2), 3600),
        (_group(text, _DURATION, 3), 60),
        (_group(text, _DURATION, 4), 1),
    )
    return q.case((_full(text, _DURATION), q.number_to_string(seconds)))


def _mstime(text: exp.Expression) -> exp.Expression:
    seconds = _sum((_group(text, _MSTIME, 1), 60), (_group(text, _MSTIME, 2), 1))
    return q.case((_full(text, _MSTIME), q.number_to_string(seconds)))


def _memk(text: exp.Expression) -> exp.Expression:
    unit = q.fn(
        "lower", q.fn("regexp_extract", text, q.string(f"^{_MEMK}$"), exp.Literal.number(2))
    )
    factor = q.case(
        (exp.EQ(this=unit, expression=q.string("m")), q.number(1024)),
        (exp.EQ(this=unit, expression=q.string("g")), q.number(1024 * 1024)),
        default=q.number(1),
    )
    kilobytes = exp.Mul(this=_group(text, _MEMK, 1), expression=factor)
    return q.case((_full(text, _MEMK), q.number_to_string(kilobytes)))


def _rmunit(text: exp.Expression) -> exp.Expression:
    found = q.fn("regexp_extract", text, q.string(f"^{_LEADING_NUMBER}"), exp.Literal.number(1))
    return exp.Nullif(this=found, expression=q.string(""))


def _auto_number(text: exp.Expression) -> exp.Expression:
    """C-convert-3: the value as a number's text when auto() knows its form, else NULL."""
    trimmed = q.fn("trim", text)
    return q.case(
        (q.is_number(trimmed), trimmed),
        (_full(trimmed, _COMMA_NUMBER), q.fn("replace", trimmed, q.string(","), q.string(""))),
    )


def _auto(c: ExprCompiler, value: Typed) -> Typed:
    """C-convert-3: converted only when every value of the field, in every result, converts;
    otherwise the field is left untouched."""
    if value.kind is Kind.MV:
        fails = q.fn("list_filter", value.sql, q.lam(q.is_null(_auto_number(q.element()))))
        bad = exp.GT(this=q.coalesce(q.list_len(fails), q.number(0)), expression=q.number(0))
        converted = _per_value(c, value, _auto_number, keep=True)
    else:
        text = c.string(value)
        bad = exp.and_(q.not_null(text), q.is_null(_auto_number(text)))
        converted = Typed(q.coalesce(_auto_number(text), text), Kind.STR)
    any_bad = exp.Window(this=q.fn("bool_or", bad))
    return Typed(q.case((any_bad, value.sql), default=converted.sql), converted.kind)
