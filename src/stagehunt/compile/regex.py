"""``regex`` and ``rex``: Splunk's PCRE patterns on DuckDB's RE2.

Splunk hands these patterns to PCRE; DuckDB runs RE2. Most detection regexes are in the
common subset. :func:`to_re2` rewrites what has an exact RE2 spelling (named groups
``(?<n>...)`` / ``(?'n'...)`` become ``(?P<n>...)``) and refuses, with the offending
offset, what RE2 cannot do (look-around, back-references, atomic groups, possessive
quantifiers), so a query fails at compile time with a located message instead of at run
time with a DuckDB error.
"""

from __future__ import annotations

import functools
import re
import threading
from dataclasses import dataclass

import duckdb
from sqlglot import exp

from stagehunt.compile import sqlfn as q
from stagehunt.compile.eval import ExprCompiler
from stagehunt.compile.kinds import Kind, Typed
from stagehunt.compile.relation import QueryBuilder, Relation
from stagehunt.spl import ast
from stagehunt.spl.errors import SplSemanticError, SplUnsupportedError

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Re2Pattern:
    """A pattern RE2 accepts, with its capturing groups in order (None: unnamed)."""

    text: str
    groups: tuple[str | None, ...]


class PcreOnly(ValueError):
    """The pattern uses a PCRE feature RE2 lacks; ``offset`` points into the pattern."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


class BadPattern(ValueError):
    """The pattern is wrong for PCRE too (Splunk refuses it); ``offset`` as above."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


def to_re2(pattern: str) -> Re2Pattern:
    """Translate the PCRE pattern to RE2 where that is exact; raise :class:`PcreOnly` else."""
    out: list[str] = []
    groups: list[str | None] = []
    i, n = 0, len(pattern)
    in_class = False
    while i < n:
        ch = pattern[i]
        if ch == "\\":
            nxt = pattern[i + 1 : i + 2]
            if not in_class and nxt.isdigit() and nxt != "0":
                raise PcreOnly("back-references (\\1) are not available in RE2", i)
            if nxt in ("k", "g") and not in_class:
                raise PcreOnly(f"\\{nxt} back-references are not available in RE2", i)
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            if ch == "]":
                in_class = False
            out.append(ch)
            i += 1
            continue
        if ch == "[":
            in_class = True
            out.append(ch)
            i += 1
            # a ']' right after '[' or '[^' is a literal member
            for lead in ("^", "]"):
                if pattern.startswith(lead, i):
                    out.append(lead)
                    i += 1
            continue
        if ch in "*+?}" and pattern.startswith("+", i + 1):
            raise PcreOnly("possessive quantifiers (x*+) are not available in RE2", i + 1)
        if ch != "(":
            out.append(ch)
            i += 1
            continue
        rest = pattern[i + 1 :]
        if not rest.startswith("?"):
            groups.append(None)
            out.append(ch)
            i += 1
            continue
        for lead, what in (
            ("?=", "look-ahead"),
            ("?!", "look-ahead"),
            ("?<=", "look-behind"),
            ("?<!", "look-behind"),
            ("?>", "atomic groups"),
            ("?|", "branch reset groups"),
            ("?#", "comments"),
        ):
            if rest.startswith(lead):
                raise PcreOnly(f"{what} ({lead}...) is not available in RE2", i)
        named, start = None, i
        for open_, close in (("?P<", ">"), ("?<", ">"), ("?'", "'")):
            if rest.startswith(open_):
                m = _NAME.match(rest, len(open_))
                if m and rest.startswith(close, m.end()):
                    named = m.group()
                    i += 1 + m.end() + len(close)
                break
        if named is not None:
            if named in groups:  # PCRE without (?J), as Splunk compiles it, refuses it too
                raise BadPattern(f"two groups are named '{named}'", start)
            groups.append(named)
            out.append(f"(?P<{named}>")
            continue
        out.append(ch)
        i += 1
    return Re2Pattern("".join(out), tuple(groups))


def translate(pattern: str, pos: int, query: str) -> Re2Pattern:
    """The RE2 spelling of a literal pattern at ``pos``, or an error located in it: what
    only PCRE has, what PCRE refuses too, and what RE2 itself refuses (a repeat over
    1000, an unknown class), found now rather than when the statement runs."""
    try:
        re2 = to_re2(pattern)
    except PcreOnly as e:
        raise SplUnsupportedError(str(e), pos + 1 + e.offset, query) from None
    except BadPattern as e:
        raise SplSemanticError(str(e), pos + 1 + e.offset, query) from None
    refusal = re2_refusal(re2.text)
    if refusal is not None:
        raise SplSemanticError(f"RE2 refuses the regular expression: {refusal}", pos + 1, query)
    return re2


_re2_lock = threading.Lock()


@functools.lru_cache(maxsize=4096)
def re2_refusal(text: str) -> str | None:
    """Why RE2 (as DuckDB runs it) refuses ``text``, or None: asked of DuckDB itself,
    with the pattern as a parameter."""
    with _re2_lock:
        try:
            _re2_checker().execute("SELECT regexp_matches('', ?)", [text]).fetchone()
        except duckdb.InvalidInputException as e:
            message = str(e).strip().splitlines()[0] if str(e).strip() else "invalid pattern"
            return message.removeprefix("Invalid Input Error: ")
    return None


@functools.cache
def _re2_checker() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


def _matches(subject: Typed, pattern: str, c: ExprCompiler) -> exp.Expression:
    """TRUE when any substring matches (rule 4, match(): unanchored); FALSE when absent."""
    if subject.kind is Kind.MV:
        hits = q.fn(
            "list_filter",
            subject.sql,
            q.lam(q.fn("regexp_matches", q.element(), q.string(pattern))),
        )
        return q.coalesce(exp.GT(this=q.list_len(hits), expression=q.number(0)), exp.false())
    return q.coalesce(q.fn("regexp_matches", c.string(subject), q.string(pattern)), exp.false())


def regex(b: QueryBuilder, rel: Relation, cmd: ast.RegexCmd, query: str, now: float) -> Relation:
    """Keep events whose field matches (``=``) or does not match (``!=``) the pattern.

    An event without the field never matches, so ``!=`` keeps it
    (semantics.REGEX_NOT_EQUAL_KEEPS_ABSENT); a multivalue field matches when any value does.
    """
    pattern = translate(cmd.pattern, cmd.pattern_pos, query)
    subject = rel.typed(cmd.field)
    c = ExprCompiler(rel, query, now)
    hit = exp.false() if subject.is_null else _matches(subject, pattern.text, c)
    return b.project(rel, [], where=q.not_(hit) if cmd.negate else hit)


def rex(b: QueryBuilder, rel: Relation, cmd: ast.RexCmd, query: str, now: float) -> Relation:
    """Each named group becomes a field where the pattern matches; elsewhere the field keeps
    the value it had (rule 8, rex: unanchored, default field ``_raw``). ``max_match`` other
    than 1 makes multivalue fields of up to N matches (C-rex-2); on a multivalue field each
    value is matched in turn (C-rex-3). ``mode=sed`` edits the field (C-rex-4..6)."""
    if cmd.sed is not None:
        return _sed(b, rel, cmd, cmd.sed, query, now)
    pattern = translate(cmd.pattern, cmd.pattern_pos, query)
    names = [(i + 1, g) for i, g in enumerate(pattern.groups) if g is not None]
    if not names:
        raise SplSemanticError(
            "rex needs at least one named group such as (?<name>...)", cmd.pattern_pos, query
        )
    subject = rel.typed(cmd.field)
    if subject.is_null:
        return rel
    c = ExprCompiler(rel, query, now)
    if cmd.max_match == 1 and subject.kind is not Kind.MV:
        return _rex_first(b, rel, c, subject, pattern, names)
    regex = q.string(pattern.text)

    def matches(group: int) -> exp.Expression:
        """Group ``group`` of every match, in order, over every value; at most max_match."""
        if subject.kind is Kind.MV:
            per_value = q.fn(
                "list_transform",
                subject.sql,
                q.lam(q.fn("regexp_extract_all", q.element(), regex, q.number(group))),
            )
            found = q.fn("flatten", per_value)
        else:
            found = q.fn("regexp_extract_all", c.string(subject), regex, q.number(group))
        if cmd.max_match > 0:
            found = q.fn("list_slice", found, q.number(1), q.number(cmd.max_match))
        return found

    matched = exp.GT(this=q.coalesce(q.list_len(matches(0)), q.number(0)), expression=q.number(0))
    assignments: list[tuple[str, Typed]] = []
    for index, name in names:
        values = q.fn(
            "list_filter", matches(index), q.lam(exp.NEQ(this=q.element(), expression=q.string("")))
        )
        before = rel.typed(name)
        if cmd.max_match == 1:
            value: exp.Expression = exp.Nullif(this=q.item(values, 1), expression=q.string(""))
            keep = c.string(before) if not before.is_null else q.null_str()
            kind = Kind.STR
        else:
            value = q.case((exp.GT(this=q.list_len(values), expression=q.number(0)), values))
            keep = _as_list(c, before)
            kind = Kind.MV
        assignments.append((name, Typed(q.case((matched, value), default=keep), kind)))
    return b.project(rel, assignments)


def _as_list(c: ExprCompiler, t: Typed) -> exp.Expression:
    if t.kind is Kind.MV:
        return t.sql
    if t.is_null:
        return q.cast(exp.Null(), "VARCHAR[]")
    return q.case((q.not_null(t.sql), exp.Array(expressions=[c.string(t)])))


def _rex_first(
    b: QueryBuilder,
    rel: Relation,
    c: ExprCompiler,
    subject: Typed,
    pattern: Re2Pattern,
    names: list[tuple[int, str]],
) -> Relation:
    """max_match=1 on a single value: the first match's groups (rule 8, rex)."""
    text = c.string(subject)
    matched = q.fn("regexp_matches", text, q.string(pattern.text))
    assignments: list[tuple[str, Typed]] = []
    # DuckDB takes group numbers up to 9; past that, every group by name in one struct
    labels = [g if g is not None else f"__g{i}" for i, g in enumerate(pattern.groups)]
    groups = exp.Array(expressions=[q.string(label) for label in labels])
    for index, name in names:
        if len(pattern.groups) > 9:
            found = q.fn("regexp_extract", text, q.string(pattern.text), groups)
            group = q.fn("struct_extract", found, q.string(name))
        else:
            group = q.fn("regexp_extract", text, q.string(pattern.text), q.number(index))
        value = exp.Nullif(this=group, expression=q.string(""))
        before = rel.typed(name)
        keep = c.string(before) if not before.is_null else q.null_str()
        assignments.append((name, Typed(q.case((matched, value), default=keep), Kind.STR)))
    return b.project(rel, assignments)


def _sed(
    b: QueryBuilder, rel: Relation, cmd: ast.RexCmd, sed: ast.SedExpr, query: str, now: float
) -> Relation:
    """C-rex-4..6: ``s/re/repl/`` replaces the first match, ``g`` every match, ``N`` the Nth;
    ``y/abc/xyz/`` maps characters. Each value of a multivalue field is edited."""
    subject = rel.typed(cmd.field)
    if subject.is_null:
        return rel
    c = ExprCompiler(rel, query, now)
    if sed.kind == "s":
        regex = translate(sed.pattern, cmd.pattern_pos + 2, query).text

        def edit(text: exp.Expression) -> exp.Expression:
            return _substitute(text, regex, sed.replacement, sed.occurrence)
    else:

        def edit(text: exp.Expression) -> exp.Expression:
            return q.fn("translate", text, q.string(sed.pattern), q.string(sed.replacement))

    if subject.kind is Kind.MV:
        value = Typed(q.fn("list_transform", subject.sql, q.lam(edit(q.element()))), Kind.MV)
    else:
        value = Typed(edit(c.string(subject)), Kind.STR)
    return b.project(rel, [(cmd.field, value)])


def _substitute(text: exp.Expression, regex: str, replacement: str, nth: int) -> exp.Expression:
    """``text`` with the ``nth`` match of ``regex`` replaced (0: every match); back-references
    ``\\1`` in ``replacement`` as RE2's rewrite strings take them."""
    rewrite = q.string(replacement)
    if nth == 0:
        return q.fn("regexp_replace", text, q.string(regex), rewrite, q.string("g"))
    if nth == 1:
        return q.fn("regexp_replace", text, q.string(regex), rewrite)
    # the pieces between matches and the matches, joined back with the Nth match rewritten
    pieces = q.fn("regexp_split_to_array", text, q.string(regex))
    found = q.fn("regexp_extract_all", text, q.string(regex))
    out: exp.Expression = q.string("")
    for i in range(1, nth + 1):
        out = exp.DPipe(this=out, expression=q.item(pieces, i))
        if i < nth:
            out = exp.DPipe(this=out, expression=q.item(found, i))
    anchored = q.string(f"^(?:{regex})$")
    out = exp.DPipe(
        this=out, expression=q.fn("regexp_replace", q.item(found, nth), anchored, rewrite)
    )
    rest = q.fn(
        "list_transform",
        q.fn("list_zip", _tail(pieces, nth + 1), _tail(found, nth + 1)),
        q.lam(
            exp.DPipe(
                this=q.coalesce(q.item(q.element(), 1), q.string("")),
                expression=q.coalesce(q.item(q.element(), 2), q.string("")),
            )
        ),
    )
    out = exp.DPipe(this=out, expression=q.fn("array_to_string", rest, q.string("")))
    enough = exp.GTE(this=q.list_len(found), expression=q.number(nth))
    return q.case((enough, out), default=text)


def _tail(lst: exp.Expression, start: int) -> exp.Expression:
    return q.fn("list_slice", lst, q.number(start), q.list_len(lst))
