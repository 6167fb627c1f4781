"""Boolean conditions over Sigma fields: the common form between SPL and Sigma detections.

The translator evaluates SPL into these trees (with constants folded per log source), and
``detection`` turns a tree into Sigma selections and a condition string.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Const:
    value: bool


TRUE = Const(True)
FALSE = Const(False)


@dataclass(frozen=True)
class Pred:
    """``field`` matches ``value``: ``op`` is ``re`` (regular expression), ``wild`` (Splunk
    wildcard pattern, ``*`` only) or ``eq``. ``ci``: case-insensitive (Sigma's default for
    ``wild``/``eq``; for ``re`` the ``|i`` modifier)."""

    field: str
    op: str
    value: str
    ci: bool = True


@dataclass(frozen=True)
class And:
    items: tuple[Cond, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Cond, ...]


@dataclass(frozen=True)
class Not:
    item: Cond


Cond = Const | Pred | And | Or | Not


def _dedupe(items: list[Cond]) -> tuple[Cond, ...]:
    seen: list[Cond] = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return tuple(seen)


def and_(*items: Cond) -> Cond:
    flat: list[Cond] = []
    for item in items:
        if item == TRUE:
            continue
        if item == FALSE:
            return FALSE
        flat.extend(item.items if isinstance(item, And) else (item,))
    # a conjunct is known true inside its siblings: a and not (a and b) = a and not b
    known = {x for x in flat if not isinstance(x, Not)}
    out: list[Cond] = []
    for item in flat:
        if isinstance(item, Not) and isinstance(item.item, And):
            rest = [y for y in item.item.items if y not in known]
            item = not_(and_(*rest))
        if isinstance(item, Not) and item.item in known:
            return FALSE
        if item == FALSE:
            return FALSE
        if item != TRUE:
            out.append(item)
    kept = _dedupe(out)
    if not kept:
        return TRUE
    return kept[0] if len(kept) == 1 else And(kept)


def or_(*items: Cond) -> Cond:
    flat: list[Cond] = []
    for item in items:
        if item == FALSE:
            continue
        if item == TRUE:
            return TRUE
        flat.extend(item.items if isinstance(item, Or) else (item,))
    kept = _dedupe(flat)
    if not kept:
        return FALSE
    return kept[0] if len(kept) == 1 else Or(kept)


def not_(item: Cond) -> Cond:
    if isinstance(item, Const):
        return Const(not item.value)
    if isinstance(item, Not):
        return item.item
    return Not(item)
