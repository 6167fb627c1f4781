"""A condition tree → a Sigma ``detection``: named selections and a condition string.

Splunk wildcard patterns become Sigma's modifiers (``*x*`` contains, ``x*`` startswith,
``*x`` endswith) or a plain value with wildcards; Sigma's escapes (``\\*``, ``\\?``,
``\\\\``) are applied so a literal backslash before a wildcard survives.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from stagehunt.sigma.logic import And, Cond, Const, Not, Or, Pred

_SPECIAL = "*?\\"
_WILD = object()  # a wildcard token between literal characters


def escape(tokens: list[object]) -> str:
    """Literal characters and wildcards → Sigma string syntax."""
    out: list[str] = []
    for i, token in enumerate(tokens):
        if token is _WILD:
            out.append("*")
            continue
        assert isinstance(token, str)
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if token in "*?":
            out.append("\\" + token)
        elif token == "\\" and (nxt is _WILD or (isinstance(nxt, str) and nxt in _SPECIAL)):
            out.append("\\\\")
        else:
            out.append(token)
    return "".join(out)


def _tokens(pattern: str, wild: bool) -> list[object]:
    return [_WILD if (wild and c == "*") else c for c in pattern]


def item(pred: Pred) -> tuple[str, str]:
    """``(field|modifiers, value)`` for one predicate."""
    if pred.op == "re":
        value = pred.value
        ci = pred.ci
        if value.startswith("(?i)"):
            value, ci = value[4:], True
        return (f"{pred.field}|re|i" if ci else f"{pred.field}|re"), value
    if pred.op == "eq" or "*" not in pred.value:
        return pred.field, escape(_tokens(pred.value, wild=False))
    inner = pred.value.strip("*")
    if inner and "*" not in inner:
        starts, ends = pred.value.startswith("*"), pred.value.endswith("*")
        mod = "contains" if starts and ends else ("endswith" if starts else "startswith")
        return f"{pred.field}|{mod}", escape(_tokens(inner, wild=False))
    return pred.field, escape(_tokens(re.sub(r"\*+", "*", pred.value), wild=True))


class Detection:
    """Builds selections while rendering a condition; ``hints`` name known subtrees."""

    def __init__(self, hints: Mapping[Cond, str]) -> None:
        self.hints = hints
        self.selections: dict[str, Any] = {}

    def _add(self, prefix: str, hint: str, body: Any) -> str:
        for name, existing in self.selections.items():
            if existing == body and name.startswith(prefix):
                return name
        base = f"{prefix}_{hint}"
        name, n = base, 2
        while name in self.selections:
            name, n = f"{base}_{n}", n + 1
        self.selections[name] = body
        return name

    def _body(self, cond: Cond) -> Any | None:
        """One selection for ``cond`` when Sigma can hold it in one (map, list of values,
        list of maps); None otherwise."""
        if isinstance(cond, Pred):
            key, value = item(cond)
            return {key: value}
        if isinstance(cond, And) and all(isinstance(x, Pred) for x in cond.items):
            pairs = [item(x) for x in cond.items if isinstance(x, Pred)]
            keys = [k for k, _ in pairs]
            if len(set(keys)) == len(keys):
                return dict(pairs)
            if len(set(keys)) == 1 and "|re" not in keys[0]:
                return {f"{keys[0]}|all": [v for _, v in pairs]}
            return None
        if isinstance(cond, Or) and all(isinstance(x, Pred) for x in cond.items):
            pairs = [item(x) for x in cond.items if isinstance(x, Pred)]
            distinct = {k for k, _ in pairs}
            if len(distinct) == 1:
                return {distinct.pop(): [v for _, v in pairs]}
            return [{k: v} for k, v in pairs]
        if isinstance(cond, Or) and all(isinstance(x, And | Pred) for x in cond.items):
            maps = [self._body(x) for x in cond.items]
            if all(isinstance(m, dict) for m in maps):
                return maps
        return None

    def render(self, cond: Cond, negated: bool = False) -> str:
        if isinstance(cond, Const):
            raise ValueError("a constant condition has no Sigma detection")
        hint = self.hints.get(cond)
        if hint is not None or not isinstance(cond, And | Not):
            body = self._body(cond)
            if body is not None:
                return self._add("filter" if negated else "selection", hint or "main", body)
        if isinstance(cond, Not) and isinstance(cond.item, And) and _has_regex(cond.item):
            # not (a and b) as (not a or not b): pySigma's Splunk backend emits a negated
            # group of regular expressions as positive `| regex` commands (pySigma 1.5)
            return self.render(Or(tuple(Not(x) for x in cond.item.items)), negated)
        if isinstance(cond, Not):
            return "not " + self._wrap(cond.item, not negated)
        assert isinstance(cond, And | Or)
        joiner = " and " if isinstance(cond, And) else " or "
        items = sorted(cond.items, key=lambda x: isinstance(x, Not))  # selections, then filters
        return joiner.join(self._wrap(x, negated) for x in items)

    def _wrap(self, cond: Cond, negated: bool) -> str:
        text = self.render(cond, negated)
        return f"({text})" if " or " in text or " and " in text else text


def _has_regex(cond: Cond) -> bool:
    if isinstance(cond, Pred):
        return cond.op == "re"
    if isinstance(cond, Not):
        return _has_regex(cond.item)
    if isinstance(cond, And | Or):
        return any(_has_regex(x) for x in cond.items)
    return False


def build(cond: Cond, hints: Mapping[Cond, str]) -> dict[str, Any]:
    """The ``detection`` mapping of a rule matching ``cond``."""
    det = Detection(hints)
    condition = det.render(cond)
    return {**det.selections, "condition": condition}
