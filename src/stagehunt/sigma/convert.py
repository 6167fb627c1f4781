"""Sigma rule -> SPL with pySigma's Splunk backend, one rule at a time.

Each rule gives a :class:`Converted`: its SPL queries, or the reason it does not convert
(pySigma's own error message). A rule that only feeds a correlation (pySigma disables its
output) is kept with no queries and ``feeds`` naming the correlation, so nothing is dropped
without a word.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from re import Pattern
from typing import ClassVar

from sigma.backends.splunk import SplunkBackend
from sigma.conversion.base import Backend
from sigma.correlations import SigmaCorrelationRule
from sigma.rule import SigmaRuleBase

from stagehunt.sigma.cache import ConversionCache, SplEntry, digest, versions
from stagehunt.sigma.pipelines import splunk_pipeline
from stagehunt.sigma.rules import rule_label


class StagehuntSplunkBackend(SplunkBackend):  # type: ignore[misc]
    """pySigma's Splunk backend with one bug fixed (pysigma-backend-splunk 2.1.0).

    When a rule ORs a regex with other conditions, the backend moves the leading
    ``field=value`` terms of the final ``| search`` in front of the ``rex`` commands. It also
    moves a term that is the left operand of an ``OR`` (``A OR B`` becomes ``A | ... |
    search OR B``), which changes the rule and is not valid SPL. The term pattern below adds
    "not followed by OR" (and takes unquoted values whole); the backend's code is unchanged.
    """

    _field_eq_val_re: ClassVar[Pattern[str]] = re.compile(
        r'([\w.]+)(?:="[^"]*"|=[^\s")]+(?![^\s")]))(?!\s+OR\b)\s*'
    )


@dataclass(frozen=True)
class RuleInfo:
    """What the output shows first for each match."""

    id: str
    title: str
    level: str
    path: str
    correlation: bool


@dataclass(frozen=True)
class Converted:
    rule: RuleInfo
    queries: tuple[str, ...]
    reason: str | None = None  # why it does not convert
    feeds: tuple[str, ...] = ()  # titles of correlations this rule only feeds

    @property
    def ok(self) -> bool:
        return self.reason is None and bool(self.queries)


def info(rule: SigmaRuleBase) -> RuleInfo:
    level = getattr(rule, "level", None)
    return RuleInfo(
        id=str(rule.id) if rule.id else (rule.name or ""),
        title=rule.title or "",
        level=str(level.name).lower() if level is not None else "",
        path=rule_label(rule),
        correlation=isinstance(rule, SigmaCorrelationRule),
    )


#: pySigma names the rule an error is about by its whole repr (kilobytes): cut there
_RULE_REPR = re.compile(r"\s*(?:in rule\s+)?Sigma\w*Rule\(.*$")


def _reason(error: BaseException) -> str:
    text = _RULE_REPR.sub("", " ".join(str(error).split()))
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _reference_order(rules: list[SigmaRuleBase]) -> list[SigmaRuleBase]:
    """``rules`` with every correlation after the rules it reads (depth first, otherwise
    in the given order): pySigma converts a correlation from what its rules' conversions
    left in the backend, and a folder lists ``…_event_count.yml`` before the rules it
    counts."""
    given = {id(r) for r in rules}
    placed: set[int] = set()
    out: list[SigmaRuleBase] = []

    def place(rule: SigmaRuleBase) -> None:
        if id(rule) in placed:
            return
        placed.add(id(rule))  # before the references: a cycle cannot recurse for ever
        if isinstance(rule, SigmaCorrelationRule):
            for ref in rule.rules or []:
                if ref.rule is not None and id(ref.rule) in given:
                    place(ref.rule)
        out.append(rule)

    for rule in rules:
        place(rule)
    return out


def _users(rules: Iterable[SigmaRuleBase]) -> dict[int, list[str]]:
    """id(rule) -> titles of the correlations that reference it."""
    users: dict[int, list[str]] = {}
    for rule in rules:
        if isinstance(rule, SigmaCorrelationRule):
            for ref in rule.rules or []:
                if ref.rule is not None:
                    users.setdefault(id(ref.rule), []).append(rule.title or str(rule.id))
    return users


def convert_rules(
    rules: Iterable[SigmaRuleBase], backend_factory: Callable[[], Backend] | None = None
) -> list[Converted]:
    """Convert every rule; a failure is recorded on that rule and the others go on."""
    rules = list(rules)
    make = backend_factory or (
        lambda: StagehuntSplunkBackend(splunk_pipeline(), collect_errors=True)
    )
    users = _users(rules)
    done: dict[int, Converted] = {}
    # one backend, rules in reference order: a correlation's conversion reads the state its
    # rules' conversions left; errors it collects while converting a rule belong to that rule
    backend = make()
    for rule in _reference_order(rules):
        meta = info(rule)
        seen = len(getattr(backend, "errors", []))
        try:
            if isinstance(rule, SigmaCorrelationRule):
                queries = backend.convert_correlation_rule(rule)
            else:
                queries = backend.convert_rule(rule)
        except Exception as e:  # pySigma raises more than SigmaError (NotImplementedError, ...)
            done[id(rule)] = Converted(meta, (), _reason(e))
            continue
        errors = getattr(backend, "errors", [])[seen:]
        if errors:
            done[id(rule)] = Converted(meta, (), _reason(errors[0][1]))
            continue
        texts = tuple(str(q) for q in queries)
        if not texts:
            feeds = tuple(users.get(id(rule), ()))
            reason = None if feeds else "the backend produced no query"
            done[id(rule)] = Converted(meta, (), reason, feeds)
            continue
        done[id(rule)] = Converted(meta, texts)
    return [done[id(r)] for r in rules]


def convert_cached(
    rules: Iterable[SigmaRuleBase], cache: ConversionCache | None
) -> list[Converted]:
    """`convert_rules`, reusing the conversions ``cache`` holds (same order, same results).

    A correlation and the rules it references are converted live every time: the
    correlation's conversion reads the state its rules' conversions leave in the backend.
    Every key is taken before any conversion: pySigma's pipeline changes a rule in place."""
    rules = list(rules)
    if cache is None:
        return convert_rules(rules)
    tied = {id(r) for r in rules if isinstance(r, SigmaCorrelationRule)} | set(_users(rules))
    done: dict[int, Converted] = {}
    keys: dict[int, str] = {}
    todo: list[SigmaRuleBase] = []
    for rule in rules:
        if id(rule) in tied:
            todo.append(rule)
            continue
        try:
            keys[id(rule)] = key = digest("spl", rule.to_dict(), versions())
        except Exception:  # a rule pySigma cannot serialise is simply not cached
            todo.append(rule)
            continue
        entry = cache.get_spl(key)
        if entry is None:
            todo.append(rule)
        else:
            done[id(rule)] = Converted(info(rule), entry.queries, entry.reason)
    for rule, conv in zip(todo, convert_rules(todo), strict=True):
        done[id(rule)] = conv
        if id(rule) in keys:
            cache.put_spl(keys[id(rule)], SplEntry(conv.queries, conv.reason))
    return [done[id(r)] for r in rules]
