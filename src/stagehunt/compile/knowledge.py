"""Search-time knowledge on raw events: the add-ons' extractions, aliases, calculated
fields, event types and tags, applied as Splunk applies them (docs/cim.md, rules K1-K6).

Each field an add-on defines becomes one ``CASE`` over the stanzas that define it (the
first matching stanza wins, K6; an event no stanza matches keeps the field as stored).
Extractions see the stored event (K2), aliases the event after the extractions (K3),
calculated fields the event after the aliases and not each other (K4); then ``eventtype``
and ``tag`` are computed from the event types (K5).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from collections.abc import Set as AbstractSet
from functools import cache
from typing import TYPE_CHECKING

from sqlglot import exp

from stagehunt.compile import sqlfn as q
from stagehunt.compile.eval import ExprCompiler
from stagehunt.compile.kinds import Kind, Typed
from stagehunt.compile.relation import Relation
from stagehunt.compile.search import SearchCompiler, glob_predicate
from stagehunt.knowledge.load import KnowledgeError
from stagehunt.knowledge.model import Eventtype, Knowledge, Stanza
from stagehunt.spl import ast
from stagehunt.spl.errors import SplError

if TYPE_CHECKING:
    from stagehunt.compile.compiler import Compiler


@cache
def search_terms(text: str) -> ast.SearchExpr | None:
    """A knowledge file's search terms (event type, constraint) as a search expression."""
    from stagehunt.spl.parser import Parser

    if not text.strip():
        return None
    try:
        parser = Parser(text)
        expr = parser.search_and()
        parser.end_of_command("search")
    except SplError as err:
        raise KnowledgeError(f"search {text!r}: {err}") from None
    return expr


@cache
def eval_expression(text: str) -> ast.Expr:
    """A knowledge file's eval expression (EVAL-, data model calculation)."""
    from stagehunt.spl.parser import Parser

    try:
        return Parser(text).expression_to_end("eval")
    except SplError as err:
        raise KnowledgeError(f"eval {text!r}: {err}") from None


def compile_terms(c: Compiler, rel: Relation, text: str) -> exp.Expression:
    expr = search_terms(text)
    if expr is None:
        return exp.true()
    try:
        return SearchCompiler(rel, text, c.now).compile(expr)
    except SplError as err:
        raise KnowledgeError(f"search {text!r}: {err}") from None


def compile_eval(c: Compiler, rel: Relation, text: str) -> Typed:
    try:
        return ExprCompiler(rel, text, c.now).value(eval_expression(text))
    except SplError as err:
        raise KnowledgeError(f"eval {text!r}: {err}") from None


def stanza_predicate(rel: Relation, stanza: Stanza) -> exp.Expression:
    """Whether a props.conf stanza applies: ``source::``, ``host::`` or a sourcetype name
    (``*`` and ``...`` as wildcards, case-sensitive)."""
    tests: list[exp.Expression] = []
    for name in stanza.match:
        field, _, pattern = name.partition("::") if "::" in name else ("sourcetype", "", name)
        value = rel.typed(field)
        if value.kind is not Kind.STR:
            continue
        glob = glob_predicate(pattern.replace("...", "*"), case_sensitive=True)
        tests.append(q.coalesce(glob(value.sql), exp.false()))
    return q.or_(*tests) if tests else exp.false()


def _choose(
    rel: Relation, field: str, branches: Sequence[tuple[exp.Expression, Typed]]
) -> Typed | None:
    """``CASE WHEN stanza THEN value ... ELSE stored value END``; None: nothing to add."""
    from stagehunt.compile.functions import unify

    stored = rel.typed(field)
    live = [(p, v) for p, v in branches if not v.is_null]
    if not live and stored.is_null:
        return None
    values = [v for _, v in branches] + ([stored] if not stored.is_null else [])
    kind, sqls = unify(_Strings(rel), values)
    whens = list(zip([p for p, _ in branches], sqls[: len(branches)], strict=True))
    default = sqls[len(branches)] if not stored.is_null else None
    return Typed(q.case(*whens, default=default), kind)


class _Strings(ExprCompiler):
    """Only for :func:`unify`'s string conversions (no query text involved)."""

    def __init__(self, rel: Relation) -> None:
        super().__init__(rel, "", 0.0)


def eval_fields(text: str) -> frozenset[str]:
    """The fields an eval expression of a knowledge file reads."""
    return _expr_fields(eval_expression(text))


def search_fields(text: str) -> frozenset[str]:
    """The fields a knowledge file's search terms read (``_raw`` for bare terms)."""
    expr = search_terms(text)
    return frozenset() if expr is None else _search_fields(expr)


@cache
def _expr_fields(node: ast.Expr) -> frozenset[str]:
    if isinstance(node, ast.FieldRef):
        return frozenset((node.name,))
    if isinstance(node, ast.BinOp):
        return _expr_fields(node.left) | _expr_fields(node.right)
    if isinstance(node, ast.UnaryOp):
        return _expr_fields(node.operand)
    if isinstance(node, ast.Call):
        out: frozenset[str] = frozenset()
        for arg in node.args:
            out |= _expr_fields(arg)
        return out
    return frozenset()


@cache
def _search_fields(node: ast.SearchExpr) -> frozenset[str]:
    if isinstance(node, ast.FieldMatch | ast.FieldIn):
        return frozenset((node.field,))
    if isinstance(node, ast.TermMatch):
        return frozenset(("_raw",))
    if isinstance(node, ast.SearchAnd | ast.SearchOr):
        out: frozenset[str] = frozenset()
        for item in node.items:
            out |= _search_fields(item)
        return out
    if isinstance(node, ast.SearchNot):
        return _search_fields(node.item)
    return frozenset()


def apply(
    c: Compiler, rel: Relation, knowledge: Knowledge, wanted: AbstractSet[str] | None = None
) -> Relation:
    """The events with every add-on's search-time fields, ``eventtype`` and ``tag``: field
    extractions, then aliases, then calculated fields, then event types and tags (K1).

    ``wanted``: the fields the caller reads afterwards (None: all). Only the definitions
    those fields depend on are compiled, which keeps a data model query's SQL (and its
    compile time) proportional to the fields the model declares, not to every add-on."""
    stanzas = knowledge.stanzas
    types = knowledge.eventtypes
    use_types = bool(types) and (wanted is None or bool({"eventtype", "tag"} & set(wanted)))
    need = _needs(stanzas, types if use_types else [], wanted)
    need_evals, need_aliases, need_extracts = need if need is not None else (None, None, None)
    matches = [stanza_predicate(rel, s) for s in stanzas]
    rel = _layer(c, rel, stanzas, matches, _extract_values, need_extracts)
    rel = _layer(c, rel, stanzas, matches, _alias_values, need_aliases)
    rel = _layer(c, rel, stanzas, matches, _eval_values, need_evals)
    return _eventtypes(c, rel, knowledge) if use_types else rel


def _needs(
    stanzas: Sequence[Stanza], types: Sequence[Eventtype], wanted: AbstractSet[str] | None
) -> tuple[set[str], set[str], set[str]] | None:
    """The fields the eval, alias and extraction layers must produce for ``wanted`` (each
    layer's needs are the next layer's plus what the next layer's definitions read)."""
    if wanted is None:
        return None
    evals = set(wanted)
    for e in types:
        evals |= search_fields(e.search)
    aliases = set(evals)
    for s in stanzas:
        for calc in s.evals:
            if calc.field in evals:
                aliases |= eval_fields(calc.expression)
    extracts = set(aliases)
    for s in stanzas:
        for alias in s.aliases:
            if alias.target in aliases:
                extracts.add(alias.source)
    return evals, aliases, extracts


ValuesFn = Callable[
    ["Compiler", Relation, Stanza, "AbstractSet[str] | None"], list[tuple[str, Typed]]
]


def _layer(
    c: Compiler,
    rel: Relation,
    stanzas: Sequence[Stanza],
    matches: Sequence[exp.Expression],
    values: ValuesFn,
    wanted: AbstractSet[str] | None,
) -> Relation:
    """One projection: every field the stanzas define, each from the same input."""
    branches: dict[str, list[tuple[exp.Expression, Typed]]] = {}
    for stanza, match in zip(stanzas, matches, strict=True):
        for field, value in values(c, rel, stanza, wanted):
            branches.setdefault(field, []).append((match, value))
    assignments: list[tuple[str, Typed]] = []
    for field, options in branches.items():
        chosen = _choose(rel, field, options)
        if chosen is not None:
            assignments.append((field, chosen))
    return c.b.project(rel, assignments) if assignments else rel


def _extract_values(
    c: Compiler, rel: Relation, stanza: Stanza, wanted: AbstractSet[str] | None
) -> list[tuple[str, Typed]]:
    return [
        (calc.field, compile_eval(c, rel, calc.expression))
        for calc in stanza.extracts
        if wanted is None or calc.field in wanted
    ]


def _alias_values(
    c: Compiler, rel: Relation, stanza: Stanza, wanted: AbstractSet[str] | None
) -> list[tuple[str, Typed]]:
    out: list[tuple[str, Typed]] = []
    for alias in stanza.aliases:
        if wanted is not None and alias.target not in wanted:
            continue
        source = rel.typed(alias.source)
        if alias.keep_existing:
            target = rel.typed(alias.target)
            if not target.is_null and not source.is_null:
                from stagehunt.compile.functions import unify

                kind, (t, s) = unify(_Strings(rel), [target, source])
                source = Typed(q.coalesce(t, s), kind)
            elif not target.is_null:
                source = target
        out.append((alias.target, source))
    return out


def _eval_values(
    c: Compiler, rel: Relation, stanza: Stanza, wanted: AbstractSet[str] | None
) -> list[tuple[str, Typed]]:
    return [
        (calc.field, compile_eval(c, rel, calc.expression))
        for calc in stanza.evals
        if wanted is None or calc.field in wanted
    ]


def _eventtypes(c: Compiler, rel: Relation, knowledge: Knowledge) -> Relation:
    """``eventtype``: the names of the event types the event matches; ``tag``: their tags
    (both multivalue, sorted, null when none); a stored value is kept where none match."""
    types = knowledge.eventtypes
    if not types:
        return rel
    preds = [compile_terms(c, rel, e.search) for e in types]
    names = [q.case((p, q.string(e.name))) for p, e in zip(preds, types, strict=True)]
    tags = [q.case((p, q.string(tag))) for p, e in zip(preds, types, strict=True) for tag in e.tags]
    assignments = [("eventtype", _labels(rel, "eventtype", names))]
    if tags:
        assignments.append(("tag", _labels(rel, "tag", tags)))
    return c.b.project(rel, assignments)


def _labels(rel: Relation, field: str, items: list[exp.Expression]) -> Typed:
    listed = q.fn("list_sort", q.fn("list_distinct", exp.Array(expressions=items)))
    found = exp.Nullif(this=listed, expression=q.cast(exp.Array(expressions=[]), "VARCHAR[]"))
    stored = rel.typed(field)
    if stored.is_null:
        return Typed(found, Kind.MV)
    if stored.kind is Kind.MV:
        return Typed(q.coalesce(found, stored.sql), Kind.MV)
    as_list = exp.Array(expressions=[ExprCompiler(rel, "", 0.0).string(stored)])
    return Typed(q.coalesce(found, q.case((q.not_null(stored.sql), as_list))), Kind.MV)
