"""The lint rules: one function per rule, each ``(pipeline, inventory) -> list[Finding]``.

Every rule names a trap that makes a detection return less (or other) than its author
thinks, with the spl-semantics rule that causes it, and a fix that avoids it:

========  ===================================================================
SH001     a ``stats``/``eventstats`` by-field null for a whole selected source
SH002     ``_time`` used after ``stats`` (stats does not output it)
SH003     ``sort`` without a count (keeps 10,000 rows)
SH004     a comparison on a multivalue field (UNCONFIRMED any-match)
SH005     a sourcetype/source term that can select nothing (dead branch)
SH006     a wildcard next to punctuation inside a value (inconsistent in Splunk)
SH007     an unreachable ``case()`` branch
========  ===================================================================
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from stagehunt import semantics
from stagehunt.lint.findings import Finding, line_column, make
from stagehunt.lint.flow import (
    COMPARISONS,
    SOURCE_FIELDS,
    EventState,
    Tri,
    event_flow,
    match_tri,
    search_terms,
    search_tri,
    search_values,
)
from stagehunt.lint.inventory import Inventory, Presence, Variant
from stagehunt.spl import ast
from stagehunt.spl.errors import SplError
from stagehunt.spl.lexer import Mode, Scanner, T, Token

Rule = Callable[[ast.Pipeline, Inventory], list[Finding]]

# --------------------------------------------------------------------------- helpers


def command_span(pipeline: ast.Pipeline, index: int) -> tuple[int, int]:
    """Offsets of command ``index``: from its name to the next command's ``|``."""
    start = pipeline.commands[index].pos
    if index + 1 < len(pipeline.commands):
        end = pipeline.text.rfind("|", start, pipeline.commands[index + 1].pos)
        end = pipeline.commands[index + 1].pos if end < 0 else end
    else:
        end = len(pipeline.text)
    return start, end


def arg_tokens(pipeline: ast.Pipeline, index: int) -> list[Token]:
    """The argument tokens of command ``index`` (the AST keeps no positions for field lists)."""
    start, end = command_span(pipeline, index)
    scanner = Scanner(pipeline.text)
    scanner.pos = start
    out: list[Token] = []
    try:
        while True:
            tok = scanner.next(Mode.ARGS)
            if tok.type in (T.EOF, T.PIPE) or tok.pos >= end:
                break
            out.append(tok)
    except SplError:
        pass
    return out[1:]  # drop the command name


def by_positions(pipeline: ast.Pipeline, index: int) -> dict[str, int]:
    """Offsets of the by-fields of the stats command ``index``."""
    tokens = arg_tokens(pipeline, index)
    out: dict[str, int] = {}
    after_by = False
    for tok in tokens:
        if tok.type is T.WORD and tok.text.lower() == "by":
            after_by = True
        elif after_by and tok.type in (T.WORD, T.STRING):
            out.setdefault(tok.text, tok.pos)
    return out


def field_positions(pipeline: ast.Pipeline, index: int) -> dict[str, int]:
    """Offsets of the field names of a ``table``/``fields`` command."""
    out: dict[str, int] = {}
    for tok in arg_tokens(pipeline, index):
        if tok.type in (T.WORD, T.STRING):
            out.setdefault(tok.text, tok.pos)
    return out


def start_pos(expr: ast.Expr) -> int:
    """Offset of the leftmost token of ``expr`` (a BinOp's own pos is its operator)."""
    while isinstance(expr, ast.BinOp):
        expr = expr.left
    return expr.pos


def field_refs(expr: ast.Expr) -> Iterator[ast.FieldRef]:
    if isinstance(expr, ast.FieldRef):
        yield expr
    elif isinstance(expr, ast.BinOp):
        yield from field_refs(expr.left)
        yield from field_refs(expr.right)
    elif isinstance(expr, ast.UnaryOp):
        yield from field_refs(expr.operand)
    elif isinstance(expr, ast.Call):
        for arg in expr.args:
            yield from field_refs(arg)


def command_exprs(cmd: ast.Command) -> list[ast.Expr]:
    """The eval expressions a command evaluates."""
    if isinstance(cmd, ast.EvalCmd):
        return [a.expr for a in cmd.assignments]
    if isinstance(cmd, ast.WhereCmd):
        return [cmd.expr]
    if isinstance(cmd, ast.StatsCmd):
        return [a.arg for a in cmd.aggregations if a.arg is not None]
    return []


def line_of(pipeline: ast.Pipeline, pos: int) -> int:
    return line_column(pipeline.text, pos)[0]


def snippet(pipeline: ast.Pipeline, start: int, end: int, limit: int = 60) -> str:
    text = " ".join(pipeline.text[start:end].split()).rstrip(",").strip()
    return text if len(text) <= limit else text[: limit - 3] + "..."


def assignment_text(pipeline: ast.Pipeline, assignment: ast.Assignment) -> str:
    """``Actor=coalesce(User, user)``: the assignment as written (for messages)."""
    for index, cmd in enumerate(pipeline.commands):
        if isinstance(cmd, ast.EvalCmd) and assignment in cmd.assignments:
            i = cmd.assignments.index(assignment)
            if i + 1 < len(cmd.assignments):
                end = cmd.assignments[i + 1].pos
            else:
                end = command_span(pipeline, index)[1]
            return snippet(pipeline, assignment.pos, end)
    return assignment.field


def kind_labels(variants: list[Variant]) -> list[str]:
    """Distinct kind labels (the sourcetype renderings of one kind count once)."""
    out: list[str] = []
    for v in variants:
        if v.kind.label not in out:
            out.append(v.kind.label)
    return out


def eval_regex_literal(text: str) -> str:
    """``text`` as an anchored-free PCRE matching it literally, written as an eval string."""
    regex = re.sub(r"([\\.^$|?*+()\[\]{}])", r"\\\1", text)
    return '"' + regex.replace("\\", "\\\\").replace('"', '\\"') + '"'


# --------------------------------------------------------------------------- SH001


def null_by_field(pipeline: ast.Pipeline, inventory: Inventory) -> list[Finding]:
    """SH001: a by-field null on a whole data source the search selects (spl-semantics 6.3).

    ``stats ... by f`` drops every event without ``f``: when the search names EventCode=11
    and ``f`` is CommandLine (not a Sysmon EID 11 field), half the detection vanishes
    without an error. Reported for sources the search names explicitly (an EventCode
    term), when the field is certainly null there, or null for a known reason (an older
    Sysmon schema, an audit policy).
    """
    flow = event_flow(pipeline, inventory)
    findings: list[Finding] = []
    for check in flow.by_checks:
        groups: dict[tuple[Presence, str | None], list[Variant]] = {}
        for variant, state in check.states:
            if variant not in flow.explicit:
                continue
            if state.presence is Presence.ABSENT or (
                state.presence is Presence.MAYBE and state.reason
            ):
                groups.setdefault((state.presence, state.reason), []).append(variant)
        if not groups:
            continue
        pos = by_positions(pipeline, check.cmd_index).get(check.field, check.cmd.pos)
        assignment = flow.assignments.get(check.field)
        what = f"`{check.field}`"
        if assignment is not None:
            line = line_of(pipeline, assignment.pos)
            what += f" (`{assignment_text(pipeline, assignment)}`, line {line})"
        effect = (
            f"`stats ... by {check.field}` drops them"
            if check.cmd.name == "stats"
            else f"`eventstats ... by {check.field}` gives them no aggregate"
        )
        fix = (
            f'give it a value before {check.cmd.name}: `| fillnull value="-" {check.field}` '
            f'(or `eval {check.field}=coalesce(..., "-")`)'
        )
        for (presence, reason), variants in groups.items():
            labels = ", ".join(kind_labels(variants))
            if presence is Presence.ABSENT:
                why = "the field is not set on them" if assignment is None else "no input is set"
                message = (
                    f"{what} is null on every {labels} event the search selects ({why}); {effect}"
                )
            else:
                message = f"{what} may be null on {labels} events ({reason}); {effect}"
            findings.append(make("SH001", pipeline.text, pos, message, fix))
    return findings


# --------------------------------------------------------------------------- SH002


def time_after_stats(pipeline: ast.Pipeline, inventory: Inventory) -> list[Finding]:
    """SH002: ``_time`` used after ``stats``, which outputs only by-fields and aggregates (6.1, 8).

    ``table _time, ...`` then shows an empty column and ``sort _time`` sorts nothing.
    """
    del inventory
    findings: list[Finding] = []
    available: set[str] | None = None  # None: still events (every field may exist)
    stats_line = 0

    def report(pos: int) -> None:
        findings.append(
            make(
                "SH002",
                pipeline.text,
                pos,
                f"`_time` does not exist after `stats` (line {stats_line}): stats outputs only "
                "its by-fields and aggregates, so this is empty",
                "use the aggregated times (e.g. `| eval _time=FirstSeen` after stats, or "
                "`earliest(_time) AS _time` in it), or drop `_time` here",
            )
        )

    for index, cmd in enumerate(pipeline.commands):
        if available is not None and "_time" not in available:
            for expr in command_exprs(cmd):
                for ref in field_refs(expr):
                    if ref.name == "_time":
                        report(ref.pos)
            removes = isinstance(cmd, ast.FieldsCmd) and cmd.remove
            if (
                isinstance(cmd, ast.TableCmd | ast.FieldsCmd)
                and "_time" in cmd.fields
                and not removes
            ):
                report(field_positions(pipeline, index).get("_time", cmd.pos))
            if isinstance(cmd, ast.SortCmd):
                for key in cmd.keys:
                    if key.field == "_time":
                        report(key.pos)
            if isinstance(cmd, ast.StatsCmd) and "_time" in cmd.by:
                report(by_positions(pipeline, index).get("_time", cmd.pos))
        if isinstance(cmd, ast.StatsCmd):
            aliases = {a.alias for a in cmd.aggregations}
            if cmd.name == "stats":
                available = set(cmd.by) | aliases
                stats_line = line_of(pipeline, cmd.pos)
            elif available is not None:
                available |= aliases
        elif available is not None:
            if isinstance(cmd, ast.EvalCmd):
                available |= {a.field for a in cmd.assignments}
            elif isinstance(cmd, ast.RenameCmd):
                for old, new in cmd.pairs:
                    if old in available:
                        available.add(new)
            elif isinstance(cmd, ast.LookupCmd):
                available |= {target for _, target in cmd.output}
    return findings


# --------------------------------------------------------------------------- SH003


def sort_cap(pipeline: ast.Pipeline, inventory: Inventory) -> list[Finding]:
    """SH003: ``sort`` without a count keeps the first 10,000 rows and drops the rest (7.2).

    Not reported when the rows are known to be few (after ``head N`` with N <= 10,000 or a
    ``stats`` without by) or when a ``head N`` right after keeps fewer anyway.
    """
    del inventory
    findings: list[Finding] = []
    bounded = False
    cap = semantics.SORT_DEFAULT_LIMIT
    for index, cmd in enumerate(pipeline.commands):
        if isinstance(cmd, ast.HeadCmd | ast.TailCmd) and cmd.count <= cap:
            bounded = True
        elif isinstance(cmd, ast.StatsCmd) and cmd.name == "stats":
            bounded = not cmd.by
        elif (
            isinstance(cmd, ast.SortCmd)
            and cmd.limit is None
            and not bounded
            and not _head_follows(pipeline.commands[index + 1 :], cap)
        ):
            start, end = command_span(pipeline, index)
            written = snippet(pipeline, start, end)
            fixed = re.sub(r"^sort\b", "sort 0", written, flags=re.IGNORECASE)
            findings.append(
                make(
                    "SH003",
                    pipeline.text,
                    cmd.pos,
                    f"`sort` without a count keeps only the first {cap:,} rows; "
                    "the rest are silently dropped",
                    f"`{fixed}` (sort 0 = no limit)",
                )
            )
    return findings


def _head_follows(rest: tuple[ast.Command, ...], cap: int) -> bool:
    """Whether ``head N`` (N <= cap) follows with only row-preserving commands between:
    then the rows the cap drops are ones ``head`` would drop anyway (sort keeps the top)."""
    for cmd in rest:
        if isinstance(cmd, ast.HeadCmd):
            return cmd.count <= cap
        if not isinstance(cmd, ast.EvalCmd | ast.TableCmd | ast.FieldsCmd | ast.RenameCmd):
            return False
    return False


# --------------------------------------------------------------------------- SH004

MV_PRODUCERS = frozenset("split mvappend mvfilter mvsort mvdedup mvmap mvzip mvrange".split())
#: Functions whose arguments are meant to be multivalue (their comparisons are per value).
MV_AWARE = frozenset(
    "mvfilter mvmap mvfind mvcount mvindex mvjoin mvsort mvdedup isnull isnotnull".split()
)


def _is_mv(expr: ast.Expr, mv: dict[str, str]) -> bool:
    if isinstance(expr, ast.FieldRef):
        return expr.name in mv
    if isinstance(expr, ast.Call):
        if expr.name in MV_PRODUCERS:
            return True
        if expr.name == "mvindex":
            return len(expr.args) == 3
        if expr.name in ("coalesce", "if", "case"):
            return any(_is_mv(a, mv) for a in expr.args)
    return False


def _mv_comparisons(expr: ast.Expr, mv: dict[str, str]) -> Iterator[tuple[ast.FieldRef, ast.BinOp]]:
    if isinstance(expr, ast.BinOp):
        if expr.op in COMPARISONS:
            for side in (expr.left, expr.right):
                if isinstance(side, ast.FieldRef) and side.name in mv:
                    yield side, expr
        yield from _mv_comparisons(expr.left, mv)
        yield from _mv_comparisons(expr.right, mv)
    elif isinstance(expr, ast.UnaryOp):
        yield from _mv_comparisons(expr.operand, mv)
    elif isinstance(expr, ast.Call) and expr.name not in MV_AWARE:
        for arg in expr.args:
            yield from _mv_comparisons(arg, mv)


def multivalue_compare(pipeline: ast.Pipeline, inventory: Inventory) -> list[Finding]:
    """SH004: ``where``/eval comparing a multivalue field (e.g. the output of values()).

    Whether ``mv="x"`` is true when *any* value is x is UNCONFIRMED (spl-semantics 3.14):
    a detection should not hang on it. ``mvfind`` states the intent explicitly.
    """
    del inventory
    findings: list[Finding] = []
    mv: dict[str, str] = {}
    for index, cmd in enumerate(pipeline.commands):
        if isinstance(cmd, ast.StatsCmd):
            produced = {
                a.alias: f"{a.func}() at line {line_of(pipeline, a.pos)}"
                for a in cmd.aggregations
                if a.func in ("values", "list")
            }
            if cmd.name == "stats":
                mv = produced
            else:
                mv.update(produced)
            continue
        if isinstance(cmd, ast.SearchCmd) and index > 0:
            for term, _ in search_terms(cmd.expr):
                if term.field in mv:
                    findings.append(_mv_finding(pipeline, term.field, term.pos, mv, None, "="))
        for expr in command_exprs(cmd):
            for ref, op in _mv_comparisons(expr, mv):
                other = op.right if op.left is ref else op.left
                literal = other.value if isinstance(other, ast.Str) else None
                findings.append(_mv_finding(pipeline, ref.name, ref.pos, mv, literal, op.op))
        if isinstance(cmd, ast.EvalCmd):
            for a in cmd.assignments:
                if _is_mv(a.expr, mv):
                    mv[a.field] = f"eval at line {line_of(pipeline, a.pos)}"
                else:
                    mv.pop(a.field, None)
        elif isinstance(cmd, ast.RenameCmd):
            for old, new in cmd.pairs:
                if old in mv:
                    mv[new] = mv.pop(old)
    return findings


def _mv_finding(
    pipeline: ast.Pipeline, name: str, pos: int, mv: dict[str, str], literal: str | None, op: str
) -> Finding:
    if literal is not None and op in ("=", "!="):
        regex = eval_regex_literal(literal)
        anchored = '"^' + regex[1:-1] + '$"'
        test = f"isnotnull(mvfind({name}, {anchored}))"
        if op == "!=":
            test = f"isnull(mvfind({name}, {anchored}))"
        fix = f"`{test}`"
    else:
        fix = f"test the values explicitly: `mvfind({name}, regex)` or `mvfilter(...)`"
    return make(
        "SH004",
        pipeline.text,
        pos,
        f"`{name}` is multivalue here ({mv[name]}); comparing it relies on any-value matching, "
        "which is UNCONFIRMED in Splunk",
        fix,
    )


# --------------------------------------------------------------------------- SH005


def dead_source(pipeline: ast.Pipeline, inventory: Inventory) -> list[Finding]:
    """SH005: a sourcetype/source term of the search that can select nothing.

    Either no data has it (store inventory only: the static one cannot know a deployment's
    custom sourcetypes), or every event it names fails the rest of the search: e.g.
    ``sourcetype="WinEventLog:Security"`` next to ``EventCode=1 OR EventCode=11``, which the
    Security channel never emits (spl-semantics 9.9). Such a term is dead weight that
    makes the author believe a source is covered.
    """
    first = pipeline.commands[0]
    if not isinstance(first, ast.SearchCmd) or first.expr is None:
        return []
    flow = event_flow(pipeline, inventory)
    states = [EventState(v, inventory) for v in inventory.variants]
    findings: list[Finding] = []
    for term, negated in search_terms(first.expr):
        if negated or term.field not in SOURCE_FIELDS:
            continue
        if isinstance(term, ast.FieldMatch) and term.op != "=":
            continue
        values = [term.value] if isinstance(term, ast.FieldMatch) else list(term.values)
        for value in values:
            written = f'{term.field}="{value.text}"'
            tris = [(st, match_tri(term.field, "=", value.text, st)) for st in states]
            hits = [st for st, t in tris if t is Tri.TRUE]
            if not any(t is not Tri.FALSE for _, t in tris):
                if inventory.complete:
                    present = ", ".join(sorted(inventory.sourcetypes)) or "none"
                    findings.append(
                        make(
                            "SH005",
                            pipeline.text,
                            value.pos,
                            f"`{written}` matches no event in the data (sourcetypes present: "
                            f"{present})",
                            f"use the {term.field} the data has, or remove the term",
                        )
                    )
                continue
            if not hits or any(search_tri(first.expr, st) is not Tri.FALSE for st in hits):
                continue
            sources = sorted({st.variant.kind.source_name for st in hits})
            has = list(dict.fromkeys(st.variant.kind.code for st in hits if st.variant.kind.code))
            codes = ", ".join(flow.search_codes)
            reason = (
                f"the search keeps only EventCode {codes}, which {', '.join(sources)} never emits"
                if codes
                else "every one fails the rest of the search"
            )
            fix = "remove the term"
            if has:
                fix += (
                    f", or give it a branch with EventCodes it has (e.g. EventCode={has[0]} "
                    "with that source's own field names)"
                )
            findings.append(
                make(
                    "SH005",
                    pipeline.text,
                    term.pos,
                    f"`{written}` is a dead branch: {reason}",
                    fix,
                )
            )
    return findings


# --------------------------------------------------------------------------- SH006

BREAKERS = frozenset(semantics.MAJOR_BREAKERS + semantics.MINOR_BREAKERS)


def wildcard_next_to_punctuation(value: str) -> bool:
    """A ``*`` inside a value next to a breaker (2.2.5): ``*\\Temp\\*``, ``*copy /*``, ``a*\\b``.

    A single leading or trailing wildcard (``*.exe``, ``10.0.0.*``) is not reported: the
    index can match it as a term prefix/suffix.
    """
    if "*" not in value.strip("*"):
        inner = value.strip("*")
        both_ends = value.startswith("*") and value.endswith("*") and inner
        return bool(both_ends) and (inner[0] in BREAKERS or inner[-1] in BREAKERS)
    for i, ch in enumerate(value):
        if ch != "*" or i == 0 or i == len(value) - 1:
            continue
        before, after = value[i - 1], value[i + 1]
        if "*" in (before, after):
            continue
        if before in BREAKERS or after in BREAKERS:
            return True
    return False


def mid_string_wildcard(pipeline: ast.Pipeline, inventory: Inventory) -> list[Finding]:
    """SH006: wildcards next to punctuation mid-value "might give inconsistent results in
    Splunk" (index segmentation, spl-semantics 2.2.5); stagehunt matches them as ideal
    globs, so it can report hits real Splunk misses."""
    del inventory
    findings: list[Finding] = []
    for cmd in pipeline.commands:
        if not isinstance(cmd, ast.SearchCmd):
            continue
        for name, value in search_values(cmd.expr):
            if not wildcard_next_to_punctuation(value.text):
                continue
            target = name or "_raw"
            inner = value.text.strip("*")
            fix = (
                f"keep a wildcard-free term in the search and test the substring with `| where "
                f'match({target}, "(?i){eval_regex_literal(inner)[1:]})`'
                if "*" not in inner
                else f"test the pattern with `| where match({target}, regex)` instead"
            )
            findings.append(
                make(
                    "SH006",
                    pipeline.text,
                    value.pos,
                    f'`"{value.text}"`: a wildcard next to punctuation inside a value might give '
                    "inconsistent results in Splunk",
                    fix,
                )
            )
    return findings


# --------------------------------------------------------------------------- SH007


def _key(expr: ast.Expr) -> Any:
    """Structure of an expression without positions (equal keys = same condition)."""
    if isinstance(expr, ast.Str):
        return ("s", expr.value)
    if isinstance(expr, ast.Num):
        return ("n", expr.value)
    if isinstance(expr, ast.FieldRef):
        return ("f", expr.name)
    if isinstance(expr, ast.BinOp):
        return ("b", expr.op, _key(expr.left), _key(expr.right))
    if isinstance(expr, ast.UnaryOp):
        return ("u", expr.op, _key(expr.operand))
    return ("c", expr.name, tuple(_key(a) for a in expr.args))


def _conjuncts(expr: ast.Expr) -> set[Any]:
    if isinstance(expr, ast.BinOp) and expr.op == "AND":
        return _conjuncts(expr.left) | _conjuncts(expr.right)
    return {_key(expr)}


def _is_true(expr: ast.Expr) -> bool:
    return isinstance(expr, ast.Call) and expr.name == "true" and not expr.args


def unreachable_case(pipeline: ast.Pipeline, inventory: Inventory) -> list[Finding]:
    """SH007: a ``case()`` branch that can never be chosen.

    After ``true()``; when its condition implies an earlier one (same condition, or the
    earlier conjuncts plus more: ``EventCode=11`` then ``EventCode=11 AND x``); or when,
    given what the search selects, every event takes an earlier branch or fails it (the
    seed's ``true(), "Unknown"``). Dead branches mislead readers about what is covered.
    """
    flow = event_flow(pipeline, inventory)
    findings: list[Finding] = []
    fix = "remove the branch, or reorder so the more specific condition comes first"
    for cmd in pipeline.commands:
        for expr in command_exprs(cmd):
            for call in _case_calls(expr):
                conds = call.args[0::2]
                for i, cond in enumerate(conds):
                    pos = start_pos(cond)
                    earlier = conds[:i]
                    catch_all = next((c for c in earlier if _is_true(c)), None)
                    if catch_all is not None:
                        message = (
                            "unreachable `case()` branch: the earlier `true()` branch (line "
                            f"{line_of(pipeline, catch_all.pos)}) takes every event"
                        )
                        findings.append(make("SH007", pipeline.text, pos, message, fix))
                        continue
                    implied = next((c for c in earlier if _conjuncts(c) <= _conjuncts(cond)), None)
                    if implied is not None:
                        message = (
                            "unreachable `case()` branch: every event it matches already "
                            f"matches the branch at line {line_of(pipeline, start_pos(implied))}"
                        )
                        findings.append(make("SH007", pipeline.text, pos, message, fix))
                        continue
                    reach = flow.cases.get(call.pos)
                    if reach is None or not reach.live or reach.reachable[i]:
                        continue
                    labels = ", ".join(kind_labels(list(reach.live)))
                    message = (
                        "unreachable `case()` branch given the search: every event it selects "
                        f"({labels}) takes an earlier branch or fails this one"
                    )
                    findings.append(
                        make(
                            "SH007",
                            pipeline.text,
                            pos,
                            message,
                            "remove the branch, or widen the search if other events should "
                            "reach it",
                        )
                    )
    return findings


def _case_calls(expr: ast.Expr) -> Iterator[ast.Call]:
    if isinstance(expr, ast.Call):
        if expr.name == "case":
            yield expr
        for arg in expr.args:
            yield from _case_calls(arg)
    elif isinstance(expr, ast.BinOp):
        yield from _case_calls(expr.left)
        yield from _case_calls(expr.right)
    elif isinstance(expr, ast.UnaryOp):
        yield from _case_calls(expr.operand)


#: Every rule, in id order.
RULES: tuple[tuple[str, Rule], ...] = (
    ("SH001", null_by_field),
    ("SH002", time_after_stats),
    ("SH003", sort_cap),
    ("SH004", multivalue_compare),
    ("SH005", dead_source),
    ("SH006", mid_string_wildcard),
    ("SH007", unreachable_case),
)
