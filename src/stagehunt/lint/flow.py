"""A light data-flow analysis of a pipeline over the inventory's event variants.

Why: the worst traps of a detection are invisible in its text and only show against the
data it reads. ``stats ... by CommandLine`` is fine on process events and silently drops
every file event; ``case(..., true(), "Unknown")`` looks defensive and is dead given the
search. To see that, the linter asks, for every variant (data source + EventCode +
sourcetype) of the inventory:

* can the initial ``search`` select it at all (three-valued: always / never / maybe)?
* after each ``eval``, is a field certainly set, certainly null, or maybe null (and why)?
* which ``case()`` branches can fire on it?

The analysis is deliberately conservative: anything it cannot decide is MAYBE, and rules
only report what is certain (or MAYBE with a known reason, such as an older Sysmon schema).
It stops at the first transforming ``stats``: after that rows are no longer events.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import Enum

from stagehunt import semantics
from stagehunt.lint.inventory import (
    ALWAYS_PRESENT,
    NEVER_PRESENT,
    UNKNOWN,
    Inventory,
    Presence,
    State,
    Variant,
)
from stagehunt.spl import ast


class Tri(Enum):
    """Truth of a condition on one variant: TRUE/FALSE for every event, NULL (a comparison
    with a null field: not true), or MAYBE (depends on the event)."""

    TRUE = "true"
    FALSE = "false"
    NULL = "null"
    MAYBE = "maybe"


NOT_TRUE = (Tri.FALSE, Tri.NULL)
COMPARISONS = frozenset({"=", "!=", "<", ">", "<=", ">=", "LIKE"})
ARITHMETIC = frozenset({"+", "-", "*", "/", "%", "."})
#: eval functions that return null when an argument is null and a value otherwise.
NULL_PROPAGATING = frozenset(
    """abs ceil ceiling exp floor ln log lower upper len ltrim rtrim trim substr replace
    split tostring urldecode md5 sha1 sha256 sha512 round pow sqrt strftime mvjoin mvcount
    mvdedup mvsort printf""".split()
)
#: eval functions that may return null even on set arguments (no match, unparsable).
MAYBE_NULL = frozenset(
    "tonumber strptime mvindex mvfind mvfilter mvmap spath nullif validate json_extract".split()
)
#: eval functions of no argument that always return a value.
CONSTANTS = frozenset("now time random pi".split())
#: Fields that select the data source rather than the event content.
SOURCE_FIELDS = ("sourcetype", "source")


def glob_match(pattern: str, value: str) -> bool:
    """Search-style whole-value match: ``*`` any run, case-insensitive (2.2.1, 2.2.4)."""
    regex = ".*".join(re.escape(part) for part in pattern.split("*"))
    return re.fullmatch(regex, value, re.IGNORECASE | re.DOTALL) is not None


def as_number(text: str) -> float | None:
    """The number a string denotes (3.6), or None."""
    if re.fullmatch(semantics.NUMBER_PATTERN, text) is None:
        return None
    return float(text)


def join(states: list[State]) -> State:
    """State of a value that is one of ``states`` (if/case branches)."""
    if all(s.presence is Presence.PRESENT for s in states):
        return ALWAYS_PRESENT
    if all(s.presence is Presence.ABSENT for s in states):
        return NEVER_PRESENT
    reasons = [s.reason for s in states if s.presence is Presence.MAYBE and s.reason]
    has_unexplained = any(
        s.presence is Presence.ABSENT or (s.presence is Presence.MAYBE and not s.reason)
        for s in states
    )
    return State(Presence.MAYBE, None if has_unexplained or not reasons else reasons[0])


def propagate(states: list[State]) -> State:
    """State of a null-propagating operation over ``states`` (3.11)."""
    if any(s.presence is Presence.ABSENT for s in states):
        return NEVER_PRESENT
    maybes = [s for s in states if s.presence is Presence.MAYBE]
    if not maybes:
        return ALWAYS_PRESENT
    return State(Presence.MAYBE, next((s.reason for s in maybes if s.reason), None))


@dataclass
class EventState:
    """What is known about the fields of one variant's events at a point of the pipeline."""

    variant: Variant
    inventory: Inventory
    overrides: dict[str, State] = field(default_factory=dict)
    fill_all: bool = False
    opaque: bool = False
    closed: bool = False  # after table/fields: a field not in ``overrides`` is gone

    def get(self, name: str) -> State:
        if name in self.overrides:
            state = self.overrides[name]
        elif self.closed:
            state = NEVER_PRESENT
        elif self.opaque:
            state = UNKNOWN
        else:
            state = self.variant.kind.field_state(name, self.inventory)
        if self.fill_all and state.presence is not Presence.PRESENT:
            return ALWAYS_PRESENT
        return state

    def set(self, name: str, state: State) -> None:
        self.overrides[name] = state

    def code(self, name: str) -> str | None:
        """The event's code if ``name`` is an untouched EventCode-like field of a kind with one."""
        if name not in self.inventory.event_code_fields or name in self.overrides or self.opaque:
            return None
        return self.variant.kind.code


# --------------------------------------------------------------------------- search


def search_tri(expr: ast.SearchExpr, st: EventState) -> Tri:
    """Can ``expr`` (search syntax) match events of ``st``'s variant? TRUE/FALSE/MAYBE."""
    if isinstance(expr, ast.SearchAnd):
        results = [search_tri(item, st) for item in expr.items]
        if Tri.FALSE in results:
            return Tri.FALSE
        return Tri.TRUE if all(r is Tri.TRUE for r in results) else Tri.MAYBE
    if isinstance(expr, ast.SearchOr):
        results = [search_tri(item, st) for item in expr.items]
        if Tri.TRUE in results:
            return Tri.TRUE
        return Tri.FALSE if all(r is Tri.FALSE for r in results) else Tri.MAYBE
    if isinstance(expr, ast.SearchNot):
        inner = search_tri(expr.item, st)
        return {Tri.TRUE: Tri.FALSE, Tri.FALSE: Tri.TRUE}.get(inner, Tri.MAYBE)
    if isinstance(expr, ast.FieldMatch):
        return match_tri(expr.field, expr.op, expr.value.text, st)
    if isinstance(expr, ast.FieldIn):
        results = [match_tri(expr.field, "=", v.text, st) for v in expr.values]
        if Tri.TRUE in results:
            return Tri.TRUE
        return Tri.FALSE if all(r is Tri.FALSE for r in results) else Tri.MAYBE
    return Tri.MAYBE  # bare terms, subsearches


def _yes(flag: bool, op: str) -> Tri:
    positive = flag if op == "=" else not flag
    return Tri.TRUE if positive else Tri.FALSE


def match_tri(name: str, op: str, value: str, st: EventState) -> Tri:
    """One ``field OP value`` search term on a variant."""
    variant = st.variant
    if name in SOURCE_FIELDS and name not in st.overrides:
        actual = variant.sourcetype if name == "sourcetype" else variant.source
        if actual is None or op not in ("=", "!="):
            return Tri.MAYBE
        return _yes(glob_match(value, actual), op)
    kind = variant.kind
    if name in st.inventory.event_code_fields and name not in st.overrides and not st.opaque:
        if kind.code is None and kind.other_codes is None:
            return Tri.FALSE  # the source has no EventCode at all
        if op in ("=", "!="):
            if kind.code is not None:
                return _yes(glob_match(value, kind.code), op)
            if "*" not in value and not kind.may_have_code(value):
                return Tri.FALSE if op == "=" else Tri.TRUE
            return Tri.MAYBE
        number = as_number(value)
        if kind.code is not None and number is not None:
            code = float(kind.code)
            ok = {"<": code < number, ">": code > number, "<=": code <= number}.get(
                op, code >= number
            )
            return Tri.TRUE if ok else Tri.FALSE
        return Tri.MAYBE
    state = st.get(name)
    if state.presence is Presence.ABSENT:
        return Tri.FALSE  # a missing field satisfies neither = nor != (2.2.6) nor < > (2.2.3)
    if op == "=" and value == "*" and state.presence is Presence.PRESENT:
        return Tri.TRUE
    return Tri.MAYBE


def required_fields(expr: ast.SearchExpr, st: EventState) -> set[str]:
    """Fields every event of ``st`` that matches ``expr`` must have (so they are set after)."""
    if isinstance(expr, ast.FieldMatch):
        if expr.field in SOURCE_FIELDS or expr.field in st.inventory.event_code_fields:
            return set()
        return {expr.field}
    if isinstance(expr, ast.FieldIn):
        return {expr.field}
    if isinstance(expr, ast.SearchAnd):
        out: set[str] = set()
        for item in expr.items:
            out |= required_fields(item, st)
        return out
    if isinstance(expr, ast.SearchOr):
        live = [item for item in expr.items if search_tri(item, st) is not Tri.FALSE]
        sets = [required_fields(item, st) for item in live]
        return set.intersection(*sets) if sets else set()
    return set()


def search_terms(
    expr: ast.SearchExpr | None, negated: bool = False
) -> Iterator[tuple[ast.FieldMatch | ast.FieldIn, bool]]:
    """Every field term of a search with whether it sits under a NOT."""
    if expr is None:
        return
    if isinstance(expr, ast.SearchAnd | ast.SearchOr):
        for item in expr.items:
            yield from search_terms(item, negated)
    elif isinstance(expr, ast.SearchNot):
        yield from search_terms(expr.item, not negated)
    elif isinstance(expr, ast.FieldMatch | ast.FieldIn):
        yield expr, negated


def search_values(expr: ast.SearchExpr | None) -> Iterator[tuple[str | None, ast.SearchValue]]:
    """Every value of a search (field terms and bare terms) with its field (None: ``_raw``)."""
    if expr is None:
        return
    if isinstance(expr, ast.SearchAnd | ast.SearchOr):
        for item in expr.items:
            yield from search_values(item)
    elif isinstance(expr, ast.SearchNot):
        yield from search_values(expr.item)
    elif isinstance(expr, ast.FieldMatch):
        yield expr.field, expr.value
    elif isinstance(expr, ast.FieldIn):
        for value in expr.values:
            yield expr.field, value
    elif isinstance(expr, ast.TermMatch):
        yield None, expr.value


# --------------------------------------------------------------------------- eval


def _not(t: Tri) -> Tri:
    if t is Tri.NULL:
        return Tri.NULL if semantics.THREE_VALUED_NOT else Tri.TRUE
    return {Tri.TRUE: Tri.FALSE, Tri.FALSE: Tri.TRUE}.get(t, Tri.MAYBE)


def cond_tri(expr: ast.Expr, st: EventState) -> Tri:
    """Truth of an eval/where condition on every event of ``st``'s variant."""
    if isinstance(expr, ast.Call):
        name, args = expr.name, expr.args
        if name == "true" and not args:
            return Tri.TRUE
        if name == "false" and not args:
            return Tri.FALSE
        if name in ("isnull", "isnotnull") and len(args) == 1:
            presence = value_state(args[0], st).presence
            if presence is Presence.MAYBE:
                return Tri.MAYBE
            is_null = presence is Presence.ABSENT
            return Tri.TRUE if is_null == (name == "isnull") else Tri.FALSE
        if name in ("match", "like", "in") and args:
            if value_state(args[0], st).presence is Presence.ABSENT:
                return Tri.NULL
            if name == "in" and isinstance(args[0], ast.FieldRef):
                code = st.code(args[0].name)
                literals = [_literal(a) for a in args[1:]]
                if code is not None and all(lit is not None for lit in literals):
                    hit = any(_eval_equal(code, lit) for lit in literals if lit is not None)
                    return Tri.TRUE if hit else Tri.FALSE
        return Tri.MAYBE
    if isinstance(expr, ast.UnaryOp) and expr.op == "NOT":
        return _not(cond_tri(expr.operand, st))
    if isinstance(expr, ast.BinOp):
        if expr.op in ("AND", "OR", "XOR"):
            left, right = cond_tri(expr.left, st), cond_tri(expr.right, st)
            return _combine(expr.op, left, right)
        if expr.op in COMPARISONS:
            return _compare_tri(expr, st)
    return Tri.MAYBE


def _combine(op: str, left: Tri, right: Tri) -> Tri:
    both = (left, right)
    if op == "AND":
        if Tri.FALSE in both:
            return Tri.FALSE
        if both == (Tri.TRUE, Tri.TRUE):
            return Tri.TRUE
        if all(t in (Tri.TRUE, Tri.NULL) for t in both):
            return Tri.NULL
        return Tri.MAYBE
    if op == "OR":
        if Tri.TRUE in both:
            return Tri.TRUE
        if both == (Tri.FALSE, Tri.FALSE):
            return Tri.FALSE
        if all(t in NOT_TRUE for t in both):
            return Tri.NULL
        return Tri.MAYBE
    if Tri.MAYBE in both:
        return Tri.MAYBE
    if Tri.NULL in both:
        return Tri.NULL
    return Tri.TRUE if left != right else Tri.FALSE


def _literal(expr: ast.Expr) -> str | float | None:
    if isinstance(expr, ast.Str):
        return expr.value
    if isinstance(expr, ast.Num):
        return expr.value
    return None


def _eval_equal(actual: str, literal: str | float) -> bool:
    """eval ``=``: numeric when both sides are numbers (3.6), else case-sensitive (3.7)."""
    number = as_number(actual)
    other = literal if isinstance(literal, float) else as_number(literal)
    if number is not None and other is not None:
        return math.isclose(number, other)
    return actual == str(literal)


def _compare_tri(expr: ast.BinOp, st: EventState) -> Tri:
    if any(value_state(side, st).presence is Presence.ABSENT for side in (expr.left, expr.right)):
        return Tri.NULL
    pairs = ((expr.left, expr.right), (expr.right, expr.left))
    for ref, other in pairs:
        if not isinstance(ref, ast.FieldRef):
            continue
        literal = _literal(other)
        if literal is None:
            continue
        actual = st.code(ref.name)
        if actual is None and ref.name in SOURCE_FIELDS and ref.name not in st.overrides:
            actual = st.variant.sourcetype if ref.name == "sourcetype" else st.variant.source
        if actual is None or expr.op not in ("=", "!="):
            continue
        equal = _eval_equal(actual, literal)
        return Tri.TRUE if equal == (expr.op == "=") else Tri.FALSE
    return Tri.MAYBE


def value_state(expr: ast.Expr, st: EventState) -> State:
    """Is the value of ``expr`` set on the events of ``st``'s variant?"""
    if isinstance(expr, ast.Str | ast.Num):
        return ALWAYS_PRESENT
    if isinstance(expr, ast.FieldRef):
        return st.get(expr.name)
    if isinstance(expr, ast.UnaryOp):
        return value_state(expr.operand, st) if expr.op == "-" else UNKNOWN
    if isinstance(expr, ast.BinOp):
        if expr.op in ARITHMETIC:
            return propagate([value_state(expr.left, st), value_state(expr.right, st)])
        return UNKNOWN
    name, args = expr.name, expr.args
    if name in ("coalesce", "mvappend"):
        maybes: list[State] = []
        for arg in args:
            state = value_state(arg, st)
            if state.presence is Presence.PRESENT:
                return ALWAYS_PRESENT  # later arguments catch whatever earlier ones miss
            if state.presence is Presence.MAYBE:
                maybes.append(state)
        return join(maybes) if maybes else NEVER_PRESENT
    if name == "if" and len(args) == 3:
        test = cond_tri(args[0], st)
        if test is Tri.TRUE:
            return value_state(args[1], st)
        if test in NOT_TRUE:
            return value_state(args[2], st)
        return join([value_state(args[1], st), value_state(args[2], st)])
    if name == "case":
        outcomes: list[State] = []
        for cond, value in zip(args[0::2], args[1::2], strict=False):
            test = cond_tri(cond, st)
            if test in NOT_TRUE:
                continue
            outcomes.append(value_state(value, st))
            if test is Tri.TRUE:
                return join(outcomes)
        return join([*outcomes, NEVER_PRESENT])
    if name == "null":
        return NEVER_PRESENT
    if name in CONSTANTS and not args:
        return ALWAYS_PRESENT
    if name in NULL_PROPAGATING:
        return propagate([value_state(a, st) for a in args])
    if name in MAYBE_NULL:
        state = propagate([value_state(a, st) for a in args])
        return state if state.presence is Presence.ABSENT else UNKNOWN
    return UNKNOWN


def calls(expr: ast.Expr) -> Iterator[ast.Call]:
    """Every function call inside ``expr``, outermost first."""
    if isinstance(expr, ast.Call):
        yield expr
        for arg in expr.args:
            yield from calls(arg)
    elif isinstance(expr, ast.BinOp):
        yield from calls(expr.left)
        yield from calls(expr.right)
    elif isinstance(expr, ast.UnaryOp):
        yield from calls(expr.operand)


# --------------------------------------------------------------------------- the walk


@dataclass(frozen=True)
class ByCheck:
    """The states of one ``stats``/``eventstats`` by-field on the variants that reach it."""

    cmd_index: int
    cmd: ast.StatsCmd
    field: str
    states: tuple[tuple[Variant, State], ...]


@dataclass(frozen=True)
class CaseReach:
    """For one ``case()`` call: per branch, the variants on which it can fire."""

    call: ast.Call
    reachable: tuple[tuple[Variant, ...], ...]
    live: tuple[Variant, ...]


@dataclass
class EventFlow:
    """What the walk learnt; ``known`` False when the pipeline does not start with a search."""

    known: bool = False
    selected: tuple[Variant, ...] = ()
    explicit: frozenset[Variant] = frozenset()
    by_checks: list[ByCheck] = field(default_factory=list)
    cases: dict[int, CaseReach] = field(default_factory=dict)
    assignments: dict[str, ast.Assignment] = field(default_factory=dict)
    search_codes: tuple[str, ...] = ()


def _explicit(expr: ast.SearchExpr | None, states: list[EventState]) -> frozenset[Variant]:
    """Variants the search names on purpose: by an EventCode term, or (a source without
    EventCodes, like auditd) by a sourcetype/source term.

    Why: a search over a whole sourcetype that groups by a field means "the events that
    have it"; a search naming EventCode=11 and grouping by CommandLine is a mistake.
    """
    out: set[Variant] = set()
    for st in states:
        kind = st.variant.kind
        for term, negated in search_terms(expr):
            if negated:
                continue
            values = [term.value] if isinstance(term, ast.FieldMatch) else list(term.values)
            if isinstance(term, ast.FieldMatch) and term.op != "=":
                continue
            is_code = term.field in st.inventory.event_code_fields
            is_source = term.field in SOURCE_FIELDS
            no_codes = kind.code is None and kind.other_codes is None
            if not (is_code or (is_source and no_codes)):
                continue
            exact = [v for v in values if "*" not in v.text]  # EventCode=1* names nothing
            if any(match_tri(term.field, "=", v.text, st) is Tri.TRUE for v in exact):
                out.add(st.variant)
    return frozenset(out)


def event_flow(pipeline: ast.Pipeline, inventory: Inventory) -> EventFlow:
    """Walk the event part of ``pipeline`` (up to the first ``stats``) over ``inventory``."""
    commands = pipeline.commands
    if not commands or not isinstance(commands[0], ast.SearchCmd):
        return EventFlow()
    first = commands[0]
    states = [EventState(v, inventory) for v in inventory.variants]
    states = _filter_search(first.expr, states)
    codes: list[str] = []
    for term, negated in search_terms(first.expr):
        if not negated and term.field in inventory.event_code_fields:
            values = [term.value] if isinstance(term, ast.FieldMatch) else list(term.values)
            codes.extend(v.text for v in values if v.text not in codes)
    flow = EventFlow(
        known=True,
        selected=tuple(st.variant for st in states),
        explicit=_explicit(first.expr, states),
        search_codes=tuple(codes),
    )
    for index, cmd in enumerate(commands[1:], start=1):
        if isinstance(cmd, ast.SearchCmd):
            states = _filter_search(cmd.expr, states)
        elif isinstance(cmd, ast.WhereCmd):
            states = [st for st in states if cond_tri(cmd.expr, st) not in NOT_TRUE]
        elif isinstance(cmd, ast.EvalCmd):
            for assignment in cmd.assignments:
                for call in calls(assignment.expr):
                    if call.name == "case":
                        flow.cases[call.pos] = _case_reach(call, states)
                new = [value_state(assignment.expr, st) for st in states]
                for st, state in zip(states, new, strict=True):
                    st.set(assignment.field, state)
                flow.assignments[assignment.field] = assignment
        elif isinstance(cmd, ast.FillnullCmd):
            for st in states:
                if cmd.fields:
                    for name in cmd.fields:
                        st.set(name, ALWAYS_PRESENT)
                else:
                    st.fill_all = True
        elif isinstance(cmd, ast.RenameCmd):
            for st in states:
                for old, new_name in cmd.pairs:
                    if "*" in old:
                        st.opaque = True
                        st.overrides.clear()
                        continue
                    st.set(new_name, st.get(old))
                    st.set(old, NEVER_PRESENT)
        elif isinstance(cmd, ast.LookupCmd):
            for st in states:
                if not cmd.output:
                    st.opaque = True
                for _, target in cmd.output:
                    st.set(target, UNKNOWN)
        elif isinstance(cmd, ast.DedupCmd):
            if not cmd.keepempty:
                states = [
                    st
                    for st in states
                    if all(st.get(f).presence is not Presence.ABSENT for f in cmd.fields)
                ]
        elif isinstance(cmd, ast.StatsCmd):
            for name in cmd.by:
                flow.by_checks.append(
                    ByCheck(index, cmd, name, tuple((st.variant, st.get(name)) for st in states))
                )
            if cmd.name == "stats":
                break
            for st in states:
                for agg in cmd.aggregations:
                    st.set(agg.alias, UNKNOWN)
        elif isinstance(cmd, ast.TableCmd | ast.FieldsCmd):
            keep = cmd.fields if isinstance(cmd, ast.TableCmd) or not cmd.remove else ()
            if any("*" in f for f in keep):
                continue
            for st in states:
                if isinstance(cmd, ast.FieldsCmd) and cmd.remove:
                    for name in cmd.fields:
                        st.set(name, NEVER_PRESENT)
                else:
                    st.overrides = {name: st.get(name) for name in keep}
                    st.closed = True
                    st.fill_all = False
        elif isinstance(cmd, ast.HeadCmd | ast.TailCmd | ast.SortCmd):
            continue
        else:
            break
    return flow


def _filter_search(expr: ast.SearchExpr | None, states: list[EventState]) -> list[EventState]:
    if expr is None:
        return states
    kept: list[EventState] = []
    for st in states:
        if search_tri(expr, st) is Tri.FALSE:
            continue
        for name in required_fields(expr, st):
            if st.get(name).presence is Presence.MAYBE:
                st.set(name, ALWAYS_PRESENT)
        kept.append(st)
    return kept


def _case_reach(call: ast.Call, states: list[EventState]) -> CaseReach:
    conds = call.args[0::2]
    reachable: list[list[Variant]] = [[] for _ in conds]
    for st in states:
        for i, cond in enumerate(conds):
            test = cond_tri(cond, st)
            if test in NOT_TRUE:
                continue
            reachable[i].append(st.variant)
            if test is Tri.TRUE:
                break
    return CaseReach(call, tuple(tuple(r) for r in reachable), tuple(st.variant for st in states))
