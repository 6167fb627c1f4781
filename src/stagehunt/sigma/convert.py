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


def _reason(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


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
    out: list[Converted] = []
    # one backend, rules in reference order: a correlation's conversion reads the state its
    # rules' conversions left; errors it collects while converting a rule belong to that rule
    backend = make()
    for rule in rules:
        meta = info(rule)
        seen = len(getattr(backend, "errors", []))
        try:
            if isinstance(rule, SigmaCorrelationRule):
                queries = backend.convert_correlation_rule(rule)
            else:
                queries = backend.convert_rule(rule)
        except Exception as e:  # pySigma raises more than SigmaError (NotImplementedError, ...)
            out.append(Converted(meta, (), _reason(e)))
            continue
        errors = getattr(backend, "errors", [])[seen:]
        if errors:
            out.append(Converted(meta, (), _reason(errors[0][1])))
            continue
        texts = tuple(str(q) for q in queries)
        if not texts:
            feeds = tuple(users.get(id(rule), ()))
            reason = None if feeds else "the backend produced no query"
            out.append(Converted(meta, (), reason, feeds))
            continue
        out.append(Converted(meta, texts))
    return out
