"""A rule library from files to converted rules, without pySigma when the cache has them.

Why: loading SigmaHQ's ~2,400 Windows rules through pySigma's YAML loader takes 6-12 s,
more than running the whole library once its conversions are cached. A file whose bytes
hash to a cached entry (`cache.FileEntry`) gives its rules' SPL without being parsed; only
the other files are loaded and converted, and their entries written. A correlation needs
the rules it names loaded and converted with it (pySigma's backend keeps state between
them), so when any file that is loaded holds a correlation, the whole library takes the
full path (load every file, `convert.convert_cached`). The result is the same either way:
the same rules in the same order (files in `rules.rule_files` order, rules in file order),
the same problems.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sigma.correlations import SigmaCorrelationRule

from stagehunt.sigma.cache import CachedRule, ConversionCache, FileEntry, digest, versions
from stagehunt.sigma.convert import Converted, RuleInfo, convert_cached
from stagehunt.sigma.rules import RuleProblem, load_rules, rule_files


@dataclass
class Library:
    converted: list[Converted]
    problems: list[RuleProblem]


def _full(paths: Sequence[Path], cache: ConversionCache | None) -> Library:
    ruleset = load_rules(paths)
    return Library(convert_cached(ruleset.collection.rules, cache), list(ruleset.problems))


def _file_key(path: Path) -> str | None:
    try:
        data = path.read_bytes()
    except OSError:
        return None
    return digest("rules", hashlib.sha256(data).hexdigest(), versions())


def _may_correlate(path: Path) -> bool:
    """Whether the file may hold a correlation (a ``correlation:`` key at the start of a
    line). Asked before loading: loaded alone, a correlation whose rules are in other
    files is dropped as a dangling reference, and would not be seen."""
    try:
        return re.search(rb"^correlation\s*:", path.read_bytes(), re.MULTILINE) is not None
    except OSError:
        return False


def load_library(paths: Sequence[Path], cache: ConversionCache | None) -> Library:
    """Every rule under ``paths`` converted to SPL, and the problems (see the module
    docstring). Raises `rules.RulePathError` for a path that is neither file nor folder."""
    if cache is None:
        return _full(paths, None)
    files = rule_files(paths)
    keys = {f: _file_key(f) for f in files}
    hits: dict[Path, FileEntry] = {}
    for f, key in keys.items():
        entry = None if key is None else cache.get_file(key)
        if entry is not None:
            hits[f] = entry
    missed = [f for f in files if f not in hits]
    if any(_may_correlate(f) for f in missed):
        return _full(paths, cache)
    fresh = load_rules(missed) if missed else None
    if fresh is not None and any(
        isinstance(r, SigmaCorrelationRule) for r in fresh.collection.rules
    ):
        return _full(paths, cache)
    converted = convert_cached(fresh.collection.rules, cache) if fresh is not None else []
    problems = list(fresh.problems) if fresh is not None else []
    by_file: dict[str, list[Converted]] = {}
    for c in converted:
        by_file.setdefault(c.rule.path, []).append(c)
    out: list[Converted] = []
    load_problems: list[RuleProblem] = []
    rule_problems: list[RuleProblem] = []
    fresh_problems = {str(f): [p for p in problems if p.path == str(f)] for f in missed}
    for f in files:
        label = str(f)
        entry = hits.get(f)
        if entry is None:
            mine = by_file.get(label, [])
            own = fresh_problems.get(label, [])
            entry = FileEntry(
                tuple(CachedRule(c.rule.id, c.rule.title, c.rule.level, c.queries, c.reason)
                      for c in mine),
                tuple((p.title, p.reason, not p.title and not mine) for p in own),
            )  # fmt: skip
            key = keys[f]
            if key is not None and not any(c.feeds for c in mine):
                cache.put_file(key, entry)
        for r in entry.rules:
            info = RuleInfo(r.id, r.title, r.level, label, False)
            out.append(Converted(info, r.queries, r.reason))
        for title, reason, whole in entry.problems:
            (load_problems if whole else rule_problems).append(RuleProblem(label, title, reason))
    return Library(out, load_problems + rule_problems)
