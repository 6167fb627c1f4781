"""Field names with ``*`` wildcards (convert, foreach, addtotals, replace, ...).

``*`` matches any run of characters, nothing else is special (``{}`` and ``.`` in
``ModifiedProperties{}.NewValue`` are plain characters).
"""

from __future__ import annotations

import re
from collections.abc import Iterable


def pattern(wildcard: str) -> re.Pattern[str]:
    """A full-match regex for a wildcard name, one group per ``*``."""
    return re.compile("(.*?)".join(re.escape(part) for part in wildcard.split("*")), re.S)


def expand(names: Iterable[str], wildcard: str) -> list[str]:
    """The names a wildcard matches, in ``names`` order; a plain name is itself."""
    if "*" not in wildcard:
        return [wildcard]
    regex = pattern(wildcard)
    return [n for n in names if regex.fullmatch(n)]


def mapping(names: Iterable[str], wildcard: str, target: str) -> list[tuple[str, str, list[str]]]:
    """(name, target name, what each ``*`` matched) for each name the wildcard matches; the
    target's ``*`` take the matched parts in order (``*_time AS *_t``)."""
    if "*" not in wildcard:
        return [(wildcard, target, [])]
    regex = pattern(wildcard)
    out: list[tuple[str, str, list[str]]] = []
    for name in names:
        m = regex.fullmatch(name)
        if m is None:
            continue
        parts = list(m.groups())
        renamed = target
        for part in parts:
            renamed = renamed.replace("*", part, 1)
        out.append((name, renamed, parts))
    return out


def re2_escape(text: str) -> str:
    """``text`` as a literal in an RE2 pattern (RE2 refuses some of Python's escapes)."""
    return "".join("\\" + ch if ch in "\\.^$|?*+()[]{}" else ch for ch in text)


def re2_pattern(wildcard: str) -> str:
    """An anchored RE2 pattern for a wildcard value, one group per ``*``."""
    return "^" + "(.*)".join(re2_escape(part) for part in wildcard.split("*")) + "$"
